"""The finding pages: list, record, show, edit, remove, and acknowledging a concern."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from qa_audit.audits.models import AuditStatus
from qa_audit.extensions import db
from qa_audit.findings import services
from qa_audit.findings.models import ConcernAlert, Finding, FindingKind
from qa_audit.history.models import HistoryEntry

ALL_ROLES = ("qa_lead", "admin", "auditor", "head_of_service", "viewer")


@pytest.fixture(autouse=True)
def outbox(app, tmp_path):
    """Concern emails go to a folder of the test's own."""
    app.config["MAIL_OUTBOX"] = str(tmp_path / "outbox")
    return tmp_path / "outbox"


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _error_at(page: str, field: str, message: str) -> bool:
    """The message is in the error summary (linking to the field) and at the field."""
    page = html.unescape(page)
    summary = re.search(r'<div class="govuk-error-summary".*?</ul>', page, re.S)
    at_field = re.search(
        rf'<p id="{field}-error" class="govuk-error-message">\s*<span class="govuk-visually-hidden">Error:</span>\s*(.*?)\s*</p>', page, re.S
    )
    return bool(summary and f'href="#{field}"' in summary.group(0) and message in summary.group(0) and at_field and message in at_field.group(1))


def _count(model=Finding) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _finding_data(**overrides) -> dict:
    data = {
        "kind": "area_for_improvement",
        "theme": "management_oversight",
        "judgement": "requires_improvement",
        "summary": "Management oversight is not evident on 4 of 10 cases.",
        "evidence": "Cases 10234, 10240 and 10251: no supervision record in the last 3 months.",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def recording(login_as, make_audit):
    """An in-progress focus group and a client signed in as its lead auditor."""
    client = login_as("auditor")
    audit = make_audit("focus_group", status="in_progress", lead=client.user, title="Focus group: MASH social workers")
    client.audit = audit
    return client


# Who sees what ---------------------------------------------------------------------


def test_every_role_reads_findings_and_only_the_audits_people_record(login_as, make_audit):
    lead_client = login_as("auditor")
    audit = make_audit("focus_group", status="in_progress", lead=lead_client.user)
    finding = services.record_finding(audit, _finding_data(), audit.lead_auditor)

    lead_page = _text(lead_client.get(f"/audits/{audit.id}/findings"))
    assert "Record a finding" in lead_page
    assert lead_client.get(f"/audits/{audit.id}/findings/new").status_code == 200
    assert lead_client.get(f"/findings/{finding.id}/edit").status_code == 200
    assert lead_client.get(f"/findings/{finding.id}/remove").status_code == 200

    for role in ALL_ROLES:
        client = login_as(role)
        list_page = client.get(f"/audits/{audit.id}/findings")
        assert list_page.status_code == 200, role
        assert "Management oversight is not evident" in _text(list_page)
        show_page = client.get(f"/findings/{finding.id}")
        assert show_page.status_code == 200, role
        managers = role in ("qa_lead", "admin")
        assert ("Record a finding" in _text(list_page)) is managers, role
        assert ("Edit finding" in _text(show_page)) is managers, role
        expected = 200 if managers else 403
        assert client.get(f"/audits/{audit.id}/findings/new").status_code == expected, role
        assert client.get(f"/findings/{finding.id}/edit").status_code == expected, role
        assert client.get(f"/findings/{finding.id}/remove").status_code == expected, role

    viewer = login_as("viewer")
    assert viewer.post_form(f"/audits/{audit.id}/findings/new", _finding_data(summary="Viewer's")).status_code == 403
    assert viewer.post_form(f"/findings/{finding.id}/edit", _finding_data(summary="Viewer's", version="1")).status_code == 403
    assert viewer.post_form(f"/findings/{finding.id}/remove").status_code == 403
    db.session.refresh(finding)
    assert finding.summary.startswith("Management oversight") and _count() == 1


def test_unknown_audits_and_findings_are_not_found(recording):
    for url in ("/audits/999999/findings", "/audits/999999/findings/new", "/findings/999999", "/findings/999999/edit",
                "/findings/99999999999/remove"):
        assert recording.get(url).status_code == 404, url
    assert recording.post_form("/concern-alerts/999999/acknowledge").status_code == 404


def test_findings_are_grouped_by_kind_with_theme_and_judgement(recording):
    audit = recording.audit
    services.record_finding(audit, _finding_data(kind="strength", theme="supervision", judgement="good", summary="Supervision is regular."), recording.user)
    services.record_finding(audit, _finding_data(summary="Oversight gaps."), recording.user)
    services.record_finding(audit, _finding_data(kind="concern", theme=None, judgement=None, summary="A child was not seen."), recording.user)
    page = _text(recording.get(f"/audits/{audit.id}/findings"))
    strengths = page.split("Strengths (1)")[1].split("Areas for improvement (1)")[0]
    improvements = page.split("Areas for improvement (1)")[1].split("Concerns (1)")[0]
    concerns = page.split("Concerns (1)")[1]
    assert "Supervision is regular." in strengths and "Supervision" in strengths and "Good" in strengths
    assert "Oversight gaps." in improvements and "Management oversight" in improvements and "Requires improvement" in improvements
    assert "A child was not seen." in concerns and "Not given" in concerns


def test_a_visit_lists_its_parts_findings_marked_by_method(login_as, make_audit):
    client = login_as("qa_lead")
    visit = make_audit("targeted_visit", status="in_progress", title="Targeted visit to the MASH")
    part = make_audit("strategy_meeting_audit", status="in_progress", parent_id=visit.id, title="MASH strategy meetings")
    services.record_finding(visit, _finding_data(kind="strength", summary="Leaders know the front door well."), client.user)
    services.record_finding(part, _finding_data(summary="Police did not attend 2 of 6 meetings."), client.user)
    page = _text(client.get(f"/audits/{visit.id}/findings"))
    assert "Leaders know the front door well." in page and "Police did not attend 2 of 6 meetings." in page
    improvement = page.split("Areas for improvement (1)")[1]
    assert "Method" in improvement and "Strategy meeting audit: " in improvement and "MASH strategy meetings" in improvement
    strength = page.split("Strengths (1)")[1].split("Areas for improvement")[0]
    assert "Method" not in strength  # the visit's own finding


# Recording ---------------------------------------------------------------------------


def test_record_a_finding_through_the_page(recording):
    audit = recording.audit
    form = _text(recording.get(f"/audits/{audit.id}/findings/new"))
    assert "A safeguarding matter" in form and "alerts the QA lead and the head of service at once" in form
    assert "Voice of the child" in form and 'data-maxlength="2000"' in form
    response = recording.post_form(f"/audits/{audit.id}/findings/new", _finding_data())
    assert response.status_code == 302 and response.location == f"/audits/{audit.id}/findings"
    finding = db.session.scalars(select(Finding)).one()
    assert finding.kind is FindingKind.AREA_FOR_IMPROVEMENT and finding.theme == "management_oversight"
    assert finding.recorded_by_id == recording.user.id
    page = _text(recording.get(response.location))
    assert "Area for improvement recorded" in page


def test_bad_finding_input_gets_gov_uk_messages_and_keeps_what_was_typed(recording):
    audit = recording.audit
    response = recording.post_form(
        f"/audits/{audit.id}/findings/new", _finding_data(kind=None, theme="astrology", summary="x" * 2001, evidence="Kept evidence")
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert page.count("<title>Error: ") == 1
    assert _error_at(page, "kind", "Select whether this is a strength, an area for improvement or a concern")
    assert _error_at(page, "theme", "Select a theme from the list")
    assert _error_at(page, "summary", "Summary must be 2,000 characters or fewer")
    assert "Kept evidence" in page and "x" * 2001 in page
    assert _count() == 0

    page = recording.post_form(f"/audits/{audit.id}/findings/new", _finding_data(summary="   ")).get_data(as_text=True)
    assert _error_at(page, "summary", "Enter a summary of the finding")
    assert _count() == 0


def test_a_finding_on_a_completed_audit_is_a_clear_message(login_as, make_audit):
    client = login_as("auditor")
    audit = make_audit("dip_sample", status="completed", lead=client.user)
    response = client.get(f"/audits/{audit.id}/findings/new")
    assert response.status_code == 302
    page = _text(client.get(response.location))
    assert "Findings, cases and details can only be recorded while the audit is in progress; this audit is completed." in page
    assert "Record a finding" not in page

    response = client.post_form(f"/audits/{audit.id}/findings/new", _finding_data(summary="Typed before it was completed"))
    assert response.status_code == 409
    page = _text(response)
    assert "Findings, cases and details can only be recorded while the audit is in progress" in page
    assert "Typed before it was completed" in page  # nothing lost: they can copy it
    assert _count() == 0


def test_a_concern_recorded_through_the_page_alerts_the_head_of_service(app, login_as, make_audit, make_service, outbox):
    head = login_as("head_of_service")
    qa_lead = login_as("qa_lead")
    service = make_service("Multi-Agency Safeguarding Hub", head_of_service_id=head.user.id)
    auditor = login_as("auditor")
    audit = make_audit("targeted_visit", status="in_progress", lead=auditor.user, service=service, title="Targeted visit to the MASH")

    response = auditor.post_form(
        f"/audits/{audit.id}/findings/new", _finding_data(kind="concern", summary="A baby was not seen for six weeks.", judgement=None)
    )
    assert response.status_code == 302
    assert f"Concern recorded. {qa_lead.user.name} and {head.user.name} have been alerted" in _text(auditor.get(response.location))
    finding = db.session.scalars(select(Finding)).one()
    assert {a.user_id for a in finding.alerts} == {head.user.id, qa_lead.user.id}
    assert len(list(outbox.glob("*.eml"))) == 2

    home = _text(head.get("/"))
    banner = home[home.index("Safeguarding concerns"):home.index("Hello, ")]
    assert "1 safeguarding concern needs your response" in banner
    for text in ("Targeted visit to the MASH", "Multi-Agency Safeguarding Hub", "A baby was not seen for six weeks.", f'href="/findings/{finding.id}"', "Acknowledge"):
        assert text in banner, text
    assert "recorded " in banner

    alert = db.session.scalars(select(ConcernAlert).where(ConcernAlert.user_id == head.user.id)).one()
    # Only the person alerted acknowledges their alert.
    assert qa_lead.post_form(f"/concern-alerts/{alert.id}/acknowledge").status_code == 403
    assert auditor.post_form(f"/concern-alerts/{alert.id}/acknowledge").status_code == 403
    db.session.refresh(alert)
    assert alert.acknowledged_at is None

    response = head.post_form(f"/concern-alerts/{alert.id}/acknowledge")
    assert response.status_code == 302 and response.location == "/"
    db.session.refresh(alert)
    assert alert.acknowledged_at is not None
    home = _text(head.get("/"))
    assert "Concern on ‘Targeted visit to the MASH’ acknowledged" in home
    assert "needs your response" not in home and "A baby was not seen" not in home
    assert db.session.scalar(
        select(HistoryEntry.id).where(HistoryEntry.entity == "concern_alert", HistoryEntry.entity_id == alert.id, HistoryEntry.event == "update")
    )
    # The QA lead's alert is theirs to acknowledge, from the finding's page.
    finding_page = _text(qa_lead.get(f"/findings/{finding.id}"))
    assert "you were alerted" in finding_page and "not yet acknowledged" in finding_page
    qa_alert = db.session.scalars(select(ConcernAlert).where(ConcernAlert.user_id == qa_lead.user.id)).one()
    response = qa_lead.post_form(f"/concern-alerts/{qa_alert.id}/acknowledge", {"return_to": "finding"})
    assert response.location == f"/findings/{finding.id}"
    assert "you were alerted" not in _text(qa_lead.get(response.location))


# Editing and removing ---------------------------------------------------------------


def test_edit_a_finding(recording):
    finding = services.record_finding(recording.audit, _finding_data(), recording.user)
    form = _text(recording.get(f"/findings/{finding.id}/edit"))
    assert re.search(r'name="version"[^>]*value="1"|value="1"[^>]*name="version"', form)
    assert "Management oversight is not evident" in form
    response = recording.post_form(f"/findings/{finding.id}/edit", _finding_data(kind="strength", judgement="", theme="", summary="Better now.", version="1"))
    assert response.status_code == 302 and response.location == f"/findings/{finding.id}"
    db.session.refresh(finding)
    assert (finding.kind, finding.theme, finding.judgement, finding.summary) == (FindingKind.STRENGTH, None, None, "Better now.")
    assert finding.version == 2


def test_two_auditors_saving_the_same_finding(login_as, make_audit):
    first = login_as("auditor")
    second = login_as("auditor")
    audit = make_audit("focus_group", status="in_progress", lead=first.user, auditor_ids=[second.user.id])
    finding = services.record_finding(audit, _finding_data(), first.user)
    for client in (first, second):
        assert client.get(f"/findings/{finding.id}/edit").status_code == 200

    assert first.post_form(f"/findings/{finding.id}/edit", _finding_data(summary="First auditor's words", version="1")).status_code == 302
    response = second.post_form(f"/findings/{finding.id}/edit", _finding_data(summary="Second auditor's words", version="1"))
    assert response.status_code == 409
    page = _text(response)
    assert "Someone else changed this finding" in page
    assert "Second auditor's words" in page  # their input is kept
    assert re.search(r'name="version"[^>]*value="2"|value="2"[^>]*name="version"', page)
    db.session.refresh(finding)
    assert finding.summary == "First auditor's words" and finding.version == 2

    # Having seen it, saving again is their choice.
    assert second.post_form(f"/findings/{finding.id}/edit", _finding_data(summary="Second auditor's words", version="2")).status_code == 302
    db.session.refresh(finding)
    assert finding.summary == "Second auditor's words"


def test_bad_input_when_editing(recording):
    finding = services.record_finding(recording.audit, _finding_data(), recording.user)
    page = recording.post_form(f"/findings/{finding.id}/edit", _finding_data(kind="opinion", summary="y" * 2001, version="1")).get_data(as_text=True)
    assert _error_at(page, "kind", "Select whether this is a strength")
    assert _error_at(page, "summary", "Summary must be 2,000 characters or fewer")
    db.session.refresh(finding)
    assert finding.version == 1


def test_editing_a_finding_of_a_completed_audit(recording):
    finding = services.record_finding(recording.audit, _finding_data(), recording.user)
    recording.audit.status = AuditStatus.COMPLETED
    db.session.commit()
    response = recording.get(f"/findings/{finding.id}/edit")
    assert response.status_code == 302 and response.location == f"/findings/{finding.id}"
    page = _text(recording.get(response.location))
    assert "this audit is completed" in page and "Edit finding" not in page
    response = recording.post_form(f"/findings/{finding.id}/edit", _finding_data(summary="Too late", version="1"))
    assert response.status_code == 409 and "this audit is completed" in _text(response) and "Too late" in _text(response)
    response = recording.post_form(f"/findings/{finding.id}/remove")
    assert response.status_code == 302 and _count() == 1


def test_remove_a_finding(recording):
    finding = services.record_finding(recording.audit, _finding_data(kind="concern"), recording.user)
    finding_id = finding.id
    page = _text(recording.get(f"/findings/{finding_id}/remove"))
    assert "Are you sure you want to remove this finding?" in page and "Management oversight is not evident" in page
    response = recording.post_form(f"/findings/{finding_id}/remove")
    assert response.status_code == 302 and response.location == f"/audits/{recording.audit.id}/findings"
    assert "Concern removed" in _text(recording.get(response.location))
    assert _count() == 0 and _count(ConcernAlert) == 0
    events = db.session.scalars(select(HistoryEntry.event).where(HistoryEntry.entity == "finding", HistoryEntry.entity_id == finding_id)).all()
    assert events == ["create", "delete"]



def test_a_concern_with_nobody_to_alert_says_so(app, login_as, make_audit):
    auditor = login_as("auditor")
    audit = make_audit("focus_group", status="in_progress", lead=auditor.user)
    response = auditor.post_form(f"/audits/{audit.id}/findings/new", _finding_data(kind="concern", summary="Not seen.", judgement=None))
    assert "No active QA lead or head of service could be alerted" in _text(auditor.get(response.location))


def test_the_finding_page_lists_its_actions_and_offers_to_raise_one(login_as, make_audit, make_action):
    qa_lead = login_as("qa_lead")
    auditor = login_as("auditor")
    audit = make_audit("focus_group", status="completed", lead=auditor.user)
    finding = services.Finding(audit_id=audit.id, kind=FindingKind.AREA_FOR_IMPROVEMENT, summary="Referrals lack detail")
    db.session.add(finding)
    db.session.commit()
    make_action(finding=finding, title="Re-issue the referral guidance")
    page = _text(qa_lead.get(f"/findings/{finding.id}"))
    assert "Re-issue the referral guidance" in page and f'/findings/{finding.id}/actions/new' in page
    page = _text(auditor.get(f"/findings/{finding.id}"))
    assert "Re-issue the referral guidance" in page and f'/findings/{finding.id}/actions/new' not in page
