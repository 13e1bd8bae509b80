"""The audit pages in a real browser: bad input, two people editing at once, and an
audit's life from planned to completed, reopened and cancelled."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from tests.browser.conftest import row_for, summary_value, today

pytestmark = pytest.mark.browser

VISIT_TITLE = "Targeted visit to the MASH"


def _field_error(page, field_id: str):
    """The error message shown at a field (GOV.UK puts it in the field's form group)."""
    return page.locator(".govuk-form-group--error", has=page.locator(f"#{field_id}")).locator(".govuk-error-message")


def _audit(app, audit_id: int):
    from qa_audit.audits.models import Audit
    from qa_audit.extensions import db

    with app.app_context():
        audit = db.session.get(Audit, audit_id)
        return {
            "title": audit.title,
            "purpose": audit.purpose,
            "status": audit.status.value,
            "version": audit.version,
            "agencies": sorted(a.value for a in audit.agencies),
            "reopen_reason": audit.reopen_reason,
            "cancellation_reason": audit.cancellation_reason,
        }


def _count_audits(app) -> int:
    from qa_audit.audits.models import Audit
    from qa_audit.extensions import db

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Audit))


def test_bad_input_shows_govuk_errors_and_saves_nothing(page, make_user, make_service, app):
    lead = make_user("qa_lead", name="Helen Gray")
    make_user("auditor", name="Priya Shah")
    make_service("Multi-Agency Safeguarding Hub (MASH)")
    year = today().year
    long_title = "T" * 201

    page.sign_in(lead)
    page.click_link("Programme", within=page.navigation())
    page.click_link("Schedule an audit")
    form = page.page.locator("main form")
    form.get_by_role("radio", name="Targeted visit", exact=True).check()
    form.get_by_label("Title", exact=True).fill(long_title)
    form.get_by_label("Service audited").select_option(label="Multi-Agency Safeguarding Hub (MASH)")
    date_group = form.get_by_role("group", name="Scheduled date")
    date_group.get_by_label("Day").fill("31")
    date_group.get_by_label("Month").fill("2")
    date_group.get_by_label("Year").fill(str(year))
    form.get_by_label("Lead auditor").select_option(label="Priya Shah (Auditor)")
    form.get_by_role("group", name="Agencies taking part (optional)").get_by_label("Police", exact=True).check()
    page.submit("Schedule audit")

    # Both problems at once: in the summary, in page order, and at each field.
    expect(page.page).to_have_title(re.compile(r"^Error: Schedule an audit – "))
    summary = page.error_summary()
    expect(summary.get_by_role("heading")).to_have_text("There is a problem")
    expect(summary.locator(".govuk-error-summary__list li")).to_have_text(
        ["Title must be 200 characters or fewer", "Scheduled date must be a real date"]
    )
    expect(_field_error(page.page, "title")).to_have_text(re.compile(r"^\s*Error:\s*Title must be 200 characters or fewer\s*$"))
    expect(date_group.locator(".govuk-error-message")).to_have_text(
        re.compile(r"^\s*Error:\s*Scheduled date must be a real date\s*$")
    )
    for box in ("Day", "Month", "Year"):
        expect(date_group.get_by_label(box)).to_have_class(re.compile(r"\bgovuk-input--error\b"))
    # What was typed is kept.
    expect(form.get_by_label("Title", exact=True)).to_have_value(long_title)
    expect(date_group.get_by_label("Day")).to_have_value("31")
    expect(date_group.get_by_label("Month")).to_have_value("2")
    expect(form.get_by_role("radio", name="Targeted visit", exact=True)).to_be_checked()
    expect(form.get_by_label("Lead auditor").locator("option:checked")).to_have_text("Priya Shah (Auditor)")
    expect(form.get_by_role("group", name="Agencies taking part (optional)").get_by_label("Police", exact=True)).to_be_checked()
    # The summary's link takes the user to the day box.
    summary.get_by_role("link", name="Scheduled date must be a real date").click()
    expect(date_group.get_by_label("Day")).to_be_focused()
    assert _count_audits(app) == 0

    # A real date, but still the long title: only the title is wrong now.
    date_group.get_by_label("Day").fill("28")
    page.submit("Schedule audit")
    expect(page.page).to_have_title(re.compile(r"^Error: Schedule an audit – "))
    expect(page.error_summary().locator("li")).to_have_text(["Title must be 200 characters or fewer"])
    expect(page.page.locator("main form").get_by_role("group", name="Scheduled date").locator(".govuk-error-message")).to_have_count(0)
    assert _count_audits(app) == 0

    # 200 characters is allowed.
    page.page.locator("main form").get_by_label("Title", exact=True).fill("T" * 200)
    page.submit("Schedule audit")
    expect(page.success_banner()).to_contain_text(f"scheduled for 28 February {year}")
    assert _count_audits(app) == 1


