"""Importing an improvement plan from CSV or Excel: good files with their counts, every
kind of bad row reported with its line (and nothing saved), files that are not what
they say, and the page: who may use it and what it says."""

from __future__ import annotations

import html
import io
import re
from datetime import date, datetime

import openpyxl
import pytest
from sqlalchemy import func, select

from qa_audit.actions.models import Action, ActionPriority, ActionStatus, ActionUpdate, UpdateKind
from qa_audit.errors import InvalidInput, NotAllowed
from qa_audit.extensions import db
from qa_audit.history.models import HistoryEntry
from qa_audit.plans import importing
from qa_audit.plans.models import PlanPriority
from qa_audit.recording.importing import RowProblems
from tests.conftest import sign_in

TODAY = date(2026, 11, 24)
HEADINGS = "priority,action,owner,due date,status,priority level,board,approved on,note"


@pytest.fixture(autouse=True)
def today(pin_today):
    return pin_today(TODAY)


@pytest.fixture
def owners(make_user):
    return {
        "jo": make_user("auditor", email="jo.manager@example.gov.uk", name="Jo Manager"),
        "sam": make_user("head_of_service", email="sam.head@example.gov.uk", name="Sam Head"),
        "gone": make_user("auditor", email="left@example.gov.uk", name="Left Council", active=False),
    }


@pytest.fixture
def plan(make_plan, owners):
    return make_plan("Annual improvement plan 2026-27", owner=owners["sam"], priorities=["Front door"])


@pytest.fixture
def lead(make_user):
    return make_user("qa_lead")


def _csv(*lines: str, bom: bool = False) -> io.BytesIO:
    text = "\n".join(lines) + "\n"
    return io.BytesIO((("\ufeff" if bom else "") + text).encode("utf-8"))


def _import(plan, user, *lines: str, filename: str = "plan.csv", **kwargs):
    return importing.import_file(plan, user, _csv(*lines, **kwargs), filename)


def _actions(plan) -> list[Action]:
    return list(
        db.session.scalars(
            select(Action).join(PlanPriority, Action.plan_priority_id == PlanPriority.id).where(PlanPriority.plan_id == plan.id).order_by(Action.id)
        )
    )


def _priorities(plan) -> list[tuple[str, int]]:
    return [(p.title, p.position) for p in db.session.scalars(select(PlanPriority).where(PlanPriority.plan_id == plan.id).order_by(PlanPriority.position))]


def _problems(error) -> list[tuple[int, str, str]]:
    return [(p.line, p.value, p.message) for p in error.value.problems]


def _workbook(rows: list[list], *, sheets: dict[str, list[list]] | None = None) -> io.BytesIO:
    book = openpyxl.Workbook()
    first = book.active
    first.title = "Plan"
    for row in rows:
        first.append(row)
    for title, extra in (sheets or {}).items():
        sheet = book.create_sheet(title, 0)
        for row in extra:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    return out


GOOD = [
    HEADINGS,
    "Front door,Audit 20 MASH contacts a month,jo.manager@example.gov.uk,31/03/2027,Not started,high,Strategic MASH Board,15/01/2026,",
    "front door,Publish threshold guidance,JO.MANAGER@example.gov.uk ,2026-10-31,COMPLETED,,,,Guidance on the intranet since 2 March",
    "Workforce,Reduce MASH caseloads to 15,sam.head@example.gov.uk,30/06/2027,in_progress,low,,,Recruited two social workers",
    ",Stabilise the agency workforce,jo.manager@example.gov.uk,1/12/2026,In-Progress,medium,,,",
    "Multi-agency working,Police attend every strategy meeting,jo.manager@example.gov.uk,2026-12-15,verified,,,,Attendance 96% in October",
    "Multi-agency working,Health attendance audit,jo.manager@example.gov.uk,2027-01-15,Cancelled,,,,Superseded by the health-led review",
]


# Good files ----------------------------------------------------------------------------------


