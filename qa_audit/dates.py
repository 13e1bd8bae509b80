"""The council's calendar: today's date in Europe/London, and working days that skip
weekends and England and Wales bank holidays (from the `holidays` package, offline)."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from qa_audit.types import utcnow

LONDON = ZoneInfo("Europe/London")


def today() -> date:
    """The council's date, not the server's: a deadline falls due at midnight in London."""
    return utcnow().astimezone(LONDON).date()


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[date]:
    # England and Wales share their bank holidays; the package calls the pair "ENG".
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def add_working_days(start: date, days: int) -> date:
    """The date ``days`` working days after ``start`` (start itself not counted)."""
    if days < 0:
        raise ValueError("days must not be negative")
    day = start
    while days:
        day += timedelta(days=1)
        if is_working_day(day):
            days -= 1
    return day


def add_months(day: date, months: int) -> date:
    """The same day so many months on, or the month's last day if it is shorter (31 Jan + 1 → 28 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
