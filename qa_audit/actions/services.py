"""Rules for actions: raising them, progress, sign-off, cancelling, and what counts as
overdue, due soon and each BRAG colour (DESIGN.md §3). The HTML views, the API, the
importer and the reminders command all come here."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_, select, union
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.sql.elements import ColumnElement

from qa_audit import dates
from qa_audit.actions.models import (
    DONE,
    OPEN,
    Action,
    ActionPriority,
    ActionStatus,
    ActionUpdate,
    Brag,
    UpdateKind,
)
from qa_audit.audits.models import Audit
from qa_audit.auth.models import User
from qa_audit.auth.permissions import (
    can_cancel_action,
    can_edit_action,
    can_post_update,
    can_raise_actions,
    can_verify_action,
)
from qa_audit.auth.services import people_matching
from qa_audit.errors import Conflict, InvalidInput, NotAllowed
from qa_audit.extensions import db
from qa_audit.records import check_version
from qa_audit.findings.models import Finding
from qa_audit.plans.models import PlanPriority
from qa_audit.types import utcnow
from qa_audit.validation import EARLIEST_DATE, LATEST_DATE, MAX_ID, TEXT_MAX, TITLE_MAX, check_text

DUE_SOON_DAYS = 14
# A progress note posted while someone else changes the action is posted again on the
# action as it is now, this many times in all.
POST_ATTEMPTS = 3
MAX_WORKING_DAYS = 2000
STALE = "Someone else changed this action at the same time. Your changes have not been saved: check the action, then make them again."


# Overdue, due soon and BRAG ---------------------------------------------------------


def is_overdue(action: Action, today: date | None = None) -> bool:
    today = today or dates.today()
    return action.status in OPEN and action.due_date < today


def is_due_soon(action: Action, today: date | None = None) -> bool:
    today = today or dates.today()
    return action.status in OPEN and today <= action.due_date <= today + timedelta(days=DUE_SOON_DAYS)


def brag_of(action: Action, today: date | None = None) -> Brag | None:
    """Blue when done, Red overdue, Amber due soon, Green otherwise open; a cancelled action has no colour."""
    if action.status in DONE:
        return Brag.BLUE
    if action.status is ActionStatus.CANCELLED:
        return None
    if is_overdue(action, today):
        return Brag.RED
    if is_due_soon(action, today):
        return Brag.AMBER
    return Brag.GREEN


def overdue_clause(today: date) -> ColumnElement[bool]:
    return and_(Action.status.in_(OPEN), Action.due_date < today)


def due_soon_clause(today: date) -> ColumnElement[bool]:
    return and_(Action.status.in_(OPEN), Action.due_date >= today, Action.due_date <= today + timedelta(days=DUE_SOON_DAYS))


def brag_clause(brag: Brag, today: date) -> ColumnElement[bool]:
    """The SQL twin of brag_of, for filtering and counting in the database."""
    if brag is Brag.BLUE:
        return Action.status.in_(DONE)
    if brag is Brag.RED:
        return overdue_clause(today)
    if brag is Brag.AMBER:
        return due_soon_clause(today)
    return and_(Action.status.in_(OPEN), Action.due_date > today + timedelta(days=DUE_SOON_DAYS))


def count_columns(today: date) -> list:
    """Counts per status, overdue and due soon, as SQL aggregates to add to any grouped query."""

    def count(condition) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    return [
        func.count(Action.id).label("total"),
        *(count(Action.status == status).label(status.value) for status in ActionStatus),
        count(overdue_clause(today)).label("overdue"),
        count(due_soon_clause(today)).label("due_soon"),
        func.min(case((Action.status.in_(OPEN), Action.due_date))).label("next_deadline"),
    ]


def summarise(row: Any) -> dict[str, Any]:
    """Turn a row of count_columns into the figures DESIGN.md §3 defines."""
    figures: dict[str, Any] = {"total": int(row.total or 0)}
    for status in ActionStatus:
        figures[status.value] = int(getattr(row, status.value) or 0)
    figures["overdue"] = int(row.overdue or 0)
    figures["due_soon"] = int(row.due_soon or 0)
    figures["next_deadline"] = row.next_deadline
    counted = figures["total"] - figures["cancelled"]
    done = figures["completed"] + figures["verified"]
    figures["done"] = done
    figures["open"] = figures["not_started"] + figures["in_progress"]
    figures["percent_complete"] = round_half_up(100 * done / counted) if counted else None
    figures["green"] = figures["open"] - figures["overdue"] - figures["due_soon"]
    figures["brag"] = worst_brag(figures)
    return figures


def worst_brag(figures: dict[str, Any]) -> Brag | None:
    """A plan's or priority's colour is its worst open action's; Blue when all are done;
    none when it has no actions but cancelled ones."""
    if figures["overdue"]:
        return Brag.RED
    if figures["due_soon"]:
        return Brag.AMBER
    if figures["open"]:
        return Brag.GREEN
    if figures["done"]:
        return Brag.BLUE
    return None


def round_half_up(value: float, places: int = 1) -> float:
    from decimal import ROUND_HALF_UP, Decimal

    return float(Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


# Input ------------------------------------------------------------------------------


def parse_date(value: Any, errors: dict[str, list[str]], field: str, label: str, *, required: bool) -> date | None:
    if value in (None, ""):
        if required:
            errors.setdefault(field, []).append(f"Enter the {label.lower()}")
        return None
    if isinstance(value, date):
        parsed = value
    else:
        try:
            parsed = date.fromisoformat(str(value))
        except ValueError:
            errors.setdefault(field, []).append(f"{label} must be a real date")
            return None
    if not EARLIEST_DATE <= parsed <= LATEST_DATE:
        errors.setdefault(field, []).append(f"{label} must be between {EARLIEST_DATE.year} and {LATEST_DATE.year}")
        return None
    return parsed


def _id(value: Any, errors: dict[str, list[str]], field: str, message: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        errors.setdefault(field, []).append(message)
        return None
    if isinstance(value, bool) or not 1 <= number <= MAX_ID:
        errors.setdefault(field, []).append(message)
        return None
    return number


def due_date_from(data: dict[str, Any], errors: dict[str, list[str]], *, required: bool = True) -> date | None:
    """A due date given as a date, or as a number of working days from today."""
    working_days = data.get("due_in_working_days")
    if working_days not in (None, ""):
        try:
            days = int(working_days)
        except (TypeError, ValueError):
            days = -1
        if isinstance(working_days, bool) or not 1 <= days <= MAX_WORKING_DAYS:
            errors.setdefault("due_in_working_days", []).append(f"Number of working days must be a whole number from 1 to {MAX_WORKING_DAYS:,}")
            return None
        return dates.add_working_days(dates.today(), days)
    return parse_date(data.get("due_date"), errors, "due_date", "Due date", required=required)


def _check(data: dict[str, Any], *, current: Action | None = None) -> dict[str, Any]:
    """Validate the fields given (all of them when raising, any when editing)."""
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    creating = current is None
    if creating or "title" in data:
        values["title"] = check_text(errors, "title", data.get("title"), label="Title", max_length=TITLE_MAX, required=True, missing_message="Enter a title for the action")
    if creating or "owner_id" in data:
        owner_id = _id(data.get("owner_id"), errors, "owner_id", "Select an owner from the list")
        owner = db.session.get(User, owner_id) if owner_id else None
        if owner_id and (owner is None or not owner.active):
            errors.setdefault("owner_id", []).append("Select an active user as the owner")
        elif owner is None and "owner_id" not in errors:
            errors.setdefault("owner_id", []).append("Select who owns the action")
        values["owner_id"] = owner_id
    if creating or "due_date" in data or "due_in_working_days" in data:
        values["due_date"] = due_date_from(data, errors)
    if creating or "priority" in data:
        priority = data.get("priority") or ActionPriority.MEDIUM.value
        try:
            values["priority"] = ActionPriority(priority)
        except ValueError:
            errors.setdefault("priority", []).append("Select high, medium or low priority")
    if creating or "plan_priority_id" in data:
        priority_id = _id(data.get("plan_priority_id"), errors, "plan_priority_id", "Select a plan priority from the list")
        if priority_id and db.session.get(PlanPriority, priority_id) is None:
            errors.setdefault("plan_priority_id", []).append("Select a plan priority from the list")
        values["plan_priority_id"] = priority_id
    if creating:
        finding_id = _id(data.get("finding_id"), errors, "finding_id", "Select a finding from the list")
        if finding_id and db.session.get(Finding, finding_id) is None:
            errors.setdefault("finding_id", []).append("Select a finding from the list")
        values["finding_id"] = finding_id
        if not errors.get("finding_id") and not errors.get("plan_priority_id") and not (finding_id or values.get("plan_priority_id")):
            errors.setdefault("plan_priority_id", []).append("Select the plan priority the action belongs to, or raise it from a finding")
    elif "plan_priority_id" in data and values.get("plan_priority_id") is None and current.finding_id is None:
        errors.setdefault("plan_priority_id", []).append("An action not raised from a finding must stay under a plan priority")
    if creating or "approved_by" in data:
        values["approved_by"] = check_text(errors, "approved_by", data.get("approved_by"), label="Board", max_length=TITLE_MAX)
    if creating or "approved_on" in data:
        values["approved_on"] = parse_date(data.get("approved_on"), errors, "approved_on", "Date approved", required=False)
    if errors:
        raise InvalidInput(errors)
    return values


# Raising and editing ----------------------------------------------------------------


def raise_action(data: dict[str, Any], user: User) -> Action:
    """An action from a finding, or directly under a plan priority."""
    if not can_raise_actions(user):
        raise NotAllowed("Only QA leads, heads of service and admins can raise actions.")
    action = new_action(data, user)
    db.session.add(action)
    db.session.commit()
    return action


def new_action(data: dict[str, Any], user: User) -> Action:
    """A new action checked as raise_action checks it (InvalidInput otherwise), not yet
    added to the session: the importer checks every row before saving any. Who may
    raise it is the caller's to check."""
    values = _check(data)
    action = Action(created_by_id=user.id, **values)
    if action.finding_id:
        finding = db.session.get(Finding, action.finding_id)
        action.service_id = finding.audit.service_id
    elif action.plan_priority_id:
        action.service_id = db.session.get(PlanPriority, action.plan_priority_id).plan.service_id
    return action