def test_a_good_csv_imports_every_action_with_its_status(plan, lead, owners):
    imported = _import(plan, lead, *GOOD)

    assert imported.actions == 6
    assert imported.by_status == {
        ActionStatus.NOT_STARTED: 1,
        ActionStatus.IN_PROGRESS: 2,
        ActionStatus.COMPLETED: 1,
        ActionStatus.VERIFIED: 1,
        ActionStatus.CANCELLED: 1,
    }
    assert imported.new_priorities == ["Workforce", "Multi-agency working"]
    assert imported.existing_priorities == ["Front door"]
    # Matched by title whatever the case; new ones after, in the order they first appear.
    assert _priorities(plan) == [("Front door", 1), ("Workforce", 2), ("Multi-agency working", 3)]

    actions = _actions(plan)
    first, completed, workforce, merged, verified, cancelled = actions
    assert (first.title, first.owner_id, first.due_date, first.priority, first.status) == (
        "Audit 20 MASH contacts a month", owners["jo"].id, date(2027, 3, 31), ActionPriority.HIGH, ActionStatus.NOT_STARTED
    )
    assert (first.approved_by, first.approved_on, first.created_by_id) == ("Strategic MASH Board", date(2026, 1, 15), lead.id)
    assert first.updates == []  # not started, no note: nothing on its timeline yet
    assert completed.plan_priority.title == "Front door" and completed.owner_id == owners["jo"].id
    assert completed.status is ActionStatus.COMPLETED and completed.completed_at is not None and completed.priority is ActionPriority.MEDIUM
    [update] = completed.updates
    assert (update.kind, update.status, update.note, update.evidence, update.author_id) == (
        UpdateKind.PROGRESS, ActionStatus.COMPLETED, "Imported with status Completed.", "Guidance on the intranet since 2 March", lead.id
    )
    assert workforce.updates[0].note == "Imported with status In progress.\n\nRecruited two social workers"
    assert workforce.updates[0].evidence is None and workforce.priority is ActionPriority.LOW
    # A blank priority is the row above's, as when cells are merged.
    assert merged.plan_priority.title == "Workforce" and merged.status is ActionStatus.IN_PROGRESS
    assert merged.due_date == date(2026, 12, 1)
    assert verified.status is ActionStatus.VERIFIED and verified.verified_at is not None and verified.verified_by_id is None
    assert verified.updates[0].note == "Imported with status Verified." and verified.updates[0].evidence == "Attendance 96% in October"
    assert cancelled.status is ActionStatus.CANCELLED and cancelled.cancellation_reason == "Superseded by the health-led review"
    assert (cancelled.updates[0].kind, cancelled.updates[0].status) == (UpdateKind.CANCELLED, ActionStatus.CANCELLED)
    assert cancelled.updates[0].note == "Imported with status Cancelled.\n\nSuperseded by the health-led review"
    # Written like any other change: in the history.
    assert db.session.scalar(select(func.count()).select_from(HistoryEntry).where(HistoryEntry.entity == "action")) == 6


def test_a_csv_with_a_byte_order_mark_and_other_columns(plan, lead):
    imported = _import(plan, lead, "Action,Owner Email,Due-Date,Priority,Child name", "Visit the MASH,jo.manager@example.gov.uk,2026-12-01,Front door,Never stored", bom=True)
    assert imported.actions == 1
    [action] = _actions(plan)
    assert (action.title, action.status, action.plan_priority.title) == ("Visit the MASH", ActionStatus.NOT_STARTED, "Front door")


def test_formula_looking_cells_are_taken_as_text(plan, lead):
    _import(plan, lead, HEADINGS, '=HYPERLINK("http://x"),=1+1,jo.manager@example.gov.uk,2026-12-01,,,"@SUM(A1)",,')
    [action] = _actions(plan)
    assert action.title == "=1+1" and action.plan_priority.title == '=HYPERLINK("http://x")' and action.approved_by == "@SUM(A1)"


