"""A plan's filtered tracker rows as CSV and Excel: the same rows, the same columns.

Cells are guarded against spreadsheet formula injection as the programme's export is:
through qa_audit.spreadsheets."""

from __future__ import annotations

from datetime import date, datetime
from typing import Iterable, Iterator

from qa_audit.actions import services as action_rules
from qa_audit.actions.models import Action
from qa_audit.spreadsheets import csv_text, xlsx_bytes
from qa_audit.dates import LONDON

COLUMNS = [
    "ID",
    "Priority",
    "Action",
    "Owner",
    "Service",
    "Due date",
    "Status",
    "BRAG",
    "Overdue",
    "Action priority",
    "Completed on",
    "Approved by",
    "Date approved",
]
WIDTHS = [8, 30, 50, 25, 30, 12, 14, 8, 9, 15, 13, 30, 14]


def rows(actions: Iterable[Action], priority_titles: dict[int, str], today: date) -> Iterator[list]:
    """One list of values per action, in COLUMNS order (dates as dates, ids as numbers)."""
    for action in actions:
        brag = action_rules.brag_of(action, today)
        completed: datetime | None = action.completed_at
        yield [
            action.id,
            priority_titles.get(action.plan_priority_id, ""),
            action.title,
            action.owner.name,
            action.service.name if action.service else "",
            action.due_date,
            action.status.label,
            brag.label if brag else "",
            "Yes" if action_rules.is_overdue(action, today) else "No",
            action.priority.label,
            completed.astimezone(LONDON).date() if completed else None,
            action.approved_by or "",
            action.approved_on,
        ]


def to_csv(actions: Iterable[Action], priority_titles: dict[int, str], today: date) -> str:
    return csv_text(COLUMNS, rows(actions, priority_titles, today))


def to_xlsx(actions: Iterable[Action], priority_titles: dict[int, str], today: date, *, title: str) -> bytes:
    return xlsx_bytes(title or "Actions", COLUMNS, WIDTHS, rows(actions, priority_titles, today))
