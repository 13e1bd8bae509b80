from pathlib import Path

import pytest
from sqlalchemy import select

from qa_audit.errors import Conflict, InvalidInput, NotAllowed
from qa_audit.extensions import db
from qa_audit.findings import services
from qa_audit.findings.models import ConcernAlert, FindingKind
from qa_audit.history.models import HistoryEntry


@pytest.fixture
def outbox(app, tmp_path):
    app.config["MAIL_OUTBOX"] = str(tmp_path / "outbox")
    return tmp_path / "outbox"


def test_record_edit_and_remove_a_finding(make_audit):
    audit = make_audit("focus_group", status="in_progress")
    lead = audit.lead_auditor
    finding = services.record_finding(
        audit, {"kind": "strength", "theme": "supervision", "judgement": "good", "summary": "Supervision is regular and reflective."}, lead
    )
    assert finding.kind is FindingKind.STRENGTH and finding.version == 1
    services.update_finding(finding, {"summary": "Supervision is regular."}, lead, version=1)
    with pytest.raises(Conflict):
        services.update_finding(finding, {"summary": "Second editor"}, lead, version=1)
    finding_id = finding.id
    services.remove_finding(finding, lead)
    events = db.session.scalars(select(HistoryEntry.event).where(HistoryEntry.entity == "finding", HistoryEntry.entity_id == finding_id)).all()
    assert events == ["create", "update", "delete"]


def test_bad_finding_input(make_audit):
    audit = make_audit("focus_group", status="in_progress")
    with pytest.raises(InvalidInput) as error:
        services.record_finding(audit, {"kind": "opinion", "theme": "astrology", "judgement": "meh", "summary": ""}, audit.lead_auditor)
    assert set(error.value.errors) == {"kind", "theme", "judgement", "summary"}
    with pytest.raises(InvalidInput):
        services.record_finding(audit, {"kind": "strength", "summary": "x" * 2001}, audit.lead_auditor)


def test_no_finding_on_a_completed_audit_and_only_its_people(make_audit, make_user):
    audit = make_audit("focus_group", status="completed")
    with pytest.raises(Conflict):
        services.record_finding(audit, {"kind": "strength", "summary": "Late"}, audit.lead_auditor)
    with pytest.raises(NotAllowed):
        services.record_finding(audit, {"kind": "strength", "summary": "Not mine"}, make_user("auditor"))


def test_a_concern_alerts_qa_leads_and_the_head_of_service_at_once(make_audit, make_user, make_service, outbox):
    qa_lead = make_user("qa_lead")
    head = make_user("head_of_service")
    service = make_service("MASH", head_of_service_id=head.id)
    audit = make_audit("targeted_visit", service=service, status="in_progress")
    finding = services.record_finding(audit, {"kind": "concern", "summary": "A child at risk was not seen for six weeks."}, audit.lead_auditor)
    alerted = {alert.user_id for alert in finding.alerts}
    assert alerted == {qa_lead.id, head.id}
    mails = [p.read_text() for p in Path(outbox).glob("*.eml")]
    assert len(mails) == 2 and all("Safeguarding concern recorded" in m for m in mails)
    assert [a.finding_id for a in services.open_alerts(head)] == [finding.id]
    alert = db.session.scalars(select(ConcernAlert).where(ConcernAlert.user_id == head.id)).one()
    with pytest.raises(NotAllowed):
        services.acknowledge(alert, qa_lead)
    services.acknowledge(alert, head)
    assert services.open_alerts(head) == [] and alert.acknowledged_at is not None
    assert db.session.scalar(select(HistoryEntry.id).where(HistoryEntry.entity == "concern_alert", HistoryEntry.event == "update"))


def test_a_visit_shows_its_parts_findings(make_audit):
    visit = make_audit("targeted_visit", status="in_progress")
    part = make_audit("focus_group", parent_id=visit.id, status="in_progress")
    services.record_finding(visit, {"kind": "strength", "summary": "Good grip"}, visit.lead_auditor)
    services.record_finding(part, {"kind": "area_for_improvement", "summary": "Referrals lack detail"}, part.lead_auditor)
    assert {f.summary for f in services.findings_of(visit)} == {"Good grip", "Referrals lack detail"}
    assert [f.summary for f in services.findings_of(part)] == ["Referrals lack detail"]
