"""Property tests of the rules in the services (issue 6): hypothesis draws sequences of
changes by people in every role, dates, statuses and answers, and each rule must hold
for all of them. The expected outcomes are worked out here from DESIGN.md §3 and
API.md alone, never by calling the code under test.

- The audit status machine: planned → in progress → completed, planned or in progress
  → cancelled (with a reason), completed → in progress (reopening, with a reason, by a
  QA lead or admin); an audit's own auditors may only start and complete it. No
  sequence reaches any other state; a completed audit is locked; the history records
  each change, by whom, and nothing else.
- The action status machine: progress, sign-off, send back and cancel. Verified only
  from completed and never by the owner; cancelled and verified are final;
  ``completed_at`` is set exactly when the action is completed or verified; each
  change is one entry on the timeline.
- BRAG: ``brag_of`` (Python) and ``brag_clause`` (SQL) agree for any statuses, due
  dates and today; a plan's and a priority's colour is their worst open action's.
- Percent complete and compliance, rounded half up to one decimal (exactly, with
  fractions), ``None`` where nothing counts.

Each property is bounded (EXAMPLES examples, derandomized so CI sees the same ones
every run) and builds its own records in each example, so examples never share state.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from qa_audit.actions import services as action_rules
from qa_audit.actions.models import Action, ActionStatus, ActionUpdate, Brag
from qa_audit.audits import services as audit_rules
from qa_audit.audits.models import AuditStatus
from qa_audit.errors import Conflict, InvalidInput, NotAllowed
from qa_audit.extensions import db
from qa_audit.findings import services as finding_rules
from qa_audit.history.models import HistoryEntry
from qa_audit.history.tracking import acting_as
from qa_audit.plans import services as plan_rules
from qa_audit.recording import services as recording_rules

EXAMPLES = 60

bounded = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    # The fixtures make the people once per test; each example makes its own records.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

_serial = itertools.count(1)

# DESIGN.md §3, written out here rather than read from the code under test.
LEGAL_AUDIT_MOVES = {
    ("planned", "in_progress"),
    ("planned", "cancelled"),
    ("in_progress", "completed"),
    ("in_progress", "cancelled"),
    ("completed", "in_progress"),  # reopening
}
OPEN = {"not_started", "in_progress"}
DONE = {"completed", "verified"}
ACTION_MANAGER_ROLES = {"admin", "qa_lead", "head_of_service"}


def half_up(value: Fraction) -> float:
    """A percentage rounded half up to one decimal, computed exactly."""
    exact = Decimal(value.numerator) / Decimal(value.denominator) if value.denominator != 1 else Decimal(value.numerator)
    # Decimal division is exact to 28 digits; ties (x.x5 exactly) are exact in it.
    return float(exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def percent(part: int, whole: int) -> float | None:
    return half_up(Fraction(100 * part, whole)) if whole else None


def attempt(call):
    """Run a service call as the API would: its refusal is the outcome, and the
    session is rolled back after one (as the error handlers do)."""
    try:
        call()
    except (InvalidInput, NotAllowed, Conflict) as error:
        db.session.rollback()
        return type(error)
    return None


@pytest.fixture
def people(make_user, make_service):
    """One person of each kind an audit or action can meet, and a service to audit."""
    users = {
        "admin": make_user("admin"),
        "qa_lead": make_user("qa_lead"),
        "lead": make_user("auditor"),
        "team_auditor": make_user("auditor"),
        "other_auditor": make_user("auditor"),
        "head_of_service": make_user("head_of_service"),
        "other_head": make_user("head_of_service"),
        "viewer": make_user("viewer"),
    }
    users["service"] = make_service(head_of_service_id=users["head_of_service"].id)
    return users


def role_of(who: str) -> str:
    return {"lead": "auditor", "team_auditor": "auditor", "other_auditor": "auditor", "other_head": "head_of_service"}.get(who, who)


# The audit status machine ---------------------------------------------------------------

PEOPLE = ["admin", "qa_lead", "lead", "team_auditor", "other_auditor", "head_of_service", "viewer"]
REASONS = st.sampled_from([None, "", "   ", "The service was restructured"])
audit_steps = st.lists(
    st.tuples(st.sampled_from(PEOPLE), st.sampled_from([s.value for s in AuditStatus]), REASONS, st.sampled_from(["none", "current", "stale"])),
    min_size=1,
    max_size=8,
)


def expected_audit_outcome(who: str, current: str, target: str, reason, version: str):
    """API.md's order of checks: not allowed (403), then bad input (422), then a
    conflict with the audit's state (409)."""
    manager = who in ("admin", "qa_lead")
    takes_part = who in ("lead", "team_auditor")
    allowed = manager or (takes_part and (target == "completed" or (target == "in_progress" and current != "completed")))
    if not allowed:
        return NotAllowed
    reopening = current == "completed" and target == "in_progress"
    if (target == "cancelled" or reopening) and not (reason or "").strip():
        return InvalidInput
    if version == "stale":
        return Conflict
    if (current, target) not in LEGAL_AUDIT_MOVES:
        return Conflict
    return None


