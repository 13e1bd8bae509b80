"""Rules for recording an audit: sampled cases and answers, compliance, details."""

from __future__ import annotations

import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask import current_app
from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import flag_modified

from qa_audit.audits.models import Agency, Audit, AuditType
from qa_audit.auth.models import User
from qa_audit.errors import Conflict, InvalidInput
from qa_audit.extensions import db
from qa_audit.findings.services import check_in_progress, check_recording_allowed
from qa_audit.recording.models import Answer, AnswerValue, AuditDetails, Judgement, SampledCase
from qa_audit.validation import TEXT_MAX, TITLE_MAX, check_text

ONLY_DIP_SAMPLES = "Only dip samples have sampled cases."


def case_reference_problem(reference: str | None) -> str | None:
    """Why this is not a case reference (names have spaces; references do not)."""
    if not reference or not reference.strip():
        return "Enter the case reference"
    if not re.fullmatch(current_app.config["CASE_REFERENCE_PATTERN"], reference.strip()):
        return "Enter a case reference from the case system, like 12345 or CIN/2024/001 – not a name"
    return None


def add_case(audit: Audit, user: User, case_reference: str | None, answers: dict | None = None, notes: str | None = None) -> SampledCase:
    check_recording_allowed(audit, user)
    errors: dict[str, list[str]] = {}
    problem = case_reference_problem(case_reference)
    if problem:
        errors["case_reference"] = [problem]
    notes = check_text(errors, "notes", notes, label="Notes", max_length=TEXT_MAX, multiline=True)
    questions = {q.id: q for q in audit.question_set.questions} if audit.question_set else {}
    parsed: dict[int, AnswerValue] = {}
    for key, value in (answers or {}).items():
        question_id = int(key) if re.fullmatch(r"[0-9]{1,9}", str(key)) else None  # not isdigit(): "²" is a digit int() refuses
        if question_id not in questions:
            errors.setdefault("answers", []).append(f"Question {str(key)[:20]} is not in this dip sample's question set")
            continue
        try:
            parsed[question_id] = AnswerValue(value)
        except ValueError:
            errors.setdefault("answers", []).append(f"Answer to question {question_id} must be met, partially met, not met or not applicable")
    if errors:
        raise InvalidInput(errors)
    if audit.type is not AuditType.DIP_SAMPLE:
        raise Conflict(ONLY_DIP_SAMPLES)
    check_in_progress(audit)
    reference = case_reference.strip()
    if db.session.scalar(select(SampledCase.id).where(SampledCase.audit_id == audit.id, SampledCase.case_reference == reference)):
        raise InvalidInput(case_reference=f"Case {reference} is already in this sample")
    sampled = SampledCase(audit=audit, case_reference=reference, notes=notes)
    sampled.answers = [Answer(question_id=qid, value=value) for qid, value in parsed.items()]
    db.session.add(sampled)
    try:
        db.session.commit()
    except IntegrityError:
        # Two people added the same case at the same moment: the database's
        # unique constraint decided; the loser gets the same message as above.
        db.session.rollback()
        raise InvalidInput(case_reference=f"Case {reference} is already in this sample") from None
    return sampled


def answer(sampled: SampledCase, user: User, question_id: int, value: str, notes: str | None = None) -> Answer:
    audit = sampled.audit
    check_recording_allowed(audit, user)
    errors: dict[str, list[str]] = {}
    try:
        parsed = AnswerValue(value)
    except ValueError:
        errors["value"] = ["Select met, partially met, not met or not applicable"]
        parsed = None
    notes = check_text(errors, "notes", notes, label="Notes", max_length=TEXT_MAX, multiline=True)
    if not audit.question_set or question_id not in {q.id for q in audit.question_set.questions}:
        errors["question_id"] = ["That question is not in this dip sample's question set"]
    if errors:
        raise InvalidInput(errors)
    check_in_progress(audit)
    for _attempt in range(2):
        existing = next((a for a in sampled.answers if a.question_id == question_id), None)
        if existing is None:
            existing = Answer(sampled_case=sampled, question_id=question_id, value=parsed, notes=notes)
            db.session.add(existing)
        else:
            existing.value = parsed
            existing.notes = notes
            # Write the whole cell, even the part unchanged, so that two answers saved at
            # once never leave one person's value with the other's notes.
            flag_modified(existing, "value")
            flag_modified(existing, "notes")
        try:
            db.session.commit()
        except IntegrityError:
            # Someone answered this question for the case at the same moment (one answer
            # a cell): this one replaces it, as if it had come just after it.
            db.session.rollback()
            continue
        return existing
    raise Conflict("Someone else answered this question for the case at the same time. Check the answer, then give yours again.")