def test_bad_series_dates_show_errors(page, make_user, make_service, app):
    lead = make_user("qa_lead")
    make_user("auditor", name="Priya Shah")
    make_service("Multi-Agency Safeguarding Hub (MASH)")
    year = today().year

    page.sign_in(lead)
    page.visit("/audit-series/new")
    form = page.page.locator("main form")
    form.get_by_role("radio", name="Focus group", exact=True).check()
    form.get_by_label("Title", exact=True).fill("Practitioner focus groups")
    form.get_by_label("Service audited").select_option(label="Multi-Agency Safeguarding Hub (MASH)")
    form.get_by_label("Lead auditor").select_option(label="Priya Shah (Auditor)")
    form.get_by_role("radio", name="Every quarter", exact=True).check()
    first = form.get_by_role("group", name="Date of the first audit")
    first.get_by_label("Day").fill("31")
    first.get_by_label("Month").fill("2")
    first.get_by_label("Year").fill(str(year))
    end = form.get_by_role("group", name="End date (optional)")
    end.get_by_label("Day").fill("1")
    end.get_by_label("Month").fill("1")
    end.get_by_label("Year").fill(str(year))
    page.submit("Schedule series")
    expect(page.page).to_have_title(re.compile(r"^Error: Schedule a recurring series – "))
    expect(page.error_summary()).to_contain_text("Date of the first audit must be a real date")
    expect(first.locator(".govuk-error-message")).to_contain_text("Date of the first audit must be a real date")

    # A real first date after the end date.
    first.get_by_label("Day").fill("1")
    first.get_by_label("Month").fill("3")
    page.submit("Schedule series")
    expect(page.page).to_have_title(re.compile(r"^Error: "))
    message = "The end date must be the same as or after the first audit's date"
    expect(page.error_summary().locator("li")).to_have_text([message])
    expect(page.page.locator("main form").get_by_role("group", name="End date (optional)").locator(".govuk-error-message")).to_contain_text(message)
    assert _count_audits(app) == 0


def test_two_people_edit_the_same_audit(page, new_page, make_user, make_service, make_audit, app):
    helen = make_user("qa_lead", name="Helen Gray")
    omar = make_user("qa_lead", name="Omar Farouk")
    priya = make_user("auditor", name="Priya Shah")
    audit_id = make_audit(
        VISIT_TITLE, lead_id=priya.id, service_id=make_service("Multi-Agency Safeguarding Hub (MASH)"),
        scheduled_for=today() + timedelta(days=14), purpose="Contacts and referrals.", agencies=["police"],
    )

    first = page
    second = new_page()
    first.sign_in(helen)
    second.sign_in(omar)
    # Both open the edit page before either saves.
    first.visit(f"/audits/{audit_id}")
    first.click_link("Edit audit")
    expect(first.page.get_by_role("heading", level=1)).to_have_text(f"Edit {VISIT_TITLE}")
    second.visit(f"/audits/{audit_id}/edit")
    expect(second.page.locator("main form").get_by_label("Title", exact=True)).to_have_value(VISIT_TITLE)

    # The first saves.
    first.page.locator("main form").get_by_label("Title", exact=True).fill("Targeted visit to the MASH (moved)")
    first.submit("Save changes")
    expect(first.success_banner()).to_contain_text("‘Targeted visit to the MASH (moved)’ saved")
    saved = _audit(app, audit_id)
    assert saved["title"] == "Targeted visit to the MASH (moved)"

    # The second saves what they typed on the page they opened before: a conflict.
    form = second.page.locator("main form")
    form.get_by_label("Title", exact=True).fill("MASH visit: contacts")
    form.get_by_label("Purpose (optional)").fill("Contacts, referrals and strategy meetings.")
    form.get_by_role("group", name="Agencies taking part (optional)").get_by_label("Health", exact=True).check()
    second.submit("Save changes", status=409)

    banner = second.page.locator(".govuk-notification-banner").filter(has_text="Someone else changed this audit")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Your change has not been saved")
    expect(banner).to_contain_text("Your changes are still in the form below")
    form = second.page.locator("main form")
    expect(form.get_by_label("Title", exact=True)).to_have_value("MASH visit: contacts")
    expect(form.get_by_label("Purpose (optional)")).to_have_value("Contacts, referrals and strategy meetings.")
    agencies = form.get_by_role("group", name="Agencies taking part (optional)")
    expect(agencies.get_by_label("Health", exact=True)).to_be_checked()
    expect(agencies.get_by_label("Police", exact=True)).to_be_checked()
    assert _audit(app, audit_id) == saved  # nothing overwritten

    # Having seen the conflict, saving again is their choice.
    second.submit("Save changes")
    expect(second.success_banner()).to_contain_text("‘MASH visit: contacts’ saved")
    now = _audit(app, audit_id)
    assert now["title"] == "MASH visit: contacts"
    assert now["purpose"] == "Contacts, referrals and strategy meetings."
    assert now["agencies"] == ["health", "police"]
    assert now["version"] > saved["version"]


