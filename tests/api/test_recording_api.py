"""The API rows for recording an audit (API.md): findings, sampled cases, compliance
and details, each status code and the order of the checks: 401 → 404 → 403 → 422 → 409."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from qa_audit.auth.models import Role
from qa_audit.extensions import db
from qa_audit.findings.models import ConcernAlert, Finding
from qa_audit.recording import services as recording_rules
from qa_audit.recording.models import Answer, AuditDetails, SampledCase

HUGE = 10**20
FINDING_FIELDS = {"id", "audit_id", "kind", "summary", "theme", "judgement", "evidence", "version"}
ALLOWED = ("lead", "auditor", "admin", "qa_lead")  # who may record on an audit
NOT_ALLOWED = ("other_auditor", "head_of_service", "viewer")


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _token_for(user) -> dict:
    from qa_audit.auth import services

    token, _ = services.create_token(user, "tests")
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(autouse=True)
def outbox(app, tmp_path):
    """Concern emails go to a folder of this test's own."""
    app.config["MAIL_OUTBOX"] = str(tmp_path / "outbox")
    return tmp_path / "outbox"


@pytest.fixture
def helper(make_user):
    """An auditor (not the lead) of the audits made with ``audit_with_helper``."""
    return make_user("auditor")


@pytest.fixture
def audit_with_helper(make_audit, helper):
    def make(type: str = "focus_group", status: str = "in_progress", **fields):
        return make_audit(type, status=status, auditor_ids=[helper.id], **fields)

    return make


@pytest.fixture
def headers_for(api_as, helper):
    """headers_for(who, audit) → headers of someone in that relation to the audit."""

    def make(who: str, audit) -> dict:
        if who == "lead":
            return _token_for(audit.lead_auditor)
        if who == "auditor":
            return _token_for(helper)
        if who == "other_auditor":
            return api_as("auditor")[0]
        return api_as(who)[0]

    return make


def _finding(client, audit_id, headers, **body):
    body = {"kind": "strength", "summary": "Supervision is regular and reflective.", **body}
    return client.post(f"/api/v1/audits/{audit_id}/findings", json=body, headers=headers)


def _json(headers) -> dict:
    return {**headers, "Content-Type": "application/json"}


# Recording findings ---------------------------------------------------------------


@pytest.mark.parametrize("who", ALLOWED)
def test_the_audits_people_and_managers_record_findings(client, audit_with_helper, headers_for, who):
    audit = audit_with_helper("focus_group")
    body = {
        "kind": "area_for_improvement",
        "summary": "Management oversight is not always recorded.\nTwo cases had none.",
        "theme": "management_oversight",
        "judgement": "requires_improvement",
        "evidence": "Cases 12345 and 23456:\tno oversight recorded.",
        "unknown_field": "ignored",
    }
    response = client.post(f"/api/v1/audits/{audit.id}/findings", json=body, headers=headers_for(who, audit))
    assert response.status_code == 201, response.json
    finding = response.json
    assert FINDING_FIELDS <= set(finding)
    assert isinstance(finding["id"], int) and finding["audit_id"] == audit.id and finding["version"] == 1
    for key in ("kind", "summary", "theme", "judgement", "evidence"):
        assert finding[key] == body[key], key
    assert "unknown_field" not in finding


def test_a_finding_with_only_the_required_fields(client, make_audit):
    audit = make_audit("dip_sample", status="in_progress")
    response = _finding(client, audit.id, _token_for(audit.lead_auditor), summary="  The child's voice is heard.  ")
    assert response.status_code == 201
    body = response.json
    assert body["theme"] is None and body["judgement"] is None and body["evidence"] is None
    assert body["summary"] == "The child's voice is heard."  # trimmed
    # blank optional fields are the same as none
    response = _finding(client, audit.id, _token_for(audit.lead_auditor), theme="", judgement=None, evidence="  ")
    assert response.status_code == 201
    assert response.json["theme"] is None and response.json["judgement"] is None and response.json["evidence"] is None


@pytest.mark.parametrize("who", NOT_ALLOWED)
def test_others_may_not_record_and_403_comes_before_422(client, audit_with_helper, headers_for, who):
    audit = audit_with_helper("focus_group")
    headers = headers_for(who, audit)
    assert _finding(client, audit.id, headers).status_code == 403
    assert _finding(client, audit.id, headers, kind="opinion", summary="").status_code == 403
    assert client.post(f"/api/v1/audits/{audit.id}/findings", data="{", headers=_json(headers)).status_code == 403
    assert _count(Finding) == 0


@pytest.mark.parametrize("status", ["planned", "completed", "cancelled"])
def test_findings_only_while_in_progress(client, make_audit, status):
    audit = make_audit("focus_group", status=status)
    headers = _token_for(audit.lead_auditor)
    response = _finding(client, audit.id, headers)
    assert response.status_code == 409 and response.json["message"]
    # 422 before 409: bad input is reported first
    bad = _finding(client, audit.id, headers, kind="opinion")
    assert bad.status_code == 422 and "kind" in bad.json["errors"]
    assert _count(Finding) == 0


def test_no_such_audit_is_404_for_everyone_before_403(client, api_as):
    for role in Role:
        headers, _ = api_as(role.value)
        for audit_id in (999, HUGE):
            assert _finding(client, audit_id, headers).status_code == 404
            assert client.get(f"/api/v1/audits/{audit_id}/findings", headers=headers).status_code == 404
            assert client.post(f"/api/v1/audits/{audit_id}/cases", json={"case_reference": "12345"}, headers=headers).status_code == 404
            assert client.get(f"/api/v1/audits/{audit_id}/cases", headers=headers).status_code == 404
            assert client.get(f"/api/v1/audits/{audit_id}/compliance", headers=headers).status_code == 404
            assert client.put(f"/api/v1/audits/{audit_id}/details", json={}, headers=headers).status_code == 404
            assert client.get(f"/api/v1/audits/{audit_id}/details", headers=headers).status_code == 404
            assert client.get(f"/api/v1/findings/{audit_id}", headers=headers).status_code == 404
            assert client.patch(f"/api/v1/findings/{audit_id}", json={}, headers=headers).status_code == 404
            assert client.delete(f"/api/v1/findings/{audit_id}", headers=headers).status_code == 404
            assert client.get(f"/api/v1/cases/{audit_id}", headers=headers).status_code == 404
            assert client.post(f"/api/v1/cases/{audit_id}/answers", json={}, headers=headers).status_code == 404


def test_without_a_token_everything_is_401_first(client):
    for method, url in [
        ("POST", "/api/v1/audits/999/findings"),
        ("GET", "/api/v1/audits/999/findings"),
        ("GET", "/api/v1/findings/999"),
        ("PATCH", "/api/v1/findings/999"),
        ("DELETE", "/api/v1/findings/999"),
        ("GET", "/api/v1/themes"),
        ("POST", "/api/v1/audits/999/cases"),
        ("GET", "/api/v1/audits/999/cases"),
        ("GET", "/api/v1/cases/999"),
        ("POST", "/api/v1/cases/999/answers"),
        ("GET", "/api/v1/audits/999/compliance"),
        ("PUT", "/api/v1/audits/999/details"),
        ("GET", "/api/v1/audits/999/details"),
    ]:
        assert client.open(url, method=method, json={}).status_code == 401, (method, url)
        bad = client.open(url, method=method, json={}, headers={"Authorization": "Bearer nonsense"})
        assert bad.status_code == 401, (method, url)


