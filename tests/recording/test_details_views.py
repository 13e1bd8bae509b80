"""The details pages of focus groups and strategy meeting audits, and strategy
meeting attendance by agency."""

from __future__ import annotations

import html
import re
from datetime import date

import pytest

from qa_audit.audits import services as audit_services
from qa_audit.audits.models import AuditStatus
from qa_audit.extensions import db
from qa_audit.recording import services
from qa_audit.recording.models import Judgement


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _error_at(page: str, field: str, message: str) -> bool:
    """The message is in the error summary (linking to the field) and at the field."""
    page = html.unescape(page)
    summary = re.search(r'<div class="govuk-error-summary".*?</ul>', page, re.S)
    at_field = re.search(
        rf'<p id="{field}(?:-date)?-error" class="govuk-error-message">\s*<span class="govuk-visually-hidden">Error:</span>\s*(.*?)\s*</p>',
        page,
        re.S,
    )
    return bool(summary and f'href="#{field}"' in summary.group(0) and message in summary.group(0) and at_field and message in at_field.group(1))


def _checked(page: str, name: str) -> list[str]:
    """The values of the checked radios or checkboxes called ``name``."""
    return re.findall(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"[^>]*checked', page)


FOCUS_GROUP = {
    "participants_count": "8",
    "participant_roles": "Social workers and team managers in the MASH",
    "facilitator": "Priya Shah",
    "themes": "Supervision\nWorkload",
    "key_messages": "Supervision is regular but rarely reflective.",
    "assurance_statement": "Supervision happens; its quality varies.",
}


def _strategy_meeting(**overrides) -> dict:
    data = {
        "meeting_date": ["12", "11", "2026"],
        "agencies_invited": ["police", "health", "education"],
        "agencies_attended": ["police", "health"],
        "within_timescale": "yes",
        "chairing_quality": "outstanding",
        "contribution_police": "good",
        "contribution_health": "requires_improvement",
        "contribution_education": "inadequate",  # did not attend: not recorded
        "decision_recorded": "no",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def lead(login_as):
    return login_as("auditor")


# Focus groups --------------------------------------------------------------------


def test_focus_group_details_by_role(login_as, make_audit, lead):
    audit = make_audit("focus_group", status="in_progress", lead=lead.user, title="Focus group: MASH social workers")
    url = f"/audits/{audit.id}/details"
    form = _text(lead.get(url))
    assert "Focus group details" in form and 'name="participants_count"' in form and "Save details" in form

    response = lead.post_form(url, dict(FOCUS_GROUP, version="0"))
    assert response.status_code == 302 and response.location == url
    details = services.details_of(audit)
    assert details.participants_count == 8 and details.facilitator == "Priya Shah" and details.themes == "Supervision\nWorkload"
    page = _text(lead.get(url))
    assert "Details of ‘Focus group: MASH social workers’ saved" in page
    assert 'value="8"' in page and "Supervision is regular but rarely reflective." in page

    for role in ("viewer", "head_of_service", "auditor"):
        client = login_as(role)
        response = client.get(url)
        assert response.status_code == 200, role
        page = _text(response)
        assert 'name="participants_count"' not in page and "Save details" not in page, role
        assert "Social workers and team managers in the MASH" in page and "Priya Shah" in page, role
        assert client.post_form(url, dict(FOCUS_GROUP, facilitator="Someone else", version=str(details.version))).status_code == 403, role
    db.session.refresh(details)
    assert details.facilitator == "Priya Shah"

    assert 'name="participants_count"' in _text(login_as("qa_lead").get(url))  # QA leads record on any audit


def test_bad_focus_group_details(make_audit, lead):
    audit = make_audit("focus_group", status="in_progress", lead=lead.user)
    url = f"/audits/{audit.id}/details"
    response = lead.post_form(url, dict(FOCUS_GROUP, participants_count="-1", version="0"))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<title>Error: " in page
    assert _error_at(page, "participants_count", "Number of participants must be a whole number, like 4")
    assert "Priya Shah" in page  # what was typed is kept
    assert services.details_of(audit) is None

    page = lead.post_form(url, dict(FOCUS_GROUP, facilitator="x" * 201, version="0")).get_data(as_text=True)
    assert _error_at(page, "facilitator", "Facilitator must be 200 characters or fewer")
    assert services.details_of(audit) is None


def test_two_auditors_saving_the_same_details(login_as, make_audit, lead):
    other = login_as("auditor")
    audit = make_audit("focus_group", status="in_progress", lead=lead.user, auditor_ids=[other.user.id])
    url = f"/audits/{audit.id}/details"
    for client in (lead, other):
        assert re.search(r'name="version"[^>]*value="0"', lead.get(url).get_data(as_text=True))
    assert lead.post_form(url, dict(FOCUS_GROUP, version="0")).status_code == 302
    response = other.post_form(url, dict(FOCUS_GROUP, facilitator="Ben Hughes", version="0"))
    assert response.status_code == 409
    page = _text(response)
    assert "Someone else changed these details" in page and 'value="Ben Hughes"' in page
    assert services.details_of(audit).facilitator == "Priya Shah"


# Strategy meeting audits -------------------------------------------------------------


def test_strategy_meeting_details(login_as, make_audit, lead):
    audit = make_audit("strategy_meeting_audit", status="in_progress", lead=lead.user)
    url = f"/audits/{audit.id}/details"
    form = lead.get(url).get_data(as_text=True)
    for agency in ("social_care", "police", "health", "education", "probation", "youth_justice", "early_help", "other"):
        assert f'name="contribution_{agency}"' in form
    assert 'name="meeting_date"' in form

    assert lead.post_form(url, dict(_strategy_meeting(), version="0")).status_code == 302
    details = services.details_of(audit)
    assert details.meeting_date == date(2026, 11, 12)
    assert details.agencies_invited == ["police", "health", "education"] and details.agencies_attended == ["police", "health"]
    assert details.within_timescale is True and details.decision_recorded is False
    assert details.chairing_quality is Judgement.OUTSTANDING
    assert details.agency_contributions == {"police": "good", "health": "requires_improvement"}

    page = lead.get(url).get_data(as_text=True)
    assert _checked(page, "agencies_attended") == ["police", "health"]
    assert _checked(page, "contribution_police") == ["good"] and _checked(page, "contribution_education") == []
    assert _checked(page, "within_timescale") == ["yes"] and _checked(page, "decision_recorded") == ["no"]
    assert 'value="12"' in page and 'value="2026"' in page

    viewer_page = _text(login_as("viewer").get(url))
    for text in ("12 November 2026", "Police", "Education", "Outstanding", "Police: quality of contribution", "Requires improvement"):
        assert text in viewer_page, text
    assert "Education: quality of contribution" not in viewer_page


def test_bad_strategy_meeting_details(make_audit, lead):
    audit = make_audit("strategy_meeting_audit", status="in_progress", lead=lead.user)
    url = f"/audits/{audit.id}/details"
    page = lead.post_form(url, dict(_strategy_meeting(meeting_date=["31", "2", "2026"]), version="0")).get_data(as_text=True)
    assert _error_at(page, "meeting_date", "Date of the meeting must be a real date")
    assert 'value="31"' in page  # shown as typed
    page = lead.post_form(url, dict(_strategy_meeting(meeting_date=["12", "", "2026"]), version="0")).get_data(as_text=True)
    assert _error_at(page, "meeting_date", "Date of the meeting must include a month")

    page = lead.post_form(
        url, dict(_strategy_meeting(agencies_invited=["police", "fire_brigade"], chairing_quality="superb", contribution_police="brilliant"), version="0")
    ).get_data(as_text=True)
    assert _error_at(page, "agencies_invited", "Unknown agency: fire_brigade")
    assert _error_at(page, "chairing_quality", "Select a judgement for the quality of chairing")
    assert _error_at(page, "contribution_police", "Give each agency a judgement: police")
    assert services.details_of(audit) is None


def test_details_of_a_finished_audit_are_read_only(make_audit, lead):
    audit = make_audit("strategy_meeting_audit", status="in_progress", lead=lead.user)
    services.save_details(
        audit,
        lead.user,
        {"meeting_date": date(2026, 11, 12), "agencies_invited": ["police"], "agencies_attended": ["police"], "within_timescale": True, "chairing_quality": "good"},
    )
    audit.status = AuditStatus.COMPLETED
    db.session.commit()
    url = f"/audits/{audit.id}/details"
    page = _text(lead.get(url))
    assert "This audit is completed" in page and "12 November 2026" in page and "Save details" not in page
    response = lead.post_form(url, dict(_strategy_meeting(), version="1"))
    assert response.status_code == 409
    assert "this audit is completed" in _text(response) and 'value="12"' in _text(response)
    assert services.details_of(audit).version == 1  # the post changed nothing


@pytest.mark.parametrize("type", ["dip_sample", "targeted_visit"])
def test_other_audit_types_have_no_details_page(make_audit, lead, type):
    audit = make_audit(type, status="in_progress", lead=lead.user)
    assert lead.get(f"/audits/{audit.id}/details").status_code == 404
    assert lead.post_form(f"/audits/{audit.id}/details", FOCUS_GROUP).status_code == 404
    assert lead.get("/audits/999999/details").status_code == 404


# Attendance --------------------------------------------------------------------------


@pytest.fixture
def meetings(make_audit, monkeypatch):
    """Strategy meeting audits with their attendance, in and around 2026/27."""
    monkeypatch.setattr(audit_services, "today", lambda: date(2026, 11, 24))
    plan = [
        (date(2026, 5, 1), "in_progress", ["police", "health", "education"], ["police", "health"]),
        (date(2026, 9, 1), "completed", ["police", "health", "education"], ["police", "education"]),
        (date(2027, 2, 1), "in_progress", ["police", "social_care"], ["police", "social_care", "health"]),
        (date(2026, 10, 1), "cancelled", ["police", "probation"], []),  # cancelled: left out
        (date(2026, 3, 1), "completed", ["police"], ["youth_justice"]),  # 2025/26
    ]
    for scheduled_for, status, invited, attended in plan:
        audit = make_audit("strategy_meeting_audit", status="in_progress", scheduled_for=scheduled_for)
        services.save_details(audit, audit.lead_auditor, {"meeting_date": scheduled_for, "agencies_invited": invited, "agencies_attended": attended, "within_timescale": True, "chairing_quality": "good"})
        audit.status = AuditStatus(status)
        db.session.commit()
    make_audit("strategy_meeting_audit", status="planned", scheduled_for=date(2026, 12, 1))  # no details yet
    make_audit("focus_group", status="in_progress", scheduled_for=date(2026, 6, 1))


def _table(page: str) -> dict[str, list[str]]:
    body = page.split('<tbody class="govuk-table__body">')[1].split("</tbody>")[0]
    rows = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S):
        cells = [html.unescape(c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        rows[cells[0]] = cells[1:]
    return rows


def test_attendance_by_agency_defaults_to_this_financial_year(login_as, meetings):
    page = login_as("viewer").get("/strategy-meetings/attendance").get_data(as_text=True)
    assert "Attendance at strategy meetings" in page
    text = html.unescape(page)
    assert "4 strategy meeting audits scheduled from 1 April 2026 to 31 March 2027, 3 with details recorded" in text
    assert _table(page) == {
        "Children's social care": ["1", "1", "100.0%"],
        "Police": ["3", "3", "100.0%"],
        "Health": ["2", "2", "100.0%"],
        "Education": ["2", "1", "50.0%"],
    }
    # The period's boxes are filled in.
    assert re.search(r'name="from-year"|name="from"[^>]*value="2026"', page)


def test_attendance_for_a_chosen_period(login_as, meetings):
    client = login_as("auditor")
    page = client.get("/strategy-meetings/attendance?from=2026-04-01&to=2026-06-30").get_data(as_text=True)
    assert _table(page) == {"Police": ["1", "1", "100.0%"], "Health": ["1", "1", "100.0%"], "Education": ["1", "0", "0.0%"]}
    # As the date inputs send it: day, month and year under one name.
    page = client.get("/strategy-meetings/attendance?from=1&from=3&from=2026&to=31&to=3&to=2026").get_data(as_text=True)
    assert _table(page) == {"Police": ["1", "0", "0.0%"], "Youth justice": ["0", "1", "Not invited"]}


def test_attendance_with_a_bad_period(login_as, meetings):
    client = login_as("qa_lead")
    response = client.get("/strategy-meetings/attendance?from=31&from=2&from=2026&to=2027-03-31")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert _error_at(page, "from", "The start date must be a real date") and "govuk-table" not in page
    page = client.get("/strategy-meetings/attendance?from=2027-01-01&to=2026-04-01").get_data(as_text=True)
    assert _error_at(page, "to", "The end date must be the same as or after the start date")
    page = client.get("/strategy-meetings/attendance?from=&from=&from=&to=2027-03-31").get_data(as_text=True)
    assert _error_at(page, "from", "Enter the start date")
