"""Adding many cases at once to a dip sample: case references pasted or uploaded as
CSV, and cases drawn at random from a case list. The grid of answers, saved in one
go, is in qa_audit.recording.grid.

The rules about one case or one answer are in qa_audit.recording.services
(case_reference_problem, AnswerValue) and qa_audit.findings.services (who may record,
and only while the audit is in progress): these functions call them, and add what is
only true of a batch. Every row is checked before anything is written, each bad row
is reported with its line, and a batch is saved in one commit or not at all. History
is written by the models, as for any other change.
"""

from __future__ import annotations

import csv
import io
import random
import re
import secrets
from dataclasses import dataclass
from fractions import Fraction
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from qa_audit.audits.models import Audit, AuditStatus, AuditType
from qa_audit.auth.models import User
from qa_audit.errors import Conflict, InvalidInput
from qa_audit.extensions import db
from qa_audit.findings.services import check_in_progress, check_recording_allowed
from qa_audit.recording.models import SampledCase
from qa_audit.recording.services import ONLY_DIP_SAMPLES, case_reference_problem
from qa_audit.validation import CONTROL, check_text

MAX_UPLOAD_BYTES = 1024 * 1024  # 1MB: a case list of tens of thousands of rows
MAX_CASES_AT_ONCE = 1000
MAX_SEED = 2**31 - 1
MAX_EXCLUDE_MONTHS = 120
OPTIONAL_COLUMNS = ("team", "age_band", "worker")
COLUMN_LABELS = {"team": "Team", "age_band": "Age band", "worker": "Worker"}
COLUMN_MAX = 100
HEADING_ALIASES = {"case_reference": "reference", "case_ref": "reference"}
SHOWN_PROBLEMS = 100  # rows listed on the page; the count covers them all



# Rows and problems ---------------------------------------------------------------


@dataclass(frozen=True)
class CaseRow:
    """One row of a pasted list or a CSV file. ``problem`` is set when the row
    itself could not be read (more values than headings)."""

    line: int
    reference: str
    team: str | None = None
    age_band: str | None = None
    worker: str | None = None
    problem: str | None = None

    def column(self, name: str) -> str | None:
        return getattr(self, name)

    def description(self) -> str | None:
        """The row's other columns, for the case's notes ("Team: MASH. Age band: 0-4.")."""
        parts = [f"{COLUMN_LABELS[name]}: {self.column(name)}." for name in OPTIONAL_COLUMNS if self.column(name)]
        return " ".join(parts) or None


@dataclass(frozen=True)
class RowProblem:
    line: int
    value: str
    message: str


class RowProblems(InvalidInput):
    """Some rows are bad: every one is listed (``problems``); the field gets one
    message for the error summary. Other fields' errors may come along."""

    def __init__(self, field_name: str, problems: list[RowProblem], others: dict[str, list[str]] | None = None):
        self.field = field_name
        self.problems = problems
        if len(problems) == 1:
            summary = f"Line {problems[0].line}: {problems[0].message}. Nothing has been saved"
        else:
            summary = f"{len(problems)} rows have problems, listed below. Nothing has been saved: correct them and try again"
        errors = dict(others or {})
        errors.setdefault(field_name, []).insert(0, summary)
        super().__init__(errors)


# Reading what was sent -------------------------------------------------------------


def read_upload(stream, field_name: str = "file") -> str:
    """The text of an uploaded CSV file, or InvalidInput saying why it is not one.
    Reads at most a byte over the limit, whatever the file's size."""
    data = stream.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidInput({field_name: ["The selected file must be smaller than 1MB"]})
    if not data.strip():
        raise InvalidInput({field_name: ["The selected file is empty"]})
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise InvalidInput(
            {field_name: ["The selected file is an Excel workbook, not a CSV: in Excel, save it as ‘CSV UTF-8 (Comma delimited)’ and choose that file"]}
        )
    if b"\x00" in data:
        raise InvalidInput({field_name: ["The selected file must be a CSV"]})
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(
            {field_name: ["The selected file must be a CSV saved as UTF-8: in Excel, save it as ‘CSV UTF-8 (Comma delimited)’"]}
        ) from None
    if CONTROL.search(text):
        raise InvalidInput({field_name: ["The selected file must be a CSV"]})
    return text


def _heading(name: str) -> str:
    key = re.sub(r"[\s\-]+", "_", (name or "").strip().lower())
    return HEADING_ALIASES.get(key, key)


