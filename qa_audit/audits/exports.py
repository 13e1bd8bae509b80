"""The filtered programme as CSV and Excel: the same rows, the same columns."""

from __future__ import annotations

from typing import Iterable, Iterator

from qa_audit.audits.models import Audit
from qa_audit.spreadsheets import csv_text, xlsx_bytes

COLUMNS = [
    "ID",
    "Date",
    "Type",
    "Title",
    "Service",
    "Lead auditor",
    "Auditors",
    "Agencies",
    "Status",
    "Parent ID",
    "Follows up ID",
]

# Excel column widths, in characters.
WIDTHS = [8, 12, 22, 50, 35, 25, 40, 40, 14, 10, 14]

def rows(audits: Iterable[Audit]) -> Iterator[list]:
    """One list of values per audit, in COLUMNS order (dates as dates, ids as numbers)."""
    for audit in audits:
        yield [
            audit.id,
            audit.scheduled_for,
            audit.type.label,
            audit.title,
            audit.service.name,
            audit.lead_auditor.name,
            "; ".join(user.name for user in audit.auditors),
            "; ".join(agency.label for agency in audit.agencies),
            audit.status.label,
            audit.parent_id,
            audit.follow_up_of_id,
        ]


def to_csv(audits: Iterable[Audit]) -> str:
    return csv_text(COLUMNS, rows(audits))


def to_xlsx(audits: Iterable[Audit], *, title: str = "Audit programme") -> bytes:
    return xlsx_bytes(title, COLUMNS, WIDTHS, rows(audits))
