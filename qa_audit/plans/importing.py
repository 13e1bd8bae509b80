"""Importing an existing improvement plan from a CSV file or an Excel workbook: its
priorities (workstreams) and their actions, with owners by email, due dates and
statuses.

Every row is checked before anything is written; each bad row is reported with its
line and why (RowProblems, as the case-list import reports), and the plan gains
either every action in the file or none. The rules about one action are the actions
service's (``new_action`` checks a row as ``raise_action`` would); what is only true
of a file — reading it, matching owners by email and priorities by title, the status
an action arrives with — is here. History is written by the models, as for any other
change.

Cells are taken as they are written: a cell that looks like a formula (``=SUM(...)``)
is stored as that text, never evaluated, and a workbook's formula cells are read as
their formulas, not their last results.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import PurePosixPath
from typing import Any, BinaryIO

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from qa_audit.actions import services as action_rules
from qa_audit.actions.models import Action, ActionPriority, ActionStatus, ActionUpdate, UpdateKind
from qa_audit.auth.models import User
from qa_audit.auth.permissions import can_manage_plan
from qa_audit.auth.services import normalise_email
from qa_audit.errors import Conflict, InvalidInput, NotAllowed
from qa_audit.extensions import db
from qa_audit.plans.models import ImprovementPlan, PlanPriority
from qa_audit.recording.importing import RowProblem, RowProblems, _heading
from qa_audit.types import utcnow
from qa_audit.validation import TEXT_MAX, TITLE_MAX, check_text

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
MAX_COLUMNS = 60  # columns read from a sheet; headings further right are ignored
MAX_UNPACKED_BYTES = 50 * 1024 * 1024  # a workbook is a zip: refuse one that unpacks to more
SHOWN_VALUE = 60  # characters of a bad value quoted in a message

# Each column and the headings that name it (compared as _heading makes them:
# lower case, spaces and hyphens as underscores).
COLUMNS: dict[str, tuple[str, ...]] = {
    "priority": ("priority", "plan_priority", "workstream"),
    "action": ("action", "title", "action_title"),
    "owner": ("owner", "owner_email", "email", "action_owner"),
    "due_date": ("due_date", "due", "deadline", "due_by"),
    "status": ("status",),
    "priority_level": ("priority_level", "level"),
    "board": ("board", "approved_by", "approved_at_board"),
    "approved_on": ("approved_on", "date_approved", "approved_date"),
    "note": ("note", "notes", "evidence", "note_or_evidence"),
}
REQUIRED_COLUMNS = ("priority", "action", "owner", "due_date")
COLUMN_LABELS = {
    "priority": "priority",
    "action": "action",
    "owner": "owner",
    "due_date": "due date",
    "status": "status",
    "priority_level": "priority level",
    "board": "board",
    "approved_on": "approved on",
    "note": "note",
}
_COLUMN_OF = {heading: column for column, headings in COLUMNS.items() for heading in headings}

STATUS_WORDS = {
    "not started": ActionStatus.NOT_STARTED,
    "in progress": ActionStatus.IN_PROGRESS,
    "completed": ActionStatus.COMPLETED,
    "complete": ActionStatus.COMPLETED,
    "verified": ActionStatus.VERIFIED,
    "cancelled": ActionStatus.CANCELLED,
    "canceled": ActionStatus.CANCELLED,
}
_DMY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[ T]00:00(?::00)?)?")

# The service's field names, in the order a row's problems are told.
FIELD_ORDER = ("plan_priority_id", "title", "owner_id", "due_date", "status", "priority", "approved_by", "approved_on", "note")

NOT_A_FILE = "The selected file must be a CSV file or an Excel workbook (.xlsx)"
SAVE_AS_CSV = "in Excel, save it as ‘CSV UTF-8 (Comma delimited)’ or as an Excel Workbook (.xlsx)"


# Reading the file ---------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    """The non-empty rows of a file, each with the line (or sheet row) it is on; the
    first is the heading row."""

    rows: list[tuple[int, list[Any]]]
    kind: str  # "csv" or "xlsx"
    sheet: str | None = None


def _suffix(filename: str | None) -> str:
    return PurePosixPath((filename or "").replace("\\", "/")).suffix.lower()


def read_upload(stream: BinaryIO, filename: str | None, field_name: str = "file") -> Table:
    """The rows of an uploaded CSV file or Excel workbook, or InvalidInput saying why
    it is neither. What the file is comes from its content; a name that says
    otherwise (a picture or workbook renamed .csv) is refused with a clear message.
    Reads at most a byte over the limit, whatever the file's size."""
    data = stream.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidInput({field_name: [f"The selected file must be smaller than {MAX_UPLOAD_BYTES // (1024 * 1024)}MB"]})
    if not data.strip():
        raise InvalidInput({field_name: ["The selected file is empty"]})
    suffix = _suffix(filename)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise InvalidInput({field_name: [f"The selected file is an old-style Excel workbook (.xls): {SAVE_AS_CSV}, and choose that file"]})
    if data.startswith(b"PK\x03\x04"):
        if suffix == ".csv":
            raise InvalidInput(
                {field_name: ["The selected file is an Excel workbook renamed to .csv: choose the .xlsx file itself, or in Excel save the sheet as ‘CSV UTF-8 (Comma delimited)’"]}
            )
        if suffix != ".xlsx":
            raise InvalidInput({field_name: [NOT_A_FILE]})
        return _read_workbook(data, field_name)
    if suffix == ".xlsx":
        raise InvalidInput(
            {field_name: ["The selected file is not a real Excel workbook, though its name ends .xlsx (it may have been renamed): open it in Excel and save it as an Excel Workbook (.xlsx)"]}
        )
    if suffix not in (".csv", ""):
        raise InvalidInput({field_name: [NOT_A_FILE]})
    if b"\x00" in data:
        raise InvalidInput(
            {field_name: ["The selected file is not a real CSV file, though its name ends .csv (it may be a picture or a document that was renamed): choose a CSV file or an Excel workbook (.xlsx)"]}
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput({field_name: [f"The selected file must be a CSV saved as UTF-8: {SAVE_AS_CSV}"]}) from None
    return _read_csv(text, field_name)


def _read_csv(text: str, field_name: str) -> Table:
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[tuple[int, list[Any]]] = []
    last_line = 0
    try:
        for cells in reader:
            line, last_line = last_line + 1, reader.line_num
            if any(cell.strip() for cell in cells):
                rows.append((line, list(cells)))
                if len(rows) > MAX_ROWS + 1:
                    break
    except csv.Error:
        raise InvalidInput({field_name: [f"The selected file must be a CSV: line {reader.line_num} could not be read"]}) from None
    return Table(rows=rows, kind="csv")


def _read_workbook(data: bytes, field_name: str) -> Table:
    import openpyxl

    unreadable = InvalidInput(
        {field_name: ["The selected file could not be read as an Excel workbook (.xlsx): open it in Excel, save it again as an Excel Workbook, and choose that file"]}
    )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise unreadable from None
    if "xl/workbook.xml" not in names:
        # Another zip: a Word document, a zipped folder...
        raise InvalidInput(
            {field_name: ["The selected file is not an Excel workbook, though its name ends .xlsx (it may be another kind of document that was renamed): choose a CSV file or an Excel workbook (.xlsx)"]}
        )
    if unpacked > MAX_UNPACKED_BYTES:
        raise InvalidInput({field_name: ["The selected workbook is too large once opened: copy the plan's sheet into a new workbook, or save it as CSV UTF-8"]})
    # openpyxl raises many kinds of error on a damaged or hostile file (zip, XML,
    # value errors); any of them means the same thing to the person uploading it.
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # noqa: BLE001
        raise unreadable from None
    try:
        first: Table | None = None
        for sheet in workbook.worksheets:
            table = _read_sheet(sheet)
            if first is None:
                first = table
            if table.rows and "action" in _columns_of(table.rows[0][1]):
                return table
        return first or Table(rows=[], kind="xlsx")
    except Exception:  # noqa: BLE001
        raise unreadable from None
    finally:
        workbook.close()


def _read_sheet(sheet) -> Table:
    rows: list[tuple[int, list[Any]]] = []
    for line, cells in enumerate(sheet.iter_rows(min_row=1, max_col=MAX_COLUMNS, values_only=True), start=1):
        if any(_cell_text(cell).strip() for cell in cells):
            rows.append((line, list(cells)))
            if len(rows) > MAX_ROWS + 1:
                break
    return Table(rows=rows, kind="xlsx", sheet=sheet.title)


# Cells --------------------------------------------------------------------------------


def _cell_text(value: Any) -> str:
    """A cell as text: numbers without a needless ".0", dates as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _one_line(value: Any) -> str:
    """Text for a one-line field: a line break typed in a cell (Alt+Enter) becomes a space."""
    return re.sub(r"[ \t]*[\r\n]+[ \t]*", " ", _cell_text(value)).strip()


def _shown(text: str) -> str:
    text = text.strip()
    return text if len(text) <= SHOWN_VALUE else text[: SHOWN_VALUE - 1] + "…"


def parse_date(value: Any, label: str) -> tuple[date | None, str | None]:
    """A date cell, or text as DD/MM/YYYY or YYYY-MM-DD: (the date, None), (None, a
    problem), or (None, None) when the cell is empty."""
    if isinstance(value, datetime):
        return value.date(), None
    if isinstance(value, date):
        return value, None
    text = _cell_text(value).strip()
    if not text:
        return None, None
    day = None
    if match := _DMY.fullmatch(text):
        day, month, year = (int(part) for part in match.groups())
    elif match := _ISO.fullmatch(text):
        year, month, day = (int(part) for part in match.groups())
    if day is not None:
        try:
            return date(year, month, day), None
        except ValueError:
            pass
    return None, f"{label} {_shown(text)} is not a real date: enter it as DD/MM/YYYY or YYYY-MM-DD, like 31/03/2026 or 2026-03-31"


def parse_status(value: Any) -> tuple[ActionStatus, str | None]:
    """not started / in progress / completed / verified / cancelled, in any case, with
    spaces, underscores or hyphens; blank is not started."""
    text = re.sub(r"[\s_\-]+", " ", _cell_text(value)).strip().lower()
    if not text:
        return ActionStatus.NOT_STARTED, None
    if text in STATUS_WORDS:
        return STATUS_WORDS[text], None
    return ActionStatus.NOT_STARTED, (
        f"Status must be not started, in progress, completed, verified or cancelled, not {_shown(_cell_text(value))}"
    )


# Rows ---------------------------------------------------------------------------------


@dataclass
class PlanRow:
    """One action as the file gives it, and anything wrong with it that the file alone shows."""

    line: int
    cells: dict[str, Any]
    problem: str | None = None  # the row itself could not be read

    def text(self, column: str) -> str:
        return _one_line(self.cells.get(column))

    def title(self) -> str:
        return self.text("action")


def _columns_of(cells: list[Any]) -> list[str | None]:
    return [_COLUMN_OF.get(_heading(_cell_text(cell))) for cell in cells]


def parse_table(table: Table, field_name: str = "file") -> list[PlanRow]:
    """The rows under the heading row, each cell under its column's name. Headings
    are matched loosely (case, spaces, a few other names); unknown columns are
    ignored and never stored."""
    where = f"the sheet ‘{table.sheet}’" if table.sheet else "the file"
    if not table.rows:
        raise InvalidInput({field_name: ["The selected file is empty" if table.kind == "csv" else "The selected workbook is empty"]})
    heading_line, headings = table.rows[0]
    columns = _columns_of(headings)
    missing = [COLUMN_LABELS[c] for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        shown = ", ".join(t for t in (_cell_text(h).strip() for h in headings) if t)[:80]
        raise InvalidInput(
            {
                field_name: [
                    f"The first line of {where} must be the column headings, including "
                    + ", ".join(COLUMN_LABELS[c] for c in REQUIRED_COLUMNS)
                    + f" (line {heading_line} has {shown or 'nothing'}; missing: {', '.join(missing)})"
                ]
            }
        )
    for column in COLUMNS:
        given = [_cell_text(h).strip() for h, c in zip(headings, columns) if c == column]
        if len(given) > 1:
            raise InvalidInput({field_name: [f"The file has more than one {COLUMN_LABELS[column]} column ({' and '.join(given)}): keep one"]})
    data_rows = table.rows[1:]
    if not data_rows:
        raise InvalidInput({field_name: ["The file has column headings but no actions under them"]})
    if len(data_rows) > MAX_ROWS:
        raise InvalidInput({field_name: [f"The file must have {MAX_ROWS:,} actions or fewer: split it into smaller files"]})
    rows = []
    for line, cells in data_rows:
        values = {column: cells[i] for i, column in enumerate(columns) if column and i < len(cells)}
        problem = None
        if table.kind == "csv" and len(cells) > len(headings) and any(_cell_text(c).strip() for c in cells[len(headings):]):
            problem = "The row has more values than there are column headings: put any value with a comma in double quotes"
        rows.append(PlanRow(line=line, cells=values, problem=problem))
    return rows


# Checking and saving ------------------------------------------------------------------


@dataclass
class Imported:
    actions: int
    by_status: dict[ActionStatus, int]
    new_priorities: list[str] = field(default_factory=list)
    existing_priorities: list[str] = field(default_factory=list)


@dataclass
class _Checked:
    row: PlanRow
    status: ActionStatus
    note: str | None
    errors: dict[str, list[str]]
    data: dict[str, Any]


def _owners(rows: list[PlanRow]) -> dict[str, User]:
    emails = sorted({normalise_email(row.text("owner")) for row in rows} - {""})
    owners: dict[str, User] = {}
    for start in range(0, len(emails), 500):
        for user in db.session.scalars(select(User).where(User.email.in_(emails[start : start + 500]))):
            owners[user.email] = user
    return owners


def _check_row(row: PlanRow, owners: dict[str, User], priority_problem: str | None) -> _Checked:
    """What the file alone shows is wrong with the row, and the data for the service."""
    errors: dict[str, list[str]] = {}
    data: dict[str, Any] = {"title": row.title()}
    if priority_problem:
        errors["plan_priority_id"] = [priority_problem]

    email = normalise_email(row.text("owner"))
    owner = owners.get(email)
    if not email:
        errors["owner_id"] = ["Enter the owner’s email address"]
    elif owner is None:
        errors["owner_id"] = [f"No user has the email address {_shown(email)}: check it, or ask an administrator to add them"]
    elif not owner.active:
        errors["owner_id"] = [f"The owner {_shown(email)} is not an active user: choose an active owner"]
    data["owner_id"] = owner.id if owner is not None and owner.active else None

    due, problem = parse_date(row.cells.get("due_date"), "Due date")
    if problem:
        errors["due_date"] = [problem]
    data["due_date"] = due

    approved_on, problem = parse_date(row.cells.get("approved_on"), "Date approved")
    if problem:
        errors["approved_on"] = [problem]
    data["approved_on"] = approved_on
    data["approved_by"] = row.text("board")

    level = row.text("priority_level").lower()
    if level and level not in {p.value for p in ActionPriority}:
        errors["priority"] = [f"Priority level must be high, medium or low, not {_shown(row.text('priority_level'))}"]
    data["priority"] = level or None

    status, problem = parse_status(row.cells.get("status"))
    if problem:
        errors["status"] = [problem]
    note = check_text(errors, "note", _cell_text(row.cells.get("note")).replace("\r\n", "\n"), label="Note", max_length=TEXT_MAX, multiline=True)
    if not note and "note" not in errors:
        if status in (ActionStatus.COMPLETED, ActionStatus.VERIFIED):
            errors["note"] = ["Enter the evidence that the action is complete in the note column"]
        elif status is ActionStatus.CANCELLED:
            errors["note"] = ["Enter why the action was cancelled in the note column"]
    return _Checked(row=row, status=status, note=note, errors=errors, data=data)


def _message(errors: dict[str, list[str]]) -> str:
    ordered = [message for name in FIELD_ORDER for message in errors.get(name, [])]
    ordered += [message for name, messages in errors.items() if name not in FIELD_ORDER for message in messages]
    return "; ".join(ordered)


def _priority_titles(rows: list[PlanRow]) -> list[tuple[str | None, str | None]]:
    """Each row's priority title, or a problem with it. A blank cell means the
    priority of the row above, as when the cells of a column are merged."""
    found: list[tuple[str | None, str | None]] = []
    current: tuple[str | None, str | None] = (None, "Enter the priority (workstream) the action belongs to")
    for row in rows:
        given = row.text("priority")
        if given:
            errors: dict[str, list[str]] = {}
            title = check_text(errors, "priority", given, label="Priority", max_length=TITLE_MAX)
            if errors:
                found.append((None, errors["priority"][0]))
                current = (None, f"The priority on line {row.line} above has a problem: this row takes its priority from that line")
                continue
            current = (title, None)
        found.append(current)
    return found


def import_rows(plan: ImprovementPlan, user: User, rows: list[PlanRow], *, field_name: str = "file") -> Imported:
    """Add every row as an action under its priority (existing priorities of the plan
    matched by title, whatever the case; new ones added after them in the order they
    first appear), in one commit; if any row is bad, save nothing and report every
    bad row (RowProblems)."""
    if not can_manage_plan(user, plan):
        raise NotAllowed("Only the plan's owner, a QA lead or an admin can import actions into this plan.")
    if not rows:
        raise InvalidInput({field_name: ["The file has column headings but no actions under them"]})
    if len(rows) > MAX_ROWS:
        raise InvalidInput({field_name: [f"The file must have {MAX_ROWS:,} actions or fewer: split it into smaller files"]})

    found = _priority_titles(rows)
    titles = [title for title, _ in found]
    owners = _owners(rows)
    checked = [_check_row(row, owners, problem) for row, (_, problem) in zip(rows, found)]

    existing = {p.title.casefold(): p for p in db.session.scalars(select(PlanPriority).where(PlanPriority.plan_id == plan.id))}
    new_titles: dict[str, str] = {}  # in the order they first appear, spelt as first written
    for title in titles:
        if title is not None and title.casefold() not in existing:
            new_titles.setdefault(title.casefold(), title)
    by_title = dict(existing)
    if new_titles:
        position = db.session.scalar(select(func.max(PlanPriority.position)).where(PlanPriority.plan_id == plan.id)) or 0
        for offset, (key, title) in enumerate(new_titles.items(), start=1):
            by_title[key] = PlanPriority(plan_id=plan.id, title=title, position=position + offset)
            db.session.add(by_title[key])
        try:
            db.session.flush()  # the new priorities' ids, for the service's checks; undone if any row is bad
        except IntegrityError:
            db.session.rollback()
            raise Conflict(_SAME_TIME) from None

    problems: list[RowProblem] = []
    made: list[tuple[_Checked, Action]] = []
    for result, title in zip(checked, titles):
        data = dict(result.data)
        data["plan_priority_id"] = by_title[title.casefold()].id if title is not None else None
        action = None
        try:
            action = action_rules.new_action(data, user)
        except InvalidInput as error:
            for name, messages in error.errors.items():
                if name not in result.errors:  # the file's own message about a field comes first
                    result.errors[name] = list(messages)
        if result.row.problem:
            result.errors = {"row": [result.row.problem]}
        if result.errors:
            problems.append(RowProblem(result.row.line, result.row.title(), _message(result.errors)))
        else:
            made.append((result, action))
    if problems:
        db.session.rollback()
        raise RowProblems(field_name, problems)

    counts = {status: 0 for status in ActionStatus}
    for result, action in made:
        _arrive_with_status(action, result.status, result.note, user)
        counts[result.status] += 1
        db.session.add(action)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(_SAME_TIME) from None
    used = {title.casefold() for title in titles if title is not None}
    return Imported(
        actions=len(made),
        by_status=counts,
        new_priorities=list(new_titles.values()),
        existing_priorities=[p.title for key, p in existing.items() if key in used],
    )


_SAME_TIME = "Someone else changed this plan's priorities at the same time. Nothing has been imported: check the plan and try again."


def _arrive_with_status(action: Action, status: ActionStatus, note: str | None, user: User) -> None:
    """An action keeps the status the file gives it; anything but not started (or a
    note) goes on its timeline as where that status came from."""
    action.status = status
    now = utcnow()
    if status in (ActionStatus.COMPLETED, ActionStatus.VERIFIED):
        action.completed_at = now
    if status is ActionStatus.VERIFIED:
        action.verified_at = now  # signed off before the import, by whoever the board was
    if status is ActionStatus.CANCELLED:
        action.cancellation_reason = note
    if status is ActionStatus.NOT_STARTED and not note:
        return
    entry = f"Imported with status {status.label}."
    kind = UpdateKind.CANCELLED if status is ActionStatus.CANCELLED else UpdateKind.PROGRESS
    evidence = note if status in (ActionStatus.COMPLETED, ActionStatus.VERIFIED) else None
    if note and evidence is None:
        entry = f"{entry}\n\n{note}"
    action.updates.append(
        ActionUpdate(
            kind=kind,
            note=entry,
            status=None if status is ActionStatus.NOT_STARTED else status,
            evidence=evidence,
            author_id=user.id,
        )
    )


def import_file(plan: ImprovementPlan, user: User, stream: BinaryIO, filename: str | None, *, field_name: str = "file") -> Imported:
    """Read an uploaded CSV file or workbook and import it (import_rows)."""
    if not can_manage_plan(user, plan):
        raise NotAllowed("Only the plan's owner, a QA lead or an admin can import actions into this plan.")
    table = read_upload(stream, filename, field_name)
    return import_rows(plan, user, parse_table(table, field_name), field_name=field_name)


# The template -------------------------------------------------------------------------

TEMPLATE_HEADINGS = ["Priority", "Action", "Owner", "Due date", "Status", "Priority level", "Board", "Approved on", "Note"]
TEMPLATE_ROWS = [
    ["Front door", "Audit 20 MASH contacts a month for threshold decisions", "team.manager@example.gov.uk", "31/03/2026", "In progress", "High", "Strategic MASH Board", "15/01/2026", ""],
    ["Front door", "Publish the revised threshold guidance", "team.manager@example.gov.uk", "28/02/2026", "Completed", "Medium", "Strategic MASH Board", "15/01/2026", "Guidance published on the intranet and briefed to all MASH staff"],
    ["Workforce", "Reduce average MASH caseloads to 15", "head.of.service@example.gov.uk", "2026-06-30", "Not started", "High", "Practice and Development Board", "2026-01-20", ""],
]


def template_csv() -> str:
    """A CSV file to fill in: the headings and a few example rows (UTF-8 with a byte
    order mark, so Excel opens it with the right characters)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(TEMPLATE_HEADINGS)
    writer.writerows(TEMPLATE_ROWS)
    return "\ufeff" + out.getvalue()
