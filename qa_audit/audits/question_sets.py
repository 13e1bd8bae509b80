"""Rules of question sets: the questions of a dip sample. A set that a started audit
uses never changes under it: editing it makes a new version."""

from __future__ import annotations

from typing import Iterable

from sqlalchemy import exists, select

from qa_audit.audits.models import Audit, AuditSeries, AuditStatus, Question, QuestionSet
from qa_audit.errors import Conflict, InvalidInput
from qa_audit.extensions import db
from qa_audit.records import check_version
from qa_audit.validation import SUMMARY_MAX, TITLE_MAX, check_text

MAX_QUESTIONS = 50


def _check_question_set(title: str | None, questions: Iterable[str] | None, description: str | None = None):
    errors: dict[str, list[str]] = {}
    title = check_text(errors, "title", title, label="Title", max_length=TITLE_MAX, required=True, missing_message="Enter a title")
    description = check_text(errors, "description", description, label="Description", max_length=SUMMARY_MAX, multiline=True)
    texts = []
    for text in questions or []:
        checked = check_text(errors, "questions", text, label="Each question", max_length=SUMMARY_MAX)
        if checked:
            texts.append(checked)
    if not texts and "questions" not in errors:
        errors["questions"] = ["Enter at least one question"]
    if len(texts) > MAX_QUESTIONS:
        errors.setdefault("questions", []).append(f"A question set can have up to {MAX_QUESTIONS} questions")
    if errors:
        raise InvalidInput(errors)
    return title, texts, description


def create_question_set(title: str | None, questions: Iterable[str] | None, description: str | None = None) -> QuestionSet:
    title, texts, description = _check_question_set(title, questions, description)
    question_set = QuestionSet(title=title, description=description, version_number=1, superseded=False, retired=False)
    question_set.questions = [Question(text=text, position=i) for i, text in enumerate(texts, start=1)]
    db.session.add(question_set)
    db.session.commit()
    return question_set


def question_set_in_use(question_set: QuestionSet) -> bool:
    """In use by an audit that has started: its questions must never change under it."""
    return db.session.scalar(
        select(
            exists().where(Audit.question_set_id == question_set.id, Audit.status != AuditStatus.PLANNED)
        )
    )


def update_question_set(
    question_set: QuestionSet, title: str | None, questions: Iterable[str] | None, description: str | None = None, *, version: int | None
) -> QuestionSet:
    """Edit a set; if a started audit uses it, the edit makes a new version that
    planned audits move to, and the started audits keep the old one.
    Bad input is reported before a conflict (API.md: 422 before 409)."""
    title, texts, description = _check_question_set(title, questions, description)
    check_version(question_set, version, "Someone else changed this question set while you were editing it. Your changes have not been saved.")
    if question_set.superseded:
        raise Conflict("A newer version of this question set exists: edit that one.")
    if question_set.retired:
        raise Conflict("This question set is retired.")
    if not question_set_in_use(question_set):
        question_set.title = title
        question_set.description = description
        existing = {q.position: q for q in question_set.questions}
        keep = []
        for position, text in enumerate(texts, start=1):
            question = existing.get(position)
            if question is None:
                question = Question(text=text, position=position)
            question.text = text
            keep.append(question)
        question_set.questions = keep
        question_set.version = question_set.version + 1  # a question's text may be all that changed
        db.session.commit()
        return question_set

    new = QuestionSet(
        title=title,
        description=description,
        lineage_id=question_set.lineage_id or question_set.id,
        version_number=question_set.version_number + 1,
        superseded=False,
        retired=False,
    )
    new.questions = [Question(text=text, position=i) for i, text in enumerate(texts, start=1)]
    question_set.superseded = True
    db.session.add(new)
    db.session.flush()
    for audit in db.session.scalars(
        select(Audit).where(Audit.question_set_id == question_set.id, Audit.status == AuditStatus.PLANNED)
    ):
        audit.question_set = new
    for series in db.session.scalars(select(AuditSeries).where(AuditSeries.question_set_id == question_set.id)):
        series.question_set = new
    db.session.commit()
    return new


def retire_question_set(question_set: QuestionSet) -> QuestionSet:
    """Retired sets stay on the audits that used them but cannot be chosen again."""
    if question_set.retired:
        raise Conflict("This question set is already retired.")
    question_set.retired = True
    db.session.commit()
    return question_set


def usable_question_sets() -> list[QuestionSet]:
    return list(
        db.session.scalars(
            select(QuestionSet)
            .where(QuestionSet.retired.is_(False), QuestionSet.superseded.is_(False))
            .order_by(QuestionSet.title)
        )
    )
