"""Rules of the audit programme: scheduling audits and changing their status.

Recurring series are in qa_audit.audits.series, question sets in
qa_audit.audits.question_sets; both use the checks here.

HTML views and the API both call these; they raise InvalidInput (a field is wrong),
Conflict (the record's state forbids it) or NotAllowed (the user may not).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy import inspect as sa_inspect

from qa_audit.admin.models import Service
from qa_audit.audits.models import (
    Agency,
    Audit,
    AuditAgency,
    AuditStatus,
    AuditType,
    QuestionSet,
)
from qa_audit.auth.models import Role, User
from qa_audit.auth.permissions import can_change_audit_status
from qa_audit import dates
from qa_audit.errors import Conflict, InvalidInput, NotAllowed
from qa_audit.extensions import db
from qa_audit.records import check_version
from qa_audit.types import utcnow
from qa_audit.validation import EARLIEST_DATE, LATEST_DATE, MAX_ID, TEXT_MAX, TITLE_MAX, check_text

AUDITING_ROLES = (Role.AUDITOR, Role.QA_LEAD, Role.HEAD_OF_SERVICE)

# The legal status changes (DESIGN.md §3); reopening is completed → in progress.
TRANSITIONS = {
    AuditStatus.PLANNED: {AuditStatus.IN_PROGRESS, AuditStatus.CANCELLED},
    AuditStatus.IN_PROGRESS: {AuditStatus.COMPLETED, AuditStatus.CANCELLED},
    AuditStatus.COMPLETED: {AuditStatus.IN_PROGRESS},
    AuditStatus.CANCELLED: set(),
}

STALE = "Someone else changed this audit at the same time. Your change has not been saved: check the audit, then try again."

AUDIT_FIELDS = (
    "type",
    "title",
    "purpose",
    "service_id",
    "scheduled_for",
    "lead_auditor_id",
    "auditor_ids",
    "agencies",
    "parent_id",
    "follow_up_of_id",
    "question_set_id",
)


def today() -> date:
    """The council's date (Europe/London), not the server's."""
    return dates.today()


def enum_value(enum_class, value, errors, field, message):
    if isinstance(value, enum_class):
        return value
    try:
        return enum_class(value)
    except (ValueError, TypeError):
        errors.setdefault(field, []).append(message)
        return None


def _get(model, value):
    """The record with this id, or None for anything that is not a plausible id
    (text, "²", a number too big for the database): never a database error."""
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_ID:
        return None
    return db.session.get(model, int(text))


def _auditor(user_id, errors, field, message_missing) -> User | None:
    if user_id in (None, ""):
        errors.setdefault(field, []).append(message_missing)
        return None
    user = _get(User, user_id)
    if user is None or not user.active or user.role not in AUDITING_ROLES:
        errors.setdefault(field, []).append(
            "Select an active user with the auditor, QA lead or head of service role"
        )
        return None
    return user


@dataclass
class AuditInput:
    """Checked values for an audit (or a series' audits)."""

    type: AuditType
    title: str
    purpose: str | None
    service: Service
    scheduled_for: date | None
    lead_auditor: User
    auditors: list[User]
    agencies: list[Agency]
    parent: Audit | None
    follow_up_of: Audit | None
    question_set: QuestionSet | None


def check_audit_input(data: dict[str, Any], *, audit: Audit | None = None, need_date: bool = True) -> AuditInput:
    errors: dict[str, list[str]] = {}
    audit_type = enum_value(AuditType, data.get("type"), errors, "type", "Select the audit type")
    title = check_text(errors, "title", data.get("title"), label="Title", max_length=TITLE_MAX, required=True, missing_message="Enter a title")
    purpose = check_text(errors, "purpose", data.get("purpose"), label="Purpose", max_length=TEXT_MAX, multiline=True)

    service = None
    service_id = data.get("service_id")
    if service_id in (None, ""):
        errors.setdefault("service_id", []).append("Select the service audited")
    else:
        service = _get(Service, service_id)
        if service is None or (not service.active and (audit is None or audit.service_id != service.id)):
            errors.setdefault("service_id", []).append("Select a service that is audited")
            service = None

    scheduled_for = data.get("scheduled_for")
    if need_date and not isinstance(scheduled_for, date):
        errors.setdefault("scheduled_for", []).append("Enter the date the audit is scheduled for")
    elif isinstance(scheduled_for, date) and not EARLIEST_DATE <= scheduled_for <= LATEST_DATE:
        errors.setdefault("scheduled_for", []).append(f"The date must be between {EARLIEST_DATE.year} and {LATEST_DATE.year}")

    lead = _auditor(data.get("lead_auditor_id"), errors, "lead_auditor_id", "Select the lead auditor")

    auditors: list[User] = []
    for user_id in data.get("auditor_ids") or []:
        user = _auditor(user_id, errors, "auditor_ids", "")
        if user is not None and user not in auditors and (lead is None or user.id != lead.id):
            auditors.append(user)

    agencies: list[Agency] = []
    for value in data.get("agencies") or []:
        agency = enum_value(Agency, value, errors, "agencies", f"Unknown agency: {str(value)[:40]}")
        if agency is not None and agency not in agencies:
            agencies.append(agency)

    parent = None
    if data.get("parent_id") not in (None, ""):
        parent = _get(Audit, data["parent_id"])
        if parent is None or parent.type is not AuditType.TARGETED_VISIT:
            errors.setdefault("parent_id", []).append("A part of a visit must belong to a targeted visit")
            parent = None
        elif audit is not None and parent.id == audit.id:
            errors.setdefault("parent_id", []).append("An audit cannot be part of itself")
            parent = None
        elif audit_type is AuditType.TARGETED_VISIT:
            errors.setdefault("parent_id", []).append("A targeted visit cannot be part of another visit")
            parent = None

    follow_up_of = None
    if data.get("follow_up_of_id") not in (None, ""):
        value = data["follow_up_of_id"]
        follow_up_of = _get(Audit, value)
        if follow_up_of is None or (audit is not None and follow_up_of.id == audit.id):
            errors.setdefault("follow_up_of_id", []).append("Select the earlier audit this one follows up")
            follow_up_of = None

    question_set = None
    if data.get("question_set_id") not in (None, ""):
        value = data["question_set_id"]
        question_set = _get(QuestionSet, value)
        keeps_current = audit is not None and question_set is not None and audit.question_set_id == question_set.id
        if question_set is None or ((question_set.retired or question_set.superseded) and not keeps_current):
            errors.setdefault("question_set_id", []).append("Select a question set that is in use")
            question_set = None
        elif audit_type is not None and audit_type is not AuditType.DIP_SAMPLE:
            errors.setdefault("question_set_id", []).append("Only dip samples have a question set")
            question_set = None

    if errors:
        raise InvalidInput(errors)
    return AuditInput(audit_type, title, purpose, service, scheduled_for, lead, auditors, agencies, parent, follow_up_of, question_set)


def apply_input(audit: Audit, values: AuditInput) -> None:
    audit.type = values.type
    audit.title = values.title
    audit.purpose = values.purpose
    audit.service = values.service
    if values.scheduled_for is not None:
        audit.scheduled_for = values.scheduled_for
    audit.lead_auditor = values.lead_auditor
    audit.auditors = list(values.auditors)
    current = {row.agency: row for row in audit.agency_rows}
    audit.agency_rows = [current.get(agency) or AuditAgency(agency=agency) for agency in values.agencies]
    audit.parent = values.parent
    audit.follow_up_of = values.follow_up_of
    audit.question_set = values.question_set
    _count_change(audit)


def _count_change(record) -> None:
    """SQLAlchemy increments ``version`` only when the record's own row changes; a
    save that changes only a collection (auditors, agencies, questions) must count
    too, or a stale edit would not be caught."""
    state = sa_inspect(record)
    if state.persistent and db.session.is_modified(record, include_collections=True):
        record.version = record.version + 1


def schedule_audit(data: dict[str, Any]) -> Audit:
    values = check_audit_input(data)
    audit = Audit(status=AuditStatus.PLANNED)
    apply_input(audit, values)
    db.session.add(audit)
    db.session.commit()
    return audit


def is_editable(audit: Audit) -> bool:
    """Completed and cancelled audits are locked."""
    return audit.status in (AuditStatus.PLANNED, AuditStatus.IN_PROGRESS)


def can_move(audit: Audit, status: AuditStatus) -> bool:
    """Whether the status machine (DESIGN.md §3) allows this change, whoever asks."""
    return status in TRANSITIONS[audit.status]


def update_audit(audit: Audit, data: dict[str, Any], *, version: int | None) -> Audit:
    """Change an audit's details. Fields not given keep their value (PATCH).
    Bad input is reported before a conflict (API.md: 422 before 409)."""
    merged = audit_values(audit)
    merged.update({k: v for k, v in data.items() if k in AUDIT_FIELDS})
    values = check_audit_input(merged, audit=audit)
    check_version(audit, version, STALE)
    if not is_editable(audit):
        raise Conflict(f"This audit is {audit.status.label.lower()}: it cannot be changed.")
    if (
        values.question_set is not None
        and audit.question_set_id != values.question_set.id
        and audit.status is not AuditStatus.PLANNED
    ):
        raise Conflict("The question set of a started audit cannot be changed.")
    if values.type is not audit.type and audit.status is not AuditStatus.PLANNED:
        raise Conflict("The type of a started audit cannot be changed.")
    if values.type is not AuditType.TARGETED_VISIT and audit.type is AuditType.TARGETED_VISIT and audit.children:
        raise InvalidInput(type="This visit has parts, so it must stay a targeted visit")
    apply_input(audit, values)
    db.session.commit()
    return audit


def audit_values(audit: Audit) -> dict[str, Any]:
    return {
        "type": audit.type,
        "title": audit.title,
        "purpose": audit.purpose,
        "service_id": audit.service_id,
        "scheduled_for": audit.scheduled_for,
        "lead_auditor_id": audit.lead_auditor_id,
        "auditor_ids": audit.auditor_ids,
        "agencies": audit.agencies,
        "parent_id": audit.parent_id,
        "follow_up_of_id": audit.follow_up_of_id,
        "question_set_id": audit.question_set_id,
    }


def change_status(audit: Audit, new_status, user: User, *, reason: str | None = None, version: int | None = None) -> Audit:
    errors: dict[str, list[str]] = {}
    status = enum_value(AuditStatus, new_status, errors, "status", "Select a status")
    if errors:
        raise InvalidInput(errors)
    if not can_change_audit_status(user, audit, status):
        raise NotAllowed("Only the audit's auditors or a QA lead may do this.")
    reopening = audit.status is AuditStatus.COMPLETED and status is AuditStatus.IN_PROGRESS
    needs_reason = status is AuditStatus.CANCELLED or reopening
    reason = check_text(
        errors,
        "reason",
        reason,
        label="Reason",
        max_length=TEXT_MAX,
        multiline=True,
        required=needs_reason,
        missing_message="Enter the reason for cancelling" if status is AuditStatus.CANCELLED else "Enter the reason for reopening",
    )
    if errors:
        raise InvalidInput(errors)
    if version is not None:
        check_version(audit, version, STALE)
    if not can_move(audit, status):
        raise Conflict(f"A {audit.status.label.lower()} audit cannot be changed to {status.label.lower()}.")
    if status is AuditStatus.IN_PROGRESS and not reopening:
        if audit.type is AuditType.DIP_SAMPLE and audit.question_set_id is None:
            raise Conflict("Choose a question set before starting a dip sample.")
        audit.started_at = utcnow()
    if status is AuditStatus.COMPLETED:
        from qa_audit.recording.services import unanswered

        missing = unanswered(audit)
        if missing:
            answers = "1 answer is" if missing == 1 else f"{missing} answers are"
            raise Conflict(f"{answers} still missing in the dip sample grid: answer every question for every case before completing.")
        audit.completed_at = utcnow()
    if status is AuditStatus.CANCELLED:
        audit.cancellation_reason = reason
    if reopening:
        audit.reopen_reason = reason
        audit.completed_at = None
    audit.status = status
    db.session.commit()
    return audit


def auditing_users() -> list[User]:
    return list(
        db.session.scalars(select(User).where(User.active.is_(True), User.role.in_(AUDITING_ROLES)).order_by(User.name))
    )
