"""Rules of recurring series: a series plans one audit per date of its schedule, and
changing or cancelling it reaches only its future audits that have not started."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from qa_audit.audits.models import Audit, AuditSeries, AuditStatus, Frequency
from qa_audit.audits.services import AuditInput, apply_input, check_audit_input, enum_value, today
from qa_audit.dates import add_months
from qa_audit.errors import Conflict, InvalidInput
from qa_audit.extensions import db
from qa_audit.records import check_version
from qa_audit.validation import EARLIEST_DATE, LATEST_DATE, TEXT_MAX, check_text

MAX_SERIES_OCCURRENCES = 120


def series_dates(
    frequency: Frequency, starts_on: date, *, ends_on: date | None, occurrences: int | None, interval_weeks: int | None
) -> list[date]:
    dates: list[date] = []
    n = 0
    while len(dates) < MAX_SERIES_OCCURRENCES:
        if frequency is Frequency.MONTHLY:
            day = add_months(starts_on, n)
        elif frequency is Frequency.QUARTERLY:
            day = add_months(starts_on, 3 * n)
        else:
            day = starts_on + timedelta(weeks=(interval_weeks or 1) * n)
        if (ends_on is not None and day > ends_on) or day > LATEST_DATE:
            break
        if occurrences is not None and len(dates) >= occurrences:
            break
        dates.append(day)
        n += 1
    return dates


def check_series_input(data: dict[str, Any]) -> tuple[AuditInput, dict[str, Any]]:
    errors: dict[str, list[str]] = {}
    try:
        values = check_audit_input({**data, "parent_id": None, "follow_up_of_id": None}, need_date=False)
    except InvalidInput as error:
        errors.update(error.errors)
        values = None
    frequency = enum_value(Frequency, data.get("frequency"), errors, "frequency", "Select how often the audit happens")
    interval_weeks = data.get("interval_weeks")
    if frequency is Frequency.WEEKLY:
        if not isinstance(interval_weeks, int) or not 1 <= interval_weeks <= 52:
            errors.setdefault("interval_weeks", []).append("Enter the number of weeks between audits, from 1 to 52")
    else:
        interval_weeks = None
    starts_on = data.get("starts_on")
    if not isinstance(starts_on, date):
        errors.setdefault("starts_on", []).append("Enter the date of the first audit")
    elif not EARLIEST_DATE <= starts_on <= LATEST_DATE:
        errors.setdefault("starts_on", []).append(f"The date must be between {EARLIEST_DATE.year} and {LATEST_DATE.year}")
    ends_on = data.get("ends_on")
    if isinstance(ends_on, date) and not EARLIEST_DATE <= ends_on <= LATEST_DATE:
        errors.setdefault("ends_on", []).append(f"The date must be between {EARLIEST_DATE.year} and {LATEST_DATE.year}")
    occurrences = data.get("occurrences")
    if ends_on is None and occurrences in (None, ""):
        errors.setdefault("ends_on", []).append("Enter an end date or the number of audits")
    if ends_on is not None and isinstance(starts_on, date) and ends_on < starts_on:
        errors.setdefault("ends_on", []).append("The end date must be the same as or after the first audit's date")
    if occurrences not in (None, "") and (not isinstance(occurrences, int) or not 1 <= occurrences <= MAX_SERIES_OCCURRENCES):
        errors.setdefault("occurrences", []).append(f"Enter a number of audits from 1 to {MAX_SERIES_OCCURRENCES}")
    if errors:
        raise InvalidInput(errors)
    schedule = {
        "frequency": frequency,
        "interval_weeks": interval_weeks,
        "starts_on": starts_on,
        "ends_on": ends_on,
        "occurrences": occurrences or None,
    }
    return values, schedule


def _series_audit(series: AuditSeries, values: AuditInput, day: date) -> Audit:
    audit = Audit(status=AuditStatus.PLANNED, series=series)
    apply_input(audit, values)
    audit.scheduled_for = day
    return audit


def create_series(data: dict[str, Any]) -> AuditSeries:
    values, schedule = check_series_input(data)
    series = AuditSeries(
        type=values.type,
        title=values.title,
        purpose=values.purpose,
        service=values.service,
        lead_auditor=values.lead_auditor,
        question_set=values.question_set,
        cancelled=False,
        **schedule,
    )
    db.session.add(series)
    for day in series_dates(schedule["frequency"], schedule["starts_on"], ends_on=schedule["ends_on"], occurrences=schedule["occurrences"], interval_weeks=schedule["interval_weeks"]):
        db.session.add(_series_audit(series, values, day))
    db.session.commit()
    return series


def future_unstarted(series: AuditSeries, on: date) -> list[Audit]:
    return list(
        db.session.scalars(
            select(Audit).where(
                Audit.series_id == series.id, Audit.status == AuditStatus.PLANNED, Audit.scheduled_for >= on
            ).order_by(Audit.scheduled_for)
        )
    )


def update_series(series: AuditSeries, data: dict[str, Any], *, version: int | None, on: date | None = None) -> AuditSeries:
    """Change a series. Only its future, unstarted audits follow: past and started
    audits keep what they were planned with."""
    on = on or today()
    check_version(series, version, "Someone else changed this series while you were editing it. Your changes have not been saved.")
    if series.cancelled:
        raise Conflict("This series is cancelled.")
    values, schedule = check_series_input(data)
    for key, value in schedule.items():
        setattr(series, key, value)
    series.type = values.type
    series.title = values.title
    series.purpose = values.purpose
    series.service = values.service
    series.lead_auditor = values.lead_auditor
    series.question_set = values.question_set

    wanted = [d for d in series_dates(series.frequency, series.starts_on, ends_on=series.ends_on, occurrences=series.occurrences, interval_weeks=series.interval_weeks) if d >= on]
    remaining = set(wanted)
    # A date whose audit has started, finished or been cancelled keeps that audit:
    # editing the series reaches only the planned ones.
    remaining -= set(
        db.session.scalars(
            select(Audit.scheduled_for).where(
                Audit.series_id == series.id,
                Audit.status != AuditStatus.PLANNED,
                Audit.scheduled_for >= on,
            )
        )
    )
    for audit in future_unstarted(series, on):
        if audit.scheduled_for in remaining:
            remaining.discard(audit.scheduled_for)
            apply_input(audit, values)
        else:
            audit.status = AuditStatus.CANCELLED
            audit.cancellation_reason = "The series' schedule was changed."
    for day in sorted(remaining):
        db.session.add(_series_audit(series, values, day))
    db.session.commit()
    return series


def cancel_series(series: AuditSeries, reason: str | None, *, on: date | None = None) -> int:
    """Cancel the series' future, unstarted audits; returns how many."""
    on = on or today()
    errors: dict[str, list[str]] = {}
    reason = check_text(errors, "reason", reason, label="Reason", max_length=TEXT_MAX, multiline=True, required=True, missing_message="Enter the reason for cancelling")
    if errors:
        raise InvalidInput(errors)
    if series.cancelled:
        raise Conflict("This series is already cancelled.")
    audits = future_unstarted(series, on)
    for audit in audits:
        audit.status = AuditStatus.CANCELLED
        audit.cancellation_reason = reason
    series.cancelled = True
    db.session.commit()
    return len(audits)