BAD_FINDINGS = [
    ({"kind": None}, "kind"),
    ({"kind": "opinion"}, "kind"),
    ({"kind": 1}, "kind"),
    ({"kind": ["strength"]}, "kind"),
    ({"summary": None}, "summary"),
    ({"summary": ""}, "summary"),
    ({"summary": "   "}, "summary"),
    ({"summary": "s" * 2001}, "summary"),
    ({"summary": "nul\x00"}, "summary"),
    ({"summary": "bell\x07"}, "summary"),
    ({"summary": "\ud800"}, "summary"),
    ({"summary": 42}, "summary"),
    ({"summary": {"text": "a"}}, "summary"),
    ({"theme": "astrology"}, "theme"),
    ({"theme": 3}, "theme"),
    ({"theme": "t" * 61}, "theme"),
    ({"theme": "supervision\n"}, "theme"),
    ({"judgement": "meh"}, "judgement"),
    ({"judgement": 4}, "judgement"),
    ({"evidence": "e" * 10001}, "evidence"),
    ({"evidence": "esc\x1b"}, "evidence"),
    ({"evidence": ["a"]}, "evidence"),
]


@pytest.mark.parametrize("overrides, field", BAD_FINDINGS)
def test_bad_finding_is_422_at_the_field_and_saves_nothing(client, make_audit, overrides, field):
    audit = make_audit("focus_group", status="in_progress")
    response = _finding(client, audit.id, _token_for(audit.lead_auditor), **overrides)
    assert response.status_code == 422, response.json
    errors = response.json["errors"]
    assert field in errors and all(isinstance(m, str) for m in errors[field])
    assert _count(Finding) == 0


@pytest.mark.parametrize("field", ["kind", "summary"])
def test_finding_missing_a_required_field_is_422(client, make_audit, field):
    audit = make_audit("focus_group", status="in_progress")
    body = {"kind": "strength", "summary": "Good"}
    del body[field]
    response = client.post(f"/api/v1/audits/{audit.id}/findings", json=body, headers=_token_for(audit.lead_auditor))
    assert response.status_code == 422 and field in response.json["errors"]


def test_finding_bodies_that_are_not_json_are_400_and_odd_json_422(client, make_audit):
    audit = make_audit("focus_group", status="in_progress")
    headers = _json(_token_for(audit.lead_auditor))
    url = f"/api/v1/audits/{audit.id}/findings"
    for body in ("kind=strength", "{not json", b"\xff\xfe\x00"):
        assert client.post(url, data=body, headers=headers).status_code == 400, body
    for body in ("[]", "null", '"text"', "42", '{"summary": 1e400}', '{"kind": NaN}'):
        assert client.post(url, data=body, headers=headers).status_code == 422, body
    assert _count(Finding) == 0


def test_a_theme_the_council_added_is_accepted_and_listed(client, make_audit, api_as):
    from qa_audit.findings.models import Theme

    db.session.add(Theme(key="neglect", label="Neglect"))
    db.session.commit()
    audit = make_audit("focus_group", status="in_progress")
    assert _finding(client, audit.id, _token_for(audit.lead_auditor), theme="neglect").status_code == 201
    viewer, _ = api_as("viewer")
    themes = client.get("/api/v1/themes", headers=viewer).json
    keys = [item["key"] for item in themes["items"]]
    assert keys[:9] == [
        "thresholds_and_decision_making", "management_oversight", "multi_agency_working", "referral_quality",
        "supervision", "workload", "voice_of_the_child", "timeliness", "recording",
    ]
    assert keys[9:] == ["neglect"] and themes["total"] == 10
    assert {"key": "neglect", "label": "Neglect"} in themes["items"]


def test_a_concern_alerts_the_qa_leads_and_the_head_of_service(client, make_audit, make_user, make_service, outbox):
    qa_lead = make_user("qa_lead")
    head = make_user("head_of_service")
    audit = make_audit("targeted_visit", status="in_progress", service=make_service("MASH", head_of_service_id=head.id))
    response = _finding(client, audit.id, _token_for(audit.lead_auditor), kind="concern", summary="A child at risk was not seen for six weeks.")
    assert response.status_code == 201
    alerted = set(db.session.scalars(select(ConcernAlert.user_id).where(ConcernAlert.finding_id == response.json["id"])))
    assert alerted == {qa_lead.id, head.id}
    mails = [p.read_text() for p in Path(outbox).glob("*.eml")]
    assert len(mails) == 2 and all("A child at risk was not seen for six weeks." in m for m in mails)


# Listing and reading findings -----------------------------------------------------


def test_any_user_lists_an_audits_findings_and_a_visit_includes_its_parts(client, make_audit, api_as):
    visit = make_audit("targeted_visit", status="in_progress")
    part = make_audit("dip_sample", status="in_progress", parent_id=visit.id)
    other = make_audit("focus_group", status="in_progress")
    own = _finding(client, visit.id, _token_for(visit.lead_auditor), summary="Visit finding").json
    child = _finding(client, part.id, _token_for(part.lead_auditor), kind="concern", summary="Dip sample finding").json
    _finding(client, other.id, _token_for(other.lead_auditor), summary="Elsewhere")
    for role in Role:
        headers, _ = api_as(role.value)
        response = client.get(f"/api/v1/audits/{visit.id}/findings", headers=headers)
        assert response.status_code == 200
        body = response.json
        assert body["total"] == 2 and body["page"] == 1 and body["page_size"] == 50
        assert {item["id"] for item in body["items"]} == {own["id"], child["id"]}
        by_id = {item["id"]: item for item in body["items"]}
        assert by_id[child["id"]]["audit_id"] == part.id and by_id[own["id"]]["audit_id"] == visit.id
        assert by_id[own["id"]] == own
    # a part lists only its own
    part_list = client.get(f"/api/v1/audits/{part.id}/findings", headers=headers).json
    assert [item["id"] for item in part_list["items"]] == [child["id"]]


def test_findings_list_paginates(client, make_audit, api_as):
    audit = make_audit("focus_group", status="in_progress")
    lead = _token_for(audit.lead_auditor)
    made = [_finding(client, audit.id, lead, summary=f"Finding {n}").json["id"] for n in range(5)]
    headers, _ = api_as("viewer")
    page = client.get(f"/api/v1/audits/{audit.id}/findings?page=2&page_size=2", headers=headers).json
    assert page["total"] == 5 and page["page"] == 2 and page["page_size"] == 2
    assert [item["id"] for item in page["items"]] == made[2:4]
    assert client.get(f"/api/v1/audits/{audit.id}/findings?page_size=500", headers=headers).json["page_size"] == 200
    assert client.get(f"/api/v1/audits/{audit.id}/findings?page=9", headers=headers).json["items"] == []
    for query in ("page=0", "page=abc", f"page={HUGE}", "page_size=0", "page_size=-1"):
        response = client.get(f"/api/v1/audits/{audit.id}/findings?{query}", headers=headers)
        assert response.status_code == 422 and query.split("=")[0] in response.json["errors"], query