def parse_csv(text: str, field_name: str = "file") -> list[CaseRow]:
    """Rows of a CSV case list with a heading row naming ``reference`` (and
    optionally team, age_band, worker; other columns are ignored and never stored).
    Line numbers are the file's, counting the heading row as line 1."""
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[CaseRow] = []
    try:
        header: list[str] | None = None
        last_line = 0
        for cells in reader:
            line, last_line = last_line + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                header = [_heading(cell) for cell in cells]
                if "reference" not in header:
                    raise InvalidInput(
                        {field_name: [f"The first line of the file must be the column headings, including one called reference (line {line} has {', '.join(c for c in cells if c.strip())[:80]})"]}
                    )
                repeated = sorted({h for h in header if h and header.count(h) > 1})
                if repeated:
                    raise InvalidInput({field_name: [f"The file has more than one column called {repeated[0]}"]})
                continue
            values = {name: (cells[i].strip() if i < len(cells) else "") for i, name in enumerate(header)}
            problem = None
            if len(cells) > len(header) and any(cell.strip() for cell in cells[len(header):]):
                problem = "The row has more values than there are column headings: put any value with a comma in double quotes"
            rows.append(
                CaseRow(
                    line=line,
                    reference=values["reference"],
                    problem=problem,
                    **{name: values.get(name) or None for name in OPTIONAL_COLUMNS},
                )
            )
    except csv.Error:
        raise InvalidInput({field_name: [f"The selected file must be a CSV: line {reader.line_num} could not be read"]}) from None
    if header is None:
        raise InvalidInput({field_name: ["The selected file is empty"]})
    return rows


def parse_pasted(text: str) -> list[CaseRow]:
    """One reference a line, as pasted from a spreadsheet column; blank lines and a
    first line reading "reference" are skipped."""
    rows = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        reference = line.strip()
        if not reference or (not rows and _heading(reference) == "reference"):
            continue
        rows.append(CaseRow(line=number, reference=reference))
    return rows


# Checking a batch ------------------------------------------------------------------


def _row_problems(rows: Iterable[CaseRow], existing: set[str] | None) -> list[RowProblem]:
    """Every bad row: unreadable, not a case reference (a name), an optional value
    too long, listed twice, or (when ``existing`` is given) already in the sample."""
    problems: list[RowProblem] = []
    first_line: dict[str, int] = {}
    for row in rows:
        message = row.problem or case_reference_problem(row.reference)
        if message is None:
            errors: dict[str, list[str]] = {}
            for name in OPTIONAL_COLUMNS:
                check_text(errors, name, row.column(name), label=COLUMN_LABELS[name], max_length=COLUMN_MAX)
            message = next((messages[0] for messages in errors.values()), None)
        if message is None and row.reference in first_line:
            message = f"Case {row.reference} is also on line {first_line[row.reference]}"
        if message is None and existing is not None and row.reference in existing:
            message = f"Case {row.reference} is already in this sample"
        if message is None:
            first_line[row.reference] = row.line
        else:
            problems.append(RowProblem(row.line, row.reference, message))
    return problems


def _check_open(audit: Audit, user: User) -> None:
    check_recording_allowed(audit, user)
    if audit.type is not AuditType.DIP_SAMPLE:
        raise Conflict(ONLY_DIP_SAMPLES)


def _references_in(audit: Audit) -> set[str]:
    return set(db.session.scalars(select(SampledCase.case_reference).where(SampledCase.audit_id == audit.id)))


def _save_cases(audit: Audit, cases: list[SampledCase]) -> list[SampledCase]:
    db.session.add_all(cases)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(
            "Someone else added some of these cases to the sample at the same time. Nothing has been saved: check the sample and try again."
        ) from None
    return cases


def add_cases(audit: Audit, user: User, rows: list[CaseRow], *, field_name: str = "references") -> list[SampledCase]:
    """Add every row as a sampled case, in one commit; if any row is bad, add none
    and report them all (RowProblems)."""
    _check_open(audit, user)
    if not rows:
        raise InvalidInput({field_name: ["Enter at least one case reference"]})
    if len(rows) > MAX_CASES_AT_ONCE:
        raise InvalidInput({field_name: [f"You can add up to {MAX_CASES_AT_ONCE:,} cases at a time; this list has {len(rows):,}"]})
    check_in_progress(audit)
    problems = _row_problems(rows, _references_in(audit))
    if problems:
        raise RowProblems(field_name, problems)
    return _save_cases(
        audit, [SampledCase(audit=audit, case_reference=row.reference, notes=row.description()) for row in rows]
    )


# Random sampling -------------------------------------------------------------------


def allocate(sizes: list[int], number: int) -> list[int]:
    """How many to draw from each stratum: in proportion to its size (largest
    remainders, ties to the larger and then earlier stratum), and at least one from
    each when ``number`` allows. Never more than a stratum holds."""
    total = sum(sizes)
    if not 0 <= number <= total:
        raise ValueError("number must be between 0 and the number of rows")
    quotas = [Fraction(number * size, total) if total else Fraction(0) for size in sizes]
    counts = [int(quota) for quota in quotas]
    order = sorted(range(len(sizes)), key=lambda i: (-(quotas[i] - counts[i]), -sizes[i], i))
    for i in order[: number - sum(counts)]:
        counts[i] += 1
    if number >= sum(1 for size in sizes if size):
        for empty in sorted((i for i, c in enumerate(counts) if c == 0 and sizes[i]), key=lambda i: (-sizes[i], i)):
            donor = max((i for i, c in enumerate(counts) if c >= 2), key=lambda i: (counts[i] - quotas[i], counts[i], -i))
            counts[donor] -= 1
            counts[empty] = 1
    return counts


def _stratum(row: CaseRow, column: str) -> str:
    return (row.column(column) or "").strip()


