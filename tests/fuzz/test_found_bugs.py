"""What the fuzzers found, kept as plain tests with the inputs that found it, so each
stays fixed whatever the fuzzers draw next time."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from qa_audit.actions import services as action_rules
from qa_audit.admin.models import Service
from qa_audit.findings.models import Finding
from qa_audit.extensions import db


def test_removing_a_finding_with_actions_is_a_conflict_not_a_server_error(app, client, api_as, make_audit):
    """Schemathesis: DELETE /api/v1/findings/4 (a finding with an action raised from it,
    on an audit in progress) failed the foreign key and answered 500."""
    headers, admin = api_as("admin")
    audit = make_audit("targeted_visit", status="in_progress")
    created = client.post(f"/api/v1/audits/{audit.id}/findings", json={"kind": "concern", "summary": "A referral waited ten days"}, headers=headers)
    assert created.status_code == 201, created.get_json()
    finding_id = created.get_json()["id"]
    raised = client.post("/api/v1/actions", json={"title": "Review waiting times", "owner_id": admin.id, "due_date": "2027-01-31", "finding_id": finding_id}, headers=headers)
    assert raised.status_code == 201, raised.get_json()

    response = client.delete(f"/api/v1/findings/{finding_id}", headers=headers)

    assert response.status_code == 409
    assert "Actions have been raised from this finding" in response.get_json()["message"]
    assert db.session.get(Finding, finding_id) is not None


def test_a_finding_without_actions_can_still_be_removed(app, client, api_as, make_audit):
    headers, _ = api_as("qa_lead")
    audit = make_audit("targeted_visit", status="in_progress")
    finding_id = client.post(f"/api/v1/audits/{audit.id}/findings", json={"kind": "strength", "summary": "Good"}, headers=headers).get_json()["id"]
    assert client.delete(f"/api/v1/findings/{finding_id}", headers=headers).status_code == 204
    assert db.session.get(Finding, finding_id) is None


def test_a_service_name_outside_ascii_given_twice_is_a_422_not_a_server_error(app, client, api_as):
    """Schemathesis: POST /api/v1/services {"name": "À"} twice answered 500 on SQLite,
    whose lower() folds only ASCII, so the duplicate check missed the exact same name."""
    headers, _ = api_as("admin")
    assert client.post("/api/v1/services", json={"name": "À"}, headers=headers).status_code == 201

    response = client.post("/api/v1/services", json={"name": "À"}, headers=headers)

    assert response.status_code == 422
    assert response.get_json()["errors"] == {"name": ["A service with this name already exists"]}
    assert db.session.scalar(select(func.count()).select_from(Service)) == 1


def test_cancelling_a_completed_action_clears_its_completion(app, make_user, make_action):
    """Hypothesis (the action status machine): post_update(completed) then cancel left
    completed_at set on a cancelled action, so exports showed a completion date for it."""
    owner, manager = make_user("auditor"), make_user("qa_lead")
    action = make_action(owner=owner, due_date=dt.date(2027, 1, 31))
    action_rules.post_update(action, {"note": "Done", "status": "completed", "evidence": "Minutes"}, owner)
    assert action.completed_at is not None

    action_rules.cancel_action(action, manager, "No longer needed")

    assert action.status.value == "cancelled"
    assert action.completed_at is None
