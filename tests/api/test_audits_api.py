"""The API rows for question sets, audits and history (API.md), each status code
and the order of the checks: 401 → 404 → 403 → 422 → 409."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event, func, select

from qa_audit.audits.models import Audit, AuditStatus, QuestionSet
from qa_audit.auth.models import Role
from qa_audit.extensions import db
from qa_audit.history.models import HistoryEntry

AUDIT_FIELDS = {
    "id", "type", "title", "purpose", "service_id", "scheduled_for", "lead_auditor_id", "auditor_ids",
    "agencies", "parent_id", "follow_up_of_id", "question_set_id", "series_id", "status",
    "cancellation_reason", "reopen_reason", "version",
}
HUGE = 10**20
MANAGER_ROLES = ("admin", "qa_lead")
OTHER_ROLES = ("auditor", "head_of_service", "viewer")


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def audit_body(make_service, make_user):
    """audit_body(**overrides) → a valid POST /audits body."""

    def make(**overrides):
        body = {
            "type": "targeted_visit",
            "title": "Targeted visit to the MASH",
            "service_id": make_service().id,
            "scheduled_for": "2026-11-12",
            "lead_auditor_id": make_user("auditor").id,
        }
        body.update(overrides)
        return body

    return make


# Question sets ------------------------------------------------------------------


@pytest.mark.parametrize("role", MANAGER_ROLES)
def test_create_and_read_a_question_set(client, api_as, role):
    headers, _ = api_as(role)
    response = client.post(
        "/api/v1/question-sets",
        json={"title": "Younger children", "questions": ["Were medical investigations undertaken?", "Was the child seen alone?"]},
        headers=headers,
    )
    assert response.status_code == 201
    created = response.json
    assert created["title"] == "Younger children" and isinstance(created["id"], int) and created["version"] == 1
    assert [(q["text"], q["position"]) for q in created["questions"]] == [
        ("Were medical investigations undertaken?", 1),
        ("Was the child seen alone?", 2),
    ]
    assert all(isinstance(q["id"], int) for q in created["questions"])
    viewer, _ = api_as("viewer")
    read = client.get(f"/api/v1/question-sets/{created['id']}", headers=viewer)
    assert read.status_code == 200 and read.json == created


@pytest.mark.parametrize("role", OTHER_ROLES)
def test_only_managers_create_question_sets_and_403_comes_before_422(client, api_as, role):
    headers, _ = api_as(role)
    assert client.post("/api/v1/question-sets", json={"title": "x", "questions": ["y"]}, headers=headers).status_code == 403
    assert client.post("/api/v1/question-sets", json={}, headers=headers).status_code == 403
    assert _count(QuestionSet) == 0


@pytest.mark.parametrize(
    "body, field",
    [
        ({"questions": ["a"]}, "title"),
        ({"title": None, "questions": ["a"]}, "title"),
        ({"title": "", "questions": ["a"]}, "title"),
        ({"title": "   ", "questions": ["a"]}, "title"),
        ({"title": "x" * 201, "questions": ["a"]}, "title"),
        ({"title": "bad\x00title", "questions": ["a"]}, "title"),
        ({"title": "bad\ttitle", "questions": ["a"]}, "title"),
        ({"title": 12, "questions": ["a"]}, "title"),
        ({"title": "ok"}, "questions"),
        ({"title": "ok", "questions": []}, "questions"),
        ({"title": "ok", "questions": ["   ", ""]}, "questions"),
        ({"title": "ok", "questions": "one question"}, "questions"),
        ({"title": "ok", "questions": [None]}, "questions"),
        ({"title": "ok", "questions": [{"text": "a"}]}, "questions"),
        ({"title": "ok", "questions": ["line\nbreak"]}, "questions"),
        ({"title": "ok", "questions": ["q"] * 51}, "questions"),
        ({"title": "ok", "questions": ["q" * 2001]}, "questions"),
        ({"title": "ok", "questions": ["a"], "description": "d" * 2001}, "description"),
    ],
)
def test_question_set_bad_input_is_422_by_field(client, api_as, body, field):
    headers, _ = api_as("qa_lead")
    response = client.post("/api/v1/question-sets", json=body, headers=headers)
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]
    assert all(isinstance(m, str) for m in response.json["errors"][field])
    assert _count(QuestionSet) == 0


def test_missing_question_set_is_404_for_every_role(client, api_as):
    for role in Role:
        headers, _ = api_as(role.value)
        for url in ("/api/v1/question-sets/999", f"/api/v1/question-sets/{HUGE}"):
            assert client.get(url, headers=headers).status_code == 404
        # 404 comes before 403: the record is looked up before the role is checked
        assert client.patch("/api/v1/question-sets/999", json={}, headers=headers).status_code == 404
        assert client.post("/api/v1/question-sets/999/retire", headers=headers).status_code == 404


def test_list_question_sets_paginates_and_filters(client, api_as, make_question_set):
    headers, _ = api_as("viewer")
    sets = [make_question_set(f"Set {n}") for n in range(3)]
    from qa_audit.audits import question_sets as question_set_rules

    question_set_rules.retire_question_set(sets[0])
    response = client.get("/api/v1/question-sets?page_size=2", headers=headers)
    assert response.status_code == 200
    assert response.json["total"] == 3 and len(response.json["items"]) == 2 and response.json["page_size"] == 2
    usable = client.get("/api/v1/question-sets?usable=true", headers=headers).json
    assert {item["id"] for item in usable["items"]} == {sets[1].id, sets[2].id}
    assert client.get("/api/v1/question-sets?usable=maybe", headers=headers).status_code == 422


def test_edit_question_set_in_place_and_as_a_new_version(client, api_as, make_question_set, make_audit):
    headers, _ = api_as("qa_lead")
    qs = make_question_set("Repeated contacts", ["Was the contact from family?"])
    response = client.patch(
        f"/api/v1/question-sets/{qs.id}", json={"version": 1, "questions": ["Was it from family?", "Was it repeated?"]}, headers=headers
    )
    assert response.status_code == 200
    assert response.json["id"] == qs.id and response.json["title"] == "Repeated contacts" and response.json["version"] == 2
    assert [q["text"] for q in response.json["questions"]] == ["Was it from family?", "Was it repeated?"]

    started = make_audit("dip_sample", question_set_id=qs.id, status="in_progress")
    planned = make_audit("dip_sample", question_set_id=qs.id)
    response = client.patch(f"/api/v1/question-sets/{qs.id}", json={"version": 2, "title": "Repeated contacts (v2)"}, headers=headers)
    assert response.status_code == 200
    new = response.json
    assert new["id"] != qs.id and new["version_number"] == 2 and new["lineage_id"] == qs.id
    assert [q["text"] for q in new["questions"]] == ["Was it from family?", "Was it repeated?"]
    old = client.get(f"/api/v1/question-sets/{qs.id}", headers=headers).json
    assert old["superseded"] is True and old["title"] == "Repeated contacts"
    assert db.session.get(Audit, started.id).question_set_id == qs.id
    assert db.session.get(Audit, planned.id).question_set_id == new["id"]
    # the old version can no longer be edited
    response = client.patch(f"/api/v1/question-sets/{qs.id}", json={"version": old["version"], "title": "x"}, headers=headers)
    assert response.status_code == 409 and response.json["message"]


def test_edit_question_set_checks_version_then_input(client, api_as, make_question_set):
    headers, _ = api_as("admin")
    qs = make_question_set("Thresholds", ["Was the threshold applied?"])
    missing = client.patch(f"/api/v1/question-sets/{qs.id}", json={"title": "x"}, headers=headers)
    assert missing.status_code == 422 and "version" in missing.json["errors"]
    stale = client.patch(f"/api/v1/question-sets/{qs.id}", json={"version": 7, "title": "Changed"}, headers=headers)
    assert stale.status_code == 409 and "message" in stale.json
    # bad input is reported before the stale version
    both = client.patch(f"/api/v1/question-sets/{qs.id}", json={"version": 7, "questions": []}, headers=headers)
    assert both.status_code == 422 and "questions" in both.json["errors"]
    db.session.refresh(qs)
    assert qs.title == "Thresholds" and qs.version == 1
    auditor, _ = api_as("auditor")
    assert client.patch(f"/api/v1/question-sets/{qs.id}", json={}, headers=auditor).status_code == 403


def test_retire_question_set(client, api_as, make_question_set, audit_body):
    headers, _ = api_as("qa_lead")
    qs = make_question_set()
    auditor, _ = api_as("auditor")
    assert client.post(f"/api/v1/question-sets/{qs.id}/retire", headers=auditor).status_code == 403
    response = client.post(f"/api/v1/question-sets/{qs.id}/retire", headers=headers)
    assert response.status_code == 200 and response.json["retired"] is True
    body = audit_body(type="dip_sample", question_set_id=qs.id)
    chosen = client.post("/api/v1/audits", json=body, headers=headers)
    assert chosen.status_code == 422 and "question_set_id" in chosen.json["errors"]
    stale_edit = client.patch(f"/api/v1/question-sets/{qs.id}", json={"version": response.json["version"], "title": "x"}, headers=headers)
    assert stale_edit.status_code == 409


# Creating audits ----------------------------------------------------------------


@pytest.mark.parametrize("role", MANAGER_ROLES)
def test_schedule_an_audit(client, api_as, make_user, make_service, make_question_set, make_audit, role):
    headers, _ = api_as(role)
    lead, other = make_user("head_of_service"), make_user("auditor")
    service = make_service("MASH")
    visit = make_audit("targeted_visit")
    earlier = make_audit("dip_sample")
    qs = make_question_set()
    body = {
        "type": "dip_sample",
        "title": "Dip sample: younger children",
        "service_id": service.id,
        "scheduled_for": "2019-02-28",  # past dates are accepted
        "lead_auditor_id": lead.id,
        "auditor_ids": [other.id],
        "agencies": ["police", "health"],
        "purpose": "Were medical investigations undertaken?\nWas the child seen?",
        "parent_id": visit.id,
        "follow_up_of_id": earlier.id,
        "question_set_id": qs.id,
        "unknown_field": "ignored",
    }
    response = client.post("/api/v1/audits", json=body, headers=headers)
    assert response.status_code == 201, response.json
    audit = response.json
    assert AUDIT_FIELDS <= set(audit)
    assert audit["status"] == "planned" and audit["version"] == 1 and isinstance(audit["id"], int)
    for key in ("type", "title", "service_id", "scheduled_for", "lead_auditor_id", "auditor_ids", "purpose", "parent_id", "follow_up_of_id", "question_set_id"):
        assert audit[key] == body[key], key
    assert sorted(audit["agencies"]) == ["health", "police"]
    assert audit["series_id"] is None and audit["cancellation_reason"] is None and audit["reopen_reason"] is None


def test_schedule_with_only_required_fields(client, api_as, audit_body):
    headers, _ = api_as("qa_lead")
    response = client.post("/api/v1/audits", json=audit_body(), headers=headers)
    assert response.status_code == 201
    assert response.json["auditor_ids"] == [] and response.json["agencies"] == [] and response.json["purpose"] is None


@pytest.mark.parametrize("role", OTHER_ROLES)
def test_only_managers_schedule_and_403_comes_before_422(client, api_as, audit_body, role):
    headers, _ = api_as(role)
    assert client.post("/api/v1/audits", json=audit_body(), headers=headers).status_code == 403
    assert client.post("/api/v1/audits", json={"type": "nonsense"}, headers=headers).status_code == 403
    assert _count(Audit) == 0


def test_without_a_token_everything_is_401_first(client):
    assert client.post("/api/v1/audits", json={}).status_code == 401
    assert client.get("/api/v1/audits").status_code == 401
    assert client.get("/api/v1/audits/999").status_code == 401
    assert client.patch("/api/v1/audits/999", json={}).status_code == 401
    assert client.post("/api/v1/audits/999/status", json={}).status_code == 401
    assert client.get("/api/v1/question-sets/999").status_code == 401
    assert client.get("/api/v1/history").status_code == 401


BAD_AUDIT_BODIES = [
    ({"type": "inspection"}, "type"),
    ({"type": None}, "type"),
    ({"type": 3}, "type"),
    ({"title": ""}, "title"),
    ({"title": "x" * 201}, "title"),
    ({"title": "bad\x07title"}, "title"),
    ({"title": "two\nlines"}, "title"),
    ({"title": "\ud800"}, "title"),
    ({"title": None}, "title"),
    ({"title": ["a list"]}, "title"),
    ({"purpose": "p" * 10001}, "purpose"),
    ({"purpose": "nul\x00"}, "purpose"),
    ({"scheduled_for": "2026-02-31"}, "scheduled_for"),
    ({"scheduled_for": "31/01/2026"}, "scheduled_for"),
    ({"scheduled_for": 20260101}, "scheduled_for"),
    ({"scheduled_for": None}, "scheduled_for"),
    ({"scheduled_for": "2026-01-01T10:00:00"}, "scheduled_for"),
    ({"service_id": 999}, "service_id"),
    ({"service_id": "abc"}, "service_id"),
    ({"service_id": "1"}, "service_id"),
    ({"service_id": 1.5}, "service_id"),
    ({"service_id": True}, "service_id"),
    ({"service_id": None}, "service_id"),
    ({"service_id": HUGE}, "service_id"),
    ({"service_id": -1}, "service_id"),
    ({"service_id": 0}, "service_id"),
    ({"lead_auditor_id": 999}, "lead_auditor_id"),
    ({"lead_auditor_id": HUGE}, "lead_auditor_id"),
    ({"lead_auditor_id": "x"}, "lead_auditor_id"),
    ({"auditor_ids": ["x"]}, "auditor_ids"),
    ({"auditor_ids": [HUGE]}, "auditor_ids"),
    ({"auditor_ids": [999]}, "auditor_ids"),
    ({"auditor_ids": 5}, "auditor_ids"),
    ({"agencies": ["fire_brigade"]}, "agencies"),
    ({"agencies": "police"}, "agencies"),
    ({"agencies": [None]}, "agencies"),
    ({"parent_id": 999}, "parent_id"),
    ({"parent_id": HUGE}, "parent_id"),
    ({"follow_up_of_id": 999}, "follow_up_of_id"),
    ({"follow_up_of_id": HUGE}, "follow_up_of_id"),
    ({"question_set_id": 999}, "question_set_id"),
    ({"question_set_id": HUGE}, "question_set_id"),
    ({"question_set_id": "1e400"}, "question_set_id"),
]


@pytest.mark.parametrize("overrides, field", BAD_AUDIT_BODIES)
def test_schedule_bad_input_is_422_by_field_and_saves_nothing(client, api_as, audit_body, overrides, field):
    headers, _ = api_as("qa_lead")
    response = client.post("/api/v1/audits", json=audit_body(**overrides), headers=headers)
    assert response.status_code == 422, response.json
    errors = response.json["errors"]
    assert field in errors and all(isinstance(m, str) for m in errors[field])
    assert _count(Audit) == 0


@pytest.mark.parametrize("field", ["type", "title", "service_id", "scheduled_for", "lead_auditor_id"])
def test_schedule_missing_required_field_is_422(client, api_as, audit_body, field):
    headers, _ = api_as("qa_lead")
    body = audit_body()
    del body[field]
    response = client.post("/api/v1/audits", json=body, headers=headers)
    assert response.status_code == 422 and field in response.json["errors"]


@pytest.mark.parametrize("role, active", [("viewer", True), ("admin", True), ("auditor", False)])
def test_lead_auditor_must_be_active_and_auditing(client, api_as, audit_body, make_user, role, active):
    headers, _ = api_as("qa_lead")
    lead = make_user(role, active=active)
    response = client.post("/api/v1/audits", json=audit_body(lead_auditor_id=lead.id), headers=headers)
    assert response.status_code == 422 and "lead_auditor_id" in response.json["errors"]


def test_question_set_only_for_dip_samples(client, api_as, audit_body, make_question_set):
    headers, _ = api_as("qa_lead")
    response = client.post("/api/v1/audits", json=audit_body(type="focus_group", question_set_id=make_question_set().id), headers=headers)
    assert response.status_code == 422 and "question_set_id" in response.json["errors"]


def test_bodies_that_are_not_json_are_400(client, api_as):
    headers, _ = api_as("qa_lead")
    json_type = {**headers, "Content-Type": "application/json"}
    for body in ("type=dip_sample", "{not json", b"\xff\xfe\x00"):
        assert client.post("/api/v1/audits", data=body, headers=json_type).status_code == 400, body
    # an empty body is no fields at all: each required one is named
    empty = client.post("/api/v1/audits", data="", headers=json_type)
    assert empty.status_code == 422 and {"type", "title", "service_id"} <= set(empty.json["errors"])
    assert client.post("/api/v1/question-sets", data="{", headers=json_type).status_code == 400


@pytest.mark.parametrize("body", ["[]", "null", '"text"', "42", '{"title": 1e400}', '{"service_id": 1e400}', '{"service_id": NaN}'])
def test_json_that_is_not_an_object_or_has_odd_numbers_is_422(client, api_as, body):
    headers, _ = api_as("qa_lead")
    response = client.post("/api/v1/audits", data=body, headers={**headers, "Content-Type": "application/json"})
    assert response.status_code == 422, (body, response.status_code)


# Listing and reading audits -----------------------------------------------------


def test_list_filters_combine_and_order(client, api_as, make_audit, make_service, make_user):
    import datetime as dt

    headers, _ = api_as("viewer")
    mash, early_help = make_service("MASH"), make_service("Early Help")
    helper = make_user("auditor")
    a = make_audit("dip_sample", service=mash, scheduled_for=dt.date(2026, 5, 1), agencies=["police"])
    b = make_audit("focus_group", service=mash, scheduled_for=dt.date(2026, 4, 1), auditor_ids=[helper.id])
    c = make_audit("dip_sample", service=early_help, scheduled_for=dt.date(2026, 6, 30), status="in_progress")
    d = make_audit("targeted_visit", service=mash, scheduled_for=dt.date(2026, 5, 1))

    def ids(query: str) -> list[int]:
        response = client.get(f"/api/v1/audits{query}", headers=headers)
        assert response.status_code == 200, response.json
        return [item["id"] for item in response.json["items"]]

    assert ids("") == [b.id, a.id, d.id, c.id]  # by date, then id
    assert ids("?type=dip_sample") == [a.id, c.id]
    assert ids("?type=dip_sample&type=focus_group") == [b.id, a.id, c.id]
    assert ids("?status=in_progress") == [c.id]
    assert ids(f"?service_id={mash.id}") == [b.id, a.id, d.id]
    assert ids(f"?service_id={mash.id}&type=dip_sample") == [a.id]
    assert ids("?scheduled_from=2026-05-01&scheduled_to=2026-06-30") == [a.id, d.id, c.id]  # inclusive
    assert ids("?scheduled_to=2026-04-01") == [b.id]
    assert ids(f"?auditor_id={helper.id}") == [b.id]
    assert ids(f"?auditor_id={a.lead_auditor_id}") == [a.id]
    assert ids("?agency=police") == [a.id]
    assert ids("?type=&status=&service_id=") == [b.id, a.id, d.id, c.id]  # blank means no filter
    item = client.get("/api/v1/audits?type=focus_group", headers=headers).json["items"][0]
    assert AUDIT_FIELDS <= set(item) and item["auditor_ids"] == [helper.id]


def test_list_paginates(client, api_as, make_audit, make_service, make_user):
    headers, _ = api_as("auditor")
    service, lead = make_service(), make_user("auditor")
    made = [make_audit(service=service, lead=lead) for _ in range(5)]
    page = client.get("/api/v1/audits?page=2&page_size=2", headers=headers).json
    assert page["total"] == 5 and page["page"] == 2 and page["page_size"] == 2
    assert [item["id"] for item in page["items"]] == [made[2].id, made[3].id]
    assert client.get("/api/v1/audits?page_size=500", headers=headers).json["page_size"] == 200
    assert client.get("/api/v1/audits?page=9", headers=headers).json["items"] == []


@pytest.mark.parametrize(
    "query, field",
    [
        ("type=bogus", "type"),
        ("status=started", "status"),
        ("service_id=abc", "service_id"),
        (f"service_id={HUGE}", "service_id"),
        ("auditor_id=-3", "auditor_id"),
        ("agency=fire_brigade", "agency"),
        ("scheduled_from=2026-02-31", "scheduled_from"),
        ("scheduled_to=tomorrow", "scheduled_to"),
        ("scheduled_from=2026-06-01&scheduled_to=2026-05-01", "scheduled_to"),
        ("page=0", "page"),
        ("page=abc", "page"),
        (f"page={HUGE}", "page"),
        ("page_size=0", "page_size"),
    ],
)
def test_list_bad_filters_are_422_by_field(client, api_as, query, field):
    headers, _ = api_as("viewer")
    response = client.get(f"/api/v1/audits?{query}", headers=headers)
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]


@contextmanager
def count_queries():
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def test_list_does_not_query_per_row(client, api_as, make_audit, make_service, make_user):
    headers, _ = api_as("viewer")
    service = make_service()
    helpers = [make_user("auditor") for _ in range(2)]

    def queries_for_list() -> int:
        with count_queries() as statements:
            response = client.get("/api/v1/audits?page_size=200", headers=headers)
        assert response.status_code == 200
        return len(statements)

    for _ in range(2):
        make_audit(service=service, auditor_ids=[h.id for h in helpers], agencies=["police"])
    queries_for_list()  # the first request may open a connection
    few = queries_for_list()
    for _ in range(10):
        make_audit(service=service, auditor_ids=[h.id for h in helpers], agencies=["health", "police"])
    assert queries_for_list() == few


def test_get_audit(client, api_as, make_audit):
    audit = make_audit("focus_group", agencies=["education"])
    headers, _ = api_as("viewer")
    response = client.get(f"/api/v1/audits/{audit.id}", headers=headers)
    assert response.status_code == 200
    body = response.json
    assert body["id"] == audit.id and body["type"] == "focus_group" and body["agencies"] == ["education"]
    assert body["scheduled_for"] == "2026-12-01" and body["status"] == "planned" and body["version"] == 1
    assert client.get("/api/v1/audits/999", headers=headers).status_code == 404
    assert client.get(f"/api/v1/audits/{HUGE}", headers=headers).status_code == 404
    assert client.get("/api/v1/audits/abc", headers=headers).status_code == 404


# Editing audits -----------------------------------------------------------------


def test_patch_changes_only_the_fields_sent(client, api_as, make_audit, make_user):
    headers, _ = api_as("qa_lead")
    audit = make_audit("targeted_visit", purpose="Assurance")
    helper = make_user("auditor")
    response = client.patch(
        f"/api/v1/audits/{audit.id}",
        json={"version": 1, "title": "Targeted visit: MASH decision-making", "auditor_ids": [helper.id], "agencies": ["police"], "scheduled_for": "2026-10-05"},
        headers=headers,
    )
    assert response.status_code == 200, response.json
    body = response.json
    assert body["title"] == "Targeted visit: MASH decision-making" and body["auditor_ids"] == [helper.id]
    assert body["agencies"] == ["police"] and body["scheduled_for"] == "2026-10-05"
    assert body["purpose"] == "Assurance" and body["service_id"] == audit.service_id and body["version"] == 2
    cleared = client.patch(f"/api/v1/audits/{audit.id}", json={"version": 2, "purpose": None}, headers=headers)
    assert cleared.status_code == 200 and cleared.json["purpose"] is None and cleared.json["version"] == 3


def test_patch_needs_a_version(client, api_as, make_audit):
    headers, _ = api_as("admin")
    audit = make_audit()
    for body in ({"title": "New"}, {"version": None, "title": "New"}, {"version": "1", "title": "New"}):
        response = client.patch(f"/api/v1/audits/{audit.id}", json=body, headers=headers)
        assert response.status_code == 422 and "version" in response.json["errors"]
    db.session.refresh(audit)
    assert audit.title != "New" and audit.version == 1


def test_stale_patch_is_409_and_writes_nothing(client, api_as, make_audit):
    headers, _ = api_as("qa_lead")
    audit = make_audit(title="Original")
    assert client.patch(f"/api/v1/audits/{audit.id}", json={"version": 1, "title": "First"}, headers=headers).status_code == 200
    history_before = _count(HistoryEntry)
    response = client.patch(f"/api/v1/audits/{audit.id}", json={"version": 1, "title": "Second"}, headers=headers)
    assert response.status_code == 409 and response.json["message"]
    db.session.refresh(audit)
    assert audit.title == "First" and audit.version == 2
    assert _count(HistoryEntry) == history_before


@pytest.mark.parametrize("status", ["completed", "cancelled"])
def test_finished_audit_cannot_be_patched(client, api_as, make_audit, status):
    headers, _ = api_as("qa_lead")
    audit = make_audit(status=status, title="Locked")
    response = client.patch(f"/api/v1/audits/{audit.id}", json={"version": audit.version, "title": "Changed"}, headers=headers)
    assert response.status_code == 409 and status in response.json["message"]
    db.session.refresh(audit)
    assert audit.title == "Locked"


def test_patch_check_order(client, api_as, make_audit, make_user):
    audit = make_audit()
    qa_lead, _ = api_as("qa_lead")
    for role in OTHER_ROLES:
        headers, _ = api_as(role)
        # 404 before 403: a missing audit is a 404 even for a role that may never edit
        assert client.patch("/api/v1/audits/999", json={}, headers=headers).status_code == 404
        assert client.patch(f"/api/v1/audits/{HUGE}", json={}, headers=headers).status_code == 404
        # 403 before 422
        assert client.patch(f"/api/v1/audits/{audit.id}", json={"title": "x" * 300}, headers=headers).status_code == 403
    # the audit's own lead auditor still may not edit it
    lead_headers = _token_for(audit.lead_auditor)
    assert client.patch(f"/api/v1/audits/{audit.id}", json={"version": 1, "title": "Mine"}, headers=lead_headers).status_code == 403
    # 422 before 409: a stale version with bad input is reported as bad input
    response = client.patch(f"/api/v1/audits/{audit.id}", json={"version": 99, "title": "x" * 201}, headers=qa_lead)
    assert response.status_code == 422 and "title" in response.json["errors"]
    viewer = make_user("viewer")
    response = client.patch(f"/api/v1/audits/{audit.id}", json={"version": 99, "lead_auditor_id": viewer.id}, headers=qa_lead)
    assert response.status_code == 422 and "lead_auditor_id" in response.json["errors"]
    response = client.patch(f"/api/v1/audits/{audit.id}", json={"version": 99, "service_id": 999}, headers=qa_lead)
    assert response.status_code == 422 and "service_id" in response.json["errors"]
    # and then the stale version
    assert client.patch(f"/api/v1/audits/{audit.id}", json={"version": 99}, headers=qa_lead).status_code == 409


@pytest.mark.parametrize("overrides, field", BAD_AUDIT_BODIES)
def test_patch_bad_input_is_422_by_field(client, api_as, make_audit, overrides, field):
    headers, _ = api_as("qa_lead")
    audit = make_audit("targeted_visit")
    response = client.patch(f"/api/v1/audits/{audit.id}", json={"version": 1, **overrides}, headers=headers)
    assert response.status_code == 422, (overrides, response.json)
    assert field in response.json["errors"]
    db.session.refresh(audit)
    assert audit.version == 1


def test_started_audit_keeps_its_type_and_question_set(client, api_as, make_audit, make_question_set):
    headers, _ = api_as("qa_lead")
    audit = make_audit("dip_sample", status="in_progress")
    other = make_question_set()
    response = client.patch(f"/api/v1/audits/{audit.id}", json={"version": audit.version, "question_set_id": other.id}, headers=headers)
    assert response.status_code == 409
    response = client.patch(f"/api/v1/audits/{audit.id}", json={"version": audit.version, "type": "focus_group", "question_set_id": None}, headers=headers)
    assert response.status_code == 409


# Status changes -----------------------------------------------------------------


def _token_for(user) -> dict:
    from qa_audit.auth import services

    token, _ = services.create_token(user, "tests")
    return {"Authorization": f"Bearer {token}"}


def _status(client, audit_id, headers, **body):
    return client.post(f"/api/v1/audits/{audit_id}/status", json=body, headers=headers)


def test_auditors_of_the_audit_start_and_complete_it(client, make_audit, make_user):
    helper = make_user("auditor")
    audit = make_audit("focus_group", auditor_ids=[helper.id])
    lead = _token_for(audit.lead_auditor)
    response = _status(client, audit.id, lead, status="in_progress")
    assert response.status_code == 200 and response.json["status"] == "in_progress" and response.json["version"] == 2
    response = _status(client, audit.id, _token_for(helper), status="completed")
    assert response.status_code == 200 and response.json["status"] == "completed"


def test_auditors_may_not_cancel_or_reopen(client, make_audit):
    audit = make_audit()
    lead = _token_for(audit.lead_auditor)
    assert _status(client, audit.id, lead, status="cancelled", reason="Team restructured").status_code == 403
    # Completing is theirs to ask for, but not before the audit has started: a conflict.
    assert _status(client, audit.id, lead, status="completed").status_code == 409
    done = make_audit(status="completed")
    assert _status(client, done.id, _token_for(done.lead_auditor), status="in_progress", reason="Missed a finding").status_code == 403
    db.session.refresh(audit)
    assert audit.status is AuditStatus.PLANNED


@pytest.mark.parametrize("role", ["auditor", "head_of_service", "viewer"])
def test_others_may_not_change_status_and_404_403_422_come_in_order(client, api_as, make_audit, role):
    headers, _ = api_as(role)
    audit = make_audit()
    assert _status(client, 999, headers, status="in_progress").status_code == 404
    assert _status(client, HUGE, headers, status="in_progress").status_code == 404
    assert _status(client, audit.id, headers, status="in_progress").status_code == 403
    assert _status(client, audit.id, headers, status="bogus").status_code == 403
    assert client.post(f"/api/v1/audits/{audit.id}/status", data="{", headers={**headers, "Content-Type": "application/json"}).status_code == 403


@pytest.mark.parametrize("role", MANAGER_ROLES)
def test_managers_make_any_legal_change(client, api_as, make_audit, role):
    headers, _ = api_as(role)
    audit = make_audit()
    assert _status(client, audit.id, headers, status="completed").status_code == 409  # planned → completed is illegal
    assert _status(client, audit.id, headers, status="planned").status_code == 409
    assert _status(client, audit.id, headers, status="in_progress").status_code == 200
    assert _status(client, audit.id, headers, status="completed").status_code == 200
    missing = _status(client, audit.id, headers, status="in_progress")
    assert missing.status_code == 422 and "reason" in missing.json["errors"]
    blank = _status(client, audit.id, headers, status="in_progress", reason="   ")
    assert blank.status_code == 422 and "reason" in blank.json["errors"]
    reopened = _status(client, audit.id, headers, status="in_progress", reason="A finding was missed")
    assert reopened.status_code == 200
    assert reopened.json["status"] == "in_progress" and reopened.json["reopen_reason"] == "A finding was missed"
    no_reason = _status(client, audit.id, headers, status="cancelled")
    assert no_reason.status_code == 422 and "reason" in no_reason.json["errors"]
    cancelled = _status(client, audit.id, headers, status="cancelled", reason="Team restructured")
    assert cancelled.status_code == 200
    assert cancelled.json["status"] == "cancelled" and cancelled.json["cancellation_reason"] == "Team restructured"
    final = _status(client, audit.id, headers, status="in_progress", reason="Try again")
    assert final.status_code == 409 and final.json["message"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "status"),
        ({"status": None}, "status"),
        ({"status": "started"}, "status"),
        ({"status": 1}, "status"),
        ({"status": "cancelled", "reason": "r" * 10001}, "reason"),
        ({"status": "cancelled", "reason": "bad\x00reason"}, "reason"),
        ({"status": "cancelled", "reason": 5}, "reason"),
        ({"status": "in_progress", "version": "one"}, "version"),
        ({"status": "in_progress", "version": HUGE * 1.0}, "version"),
    ],
)
def test_status_bad_input_is_422(client, make_audit, body, field):
    audit = make_audit()
    response = client.post(f"/api/v1/audits/{audit.id}/status", json=body, headers=_token_for(audit.lead_auditor))
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]


def test_status_with_a_stale_version_is_409(client, api_as, make_audit):
    headers, _ = api_as("qa_lead")
    audit = make_audit()
    assert _status(client, audit.id, headers, status="in_progress", version=5).status_code == 409
    assert _status(client, audit.id, headers, status="in_progress", version=1).status_code == 200


def test_dip_sample_without_a_question_set_cannot_start(client, make_audit):
    audit = make_audit("dip_sample", question_set_id=None)
    assert _status(client, audit.id, _token_for(audit.lead_auditor), status="in_progress").status_code == 409


# Every route that loads a record from its path ----------------------------------


def test_routes_that_load_a_record_answer_404_before_403(app, client, api_as, make_audit):
    """The walker in tests/test_permissions.py probes id 1 of an empty database, so
    routes that look their record up first are checked here: a missing record is a
    404 for every role, and an existing one is a 403 for the roles not allowed."""
    audit = make_audit("dip_sample")
    records = {Audit: audit.id, QuestionSet: audit.question_set_id}
    tokens = {role: api_as(role.value)[0] for role in Role}
    checked = 0
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        model = getattr(view, "loads_record", None)
        if model is None:
            continue
        (argument,) = rule.arguments
        for method in sorted(rule.methods & {"GET", "POST", "PATCH", "PUT", "DELETE"}):
            allowed = getattr(view, "roles_after_load", tuple(Role))
            for role, headers in tokens.items():
                missing = client.open(rule.rule.replace(f"<int:{argument}>", "999999"), method=method, headers=headers, json={})
                assert missing.status_code == 404, f"{role.value} got {missing.status_code} from {method} {rule.rule}"
                if role not in allowed:
                    url = rule.rule.replace(f"<int:{argument}>", str(records[model]))
                    response = client.open(url, method=method, headers=headers, json={})
                    assert response.status_code == 403, f"{role.value} got {response.status_code} from {method} {url}"
                checked += 1
    assert checked >= 5 * 6


# Garbage never makes a 500 -------------------------------------------------------

GARBAGE = [
    None, True, 0, -1, HUGE, 1.5, "", " ", "x" * 5000, "\x00", "\ud800", [], [None], [HUGE], ["x"], {}, {"a": {"b": []}},
    "2026-02-31", "9999-12-31", "0000-01-01",
]


def test_garbage_gives_4xx_never_500(client, api_as, make_audit, make_question_set):
    headers, _ = api_as("qa_lead")
    audit = make_audit()
    qs = make_question_set()
    targets = [
        ("POST", "/api/v1/audits", ["type", "title", "service_id", "scheduled_for", "lead_auditor_id", "auditor_ids", "agencies", "purpose", "parent_id", "follow_up_of_id", "question_set_id"]),
        ("PATCH", f"/api/v1/audits/{audit.id}", ["version", "title", "scheduled_for", "lead_auditor_id", "auditor_ids", "agencies", "parent_id"]),
        ("POST", f"/api/v1/audits/{audit.id}/status", ["status", "reason", "version"]),
        ("POST", "/api/v1/question-sets", ["title", "questions", "description"]),
        ("PATCH", f"/api/v1/question-sets/{qs.id}", ["version", "title", "questions"]),
    ]
    for method, url, fields in targets:
        for field in fields:
            for value in GARBAGE:
                response = client.open(url, method=method, json={field: value}, headers=headers)
                assert response.status_code < 500, (method, url, field, value, response.status_code)
    for query in ("type=\x00", "service_id=1e400", "scheduled_from=9999-99-99", "page_size=-1", "page=1.5", "agency=%FF"):
        response = client.get(f"/api/v1/audits?{query}", headers=headers)
        assert response.status_code == 422, query


# History ------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "qa_lead", "head_of_service"])
def test_history_of_an_audit(client, api_as, make_audit, role):
    qa_lead, qa_lead_user = api_as("qa_lead")
    audit = make_audit(title="Before")
    client.patch(f"/api/v1/audits/{audit.id}", json={"version": 1, "title": "After"}, headers=qa_lead)
    headers, _ = api_as(role)
    response = client.get(f"/api/v1/history?entity=audit&entity_id={audit.id}", headers=headers)
    assert response.status_code == 200
    body = response.json
    assert body["total"] == 2 and body["page"] == 1 and body["page_size"] == 50
    create, update = body["items"]
    assert {"at", "user_id", "entity", "entity_id", "event", "changes"} <= set(create)
    assert create["event"] == "create" and create["entity"] == "audit" and create["entity_id"] == audit.id
    assert update["event"] == "update" and update["changes"]["title"] == ["Before", "After"]
    assert update["user_id"] == qa_lead_user.id


@pytest.mark.parametrize("role", ["auditor", "viewer"])
def test_history_is_for_readers_only(client, api_as, role):
    headers, _ = api_as(role)
    assert client.get("/api/v1/history", headers=headers).status_code == 403
    assert client.get("/api/v1/history?entity=nonsense", headers=headers).status_code == 403


def test_history_filters_paginate_and_bad_values(client, api_as, make_question_set):
    headers, _ = api_as("admin")
    sets = [make_question_set() for _ in range(3)]
    everything = client.get("/api/v1/history?entity=question_set&page_size=2", headers=headers).json
    assert everything["total"] == 3 and len(everything["items"]) == 2
    assert [i["entity_id"] for i in everything["items"]] == [sets[0].id, sets[1].id]  # oldest first
    assert client.get("/api/v1/history?page_size=1000", headers=headers).json["page_size"] == 200
    for query, field in (("entity=wizard", "entity"), ("entity_id=abc", "entity_id"), (f"entity_id={HUGE}", "entity_id"), ("page=0", "page")):
        response = client.get(f"/api/v1/history?{query}", headers=headers)
        assert response.status_code == 422 and field in response.json["errors"], query


# OpenAPI --------------------------------------------------------------------------


def test_openapi_describes_every_new_operation_with_its_body(client):
    spec = client.get("/api/v1/openapi.json").json
    paths = spec["paths"]
    expected = {
        ("/api/v1/question-sets", "post"): True,
        ("/api/v1/question-sets", "get"): False,
        ("/api/v1/question-sets/{question_set_id}", "get"): False,
        ("/api/v1/question-sets/{question_set_id}", "patch"): True,
        ("/api/v1/question-sets/{question_set_id}/retire", "post"): False,
        ("/api/v1/audits", "post"): True,
        ("/api/v1/audits", "get"): False,
        ("/api/v1/audits/{audit_id}", "get"): False,
        ("/api/v1/audits/{audit_id}", "patch"): True,
        ("/api/v1/audits/{audit_id}/status", "post"): True,
        ("/api/v1/history", "get"): False,
    }
    for (path, method), has_body in expected.items():
        assert method in paths.get(path, {}), (path, method)
        assert ("requestBody" in paths[path][method]) is has_body, (path, method)
    schemas = spec["components"]["schemas"]
    assert "type" in schemas["AuditCreate"]["properties"] and set(schemas["AuditCreate"]["required"]) >= {"type", "title", "service_id", "scheduled_for", "lead_auditor_id"}
    assert schemas["AuditCreate"]["properties"]["type"]["enum"] == ["targeted_visit", "dip_sample", "focus_group", "strategy_meeting_audit"]
    assert "version" in schemas["AuditUpdate"]["required"]
    names = [p["name"] for p in paths["/api/v1/audits"]["get"]["parameters"]]
    assert {"type", "status", "service_id", "scheduled_from", "scheduled_to", "page", "page_size"} <= set(names)
