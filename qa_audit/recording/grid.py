"""The answer grid of a dip sample: every case's answers and notes, saved in one go.

Only the cases a person changed are written, and only if nobody else changed them
since the grid was shown; a conflict saves nothing and says which cases differ. The
rules about one answer are in qa_audit.recording.services (AnswerValue) and
qa_audit.findings.services (who may record, and only while the audit is in progress).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from qa_audit.audits.models import Audit, AuditType, Question
from qa_audit.auth.models import User
from qa_audit.errors import Conflict, InvalidInput
from qa_audit.extensions import db
from qa_audit.findings.services import check_in_progress, check_recording_allowed
from qa_audit.recording.models import Answer, AnswerValue, SampledCase
from qa_audit.recording.services import ONLY_DIP_SAMPLES
from qa_audit.validation import TEXT_MAX, check_text


def cell_name(case_id: int, question_id: int) -> str:
    return f"answer_{case_id}_{question_id}"


def notes_name(case_id: int) -> str:
    return f"notes_{case_id}"


def version_name(case_id: int) -> str:
    return f"version_{case_id}"


def normalise_notes(text: str | None) -> str:
    """Notes as compared and stored: browsers send textarea lines ending \\r\\n."""
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def _shown(case: SampledCase, questions: list[Question]) -> list[str]:
    by_question = {a.question_id: a.value.value for a in case.answers}
    return [by_question.get(q.id, "") for q in questions] + [normalise_notes(case.notes)]


def _digest(values: list[str]) -> str:
    return hashlib.sha256(json.dumps(values).encode()).hexdigest()[:16]


def case_version(case: SampledCase, questions: list[Question]) -> str:
    """What the grid posts back for each case: the case's version and a digest of
    what the grid showed of it. The digest tells "this person changed nothing here"
    from "this person changed something"; either part differing from the case now
    tells that someone else changed it (answers written one at a time, through
    services.answer or the API, leave the case's version alone)."""
    return f"{case.version}.{_digest(_shown(case, questions))}"


@dataclass
class CaseInput:
    version: str | None
    answers: dict[int, str]  # question id -> an AnswerValue's value, or "" for no answer
    notes: str | None  # None: not sent, keep the case's notes


class GridConflict(Conflict):
    def __init__(self, cases: list[SampledCase]):
        self.case_ids = [case.id for case in cases]
        references = ", ".join(case.case_reference for case in cases)
        noun = "case" if len(cases) == 1 else "cases"
        super().__init__(
            f"Someone else changed {noun} {references} while you were answering. Nothing has been saved. "
            "Your answers are still in the grid, with what is saved now shown under each one that differs: "
            "check them, then save again."
        )


def grid_cases(audit: Audit, *, offset: int = 0, limit: int | None = None) -> list[SampledCase]:
    query = (
        select(SampledCase)
        .where(SampledCase.audit_id == audit.id)
        .options(selectinload(SampledCase.answers))
        .order_by(SampledCase.id)
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    return list(db.session.scalars(query))


def save_grid(audit: Audit, user: User, inputs: dict[int, CaseInput]) -> int:
    """Write every changed answer and case note of the grid in one commit; a blank
    cell removes that answer. Only cases the person changed are written, and only if
    nobody else changed them since the grid was shown (GridConflict otherwise,
    saving nothing). Returns how many answers and notes changed."""
    check_recording_allowed(audit, user)
    questions = list(audit.question_set.questions) if audit.question_set else []
    question_ids = {q.id for q in questions}
    errors: dict[str, list[str]] = {}
    parsed: dict[int, tuple[dict[int, AnswerValue | None], str | None]] = {}
    for case_id, given in inputs.items():
        answers: dict[int, AnswerValue | None] = {}
        for question_id, value in given.answers.items():
            if question_id not in question_ids:
                errors.setdefault(cell_name(case_id, question_id), []).append("That question is not in this dip sample's question set")
                continue
            try:
                answers[question_id] = AnswerValue(value) if value else None
            except ValueError:
                errors.setdefault(cell_name(case_id, question_id), []).append(
                    "Select met, partially met, not met or not applicable"
                )
        notes = None
        if given.notes is not None:
            notes = check_text(errors, notes_name(case_id), normalise_notes(given.notes), label="Notes", max_length=TEXT_MAX, multiline=True)
        parsed[case_id] = (answers, notes)
    if errors:
        raise InvalidInput(errors)
    if audit.type is not AuditType.DIP_SAMPLE:
        raise Conflict(ONLY_DIP_SAMPLES)
    check_in_progress(audit)

    cases = {case.id: case for case in grid_cases(audit) if case.id in inputs}
    conflicts: list[SampledCase] = []
    to_write: list[tuple[SampledCase, dict[int, AnswerValue | None], str]] = []
    for case_id, (answers, notes) in parsed.items():
        case = cases.get(case_id)
        if case is None:
            continue  # not a case of this audit
        given = inputs[case_id]
        now = _shown(case, questions)
        # A cell not sent keeps what is saved; a blank one sent removes the answer.
        sent = [
            (answers[q.id].value if answers[q.id] else "") if q.id in answers else now[i] for i, q in enumerate(questions)
        ] + [now[-1] if given.notes is None else (notes or "")]
        shown_digest = (given.version or "").partition(".")[2]
        if _digest(sent) == shown_digest:
            continue  # this person changed nothing in this case
        if given.version != case_version(case, questions):
            if sent != now:
                conflicts.append(case)
            continue
        to_write.append((case, answers, now[-1] if given.notes is None else (notes or "")))
    if conflicts:
        db.session.rollback()
        raise GridConflict(conflicts)

    changed = 0
    for case, answers, notes in to_write:
        existing = {a.question_id: a for a in case.answers}
        touched = False
        for question_id, value in answers.items():
            answer = existing.get(question_id)
            if value is None:
                if answer is not None:
                    case.answers.remove(answer)
                    db.session.delete(answer)  # explicitly, so the history records it (orphans it would miss)
                    touched = True
                    changed += 1
            elif answer is None:
                case.answers.append(Answer(question_id=question_id, value=value))
                touched = True
                changed += 1
            elif answer.value is not value:
                answer.value = value  # its notes are kept
                touched = True
                changed += 1
        if normalise_notes(case.notes) != notes:
            case.notes = notes or None
            touched = True
            changed += 1
        if touched:
            flag_modified(case, "notes")  # bump the case's version, so a save at the same moment fails
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise GridConflict([case for case, _, _ in to_write]) from None
    return changed