def test_a_good_workbook_imports_with_excel_dates_and_formulas_as_text(plan, lead, owners):
    rows = [
        ["Priority", "Action", "Owner", "Due date", "Status", "Priority level", "Board", "Approved on", "Note"],
        ["Front door", "Audit MASH contacts", "jo.manager@example.gov.uk", datetime(2027, 3, 31), "In progress", "High", None, date(2026, 1, 15), None],
        [None, "Line\nbreak in a title", "sam.head@example.gov.uk", "15/12/2026", "completed", None, None, None, "=A1"],
        ["Workforce", "=B2&\" again\"", "jo.manager@example.gov.uk", "2027-02-01", None, None, None, None, None],
        [None, None, None, None, None, None, None, None, None],
    ]
    guidance = [["How to fill in this workbook"], ["Use the Plan sheet"]]
    imported = importing.import_file(plan, lead, _workbook(rows, sheets={"Guidance": guidance}), "plan.xlsx")

    assert imported.actions == 3 and imported.new_priorities == ["Workforce"]
    first, second, third = _actions(plan)
    assert (first.due_date, first.approved_on, first.status, first.priority) == (date(2027, 3, 31), date(2026, 1, 15), ActionStatus.IN_PROGRESS, ActionPriority.HIGH)
    assert second.title == "Line break in a title" and second.plan_priority.title == "Front door"
    assert second.updates[0].evidence == "=A1"
    assert third.title == '=B2&" again"'


def test_a_bad_workbook_row_is_reported_with_its_sheet_row(plan, lead):
    rows = [
        ["Priority", "Action", "Owner", "Due date"],
        [None, None, None, None],
        ["Front door", "Audit MASH contacts", "jo.manager@example.gov.uk", "31/13/2026"],
    ]
    with pytest.raises(RowProblems) as error:
        importing.import_file(plan, lead, _workbook(rows), "plan.xlsx")
    assert _problems(error) == [(3, "Audit MASH contacts", "Due date 31/13/2026 is not a real date: enter it as DD/MM/YYYY or YYYY-MM-DD, like 31/03/2026 or 2026-03-31")]


# Bad rows -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "row, message",
    [
        ("Front door,Audit,nobody@example.gov.uk,2026-12-01,,,,,", "No user has the email address nobody@example.gov.uk: check it, or ask an administrator to add them"),
        ("Front door,Audit,left@example.gov.uk,2026-12-01,,,,,", "The owner left@example.gov.uk is not an active user: choose an active owner"),
        ("Front door,Audit,,2026-12-01,,,,,", "Enter the owner’s email address"),
        ("Front door,Audit,jo.manager@example.gov.uk,31/13/2026,,,,,", "Due date 31/13/2026 is not a real date: enter it as DD/MM/YYYY or YYYY-MM-DD, like 31/03/2026 or 2026-03-31"),
        ("Front door,Audit,jo.manager@example.gov.uk,29/02/2027,,,,,", "Due date 29/02/2027 is not a real date"),
        ("Front door,Audit,jo.manager@example.gov.uk,next week,,,,,", "Due date next week is not a real date"),
        ("Front door,Audit,jo.manager@example.gov.uk,,,,,,", "Enter the due date"),
        ("Front door,Audit,jo.manager@example.gov.uk,01/01/2200,,,,,", "Due date must be between 1900 and 2100"),
        ("Front door,Audit,jo.manager@example.gov.uk,2026-12-01,done-ish,,,,", "Status must be not started, in progress, completed, verified or cancelled, not done-ish"),
        ("Front door,,jo.manager@example.gov.uk,2026-12-01,,,,,", "Enter a title for the action"),
        ("Front door,Audit,jo.manager@example.gov.uk,2026-12-01,completed,,,,", "Enter the evidence that the action is complete in the note column"),
        ("Front door,Audit,jo.manager@example.gov.uk,2026-12-01,verified,,,,", "Enter the evidence that the action is complete in the note column"),
        ("Front door,Audit,jo.manager@example.gov.uk,2026-12-01,cancelled,,,,", "Enter why the action was cancelled in the note column"),
        (f"Front door,{'A' * 201},jo.manager@example.gov.uk,2026-12-01,,,,,", "Title must be 200 characters or fewer"),
        (f"Front door,Audit,jo.manager@example.gov.uk,2026-12-01,completed,,,,{'n' * 10001}", "Note must be 10,000 characters or fewer"),
        (f"Front door,Audit,jo.manager@example.gov.uk,2026-12-01,,,{'B' * 201},,", "Board must be 200 characters or fewer"),
        (f"{'P' * 201},Audit,jo.manager@example.gov.uk,2026-12-01,,,,,", "Priority must be 200 characters or fewer"),
        ("Front door,Audit,jo.manager@example.gov.uk,2026-12-01,,urgent,,,", "Priority level must be high, medium or low, not urgent"),
        ("Front door,Audit,jo.manager@example.gov.uk,2026-12-01,,,,32/01/2026,", "Date approved 32/01/2026 is not a real date"),
        ("Front door,Audit\x07,jo.manager@example.gov.uk,2026-12-01,,,,,", "Title must not contain control characters"),
        ("Front door,Audit,jo.manager@example.gov.uk,2026-12-01,,,,,,extra", "The row has more values than there are column headings"),
    ],
)
def test_each_bad_row_is_reported_with_its_line_and_nothing_is_saved(plan, lead, owners, row, message):
    good = "Workforce,Recruit,jo.manager@example.gov.uk,2026-12-01,,,,,"
    with pytest.raises(RowProblems) as error:
        _import(plan, lead, HEADINGS, good, "", row)
    [(line, _, said)] = _problems(error)
    assert line == 4  # the blank line 3 still counts
    assert message in said
    assert error.value.errors["file"][0].startswith("Line 4: ") and error.value.errors["file"][0].endswith("Nothing has been saved")
    assert _actions(plan) == []
    assert _priorities(plan) == [("Front door", 1)]  # Workforce, made for the check, is gone too