@bounded
@given(audit_type=st.sampled_from(["targeted_visit", "dip_sample", "focus_group", "strategy_meeting_audit"]), steps=audit_steps)
def test_audit_status_changes_follow_the_machine_and_the_history_records_them(app, people, make_question_set, audit_type, steps):
    question_set = make_question_set() if audit_type == "dip_sample" else None
    audit = audit_rules.schedule_audit(
        {
            "type": audit_type,
            "title": f"Audit {next(_serial)}",
            "service_id": people["service"].id,
            "scheduled_for": dt.date(2026, 12, 1),
            "lead_auditor_id": people["lead"].id,
            "auditor_ids": [people["team_auditor"].id],
            "question_set_id": question_set.id if question_set else None,
        }
    )
    status = "planned"
    expected_history = []
    ever_in_progress = False
    for who, target, reason, version in steps:
        user = people[who]
        sent_version = {"none": None, "current": audit.version, "stale": audit.version + 7}[version]
        expected = expected_audit_outcome(who, status, target, reason, version)
        with acting_as(user.id):
            outcome = attempt(lambda: audit_rules.change_status(audit, target, user, reason=reason, version=sent_version))
        assert outcome is expected, (who, status, target, reason, version)
        db.session.refresh(audit)
        if expected is None:
            expected_history.append((user.id, [status, target]))
            ever_in_progress = ever_in_progress or target == "in_progress"
            status = target
        assert audit.status.value == status
        # What each state carries.
        assert (audit.completed_at is not None) == (status == "completed")
        assert (audit.cancellation_reason is not None) == (status == "cancelled")
        assert (audit.started_at is not None) == ever_in_progress
        assert audit_rules.is_editable(audit) == (status in ("planned", "in_progress"))

    if status == "completed":
        # Locked: its details cannot be changed, and nothing more can be recorded on it.
        assert attempt(lambda: audit_rules.update_audit(audit, {"title": "Changed"}, version=audit.version)) is Conflict
        assert attempt(lambda: finding_rules.record_finding(audit, {"kind": "strength", "summary": "Late"}, people["qa_lead"])) is Conflict
        db.session.refresh(audit)
        assert audit.title != "Changed"

    entries = db.session.scalars(
        select(HistoryEntry).where(HistoryEntry.entity == "audit", HistoryEntry.entity_id == audit.id, HistoryEntry.event == "update").order_by(HistoryEntry.id)
    ).all()
    recorded = [(entry.user_id, entry.changes["status"]) for entry in entries if "status" in entry.changes]
    assert recorded == expected_history
    # Nothing changed the audit but the status changes that were allowed.
    assert all("status" in entry.changes for entry in entries)


# The action status machine --------------------------------------------------------------

