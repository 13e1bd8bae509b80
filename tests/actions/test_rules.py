"""The rules of actions (DESIGN.md §3), with today pinned."""

from __future__ import annotations

from datetime import date

import pytest

from qa_audit import dates
from qa_audit.actions import services as rules
from qa_audit.actions.models import ActionStatus, Brag, UpdateKind
from qa_audit.errors import Conflict, InvalidInput, NotAllowed
from qa_audit.extensions import db

TODAY = date(2026, 11, 24)


@pytest.fixture(autouse=True)
def today(pin_today):
    return pin_today(TODAY)


@pytest.mark.parametrize(
    ("status", "due", "brag", "overdue", "due_soon"),
    [
        ("not_started", date(2026, 11, 23), Brag.RED, True, False),
        ("in_progress", date(2026, 11, 24), Brag.AMBER, False, True),  # due today: not yet overdue
        ("in_progress", date(2026, 12, 8), Brag.AMBER, False, True),  # today + 14
        ("not_started", date(2026, 12, 9), Brag.GREEN, False, False),  # today + 15
        ("completed", date(2020, 1, 1), Brag.BLUE, False, False),
        ("verified", date(2020, 1, 1), Brag.BLUE, False, False),
        ("cancelled", date(2020, 1, 1), None, False, False),
    ],
)
def test_brag_overdue_and_due_soon(make_action, status, due, brag, overdue, due_soon):
    action = make_action(status=status, due_date=due)
    assert rules.brag_of(action) is brag
    assert rules.is_overdue(action) is overdue
    assert rules.is_due_soon(action) is due_soon
    # The SQL twins agree with the Python ones.
    for colour in Brag:
        found = db.session.scalar(rules.actions_query({"brag": colour.value}).where(rules.Action.id == action.id))
        assert (found is not None) is (colour is brag)
    assert (db.session.scalar(rules.actions_query({"overdue": True})) is not None) is overdue


def test_working_days_skip_weekends_and_bank_holidays():
    # Thursday 24 December 2026 + 3 working days: Christmas (Fri), Boxing Day observed (Mon 28) skipped.
    assert dates.add_working_days(date(2026, 12, 24), 3) == date(2026, 12, 31)
    assert dates.add_working_days(date(2026, 11, 24), 5) == date(2026, 12, 1)
    assert not dates.is_working_day(date(2027, 3, 29))  # Easter Monday 2027


def test_raise_action_from_a_finding_takes_the_audited_service(make_user, make_finding):
    finding = make_finding()
    lead = make_user("qa_lead")
    owner = make_user("viewer")  # anyone can own an action
    action = rules.raise_action(
        {"title": "Re-issue referral guidance", "owner_id": owner.id, "due_in_working_days": "5", "finding_id": finding.id, "approved_by": "Practice and Development Board", "approved_on": "2026-11-20"},
        lead,
    )
    assert action.due_date == date(2026, 12, 1)
    assert action.service_id == finding.audit.service_id
    assert action.status is ActionStatus.NOT_STARTED
    assert action.approved_on == date(2026, 11, 20)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"due_date": "2026-13-31"}, "due_date"),
        ({"due_date": "31/13/2026"}, "due_date"),
        ({"due_date": ""}, "due_date"),
        ({"due_in_working_days": "0"}, "due_in_working_days"),
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"priority": "urgent"}, "priority"),
        ({"plan_priority_id": None}, "plan_priority_id"),
        ({"plan_priority_id": 999999}, "plan_priority_id"),
        ({"owner_id": 999999}, "owner_id"),
    ],
)
def test_raise_action_refuses_bad_input(make_user, make_plan, data, field):
    lead = make_user("qa_lead")
    good = {"title": "Audit contacts", "owner_id": make_user().id, "due_date": "2027-01-31", "plan_priority_id": make_plan().priorities[0].id}
    with pytest.raises(InvalidInput) as error:
        rules.raise_action({**good, **data}, lead)
    assert field in error.value.errors


def test_an_inactive_owner_is_refused(make_user, make_plan):
    with pytest.raises(InvalidInput) as error:
        rules.raise_action(
            {"title": "T", "owner_id": make_user(active=False).id, "due_date": "2027-01-31", "plan_priority_id": make_plan().priorities[0].id},
            make_user("qa_lead"),
        )
    assert error.value.errors["owner_id"] == ["Select an active user as the owner"]


def test_auditors_and_viewers_cannot_raise_actions(make_user, make_plan):
    for role in ("auditor", "viewer"):
        with pytest.raises(NotAllowed):
            rules.raise_action({"title": "T"}, make_user(role))


