"""The API rows for actions and follow-up visits (API.md): exact bodies, who may do what,
each status code and the order of the checks: 401 → 404 → 403 → 422 → 409. Today is pinned."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date
from types import SimpleNamespace

import pytest
from sqlalchemy import event, func, select

from qa_audit.actions.models import Action, ActionStatus, ActionUpdate
from qa_audit.auth import services as auth_services
from qa_audit.extensions import db

TODAY = date(2026, 11, 24)
HUGE = 10**20
ACTION_FIELDS = {"id", "title", "owner_id", "due_date", "priority", "status", "finding_id", "plan_priority_id", "overdue", "brag", "version"}
ROLES = ("admin", "qa_lead", "head_of_service", "auditor", "viewer")


@pytest.fixture(autouse=True)
def today(pin_today):
    return pin_today(TODAY)


def token_for(user) -> dict:
    token, _ = auth_services.create_token(user, "tests")
    return {"Authorization": f"Bearer {token}"}


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def as_json(action: Action, **changes) -> dict:
    """What the API should answer for ``action``, with ``changes`` worked out by hand."""
    body = {
        "id": action.id,
        "title": action.title,
        "owner_id": action.owner_id,
        "due_date": action.due_date.isoformat(),
        "priority": action.priority.value,
        "status": action.status.value,
        "finding_id": action.finding_id,
        "plan_priority_id": action.plan_priority_id,
        "overdue": False,
        "brag": "green",
        "version": action.version,
    }
    body.update(changes)
    return body


@pytest.fixture
def world(make_user, make_service, make_audit, make_finding, make_plan, make_action):
    """A service with its head, a finding of an audit of it, a plan owned by a viewer (plans
    and actions may be owned by anyone), and an action under the plan raised from the finding,
    owned by an auditor."""

    w = SimpleNamespace()
    w.service_head = make_user("head_of_service")
    w.service = make_service(head_of_service_id=w.service_head.id)
    w.audit = make_audit("dip_sample", status="completed", service=w.service)
    w.finding = make_finding(audit=w.audit)
    w.plan_owner = make_user("viewer")
    w.plan = make_plan(owner=w.plan_owner, priorities=["Front door", "Workforce"])
    w.priority = w.plan.priorities[0]
    w.owner = make_user("auditor")
    w.action = make_action(owner=w.owner, priority=w.priority, finding=w.finding, due_date=date(2027, 1, 31))
    return w


# Raising ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "qa_lead", "head_of_service"])
def test_raise_an_action_under_a_plan_priority(client, api_as, make_user, world, role):
    headers, _ = api_as(role)
    owner = make_user("viewer")
    body = {"title": "Audit 20 contacts a month", "owner_id": owner.id, "due_date": "2027-02-26", "priority": "high", "plan_priority_id": world.priority.id}
    response = client.post("/api/v1/actions", json=body, headers=headers)
    assert response.status_code == 201, response.json
    created = response.json
    assert created == {
        "id": created["id"],
        "title": "Audit 20 contacts a month",
        "owner_id": owner.id,
        "due_date": "2027-02-26",
        "priority": "high",
        "status": "not_started",
        "finding_id": None,
        "plan_priority_id": world.priority.id,
        "overdue": False,
        "brag": "green",
        "version": 1,
    }
    viewer, _ = api_as("viewer")
    read = client.get(f"/api/v1/actions/{created['id']}", headers=viewer)
    assert read.status_code == 200 and read.json == created


def test_raise_an_action_from_a_finding_takes_medium_priority_and_a_past_date(client, api_as, make_user, world):
    headers, _ = api_as("qa_lead")
    owner = make_user("auditor")
    response = client.post("/api/v1/actions", json={"title": "Re-issue the threshold guidance", "owner_id": owner.id, "due_date": "2026-11-01", "finding_id": world.finding.id}, headers=headers)
    assert response.status_code == 201, response.json
    created = response.json
    assert created == {
        "id": created["id"],
        "title": "Re-issue the threshold guidance",
        "owner_id": owner.id,
        "due_date": "2026-11-01",
        "priority": "medium",
        "status": "not_started",
        "finding_id": world.finding.id,
        "plan_priority_id": None,
        "overdue": True,  # a past date is accepted: the board approved it late
        "brag": "red",
        "version": 1,
    }
    assert db.session.get(Action, created["id"]).service_id == world.service.id


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"due_date": "31/13/2026"}, "due_date"),
        ({"due_date": "2026-13-31"}, "due_date"),
        ({"due_date": "2026-02-30"}, "due_date"),
        ({"due_date": "3026-01-01"}, "due_date"),
        ({"due_date": 20270131}, "due_date"),
        ({"due_date": None}, "due_date"),
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "Bad\x00title"}, "title"),
        ({"title": "Two\nlines"}, "title"),
        ({"owner_id": "1"}, "owner_id"),
        ({"owner_id": 1.5}, "owner_id"),
        ({"owner_id": HUGE}, "owner_id"),
        ({"owner_id": 999999}, "owner_id"),
        ({"priority": "urgent"}, "priority"),
        ({"plan_priority_id": None}, "plan_priority_id"),  # neither a finding nor a priority
        ({"plan_priority_id": 999999}, "plan_priority_id"),
        ({"finding_id": 999999}, "finding_id"),
        ({"finding_id": 0}, "finding_id"),
    ],
)
def test_raise_action_bad_input_is_422_by_field(client, api_as, make_user, world, change, field):
    headers, _ = api_as("qa_lead")
    body = {"title": "Audit contacts", "owner_id": make_user().id, "due_date": "2027-01-31", "plan_priority_id": world.priority.id}
    body.update(change)
    before = _count(Action)
    response = client.post("/api/v1/actions", json=body, headers=headers)
    assert response.status_code == 422, response.json
    assert field in response.json["errors"], response.json
    assert _count(Action) == before


def test_missing_fields_are_each_named(client, api_as):
    headers, _ = api_as("admin")
    response = client.post("/api/v1/actions", json={}, headers=headers)
    assert response.status_code == 422
    assert {"title", "owner_id", "due_date"} <= set(response.json["errors"])


def test_an_inactive_owner_is_422_with_the_services_message(client, api_as, make_user, world):
    headers, _ = api_as("head_of_service")
    gone = make_user("auditor", active=False)
    response = client.post("/api/v1/actions", json={"title": "T", "owner_id": gone.id, "due_date": "2027-01-31", "plan_priority_id": world.priority.id}, headers=headers)
    assert response.status_code == 422
    assert response.json["errors"] == {"owner_id": ["Select an active user as the owner"]}


def test_a_body_that_is_not_json_is_400(client, api_as):
    headers, _ = api_as("qa_lead")
    response = client.post("/api/v1/actions", data="{title: nope", headers={**headers, "Content-Type": "application/json"})
    assert response.status_code == 400


# Who may: one row of API.md's table per endpoint -----------------------------------

# (endpoint, who): who is a role (a new user of that role, unrelated to the action) or one of
# the action's people: "owner" (an auditor), "plan_owner" (a viewer), "service_head".
MATRIX = {
    "raise": {"admin": 201, "qa_lead": 201, "head_of_service": 201, "auditor": 403, "viewer": 403, "owner": 403, "plan_owner": 403},
    "list": {role: 200 for role in ROLES},
    "get": {role: 200 for role in ROLES},
    "edit": {"admin": 200, "qa_lead": 200, "head_of_service": 403, "auditor": 403, "viewer": 403, "owner": 403, "plan_owner": 200, "service_head": 200},
    "update": {"admin": 201, "qa_lead": 201, "head_of_service": 201, "auditor": 403, "viewer": 403, "owner": 201, "plan_owner": 403},
    "verify": {"admin": 200, "qa_lead": 200, "head_of_service": 200, "auditor": 403, "viewer": 403, "owner": 403, "plan_owner": 403, "service_head": 200},
    "send_back": {"admin": 200, "qa_lead": 200, "head_of_service": 200, "auditor": 403, "viewer": 403, "owner": 403},
    "cancel": {"admin": 200, "qa_lead": 200, "head_of_service": 200, "auditor": 403, "viewer": 403, "owner": 403, "plan_owner": 403},
    "timeline": {role: 200 for role in ROLES},
}
CASES = [(endpoint, who, status) for endpoint, row in MATRIX.items() for who, status in row.items()]


def _request(client, endpoint: str, world, headers):
    action = world.action
    url = f"/api/v1/actions/{action.id}"
    body = {
        "raise": ("post", "/api/v1/actions", {"title": "T", "owner_id": world.owner.id, "due_date": "2027-01-31", "plan_priority_id": world.priority.id}),
        "list": ("get", "/api/v1/actions", None),
        "get": ("get", url, None),
        "edit": ("patch", url, {"version": action.version, "title": "Changed"}),
        "update": ("post", f"{url}/updates", {"note": "Guidance drafted"}),
        "verify": ("post", f"{url}/verify", {"note": "Seen the minutes"}),
        "send_back": ("post", f"{url}/send-back", {"reason": "The minutes are missing"}),
        "cancel": ("post", f"{url}/cancel", {"reason": "Overtaken by the new front door"}),
        "timeline": ("get", f"{url}/updates", None),
    }[endpoint]
    method, path, json = body
    return client.open(path, method=method.upper(), json=json, headers=headers)


@pytest.mark.parametrize(("endpoint", "who", "expected"), CASES)
def test_who_may(client, api_as, world, endpoint, who, expected):
    if who in ("owner", "plan_owner", "service_head"):
        headers = token_for(getattr(world, who))
    else:
        headers, _ = api_as(who)
    if endpoint in ("verify", "send_back"):
        world.action.status = ActionStatus.COMPLETED
        db.session.commit()
    version = world.action.version
    response = _request(client, endpoint, world, headers)
    assert response.status_code == expected, response.json
    if expected == 403:
        assert response.json["message"]
        db.session.refresh(world.action)
        assert world.action.version == version and _count(ActionUpdate) == 0


def test_a_qa_lead_who_owns_an_action_cannot_sign_it_off(client, make_user, make_action):
    lead = make_user("qa_lead")
    action = make_action(owner=lead, status="completed")
    response = client.post(f"/api/v1/actions/{action.id}/verify", json={}, headers=token_for(lead))
    assert response.status_code == 403
    assert response.json["message"] == "You own this action, so someone else must sign it off or send it back."
    db.session.refresh(action)
    assert action.status is ActionStatus.COMPLETED


# The order of the checks ---------------------------------------------------------------


def test_no_token_is_401_before_404(client):
    assert client.patch("/api/v1/actions/999", json={}).status_code == 401
    assert client.get("/api/v1/actions").status_code == 401
    assert client.get("/api/v1/audits/999/follow-up").status_code == 401


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("GET", "", None),
        ("PATCH", "", {"version": "x"}),
        ("POST", "/updates", {}),
        ("GET", "/updates", None),
        ("POST", "/verify", {"note": 5}),
        ("POST", "/send-back", {}),
        ("POST", "/cancel", {}),
    ],
)
@pytest.mark.parametrize("ident", ["999999", str(HUGE), "0"])
def test_a_missing_action_is_404_before_403_and_422(client, api_as, method, suffix, body, ident):
    headers, _ = api_as("viewer")
    response = client.open(f"/api/v1/actions/{ident}{suffix}", method=method, json=body, headers=headers)
    assert response.status_code == 404


def test_a_viewer_patching_with_a_bad_body_is_403_before_422(client, api_as, world):
    headers, _ = api_as("viewer")
    response = client.patch(f"/api/v1/actions/{world.action.id}", json={"due_date": "31/13/2026"}, headers=headers)
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("endpoint", "body"),
    [
        ("updates", {"note": "x" * 20000}),
        ("verify", {"note": "x" * 20000}),
        ("cancel", {"reason": ""}),
        ("send-back", {}),
    ],
)
def test_refusal_comes_before_bad_input_on_every_post(client, api_as, world, endpoint, body):
    headers, _ = api_as("auditor")
    response = client.post(f"/api/v1/actions/{world.action.id}/{endpoint}", json=body, headers=headers)
    assert response.status_code == 403


def test_a_qa_lead_with_a_bad_body_on_a_stale_version_gets_422(client, api_as, world):
    headers, _ = api_as("qa_lead")
    stale = world.action.version
    world.action.title = "Changed by someone else"
    db.session.commit()
    response = client.patch(f"/api/v1/actions/{world.action.id}", json={"version": stale, "due_date": "2026-13-31"}, headers=headers)
    assert response.status_code == 422 and "due_date" in response.json["errors"]
    response = client.patch(f"/api/v1/actions/{world.action.id}", json={"version": stale, "title": ""}, headers=headers)
    assert response.status_code == 422 and "title" in response.json["errors"]
    response = client.patch(f"/api/v1/actions/{world.action.id}", json={"title": "No version"}, headers=headers)
    assert response.status_code == 422 and "version" in response.json["errors"]


def test_a_stale_patch_is_409_and_nothing_is_written(client, api_as, world):
    headers, _ = api_as("qa_lead")
    stale = world.action.version
    world.action.title = "Changed by someone else"
    db.session.commit()
    response = client.patch(f"/api/v1/actions/{world.action.id}", json={"version": stale, "title": "Mine", "due_date": "2027-06-30"}, headers=headers)
    assert response.status_code == 409
    assert "Someone else changed this action" in response.json["message"]
    db.session.refresh(world.action)
    assert world.action.title == "Changed by someone else" and world.action.due_date == date(2027, 1, 31)


def test_verifying_an_open_action_is_409_but_bad_input_first_is_422(client, api_as, world):
    headers, _ = api_as("head_of_service")
    response = client.post(f"/api/v1/actions/{world.action.id}/verify", json={"note": "x" * 10001}, headers=headers)
    assert response.status_code == 422 and "note" in response.json["errors"]
    response = client.post(f"/api/v1/actions/{world.action.id}/verify", json={"note": "Looks fine"}, headers=headers)
    assert response.status_code == 409
    assert response.json["message"] == "Only a completed action can be signed off; this one is not started."
    db.session.refresh(world.action)
    assert world.action.status is ActionStatus.NOT_STARTED and _count(ActionUpdate) == 0


def test_sending_back_an_open_action_is_409(client, api_as, world):
    headers, _ = api_as("qa_lead")
    response = client.post(f"/api/v1/actions/{world.action.id}/send-back", json={"reason": "Not yet"}, headers=headers)
    assert response.status_code == 409


def test_a_cancelled_action_cannot_be_changed_cancelled_again_or_progressed(client, api_as, world):
    headers, _ = api_as("qa_lead")
    world.action.status = ActionStatus.CANCELLED
    db.session.commit()
    url = f"/api/v1/actions/{world.action.id}"
    assert client.patch(url, json={"version": world.action.version, "title": ""}, headers=headers).status_code == 422
    assert client.patch(url, json={"version": world.action.version, "title": "Revived"}, headers=headers).status_code == 409
    assert client.post(f"{url}/cancel", json={}, headers=headers).status_code == 422
    assert client.post(f"{url}/cancel", json={"reason": "Again"}, headers=headers).status_code == 409
    owner = token_for(world.owner)
    assert client.post(f"{url}/updates", json={"status": "completed", "note": "Done"}, headers=owner).status_code == 422
    response = client.post(f"{url}/updates", json={"note": "Done anyway"}, headers=owner)
    assert response.status_code == 409 and "cancelled" in response.json["message"]
    assert _count(ActionUpdate) == 0


# Editing -------------------------------------------------------------------------------


def test_patch_changes_only_the_fields_sent(client, api_as, make_user, world):
    headers = token_for(world.plan_owner)
    new_owner = make_user("auditor")
    other_priority = world.plan.priorities[1]
    response = client.patch(
        f"/api/v1/actions/{world.action.id}",
        json={"version": 1, "owner_id": new_owner.id, "due_date": "2026-12-01", "priority": "low", "plan_priority_id": other_priority.id, "status": "verified", "overdue": True},
        headers=headers,
    )
    assert response.status_code == 200, response.json
    db.session.refresh(world.action)
    assert response.json == {
        "id": world.action.id,
        "title": world.action.title,
        "owner_id": new_owner.id,
        "due_date": "2026-12-01",
        "priority": "low",
        "status": "not_started",  # status is not edited: it moves by updates, sign-off and cancelling
        "finding_id": world.finding.id,
        "plan_priority_id": other_priority.id,
        "overdue": False,
        "brag": "amber",
        "version": 2,
    }
    response = client.patch(f"/api/v1/actions/{world.action.id}", json={"version": 2, "title": "Audit contacts weekly"}, headers=headers)
    assert response.status_code == 200
    assert response.json["title"] == "Audit contacts weekly" and response.json["owner_id"] == new_owner.id and response.json["version"] == 3


def test_patch_can_take_an_action_raised_from_a_finding_out_of_a_plan(client, api_as, world):
    headers, _ = api_as("qa_lead")
    response = client.patch(f"/api/v1/actions/{world.action.id}", json={"version": 1, "plan_priority_id": None}, headers=headers)
    assert response.status_code == 200 and response.json["plan_priority_id"] is None


def test_patch_keeps_an_action_not_raised_from_a_finding_under_a_priority(client, api_as, make_action):
    action = make_action()
    headers, _ = api_as("admin")
    response = client.patch(f"/api/v1/actions/{action.id}", json={"version": 1, "plan_priority_id": None}, headers=headers)
    assert response.status_code == 422 and "plan_priority_id" in response.json["errors"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"due_date": "31/13/2026"}, "due_date"),
        ({"owner_id": None}, "owner_id"),
        ({"priority": None}, "priority"),
        ({"version": "1"}, "version"),
        ({"version": 0}, "version"),
        ({"plan_priority_id": 999999}, "plan_priority_id"),
    ],
)
def test_patch_bad_input_is_422(client, api_as, world, change, field):
    headers, _ = api_as("qa_lead")
    response = client.patch(f"/api/v1/actions/{world.action.id}", json={"version": 1, **change}, headers=headers)
    assert response.status_code == 422 and field in response.json["errors"], response.json


def test_patch_to_an_inactive_owner_is_422(client, api_as, make_user, world):
    headers, _ = api_as("qa_lead")
    gone = make_user("viewer", active=False)
    response = client.patch(f"/api/v1/actions/{world.action.id}", json={"version": 1, "owner_id": gone.id}, headers=headers)
    assert response.status_code == 422 and response.json["errors"] == {"owner_id": ["Select an active user as the owner"]}


# Progress, sign-off, send-back and cancelling -------------------------------------------


def test_the_owner_posts_progress_completes_with_evidence_and_someone_else_signs_off(client, world):
    owner = token_for(world.owner)
    url = f"/api/v1/actions/{world.action.id}"
    response = client.post(f"{url}/updates", json={"note": "Guidance drafted"}, headers=owner)
    assert response.status_code == 201, response.json
    update = response.json
    assert update == {
        "id": update["id"],
        "action_id": world.action.id,
        "note": "Guidance drafted",
        "status": "in_progress",  # any progress on a not started action starts it
        "evidence": None,
        "author_id": world.owner.id,
        "created_at": update["created_at"],
    }
    assert update["created_at"].endswith("+00:00")
    assert client.get(url, headers=owner).json["status"] == "in_progress"

    response = client.post(f"{url}/updates", json={"note": "Issued", "status": "completed"}, headers=owner)
    assert response.status_code == 422
    assert response.json["errors"] == {"evidence": ["Enter the evidence that the action is complete"]}
    assert client.post(f"{url}/updates", json={"note": "Issued", "status": "completed", "evidence": "  "}, headers=owner).status_code == 422

    response = client.post(f"{url}/updates", json={"note": "Issued at the team meeting", "status": "completed", "evidence": "Minutes of 1 December"}, headers=owner)
    assert response.status_code == 201
    assert response.json["status"] == "completed" and response.json["evidence"] == "Minutes of 1 December"

    response = client.post(f"{url}/verify", json={"note": "Seen the minutes"}, headers=owner)
    assert response.status_code == 403

    response = client.post(f"{url}/verify", json={"note": "Seen the minutes"}, headers=token_for(world.service_head))
    assert response.status_code == 200
    db.session.refresh(world.action)
    assert response.json == as_json(world.action, status="verified", brag="blue")
    assert world.action.verified_by_id == world.service_head.id

    timeline = client.get(f"{url}/updates", headers=owner).json
    assert timeline["total"] == 3
    assert [(i["status"], i["note"]) for i in timeline["items"]] == [
        ("in_progress", "Guidance drafted"),
        ("completed", "Issued at the team meeting"),
        ("verified", "Seen the minutes"),
    ]
    response = client.post(f"{url}/updates", json={"note": "More"}, headers=owner)
    assert response.status_code == 409


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "note"),
        ({"note": ""}, "note"),
        ({"note": "x" * 20000}, "note"),
        ({"note": "ok", "evidence": "x" * 10001}, "evidence"),
        ({"note": "bad\x00note"}, "note"),
        ({"note": "ok", "status": "verified"}, "status"),
        ({"note": "ok", "status": "cancelled"}, "status"),
        ({"note": "ok", "status": "nonsense"}, "status"),
        ({"note": 5}, "note"),
    ],
)
def test_progress_bad_input_is_422(client, world, body, field):
    response = client.post(f"/api/v1/actions/{world.action.id}/updates", json=body, headers=token_for(world.owner))
    assert response.status_code == 422 and field in response.json["errors"], response.json
    assert _count(ActionUpdate) == 0


def test_a_note_with_tabs_and_new_lines_is_kept(client, world):
    note = "Line one\n\tindented\r\nline three"
    response = client.post(f"/api/v1/actions/{world.action.id}/updates", json={"note": note}, headers=token_for(world.owner))
    assert response.status_code == 201 and response.json["note"] == note


def test_verify_needs_no_body(client, api_as, world):
    world.action.status = ActionStatus.COMPLETED
    db.session.commit()
    headers, _ = api_as("qa_lead")
    response = client.post(f"/api/v1/actions/{world.action.id}/verify", headers=headers)
    assert response.status_code == 200 and response.json["status"] == "verified"
    assert db.session.scalars(select(ActionUpdate)).one().note == "Signed off."


def test_send_back_returns_a_completed_action_to_in_progress(client, api_as, world):
    world.action.status = ActionStatus.COMPLETED
    db.session.commit()
    headers, lead = api_as("qa_lead")
    response = client.post(f"/api/v1/actions/{world.action.id}/send-back", json={"reason": "The minutes do not show it was issued"}, headers=headers)
    assert response.status_code == 200
    db.session.refresh(world.action)
    assert response.json == as_json(world.action, status="in_progress")
    entry = db.session.scalars(select(ActionUpdate)).one()
    assert entry.note == "The minutes do not show it was issued" and entry.author_id == lead.id
    assert client.post(f"/api/v1/actions/{world.action.id}/send-back", json={"reason": ""}, headers=headers).status_code == 422


def test_cancel_needs_a_reason_and_leaves_no_colour(client, api_as, world):
    headers, _ = api_as("head_of_service")
    url = f"/api/v1/actions/{world.action.id}/cancel"
    response = client.post(url, json={}, headers=headers)
    assert response.status_code == 422 and response.json["errors"] == {"reason": ["Missing data for required field."]}
    response = client.post(url, json={"reason": " "}, headers=headers)
    assert response.status_code == 422 and response.json["errors"] == {"reason": ["Enter why the action is being cancelled"]}
    world.action.due_date = date(2026, 1, 1)  # overdue, but a cancelled action is never overdue
    db.session.commit()
    response = client.post(url, json={"reason": "Overtaken by the new front door"}, headers=headers)
    assert response.status_code == 200
    db.session.refresh(world.action)
    assert response.json == as_json(world.action, status="cancelled", due_date="2026-01-01", overdue=False, brag=None)
    assert world.action.cancellation_reason == "Overtaken by the new front door"


# Listing ---------------------------------------------------------------------------------


@pytest.fixture
def listed(world, make_user, make_audit, make_finding, make_plan, make_action, make_service):
    """Actions of every kind to filter. Today is 24 November 2026."""
    other_owner = make_user("viewer")
    other_plan = make_plan(priorities=["Workforce"])
    visit = make_audit("targeted_visit", status="completed", service=world.service)
    part = make_audit("focus_group", status="completed", service=world.service, parent_id=visit.id)
    elsewhere = make_service()
    a = {
        "plan_action": world.action,  # due 2027-01-31, not started, owner world.owner, audit world.audit
        "overdue": make_action(owner=world.owner, priority=world.priority, due_date=date(2026, 11, 1)),
        "due_soon": make_action(owner=other_owner, priority=world.priority, status="in_progress", due_date=date(2026, 12, 1)),
        "done": make_action(owner=other_owner, priority=world.plan.priorities[1], status="completed", due_date=date(2026, 10, 1)),
        "other_plan": make_action(owner=other_owner, priority=other_plan.priorities[0], status="verified"),
        "visit": make_action(owner=other_owner, finding=make_finding(audit=visit), status="cancelled", due_date=date(2026, 1, 1)),
        "part": make_action(owner=world.owner, finding=make_finding(audit=part), due_date=date(2027, 3, 1)),
        "elsewhere": make_action(owner=other_owner, finding=make_finding(audit=make_audit(status="completed", service=elsewhere)), due_date=date(2026, 11, 2)),
    }
    a["other_owner"], a["visit_audit"], a["other_plan_id"], a["elsewhere_service"] = other_owner, visit, other_plan.id, elsewhere
    return a


def _ids(client, headers, query: str) -> list[int]:
    response = client.get(f"/api/v1/actions?{query}", headers=headers)
    assert response.status_code == 200, response.json
    return [item["id"] for item in response.json["items"]]


def test_list_filters(client, api_as, world, listed):
    headers, _ = api_as("viewer")
    a = listed
    by_due = lambda *names: sorted((a[n] for n in names), key=lambda x: (x.due_date, x.id))  # noqa: E731
    ids = lambda *names: [x.id for x in by_due(*names)]  # noqa: E731
    everything = ("plan_action", "overdue", "due_soon", "done", "other_plan", "visit", "part", "elsewhere")
    assert _ids(client, headers, "") == ids(*everything)
    assert _ids(client, headers, f"owner_id={world.owner.id}") == ids("plan_action", "overdue", "part")
    assert _ids(client, headers, "status=not_started") == ids("plan_action", "overdue", "part", "elsewhere")
    assert _ids(client, headers, "status=completed&status=verified") == ids("done", "other_plan")
    assert _ids(client, headers, "overdue=true") == ids("overdue", "elsewhere")
    assert _ids(client, headers, "overdue=false") == ids("plan_action", "due_soon", "done", "other_plan", "visit", "part")
    assert _ids(client, headers, f"plan_id={world.plan.id}") == ids("plan_action", "overdue", "due_soon", "done")
    assert _ids(client, headers, f"plan_id={world.plan.id}&overdue=true") == ids("overdue")
    assert _ids(client, headers, f"audit_id={a['visit_audit'].id}") == ids("visit", "part")  # a visit's parts too
    assert _ids(client, headers, f"audit_id={world.audit.id}") == ids("plan_action")
    assert _ids(client, headers, f"service_id={world.service.id}") == ids("plan_action", "visit", "part")
    assert _ids(client, headers, f"service_id={a['elsewhere_service'].id}&owner_id={a['other_owner'].id}") == ids("elsewhere")
    assert _ids(client, headers, "brag=amber") == ids("due_soon")
    assert _ids(client, headers, "brag=blue") == ids("done", "other_plan")
    assert _ids(client, headers, f"priority_id={world.plan.priorities[1].id}") == ids("done")
    assert _ids(client, headers, "owner_id=&status=&overdue=") == ids(*everything)  # blank means no filter
    assert _ids(client, headers, "plan_id=999999") == []
    items = {i["id"]: i for i in client.get("/api/v1/actions", headers=headers).json["items"]}
    assert items[a["overdue"].id] == as_json(a["overdue"], overdue=True, brag="red")
    assert items[a["due_soon"].id] == as_json(a["due_soon"], brag="amber")
    assert items[a["visit"].id] == as_json(a["visit"], brag=None)
    assert all(set(item) == ACTION_FIELDS for item in items.values())


def test_list_paginates(client, api_as, world, listed):
    headers, _ = api_as("auditor")
    page = client.get("/api/v1/actions?page=2&page_size=3", headers=headers).json
    assert page["total"] == 8 and page["page"] == 2 and page["page_size"] == 3 and len(page["items"]) == 3
    assert client.get("/api/v1/actions?page_size=1000", headers=headers).json["page_size"] == 200
    assert client.get("/api/v1/actions?page=9", headers=headers).json["items"] == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=nonsense", "status"),
        ("owner_id=abc", "owner_id"),
        (f"owner_id={HUGE}", "owner_id"),
        ("owner_id=-1", "owner_id"),
        ("overdue=maybe", "overdue"),
        ("overdue=1", "overdue"),
        ("plan_id=0", "plan_id"),
        ("audit_id=1.5", "audit_id"),
        ("service_id=x", "service_id"),
        ("brag=purple", "brag"),
        ("page=0", "page"),
        ("page_size=abc", "page_size"),
    ],
)
def test_list_bad_filters_are_422_by_field(client, api_as, query, field):
    headers, _ = api_as("viewer")
    response = client.get(f"/api/v1/actions?{query}", headers=headers)
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


def test_list_does_not_query_per_row(client, api_as, world, make_action, make_finding):
    headers, _ = api_as("viewer")

    def queries_for_list() -> int:
        with count_queries() as statements:
            response = client.get("/api/v1/actions?page_size=200", headers=headers)
        assert response.status_code == 200
        return len(statements)

    queries_for_list()  # the first request may open a connection
    few = queries_for_list()
    for n in range(12):
        make_action(owner=world.owner, priority=world.priority, finding=make_finding(audit=world.audit), status=("not_started", "completed", "cancelled")[n % 3])
    assert queries_for_list() == few
    url = f"/api/v1/actions?page_size=200&plan_id={world.plan.id}&overdue=false&status=not_started"
    with count_queries() as statements:
        assert client.get(url, headers=headers).json["total"] == 5
    assert len(statements) == few


# Follow-up visits ------------------------------------------------------------------------


def test_follow_up_lists_the_earlier_audits_and_its_parts_actions_with_counts(client, api_as, make_audit, make_finding, make_action, make_service):
    service = make_service()
    earlier = make_audit("targeted_visit", status="completed", service=service)
    part = make_audit("dip_sample", status="completed", service=service, parent_id=earlier.id)
    follow = make_audit("targeted_visit", service=service, follow_up_of_id=earlier.id)
    on_visit, on_part = make_finding(audit=earlier), make_finding(audit=part)
    actions = [
        make_action(finding=on_visit, status="not_started", due_date=date(2026, 10, 1)),
        make_action(finding=on_part, status="in_progress", due_date=date(2026, 12, 1)),
        make_action(finding=on_visit, status="completed", due_date=date(2026, 9, 1)),
        make_action(finding=on_part, status="verified", due_date=date(2026, 8, 1)),
        make_action(finding=on_visit, status="cancelled", due_date=date(2026, 7, 1)),
    ]
    make_action(finding=make_finding(audit=follow))  # the follow-up's own: not listed
    make_action(finding=make_finding())  # another audit's: not listed
    make_action()  # under a plan only: not listed
    headers, _ = api_as("viewer")
    response = client.get(f"/api/v1/audits/{follow.id}/follow-up", headers=headers)
    assert response.status_code == 200
    by_due = sorted(actions, key=lambda a: a.due_date)
    assert response.json == {
        "follows_up": earlier.id,
        "actions": [
            as_json(by_due[0], brag=None),  # cancelled
            as_json(by_due[1], brag="blue"),  # verified
            as_json(by_due[2], brag="blue"),  # completed
            as_json(by_due[3], overdue=True, brag="red"),  # not started, due 1 October
            as_json(by_due[4], brag="amber"),  # in progress, due 1 December
        ],
        "open": 2,
        "done": 2,
    }


def test_follow_up_with_no_actions_yet(client, api_as, make_audit):
    earlier = make_audit(status="completed")
    follow = make_audit(follow_up_of_id=earlier.id)
    headers, _ = api_as("auditor")
    response = client.get(f"/api/v1/audits/{follow.id}/follow-up", headers=headers)
    assert response.json == {"follows_up": earlier.id, "actions": [], "open": 0, "done": 0}


def test_follow_up_of_an_audit_that_follows_nothing_or_does_not_exist_is_404(client, api_as, make_audit):
    audit = make_audit()
    headers, _ = api_as("qa_lead")
    assert client.get(f"/api/v1/audits/{audit.id}/follow-up", headers=headers).status_code == 404
    assert client.get("/api/v1/audits/999999/follow-up", headers=headers).status_code == 404
    assert client.get(f"/api/v1/audits/{HUGE}/follow-up", headers=headers).status_code == 404


# OpenAPI -----------------------------------------------------------------------------------


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_openapi_describes_every_action_operation_with_its_body(client):
    spec = client.get("/api/v1/openapi.json").json
    paths = spec["paths"]
    expected = {
        ("/api/v1/actions", "post"): ("ActionCreate", "201"),
        ("/api/v1/actions", "get"): (None, "200"),
        ("/api/v1/actions/{action_id}", "get"): (None, "200"),
        ("/api/v1/actions/{action_id}", "patch"): ("ActionEdit", "200"),
        ("/api/v1/actions/{action_id}/updates", "post"): ("ProgressUpdateCreate", "201"),
        ("/api/v1/actions/{action_id}/updates", "get"): (None, "200"),
        ("/api/v1/actions/{action_id}/verify", "post"): ("ActionVerify", "200"),
        ("/api/v1/actions/{action_id}/send-back", "post"): ("ActionReason", "200"),
        ("/api/v1/actions/{action_id}/cancel", "post"): ("ActionReason", "200"),
        ("/api/v1/audits/{audit_id}/follow-up", "get"): (None, "200"),
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
    assert set(schemas["Action"]["properties"]) == ACTION_FIELDS
    assert set(schemas["ActionCreate"]["required"]) == {"title", "owner_id", "due_date"}
    assert schemas["ActionCreate"]["properties"]["due_date"]["format"] == "date"
    assert schemas["ActionEdit"]["required"] == ["version"]
    assert schemas["ProgressUpdateCreate"]["properties"]["status"]["enum"][:2] == ["in_progress", "completed"]
    assert set(schemas["FollowUp"]["properties"]) == {"follows_up", "actions", "open", "done"}
    names = {p["name"] for p in paths["/api/v1/actions"]["get"]["parameters"]}
    assert {"owner_id", "status", "overdue", "plan_id", "audit_id", "service_id", "page", "page_size"} <= names
    for ref in _refs(spec):  # every reference resolves
        assert ref.startswith("#/"), ref
        node = spec
        for part in ref[2:].split("/"):
            assert part in node, ref
            node = node[part]
