"""Rules for improvement plans, their priorities and measures, and the figures a tracker
shows (BRAG, counts, percent complete), always aggregated in SQL."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from qa_audit import dates
from qa_audit.actions import services as action_rules
from qa_audit.actions.models import Action, ActionStatus
from qa_audit.admin.models import Service
from qa_audit.auth.models import User
from qa_audit.auth.permissions import can_create_plans, can_manage_plan
from qa_audit.errors import Conflict, InvalidInput, NotAllowed
from qa_audit.extensions import db
from qa_audit.records import check_version
from qa_audit.plans.models import ImprovementPlan, Measure, MeasureValue, PlanPriority
from qa_audit.validation import SUMMARY_MAX, TEXT_MAX, TITLE_MAX, check_text

STALE = "Someone else changed this plan at the same time. Your changes have not been saved: check the plan, then make them again."
MEASURE_LIMIT = Decimal("9999999999.99")


def _check_plan(data: dict[str, Any], current: ImprovementPlan | None = None) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    creating = current is None
    if creating or "title" in data:
        values["title"] = check_text(errors, "title", data.get("title"), label="Title", max_length=TITLE_MAX, required=True, missing_message="Enter a title for the plan")
    if creating or "description" in data:
        values["description"] = check_text(errors, "description", data.get("description"), label="Description", max_length=TEXT_MAX, multiline=True)
    if creating or "board" in data:
        values["board"] = check_text(errors, "board", data.get("board"), label="Governance board", max_length=TITLE_MAX)
    if creating or "owner_id" in data:
        owner_id = action_rules._id(data.get("owner_id"), errors, "owner_id", "Select an owner from the list")
        owner = db.session.get(User, owner_id) if owner_id else None
        if owner is None or not owner.active:
            if "owner_id" not in errors:
                errors.setdefault("owner_id", []).append("Select an active user as the plan's owner")
        values["owner_id"] = owner_id
    if creating or "service_id" in data:
        service_id = action_rules._id(data.get("service_id"), errors, "service_id", "Select a service from the list")
        if service_id and db.session.get(Service, service_id) is None:
            errors.setdefault("service_id", []).append("Select a service from the list")
        values["service_id"] = service_id
    for field, label in (("starts_on", "Start date"), ("ends_on", "End date")):
        if creating or field in data:
            values[field] = action_rules.parse_date(data.get(field), errors, field, label, required=True)
    starts_on = values.get("starts_on", current.starts_on if current else None)
    ends_on = values.get("ends_on", current.ends_on if current else None)
    if starts_on and ends_on and ends_on < starts_on and "ends_on" not in errors:
        errors.setdefault("ends_on", []).append("End date must be the same as or after the start date")
    if errors:
        raise InvalidInput(errors)
    return values


def create_plan(data: dict[str, Any], user: User) -> ImprovementPlan:
    if not can_create_plans(user):
        raise NotAllowed("Only QA leads, heads of service and admins can create improvement plans.")
    plan = ImprovementPlan(**_check_plan(data))
    db.session.add(plan)
    db.session.commit()
    return plan


def edit_plan(plan: ImprovementPlan, data: dict[str, Any], user: User, *, version: Any) -> ImprovementPlan:
    if not can_manage_plan(user, plan):
        raise NotAllowed("Only the plan's owner, a QA lead or an admin can change this plan.")
    values = _check_plan(data, plan)
    check_version(plan, version, STALE)
    for key, value in values.items():
        setattr(plan, key, value)
    db.session.commit()
    return plan


def add_priority(plan: ImprovementPlan, data: dict[str, Any], user: User) -> PlanPriority:
    if not can_manage_plan(user, plan):
        raise NotAllowed("Only the plan's owner, a QA lead or an admin can add priorities to this plan.")
    errors: dict[str, list[str]] = {}
    title = check_text(errors, "title", data.get("title"), label="Title", max_length=TITLE_MAX, required=True, missing_message="Enter a title for the priority")
    if errors:
        raise InvalidInput(errors)
    plan_id = plan.id
    # Two people adding a priority at once both pick the next position; the unique
    # (plan, position) index refuses the second, which then takes the one after.
    for _ in range(5):
        priority = PlanPriority(plan_id=plan_id, title=title, position=_next_position(plan_id))
        db.session.add(priority)
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            continue
        return priority
    raise Conflict("Others are adding priorities to this plan at the same moment: try again.")


def _next_position(plan_id: int) -> int:
    return (db.session.scalar(select(func.max(PlanPriority.position)).where(PlanPriority.plan_id == plan_id)) or 0) + 1


def rename_priority(priority: PlanPriority, data: dict[str, Any], user: User, *, version: Any) -> PlanPriority:
    if not can_manage_plan(user, priority.plan):
        raise NotAllowed("Only the plan's owner, a QA lead or an admin can change this plan.")
    errors: dict[str, list[str]] = {}
    title = check_text(errors, "title", data.get("title"), label="Title", max_length=TITLE_MAX, required=True, missing_message="Enter a title for the priority")
    if errors:
        raise InvalidInput(errors)
    check_version(priority, version, STALE)
    priority.title = title
    db.session.commit()
    return priority


def move_priority(priority: PlanPriority, direction: str, user: User) -> None:
    """Swap with the neighbour above or below: the order is the board's order of importance."""
    if not can_manage_plan(user, priority.plan):
        raise NotAllowed("Only the plan's owner, a QA lead or an admin can change this plan.")
    siblings = list(db.session.scalars(select(PlanPriority).where(PlanPriority.plan_id == priority.plan_id).order_by(PlanPriority.position)))
    index = siblings.index(priority)
    other_index = index - 1 if direction == "up" else index + 1
    if not 0 <= other_index < len(siblings):
        return
    other = siblings[other_index]
    first, second = priority.position, other.position
    # The unique (plan, position) constraint forbids a direct swap: park one first.
    try:
        priority.position = -1
        db.session.flush()
        other.position = first
        db.session.flush()
        priority.position = second
        db.session.commit()
    except (IntegrityError, StaleDataError):
        # Someone else reordered this plan at the same moment: theirs stands.
        db.session.rollback()
        raise Conflict("Someone else changed the order of these priorities at the same time. Check the order, then move it again.") from None


