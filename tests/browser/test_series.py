"""A recurring series in a real browser: editing it and cancelling it reach only its
future audits that have not started."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from qa_audit.dates import add_months
from tests.browser.conftest import today

pytestmark = pytest.mark.browser

OLD = "MASH strategy meetings"
NEW = "MASH and locality strategy meetings"


@pytest.fixture
def monthly_series(app, make_user, make_service):
    """A monthly series of twelve strategy meeting audits, from four months ago;
    returns (series id, lead, the audits' ids by date)."""
    from qa_audit.audits import series as series_rules
    from qa_audit.audits.models import Audit
    from qa_audit.extensions import db

    lead = make_user("qa_lead", name="Helen Gray")
    priya = make_user("auditor", name="Priya Shah")
    service_id = make_service("Multi-Agency Safeguarding Hub (MASH)")
    starts_on = add_months(today().replace(day=1), -4) + timedelta(days=9)  # the 10th
    with app.app_context():
        series = series_rules.create_series(
            {
                "type": "strategy_meeting_audit",
                "title": OLD,
                "service_id": service_id,
                "lead_auditor_id": priya.id,
                "agencies": ["police"],
                "frequency": "monthly",
                "starts_on": starts_on,
                "occurrences": 12,
            }
        )
        audits = {a.scheduled_for: a.id for a in db.session.scalars(select(Audit).where(Audit.series_id == series.id))}
        return series.id, lead, audits


def _set_status(app, audit_id: int, status: str) -> None:
    from qa_audit.audits.models import Audit, AuditStatus
    from qa_audit.extensions import db

    with app.app_context():
        db.session.get(Audit, audit_id).status = AuditStatus(status)
        db.session.commit()


def _series_audits(app, series_id: int) -> list[tuple[date, str, str]]:
    from qa_audit.audits.models import Audit
    from qa_audit.extensions import db

    with app.app_context():
        return [
            (a.scheduled_for, a.title, a.status.value)
            for a in db.session.scalars(select(Audit).where(Audit.series_id == series_id).order_by(Audit.scheduled_for, Audit.id))
        ]


def test_qa_lead_edits_then_cancels_a_series(page, monthly_series, app):
    series_id, lead, audits = monthly_series
    on = today()
    dates = sorted(audits)
    future = [d for d in dates if d >= on]
    started_on = future[0]
    _set_status(app, audits[started_on], "in_progress")  # the next one has started

    page.sign_in(lead)
    page.visit(f"/audit-series/{series_id}")
    rows = page.page.get_by_role("table", name="12 audits").locator("tbody tr")
    expect(rows).to_have_count(12)

    # Edit: a new title reaches only the future audits that have not started.
    page.click_link("Edit series")
    expect(page.page.get_by_role("heading", level=1)).to_have_text(f"Edit {OLD}")
    form = page.page.locator("main form")
    expect(form.get_by_role("radio", name="Every month", exact=True)).to_be_checked()
    expect(form.get_by_label("Number of audits (optional)")).to_have_value("12")
    expect(form.get_by_role("group", name="Agencies taking part (optional)").get_by_label("Police", exact=True)).to_be_checked()
    form.get_by_label("Title", exact=True).fill(NEW)
    page.submit("Save changes")
    expect(page.success_banner()).to_contain_text(f"Series ‘{NEW}’ saved: its future audits that had not started now match it")
    expect(page.page.get_by_role("heading", level=1)).to_have_text(NEW)

    expected = [(d, NEW if d >= on and d != started_on else OLD, "in_progress" if d == started_on else "planned") for d in dates]
    assert _series_audits(app, series_id) == expected
    rows = page.page.get_by_role("table", name="12 audits").locator("tbody tr")
    expect(rows.locator("td:nth-child(2)")).to_have_text([title for _, title, _ in expected])

    # Cancel: a reason is needed; then every future planned audit is cancelled.
    page.click_link("Cancel series")
    to_cancel = [d for d in future if d != started_on]
    expect(page.main_locator()).to_contain_text(
        f"{len(to_cancel)} future planned audits are cancelled, from {to_cancel[0].day} {to_cancel[0]:%B %Y}"
    )
    page.submit("Cancel series")
    expect(page.page).to_have_title(re.compile(r"^Error: Cancel this series – "))
    expect(page.error_summary()).to_contain_text("Enter the reason for cancelling")
    assert [status for *_, status in _series_audits(app, series_id)].count("cancelled") == 0

    page.page.get_by_label("Why is this series being cancelled?").fill("Replaced by the multi-agency audit.")
    page.submit("Cancel series")
    expect(page.success_banner()).to_contain_text(f"Series ‘{NEW}’ cancelled: {len(to_cancel)} planned audits cancelled")
    expect(page.page.locator(".govuk-summary-list .govuk-tag").first).to_have_text("Cancelled")
    expect(page.main_locator().get_by_role("link", name="Edit series")).to_have_count(0)
    statuses = [(d, status) for d, _, status in _series_audits(app, series_id)]
    assert statuses == [(d, "cancelled" if d in to_cancel else "in_progress" if d == started_on else "planned") for d in dates]

    # The history of the series records the change.
    page.click_link("History of changes to this series")
    expect(page.page.locator("tbody")).to_contain_text(f"{OLD} → {NEW}")


def test_editing_a_series_does_not_bring_back_a_cancelled_audit(page, monthly_series, app):
    series_id, lead, audits = monthly_series
    on = today()
    cancelled_on = [d for d in sorted(audits) if d > on][1]

    page.sign_in(lead)
    # One future meeting is cancelled on its own, through its page.
    page.visit(f"/audits/{audits[cancelled_on]}")
    page.click_link("Cancel audit")
    page.page.get_by_label("Why is this audit being cancelled?").fill("No strategy meetings that month.")
    page.submit("Cancel audit")
    expect(page.success_banner()).to_contain_text("cancelled")

    # Then the series' title changes.
    page.click(page.page.locator(".govuk-summary-list__row", has_text="Series").get_by_role("link", name=re.compile(f"^{OLD}")))
    page.click_link("Edit series")
    page.page.locator("main form").get_by_label("Title", exact=True).fill(NEW)
    page.submit("Save changes")
    expect(page.success_banner()).to_contain_text("saved")

    # Still twelve audits, the cancelled one still cancelled and alone on its date.
    on_that_day = [(title, status) for d, title, status in _series_audits(app, series_id) if d == cancelled_on]
    assert on_that_day == [(OLD, "cancelled")], on_that_day
    expect(page.page.get_by_role("table", name="12 audits")).to_have_count(1)
