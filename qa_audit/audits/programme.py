"""Queries for the audit programme, shared by the programme pages, exports and the API."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from qa_audit.audits.models import Agency, Audit, AuditAgency, AuditStatus, AuditType, audit_auditors
from qa_audit.auth.models import User


@dataclass
class ProgrammeFilters:
    types: list[AuditType] = field(default_factory=list)
    statuses: list[AuditStatus] = field(default_factory=list)
    service_ids: list[int] = field(default_factory=list)
    auditor_ids: list[int] = field(default_factory=list)
    agencies: list[Agency] = field(default_factory=list)
    scheduled_from: date | None = None
    scheduled_to: date | None = None


def filtered(filters: ProgrammeFilters) -> Select:
    """Audits matching every filter given (each filter allows any of its values)."""
    query = select(Audit)
    if filters.types:
        query = query.where(Audit.type.in_(filters.types))
    if filters.statuses:
        query = query.where(Audit.status.in_(filters.statuses))
    if filters.service_ids:
        query = query.where(Audit.service_id.in_(filters.service_ids))
    if filters.auditor_ids:
        takes_part = select(audit_auditors.c.audit_id).where(audit_auditors.c.user_id.in_(filters.auditor_ids))
        query = query.where(or_(Audit.lead_auditor_id.in_(filters.auditor_ids), Audit.id.in_(takes_part)))
    if filters.agencies:
        with_agency = select(AuditAgency.audit_id).where(AuditAgency.agency.in_(filters.agencies))
        query = query.where(Audit.id.in_(with_agency))
    if filters.scheduled_from:
        query = query.where(Audit.scheduled_for >= filters.scheduled_from)
    if filters.scheduled_to:
        query = query.where(Audit.scheduled_for <= filters.scheduled_to)
    return query


def with_page_data(query: Select) -> Select:
    """Eager-load what a programme row shows, so a page is a constant number of queries."""
    return with_list_data(query).options(selectinload(Audit.parent))


def ordered(query: Select) -> Select:
    return query.order_by(Audit.scheduled_for, Audit.id)


# Quarters of the council's financial year (April to March).


@dataclass(frozen=True)
class Quarter:
    year: int  # the financial year starting in April of this year
    number: int  # 1 = April to June

    @property
    def starts_on(self) -> date:
        month = 4 + 3 * (self.number - 1)
        return date(self.year + (month > 12), (month - 1) % 12 + 1, 1)

    @property
    def ends_on(self) -> date:
        from qa_audit.dates import add_months
        from datetime import timedelta

        return add_months(self.starts_on, 3) - timedelta(days=1)

    @property
    def label(self) -> str:
        return f"Quarter {self.number} {self.year}/{str(self.year + 1)[-2:]}"

    @property
    def months(self) -> str:
        return f"{self.starts_on:%B %Y} to {self.ends_on:%B %Y}"

    def next(self) -> Quarter:
        return Quarter(self.year + (self.number == 4), self.number % 4 + 1)


def quarter_of(day: date) -> Quarter:
    year = day.year if day.month >= 4 else day.year - 1
    return Quarter(year, (day.month - 4) % 12 // 3 + 1)


def financial_year_quarters(year: int) -> list[Quarter]:
    return [Quarter(year, n) for n in (1, 2, 3, 4)]


def quarter_counts(query: Select, quarters: list[Quarter], today: date) -> dict[Quarter, dict[str, int]]:
    """Planned, in progress, completed, cancelled and overdue-to-start per quarter,
    counted in one SQL query over the filtered audits."""
    if not quarters:
        return {}
    subquery = query.order_by(None).subquery()
    quarter_case = case(
        *[(and_(subquery.c.scheduled_for >= q.starts_on, subquery.c.scheduled_for <= q.ends_on), i) for i, q in enumerate(quarters)],
        else_=-1,
    ).label("quarter")

    def count_where(condition):
        return func.count(case((condition, 1)))

    rows = (
        select(
            quarter_case,
            count_where(subquery.c.status == AuditStatus.PLANNED.value),
            count_where(subquery.c.status == AuditStatus.IN_PROGRESS.value),
            count_where(subquery.c.status == AuditStatus.COMPLETED.value),
            count_where(subquery.c.status == AuditStatus.CANCELLED.value),
            count_where(and_(subquery.c.status == AuditStatus.PLANNED.value, subquery.c.scheduled_for < today)),
        )
        .group_by(quarter_case)
    )
    from qa_audit.extensions import db

    counts = {q: {"planned": 0, "in_progress": 0, "completed": 0, "cancelled": 0, "overdue_to_start": 0} for q in quarters}
    for index, planned, in_progress, completed, cancelled, overdue in db.session.execute(rows):
        if index >= 0:
            counts[quarters[index]] = {
                "planned": planned,
                "in_progress": in_progress,
                "completed": completed,
                "cancelled": cancelled,
                "overdue_to_start": overdue,
            }
    return counts


def my_audits(user: User) -> Select:
    """What a user leads or takes part in, unfinished first and soonest first."""
    takes_part = select(audit_auditors.c.audit_id).where(audit_auditors.c.user_id == user.id)
    unfinished = case((Audit.status.in_([AuditStatus.PLANNED, AuditStatus.IN_PROGRESS]), 0), else_=1)
    return (
        select(Audit)
        .where(or_(Audit.lead_auditor_id == user.id, Audit.id.in_(takes_part)))
        .order_by(unfinished, Audit.scheduled_for, Audit.id)
    )


def with_row_data(query: Select) -> Select:
    """What a row of the programme page or the home page shows (its service and lead
    auditor), joined into the same query."""
    return query.options(joinedload(Audit.service), joinedload(Audit.lead_auditor))


def with_list_data(query: Select) -> Select:
    """Eager-load what an exported row or a "my audits" row shows (no parent rows needed)."""
    return query.options(
        selectinload(Audit.service),
        selectinload(Audit.lead_auditor),
        selectinload(Audit.auditors),
        selectinload(Audit.agency_rows),
    )


def financial_year_of(day: date) -> int:
    return quarter_of(day).year


def quarters_between(start: date, end: date) -> list[Quarter]:
    """The quarters from the one holding ``start`` to the one holding ``end``."""
    if end < start:
        return []
    quarter, last = quarter_of(start), quarter_of(end)
    quarters = [quarter]
    while quarter != last:
        quarter = quarter.next()
        quarters.append(quarter)
    return quarters


def date_bounds(query: Select) -> tuple[date | None, date | None]:
    """The earliest and latest scheduled dates among the audits of ``query`` (one query)."""
    from qa_audit.extensions import db

    subquery = query.order_by(None).subquery()
    row = db.session.execute(select(func.min(subquery.c.scheduled_for), func.max(subquery.c.scheduled_for))).one()
    return row[0], row[1]


# More quarters than this in an explicit date range, and the page narrows to the
# quarters that hold audits (someone asking for 1900 to 2100 gets the audits, not
# 800 empty tables).
MAX_EMPTY_SPAN_QUARTERS = 20


def programme_range(filters: ProgrammeFilters, year: int) -> tuple[date, date, list[Quarter]]:
    """The dates and quarters the programme page shows: the financial year, or the
    quarters a date range covers. An open end of a range stops at the filtered audits."""
    if not (filters.scheduled_from or filters.scheduled_to):
        quarters = financial_year_quarters(year)
        return quarters[0].starts_on, quarters[-1].ends_on, quarters

    start, end = filters.scheduled_from, filters.scheduled_to
    if start and end and len(quarters := quarters_between(start, end)) <= MAX_EMPTY_SPAN_QUARTERS:
        return start, end, quarters
    first, last = date_bounds(filtered(filters))
    if start is None:
        start = first or end
    if end is None:
        end = last or start
    quarters = quarters_between(start, end)
    if len(quarters) > MAX_EMPTY_SPAN_QUARTERS:
        quarters = quarters_between(max(start, first), min(end, last)) if first else quarters[:1]
    return start, end, quarters


def total(counts: dict[str, int]) -> int:
    return counts["planned"] + counts["in_progress"] + counts["completed"] + counts["cancelled"]


def quarters_on_page(
    quarters: list[Quarter], counts: dict[Quarter, dict[str, int]], page: int, per_page: int
) -> list[Quarter]:
    """Which quarters' tables a page of ``per_page`` audits (ordered by date) shows.

    A quarter whose audits run across a page break shows on both pages; a quarter
    with no audits shows on the page where it falls in date order."""
    grand_total = sum(total(counts[q]) for q in quarters)
    first, stop = (page - 1) * per_page, page * per_page
    shown, position = [], 0
    for quarter in quarters:
        size = total(counts[quarter])
        if size:
            if position < stop and position + size > first:
                shown.append(quarter)
        else:
            at = min(position, max(grand_total - 1, 0))
            if first <= at < stop:
                shown.append(quarter)
        position += size
    return shown


def month_weeks(year: int, month: int) -> list[list[date]]:
    """The weeks (Monday to Sunday) that a month's days fall in."""
    import calendar

    return calendar.Calendar(firstweekday=calendar.MONDAY).monthdatescalendar(year, month)


def next_step(audit: Audit, today: date) -> str:
    """What the people doing an audit must do next, in words."""
    if audit.status is AuditStatus.PLANNED:
        return "Start the audit (overdue to start)" if audit.overdue_to_start(today) else "Start the audit"
    if audit.status is AuditStatus.IN_PROGRESS:
        return "Record findings and complete the audit"
    if audit.status is AuditStatus.COMPLETED:
        if audit.completed_at is None:
            return "Completed"
        from zoneinfo import ZoneInfo

        completed_on = audit.completed_at.astimezone(ZoneInfo("Europe/London")).date()
        return f"Completed on {completed_on:%-d %B %Y}"
    return "Cancelled"


def audit_path(audit_id: int, *, external: bool = False) -> str:
    from flask import url_for

    return url_for("audits.show_audit", audit_id=audit_id, _external=external)