def test_get_one_finding(client, make_audit, api_as):
    audit = make_audit("focus_group", status="in_progress")
    created = _finding(client, audit.id, _token_for(audit.lead_auditor), theme="supervision").json
    headers, _ = api_as("viewer")
    response = client.get(f"/api/v1/findings/{created['id']}", headers=headers)
    assert response.status_code == 200 and response.json == created


# Editing and removing findings ------------------------------------------------------


def test_patch_changes_only_the_fields_sent(client, audit_with_helper, helper):
    audit = audit_with_helper("focus_group")
    created = _finding(client, audit.id, _token_for(audit.lead_auditor), theme="supervision", judgement="good", evidence="Notes").json
    url = f"/api/v1/findings/{created['id']}"
    response = client.patch(url, json={"version": 1, "summary": "Supervision is regular.", "judgement": "outstanding"}, headers=_token_for(helper))
    assert response.status_code == 200, response.json
    body = response.json
    assert body["summary"] == "Supervision is regular." and body["judgement"] == "outstanding" and body["version"] == 2
    assert body["theme"] == "supervision" and body["evidence"] == "Notes" and body["kind"] == "strength"
    cleared = client.patch(url, json={"version": 2, "theme": None, "evidence": None}, headers=_token_for(helper))
    assert cleared.status_code == 200 and cleared.json["theme"] is None and cleared.json["evidence"] is None
    assert cleared.json["version"] == 3


def test_patch_needs_the_version_read_and_a_stale_one_writes_nothing(client, make_audit):
    audit = make_audit("focus_group", status="in_progress")
    headers = _token_for(audit.lead_auditor)
    created = _finding(client, audit.id, headers, summary="Original").json
    url = f"/api/v1/findings/{created['id']}"
    for body in ({"summary": "New"}, {"version": None, "summary": "New"}, {"version": "1", "summary": "New"}, {"version": 0}):
        response = client.patch(url, json=body, headers=headers)
        assert response.status_code == 422 and "version" in response.json["errors"], body
    assert client.patch(url, json={"version": 1, "summary": "First"}, headers=headers).status_code == 200
    stale = client.patch(url, json={"version": 1, "summary": "Second"}, headers=headers)
    assert stale.status_code == 409 and stale.json["message"]
    # 422 before 409
    both = client.patch(url, json={"version": 1, "summary": ""}, headers=headers)
    assert both.status_code == 422 and "summary" in both.json["errors"]
    huge = client.patch(url, json={"version": HUGE, "summary": "Third"}, headers=headers)
    assert huge.status_code == 409
    finding = db.session.get(Finding, created["id"])
    assert finding.summary == "First" and finding.version == 2


@pytest.mark.parametrize("overrides, field", BAD_FINDINGS)
def test_patch_bad_input_is_422_at_the_field(client, make_audit, overrides, field):
    audit = make_audit("focus_group", status="in_progress")
    headers = _token_for(audit.lead_auditor)
    created = _finding(client, audit.id, headers).json
    response = client.patch(f"/api/v1/findings/{created['id']}", json={"version": 1, **overrides}, headers=headers)
    assert response.status_code == 422, (overrides, response.json)
    assert field in response.json["errors"]
    assert db.session.get(Finding, created["id"]).version == 1


@pytest.mark.parametrize("who", NOT_ALLOWED)
def test_others_may_not_edit_or_remove_findings(client, audit_with_helper, headers_for, who):
    audit = audit_with_helper("focus_group")
    created = _finding(client, audit.id, _token_for(audit.lead_auditor)).json
    headers = headers_for(who, audit)
    url = f"/api/v1/findings/{created['id']}"
    assert client.patch(url, json={"version": 1, "summary": "Mine"}, headers=headers).status_code == 403
    assert client.patch(url, json={"version": "x", "kind": "opinion"}, headers=headers).status_code == 403
    assert client.patch(url, data="{", headers=_json(headers)).status_code == 403
    assert client.delete(url, headers=headers).status_code == 403
    finding = db.session.get(Finding, created["id"])
    assert finding is not None and finding.version == 1


def test_no_edit_or_removal_once_the_audit_is_completed(client, api_as, make_audit):
    audit = make_audit("focus_group", status="in_progress")
    headers = _token_for(audit.lead_auditor)
    created = _finding(client, audit.id, headers).json
    qa_lead, _ = api_as("qa_lead")
    assert client.post(f"/api/v1/audits/{audit.id}/status", json={"status": "completed"}, headers=qa_lead).status_code == 200
    url = f"/api/v1/findings/{created['id']}"
    for who in (headers, qa_lead):
        edit = client.patch(url, json={"version": 1, "summary": "Late"}, headers=who)
        assert edit.status_code == 409 and edit.json["message"]
        remove = client.delete(url, headers=who)
        assert remove.status_code == 409 and remove.json["message"]
    assert db.session.get(Finding, created["id"]).summary == created["summary"]


def test_editing_a_finding_into_a_concern_alerts(client, make_audit, make_user, outbox):
    qa_lead = make_user("qa_lead")
    audit = make_audit("focus_group", status="in_progress")
    headers = _token_for(audit.lead_auditor)
    created = _finding(client, audit.id, headers, kind="area_for_improvement").json
    assert _count(ConcernAlert) == 0
    response = client.patch(f"/api/v1/findings/{created['id']}", json={"version": 1, "kind": "concern"}, headers=headers)
    assert response.status_code == 200 and response.json["kind"] == "concern"
    assert set(db.session.scalars(select(ConcernAlert.user_id))) == {qa_lead.id}


@pytest.mark.parametrize("role", ["admin", "qa_lead"])
def test_remove_a_finding(client, api_as, make_audit, make_user, role):
    make_user("qa_lead")  # so a concern raises an alert, removed with it
    audit = make_audit("focus_group", status="in_progress")
    created = _finding(client, audit.id, _token_for(audit.lead_auditor), kind="concern").json
    headers, _ = api_as(role)
    response = client.delete(f"/api/v1/findings/{created['id']}", headers=headers)
    assert response.status_code == 204 and response.get_data() == b""
    assert client.get(f"/api/v1/findings/{created['id']}", headers=headers).status_code == 404
    assert client.delete(f"/api/v1/findings/{created['id']}", headers=headers).status_code == 404
    assert _count(Finding) == 0 and _count(ConcernAlert) == 0


def test_history_shows_a_findings_create_update_and_delete(client, api_as, make_audit):
    audit = make_audit("focus_group", status="in_progress")
    lead = audit.lead_auditor
    headers = _token_for(lead)
    created = _finding(client, audit.id, headers, summary="Before").json
    client.patch(f"/api/v1/findings/{created['id']}", json={"version": 1, "summary": "After"}, headers=headers)
    assert client.delete(f"/api/v1/findings/{created['id']}", headers=headers).status_code == 204
    reader, _ = api_as("head_of_service")
    response = client.get(f"/api/v1/history?entity=finding&entity_id={created['id']}", headers=reader)
    assert response.status_code == 200
    items = response.json["items"]
    assert [item["event"] for item in items] == ["create", "update", "delete"]
    assert all(item["entity"] == "finding" and item["entity_id"] == created["id"] for item in items)
    assert all(item["user_id"] == lead.id for item in items)
    assert items[1]["changes"]["summary"] == ["Before", "After"]


