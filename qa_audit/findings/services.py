"""Rules for findings: recorded while an audit is in progress; a concern alerts the
QA leads and the service's head of service at once."""

from __future__ import annotations

from typing import Any

from flask import current_app, has_request_context, url_for
from sqlalchemy import func, select

from qa_audit import mail
from qa_audit.audits.models import Audit, AuditStatus, AuditType
from qa_audit.auth.models import Role, User
from qa_audit.auth.permissions import can_record_on
from qa_audit.errors import Conflict, InvalidInput, NotAllowed
from qa_audit.extensions import db
from qa_audit.findings.models import DEFAULT_THEMES, ConcernAlert, Finding, FindingKind, Theme
from qa_audit.recording.models import Judgement
from qa_audit.types import utcnow
from qa_audit.validation import SUMMARY_MAX, TEXT_MAX, check_text

STALE = "Someone else changed this finding at the same time. Your changes have not been saved: check the finding, then make them again."


def themes() -> list[tuple[str, str]]:
    """The managed list of themes: the standard ones, then any the council added."""
    extra = db.session.execute(select(Theme.key, Theme.label).where(Theme.active.is_(True)).order_by(Theme.label)).all()
    known = dict(DEFAULT_THEMES)
    return list(DEFAULT_THEMES) + [(key, label) for key, label in extra if key not in known]


def theme_label(key: str | None) -> str | None:
    return dict(themes()).get(key) if key else None


def check_recording_allowed(audit: Audit, user: User) -> None:
    """403 before 409: who may record, then whether the audit is open for it."""
    if not can_record_on(user, audit):
        raise NotAllowed("Only the audit's auditors or a QA lead may record on this audit.")


def check_in_progress(audit: Audit) -> None:
    if audit.status is not AuditStatus.IN_PROGRESS:
        raise Conflict(f"Findings, cases and details can only be recorded while the audit is in progress; this audit is {audit.status.label.lower()}.")