def unanswered(audit: Audit) -> int:
    """How many (case, question) answers are still missing: the audit cannot be
    completed until this is zero."""
    if audit.type is not AuditType.DIP_SAMPLE or audit.question_set is None:
        return 0
    cases = db.session.scalar(select(func.count(SampledCase.id)).where(SampledCase.audit_id == audit.id))
    answered = db.session.scalar(
        select(func.count(Answer.id)).join(SampledCase).where(SampledCase.audit_id == audit.id)
    )
    return cases * len(audit.question_set.questions) - answered


def percentage(numerator: int, denominator: int) -> float | None:
    """0–100, rounded half up to one decimal; None when nothing counts (API.md)."""
    if not denominator:
        return None
    value = (Decimal(numerator) * 100 / Decimal(denominator)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return float(value)


def compliance(audit: Audit) -> dict[str, Any]:
    """Compliance per question and overall, counted in SQL: met ÷ (met + partially
    met + not met); not-applicable answers are left out (DESIGN.md §3)."""
    return compliance_by_audit([audit])[audit.id]


def compliance_by_audit(audits: list[Audit]) -> dict[int, dict[str, Any]]:
    """compliance() of several dip samples, counted in one query (a targeted
    visit's report shows each of its dip samples)."""

    def count(value: AnswerValue):
        return func.count(case((Answer.value == value, 1)))

    rows = db.session.execute(
        select(
            SampledCase.audit_id,
            Answer.question_id,
            count(AnswerValue.MET),
            count(AnswerValue.PARTIALLY_MET),
            count(AnswerValue.NOT_MET),
            count(AnswerValue.NOT_APPLICABLE),
        )
        .join(SampledCase, Answer.sampled_case_id == SampledCase.id)
        .where(SampledCase.audit_id.in_([audit.id for audit in audits]))
        .group_by(SampledCase.audit_id, Answer.question_id)
    ).all()
    by_question = {(row[0], row[1]): row[2:] for row in rows}
    results = {}
    for audit in audits:
        questions = audit.question_set.questions if audit.question_set else []
        result = []
        totals = [0, 0, 0, 0]
        for question in questions:
            met, partial, not_met, not_applicable = by_question.get((audit.id, question.id), (0, 0, 0, 0))
            totals = [t + v for t, v in zip(totals, (met, partial, not_met, not_applicable))]
            result.append(
                {
                    "question_id": question.id,
                    "text": question.text,
                    "met": met,
                    "partially_met": partial,
                    "not_met": not_met,
                    "not_applicable": not_applicable,
                    "compliance": percentage(met, met + partial + not_met),
                }
            )
        results[audit.id] = {"overall": percentage(totals[0], totals[0] + totals[1] + totals[2]), "questions": result}
    return results


# Details of focus groups and strategy meeting audits -----------------------------

# What a focus group or strategy meeting audit must record (API.md's PUT /details).
REQUIRED_DETAILS = {
    AuditType.FOCUS_GROUP: {
        "participants_count": "Enter the number of participants",
        "participant_roles": "Enter the participants' roles",
        "themes": "Enter the themes discussed",
    },
    AuditType.STRATEGY_MEETING_AUDIT: {
        "meeting_date": "Enter the date of the meeting",
        "agencies_invited": "Give the agencies invited",
        "agencies_attended": "Give the agencies that attended",
        "within_timescale": "Say whether the meeting was held within timescale",
        "chairing_quality": "Select a judgement for the quality of chairing",
    },
}

FOCUS_GROUP_FIELDS = ("participants_count", "participant_roles", "facilitator", "themes", "key_messages", "assurance_statement")
STRATEGY_FIELDS = ("meeting_date", "agencies_invited", "agencies_attended", "within_timescale", "chairing_quality", "agency_contributions", "decision_recorded")


def details_of(audit: Audit) -> AuditDetails | None:
    return db.session.scalar(select(AuditDetails).where(AuditDetails.audit_id == audit.id))


def _agencies(errors, field, values) -> list[str] | None:
    if values is None:
        return None
    out = []
    for value in values:
        try:
            agency = Agency(value)
        except ValueError:
            errors.setdefault(field, []).append(f"Unknown agency: {str(value)[:40]}")
            continue
        if agency.value not in out:
            out.append(agency.value)
    return out


def save_details(audit: Audit, user: User, data: dict[str, Any], *, version: int | None = None) -> AuditDetails:
    """Replace the details of a focus group or strategy meeting audit (PUT)."""
    check_recording_allowed(audit, user)
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    if audit.type is AuditType.FOCUS_GROUP:
        count = data.get("participants_count")
        if count is not None and (not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= 100000):
            errors["participants_count"] = ["Enter the number of participants as a whole number, 0 or more"]
        values["participants_count"] = count
        values["participant_roles"] = check_text(errors, "participant_roles", data.get("participant_roles"), label="Participants' roles", max_length=TEXT_MAX, multiline=True)
        values["facilitator"] = check_text(errors, "facilitator", data.get("facilitator"), label="Facilitator", max_length=TITLE_MAX)
        for field, label in (("themes", "Themes discussed"), ("key_messages", "Key messages"), ("assurance_statement", "Assurance statement")):
            values[field] = check_text(errors, field, data.get(field), label=label, max_length=TEXT_MAX, multiline=True)
    elif audit.type is AuditType.STRATEGY_MEETING_AUDIT:
        meeting_date = data.get("meeting_date")
        if meeting_date is not None and not isinstance(meeting_date, date):
            errors["meeting_date"] = ["Enter the date of the meeting"]
        values["meeting_date"] = meeting_date
        values["agencies_invited"] = _agencies(errors, "agencies_invited", data.get("agencies_invited"))
        values["agencies_attended"] = _agencies(errors, "agencies_attended", data.get("agencies_attended"))
        for field in ("within_timescale", "decision_recorded"):
            value = data.get(field)
            if value is not None and not isinstance(value, bool):
                errors[field] = ["Answer yes or no"]
            values[field] = value
        chairing = data.get("chairing_quality")
        if chairing is not None:
            try:
                chairing = Judgement(chairing)
            except ValueError:
                errors["chairing_quality"] = ["Select a judgement for the quality of chairing"]
        values["chairing_quality"] = chairing
        contributions = data.get("agency_contributions")
        if contributions is not None:
            checked = {}
            for agency, judgement in dict(contributions).items():
                try:
                    checked[Agency(agency).value] = Judgement(judgement).value
                except ValueError:
                    errors.setdefault("agency_contributions", []).append(f"Give each agency a judgement: {str(agency)[:40]}")
            contributions = checked
            attended = values["agencies_attended"] or []
            if any(agency not in attended for agency in contributions):
                errors.setdefault("agency_contributions", []).append("Give a contribution only for agencies that attended")
        values["agency_contributions"] = contributions
    for field, message in REQUIRED_DETAILS.get(audit.type, {}).items():
        if field not in errors and values.get(field) in (None, ""):
            errors[field] = [message]
    if errors:
        raise InvalidInput(errors)
    if audit.type not in (AuditType.FOCUS_GROUP, AuditType.STRATEGY_MEETING_AUDIT):
        raise Conflict("Only focus groups and strategy meeting audits have these details.")
    check_in_progress(audit)
    details = details_of(audit)
    if details is None:
        details = AuditDetails(audit_id=audit.id)
        db.session.add(details)
    elif version is not None and int(version) != details.version:
        raise Conflict("Someone else changed these details at the same time. Your changes have not been saved.")
    for key, value in values.items():
        setattr(details, key, value)
    try:
        db.session.commit()
    except IntegrityError:
        # Someone saved this audit's first details at the same moment (one row an audit).
        db.session.rollback()
        raise Conflict("Someone else changed these details at the same time. Your changes have not been saved.") from None
    return details


def attendance_by_agency(audits_query) -> list[dict[str, Any]]:
    """Across strategy meeting audits: for each agency, how often it was invited and
    how often it attended (computed from the details rows)."""
    rows = db.session.execute(
        select(AuditDetails.agencies_invited, AuditDetails.agencies_attended).where(
            AuditDetails.audit_id.in_(audits_query.with_only_columns(Audit.id).order_by(None))
        )
    ).all()
    summary = {agency.value: {"agency": agency.value, "label": agency.label, "invited": 0, "attended": 0} for agency in Agency}
    for invited, attended in rows:
        for agency in invited or []:
            summary[agency]["invited"] += 1
        for agency in attended or []:
            summary[agency]["attended"] += 1
    for item in summary.values():
        item["rate"] = percentage(item["attended"], item["invited"])
    return [item for item in summary.values() if item["invited"] or item["attended"]]