# Sampled cases ----------------------------------------------------------------------


def _questions(audit) -> list[int]:
    return [q.id for q in audit.question_set.questions]


def _case(client, audit_id, headers, **body):
    body = {"case_reference": "CIN/2024/001", "answers": {}, **body}
    return client.post(f"/api/v1/audits/{audit_id}/cases", json=body, headers=headers)


@pytest.mark.parametrize("who", ALLOWED)
def test_add_a_case_with_its_answers(client, audit_with_helper, headers_for, who):
    audit = audit_with_helper("dip_sample")
    q1, q2 = _questions(audit)
    response = _case(client, audit.id, headers_for(who, audit), answers={str(q1): "met", str(q2): "not_applicable"}, notes="Closed case.")
    assert response.status_code == 201, response.json
    body = response.json
    assert isinstance(body["id"], int) and body["case_reference"] == "CIN/2024/001"
    assert body["answers"] == {str(q1): "met", str(q2): "not_applicable"}
    assert body["audit_id"] == audit.id and body["notes"] == "Closed case." and body["version"] == 1


def test_a_case_without_answers_and_answering_it_later(client, make_audit, api_as):
    audit = make_audit("dip_sample", status="in_progress")
    q1, q2 = _questions(audit)
    headers = _token_for(audit.lead_auditor)
    created = client.post(f"/api/v1/audits/{audit.id}/cases", json={"case_reference": " 12345 "}, headers=headers)
    assert created.status_code == 201 and created.json["case_reference"] == "12345" and created.json["answers"] == {}
    url = f"/api/v1/cases/{created.json['id']}/answers"
    response = client.post(url, json={"question_id": q2, "value": "partially_met", "notes": "Seen, not alone."}, headers=headers)
    assert response.status_code == 200, response.json
    assert response.json["answers"] == {str(q2): "partially_met"}
    assert response.json["answer_notes"] == {str(q2): "Seen, not alone."}
    changed = client.post(url, json={"question_id": q2, "value": "met"}, headers=headers)
    assert changed.status_code == 200 and changed.json["answers"] == {str(q2): "met"} and changed.json["answer_notes"] == {}
    assert _count(Answer) == 1
    viewer, _ = api_as("viewer")
    read = client.get(f"/api/v1/cases/{created.json['id']}", headers=viewer)
    assert read.status_code == 200 and read.json["answers"] == {str(q2): "met"}
    # q1 still unanswered: the dip sample cannot be completed yet
    assert recording_rules.unanswered(audit) == 1
    complete = client.post(f"/api/v1/audits/{audit.id}/status", json={"status": "completed"}, headers=headers)
    assert complete.status_code == 409 and "missing" in complete.json["message"]
    client.post(url, json={"question_id": q1, "value": "not_met"}, headers=headers)
    complete = client.post(f"/api/v1/audits/{audit.id}/status", json={"status": "completed"}, headers=headers)
    assert complete.status_code == 200


@pytest.mark.parametrize(
    "reference",
    ["Jane Smith", "ab", "1", "-12345", "/12345", "12345!", "x" * 33, "1234567890" * 4, "", "   ", "12\x0045", "12345\n"],
)
def test_a_case_reference_must_look_like_one(client, make_audit, reference):
    audit = make_audit("dip_sample", status="in_progress")
    response = _case(client, audit.id, _token_for(audit.lead_auditor), case_reference=reference)
    assert response.status_code == 422, (reference, response.json)
    assert "case_reference" in response.json["errors"]
    assert _count(SampledCase) == 0


@pytest.mark.parametrize("reference", [None, 12345, ["12345"], {"ref": "12345"}, True])
def test_a_case_reference_must_be_text(client, make_audit, reference):
    audit = make_audit("dip_sample", status="in_progress")
    response = _case(client, audit.id, _token_for(audit.lead_auditor), case_reference=reference)
    assert response.status_code == 422 and "case_reference" in response.json["errors"]


def test_missing_case_reference_is_422(client, make_audit):
    audit = make_audit("dip_sample", status="in_progress")
    response = client.post(f"/api/v1/audits/{audit.id}/cases", json={"answers": {}}, headers=_token_for(audit.lead_auditor))
    assert response.status_code == 422 and "case_reference" in response.json["errors"]


def test_the_case_reference_pattern_is_configurable(app, client, make_audit):
    app.config["CASE_REFERENCE_PATTERN"] = r"^CIN-[0-9]{4}$"
    audit = make_audit("dip_sample", status="in_progress")
    headers = _token_for(audit.lead_auditor)
    assert _case(client, audit.id, headers, case_reference="CIN/2024/001").status_code == 422
    assert _case(client, audit.id, headers, case_reference="CIN-2024").status_code == 201


def test_a_duplicate_case_in_one_sample_is_422_at_case_reference(client, make_audit):
    audit = make_audit("dip_sample", status="in_progress")
    other = make_audit("dip_sample", status="in_progress")
    headers = _token_for(audit.lead_auditor)
    assert _case(client, audit.id, headers, case_reference="12345").status_code == 201
    for reference in ("12345", " 12345 "):
        again = _case(client, audit.id, headers, case_reference=reference)
        assert again.status_code == 422 and "case_reference" in again.json["errors"]
        assert "already" in again.json["errors"]["case_reference"][0]
    # the same case may be in another sample
    assert _case(client, other.id, _token_for(other.lead_auditor), case_reference="12345").status_code == 201
    assert _count(SampledCase) == 2


@pytest.mark.parametrize(
    "answers",
    [
        {"999999": "met"},
        {"abc": "met"},
        {"²": "met"},
        {"１": "met"},
        {"9" * 5000: "met"},
        {"-1": "met"},
        {"1.5": "met"},
        {"": "met"},
        {"QUESTION": "yes"},
        "met",
        ["met"],
        [["1", "met"]],
        None,
        {str(n): "met" for n in range(1, 300)},
    ],
)
def test_answers_for_unknown_questions_or_bad_shapes_are_422(client, make_audit, answers):
    audit = make_audit("dip_sample", status="in_progress")
    response = _case(client, audit.id, _token_for(audit.lead_auditor), answers=answers)
    assert response.status_code == 422, (answers, response.json)
    assert "answers" in response.json["errors"]
    assert all(isinstance(m, str) for m in response.json["errors"]["answers"])
    assert _count(SampledCase) == 0


@pytest.mark.parametrize("value", ["yes", "Met", "", None, 1, True, ["met"], {"value": "met"}])
def test_bad_answer_values_are_422(client, make_audit, value):
    audit = make_audit("dip_sample", status="in_progress")
    q1, _ = _questions(audit)
    response = _case(client, audit.id, _token_for(audit.lead_auditor), answers={str(q1): value})
    assert response.status_code == 422 and "answers" in response.json["errors"], value
    assert _count(SampledCase) == 0


