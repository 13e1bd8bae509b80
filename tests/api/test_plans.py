"""The API rows for improvement plans (API.md): create, list, read, priorities and the
tracker's summary, whose figures are checked against a hand calculation with today pinned."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from qa_audit.auth import services as auth_services
from qa_audit.extensions import db
from qa_audit.plans.models import ImprovementPlan, PlanPriority

TODAY = date(2026, 11, 24)
HUGE = 10**20
PLAN_FIELDS = {"id", "title", "owner_id", "board", "starts_on", "ends_on", "version"}
SUMMARY_FIELDS = {
    "plan_id", "total", "not_started", "in_progress", "completed", "verified", "cancelled",
    "overdue", "due_soon", "percent_complete", "brag", "next_deadline", "priorities",
}


@pytest.fixture(autouse=True)
def today(pin_today):
    return pin_today(TODAY)


def token_for(user) -> dict:
    token, _ = auth_services.create_token(user, "tests")
    return {"Authorization": f"Bearer {token}"}


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# Creating and reading plans --------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "qa_lead", "head_of_service"])
def test_create_and_read_a_plan(client, api_as, make_user, role):
    headers, _ = api_as(role)
    owner = make_user("head_of_service")
    body = {"title": "Children's services improvement plan 2026/27", "owner_id": owner.id, "board": "Practice and Development Board", "starts_on": "2026-04-01", "ends_on": "2027-03-31"}
    response = client.post("/api/v1/plans", json=body, headers=headers)
    assert response.status_code == 201, response.json
    created = response.json
    assert created == {"id": created["id"], **body, "version": 1}
    viewer, _ = api_as("viewer")
    read = client.get(f"/api/v1/plans/{created['id']}", headers=viewer)
    assert read.status_code == 200 and read.json == created
    listing = client.get("/api/v1/plans", headers=viewer).json
    assert listing == {"items": [created], "total": 1, "page": 1, "page_size": 50}


def test_board_is_optional_and_past_periods_are_accepted(client, api_as, make_user):
    headers, _ = api_as("qa_lead")
    owner = make_user("viewer")  # any active user may own a plan
    response = client.post("/api/v1/plans", json={"title": "Local area improvement plan", "owner_id": owner.id, "starts_on": "2019-06-01", "ends_on": "2019-06-01"}, headers=headers)
    assert response.status_code == 201
    assert response.json["board"] is None and response.json["starts_on"] == response.json["ends_on"] == "2019-06-01"
    response = client.post("/api/v1/plans", json={"title": "Blank board", "owner_id": owner.id, "board": "  ", "starts_on": "2026-01-01", "ends_on": "2026-12-31"}, headers=headers)
    assert response.status_code == 201 and response.json["board"] is None


@pytest.mark.parametrize("role", ["auditor", "viewer"])
def test_only_action_managers_create_plans_and_403_comes_before_422(client, api_as, make_user, role):
    headers, _ = api_as(role)
    good = {"title": "Plan", "owner_id": make_user().id, "starts_on": "2026-04-01", "ends_on": "2027-03-31"}
    assert client.post("/api/v1/plans", json=good, headers=headers).status_code == 403
    assert client.post("/api/v1/plans", json={"starts_on": "31/13/2026"}, headers=headers).status_code == 403
    assert _count(ImprovementPlan) == 0


def test_no_token_is_401(client):
    assert client.post("/api/v1/plans", json={}).status_code == 401
    assert client.get("/api/v1/plans/999/summary").status_code == 401
    assert client.post("/api/v1/plans/999/priorities", json={}).status_code == 401


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "Tab\tin title"}, "title"),
        ({"owner_id": None}, "owner_id"),
        ({"owner_id": "2"}, "owner_id"),
        ({"owner_id": 999999}, "owner_id"),
        ({"owner_id": HUGE}, "owner_id"),
        ({"board": "x" * 201}, "board"),
        ({"board": "Bad\x00board"}, "board"),
        ({"starts_on": "2026-13-31"}, "starts_on"),
        ({"starts_on": "01/04/2026"}, "starts_on"),
        ({"ends_on": "31/13/2026"}, "ends_on"),
        ({"ends_on": "2026-03-31"}, "ends_on"),  # before it starts
        ({"ends_on": "2200-01-01"}, "ends_on"),
        ({"starts_on": None}, "starts_on"),
    ],
)
def test_create_plan_bad_input_is_422_by_field(client, api_as, make_user, change, field):
    headers, _ = api_as("qa_lead")
    body = {"title": "Plan", "owner_id": make_user().id, "starts_on": "2026-04-01", "ends_on": "2027-03-31", **change}
    response = client.post("/api/v1/plans", json=body, headers=headers)
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]
    assert _count(ImprovementPlan) == 0


def test_create_plan_names_every_missing_field_and_refuses_an_inactive_owner(client, api_as, make_user):
    headers, _ = api_as("admin")
    response = client.post("/api/v1/plans", json={}, headers=headers)
    assert response.status_code == 422 and {"title", "owner_id", "starts_on", "ends_on"} <= set(response.json["errors"])
    gone = make_user("head_of_service", active=False)
    response = client.post("/api/v1/plans", json={"title": "Plan", "owner_id": gone.id, "starts_on": "2026-04-01", "ends_on": "2027-03-31"}, headers=headers)
    assert response.status_code == 422 and response.json["errors"] == {"owner_id": ["Select an active user as the plan's owner"]}


def test_list_plans_latest_first_filtered_by_owner_and_paginated(client, api_as, make_user, make_plan):
    headers, _ = api_as("auditor")
    owner = make_user("head_of_service")
    old = make_plan(owner=owner, starts_on=date(2025, 4, 1), ends_on=date(2026, 3, 31))
    new = make_plan(owner=owner)
    other = make_plan(starts_on=date(2024, 4, 1), ends_on=date(2025, 3, 31))
    ids = [p["id"] for p in client.get("/api/v1/plans", headers=headers).json["items"]]
    assert ids == [new.id, old.id, other.id]
    mine = client.get(f"/api/v1/plans?owner_id={owner.id}", headers=headers).json
    assert [p["id"] for p in mine["items"]] == [new.id, old.id] and mine["total"] == 2
    assert set(mine["items"][0]) == PLAN_FIELDS
    page = client.get("/api/v1/plans?page=2&page_size=2", headers=headers).json
    assert [p["id"] for p in page["items"]] == [other.id] and page["total"] == 3
    assert client.get("/api/v1/plans?page_size=999", headers=headers).json["page_size"] == 200
    assert client.get("/api/v1/plans?owner_id=", headers=headers).json["total"] == 3
    for query in ("owner_id=abc", f"owner_id={HUGE}", "page=0"):
        response = client.get(f"/api/v1/plans?{query}", headers=headers)
        assert response.status_code == 422 and query.split("=")[0] in response.json["errors"], query


@pytest.mark.parametrize("path", ["", "/summary"])
@pytest.mark.parametrize("ident", ["999999", str(HUGE), "0"])
def test_a_missing_plan_is_404(client, api_as, path, ident):
    headers, _ = api_as("viewer")
    assert client.get(f"/api/v1/plans/{ident}{path}", headers=headers).status_code == 404


# Priorities --------------------------------------------------------------------------------

WHO_ADDS_PRIORITIES = {"admin": 201, "qa_lead": 201, "plan_owner": 201, "head_of_service": 403, "auditor": 403, "viewer": 403}


@pytest.mark.parametrize(("who", "expected"), WHO_ADDS_PRIORITIES.items())
def test_who_may_add_a_priority(client, api_as, make_user, make_plan, who, expected):
    owner = make_user("viewer")
    plan = make_plan(owner=owner, priorities=["Front door"])
    headers = token_for(owner) if who == "plan_owner" else api_as(who)[0]
    response = client.post(f"/api/v1/plans/{plan.id}/priorities", json={"title": "Workforce"}, headers=headers)
    assert response.status_code == expected, response.json
    if expected == 201:
        created = response.json
        assert created == {"id": created["id"], "plan_id": plan.id, "title": "Workforce", "version": 1}
        assert db.session.get(PlanPriority, created["id"]).position == 2  # after Front door
    else:
        assert _count(PlanPriority) == 1
    # 403 before 422: a bad body from someone who may not is still a 403
    bad = client.post(f"/api/v1/plans/{plan.id}/priorities", json={"title": ""}, headers=headers)
    assert bad.status_code == (422 if expected == 201 else 403)


def test_priorities_check_order_and_bad_input(client, api_as, make_plan):
    plan = make_plan(priorities=[])
    viewer, _ = api_as("viewer")
    lead, _ = api_as("qa_lead")
    assert client.post("/api/v1/plans/999999/priorities", json={"title": ""}, headers=viewer).status_code == 404
    assert client.post(f"/api/v1/plans/{HUGE}/priorities", json={}, headers=lead).status_code == 404
    for body in ({}, {"title": ""}, {"title": "  "}, {"title": "x" * 201}, {"title": "New\nline"}, {"title": 7}):
        response = client.post(f"/api/v1/plans/{plan.id}/priorities", json=body, headers=lead)
        assert response.status_code == 422 and "title" in response.json["errors"], body
    response = client.post(f"/api/v1/plans/{plan.id}/priorities", data="title=x", headers={**lead, "Content-Type": "application/json"})
    assert response.status_code == 400
    assert _count(PlanPriority) == 0
    created = client.post(f"/api/v1/plans/{plan.id}/priorities", json={"title": "  Multi-agency working  "}, headers=lead).json
    assert created["title"] == "Multi-agency working"


# The summary ----------------------------------------------------------------------------------


def test_summary_matches_a_hand_calculation(client, api_as, make_plan, make_action):
    """Today is Tuesday 24 November 2026; due soon runs to 8 December inclusive."""
    plan = make_plan(priorities=["Front door", "Workforce", "Multi-agency working", "Voice of the child"])
    front, workforce, multi_agency, voice = plan.priorities
    # Front door: one of each kind.
    make_action(priority=front, status="not_started", due_date=date(2026, 11, 23))  # overdue (yesterday): red
    make_action(priority=front, status="in_progress", due_date=date(2026, 11, 24))  # due today: amber, not overdue
    make_action(priority=front, status="not_started", due_date=date(2026, 12, 8))  # today + 14: amber
    make_action(priority=front, status="in_progress", due_date=date(2026, 12, 9))  # today + 15: green
    make_action(priority=front, status="completed", due_date=date(2026, 1, 1))  # done, never overdue
    make_action(priority=front, status="verified", due_date=date(2026, 1, 1))
    make_action(priority=front, status="cancelled", due_date=date(2026, 1, 1))  # counted in total only
    # Workforce: 1 done of 3 counted (one more cancelled): 33.3%, worst open colour amber.
    make_action(priority=workforce, status="verified")
    make_action(priority=workforce, status="in_progress", due_date=date(2026, 12, 1))
    make_action(priority=workforce, status="not_started", due_date=date(2027, 6, 30))
    make_action(priority=workforce, status="cancelled", due_date=date(2020, 1, 1))
    # Multi-agency working: every action cancelled: no colour, no percentage.
    make_action(priority=multi_agency, status="cancelled")
    # Voice of the child: no actions at all.
    make_action(status="not_started", due_date=date(2026, 1, 1))  # another plan's: not counted
    headers, _ = api_as("viewer")
    response = client.get(f"/api/v1/plans/{plan.id}/summary", headers=headers)
    assert response.status_code == 200
    # By hand. Front door: not started 2, in progress 2, completed 1, verified 1, cancelled 1;
    # workforce: 1, 1, 0, 1, 1; multi-agency working: cancelled 1. Total 12 = 3 + 3 + 1 + 2 + 3.
    # Percent complete: (1 + 2) ÷ (12 − 3) = 33.333… → 33.3. Overdue 1; due soon: 24 Nov, 8 Dec, 1 Dec = 3.
    assert response.json == {
        "plan_id": plan.id,
        "total": 12,
        "not_started": 3,
        "in_progress": 3,
        "completed": 1,
        "verified": 2,
        "cancelled": 3,
        "overdue": 1,
        "due_soon": 3,
        "percent_complete": 33.3,
        "brag": "red",
        "next_deadline": "2026-11-23",  # the earliest open action's, overdue ones included
        "priorities": [
            {"id": front.id, "title": "Front door", "total": 7, "overdue": 1, "percent_complete": 33.3, "brag": "red"},  # 2 ÷ 6
            {"id": workforce.id, "title": "Workforce", "total": 4, "overdue": 0, "percent_complete": 33.3, "brag": "amber"},  # 1 ÷ 3
            {"id": multi_agency.id, "title": "Multi-agency working", "total": 1, "overdue": 0, "percent_complete": None, "brag": None},
            {"id": voice.id, "title": "Voice of the child", "total": 0, "overdue": 0, "percent_complete": None, "brag": None},
        ],
    }


def test_summary_rounds_half_up_and_is_blue_when_all_is_done(client, api_as, make_plan, make_action):
    plan = make_plan(priorities=["Workforce", "Front door"])
    workforce, front = plan.priorities
    # 1 done of 16: 6.25% → 6.3 (half up, not to even).
    make_action(priority=workforce, status="completed")
    for _ in range(15):
        make_action(priority=workforce, status="in_progress", due_date=date(2027, 2, 1))
    # 2 of 3 done: 66.666… → 66.7; the open one is green.
    make_action(priority=front, status="verified")
    make_action(priority=front, status="completed")
    make_action(priority=front, status="not_started", due_date=date(2027, 1, 15))
    headers, _ = api_as("auditor")
    body = client.get(f"/api/v1/plans/{plan.id}/summary", headers=headers).json
    assert [(p["percent_complete"], p["brag"]) for p in body["priorities"]] == [(6.3, "green"), (66.7, "green")]
    assert body["percent_complete"] == 15.8  # 3 ÷ 19 = 15.78… → 15.8
    assert body["next_deadline"] == "2027-01-15" and body["brag"] == "green"

    done = make_plan(priorities=["Only"])
    make_action(priority=done.priorities[0], status="verified")
    make_action(priority=done.priorities[0], status="completed")
    make_action(priority=done.priorities[0], status="cancelled")
    body = client.get(f"/api/v1/plans/{done.id}/summary", headers=headers).json
    assert body["brag"] == "blue" and body["percent_complete"] == 100.0 and body["next_deadline"] is None
    assert body["priorities"][0]["brag"] == "blue"


def test_summary_of_an_empty_plan(client, api_as, make_plan):
    plan = make_plan(priorities=[])
    headers, _ = api_as("viewer")
    body = client.get(f"/api/v1/plans/{plan.id}/summary", headers=headers).json
    assert body == {
        "plan_id": plan.id, "total": 0, "not_started": 0, "in_progress": 0, "completed": 0, "verified": 0,
        "cancelled": 0, "overdue": 0, "due_soon": 0, "percent_complete": None, "brag": None,
        "next_deadline": None, "priorities": [],
    }


def test_summary_follows_the_api(client, api_as, make_user, make_plan):
    """Figures move as actions are raised, progressed, signed off and cancelled through the API."""
    plan = make_plan(priorities=["Front door"])
    lead, _ = api_as("qa_lead")
    head, _ = api_as("head_of_service")
    owner = make_user("auditor")
    owner_headers = token_for(owner)
    url = f"/api/v1/plans/{plan.id}/summary"
    ids = []
    for due in ("2026-11-20", "2026-12-02", "2027-03-01"):
        response = client.post("/api/v1/actions", json={"title": f"Due {due}", "owner_id": owner.id, "due_date": due, "plan_priority_id": plan.priorities[0].id}, headers=lead)
        ids.append(response.json["id"])
    body = client.get(url, headers=lead).json
    assert (body["total"], body["not_started"], body["overdue"], body["due_soon"], body["percent_complete"], body["brag"]) == (3, 3, 1, 1, 0.0, "red")
    client.post(f"/api/v1/actions/{ids[0]}/updates", json={"note": "Done", "status": "completed", "evidence": "Minutes"}, headers=owner_headers)
    client.post(f"/api/v1/actions/{ids[0]}/verify", json={}, headers=head)
    client.post(f"/api/v1/actions/{ids[1]}/cancel", json={"reason": "No longer needed"}, headers=head)
    body = client.get(url, headers=lead).json
    assert (body["total"], body["verified"], body["cancelled"], body["not_started"]) == (3, 1, 1, 1)
    assert (body["overdue"], body["due_soon"], body["percent_complete"], body["brag"], body["next_deadline"]) == (0, 0, 50.0, "green", "2027-03-01")


@pytest.mark.parametrize("role", ["admin", "qa_lead", "head_of_service", "auditor", "viewer"])
def test_every_role_reads_plans_and_summaries(client, api_as, make_plan, role):
    plan = make_plan()
    headers, _ = api_as(role)
    assert client.get("/api/v1/plans", headers=headers).status_code == 200
    assert client.get(f"/api/v1/plans/{plan.id}", headers=headers).status_code == 200
    summary = client.get(f"/api/v1/plans/{plan.id}/summary", headers=headers)
    assert summary.status_code == 200 and set(summary.json) == SUMMARY_FIELDS


# OpenAPI --------------------------------------------------------------------------------------


def test_openapi_describes_every_plan_operation_with_its_body(client):
    spec = client.get("/api/v1/openapi.json").json
    paths = spec["paths"]
    expected = {
        ("/api/v1/plans", "post"): ("PlanCreate", "201"),
        ("/api/v1/plans", "get"): (None, "200"),
        ("/api/v1/plans/{plan_id}", "get"): (None, "200"),
        ("/api/v1/plans/{plan_id}/priorities", "post"): ("PlanPriorityCreate", "201"),
        ("/api/v1/plans/{plan_id}/summary", "get"): (None, "200"),
    }
    for (path, method), (body, status) in expected.items():
        operation = paths.get(path, {}).get(method)
        assert operation is not None, (path, method)
        assert status in operation["responses"], (path, method)
        if body is None:
            assert "requestBody" not in operation, (path, method)
        else:
            ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            assert ref.endswith(f"/{body}"), (path, method, ref)
    schemas = spec["components"]["schemas"]
    assert set(schemas["Plan"]["properties"]) == PLAN_FIELDS
    assert set(schemas["PlanCreate"]["required"]) == {"title", "owner_id", "starts_on", "ends_on"}
    assert set(schemas["PlanSummary"]["properties"]) == SUMMARY_FIELDS
    assert set(schemas["PrioritySummary"]["properties"]) == {"id", "title", "total", "overdue", "percent_complete", "brag"}
    assert set(schemas["PlanPriority"]["properties"]) == {"id", "plan_id", "title", "version"}