def edit_action(action: Action, data: dict[str, Any], user: User, *, version: Any) -> Action:
    if not can_edit_action(user, action):
        raise NotAllowed("Only a QA lead, the plan's owner or the head of the service can change this action.")
    values = _check(data, current=action)
    if action.status is ActionStatus.CANCELLED:
        raise Conflict("This action was cancelled, so it cannot be changed.")
    check_version(action, version, STALE)
    for key, value in values.items():
        setattr(action, key, value)
    db.session.commit()
    return action


# Progress, sign-off and cancelling ---------------------------------------------------


def post_update(action: Action, data: dict[str, Any], user: User) -> ActionUpdate:
    """A dated note from the owner (or a manager), perhaps moving the action on.
    Completing needs evidence of what was done."""
    if not can_post_update(user, action):
        raise NotAllowed("Only the action's owner, a QA lead or a head of service can post progress on it.")
    errors: dict[str, list[str]] = {}
    note = check_text(errors, "note", data.get("note"), label="Note", max_length=TEXT_MAX, required=True, multiline=True, missing_message="Enter a note of the progress made")
    evidence = check_text(errors, "evidence", data.get("evidence"), label="Evidence", max_length=TEXT_MAX, multiline=True)
    status = None
    if data.get("status") not in (None, ""):
        try:
            status = ActionStatus(data.get("status"))
        except ValueError:
            status = None
        if status not in (ActionStatus.IN_PROGRESS, ActionStatus.COMPLETED):
            errors.setdefault("status", []).append("Select in progress or completed")
            status = None
    if status is ActionStatus.COMPLETED and not evidence:
        errors.setdefault("evidence", []).append("Enter the evidence that the action is complete")
    if errors:
        raise InvalidInput(errors)
    for _attempt in range(POST_ATTEMPTS):
        if action.status in (ActionStatus.VERIFIED, ActionStatus.CANCELLED):
            raise Conflict(f"This action is {action.status.label.lower()}, so no more progress can be posted on it.")
        update = ActionUpdate(action=action, kind=UpdateKind.PROGRESS, note=note, evidence=evidence, status=status, author_id=user.id)
        db.session.add(update)
        if status is not None and status is not action.status:
            action.status = status
            action.completed_at = utcnow() if status is ActionStatus.COMPLETED else None
        elif status is None and action.status is ActionStatus.NOT_STARTED:
            # Any progress at all means the work has started.
            action.status = ActionStatus.IN_PROGRESS
            update.status = ActionStatus.IN_PROGRESS
        try:
            db.session.commit()
        except StaleDataError:
            # Someone moved the action on at the same moment (two notes starting it at
            # once, an edit, a sign-off). A note adds to the timeline rather than
            # overwriting anything, so post it again on the action as it is now,
            # whose status is checked again above.
            db.session.rollback()
            continue
        return update
    raise Conflict(STALE)