def test_answers_to_another_sets_questions_are_422(client, make_audit):
    audit = make_audit("dip_sample", status="in_progress")
    other = make_audit("dip_sample", status="in_progress")
    response = _case(client, audit.id, _token_for(audit.lead_auditor), answers={str(_questions(other)[0]): "met"})
    assert response.status_code == 422 and "answers" in response.json["errors"]


@pytest.mark.parametrize("notes, status", [("n" * 10000, 201), ("n" * 10001, 422), ("tab\tand\nnewline", 201), ("nul\x00", 422), (5, 422)])
def test_case_notes(client, make_audit, notes, status):
    audit = make_audit("dip_sample", status="in_progress")
    response = _case(client, audit.id, _token_for(audit.lead_auditor), notes=notes)
    assert response.status_code == status
    if status == 422:
        assert "notes" in response.json["errors"]


@pytest.mark.parametrize("type", ["targeted_visit", "focus_group", "strategy_meeting_audit"])
def test_cases_only_for_dip_samples(client, make_audit, type):
    audit = make_audit(type, status="in_progress")
    response = _case(client, audit.id, _token_for(audit.lead_auditor))
    assert response.status_code == 409 and response.json["message"]
    assert _count(SampledCase) == 0


@pytest.mark.parametrize("status", ["planned", "completed", "cancelled"])
def test_cases_only_while_in_progress(client, make_audit, status):
    audit = make_audit("dip_sample", status=status)
    headers = _token_for(audit.lead_auditor)
    response = _case(client, audit.id, headers)
    assert response.status_code == 409 and response.json["message"]
    bad = _case(client, audit.id, headers, case_reference="Jane Smith")
    assert bad.status_code == 422  # 422 before 409


@pytest.mark.parametrize("who", NOT_ALLOWED)
def test_others_may_not_add_or_answer_cases(client, audit_with_helper, headers_for, who):
    audit = audit_with_helper("dip_sample")
    created = _case(client, audit.id, _token_for(audit.lead_auditor)).json
    headers = headers_for(who, audit)
    assert _case(client, audit.id, headers, case_reference="23456").status_code == 403
    assert _case(client, audit.id, headers, case_reference="Jane Smith", answers=[]).status_code == 403
    url = f"/api/v1/cases/{created['id']}/answers"
    assert client.post(url, json={"question_id": _questions(audit)[0], "value": "met"}, headers=headers).status_code == 403
    assert client.post(url, json={"question_id": "x"}, headers=headers).status_code == 403
    assert _count(SampledCase) == 1 and _count(Answer) == 0


@pytest.mark.parametrize(
    "body, field",
    [
        ({"value": "met"}, "question_id"),
        ({"question_id": None, "value": "met"}, "question_id"),
        ({"question_id": "1", "value": "met"}, "question_id"),
        ({"question_id": HUGE, "value": "met"}, "question_id"),
        ({"question_id": 999999, "value": "met"}, "question_id"),
        ({"question_id": "Q1"}, "value"),
        ({"question_id": "Q1", "value": "yes"}, "value"),
        ({"question_id": "Q1", "value": None}, "value"),
        ({"question_id": "Q1", "value": "met", "notes": "n" * 10001}, "notes"),
    ],
)
def test_bad_answers_to_a_case_are_422(client, make_audit, body, field):
    audit = make_audit("dip_sample", status="in_progress")
    headers = _token_for(audit.lead_auditor)
    created = _case(client, audit.id, headers).json
    if body.get("question_id") == "Q1":
        body = {**body, "question_id": _questions(audit)[0]}
    response = client.post(f"/api/v1/cases/{created['id']}/answers", json=body, headers=headers)
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]
    assert _count(Answer) == 0


def test_no_answers_once_the_sample_is_completed(client, make_audit):
    audit = make_audit("dip_sample", status="in_progress")
    headers = _token_for(audit.lead_auditor)
    q1, q2 = _questions(audit)
    created = _case(client, audit.id, headers, answers={str(q1): "met", str(q2): "met"}).json
    assert client.post(f"/api/v1/audits/{audit.id}/status", json={"status": "completed"}, headers=headers).status_code == 200
    response = client.post(f"/api/v1/cases/{created['id']}/answers", json={"question_id": q1, "value": "not_met"}, headers=headers)
    assert response.status_code == 409 and response.json["message"]
    assert db.session.scalar(select(Answer.value).where(Answer.question_id == q1)).value == "met"


def test_list_cases(client, make_audit, api_as):
    audit = make_audit("dip_sample", status="in_progress")
    q1, _ = _questions(audit)
    headers = _token_for(audit.lead_auditor)
    made = [_case(client, audit.id, headers, case_reference=f"CASE-{n}", answers={str(q1): "met"}).json for n in range(3)]
    viewer, _ = api_as("viewer")
    page = client.get(f"/api/v1/audits/{audit.id}/cases?page_size=2", headers=viewer).json
    assert page["total"] == 3 and page["page_size"] == 2
    assert page["items"] == made[:2]
    assert client.get(f"/api/v1/audits/{audit.id}/cases?page=2&page_size=2", headers=viewer).json["items"] == made[2:]
    focus = make_audit("focus_group")
    assert client.get(f"/api/v1/audits/{focus.id}/cases", headers=viewer).json == {"items": [], "total": 0, "page": 1, "page_size": 50}


def test_history_of_a_sampled_case(client, api_as, make_audit):
    audit = make_audit("dip_sample", status="in_progress")
    created = _case(client, audit.id, _token_for(audit.lead_auditor)).json
    reader, _ = api_as("qa_lead")
    items = client.get(f"/api/v1/history?entity=sampled_case&entity_id={created['id']}", headers=reader).json["items"]
    assert [item["event"] for item in items] == ["create"]


# Compliance ---------------------------------------------------------------------------


def test_compliance_matches_a_hand_calculation(client, make_audit, make_question_set, api_as):
    qs = make_question_set("Younger children", ["Were medical investigations undertaken?", "Was the child seen alone?", "Was the GP contacted?"])
    audit = make_audit("dip_sample", status="in_progress", question_set_id=qs.id)
    q1, q2, q3 = _questions(audit)
    headers = _token_for(audit.lead_auditor)
    rows = [
        # q1         q2                q3
        ("met", "met", "not_applicable"),
        ("met", "met", "not_applicable"),
        ("partially_met", "not_met", "not_applicable"),
        ("not_met", None, None),
        ("not_applicable", None, None),
    ]
    for n, (a1, a2, a3) in enumerate(rows):
        answers = {str(q): a for q, a in ((q1, a1), (q2, a2), (q3, a3)) if a}
        assert _case(client, audit.id, headers, case_reference=f"CASE-{n:03}", answers=answers).status_code == 201
    other = make_audit("dip_sample", status="in_progress", question_set_id=qs.id)  # never counted here
    _case(client, other.id, _token_for(other.lead_auditor), answers={str(q1): "not_met", str(q2): "not_met"})
    viewer, _ = api_as("viewer")
    response = client.get(f"/api/v1/audits/{audit.id}/compliance", headers=viewer)
    assert response.status_code == 200
    # By hand: q1 counts met 2, partially met 1, not met 1 → 2/4 = 50.0 (not applicable left out);
    # q2: met 2, not met 1 → 2/3 = 66.666… → 66.7; q3: only not applicable → null.
    # Overall: met 4 ÷ (4 + 1 + 2) = 57.142… → 57.1.
    assert response.json == {
        "overall": 57.1,
        "questions": [
            {"question_id": q1, "text": "Were medical investigations undertaken?", "met": 2, "partially_met": 1, "not_met": 1, "not_applicable": 1, "compliance": 50.0},
            {"question_id": q2, "text": "Was the child seen alone?", "met": 2, "partially_met": 0, "not_met": 1, "not_applicable": 0, "compliance": 66.7},
            {"question_id": q3, "text": "Was the GP contacted?", "met": 0, "partially_met": 0, "not_met": 0, "not_applicable": 3, "compliance": None},
        ],
    }


