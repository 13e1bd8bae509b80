"""The quarterly board report and a follow-up visit's progress page in a real browser,
with axe on every page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_tracker import LATE, LATER, LATE_WORKFORCE, PLAN, SOON, _make_plan

pytestmark = pytest.mark.browser


def test_a_head_of_service_opens_the_board_report_from_the_tracker(page, make_user, app):
    head = make_user("head_of_service", name="Hana Head")
    priya = make_user("auditor", name="Priya Shah")
    tom = make_user("viewer", name="Tom Reid")
    _make_plan(app, head.id, {"priya": priya.id, "tom": tom.id})

    page.sign_in(head)
    page.click_link("Plans", within=page.navigation())
    page.click_link(PLAN)
    page.click_link("Quarterly report for the board")
    main = page.main_locator()
    expect(page.page.get_by_role("heading", level=1)).to_have_text(PLAN)
    overdue = main.get_by_role("table", name="Overdue actions with their latest update")
    for title in (LATE, LATER, LATE_WORKFORCE):
        expect(overdue.get_by_role("link", name=title, exact=True)).to_be_visible()
    expect(overdue.get_by_role("link", name=SOON, exact=True)).to_have_count(0)
    # Printing hides the quarter picker and the PDF link.
    page.page.emulate_media(media="print")
    expect(main.get_by_role("button", name="Show quarter")).to_be_hidden()
    page.page.emulate_media(media="screen")
    with page.page.expect_download() as download:
        page.page.get_by_role("link", name="Download this report as a PDF").click()
    assert download.value.suggested_filename.endswith("-board-report.pdf")