def test_an_audit_is_started_completed_reopened_and_cancelled(page, new_page, make_user, make_service, make_audit, app):
    helen = make_user("qa_lead", name="Helen Gray")
    priya = make_user("auditor", name="Priya Shah")
    on = today() + timedelta(days=7)
    audit_id = make_audit(VISIT_TITLE, lead_id=priya.id, service_id=make_service("Multi-Agency Safeguarding Hub (MASH)"), scheduled_for=on)

    # The lead auditor finds it in "My audits", starts it and completes it.
    auditor = page
    auditor.sign_in(priya)
    auditor.click_link("My audits", within=auditor.navigation())
    to_do = auditor.page.get_by_role("table", name="To do")
    row = row_for(to_do, VISIT_TITLE)
    expect(row).to_have_count(1)
    expect(row.locator("td")).to_have_text(
        [f"{on.day} {on:%B %Y}", VISIT_TITLE, "Targeted visit", "Multi-Agency Safeguarding Hub (MASH)", "Lead auditor", "Planned", "Start the audit"]
    )
    auditor.click_link(VISIT_TITLE, within=row)
    main = auditor.main_locator()
    for name in ("Edit audit", "Cancel audit", "Add a part to this visit"):
        expect(main.get_by_role("link", name=name)).to_have_count(0)
    auditor.submit("Start audit")
    expect(auditor.success_banner()).to_contain_text(f"‘{VISIT_TITLE}’ is now in progress")
    expect(summary_value(auditor.page, "Status")).to_have_text("In progress")
    expect(summary_value(auditor.page, "Started")).to_be_visible()
    expect(main.get_by_role("button", name="Start audit")).to_have_count(0)

    auditor.submit("Complete audit")
    expect(auditor.success_banner()).to_contain_text(f"‘{VISIT_TITLE}’ is now completed")
    expect(summary_value(auditor.page, "Status")).to_have_text("Completed")
    expect(main.get_by_role("link", name="Reopen audit")).to_have_count(0)  # for QA leads only
    assert _audit(app, audit_id)["status"] == "completed"

    auditor.click_link("My audits", within=auditor.navigation())
    expect(auditor.page.get_by_role("table", name="To do")).to_have_count(0)
    expect(auditor.main_locator()).to_contain_text("You have no planned or in-progress audits.")
    done = row_for(auditor.page.get_by_role("table", name="Completed and cancelled"), VISIT_TITLE)
    expect(done).to_contain_text("Completed on ")

    # The QA lead reopens it: a reason is needed.
    lead = new_page()
    lead.sign_in(helen)
    lead.visit(f"/audits/{audit_id}")
    lead.click_link("Reopen audit")
    expect(lead.page.get_by_role("heading", level=1)).to_have_text("Reopen this audit")
    lead.submit("Reopen audit")
    expect(lead.page).to_have_title(re.compile(r"^Error: Reopen this audit – "))
    expect(lead.error_summary()).to_contain_text("Enter the reason for reopening")
    assert _audit(app, audit_id)["status"] == "completed"
    lead.page.get_by_label("Why is this audit being reopened?").fill("The health findings were missed.")
    lead.submit("Reopen audit")
    expect(lead.success_banner()).to_contain_text(f"‘{VISIT_TITLE}’ reopened")
    expect(summary_value(lead.page, "Status")).to_have_text("In progress")
    expect(summary_value(lead.page, "Reason for reopening")).to_have_text("The health findings were missed.")

    # Cancelling without a reason is refused, and changes nothing.
    lead.click_link("Cancel audit")
    expect(lead.page.get_by_role("heading", level=1)).to_have_text("Cancel this audit")
    lead.submit("Cancel audit")
    expect(lead.page).to_have_title(re.compile(r"^Error: Cancel this audit – "))
    expect(lead.error_summary()).to_contain_text("Enter the reason for cancelling")
    expect(_field_error(lead.page, "reason")).to_contain_text("Enter the reason for cancelling")
    state = _audit(app, audit_id)
    assert state["status"] == "in_progress" and state["cancellation_reason"] is None
    assert state["reopen_reason"] == "The health findings were missed."

    lead.page.get_by_label("Why is this audit being cancelled?").fill("The service is being restructured.")
    lead.submit("Cancel audit")
    expect(lead.success_banner()).to_contain_text(f"‘{VISIT_TITLE}’ cancelled")
    expect(summary_value(lead.page, "Status")).to_have_text("Cancelled")
    expect(summary_value(lead.page, "Reason for cancelling")).to_have_text("The service is being restructured.")
    for name in ("Edit audit", "Cancel audit", "Reopen audit"):
        expect(lead.main_locator().get_by_role("link", name=name)).to_have_count(0)
    assert _audit(app, audit_id)["status"] == "cancelled"

    # Every change is in the audit's history, with who made it.
    lead.click_link("History of changes to this audit")
    expect(lead.page.get_by_role("heading", level=1)).to_have_text("History of changes")
    history = lead.page.locator("tbody")
    expect(history).to_contain_text("completed → in_progress")
    expect(history).to_contain_text("The service is being restructured.")
    expect(history).to_contain_text("Priya Shah")
    expect(history).to_contain_text("Helen Gray")