def test_every_bad_row_is_listed_with_all_its_problems(plan, lead):
    lines = [
        HEADINGS,
        ",First row without a priority,jo.manager@example.gov.uk,2026-12-01,,,,,",
        "Front door,Fine,jo.manager@example.gov.uk,2026-12-01,,,,,",
        "Front door,,nobody@example.gov.uk,31/13/2026,finished,,,,",
        f"{'P' * 201},Under a bad priority,jo.manager@example.gov.uk,2026-12-01,,,,,",
        ",Under the same bad priority,jo.manager@example.gov.uk,2026-12-01,,,,,",
    ]
    with pytest.raises(RowProblems) as error:
        _import(plan, lead, *lines)
    problems = _problems(error)
    assert [line for line, _, _ in problems] == [2, 4, 5, 6]
    assert problems[0][2] == "Enter the priority (workstream) the action belongs to"
    assert problems[1][1] == "" and problems[1][2] == (
        "Enter a title for the action; No user has the email address nobody@example.gov.uk: check it, or ask an administrator to add them; "
        "Due date 31/13/2026 is not a real date: enter it as DD/MM/YYYY or YYYY-MM-DD, like 31/03/2026 or 2026-03-31; "
        "Status must be not started, in progress, completed, verified or cancelled, not finished"
    )
    assert problems[2][2] == "Priority must be 200 characters or fewer"
    assert problems[3][2].startswith("The priority on line 5 above has a problem")
    assert error.value.errors["file"][0] == "4 rows have problems, listed below. Nothing has been saved: correct them and try again"
    assert _actions(plan) == []


# Files that are not right --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, filename, message",
    [
        (b"x" * (6 * 1024 * 1024), "plan.csv", "The selected file must be smaller than 5MB"),
        (b"", "plan.csv", "The selected file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "plan.csv", "is not a real CSV file, though its name ends .csv"),
        ("priority,action\nFront door,Équipe\n".encode("latin-1"), "plan.csv", "must be a CSV saved as UTF-8"),
        ("priority,action\n".encode("utf-16"), "plan.csv", "is not a real CSV file"),
        (b"priority,action,owner,due date\n", "plan.xlsx", "is not a real Excel workbook, though its name ends .xlsx"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "plan.xls", "old-style Excel workbook (.xls)"),
        (b"priority,action,owner,due date\n", "plan.pdf", "must be a CSV file or an Excel workbook (.xlsx)"),
        (b"PK\x03\x04 not really a zip", "plan.xlsx", "could not be read as an Excel workbook"),
    ],
)
def test_files_that_are_not_a_csv_or_workbook_are_refused(plan, lead, data, filename, message):
    with pytest.raises(InvalidInput) as error:
        importing.import_file(plan, lead, io.BytesIO(data), filename)
    assert message in error.value.errors["file"][0]
    assert _actions(plan) == []


