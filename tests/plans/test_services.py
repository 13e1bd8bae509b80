"""Plan figures: BRAG, counts, percent complete and next deadline, by hand."""

from __future__ import annotations

from datetime import date

import pytest

from qa_audit.errors import InvalidInput, NotAllowed
from qa_audit.plans import services

TODAY = date(2026, 11, 24)


@pytest.fixture(autouse=True)
def today(pin_today):
    return pin_today(TODAY)


def test_summary_matches_a_hand_calculation(make_plan, make_action):
    plan = make_plan(priorities=["Front door", "Workforce", "Multi-agency working", "Empty"])
    front, workforce, multi, _ = plan.priorities
    make_action(priority=front, status="not_started", due_date=date(2026, 11, 1))  # red
    make_action(priority=front, status="in_progress", due_date=date(2026, 12, 1))  # amber
    make_action(priority=front, status="verified", due_date=date(2026, 10, 1))  # blue
    make_action(priority=workforce, status="in_progress", due_date=date(2027, 2, 1))  # green
    make_action(priority=workforce, status="completed", due_date=date(2026, 9, 1))  # blue
    make_action(priority=workforce, status="cancelled", due_date=date(2026, 9, 1))  # no colour
    make_action(priority=multi, status="cancelled", due_date=date(2026, 9, 1))

    summary = services.plan_summary(plan)

    assert summary == {
        "plan_id": plan.id,
        "total": 7,
        "not_started": 1,
        "in_progress": 2,
        "completed": 1,
        "verified": 1,
        "cancelled": 2,
        "overdue": 1,
        "due_soon": 1,
        "percent_complete": 40.0,  # (1 + 1) / (7 - 2)
        "brag": "red",
        "next_deadline": "2026-11-01",
        "priorities": [
            {"id": front.id, "title": "Front door", "total": 3, "overdue": 1, "percent_complete": 33.3, "brag": "red"},
            {"id": workforce.id, "title": "Workforce", "total": 3, "overdue": 0, "percent_complete": 50.0, "brag": "green"},
            {"id": multi.id, "title": "Multi-agency working", "total": 1, "overdue": 0, "percent_complete": None, "brag": None},
            {"id": plan.priorities[3].id, "title": "Empty", "total": 0, "overdue": 0, "percent_complete": None, "brag": None},
        ],
    }


def test_all_done_is_blue(make_plan, make_action):
    plan = make_plan()
    make_action(priority=plan.priorities[0], status="completed")
    make_action(priority=plan.priorities[0], status="cancelled")
    summary = services.plan_summary(plan)
    assert summary["brag"] == "blue" and summary["percent_complete"] == 100.0 and summary["next_deadline"] is None


def test_filters_narrow_the_figures(make_plan, make_action, make_user):
    plan = make_plan()
    owner = make_user()
    make_action(priority=plan.priorities[0], owner=owner, due_date=date(2026, 1, 1))
    make_action(priority=plan.priorities[0], due_date=date(2027, 6, 1))
    overall, priorities = services.plan_figures(plan.id, {"owner_id": owner.id})
    assert overall["total"] == 1 and overall["brag"].value == "red"
    overall, _ = services.plan_figures(plan.id, {"brag": "green"})
    assert overall["total"] == 1 and overall["green"] == 1


def test_plan_rules(make_user):
    lead = make_user("qa_lead")
    with pytest.raises(NotAllowed):
        services.create_plan({"title": "x"}, make_user("auditor"))
    with pytest.raises(InvalidInput) as error:
        services.create_plan({"title": "", "owner_id": make_user(active=False).id, "starts_on": "2026-04-01", "ends_on": "2026-03-01"}, lead)
    assert set(error.value.errors) == {"title", "owner_id", "ends_on"}


def test_priorities_keep_their_order_and_move(make_plan, make_user):
    plan = make_plan(priorities=["A", "B", "C"])
    lead = make_user("qa_lead")
    services.move_priority(plan.priorities[2], "up", lead)
    services.move_priority(plan.priorities[0], "up", lead)  # already first: nothing happens
    from qa_audit.extensions import db

    db.session.expire_all()
    assert [p.title for p in plan.priorities] == ["A", "C", "B"]


def test_measures_record_dated_values(make_plan, make_user):
    plan = make_plan()
    lead = make_user("qa_lead")
    measure = services.add_measure(plan.priorities[0], {"title": "Average MASH caseload", "baseline": "24", "target": "15", "baseline_on": "2019-03-31"}, lead)
    assert not measure.higher_is_better
    services.record_measure_value(measure, {"measured_on": "2019-10-31", "value": "15"}, lead)
    with pytest.raises(InvalidInput) as error:
        services.record_measure_value(measure, {"measured_on": "2019-10-31", "value": "abc"}, lead)
    assert set(error.value.errors) == {"measured_on", "value"}
    with pytest.raises(InvalidInput):
        services.record_measure_value(measure, {"measured_on": "2027-01-01", "value": "1"}, lead)


def test_two_priorities_added_at_the_same_moment_both_land(make_plan, make_user, monkeypatch):
    plan = make_plan(priorities=["Front door"])
    lead = make_user("qa_lead")
    real = services._next_position
    answers = iter([1])  # the first try picks the position someone else has just taken
    monkeypatch.setattr(services, "_next_position", lambda plan_id: next(answers, None) or real(plan_id))
    added = services.add_priority(plan, {"title": "Workforce"}, lead)
    assert added.position == 2


def test_moving_a_priority_while_someone_else_reorders_is_a_conflict(make_plan, make_user, monkeypatch):
    from sqlalchemy.exc import IntegrityError

    from qa_audit.errors import Conflict
    from qa_audit.extensions import db

    plan = make_plan(priorities=["A", "B"])
    lead = make_user("qa_lead")
    real_flush = db.session.flush

    def clash(*args, **kwargs):
        raise IntegrityError("UPDATE plan_priorities", {}, Exception("unique (plan, position)"))

    monkeypatch.setattr(db.session, "flush", clash)
    with pytest.raises(Conflict):
        services.move_priority(plan.priorities[1], "up", lead)
    monkeypatch.setattr(db.session, "flush", real_flush)
    db.session.expire_all()
    assert [p.title for p in plan.priorities] == ["A", "B"]