def _number(value: Any, errors: dict[str, list[str]], field: str, label: str, *, required: bool = True) -> Decimal | None:
    if value in (None, ""):
        if required:
            errors.setdefault(field, []).append(f"Enter the {label.lower()}")
        return None
    if isinstance(value, bool):
        errors.setdefault(field, []).append(f"{label} must be a number")
        return None
    try:
        number = Decimal(str(value).strip().replace(",", "").rstrip("%"))
    except InvalidOperation:
        errors.setdefault(field, []).append(f"{label} must be a number, like 24 or 63.4")
        return None
    if not number.is_finite() or abs(number) > MEASURE_LIMIT:
        errors.setdefault(field, []).append(f"{label} must be a number, like 24 or 63.4")
        return None
    return number.quantize(Decimal("0.01"))


def add_measure(priority: PlanPriority, data: dict[str, Any], user: User) -> Measure:
    if not can_manage_plan(user, priority.plan):
        raise NotAllowed("Only the plan's owner, a QA lead or an admin can add measures.")
    errors: dict[str, list[str]] = {}
    title = check_text(errors, "title", data.get("title"), label="Measure", max_length=TITLE_MAX, required=True, missing_message="Enter what is measured")
    unit = check_text(errors, "unit", data.get("unit"), label="Unit", max_length=40)
    baseline = _number(data.get("baseline"), errors, "baseline", "Baseline")
    target = _number(data.get("target"), errors, "target", "Target")
    baseline_on = action_rules.parse_date(data.get("baseline_on"), errors, "baseline_on", "Baseline date", required=False)
    if errors:
        raise InvalidInput(errors)
    measure = Measure(priority_id=priority.id, title=title, unit=unit, baseline=baseline, target=target, baseline_on=baseline_on)
    db.session.add(measure)
    db.session.commit()
    return measure