def test_a_workbook_renamed_csv_and_another_zip_renamed_xlsx_are_refused(plan, lead):
    book = _workbook([["Priority", "Action", "Owner", "Due date"]])
    with pytest.raises(InvalidInput) as error:
        importing.import_file(plan, lead, book, "plan.csv")
    assert "an Excel workbook renamed to .csv" in error.value.errors["file"][0]

    import zipfile

    other = io.BytesIO()
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    other.seek(0)
    with pytest.raises(InvalidInput) as error:
        importing.import_file(plan, lead, other, "plan.xlsx")
    assert "is not an Excel workbook, though its name ends .xlsx" in error.value.errors["file"][0]


def test_a_workbook_without_the_headings_or_that_unpacks_too_large_is_refused(monkeypatch, plan, lead):
    with pytest.raises(InvalidInput) as error:
        importing.import_file(plan, lead, _workbook([["Notes"], ["Nothing to import"]]), "plan.xlsx")
    assert "The first line of the sheet ‘Plan’ must be the column headings" in error.value.errors["file"][0]
    with pytest.raises(InvalidInput) as error:
        importing.import_file(plan, lead, _workbook([]), "plan.xlsx")
    assert error.value.errors["file"] == ["The selected workbook is empty"]

    import zipfile

    monkeypatch.setattr(importing, "MAX_UNPACKED_BYTES", 1024 * 1024)
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", "0" * (2 * 1024 * 1024))
    assert len(bomb.getvalue()) < 10_000
    bomb.seek(0)
    with pytest.raises(InvalidInput) as error:
        importing.import_file(plan, lead, bomb, "plan.xlsx")
    assert "The selected workbook is too large once opened" in error.value.errors["file"][0]


def test_read_upload_reads_no_more_than_it_needs():
    class Endless(io.RawIOBase):
        sizes: list[int] = []

        def read(self, size=-1):
            self.sizes.append(size)
            return b"a" * size

    with pytest.raises(InvalidInput):
        importing.read_upload(Endless(), "plan.csv")
    assert Endless.sizes == [importing.MAX_UPLOAD_BYTES + 1]


@pytest.mark.parametrize(
    "lines, message",
    [
        (["action,owner", "Audit,jo.manager@example.gov.uk"], "must be the column headings, including priority, action, owner, due date (line 1 has action, owner; missing: priority, due date)"),
        ([HEADINGS], "The file has column headings but no actions under them"),
        (["priority,action,owner,due date,note,evidence", "a,b,c,d,e,f"], "The file has more than one note column (note and evidence): keep one"),
        ([HEADINGS, 'Front door,"' + "x" * 200_000 + '",jo.manager@example.gov.uk,2026-12-01'], "The selected file must be a CSV: line 2 could not be read"),
    ],
)
def test_headings_and_layout_are_checked(plan, lead, lines, message):
    with pytest.raises(InvalidInput) as error:
        _import(plan, lead, *lines)
    assert message in error.value.errors["file"][0]


def test_five_thousand_actions_import_in_one_go(plan, lead):
    rows = [f"Priority {n % 7},Action {n},jo.manager@example.gov.uk,2026-12-01,in progress,,,," for n in range(importing.MAX_ROWS)]
    imported = _import(plan, lead, HEADINGS, *rows)
    assert imported.actions == importing.MAX_ROWS and len(imported.new_priorities) == 7
    assert db.session.scalar(select(func.count()).select_from(ActionUpdate)) == importing.MAX_ROWS


def test_no_more_than_five_thousand_actions(plan, lead):
    row = "Front door,Audit,jo.manager@example.gov.uk,2026-12-01,,,,,"
    with pytest.raises(InvalidInput) as error:
        _import(plan, lead, HEADINGS, *([row] * (importing.MAX_ROWS + 1)))
    assert error.value.errors["file"] == ["The file must have 5,000 actions or fewer: split it into smaller files"]


def test_only_those_who_manage_the_plan_may_import(plan, make_user):
    for role in ("auditor", "viewer", "head_of_service"):
        with pytest.raises(NotAllowed):
            _import(plan, make_user(role), *GOOD)
    assert _actions(plan) == []
    assert _import(plan, plan.owner, *GOOD).actions == 6
    assert _import(plan, make_user("admin"), *GOOD).actions == 6


def test_the_template_imports_once_its_owners_exist(plan, lead, make_user):
    make_user("auditor", email="team.manager@example.gov.uk")
    make_user("head_of_service", email="head.of.service@example.gov.uk")
    text = importing.template_csv()
    assert text.startswith("\ufeffPriority,Action,Owner,Due date,Status")
    imported = importing.import_file(plan, lead, io.BytesIO(text.encode()), "improvement-plan-template.csv")
    assert imported.actions == len(importing.TEMPLATE_ROWS)