ACTORS = ["owner", "admin", "qa_lead", "head_of_service", "other_head", "viewer", "other_auditor"]
action_steps = st.lists(
    st.one_of(
        st.tuples(st.just("update"), st.sampled_from(ACTORS), st.sampled_from([None, "in_progress", "completed"]), st.sampled_from([None, "", "Minutes of the meeting"])),
        st.tuples(st.just("verify"), st.sampled_from(ACTORS), st.none(), st.none()),
        st.tuples(st.just("send_back"), st.sampled_from(ACTORS), st.none(), st.sampled_from(["", "Not done yet"])),
        st.tuples(st.just("cancel"), st.sampled_from(ACTORS), st.none(), st.sampled_from(["", "No longer needed"])),
    ),
    min_size=1,
    max_size=10,
)


def expected_action_outcome(op: str, who: str, owner_role: str, status: str, new_status, text):
    """(refusal or None, the status after) for one step, from DESIGN.md §3 and API.md."""
    role = owner_role if who == "owner" else role_of(who)
    manager = role in ACTION_MANAGER_ROLES
    if op == "update":
        if not (manager or who == "owner"):
            return NotAllowed, status
        if new_status == "completed" and not text:
            return InvalidInput, status
        if status in ("verified", "cancelled"):
            return Conflict, status
        if new_status is not None:
            return None, new_status
        return None, "in_progress" if status == "not_started" else status
    if op in ("verify", "send_back"):
        if not manager or who == "owner":
            return NotAllowed, status
        if op == "send_back" and not text:
            return InvalidInput, status
        if status != "completed":
            return Conflict, status
        return None, "verified" if op == "verify" else "in_progress"
    # cancel
    if not manager:
        return NotAllowed, status
    if not text:
        return InvalidInput, status
    if status in ("verified", "cancelled"):
        return Conflict, status
    return None, "cancelled"


@bounded
@given(owner_role=st.sampled_from(["auditor", "viewer", "head_of_service", "qa_lead"]), steps=action_steps)
def test_action_status_changes_keep_their_invariants(app, people, make_user, owner_role, steps):
    owner = make_user(owner_role)
    plan = plan_rules.create_plan({"title": f"Plan {next(_serial)}", "owner_id": people["other_head"].id, "starts_on": dt.date(2026, 4, 1), "ends_on": dt.date(2027, 3, 31)}, people["qa_lead"])
    priority = plan_rules.add_priority(plan, {"title": "Front door"}, people["qa_lead"])
    action = action_rules.raise_action({"title": "Audit thresholds", "owner_id": owner.id, "due_date": dt.date(2027, 1, 31), "plan_priority_id": priority.id}, people["qa_lead"])
    actors = {**people, "owner": owner}
    status = "not_started"
    successes = 0
    for op, who, new_status, text in steps:
        user = actors[who]
        before = status
        expected, after = expected_action_outcome(op, who, owner_role, status, new_status, text)
        if op == "update":
            call = lambda: action_rules.post_update(action, {"note": "Progress", "status": new_status, "evidence": text}, user)  # noqa: E731
        elif op == "verify":
            call = lambda: action_rules.verify_action(action, user, "Checked")  # noqa: E731
        elif op == "send_back":
            call = lambda: action_rules.send_back(action, user, text)  # noqa: E731
        else:
            call = lambda: action_rules.cancel_action(action, user, text)  # noqa: E731
        outcome = attempt(call)
        assert outcome is expected, (op, who, before, new_status, text)
        db.session.refresh(action)
        status = after
        successes += outcome is None
        assert action.status.value == status
        if status == "verified":
            assert before in ("completed", "verified")  # verified only from completed
            assert action.verified_by_id is not None and action.verified_by_id != action.owner_id
        if before in ("cancelled", "verified"):
            assert status == before  # final
        assert (action.completed_at is not None) == (status in DONE), (op, before, status)
    timeline = db.session.scalars(select(ActionUpdate).where(ActionUpdate.action_id == action.id)).all()
    assert len(timeline) == successes


