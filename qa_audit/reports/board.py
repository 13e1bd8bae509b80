"""The quarterly progress report a head of service takes to the board: for a plan and a
quarter, what was completed, what is overdue and why (its latest update), what is due
next quarter, and how the plan's measures moved. Loaded in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from qa_audit import dates
from qa_audit.actions import services as action_rules
from qa_audit.actions.models import DONE, OPEN, Action, ActionUpdate
from qa_audit.audits.programme import Quarter, quarter_of
from qa_audit.extensions import db
from qa_audit.plans import tracker
from qa_audit.plans.models import ImprovementPlan, PlanPriority
from qa_audit.plans.services import plan_figures


@dataclass
class BoardReport:
    plan: ImprovementPlan
    quarter: Quarter
    today: date
    figures: dict[str, Any]
    priorities: list[dict[str, Any]]
    completed: list[Action]
    overdue: list[Action]
    due_next: list[Action]
    latest_update: dict[int, ActionUpdate] = field(default_factory=dict)
    measures: dict[int, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def next_quarter(self) -> Quarter:
        return self.quarter.next()


def parse_quarter(value: str | None, today: date) -> Quarter | None:
    """"2026-3" → quarter 3 of 2026/27; nothing → this quarter; anything else → None."""
    if not value:
        return quarter_of(today)
    year, _, number = value.partition("-")
    if not (year.isascii() and year.isdigit() and number in {"1", "2", "3", "4"} and 1900 <= int(year) <= 2099):
        return None
    return Quarter(int(year), int(number))


def quarter_key(quarter: Quarter) -> str:
    return f"{quarter.year}-{quarter.number}"


def quarters_of_plan(plan: ImprovementPlan, today: date) -> list[Quarter]:
    """The quarters a report can be asked for: the plan's period, up to this quarter."""
    last = min(quarter_of(plan.ends_on), quarter_of(today), key=lambda q: (q.year, q.number))
    quarter, quarters = quarter_of(plan.starts_on), []
    while (quarter.year, quarter.number) <= (last.year, last.number):
        quarters.append(quarter)
        quarter = quarter.next()
    return quarters or [quarter_of(plan.starts_on)]


def _london_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=dates.LONDON)


def board_report(plan_id: int, quarter: Quarter, today: date | None = None) -> BoardReport | None:
    today = today or dates.today()
    plan = db.session.scalar(
        select(ImprovementPlan)
        .where(ImprovementPlan.id == plan_id)
        .options(joinedload(ImprovementPlan.owner), joinedload(ImprovementPlan.service), selectinload(ImprovementPlan.priorities))
    )
    if plan is None:
        return None
    figures, priorities = plan_figures(plan.id, today=today)
    in_plan = select(PlanPriority.id).where(PlanPriority.plan_id == plan.id)
    options = (joinedload(Action.owner), joinedload(Action.plan_priority))
    # Done in the quarter: completed_at falls within it (London dates).
    completed = db.session.scalars(
        select(Action)
        .where(
            Action.plan_priority_id.in_(in_plan),
            Action.status.in_(DONE),
            Action.completed_at >= _london_midnight(quarter.starts_on),
            Action.completed_at < _london_midnight(quarter.ends_on + timedelta(days=1)),
        )
        .options(*options)
        .order_by(Action.completed_at, Action.id)
    ).all()
    overdue = db.session.scalars(
        select(Action)
        .where(Action.plan_priority_id.in_(in_plan), action_rules.overdue_clause(today))
        .options(*options)
        .order_by(Action.due_date, Action.id)
    ).all()
    following = quarter.next()
    due_next = db.session.scalars(
        select(Action)
        .where(
            Action.plan_priority_id.in_(in_plan),
            Action.status.in_(OPEN),
            Action.due_date >= following.starts_on,
            Action.due_date <= following.ends_on,
        )
        .options(*options)
        .order_by(Action.due_date, Action.id)
    ).all()
    report = BoardReport(plan, quarter, today, figures, priorities, list(completed), list(overdue), list(due_next))
    shown = {action.id for action in [*completed, *overdue, *due_next]}
    if shown:
        latest = select(func.max(ActionUpdate.id)).where(ActionUpdate.action_id.in_(shown)).group_by(ActionUpdate.action_id)
        for update in db.session.scalars(select(ActionUpdate).where(ActionUpdate.id.in_(latest))):
            report.latest_update[update.action_id] = update
    report.measures = tracker.measures_of_plan(plan.id)
    return report