# The page ------------------------------------------------------------------------------------------


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _problem_rows(page: str) -> list[tuple[str, ...]]:
    table = re.search(r'<table class="govuk-table" id="row-problems">.*?</table>', page, re.S).group(0)
    rows = re.findall(r"<tr class=\"govuk-table__row\">\s*<td[^>]*>(.*?)</td>\s*<td[^>]*>(.*?)</td>\s*<td[^>]*>(.*?)</td>", table, re.S)
    return [tuple(cell.strip() for cell in row) for row in rows]


def _post(client, url: str, data: dict):
    """The test client keeps a body over 500KB in a temporary file, which it closes
    only with a response it followed (redirects or not)."""
    response = client.post_form(url, data, follow_redirects=True)
    page = _text(response)
    response.close()
    return response, page


def _upload(*lines: str, filename: str = "plan.csv") -> dict:
    return {"file": (_csv(*lines), filename)}


@pytest.mark.parametrize("role", ["auditor", "viewer", "head_of_service"])
def test_the_page_refuses_those_who_do_not_manage_the_plan(login_as, plan, role):
    client = login_as(role)
    assert client.get(f"/plans/{plan.id}/import").status_code == 403
    assert client.post_form(f"/plans/{plan.id}/import", _upload(*GOOD)).status_code == 403
    assert client.get(f"/plans/{plan.id}/import/done").status_code == 403
    assert _actions(plan) == []
    # Anyone signed in may have the template.
    assert client.get("/plans/import-template.csv").status_code == 200


def test_the_page_needs_a_plan_and_sign_in(client, login_as, plan):
    assert client.get(f"/plans/{plan.id}/import").status_code == 302
    assert client.get("/plans/import-template.csv").status_code == 302
    assert login_as("qa_lead").get("/plans/999999/import").status_code == 404


@pytest.fixture
def owner_client(app, plan):
    client = app.test_client()
    assert sign_in(client, plan.owner.email).status_code == 302
    return client


def _error_at(page: str, message: str) -> bool:
    """The message is in the error summary (linking to the file field) and at the field."""
    summary = re.search(r'<div class="govuk-error-summary".*?</ul>', page, re.S)
    at_field = re.search(r'<p id="file-error" class="govuk-error-message">\s*<span class="govuk-visually-hidden">Error:</span>\s*(.*?)\s*</p>', page, re.S)
    return bool(summary and 'href="#file"' in summary.group(0) and message in summary.group(0) and at_field and message in at_field.group(1))


def test_the_plan_owner_imports_a_file_and_sees_the_counts(owner_client, plan, owners):
    response = owner_client.post_form(f"/plans/{plan.id}/import", _upload(*GOOD))
    assert response.status_code == 303 and response.location.endswith(f"/plans/{plan.id}/import/done")
    page = _text(owner_client.get(response.location))
    assert "Actions imported" in page and "6 actions added to Annual improvement plan 2026-27" in page
    for label, count in (("Not started", "1 action"), ("In progress", "2 actions"), ("Completed", "1 action"), ("Verified", "1 action"), ("Cancelled", "1 action")):
        assert re.search(rf"<dt class=\"govuk-summary-list__key\">\s*{label}\s*</dt>\s*<dd class=\"govuk-summary-list__value\">\s*{count}\s*</dd>", page), label
    assert "<li>Workforce</li>" in page and "<li>Multi-agency working</li>" in page
    assert f'href="/plans/{plan.id}"' in page
    assert len(_actions(plan)) == 6


def test_the_done_page_without_an_import_goes_to_the_upload_page(owner_client, plan):
    response = owner_client.get(f"/plans/{plan.id}/import/done")
    assert response.status_code == 302 and response.location.endswith(f"/plans/{plan.id}/import")