def _check(data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    kind = None
    try:
        kind = FindingKind(data.get("kind"))
    except ValueError:
        errors["kind"] = ["Select whether this is a strength, an area for improvement or a concern"]
    theme = data.get("theme") or None
    if theme is not None and theme not in dict(themes()):
        errors["theme"] = ["Select a theme from the list"]
    judgement = data.get("judgement") or None
    if judgement is not None:
        try:
            judgement = Judgement(judgement)
        except ValueError:
            errors["judgement"] = ["Select a judgement from the list"]
    summary = check_text(errors, "summary", data.get("summary"), label="Summary", max_length=SUMMARY_MAX, required=True, multiline=True, missing_message="Enter a summary of the finding")
    evidence = check_text(errors, "evidence", data.get("evidence"), label="Evidence", max_length=TEXT_MAX, multiline=True)
    if errors:
        raise InvalidInput(errors)
    return {"kind": kind, "theme": theme, "judgement": judgement, "summary": summary, "evidence": evidence}


def record_finding(audit: Audit, data: dict[str, Any], user: User) -> Finding:
    check_recording_allowed(audit, user)
    values = _check(data)
    check_in_progress(audit)
    finding = Finding(audit=audit, recorded_by_id=user.id, **values)
    db.session.add(finding)
    db.session.flush()
    if finding.kind is FindingKind.CONCERN:
        _raise_alerts(finding)
    db.session.commit()
    if finding.kind is FindingKind.CONCERN:
        _email_alerts(finding)
    return finding


def update_finding(finding: Finding, data: dict[str, Any], user: User, *, version: int | None) -> Finding:
    check_recording_allowed(finding.audit, user)
    merged = {
        "kind": finding.kind.value,
        "theme": finding.theme,
        "judgement": finding.judgement.value if finding.judgement else None,
        "summary": finding.summary,
        "evidence": finding.evidence,
    }
    merged.update({k: v for k, v in data.items() if k in merged})
    values = _check(merged)
    check_in_progress(finding.audit)
    if version is None or int(version) != finding.version:
        raise Conflict(STALE)
    became_concern = values["kind"] is FindingKind.CONCERN and finding.kind is not FindingKind.CONCERN
    for key, value in values.items():
        setattr(finding, key, value)
    if became_concern:
        _raise_alerts(finding)
    db.session.commit()
    if became_concern:
        _email_alerts(finding)
    return finding


def remove_finding(finding: Finding, user: User) -> None:
    """A finding may be removed while the audit is in progress (history keeps it);
    once it has actions it stays. Its evidence files go with it: the rows now, the
    stored files once that is committed."""
    from qa_audit.findings.evidence import discard  # evidence.py builds on these rules

    from qa_audit.actions.models import Action

    check_recording_allowed(finding.audit, user)
    check_in_progress(finding.audit)
    if db.session.scalar(select(Action.id).where(Action.finding_id == finding.id).limit(1)) is not None:
        raise Conflict("Actions have been raised from this finding, so it cannot be removed. Change the finding instead.")
    for alert in list(finding.alerts):
        db.session.delete(alert)
    stored = [file.storage_key for file in finding.files]
    for file in list(finding.files):
        db.session.delete(file)
    db.session.delete(finding)
    db.session.commit()
    discard(stored)


def concern_recipients(audit: Audit) -> list[User]:
    recipients = list(db.session.scalars(select(User).where(User.active.is_(True), User.role == Role.QA_LEAD)))
    head = audit.service.head_of_service
    if head is not None and head.active and head not in recipients:
        recipients.append(head)
    return recipients


def _raise_alerts(finding: Finding) -> None:
    for user in concern_recipients(finding.audit):
        db.session.add(ConcernAlert(finding=finding, user_id=user.id))


def _email_alerts(finding: Finding) -> None:
    """Email each alerted person now; a mail failure never loses the alert, which
    stays on their home page until acknowledged."""
    # Outside a request (a command, a job) there is no host to build a link from.
    link = url_for("findings.show_finding", finding_id=finding.id, _external=True) if has_request_context() else ""
    for alert in finding.alerts:
        if alert.emailed_at is not None:
            continue
        try:
            mail.send(
                alert.user.email,
                f"Safeguarding concern recorded: {finding.audit.title}",
                (
                    f"A concern was recorded on the audit \"{finding.audit.title}\" "
                    f"({finding.audit.service.name}).\n\n{finding.summary}\n\n"
                    f"Please acknowledge it and respond: {link}\n"
                ),
            )
        except OSError:
            current_app.logger.exception("Could not email concern alert %s", alert.id)
            continue
        alert.emailed_at = utcnow()
    db.session.commit()


def open_alerts(user: User) -> list[ConcernAlert]:
    return list(
        db.session.scalars(
            select(ConcernAlert)
            .where(ConcernAlert.user_id == user.id, ConcernAlert.acknowledged_at.is_(None))
            .order_by(ConcernAlert.notified_at.desc())
        )
    )


def unacknowledged_concerns(limit: int = 10) -> list[ConcernAlert]:
    """Alerts nobody has acknowledged yet, oldest first, for the QA lead's overview:
    a concern that sits unread is the one that matters."""
    from sqlalchemy.orm import selectinload

    return list(
        db.session.scalars(
            select(ConcernAlert)
            .where(ConcernAlert.acknowledged_at.is_(None))
            .options(
                selectinload(ConcernAlert.user),
                selectinload(ConcernAlert.finding).selectinload(Finding.audit).selectinload(Audit.service),
            )
            .order_by(ConcernAlert.notified_at, ConcernAlert.id)
            .limit(limit)
        )
    )


def acknowledge(alert: ConcernAlert, user: User) -> ConcernAlert:
    if alert.user_id != user.id:
        raise NotAllowed("Only the person alerted can acknowledge this concern.")
    if alert.acknowledged_at is None:
        alert.acknowledged_at = utcnow()
        db.session.commit()
    return alert


def findings_query(audit: Audit):
    """An audit's findings; a targeted visit's include those of its parts."""
    audits = [audit.id]
    if audit.type is AuditType.TARGETED_VISIT:
        audits = select(Audit.id).where((Audit.id == audit.id) | (Audit.parent_id == audit.id))
    return select(Finding).where(Finding.audit_id.in_(audits)).order_by(Finding.kind, Finding.id)


def findings_of(audit: Audit) -> list[Finding]:
    return list(db.session.scalars(findings_query(audit)))


def count_findings(audit: Audit) -> int:
    return db.session.scalar(select(func.count()).select_from(findings_query(audit).order_by(None).subquery()))