def verify_action(action: Action, user: User, note: str | None = None) -> Action:
    """A head of service or QA lead who is not the owner signs off a completed action."""
    if not can_verify_action(user, action):
        if action.owner_id == user.id:
            raise NotAllowed("You own this action, so someone else must sign it off.")
        raise NotAllowed("Only a head of service, a QA lead or an admin can sign off an action.")
    errors: dict[str, list[str]] = {}
    note = check_text(errors, "note", note, label="Note", max_length=TEXT_MAX, multiline=True)
    if errors:
        raise InvalidInput(errors)
    if action.status is not ActionStatus.COMPLETED:
        raise Conflict(f"Only a completed action can be signed off; this one is {action.status.label.lower()}.")
    action.status = ActionStatus.VERIFIED
    action.verified_at = utcnow()
    action.verified_by_id = user.id
    db.session.add(ActionUpdate(action=action, kind=UpdateKind.VERIFIED, note=note or "Signed off.", status=ActionStatus.VERIFIED, author_id=user.id))
    db.session.commit()
    return action


def send_back(action: Action, user: User, reason: str | None) -> Action:
    """Not done yet: the owner gets it back in progress, with the reason on its timeline."""
    if not can_verify_action(user, action):
        if action.owner_id == user.id:
            raise NotAllowed("You own this action, so someone else must review it.")
        raise NotAllowed("Only a head of service, a QA lead or an admin can send an action back.")
    errors: dict[str, list[str]] = {}
    reason = check_text(errors, "reason", reason, label="Reason", max_length=TEXT_MAX, required=True, multiline=True, missing_message="Enter why the action is being sent back")
    if errors:
        raise InvalidInput(errors)
    if action.status is not ActionStatus.COMPLETED:
        raise Conflict(f"Only a completed action can be sent back; this one is {action.status.label.lower()}.")
    action.status = ActionStatus.IN_PROGRESS
    action.completed_at = None
    db.session.add(ActionUpdate(action=action, kind=UpdateKind.SENT_BACK, note=reason, status=ActionStatus.IN_PROGRESS, author_id=user.id))
    db.session.commit()
    return action