def draw(rows: list[CaseRow], number: int, *, seed: int, stratify_by: str | None = None) -> list[CaseRow]:
    """``number`` rows drawn at random with ``random.Random(seed)``: the same rows,
    seed and options always give the same draw. Stratified, each stratum (in sorted
    order) gets its share (``allocate``). The draw comes back in the file's order."""
    rng = random.Random(seed)
    if not stratify_by:
        chosen = rng.sample(rows, number)
    else:
        strata: dict[str, list[CaseRow]] = {}
        for row in rows:
            strata.setdefault(_stratum(row, stratify_by), []).append(row)
        keys = sorted(strata, key=lambda key: (key.casefold(), key))
        counts = allocate([len(strata[key]) for key in keys], number)
        chosen = []
        for key, count in zip(keys, counts):
            chosen += rng.sample(strata[key], count)
    return sorted(chosen, key=lambda row: row.line)


def recently_audited(audit: Audit, months: int) -> set[str]:
    """References sampled by another (not cancelled) audit scheduled within
    ``months`` before this audit's date, up to and including that date."""
    from qa_audit.dates import add_months

    since = add_months(audit.scheduled_for, -months)
    return set(
        db.session.scalars(
            select(SampledCase.case_reference)
            .join(Audit, SampledCase.audit_id == Audit.id)
            .where(
                Audit.id != audit.id,
                Audit.status != AuditStatus.CANCELLED,
                Audit.scheduled_for >= since,
                Audit.scheduled_for <= audit.scheduled_for,
            )
        )
    )


@dataclass
class Drawn:
    cases: list[SampledCase]
    seed: int
    eligible: int  # rows that could be drawn
    left_out: int  # rows left out: already in this sample or audited recently


def draw_cases(
    audit: Audit,
    user: User,
    rows: list[CaseRow],
    number: int | None,
    *,
    stratify_by: str | None = None,
    exclude_months: int | None = None,
    seed: int | None = None,
    field_name: str = "file",
) -> Drawn:
    """Draw ``number`` cases at random from a case list and add them to the sample
    in one commit. Cases already in the sample, and (with ``exclude_months``) those
    audited recently, are left out before drawing. With no seed, one is chosen
    (secrets.randbelow); it is returned and written in each drawn case's notes, so
    the draw can be repeated: same file, seed and options, same cases."""
    _check_open(audit, user)
    errors: dict[str, list[str]] = {}
    if number is None:
        errors["number"] = ["Enter how many cases to draw"]
    elif not 1 <= number <= MAX_CASES_AT_ONCE:
        errors["number"] = [f"Number of cases must be between 1 and {MAX_CASES_AT_ONCE:,}"]
    if stratify_by is not None and stratify_by not in OPTIONAL_COLUMNS:
        errors["stratify_by"] = ["Select team, age band or worker, or do not stratify"]
    elif stratify_by and rows and not any(row.column(stratify_by) for row in rows):
        errors["stratify_by"] = [f"The case list has no {COLUMN_LABELS[stratify_by].lower()} values to stratify by: choose another column or do not stratify"]
    if exclude_months is not None and not 1 <= exclude_months <= MAX_EXCLUDE_MONTHS:
        errors["exclude_months"] = [f"Number of months must be between 1 and {MAX_EXCLUDE_MONTHS}"]
    if seed is not None and not 0 <= seed <= MAX_SEED:
        errors["seed"] = [f"Seed must be a whole number from 0 to {MAX_SEED}"]
    if not rows:
        errors.setdefault(field_name, []).append("The case list has no cases in it")
    problems = _row_problems(rows, None)
    if problems:
        raise RowProblems(field_name, problems, errors)
    if errors:
        raise InvalidInput(errors)
    check_in_progress(audit)

    leave_out = _references_in(audit)
    if exclude_months:
        leave_out |= recently_audited(audit, exclude_months)
    eligible = [row for row in rows if row.reference not in leave_out]
    if number > len(eligible):
        why = f" ({len(rows) - len(eligible)} are already in this sample or were audited recently)" if len(eligible) < len(rows) else ""
        message = (
            f"The case list has {len(eligible)} cases that can be drawn{why}: enter {len(eligible)} or fewer"
            if eligible
            else f"None of the cases in the list can be drawn{why}"
        )
        raise InvalidInput(number=message)

    seed = secrets.randbelow(MAX_SEED + 1) if seed is None else seed
    chosen = draw(eligible, number, seed=seed, stratify_by=stratify_by)
    how = f"Drawn at random, seed {seed}, from {len(eligible)} cases"
    if stratify_by:
        how += f", stratified by {COLUMN_LABELS[stratify_by].lower()}"
    if exclude_months:
        how += f", leaving out cases audited in the {exclude_months} months before"
    cases = [
        SampledCase(audit=audit, case_reference=row.reference, notes=" ".join(filter(None, [how + ".", row.description()])))
        for row in chosen
    ]
    _save_cases(audit, cases)
    return Drawn(cases=cases, seed=seed, eligible=len(eligible), left_out=len(rows) - len(eligible))
