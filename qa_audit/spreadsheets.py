"""CSV and Excel files people download (the programme, a plan's tracker): a header row,
one row of values per record, and cells no spreadsheet will run as a formula."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Iterable, Sequence

# A spreadsheet treats a cell starting with one of these as a formula
# (OWASP "CSV injection"); tab and carriage return are included as OWASP advises.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


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


def csv_text(columns: Sequence[str], rows: Iterable[Sequence]) -> str:
    """CSV with a byte-order mark, so that Excel reads it as UTF-8."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    return buffer.getvalue()


def xlsx_bytes(title: str, columns: Sequence[str], widths: Sequence[int], rows: Iterable[Sequence]) -> bytes:
    """An Excel workbook: a bold, frozen header row, sized columns, real dates, and text
    written as text (never as a formula), so a title starting with "=" shows as typed."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = ILLEGAL_CHARACTERS_RE.sub("", "".join(c for c in title if c not in "[]:*?/\\"))[:31] or "Sheet"
    sheet.append(list(columns))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    for row_number, row in enumerate(rows, start=2):
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
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{sheet.max_row}"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
