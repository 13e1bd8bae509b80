"""QA leads create, edit and retire question sets; a set an audit has started with is
never changed under it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import row_for, today

pytestmark = pytest.mark.browser

TITLE = "Younger children: medical investigations"


def test_qa_lead_creates_edits_and_retires_a_question_set(page, make_user, make_audit):
    lead = make_user("qa_lead", name="Helen Gray")
    priya = make_user("auditor", name="Priya Shah")

    page.sign_in(lead)
    page.click_link("Question sets", within=page.navigation())
    expect(page.main_locator()).to_contain_text("There are no question sets yet.")
    page.click_link("Create a question set")

    # Nothing typed, then a title that is too long.
    page.submit("Save question set")
    expect(page.page).to_have_title(re.compile(r"^Error: Create a question set – "))
    expect(page.error_summary().locator("li")).to_have_text(["Enter a title", "Enter at least one question"])
    form = page.page.locator("main form")
    form.get_by_label("Title", exact=True).fill("Q" * 201)
    form.get_by_label("Questions", exact=True).fill("Was the child seen?")
    page.submit("Save question set")
    expect(page.error_summary().locator("li")).to_have_text(["Title must be 200 characters or fewer"])
    expect(page.page.locator("main form").get_by_label("Questions", exact=True)).to_have_value("Was the child seen?")

    form = page.page.locator("main form")
    form.get_by_label("Title", exact=True).fill(TITLE)
    form.get_by_label("Questions", exact=True).fill("Was a paediatric assessment arranged?\n\nWas the child seen alone?\n")
    page.submit("Save question set")
    expect(page.success_banner()).to_contain_text(f"Question set ‘{TITLE}’ created")
    expect(page.main_locator().locator("ol li")).to_have_text(["Was a paediatric assessment arranged?", "Was the child seen alone?"])
    set_url = page.page.url
    set_id = int(set_url.rsplit("/", 1)[1])

    # Not used by a started audit: edited in place.
    page.click_link("Edit question set")
    expect(page.main_locator()).to_contain_text("No audit that has started uses this question set")
    page.page.locator("main form").get_by_label("Questions", exact=True).fill(
        "Was a paediatric assessment arranged?\nWas the child seen alone?\nWere siblings considered?"
    )
    page.submit("Save question set")
    expect(page.success_banner()).to_contain_text(f"Question set ‘{TITLE}’ saved")
    assert page.page.url == set_url
    expect(page.main_locator().locator("ol li")).to_have_count(3)

    # A dip sample starts with it: editing now makes version 2.
    started = make_audit("Dip sample: medical investigations", lead_id=priya.id, type="dip_sample", question_set_id=set_id, status="in_progress")
    planned = make_audit("Planned dip sample", lead_id=priya.id, type="dip_sample", question_set_id=set_id, scheduled_for=today())
    page.visit(f"/question-sets/{set_id}")
    expect(page.main_locator()).to_contain_text("Yes: editing makes a new version")
    page.click_link("Edit question set")
    expect(page.page.locator(".govuk-warning-text")).to_contain_text("Saving makes a new version")
    page.page.locator("main form").get_by_label("Questions", exact=True).fill(
        "Was a paediatric assessment arranged?\nWas the child seen alone?\nWere siblings considered?\nWas the GP told?"
    )
    page.submit("Save question set")
    expect(page.success_banner()).to_contain_text(
        "Saved as version 2. Audits that have started keep version 1; planned audits now use version 2"
    )
    assert page.page.url != set_url
    expect(page.page.locator(".govuk-caption-l")).to_have_text("Question set, version 2")
    expect(page.main_locator().locator("ol li")).to_have_count(4)
    expect(page.main_locator()).to_contain_text("Version 1: " + TITLE)
    expect(row_for(page.page, "Planned dip sample")).to_have_count(1)
    expect(row_for(page.page, "Dip sample: medical investigations")).to_have_count(0)

    # The started audit keeps version 1's three questions.
    page.visit(f"/audits/{started}")
    expect(page.main_locator().locator("ol li")).to_have_count(3)
    page.visit(f"/audits/{planned}")
    expect(page.main_locator()).to_contain_text("(version 2)")
    expect(page.main_locator().locator("ol li")).to_have_count(4)

    # Version 1 can no longer be edited.
    page.visit(f"/question-sets/{set_id}")
    expect(page.main_locator().get_by_role("link", name="Edit question set")).to_have_count(0)

    # Retire version 2: it is no longer offered for new audits.
    page.click_link("Version 2: " + TITLE)
    page.submit("Retire question set")
    expect(page.success_banner()).to_contain_text(f"‘{TITLE}’ retired")
    page.click_link("Question sets", within=page.navigation())
    expect(page.page.locator("main tbody tr")).to_have_count(2)
    page.visit("/audits/new")
    options = page.page.locator("main form").get_by_label("Question set", exact=True).locator("option")
    expect(options).to_have_text(["None"])
