"""What the plans list and a plan's tracker page show, each part from one query:
the plans with their figures, the filtered actions with their owners, completion by
month, the measures with their values, and the filters' choices.

Counting is SQL's (qa_audit.actions.services.count_columns, plan_figures); this module
only lays out what the queries return. A plan of 2,000 actions takes as many queries
as a plan of 20.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload

from qa_audit.actions import services as action_rules
from qa_audit.actions.models import DONE, OPEN, Action, ActionStatus, Brag
from qa_audit.admin.models import Service
from qa_audit.auth.models import User
from qa_audit.dates import LONDON, add_months
from qa_audit.extensions import db
from qa_audit.plans.models import ImprovementPlan, Measure, MeasureValue, PlanPriority

# Sort keys for the sortable tables: worst colour first, then the order of the work.
BRAG_ORDER = {Brag.RED: 0, Brag.AMBER: 1, Brag.GREEN: 2, Brag.BLUE: 3, None: 4}
STATUS_ORDER = {status: index for index, status in enumerate(ActionStatus)}
# The completion chart shows at most this many months (earlier ones are summed).
MAX_MONTHS = 36


# The plans list ----------------------------------------------------------------------


def plans_overview(today: date, owner_id: int | None = None) -> list[dict[str, Any]]:
    """Every plan (or one person's) with its owner, service and figures, in one grouped query."""
    columns = action_rules.count_columns(today)
    query = (
        select(
            ImprovementPlan.id,
            ImprovementPlan.title,
            ImprovementPlan.board,
            ImprovementPlan.starts_on,
            ImprovementPlan.ends_on,
            User.name.label("owner_name"),
            Service.name.label("service_name"),
            *columns,
        )
        .select_from(ImprovementPlan)
        .join(User, User.id == ImprovementPlan.owner_id)
        .outerjoin(Service, Service.id == ImprovementPlan.service_id)
        .outerjoin(PlanPriority, PlanPriority.plan_id == ImprovementPlan.id)
        .outerjoin(Action, Action.plan_priority_id == PlanPriority.id)
        .group_by(
            ImprovementPlan.id,
            ImprovementPlan.title,
            ImprovementPlan.board,
            ImprovementPlan.starts_on,
            ImprovementPlan.ends_on,
            User.name,
            Service.name,
        )
        .order_by(ImprovementPlan.ends_on.desc(), ImprovementPlan.title, ImprovementPlan.id)
    )
    if owner_id is not None:
        query = query.where(ImprovementPlan.owner_id == owner_id)
    rows = db.session.execute(query).all()
    plans = []
    for row in rows:
        figures = action_rules.summarise(row)
        figures.update(
            id=row.id,
            title=row.title,
            board=row.board,
            starts_on=row.starts_on,
            ends_on=row.ends_on,
            owner_name=row.owner_name,
            service_name=row.service_name,
        )
        plans.append(figures)
    return plans


# The tracker -------------------------------------------------------------------------


def tracker_actions(plan_id: int, filters: dict[str, Any], today: date) -> list[Action]:
    """The plan's actions that match the filters, in the priorities' order then by due
    date, with their owners and services loaded in the same query."""
    query = (
        action_rules.actions_query({**filters, "plan_id": plan_id}, today)
        .join(PlanPriority, PlanPriority.id == Action.plan_priority_id)
        .options(joinedload(Action.owner), joinedload(Action.service))
        .order_by(PlanPriority.position, Action.due_date, Action.id)
    )
    return list(db.session.scalars(query))


# The tracker page shows each priority's ten most pressing actions and the first ten of
# the overdue and due-soon lists; a link under each table opens all of them in the actions
# list (paginated), and the exports have every row. A plan of 2,000 actions renders as
# fast as a plan of 50.
ROWS_PER_PRIORITY = 10
LATE_ROWS = 10


def priority_rows(plan_id: int, filters: dict[str, Any], today: date, limit: int = ROWS_PER_PRIORITY) -> list[Action]:
    """Up to ``limit`` of each priority's matching actions, in two queries: its open ones
    first, soonest due (so overdue) first, then the latest done or cancelled ones; shown
    in the tracker's order (priorities' order, then by due date). A priority with no
    more than ``limit`` actions shows them all."""
    is_open = Action.status.in_(OPEN)
    rank = (
        func.row_number()
        .over(
            partition_by=Action.plan_priority_id,
            order_by=(case((is_open, 0), else_=1), case((is_open, Action.due_date)), Action.due_date.desc(), Action.id),
        )
        .label("rank")
    )
    ranked = action_rules.actions_query({**filters, "plan_id": plan_id}, today).with_only_columns(Action.id, rank).subquery()
    # The few ids first, then those rows: joined back to the table in one query, the
    # database cannot tell how few rows are wanted (PostgreSQL read every action).
    ids = list(db.session.scalars(select(ranked.c.id).where(ranked.c.rank <= limit)))
    query = (
        select(Action)
        .join(PlanPriority, PlanPriority.id == Action.plan_priority_id)
        .where(Action.id.in_(ids))
        .options(joinedload(Action.owner), joinedload(Action.service))
        .order_by(PlanPriority.position, Action.due_date, Action.id)
    )
    return list(db.session.scalars(query))


def late_rows(plan_id: int, filters: dict[str, Any], today: date, *, overdue: bool, limit: int = LATE_ROWS) -> list[Action]:
    """The first ``limit`` matching overdue actions (most overdue first) or actions due
    in the next 14 days (soonest first)."""
    which = {"overdue": True} if overdue else {"due_soon": True}
    query = (
        action_rules.actions_query({**filters, "plan_id": plan_id, **which}, today)
        .options(joinedload(Action.owner))
        .order_by(Action.due_date, Action.id)
        .limit(limit)
    )
    return list(db.session.scalars(query))


def owners_of_plan(plan_id: int) -> list[Any]:
    """Everyone who owns an action in the plan (the owner filter's choices): rows of
    id, name and active."""
    owners = _distinct_in_plan(Action.owner_id, plan_id)
    return list(db.session.execute(select(User.id, User.name, User.active).join(owners, owners.c.owner_id == User.id).order_by(User.name, User.id)))


def services_of_plan(plan_id: int) -> list[Any]:
    """Every service an action in the plan is for (the service filter's choices): rows
    of id, name and active, by name. A council's hundreds of services would make the
    filter (and the page) grow with the council, not with the plan."""
    services = _distinct_in_plan(Action.service_id, plan_id)
    return list(db.session.execute(select(Service.id, Service.name, Service.active).join(services, services.c.service_id == Service.id).order_by(Service.name, Service.id)))


def _distinct_in_plan(column, plan_id: int):
    """The distinct values of an action column among the plan's actions, as a subquery to
    join: the database reads the plan's actions once (a semi-join from the people or
    services side read every service's actions on PostgreSQL)."""
    return (
        select(column)
        .where(Action.plan_priority_id.in_(select(PlanPriority.id).where(PlanPriority.plan_id == plan_id)))
        .distinct()
        .subquery()
    )


# Completion over time -------------------------------------------------------------------


def _month(day: date) -> date:
    return day.replace(day=1)


def _starts_at(month: date) -> datetime:
    """Midnight in London on the first of the month, in UTC (as completed_at is stored)."""
    return datetime(month.year, month.month, 1, tzinfo=LONDON).astimezone(timezone.utc)


def chart_months(plan: ImprovementPlan, today: date) -> list[date]:
    """The months the completion chart covers: from the plan's start to this month (or
    a year after the plan's end, for an old plan), at most MAX_MONTHS of them."""
    last = min(_month(today), add_months(_month(plan.ends_on), 12))
    first = min(_month(plan.starts_on), last)
    if (last.year - first.year) * 12 + last.month - first.month >= MAX_MONTHS:
        first = add_months(last, -(MAX_MONTHS - 1))
    months = [first]
    while months[-1] < last:
        months.append(add_months(months[-1], 1))
    return months


@dataclass
class Completion:
    """Done actions (completed or verified) by the month they were completed, cumulative."""

    months: list[dict[str, Any]] = field(default_factory=list)
    before: int = 0  # completed before the first month shown
    after: int = 0  # completed after the last month shown (a plan long finished)
    counted: int = 0  # the filtered actions that are not cancelled

    @property
    def total_done(self) -> int:
        return self.before + sum(m["done"] for m in self.months) + self.after


def completion_over_time(plan: ImprovementPlan, filters: dict[str, Any], today: date, counted: int) -> Completion:
    """One grouped query: each done action falls in a month bucket of its completed_at
    (London months), counted in SQL; the running totals are added up here."""
    months = chart_months(plan, today)
    bounds = [_starts_at(m) for m in months] + [_starts_at(add_months(months[-1], 1))]
    bucket = case(
        (Action.completed_at < bounds[0], -1),
        *[(Action.completed_at < bounds[i + 1], i) for i in range(len(months))],
        else_=len(months),
    ).label("bucket")
    done = (
        action_rules.actions_query({**filters, "plan_id": plan.id}, today)
        .with_only_columns(bucket)
        .where(Action.status.in_(DONE), Action.completed_at.is_not(None))
        .subquery()
    )
    # Grouped over a subquery, so that PostgreSQL sees one column, not the CASE's parameters twice.
    counts = dict(db.session.execute(select(done.c.bucket, func.count()).group_by(done.c.bucket)).all())
    result = Completion(before=counts.get(-1, 0), after=counts.get(len(months), 0), counted=counted)
    running = result.before
    for index, month in enumerate(months):
        running += counts.get(index, 0)
        percent = action_rules.round_half_up(100 * running / counted) if counted else None
        result.months.append({"month": month, "done": counts.get(index, 0), "cumulative": running, "percent": percent})
    return result


# Measures -------------------------------------------------------------------------------


def number_text(value: Decimal | None, unit: str | None = None) -> str:
    """24.00 → "24", 63.40 with unit "%" → "63.4%", 1200 with unit "cases" → "1,200 cases"."""
    if value is None:
        return ""
    text = format(value.normalize(), ",f")
    if text == "-0":
        text = "0"
    if not unit:
        return text
    return f"{text}{unit}" if unit == "%" else f"{text} {unit}"


def measures_of_plan(plan_id: int) -> dict[int, list[dict[str, Any]]]:
    """Each priority's measures with their values, oldest first, from one query."""
    rows = db.session.execute(
        select(Measure, MeasureValue)
        .join(PlanPriority, PlanPriority.id == Measure.priority_id)
        .outerjoin(MeasureValue, MeasureValue.measure_id == Measure.id)
        .where(PlanPriority.plan_id == plan_id)
        .order_by(Measure.id, MeasureValue.measured_on)
    ).all()
    measures: dict[int, tuple[Measure, list[MeasureValue]]] = {}
    for measure, value in rows:
        entry = measures.setdefault(measure.id, (measure, []))
        if value is not None:
            entry[1].append(value)
    by_priority: dict[int, list[dict[str, Any]]] = {}
    for measure, values in measures.values():
        by_priority.setdefault(measure.priority_id, []).append(describe_measure(measure, values))
    return by_priority


def describe_measure(measure: Measure, values: list[MeasureValue]) -> dict[str, Any]:
    """Baseline → latest → target, whether it is moving towards the target, and the
    points of a small line chart."""
    latest = values[-1] if values else None
    higher = measure.higher_is_better
    if latest is None:
        direction, words = "none", "No values recorded yet"
    elif (latest.value >= measure.target) if higher else (latest.value <= measure.target):
        direction, words = "met", "Target met"
    else:
        previous = values[-2].value if len(values) > 1 else measure.baseline
        change = latest.value - previous
        if change == 0:
            direction, words = "steady", "No change since the last value"
        elif (change > 0) == higher:
            direction, words = "towards", "Moving towards the target"
        else:
            direction, words = "away", "Moving away from the target"
    return {
        "measure": measure,
        "readings": values,
        "baseline": number_text(measure.baseline, measure.unit),
        "target": number_text(measure.target, measure.unit),
        "latest": number_text(latest.value, measure.unit) if latest else None,
        "latest_on": latest.measured_on if latest else None,
        "direction": direction,
        "words": words,
        "value_texts": [number_text(v.value, measure.unit) for v in values],
        "chart": _trend_chart(measure, values),
    }


CHART_WIDTH, CHART_HEIGHT, CHART_PAD = 240, 64, 6


def _trend_chart(measure: Measure, values: list[MeasureValue]) -> dict[str, Any]:
    """The baseline and each value as points of a polyline, evenly spaced in time order,
    and the target as a dashed line, on a small SVG canvas."""
    numbers = [measure.baseline] + [v.value for v in values]
    low = min(numbers + [measure.target])
    high = max(numbers + [measure.target])
    inner_w = CHART_WIDTH - 2 * CHART_PAD
    inner_h = CHART_HEIGHT - 2 * CHART_PAD

    def y(value: Decimal) -> float:
        if high == low:
            return CHART_HEIGHT / 2
        return round(CHART_PAD + float((high - value) / (high - low)) * inner_h, 1)

    count = len(numbers)
    xs = [round(CHART_PAD + (inner_w * i / (count - 1) if count > 1 else inner_w / 2), 1) for i in range(count)]
    points = [{"x": x, "y": y(v)} for x, v in zip(xs, numbers)]
    return {
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "points": points,
        "polyline": " ".join(f"{p['x']},{p['y']}" for p in points),
        "target_y": y(measure.target),
        "left": CHART_PAD,
        "right": CHART_WIDTH - CHART_PAD,
    }


# The BRAG chart -------------------------------------------------------------------------


def brag_segments(figures: dict[str, Any]) -> list[dict[str, Any]]:
    """A stacked bar's segments (red, amber, green, blue) as whole percentages of the
    actions that have a colour, adding up to exactly 100 (largest remainders)."""
    counts = [("red", figures["overdue"]), ("amber", figures["due_soon"]), ("green", figures["green"]), ("blue", figures["done"])]
    total = sum(count for _, count in counts)
    if not total:
        return []
    exact = [(name, count, 100 * count / total) for name, count in counts]
    widths = {name: int(share) for name, _, share in exact}
    spare = 100 - sum(widths.values())
    for name, _, share in sorted(exact, key=lambda item: (item[2] - int(item[2])), reverse=True)[:spare]:
        widths[name] += 1
    return [{"colour": name, "count": count, "width": widths[name]} for name, count, _ in exact if count]