# BRAG, percent complete and the plan's figures -------------------------------------------

STATUSES = [s.value for s in ActionStatus]
actions_drawn = st.lists(st.tuples(st.sampled_from(STATUSES), st.integers(min_value=-40, max_value=40), st.integers(min_value=0, max_value=2)), max_size=12)
days = st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2030, 12, 31))


def expected_brag(status: str, due: dt.date, today: dt.date) -> str | None:
    if status in DONE:
        return "blue"
    if status == "cancelled":
        return None
    if due < today:
        return "red"
    if due <= today + dt.timedelta(days=14):
        return "amber"
    return "green"


def expected_figures(rows: list[tuple[str, dt.date]], today: dt.date) -> dict:
    colours = [expected_brag(status, due, today) for status, due in rows]
    open_colours = [c for (status, _), c in zip(rows, colours) if status in OPEN]
    counted = sum(1 for status, _ in rows if status != "cancelled")
    done = sum(1 for status, _ in rows if status in DONE)
    if "red" in open_colours:
        brag = "red"
    elif "amber" in open_colours:
        brag = "amber"
    elif open_colours:
        brag = "green"
    elif done:
        brag = "blue"
    else:
        brag = None
    open_dues = [due for status, due in rows if status in OPEN]
    return {
        "total": len(rows),
        "overdue": open_colours.count("red"),
        "due_soon": open_colours.count("amber"),
        "percent_complete": percent(done, counted),
        "brag": brag,
        "next_deadline": min(open_dues) if open_dues else None,
        **{status: sum(1 for s, _ in rows if s == status) for status in STATUSES},
    }


@bounded
@given(today=days, drawn=actions_drawn)
def test_brag_in_python_and_in_sql_agree_and_plans_take_the_worst_open_colour(app, people, today, drawn):
    plan = plan_rules.create_plan({"title": f"Plan {next(_serial)}", "owner_id": people["head_of_service"].id, "starts_on": dt.date(2024, 4, 1), "ends_on": dt.date(2031, 3, 31)}, people["qa_lead"])
    priorities = [plan_rules.add_priority(plan, {"title": f"Priority {n}"}, people["qa_lead"]) for n in range(3)]
    actions = []
    for status, offset, priority in drawn:
        action = Action(
            title="An action",
            owner_id=people["lead"].id,
            due_date=today + dt.timedelta(days=offset),
            status=ActionStatus(status),
            plan_priority_id=priorities[priority].id,
            completed_at=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc) if status in DONE else None,
        )
        db.session.add(action)
        actions.append(action)
    db.session.commit()
    ids = [a.id for a in actions]

    for action in actions:
        colour = action_rules.brag_of(action, today)
        assert (colour.value if colour else None) == expected_brag(action.status.value, action.due_date, today)
        assert action_rules.is_overdue(action, today) == (colour is Brag.RED)
    for colour in Brag:
        in_sql = set(db.session.scalars(select(Action.id).where(Action.id.in_(ids), action_rules.brag_clause(colour, today))))
        in_python = {a.id for a in actions if action_rules.brag_of(a, today) is colour}
        assert in_sql == in_python, colour
    listed = set(db.session.scalars(action_rules.actions_query({"plan_id": plan.id, "overdue": True}, today).with_only_columns(Action.id)))
    assert listed == {a.id for a in actions if action_rules.brag_of(a, today) is Brag.RED}

    summary = plan_rules.plan_summary(plan, today)
    expected = expected_figures([(s, today + dt.timedelta(days=o)) for s, o, _ in drawn], today)
    got = {key: summary[key] for key in expected}
    got["brag"] = got["brag"].value if isinstance(got["brag"], Brag) else got["brag"]
    got["next_deadline"] = dt.date.fromisoformat(got["next_deadline"]) if isinstance(got["next_deadline"], str) else got["next_deadline"]
    assert got == expected
    for row in summary["priorities"]:
        n = next(i for i, p in enumerate(priorities) if p.id == row["id"])
        mine = expected_figures([(s, today + dt.timedelta(days=o)) for s, o, p in drawn if p == n], today)
        brag = row["brag"].value if isinstance(row["brag"], Brag) else row["brag"]
        assert (row["total"], row["overdue"], row["percent_complete"], brag) == (mine["total"], mine["overdue"], mine["percent_complete"], mine["brag"])


