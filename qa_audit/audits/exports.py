"""The filtered programme as CSV and Excel: the same rows, the same columns."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Iterable, Iterator

from qa_audit.audits.models import Audit

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

# A spreadsheet treats a cell starting with one of these as a formula
# (OWASP "CSV injection"); tab and carriage return are included as OWASP advises.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


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


def safe_cell(value) -> str:
    """Text for a CSV cell that no spreadsheet will run as a formula."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    if isinstance(value, str) and text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def to_csv(audits: Iterable[Audit]) -> str:
    """CSV with a byte-order mark, so that Excel reads it as UTF-8."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows(audits):
        writer.writerow([safe_cell(value) for value in row])
    return buffer.getvalue()


def to_xlsx(audits: Iterable[Audit], *, title: str = "Audit programme") -> bytes:
    """An Excel workbook: a bold, frozen header row, sized columns and real dates.

    Text is written as text (never as a formula), so Excel shows a title
    starting with "=" as it was typed."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title[:31]
    sheet.append(COLUMNS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for index, width in enumerate(WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"

    for row_number, row in enumerate(rows(audits), start=2):
        for column, value in enumerate(row, start=1):
            cell = sheet.cell(row=row_number, column=column)
            if isinstance(value, str):
                cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
                cell.data_type = "s"  # openpyxl would otherwise store "=…" as a formula
            else:
                cell.value = value
                if isinstance(value, date):
                    cell.number_format = "DD/MM/YYYY"
    if sheet.max_row > 1:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{sheet.max_row}"

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