def cancel_action(action: Action, user: User, reason: str | None) -> Action:
    if not can_cancel_action(user, action):
        raise NotAllowed("Only QA leads, heads of service and admins can cancel actions.")
    errors: dict[str, list[str]] = {}
    reason = check_text(errors, "reason", reason, label="Reason", max_length=TEXT_MAX, required=True, multiline=True, missing_message="Enter why the action is being cancelled")
    if errors:
        raise InvalidInput(errors)
    if action.status in (ActionStatus.VERIFIED, ActionStatus.CANCELLED):
        raise Conflict(f"This action is already {action.status.label.lower()}.")
    action.status = ActionStatus.CANCELLED
    action.completed_at = None  # a cancelled action is not complete (the history keeps when it was)
    action.cancellation_reason = reason
    db.session.add(ActionUpdate(action=action, kind=UpdateKind.CANCELLED, note=reason, status=ActionStatus.CANCELLED, author_id=user.id))
    db.session.commit()
    return action


# Lists ------------------------------------------------------------------------------


def actions_query(filters: dict[str, Any], today: date | None = None):
    """Actions matching the filters of the lists, the tracker and the API (all optional):
    owner_id, owner_text (part of the owner's name or email), status, overdue, plan_id,
    priority_id, audit_id, service_id, brag."""
    from qa_audit.plans.models import PlanPriority

    today = today or dates.today()
    query = select(Action)
    if filters.get("owner_id"):
        query = query.where(Action.owner_id == filters["owner_id"])
    if filters.get("owner_text"):
        query = query.where(Action.owner_id.in_(select(User.id).where(people_matching(filters["owner_text"]))))
    if filters.get("status"):
        statuses = filters["status"] if isinstance(filters["status"], (list, tuple)) else [filters["status"]]
        query = query.where(Action.status.in_([ActionStatus(s) for s in statuses]))
    if filters.get("overdue") is True:
        query = query.where(overdue_clause(today))
    elif filters.get("overdue") is False:
        query = query.where(~overdue_clause(today))
    if filters.get("due_soon"):
        query = query.where(due_soon_clause(today))
    if filters.get("plan_id"):
        query = query.where(Action.plan_priority_id.in_(select(PlanPriority.id).where(PlanPriority.plan_id == filters["plan_id"])))
    if filters.get("priority_id"):
        query = query.where(Action.plan_priority_id == filters["priority_id"])
    if filters.get("audit_id"):
        audits = select(Audit.id).where((Audit.id == filters["audit_id"]) | (Audit.parent_id == filters["audit_id"]))
        query = query.where(Action.finding_id.in_(select(Finding.id).where(Finding.audit_id.in_(audits))))
    if filters.get("service_id"):
        query = query.where(Action.service_id == filters["service_id"])
    if filters.get("brag"):
        query = query.where(brag_clause(Brag(filters["brag"]), today))
    return query