def test_compliance_rounds_half_up(client, make_audit, make_question_set, api_as):
    """1 met of 16 is 6.25 %: half up gives 6.3 (Python's round() would give 6.2)."""
    qs = make_question_set("One question", ["Was the threshold applied correctly?"])
    audit = make_audit("dip_sample", status="in_progress", question_set_id=qs.id)
    (q1,) = _questions(audit)
    for n in range(16):
        recording_rules.add_case(audit, audit.lead_auditor, f"CASE-{n:03}", {str(q1): "met" if n == 0 else "not_met"})
    viewer, _ = api_as("viewer")
    body = client.get(f"/api/v1/audits/{audit.id}/compliance", headers=viewer).json
    assert body["overall"] == 6.3 and body["questions"][0]["compliance"] == 6.3
    assert body["questions"][0]["met"] == 1 and body["questions"][0]["not_met"] == 15


def test_compliance_with_nothing_counted_is_null(client, make_audit, api_as):
    audit = make_audit("dip_sample", status="in_progress")
    q1, q2 = _questions(audit)
    headers, _ = api_as("head_of_service")
    body = client.get(f"/api/v1/audits/{audit.id}/compliance", headers=headers).json
    assert body["overall"] is None
    assert [(q["question_id"], q["met"], q["not_applicable"], q["compliance"]) for q in body["questions"]] == [(q1, 0, 0, None), (q2, 0, 0, None)]
    everything_met = make_audit("dip_sample", status="in_progress")
    q1, q2 = _questions(everything_met)
    _case(client, everything_met.id, _token_for(everything_met.lead_auditor), answers={str(q1): "met", str(q2): "met"})
    body = client.get(f"/api/v1/audits/{everything_met.id}/compliance", headers=headers).json
    assert body["overall"] == 100.0 and [q["compliance"] for q in body["questions"]] == [100.0, 100.0]


@pytest.mark.parametrize("type", ["targeted_visit", "focus_group", "strategy_meeting_audit"])
def test_compliance_of_other_audits_is_empty(client, make_audit, api_as, type):
    audit = make_audit(type)
    headers, _ = api_as("viewer")
    response = client.get(f"/api/v1/audits/{audit.id}/compliance", headers=headers)
    assert response.status_code == 200 and response.json == {"overall": None, "questions": []}


def test_compliance_of_a_dip_sample_without_a_question_set(client, make_audit, api_as):
    audit = make_audit("dip_sample", question_set_id=None)
    headers, _ = api_as("viewer")
    assert client.get(f"/api/v1/audits/{audit.id}/compliance", headers=headers).json == {"overall": None, "questions": []}


# Details of focus groups and strategy meeting audits ------------------------------

FOCUS_GROUP = {
    "participants_count": 8,
    "participant_roles": "Social workers, team managers\nand a senior practitioner",
    "themes": "Workload; supervision; thresholds",
    "facilitator": "Priya Shah",
    "key_messages": "Supervision is valued.",
    "assurance_statement": "Practice is safe.",
}
STRATEGY_MEETING = {
    "meeting_date": "2021-11-03",
    "agencies_invited": ["social_care", "police", "health", "education"],
    "agencies_attended": ["social_care", "police"],
    "within_timescale": False,
    "chairing_quality": "requires_improvement",
    "agency_contributions": {"police": "good", "social_care": "requires_improvement"},
    "decision_recorded": True,
}
DETAIL_FIELDS = set(FOCUS_GROUP) | set(STRATEGY_MEETING) | {"id", "audit_id", "version"}


def _details(client, audit_id, headers, body):
    return client.put(f"/api/v1/audits/{audit_id}/details", json=body, headers=headers)


@pytest.mark.parametrize("who", ALLOWED)
def test_record_focus_group_details(client, audit_with_helper, headers_for, api_as, who):
    audit = audit_with_helper("focus_group")
    response = _details(client, audit.id, headers_for(who, audit), FOCUS_GROUP)
    assert response.status_code == 200, response.json
    body = response.json
    assert set(body) == DETAIL_FIELDS
    assert body["audit_id"] == audit.id and isinstance(body["id"], int) and body["version"] == 1
    for key, value in FOCUS_GROUP.items():
        assert body[key] == value, key
    assert body["meeting_date"] is None and body["agencies_invited"] is None
    viewer, _ = api_as("viewer")
    read = client.get(f"/api/v1/audits/{audit.id}/details", headers=viewer)
    assert read.status_code == 200 and read.json == body


def test_focus_group_details_need_only_the_required_fields_and_are_replaced(client, make_audit):
    audit = make_audit("focus_group", status="in_progress")
    headers = _token_for(audit.lead_auditor)
    assert _details(client, audit.id, headers, FOCUS_GROUP).status_code == 200
    required = {"participants_count": 0, "participant_roles": "None came", "themes": "Nothing discussed"}
    response = _details(client, audit.id, headers, required)
    assert response.status_code == 200
    body = response.json
    assert body["participants_count"] == 0 and body["facilitator"] is None and body["key_messages"] is None
    assert body["version"] == 2
    # with the version read: a stale one is a 409 and writes nothing
    stale = _details(client, audit.id, headers, {**FOCUS_GROUP, "version": 1})
    assert stale.status_code == 409 and stale.json["message"]
    assert _details(client, audit.id, headers, {**FOCUS_GROUP, "version": 2}).status_code == 200
    assert _count(AuditDetails) == 1


def test_record_strategy_meeting_details(client, make_audit):
    audit = make_audit("strategy_meeting_audit", status="in_progress")
    headers = _token_for(audit.lead_auditor)
    body = {**STRATEGY_MEETING, "agencies_attended": ["police", "social_care", "police"]}
    response = _details(client, audit.id, headers, body)
    assert response.status_code == 200, response.json
    saved = response.json
    assert set(saved) == DETAIL_FIELDS
    assert saved["meeting_date"] == "2021-11-03"  # past dates are accepted
    assert saved["agencies_invited"] == STRATEGY_MEETING["agencies_invited"]
    assert saved["agencies_attended"] == ["police", "social_care"]  # each once
    assert saved["within_timescale"] is False and saved["chairing_quality"] == "requires_improvement"
    assert saved["agency_contributions"] == STRATEGY_MEETING["agency_contributions"]
    assert saved["decision_recorded"] is True and saved["participants_count"] is None
    minimal = {k: STRATEGY_MEETING[k] for k in ("meeting_date", "agencies_invited", "agencies_attended", "within_timescale", "chairing_quality")}
    minimal["agencies_attended"] = []
    again = _details(client, audit.id, headers, minimal)
    assert again.status_code == 200 and again.json["agency_contributions"] is None and again.json["agencies_attended"] == []


