"""The audit and series pages: scheduling, editing, status changes, series."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import event, func, select

from qa_audit.audits import services
from qa_audit.audits import series as series_rules
from qa_audit.audits.models import Agency, Audit, AuditSeries, AuditStatus, AuditType
from qa_audit.extensions import db

MANAGER_ROLES = ("qa_lead", "admin")
OTHER_ROLES = ("auditor", "head_of_service", "viewer")
ALL_ROLES = MANAGER_ROLES + OTHER_ROLES


def _count(model=Audit) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _day(value: date) -> list[str]:
    """What the three boxes of a GOV.UK date input send."""
    return [str(value.day), str(value.month), str(value.year)]


def _error_at(page: str, field: str, message: str) -> bool:
    """The message is in the error summary (linking to the field) and at the field."""
    page = html.unescape(page)
    summary = re.search(r'<div class="govuk-error-summary".*?</ul>', page, re.S)
    at_field = re.search(rf'<p id="{field}(?:-date)?-error" class="govuk-error-message">\s*<span class="govuk-visually-hidden">Error:</span>\s*(.*?)\s*</p>', page, re.S)
    return bool(
        summary
        and f'href="#{field}"' in summary.group(0)
        and message in summary.group(0)
        and at_field
        and message in at_field.group(1)
    )


@pytest.fixture
def form_data(make_user, make_service):
    """A complete, good schedule form."""
    lead = make_user("auditor", name="Priya Shah")
    other = make_user("head_of_service", name="Tom Okafor")
    service = make_service("Multi-Agency Safeguarding Hub (MASH)")

    def data(**overrides):
        values = {
            "type": "targeted_visit",
            "title": "Targeted visit to the MASH",
            "purpose": "Assurance of threshold decisions\nand multi-agency information sharing",
            "service_id": str(service.id),
            "scheduled_for": ["12", "11", "2026"],
            "lead_auditor_id": str(lead.id),
            "auditor_ids": [str(other.id)],
            "agencies": ["police", "health"],
            "question_set_id": "",
            "parent_id": "",
            "follow_up_of_id": "",
        }
        values.update(overrides)
        return {k: v for k, v in values.items() if v is not None}

    data.lead, data.other, data.service = lead, other, service
    return data


# Who sees what ---------------------------------------------------------------------


def test_every_page_renders_for_the_right_roles(login_as, make_audit, make_user, make_service):
    visit = make_audit("targeted_visit")
    part = make_audit("dip_sample", parent_id=visit.id)
    completed = make_audit("focus_group", status="completed")
    series = series_rules.create_series(
        {
            "type": "dip_sample",
            "title": "Locality strategy meetings",
            "service_id": make_service().id,
            "lead_auditor_id": make_user("auditor").id,
            "frequency": "monthly",
            "starts_on": date(2026, 4, 1),
            "occurrences": 3,
        }
    )
    manager_pages = [
        "/audits/new",
        f"/audits/new?parent_id={visit.id}",
        f"/audits/{visit.id}/edit",
        f"/audits/{visit.id}/cancel",
        f"/audits/{completed.id}/reopen",
        "/audit-series/new",
        f"/audit-series/{series.id}/edit",
        f"/audit-series/{series.id}/cancel",
    ]
    for role in ALL_ROLES:
        client = login_as(role)
        for url in (f"/audits/{visit.id}", f"/audits/{part.id}", f"/audits/{completed.id}", f"/audit-series/{series.id}"):
            response = client.get(url)
            assert response.status_code == 200, (role, url)
        for url in manager_pages:
            assert client.get(url).status_code == (200 if role in MANAGER_ROLES else 403), (role, url)


def test_audit_page_shows_every_detail(login_as, make_audit, make_user, make_service, make_question_set):
    lead = make_user("head_of_service", name="Aisha Rahman")
    helper = make_user("auditor", name="Ben Hughes")
    earlier = make_audit("targeted_visit", title="MASH visit 2019", status="completed")
    visit = make_audit(
        "targeted_visit",
        title="MASH visit 2026",
        lead=lead,
        service=make_service("MASH"),
        purpose="Progress since the last visit",
        auditor_ids=[helper.id],
        agencies=["police", "education"],
        follow_up_of_id=earlier.id,
    )
    question_set = make_question_set("Younger children", ["Were medical investigations undertaken?"])
    make_audit("dip_sample", title="Dip sample: under-fives", parent_id=visit.id, question_set_id=question_set.id)

    page = login_as("viewer").get(f"/audits/{visit.id}").get_data(as_text=True)
    for text in ("MASH visit 2026", "Targeted visit", "MASH", "1 December 2026", "Aisha Rahman",
                 "Ben Hughes", "Police", "Education", "Progress since the last visit", "MASH visit 2019", "Planned",
                 "Parts of this visit", "Dip sample: under-fives"):
        assert text in page, text
    # A viewer reads only.
    for button in ("Edit audit", "Start audit", "Cancel audit", "Add a part to this visit", "History of changes"):
        assert button not in page

    dip = db.session.scalar(select(Audit).where(Audit.title == "Dip sample: under-fives"))
    dip_page = login_as("qa_lead").get(f"/audits/{dip.id}").get_data(as_text=True)
    assert "Younger children" in dip_page and "Were medical investigations undertaken?" in dip_page
    assert f'href="/audits/{visit.id}"' in dip_page  # part of the visit
    earlier_page = login_as("auditor").get(f"/audits/{earlier.id}").get_data(as_text=True)
    assert "Followed up by" in earlier_page and "MASH visit 2026" in earlier_page


def test_buttons_follow_permissions(login_as, make_audit, make_user):
    auditor = login_as("auditor")
    outsider = login_as("auditor")
    planned = make_audit("focus_group", lead=auditor.user)
    completed = make_audit("focus_group", lead=auditor.user, status="completed")

    page = auditor.get(f"/audits/{planned.id}").get_data(as_text=True)
    assert "Start audit" in page and "Edit audit" not in page and "Cancel audit" not in page
    assert "Start audit" not in outsider.get(f"/audits/{planned.id}").get_data(as_text=True)
    assert "Reopen audit" not in auditor.get(f"/audits/{completed.id}").get_data(as_text=True)

    qa_lead = login_as("qa_lead")
    page = qa_lead.get(f"/audits/{planned.id}").get_data(as_text=True)
    for button in ("Start audit", "Edit audit", "Cancel audit", "History of changes"):
        assert button in page
    page = qa_lead.get(f"/audits/{completed.id}").get_data(as_text=True)
    assert "Reopen audit" in page and "Edit audit" not in page and "Cancel audit" not in page


def test_unknown_or_huge_ids_are_not_found(login_as):
    client = login_as("qa_lead")
    for url in ("/audits/999", "/audits/99999999999999999999", "/audits/999/edit", "/audit-series/999", "/audit-series/99999999999999999999/edit"):
        assert client.get(url).status_code == 404, url


# Scheduling --------------------------------------------------------------------


def test_qa_lead_schedules_an_audit(login_as, form_data):
    client = login_as("qa_lead")
    form = client.get("/audits/new").get_data(as_text=True)
    assert "Priya Shah" in form and "Multi-Agency Safeguarding Hub (MASH)" in form and "Children&#39;s social care" in form
    assert re.search(r'<label class="govuk-label govuk-date-input__label" for="scheduled_for">\s*Day', form)  # the error summary links to the day box

    response = client.post_form("/audits/new", form_data(auditor_ids=[str(form_data.other.id), str(form_data.lead.id)]))
    assert response.status_code == 302, response.get_data(as_text=True)
    audit = db.session.scalar(select(Audit))
    assert response.location == f"/audits/{audit.id}"
    assert audit.type is AuditType.TARGETED_VISIT and audit.status is AuditStatus.PLANNED
    assert audit.scheduled_for == date(2026, 11, 12)
    assert audit.lead_auditor_id == form_data.lead.id and audit.auditor_ids == [form_data.other.id]
    assert set(audit.agencies) == {Agency.POLICE, Agency.HEALTH}
    assert audit.purpose.startswith("Assurance of threshold decisions")
    page = client.get(response.location).get_data(as_text=True)
    assert "scheduled for 12 November 2026" in page and "govuk-notification-banner--success" in page


def test_past_dates_are_accepted(login_as, form_data):
    response = login_as("admin").post_form("/audits/new", form_data(scheduled_for=["4", "3", "2019"]))
    assert response.status_code == 302
    assert db.session.scalar(select(Audit.scheduled_for)) == date(2019, 3, 4)


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"scheduled_for": ["31", "2", "2026"]}, "scheduled_for", "Scheduled date must be a real date"),
        ({"scheduled_for": ["12", "", "2026"]}, "scheduled_for", "Scheduled date must include a month"),
        ({"scheduled_for": ["1", "13", "26"]}, "scheduled_for", "Year must include 4 numbers"),
        ({"scheduled_for": ["", "", ""]}, "scheduled_for", "Enter the date the audit is scheduled for"),
        ({"scheduled_for": None}, "scheduled_for", "Enter the date the audit is scheduled for"),
        ({"type": "inspection"}, "type", "Select the audit type"),
        ({"type": None}, "type", "Select the audit type"),
        ({"agencies": ["police", "fire_brigade"]}, "agencies", "Unknown agency: fire_brigade"),
        ({"title": ""}, "title", "Enter a title"),
        ({"title": "x" * 201}, "title", "Title must be 200 characters or fewer"),
        ({"service_id": ""}, "service_id", "Select the service audited"),
        ({"service_id": "99999999999999999999"}, "service_id", "Select a service that is audited"),
        ({"lead_auditor_id": ""}, "lead_auditor_id", "Select the lead auditor"),
        ({"parent_id": "999"}, "parent_id", "A part of a visit must belong to a targeted visit"),
        ({"question_set_id": "999"}, "question_set_id", "Select a question set that is in use"),
    ],
)
def test_bad_input_shows_an_error_at_the_field_and_saves_nothing(login_as, form_data, overrides, field, message):
    response = login_as("qa_lead").post_form("/audits/new", form_data(**overrides))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<title>Error: " in page
    assert _error_at(page, field, message), page[:3000]
    assert _count() == 0


@pytest.mark.parametrize("role, active", [("viewer", True), ("auditor", False), ("admin", True)])
def test_lead_auditor_must_be_an_active_auditing_user(login_as, make_user, form_data, role, active):
    lead = make_user(role, active=active)
    page = login_as("qa_lead").post_form("/audits/new", form_data(lead_auditor_id=str(lead.id))).get_data(as_text=True)
    assert _error_at(page, "lead_auditor_id", "Select an active user with the auditor, QA lead or head of service role")
    assert _count() == 0


def test_an_impossible_date_shows_the_other_problems_too(login_as, form_data):
    page = login_as("qa_lead").post_form("/audits/new", form_data(scheduled_for=["31", "2", "2026"], title="")).get_data(as_text=True)
    assert _error_at(page, "scheduled_for", "Scheduled date must be a real date")
    assert _error_at(page, "title", "Enter a title")
    assert "Enter the date the audit is scheduled for" not in page  # one message per field
    assert 'value="31"' in page and 'value="2026"' in page  # what was typed is shown back
    assert _count() == 0


def test_add_a_part_to_a_visit(login_as, make_audit, form_data):
    visit = make_audit("targeted_visit", title="MASH visit", service=form_data.service, agencies=["police"])
    client = login_as("qa_lead")
    page = client.get(f"/audits/new?parent_id={visit.id}").get_data(as_text=True)
    assert "Add a part to MASH visit" in page
    assert 'value="targeted_visit"' not in page and 'value="focus_group"' in page
    assert re.search(rf'<option value="{visit.id}" selected>', page)
    assert re.search(rf'<option value="{form_data.service.id}" selected>', page)  # the visit's service

    response = client.post_form(
        f"/audits/new?parent_id={visit.id}",
        form_data(type="focus_group", title="Focus group: MASH social workers", parent_id=str(visit.id)),
    )
    assert response.status_code == 302
    part = db.session.scalar(select(Audit).where(Audit.title == "Focus group: MASH social workers"))
    assert part.parent_id == visit.id
    page = client.get(f"/audits/{visit.id}").get_data(as_text=True)
    assert "Focus group: MASH social workers" in page

    # A visit cannot be part of a visit.
    page = client.post_form("/audits/new", form_data(title="Visit in a visit", parent_id=str(visit.id))).get_data(as_text=True)
    assert _error_at(page, "parent_id", "A targeted visit cannot be part of another visit")


def test_follow_up_prefills_from_the_earlier_audit(login_as, make_audit):
    earlier = make_audit("targeted_visit", title="MASH visit 2019")
    page = login_as("qa_lead").get(f"/audits/new?follow_up_of_id={earlier.id}").get_data(as_text=True)
    assert re.search(rf'<option value="{earlier.id}" selected>', page)
    assert re.search(r'value="targeted_visit" checked', page)


def test_only_managers_schedule(login_as, form_data):
    for role in OTHER_ROLES:
        assert login_as(role).post_form("/audits/new", form_data()).status_code == 403
    assert _count() == 0


# Editing -----------------------------------------------------------------------


def test_edit_an_audit_and_see_it_in_the_history(login_as, make_audit, form_data):
    audit = make_audit("targeted_visit", title="MASH visit", agencies=["police"])
    client = login_as("qa_lead")
    page = client.get(f"/audits/{audit.id}/edit").get_data(as_text=True)
    assert 'value="MASH visit"' in page and f'name="version" type="hidden" value="{audit.version}"' in page
    assert re.search(r'value="police" checked', page)
    assert 'value="1"' in page and 'value="12"' in page and 'value="2026"' in page  # 1 December 2026

    response = client.post_form(f"/audits/{audit.id}/edit", form_data(title="MASH visit (multi-agency)", version=str(audit.version)))
    assert response.status_code == 302
    db.session.refresh(audit)
    assert audit.title == "MASH visit (multi-agency)" and audit.version == 2

    history = client.get(f"/history/audit/{audit.id}").get_data(as_text=True)
    assert "MASH visit → MASH visit (multi-agency)" in history


def test_stale_edit_is_a_conflict_that_keeps_the_input(login_as, make_audit, form_data):
    audit = make_audit("targeted_visit", title="MASH visit")
    stale = str(audit.version)
    first, second = login_as("qa_lead"), login_as("qa_lead")
    assert first.post_form(f"/audits/{audit.id}/edit", form_data(title="First title", version=stale)).status_code == 302

    response = second.post_form(f"/audits/{audit.id}/edit", form_data(title="Second title", purpose="My own words", version=stale))
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Someone else changed this audit" in page
    assert 'value="Second title"' in page and "My own words" in page
    db.session.refresh(audit)
    assert audit.title == "First title" and audit.version == 2


def test_bad_edit_saves_nothing(login_as, make_audit, form_data):
    audit = make_audit("targeted_visit", title="MASH visit")
    page = login_as("qa_lead").post_form(
        f"/audits/{audit.id}/edit", form_data(title="y" * 201, scheduled_for=["30", "2", "2027"], version=str(audit.version))
    ).get_data(as_text=True)
    assert _error_at(page, "title", "Title must be 200 characters or fewer")
    assert _error_at(page, "scheduled_for", "Scheduled date must be a real date")
    db.session.refresh(audit)
    assert audit.title == "MASH visit" and audit.version == 1


def test_a_finished_audit_cannot_be_edited(login_as, make_audit, form_data):
    audit = make_audit("focus_group", title="Done", status="completed")
    client = login_as("qa_lead")
    response = client.get(f"/audits/{audit.id}/edit")
    assert response.status_code == 302 and response.location == f"/audits/{audit.id}"
    response = client.post_form(f"/audits/{audit.id}/edit", form_data(type="focus_group", title="Changed", version=str(audit.version)))
    assert response.status_code == 409
    db.session.refresh(audit)
    assert audit.title == "Done"


# Status changes ----------------------------------------------------------------


def _status(client, audit, status, **extra):
    return client.post_form(f"/audits/{audit.id}/status", {"status": status, "version": str(audit.version), **extra})


def test_auditors_start_and_complete_their_audit(login_as, make_audit):
    auditor = login_as("auditor")
    audit = make_audit("focus_group", lead=auditor.user)
    response = _status(auditor, audit, "in_progress")
    assert response.status_code == 302 and response.location == f"/audits/{audit.id}"
    db.session.refresh(audit)
    assert audit.status is AuditStatus.IN_PROGRESS and audit.started_at is not None
    page = auditor.get(f"/audits/{audit.id}").get_data(as_text=True)
    assert "is now in progress" in page and "Complete audit" in page

    assert _status(auditor, audit, "completed").status_code == 302
    db.session.refresh(audit)
    assert audit.status is AuditStatus.COMPLETED


def test_illegal_status_changes_are_never_a_server_error(login_as, make_audit, make_user):
    qa_lead = login_as("qa_lead")
    planned = make_audit("focus_group")
    cancelled = make_audit("focus_group", status="cancelled")
    for audit, status in [(planned, "completed"), (cancelled, "in_progress"), (planned, "bogus"), (planned, "")]:
        before = audit.status
        response = _status(qa_lead, audit, status)
        assert response.status_code == 302
        page = qa_lead.get(response.location).get_data(as_text=True)
        assert "There is a problem" in page
        db.session.refresh(audit)
        assert audit.status is before

    # Someone who does not take part may not start it; a stale version is a conflict.
    assert _status(login_as("auditor"), planned, "in_progress").status_code == 403
    assert _status(login_as("viewer"), planned, "in_progress").status_code == 403
    response = qa_lead.post_form(f"/audits/{planned.id}/status", {"status": "in_progress", "version": "99"})
    assert response.status_code == 302
    assert "Someone else changed this audit" in qa_lead.get(response.location).get_data(as_text=True)
    db.session.refresh(planned)
    assert planned.status is AuditStatus.PLANNED

    # A dip sample needs a question set before it starts.
    dip = make_audit("dip_sample", question_set_id=None)
    response = _status(qa_lead, dip, "in_progress")
    assert "Choose a question set before starting a dip sample" in qa_lead.get(response.location).get_data(as_text=True)


def test_cancel_needs_a_reason_and_a_manager(login_as, make_audit):
    auditor = login_as("auditor")
    audit = make_audit("focus_group", lead=auditor.user)
    assert auditor.get(f"/audits/{audit.id}/cancel").status_code == 403
    assert _status(auditor, audit, "cancelled", reason="No time").status_code == 403

    qa_lead = login_as("qa_lead")
    response = qa_lead.post_form(f"/audits/{audit.id}/cancel", {"reason": "  ", "version": str(audit.version)})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and _error_at(page, "reason", "Enter the reason for cancelling")
    db.session.refresh(audit)
    assert audit.status is AuditStatus.PLANNED

    # The status button for cancelling goes to the page that asks why.
    response = _status(qa_lead, audit, "cancelled")
    assert response.location == f"/audits/{audit.id}/cancel"

    response = qa_lead.post_form(f"/audits/{audit.id}/cancel", {"reason": "The team was restructured", "version": str(audit.version)})
    assert response.status_code == 302
    db.session.refresh(audit)
    assert audit.status is AuditStatus.CANCELLED and audit.cancellation_reason == "The team was restructured"
    page = qa_lead.get(f"/audits/{audit.id}").get_data(as_text=True)
    assert "The team was restructured" in page and "Cancelled" in page
    # Cancelled is final.
    response = qa_lead.get(f"/audits/{audit.id}/cancel")
    assert response.status_code == 302
    history = qa_lead.get(f"/history/audit/{audit.id}").get_data(as_text=True)
    assert "planned → cancelled" in history


def test_reopen_a_completed_audit(login_as, make_audit):
    audit = make_audit("focus_group", status="completed")
    assert login_as("auditor").get(f"/audits/{audit.id}/reopen").status_code == 403
    qa_lead = login_as("qa_lead")
    page = qa_lead.post_form(f"/audits/{audit.id}/reopen", {"reason": "", "version": str(audit.version)}).get_data(as_text=True)
    assert _error_at(page, "reason", "Enter the reason for reopening")
    response = qa_lead.post_form(f"/audits/{audit.id}/reopen", {"reason": "A finding was missed", "version": str(audit.version)})
    assert response.status_code == 302
    db.session.refresh(audit)
    assert audit.status is AuditStatus.IN_PROGRESS and audit.reopen_reason == "A finding was missed"
    assert "A finding was missed" in qa_lead.get(f"/audits/{audit.id}").get_data(as_text=True)
    # Only a completed audit can be reopened.
    assert qa_lead.get(f"/audits/{audit.id}/reopen").status_code == 302


# Series ------------------------------------------------------------------------


@pytest.fixture
def series_data(form_data):
    def data(**overrides):
        values = form_data(type="dip_sample", title="Locality strategy meetings", agencies=["police"], auditor_ids=[str(form_data.other.id)])
        for key in ("scheduled_for", "parent_id", "follow_up_of_id"):
            values.pop(key)
        values.update(frequency="monthly", interval_weeks="", starts_on=["1", "4", "2026"], ends_on=["", "", ""], occurrences="12")
        values.update(overrides)
        return {k: v for k, v in values.items() if v is not None}

    data.lead, data.other = form_data.lead, form_data.other
    return data


def test_schedule_a_monthly_series(login_as, series_data):
    client = login_as("qa_lead")
    page = client.get("/audit-series/new").get_data(as_text=True)
    assert "Every few weeks" in page and 'id="interval_weeks"' in page
    response = client.post_form("/audit-series/new", series_data())
    assert response.status_code == 302, response.get_data(as_text=True)
    series = db.session.scalar(select(AuditSeries))
    assert response.location == f"/audit-series/{series.id}"
    audits = db.session.scalars(select(Audit).order_by(Audit.scheduled_for)).all()
    assert len(audits) == 12 and audits[0].scheduled_for == date(2026, 4, 1) and audits[-1].scheduled_for == date(2027, 3, 1)
    assert all(a.agencies == [Agency.POLICE] and a.auditor_ids == [series_data.other.id] for a in audits)
    page = client.get(response.location).get_data(as_text=True)
    assert "created with 12 planned audits" in page and "1 March 2027" in page and "Edit series" in page
    assert "Edit series" not in login_as("auditor").get(response.location).get_data(as_text=True)


def test_schedule_a_series_every_few_weeks_until_an_end_date(login_as, series_data):
    response = login_as("qa_lead").post_form(
        "/audit-series/new", series_data(frequency="weekly", interval_weeks="2", occurrences="", ends_on=["29", "4", "2026"])
    )
    assert response.status_code == 302
    assert db.session.scalars(select(Audit.scheduled_for).order_by(Audit.scheduled_for)).all() == [
        date(2026, 4, 1), date(2026, 4, 15), date(2026, 4, 29)
    ]


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"ends_on": ["31", "3", "2026"], "occurrences": ""}, "ends_on", "The end date must be the same as or after the first audit's date"),
        ({"ends_on": ["31", "2", "2027"]}, "ends_on", "End date must be a real date"),
        ({"starts_on": ["", "", ""]}, "starts_on", "Enter the date of the first audit"),
        ({"occurrences": ""}, "ends_on", "Enter an end date or the number of audits"),
        ({"occurrences": "lots"}, "occurrences", "Number of audits must be a whole number, like 4"),
        ({"occurrences": "500"}, "occurrences", "Enter a number of audits from 1 to 120"),
        ({"frequency": "fortnightly"}, "frequency", "Select how often the audit happens"),
        ({"frequency": "weekly", "interval_weeks": ""}, "interval_weeks", "Enter the number of weeks between audits, from 1 to 52"),
        ({"frequency": "weekly", "interval_weeks": "two"}, "interval_weeks", "Number of weeks between audits must be a whole number, like 4"),
        ({"type": "audit"}, "type", "Select the audit type"),
        ({"title": "t" * 201}, "title", "Title must be 200 characters or fewer"),
        ({"agencies": ["coastguard"]}, "agencies", "Unknown agency: coastguard"),
    ],
)
def test_bad_series_input_shows_an_error_at_the_field_and_saves_nothing(login_as, series_data, overrides, field, message):
    response = login_as("qa_lead").post_form("/audit-series/new", series_data(**overrides))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert _error_at(page, field, message), page[:3000]
    assert _count() == 0 and _count(AuditSeries) == 0


def test_weeks_are_ignored_unless_every_few_weeks(login_as, series_data):
    response = login_as("qa_lead").post_form("/audit-series/new", series_data(interval_weeks="nonsense"))
    assert response.status_code == 302
    assert db.session.scalar(select(AuditSeries.interval_weeks)) is None


def _series(make_user, make_service, starts_on, occurrences=6):
    return series_rules.create_series(
        {
            "type": "dip_sample",
            "title": "Locality strategy meetings",
            "service_id": make_service().id,
            "lead_auditor_id": make_user("auditor").id,
            "agencies": ["police"],
            "frequency": "monthly",
            "starts_on": starts_on,
            "occurrences": occurrences,
        }
    )


def test_edit_a_series_changes_only_future_unstarted_audits(login_as, make_user, make_service, series_data):
    today = services.today()
    series = _series(make_user, make_service, today - timedelta(days=40))
    audits = db.session.scalars(select(Audit).where(Audit.series_id == series.id).order_by(Audit.scheduled_for)).all()
    past, started, future = audits[0], audits[2], audits[3:]
    started.status = AuditStatus.IN_PROGRESS
    db.session.commit()

    client = login_as("qa_lead")
    page = client.get(f"/audit-series/{series.id}/edit").get_data(as_text=True)
    assert "Only the series’ future audits that have not started change" in page
    assert 'value="Locality strategy meetings"' in page and re.search(r'value="police" checked', page)
    data = series_data(
        title="Locality strategy meetings (renamed)",
        service_id=str(series.service_id),
        lead_auditor_id=str(series.lead_auditor_id),
        auditor_ids=[],
        starts_on=_day(series.starts_on),
        version=str(series.version),
        occurrences="6",
        question_set_id="",
    )
    response = client.post_form(f"/audit-series/{series.id}/edit", data)
    assert response.status_code == 302, response.get_data(as_text=True)
    for audit in audits:
        db.session.refresh(audit)
    assert past.title == "Locality strategy meetings" and started.title == "Locality strategy meetings"
    assert all(a.title == "Locality strategy meetings (renamed)" for a in future)


def test_stale_series_edit_is_a_conflict_that_keeps_the_input(login_as, make_user, make_service, series_data):
    series = _series(make_user, make_service, date(2030, 1, 1))
    stale = str(series.version)
    common = dict(service_id=str(series.service_id), lead_auditor_id=str(series.lead_auditor_id), starts_on=["1", "1", "2030"], occurrences="6", question_set_id="")
    client = login_as("qa_lead")
    assert client.post_form(f"/audit-series/{series.id}/edit", series_data(title="First", version=stale, **common)).status_code == 302
    response = client.post_form(f"/audit-series/{series.id}/edit", series_data(title="Second", version=stale, **common))
    page = response.get_data(as_text=True)
    assert response.status_code == 409 and "Someone else changed this series" in page and 'value="Second"' in page
    db.session.refresh(series)
    assert series.title == "First"


def test_cancel_a_series(login_as, make_user, make_service):
    today = services.today()
    series = _series(make_user, make_service, today - timedelta(days=40), occurrences=5)
    client = login_as("qa_lead")
    assert login_as("auditor").get(f"/audit-series/{series.id}/cancel").status_code == 403
    page = client.get(f"/audit-series/{series.id}/cancel").get_data(as_text=True)
    assert "3 future planned audits are cancelled" in page

    page = client.post_form(f"/audit-series/{series.id}/cancel", {"reason": ""}).get_data(as_text=True)
    assert _error_at(page, "reason", "Enter the reason for cancelling")
    response = client.post_form(f"/audit-series/{series.id}/cancel", {"reason": "Replaced by a quarterly audit"})
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert "3 planned audits cancelled" in page and "Edit series" not in page
    statuses = db.session.scalars(select(Audit.status).where(Audit.series_id == series.id).order_by(Audit.scheduled_for)).all()
    assert statuses == [AuditStatus.PLANNED] * 2 + [AuditStatus.CANCELLED] * 3
    assert client.get(f"/audit-series/{series.id}/edit").status_code == 302  # a cancelled series is final


# Queries -----------------------------------------------------------------------


def _queries(client, url) -> int:
    count = 0

    def count_query(*args):
        nonlocal count
        count += 1

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count_query)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count_query)
    return count


def test_pages_do_not_query_per_row(login_as, make_audit, make_user, make_service):
    client = login_as("qa_lead")
    visit = make_audit("targeted_visit")
    for _ in range(2):
        make_audit("focus_group", parent_id=visit.id, lead=make_user("auditor"), service=make_service())
    few = _queries(client, f"/audits/{visit.id}")
    for _ in range(5):
        make_audit("focus_group", parent_id=visit.id, lead=make_user("auditor"), service=make_service())
    assert _queries(client, f"/audits/{visit.id}") == few

    series = _series(make_user, make_service, date(2030, 1, 1), occurrences=3)
    few = _queries(client, f"/audit-series/{series.id}")
    bigger = _series(make_user, make_service, date(2030, 1, 1), occurrences=30)
    assert _queries(client, f"/audit-series/{bigger.id}") == few