def record_measure_value(measure: Measure, data: dict[str, Any], user: User) -> MeasureValue:
    if not can_manage_plan(user, measure.priority.plan):
        raise NotAllowed("Only the plan's owner, a QA lead or an admin can record measures.")
    errors: dict[str, list[str]] = {}
    measured_on = action_rules.parse_date(data.get("measured_on"), errors, "measured_on", "Date", required=True)
    value = _number(data.get("value"), errors, "value", "Value")
    note = check_text(errors, "note", data.get("note"), label="Note", max_length=SUMMARY_MAX, multiline=True)
    if measured_on and measured_on > dates.today():
        errors.setdefault("measured_on", []).append("Date must be today or in the past")
    if measured_on and "measured_on" not in errors:
        taken = db.session.scalar(select(MeasureValue.id).where(MeasureValue.measure_id == measure.id, MeasureValue.measured_on == measured_on))
        if taken:
            errors.setdefault("measured_on", []).append("A value is already recorded for that date")
    if errors:
        raise InvalidInput(errors)
    row = MeasureValue(measure_id=measure.id, measured_on=measured_on, value=value, note=note, recorded_by_id=user.id)
    db.session.add(row)
    db.session.commit()
    return row


# Figures ----------------------------------------------------------------------------


def plan_figures(plan_id: int, filters: dict[str, Any] | None = None, today: date | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The plan's figures and each priority's, from one grouped query. Filters (owner,
    service, status, brag) narrow the actions counted, as on the tracker page: they are
    conditions of the join, so each priority's actions are counted from the index. The
    plan's figures are its priorities' added up (each of its actions is under one)."""
    today = today or dates.today()
    filters = {key: value for key, value in (filters or {}).items() if key != "plan_id"}
    joined = Action.plan_priority_id == PlanPriority.id
    conditions = action_rules.actions_query(filters, today).whereclause
    if conditions is not None:
        joined = and_(joined, conditions)
    columns = action_rules.count_columns(today)
    per_priority = db.session.execute(
        select(PlanPriority.id, PlanPriority.title, PlanPriority.position, *columns)
        .select_from(PlanPriority)
        .outerjoin(Action, joined)
        .where(PlanPriority.plan_id == plan_id)
        .group_by(PlanPriority.id, PlanPriority.title, PlanPriority.position)
        .order_by(PlanPriority.position)
    ).all()
    counted = ["total", *(status.value for status in ActionStatus), "overdue", "due_soon"]
    deadlines = [row.next_deadline for row in per_priority if row.next_deadline is not None]
    overall = SimpleNamespace(**{key: sum(getattr(row, key) or 0 for row in per_priority) for key in counted}, next_deadline=min(deadlines, default=None))
    priorities = []
    for row in per_priority:
        figures = action_rules.summarise(row)
        figures.update({"id": row.id, "title": row.title})
        priorities.append(figures)
    return action_rules.summarise(overall), priorities


def plan_summary(plan: ImprovementPlan, today: date | None = None) -> dict[str, Any]:
    """GET /api/v1/plans/{id}/summary, exactly as API.md gives it."""
    overall, priorities = plan_figures(plan.id, today=today)
    brag = overall["brag"]
    return {
        "plan_id": plan.id,
        **{key: overall[key] for key in ("total", "not_started", "in_progress", "completed", "verified", "cancelled", "overdue", "due_soon", "percent_complete")},
        "brag": brag.value if brag else None,
        "next_deadline": overall["next_deadline"].isoformat() if overall["next_deadline"] else None,
        "priorities": [
            {
                "id": p["id"],
                "title": p["title"],
                "total": p["total"],
                "overdue": p["overdue"],
                "percent_complete": p["percent_complete"],
                "brag": p["brag"].value if p["brag"] else None,
            }
            for p in priorities
        ],
    }