def _ties():
    """Fractions whose percentage lies exactly halfway between two tenths (0.05 %,
    0.15 %, ... 6.25 %, 99.95 %): where half up and other roundings part."""
    return st.tuples(st.integers(min_value=0, max_value=999), st.integers(min_value=1, max_value=3)).map(
        lambda pair: (Fraction(2 * pair[0] + 1, 2000).numerator * pair[1], Fraction(2 * pair[0] + 1, 2000).denominator * pair[1])
    )


@settings(max_examples=300, derandomize=True, database=None)
@given(
    pair=st.one_of(
        st.tuples(st.integers(min_value=0, max_value=5000), st.integers(min_value=0, max_value=5000)).map(lambda p: (p[0], p[0] + p[1])),
        _ties(),
    )
)
def test_percentages_round_half_up_to_one_decimal(pair):
    """The two roundings the services use agree with exact arithmetic, ties included."""
    part, whole = pair
    assert recording_rules.percentage(part, whole) == percent(part, whole)
    if whole:
        assert action_rules.round_half_up(100 * part / whole) == percent(part, whole)


# Compliance -----------------------------------------------------------------------------

ANSWERS = ["met", "partially_met", "not_met", "not_applicable"]
grids = st.integers(min_value=1, max_value=4).flatmap(
    lambda questions: st.lists(st.lists(st.one_of(st.none(), st.sampled_from(ANSWERS)), min_size=questions, max_size=questions), max_size=6)
)


@bounded
@given(grid=grids, questions=st.integers(min_value=1, max_value=4))
def test_compliance_is_met_over_everything_but_not_applicable(app, people, make_question_set, grid, questions):
    width = len(grid[0]) if grid else questions
    question_set = make_question_set(f"Set {next(_serial)}", [f"Question {n + 1}?" for n in range(width)])
    audit = audit_rules.schedule_audit(
        {
            "type": "dip_sample",
            "title": f"Dip sample {next(_serial)}",
            "service_id": people["service"].id,
            "scheduled_for": dt.date(2026, 12, 1),
            "lead_auditor_id": people["lead"].id,
            "question_set_id": question_set.id,
        }
    )
    audit_rules.change_status(audit, "in_progress", people["lead"])
    question_ids = [q.id for q in question_set.questions]
    for n, row in enumerate(grid):
        answers = {str(qid): value for qid, value in zip(question_ids, row) if value is not None}
        recording_rules.add_case(audit, people["lead"], f"CASE-{n:04d}", answers)

    result = recording_rules.compliance(audit)

    totals = dict.fromkeys(ANSWERS, 0)
    for column, row in zip(question_ids, result["questions"]):
        values = [line[question_ids.index(column)] for line in grid]
        counts = {answer: values.count(answer) for answer in ANSWERS}
        assert row["question_id"] == column
        assert {answer: row[answer] for answer in ANSWERS} == counts
        assert row["compliance"] == percent(counts["met"], counts["met"] + counts["partially_met"] + counts["not_met"])
        for answer in ANSWERS:
            totals[answer] += counts[answer]
    assert result["overall"] == percent(totals["met"], totals["met"] + totals["partially_met"] + totals["not_met"])
    # Completing needs every answer: refused (409) exactly while some are missing.
    missing = sum(value is None for line in grid for value in line)
    assert recording_rules.unanswered(audit) == missing
    assert attempt(lambda: audit_rules.change_status(audit, "completed", people["lead"])) is (Conflict if missing else None)