@pytest.mark.parametrize("field", ["participants_count", "participant_roles", "themes"])
@pytest.mark.parametrize("how", ["missing", "null", "blank"])
def test_focus_group_required_fields(client, make_audit, field, how):
    audit = make_audit("focus_group", status="in_progress")
    body = dict(FOCUS_GROUP)
    if how == "missing":
        del body[field]
    elif how == "null":
        body[field] = None
    else:
        body[field] = "  " if field != "participants_count" else ""
    response = _details(client, audit.id, _token_for(audit.lead_auditor), body)
    assert response.status_code == 422, response.json
    assert set(response.json["errors"]) == {field}
    assert _count(AuditDetails) == 0


@pytest.mark.parametrize("field", ["meeting_date", "agencies_invited", "agencies_attended", "within_timescale", "chairing_quality"])
def test_strategy_meeting_required_fields(client, make_audit, field):
    audit = make_audit("strategy_meeting_audit", status="in_progress")
    headers = _token_for(audit.lead_auditor)
    for body in ({k: v for k, v in STRATEGY_MEETING.items() if k != field}, {**STRATEGY_MEETING, field: None}):
        response = _details(client, audit.id, headers, body)
        assert response.status_code == 422 and set(response.json["errors"]) == {field}, response.json
    assert _count(AuditDetails) == 0


def test_every_missing_field_is_named_at_once(client, make_audit):
    audit = make_audit("strategy_meeting_audit", status="in_progress")
    response = _details(client, audit.id, _token_for(audit.lead_auditor), {"within_timescale": "yes"})
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"meeting_date", "agencies_invited", "agencies_attended", "within_timescale", "chairing_quality"}


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"participants_count": -1}, "participants_count"),
        ({"participants_count": "8"}, "participants_count"),
        ({"participants_count": 8.5}, "participants_count"),
        ({"participants_count": True}, "participants_count"),
        ({"participants_count": HUGE}, "participants_count"),
        ({"participants_count": [8]}, "participants_count"),
        ({"participant_roles": "r" * 10001}, "participant_roles"),
        ({"participant_roles": "nul\x00"}, "participant_roles"),
        ({"participant_roles": 5}, "participant_roles"),
        ({"themes": {"a": 1}}, "themes"),
        ({"themes": "\ud800"}, "themes"),
        ({"facilitator": "f" * 201}, "facilitator"),
        ({"facilitator": "two\nlines"}, "facilitator"),
        ({"key_messages": "k" * 10001}, "key_messages"),
        ({"assurance_statement": "esc\x1b"}, "assurance_statement"),
        ({"version": "1"}, "version"),
        ({"version": 0}, "version"),
    ],
)
def test_bad_focus_group_details_are_422_at_the_field(client, make_audit, overrides, field):
    audit = make_audit("focus_group", status="in_progress")
    response = _details(client, audit.id, _token_for(audit.lead_auditor), {**FOCUS_GROUP, **overrides})
    assert response.status_code == 422, response.json
    assert field in response.json["errors"] and all(isinstance(m, str) for m in response.json["errors"][field])
    assert _count(AuditDetails) == 0


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"meeting_date": "2026-02-31"}, "meeting_date"),
        ({"meeting_date": "03/11/2021"}, "meeting_date"),
        ({"meeting_date": 20211103}, "meeting_date"),
        ({"meeting_date": "2021-11-03T10:00:00"}, "meeting_date"),
        ({"agencies_invited": ["fire_brigade"]}, "agencies_invited"),
        ({"agencies_invited": "police"}, "agencies_invited"),
        ({"agencies_invited": [None]}, "agencies_invited"),
        ({"agencies_invited": {"police": True}}, "agencies_invited"),
        ({"agencies_attended": ["police"] * 100}, "agencies_attended"),
        ({"agencies_attended": [1]}, "agencies_attended"),
        ({"within_timescale": "yes"}, "within_timescale"),
        ({"within_timescale": 1}, "within_timescale"),
        ({"within_timescale": "true"}, "within_timescale"),
        ({"chairing_quality": "great"}, "chairing_quality"),
        ({"chairing_quality": 2}, "chairing_quality"),
        ({"agency_contributions": {"fire_brigade": "good"}}, "agency_contributions"),
        ({"agency_contributions": {"police": "great"}}, "agency_contributions"),
        ({"agency_contributions": {"police": None}}, "agency_contributions"),
        ({"agency_contributions": ["police"]}, "agency_contributions"),
        ({"agency_contributions": "good"}, "agency_contributions"),
        ({"decision_recorded": "no"}, "decision_recorded"),
    ],
)
def test_bad_strategy_meeting_details_are_422_at_the_field(client, make_audit, overrides, field):
    audit = make_audit("strategy_meeting_audit", status="in_progress")
    response = _details(client, audit.id, _token_for(audit.lead_auditor), {**STRATEGY_MEETING, **overrides})
    assert response.status_code == 422, response.json
    assert set(response.json["errors"]) == {field}
    assert all(isinstance(m, str) for m in response.json["errors"][field])
    assert _count(AuditDetails) == 0


@pytest.mark.parametrize("type", ["dip_sample", "targeted_visit"])
def test_details_only_for_focus_groups_and_strategy_meetings(client, make_audit, type):
    audit = make_audit(type, status="in_progress")
    response = _details(client, audit.id, _token_for(audit.lead_auditor), FOCUS_GROUP)
    assert response.status_code == 409 and response.json["message"]
    assert _count(AuditDetails) == 0


@pytest.mark.parametrize("status", ["planned", "completed", "cancelled"])
def test_details_only_while_in_progress(client, make_audit, status):
    audit = make_audit("focus_group", status=status)
    headers = _token_for(audit.lead_auditor)
    response = _details(client, audit.id, headers, FOCUS_GROUP)
    assert response.status_code == 409 and response.json["message"]
    bad = _details(client, audit.id, headers, {**FOCUS_GROUP, "participants_count": -1})
    assert bad.status_code == 422  # 422 before 409
    assert _count(AuditDetails) == 0


@pytest.mark.parametrize("who", NOT_ALLOWED)
def test_others_may_not_record_details(client, audit_with_helper, headers_for, who):
    audit = audit_with_helper("focus_group")
    headers = headers_for(who, audit)
    assert _details(client, audit.id, headers, FOCUS_GROUP).status_code == 403
    assert _details(client, audit.id, headers, {"participants_count": "many"}).status_code == 403
    assert client.put(f"/api/v1/audits/{audit.id}/details", data="{", headers=_json(headers)).status_code == 403
    assert _count(AuditDetails) == 0


def test_details_not_yet_recorded_are_404(client, make_audit, api_as):
    audit = make_audit("focus_group", status="in_progress")
    headers, _ = api_as("viewer")
    assert client.get(f"/api/v1/audits/{audit.id}/details", headers=headers).status_code == 404