def actions_of_finding(finding: Finding) -> list[Action]:
    """A finding's actions with their owners, soonest due first."""
    from sqlalchemy.orm import selectinload

    query = select(Action).where(Action.finding_id == finding.id).options(selectinload(Action.owner)).order_by(Action.due_date, Action.id)
    return list(db.session.scalars(query))


def actions_of_audit(audit: Audit) -> list[Action]:
    """Every action raised from a finding of this audit or of its parts, whatever its status."""
    query = actions_query({"audit_id": audit.id}).order_by(Action.due_date, Action.id)
    return list(db.session.scalars(query))


def in_charge_of(user: User) -> ColumnElement[bool]:
    """Actions in the plans this person owns or for the services they head: what a head
    of service answers for at the board."""
    from qa_audit.admin.models import Service
    from qa_audit.plans.models import ImprovementPlan

    return or_(
        Action.plan_priority_id.in_(select(PlanPriority.id).join(PlanPriority.plan).where(ImprovementPlan.owner_id == user.id)),
        Action.service_id.in_(select(Service.id).where(Service.head_of_service_id == user.id)),
    )


def _charge_union(query, user: User):
    from qa_audit.admin.models import Service
    from qa_audit.plans.models import ImprovementPlan

    ids = query.with_only_columns(Action.id).order_by(None)
    plans = ids.where(Action.plan_priority_id.in_(select(PlanPriority.id).join(PlanPriority.plan).where(ImprovementPlan.owner_id == user.id)))
    services = ids.where(Action.service_id.in_(select(Service.id).where(Service.head_of_service_id == user.id)))
    return union(plans, services)


def within_charge_of(query, user: User):
    """The actions of ``query`` that are in this person's charge (as in_charge_of), as a
    new query over the union of the matching actions in their plans and those for their
    services, each side narrowed by ``query``'s own conditions. The database starts from
    what one person answers for (their plans' and services' indexes), never from every
    action in the council with the status asked for, so the cost does not grow with the
    council. Add ordering and loading options to the query returned."""
    return select(Action).where(Action.id.in_(_charge_union(query, user)))


def count_within_charge_of(query, user: User) -> int:
    """How many of within_charge_of's actions there are, counted from the union itself
    (joining it back to every action would read the whole table on PostgreSQL)."""
    return db.session.scalar(select(func.count()).select_from(_charge_union(query, user).subquery()))


def _completed_by_others(user: User, today: date | None):
    return actions_query({"status": ActionStatus.COMPLETED.value}, today).where(Action.owner_id != user.id)


def awaiting_sign_off(user: User, today: date | None = None):
    """Completed actions this person may sign off: not their own; for a head of service,
    only those in their charge."""
    from qa_audit.auth.models import Role

    query = _completed_by_others(user, today)
    if user.role is Role.HEAD_OF_SERVICE:
        query = within_charge_of(query, user)
    return query


def count_awaiting_sign_off(user: User, today: date | None = None) -> int:
    """How many actions awaiting_sign_off finds, counted without loading them."""
    from qa_audit.auth.models import Role

    query = _completed_by_others(user, today)
    if user.role is Role.HEAD_OF_SERVICE:
        return count_within_charge_of(query, user)
    return db.session.scalar(query.with_only_columns(func.count(Action.id)).order_by(None))