def test_the_page_lists_every_bad_row_and_saves_nothing(owner_client, plan):
    lines = [HEADINGS, "Front door,Fine,jo.manager@example.gov.uk,2026-12-01,,,,,", "Front door,Audit <b>contacts</b>,left@example.gov.uk,31/13/2026,,,,,", "Workforce,Recruit,jo.manager@example.gov.uk,2026-12-01,completed,,,,"]
    response = owner_client.post_form(f"/plans/{plan.id}/import", _upload(*lines))
    assert response.status_code == 200
    page = _text(response)
    assert page.startswith("<!DOCTYPE html>") and "<title>Error: Import actions" in page
    assert _error_at(page, "2 rows have problems, listed below. Nothing has been saved: correct them and try again")
    rows = _problem_rows(page)
    assert rows[0][0] == "Line 3" and "The owner left@example.gov.uk is not an active user" in rows[0][2] and "Due date 31/13/2026 is not a real date" in rows[0][2]
    assert rows[1] == ("Line 4", "Recruit", "Enter the evidence that the action is complete in the note column")
    assert "Audit &lt;b&gt;contacts&lt;/b&gt;" in response.get_data(as_text=True)  # shown as text, never as markup
    assert _actions(plan) == [] and _priorities(plan) == [("Front door", 1)]


@pytest.mark.parametrize(
    "upload, message",
    [
        (None, "Select a CSV file or an Excel workbook"),
        ((io.BytesIO(b"x" * (6 * 1024 * 1024)), "plan.csv"), "The selected file must be smaller than 5MB"),
        ((io.BytesIO(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01"), "plan.csv"), "The selected file is not a real CSV file, though its name ends .csv"),
        ((io.BytesIO("priority,action,owner,due date\nFront door,Équipe,jo.manager@example.gov.uk,2026-12-01\n".encode("cp1252")), "plan.csv"), "The selected file must be a CSV saved as UTF-8"),
        ((io.BytesIO(b"%PDF-1.7 a document"), "plan.pdf"), "The selected file must be a CSV file or an Excel workbook (.xlsx)"),
    ],
)
def test_the_page_says_what_is_wrong_with_the_file(owner_client, plan, upload, message):
    data = {} if upload is None else {"file": upload}
    response, page = _post(owner_client, f"/plans/{plan.id}/import", data)
    assert response.status_code == 200 and not response.history
    assert _error_at(page, message)
    assert _actions(plan) == []


def test_a_workbook_through_the_page(owner_client, plan):
    rows = [["Priority", "Action", "Owner", "Due date"], ["Front door", "Audit MASH contacts", "jo.manager@example.gov.uk", datetime(2027, 3, 31)]]
    response = owner_client.post_form(f"/plans/{plan.id}/import", {"file": (_workbook(rows), "plan.xlsx")}, follow_redirects=True)
    assert "1 action added to Annual improvement plan 2026-27" in _text(response)
    [action] = _actions(plan)
    assert action.due_date == date(2027, 3, 31)


def test_a_file_over_the_request_limit_is_answered_on_the_page(app, owner_client, plan):
    app.config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024  # as 16MB would be, faster
    response, page = _post(owner_client, f"/plans/{plan.id}/import", {"file": (io.BytesIO(b"x" * (3 * 1024 * 1024)), "plan.csv")})
    assert [r.status_code for r in response.history] == [303] and response.request.path == f"/plans/{plan.id}/import"
    assert "The selected file must be smaller than 5MB. Nothing has been imported." in page


def test_the_form_needs_its_csrf_token(owner_client, plan):
    assert owner_client.post(f"/plans/{plan.id}/import", data={"file": (_csv(*GOOD), "plan.csv")}).status_code == 400
    assert _actions(plan) == []


def test_import_page_describes_the_columns_and_links_the_template(login_as, plan):
    page = _text(login_as("qa_lead").get(f"/plans/{plan.id}/import"))
    assert "<h1 class=\"govuk-heading-l\">Import actions from a spreadsheet</h1>" in page
    assert 'href="/plans/import-template.csv"' in page
    for heading in ("Priority", "Action", "Owner", "Due date", "Status", "Priority level", "Board", "Approved on", "Note"):
        assert f'<td class="govuk-table__cell">{heading}</td>' in page
    assert 'type="file"' in page and 'enctype="multipart/form-data"' in page


def test_the_template_download(login_as):
    response = login_as("auditor").get("/plans/import-template.csv")
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="improvement-plan-template.csv"'
    assert response.get_data().startswith("\ufeffPriority,Action,Owner,Due date".encode())