def test_details_bodies_that_are_not_json_are_400(client, make_audit):
    audit = make_audit("focus_group", status="in_progress")
    headers = _json(_token_for(audit.lead_auditor))
    url = f"/api/v1/audits/{audit.id}/details"
    for body in ("participants_count=3", "{", b"\xff"):
        assert client.put(url, data=body, headers=headers).status_code == 400
    for body in ("[]", "null", "3"):
        assert client.put(url, data=body, headers=headers).status_code == 422


# The order of the checks, in one place ----------------------------------------------


def test_checks_run_in_order_401_404_403_422_409(client, make_audit, api_as):
    audit = make_audit("focus_group", status="completed")
    outsider, _ = api_as("auditor")
    lead = _token_for(audit.lead_auditor)
    bad, good = {"kind": "opinion"}, {"kind": "strength", "summary": "Fine"}
    url = f"/api/v1/audits/{audit.id}/findings"
    assert client.post(url, json=bad).status_code == 401
    assert client.post("/api/v1/audits/999999/findings", json=bad, headers=outsider).status_code == 404
    assert client.post(url, json=bad, headers=outsider).status_code == 403
    assert client.post(url, json=bad, headers=lead).status_code == 422
    assert client.post(url, json=good, headers=lead).status_code == 409
    dip = make_audit("dip_sample", status="completed")
    dip_lead = _token_for(dip.lead_auditor)
    url = f"/api/v1/audits/{dip.id}/cases"
    assert client.post(url, json={"case_reference": "Jane Smith"}, headers=outsider).status_code == 403
    assert client.post(url, json={"case_reference": "Jane Smith"}, headers=dip_lead).status_code == 422
    assert client.post(url, json={"case_reference": "12345"}, headers=dip_lead).status_code == 409
    url = f"/api/v1/audits/{audit.id}/details"
    assert client.put(url, json={}, headers=outsider).status_code == 403
    assert client.put(url, json={}, headers=lead).status_code == 422
    assert client.put(url, json=FOCUS_GROUP, headers=lead).status_code == 409


# Garbage never makes a 500 ---------------------------------------------------------

GARBAGE = [
    None, True, False, 0, -1, HUGE, -HUGE, 1.5, float("1e300"), "", " ", "x" * 20000, "\x00", "\ud800", [], [None], [HUGE], ["x"],
    {}, {"a": {"b": []}}, {"1": "met"}, {"²": "met"}, {"9" * 5000: "met"}, "2026-02-31", "9999-12-31", "0000-01-01",
]


def test_garbage_gives_4xx_never_500(client, api_as, make_audit):
    headers, _ = api_as("qa_lead")
    focus = make_audit("focus_group", status="in_progress")
    meeting = make_audit("strategy_meeting_audit", status="in_progress")
    dip = make_audit("dip_sample", status="in_progress")
    finding = _finding(client, focus.id, headers).json
    case = _case(client, dip.id, headers).json
    targets = [
        ("POST", f"/api/v1/audits/{focus.id}/findings", ["kind", "summary", "theme", "judgement", "evidence"]),
        ("PATCH", f"/api/v1/findings/{finding['id']}", ["version", "kind", "summary", "theme", "judgement", "evidence"]),
        ("POST", f"/api/v1/audits/{dip.id}/cases", ["case_reference", "answers", "notes"]),
        ("POST", f"/api/v1/cases/{case['id']}/answers", ["question_id", "value", "notes"]),
        ("PUT", f"/api/v1/audits/{focus.id}/details", list(FOCUS_GROUP) + ["version"]),
        ("PUT", f"/api/v1/audits/{meeting.id}/details", list(STRATEGY_MEETING) + ["version"]),
    ]
    for method, url, fields in targets:
        for field in fields:
            for value in GARBAGE:
                response = client.open(url, method=method, json={field: value}, headers=headers)
                assert response.status_code < 500, (method, url, field, value, response.status_code)
    for value in GARBAGE:
        answers = {str(q): value for q in _questions(dip)} if isinstance(value, (str, type(None), bool, int)) else value
        response = _case(client, dip.id, headers, case_reference="99999", answers=answers)
        assert response.status_code < 500, value
        response = _details(client, meeting.id, headers, {**STRATEGY_MEETING, "agency_contributions": {"police": value} if not isinstance(value, (list, dict)) else value})
        assert response.status_code < 500, value
    for url in (f"/api/v1/audits/{focus.id}/findings", f"/api/v1/audits/{dip.id}/cases", "/api/v1/themes"):
        for query in ("page=\x00", "page=1e400", "page_size=-1", "page=1.5", "page=%FF", f"page={HUGE}"):
            assert client.get(f"{url}?{query}", headers=headers).status_code == 422, (url, query)
        assert client.get(f"{url}?page_size={HUGE}", headers=headers).json["page_size"] == 200


# OpenAPI --------------------------------------------------------------------------


def test_openapi_describes_every_new_operation_with_its_body(client):
    spec = client.get("/api/v1/openapi.json").json
    paths = spec["paths"]
    expected = {
        ("/api/v1/audits/{audit_id}/findings", "post"): "FindingCreate",
        ("/api/v1/audits/{audit_id}/findings", "get"): None,
        ("/api/v1/findings/{finding_id}", "get"): None,
        ("/api/v1/findings/{finding_id}", "patch"): "FindingUpdate",
        ("/api/v1/findings/{finding_id}", "delete"): None,
        ("/api/v1/themes", "get"): None,
        ("/api/v1/audits/{audit_id}/cases", "post"): "CaseCreate",
        ("/api/v1/audits/{audit_id}/cases", "get"): None,
        ("/api/v1/cases/{case_id}", "get"): None,
        ("/api/v1/cases/{case_id}/answers", "post"): "CaseAnswer",
        ("/api/v1/audits/{audit_id}/compliance", "get"): None,
        ("/api/v1/audits/{audit_id}/details", "put"): "AuditDetailsInput",
        ("/api/v1/audits/{audit_id}/details", "get"): None,
    }
    for (path, method), body in expected.items():
        operation = paths.get(path, {}).get(method)
        assert operation is not None, (path, method)
        if body is None:
            assert "requestBody" not in operation, (path, method)
        else:
            ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            assert ref.endswith(f"/{body}"), (path, method, ref)
    schemas = spec["components"]["schemas"]
    assert set(schemas["FindingCreate"]["required"]) == {"kind", "summary"}
    assert schemas["FindingCreate"]["properties"]["kind"]["enum"] == ["strength", "area_for_improvement", "concern"]
    assert "version" in schemas["FindingUpdate"]["required"]
    assert FINDING_FIELDS <= set(schemas["Finding"]["properties"])
    assert schemas["CaseCreate"]["required"] == ["case_reference"]
    assert set(schemas["Compliance"]["properties"]) == {"overall", "questions"}
    assert {"meeting_date", "participants_count", "agency_contributions"} <= set(schemas["AuditDetailsInput"]["properties"])
    assert "204" in paths["/api/v1/findings/{finding_id}"]["delete"]["responses"]
    assert "201" in paths["/api/v1/audits/{audit_id}/findings"]["post"]["responses"]