def test_progress_completion_needs_evidence_then_someone_else_signs_off(make_user, make_action):
    owner = make_user("auditor")
    action = make_action(owner=owner)
    update = rules.post_update(action, {"note": "Guidance drafted"}, owner)
    assert action.status is ActionStatus.IN_PROGRESS and update.status is ActionStatus.IN_PROGRESS
    with pytest.raises(InvalidInput) as error:
        rules.post_update(action, {"note": "Done", "status": "completed"}, owner)
    assert "evidence" in error.value.errors
    rules.post_update(action, {"note": "Done", "status": "completed", "evidence": "Guidance issued 1 Dec; minutes"}, owner)
    assert action.status is ActionStatus.COMPLETED and action.completed_at is not None
    with pytest.raises(NotAllowed):
        rules.verify_action(action, owner)
    head = make_user("head_of_service")
    rules.verify_action(action, head, "Seen the minutes")
    assert action.status is ActionStatus.VERIFIED and action.verified_by_id == head.id
    assert [u.kind for u in action.updates] == [UpdateKind.PROGRESS, UpdateKind.PROGRESS, UpdateKind.VERIFIED]
    with pytest.raises(Conflict):
        rules.post_update(action, {"note": "More"}, owner)


def test_a_manager_who_owns_the_action_cannot_sign_it_off(make_user, make_action):
    head = make_user("head_of_service")
    action = make_action(owner=head, status="completed")
    with pytest.raises(NotAllowed):
        rules.verify_action(action, head)


def test_verifying_an_open_action_is_a_conflict(make_user, make_action):
    action = make_action(status="in_progress")
    with pytest.raises(Conflict):
        rules.verify_action(action, make_user("qa_lead"))


def test_send_back_needs_a_reason_and_reopens(make_user, make_action):
    action = make_action(status="completed")
    lead = make_user("qa_lead")
    with pytest.raises(InvalidInput):
        rules.send_back(action, lead, "")
    rules.send_back(action, lead, "No evidence of the audit itself")
    assert action.status is ActionStatus.IN_PROGRESS and action.updates[-1].kind is UpdateKind.SENT_BACK


def test_cancel_needs_a_reason_and_who_may(make_user, make_action):
    action = make_action()
    with pytest.raises(NotAllowed):
        rules.cancel_action(action, make_user("auditor"), "No longer needed")
    with pytest.raises(InvalidInput):
        rules.cancel_action(action, make_user("head_of_service"), " ")
    rules.cancel_action(action, make_user("head_of_service"), "Superseded by the MASH review")
    assert action.status is ActionStatus.CANCELLED and action.cancellation_reason == "Superseded by the MASH review"
    with pytest.raises(Conflict):
        rules.cancel_action(action, make_user("qa_lead"), "again")


def test_a_note_of_twenty_thousand_characters_is_refused(make_user, make_action):
    owner = make_user()
    action = make_action(owner=owner)
    with pytest.raises(InvalidInput) as error:
        rules.post_update(action, {"note": "x" * 20000}, owner)
    assert error.value.errors["note"] == ["Note must be 10,000 characters or fewer"]


def test_only_owner_or_managers_post_progress(make_user, make_action):
    action = make_action()
    with pytest.raises(NotAllowed):
        rules.post_update(action, {"note": "hello"}, make_user("auditor"))
    with pytest.raises(NotAllowed):
        rules.post_update(action, {"note": "hello"}, make_user("viewer"))


def test_edit_needs_the_current_version(make_user, make_action):
    action = make_action()
    lead = make_user("qa_lead")
    rules.edit_action(action, {"title": "Renamed"}, lead, version=action.version)
    with pytest.raises(Conflict):
        rules.edit_action(action, {"title": "Stale"}, lead, version=1)
    assert action.title == "Renamed"


def test_edit_rights_plan_owner_and_head_of_audited_service(make_user, make_service, make_audit, make_finding, make_plan, make_action):
    owner = make_user("head_of_service")
    plan = make_plan(owner=owner)
    action = make_action(priority=plan.priorities[0])
    rules.edit_action(action, {"title": "By the plan owner"}, owner, version=action.version)
    head = make_user("head_of_service")
    finding = make_finding(audit=make_audit(service=make_service(head_of_service_id=head.id), status="completed"))
    from_finding = make_action(finding=finding)
    rules.edit_action(from_finding, {"title": "By the head of service"}, head, version=from_finding.version)
    with pytest.raises(NotAllowed):
        rules.edit_action(from_finding, {"title": "Another head"}, make_user("head_of_service"), version=from_finding.version)
