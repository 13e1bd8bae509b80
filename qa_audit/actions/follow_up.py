"""Follow-up visits: an audit that follows up an earlier one shows that audit's actions
with their status now, and its auditors judge the progress made on each."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from qa_audit.actions import services as action_rules
from qa_audit.actions.models import DONE, OPEN, Action, ProgressJudgement, ProgressReview
from qa_audit.audits.models import Audit, AuditStatus
from qa_audit.auth.models import User
from qa_audit.auth.permissions import can_record_on
from qa_audit.errors import Conflict, InvalidInput, NotAllowed
from qa_audit.extensions import db
from qa_audit.records import check_version
from qa_audit.findings.models import Finding
from qa_audit.validation import TEXT_MAX, check_text

STALE = "Someone else judged this action's progress at the same time. Your judgement has not been saved: check it, then make it again."


def earlier_actions(audit: Audit) -> list[Action]:
    """Every action raised from a finding of the audit this one follows up, or of its parts."""
    if audit.follow_up_of_id is None:
        return []
    query = (
        action_rules.actions_query({"audit_id": audit.follow_up_of_id})
        .options(joinedload(Action.owner), joinedload(Action.finding).joinedload(Finding.audit))
        .order_by(Action.due_date, Action.id)
    )
    return list(db.session.scalars(query))


def follow_up_summary(audit: Audit) -> dict[str, Any]:
    """GET /api/v1/audits/{id}/follow-up, and the follow-up page's figures."""
    actions = earlier_actions(audit)
    return {
        "follows_up": audit.follow_up_of_id,
        "actions": actions,
        "open": sum(1 for a in actions if a.status in OPEN),
        "done": sum(1 for a in actions if a.status in DONE),
    }


def reviews_of(audit: Audit) -> dict[int, ProgressReview]:
    """This follow-up's judgements, by action id."""
    rows = db.session.scalars(select(ProgressReview).where(ProgressReview.audit_id == audit.id))
    return {row.action_id: row for row in rows}


def judge_progress(audit: Audit, action: Action, data: dict[str, Any], user: User, *, version: Any = None) -> ProgressReview:
    """Record (or change) the progress judgement on one of the earlier audit's actions.
    Like findings, judgements are recorded while the follow-up is in progress."""
    if not can_record_on(user, audit):
        raise NotAllowed("Only the audit's auditors or a QA lead may judge progress on this audit.")
    if action.id not in {a.id for a in earlier_actions(audit)}:
        raise InvalidInput(action_id=["Select an action raised by the audit this one follows up"])
    errors: dict[str, list[str]] = {}
    try:
        judgement = ProgressJudgement(data.get("judgement"))
    except ValueError:
        judgement = None
        errors["judgement"] = ["Select sufficient, some or insufficient progress"]
    note = check_text(errors, "note", data.get("note"), label="Note", max_length=TEXT_MAX, multiline=True)
    if errors:
        raise InvalidInput(errors)
    if audit.status is not AuditStatus.IN_PROGRESS:
        raise Conflict(f"Progress can only be judged while the follow-up is in progress; this audit is {audit.status.label.lower()}.")
    review = db.session.scalar(select(ProgressReview).where(ProgressReview.audit_id == audit.id, ProgressReview.action_id == action.id))
    if review is None:
        review = ProgressReview(audit_id=audit.id, action_id=action.id, judgement=judgement, note=note, recorded_by_id=user.id)
        db.session.add(review)
    else:
        # No version: the person saw no judgement, so the one saved since is someone
        # else's, and is not to be replaced unseen.
        check_version(review, version, STALE)
        review.judgement = judgement
        review.note = note
        review.recorded_by_id = user.id
    try:
        db.session.commit()
    except (IntegrityError, StaleDataError):
        # Another auditor saved a judgement on this action at the same moment (one per
        # action and follow-up), or changed the one this person saw.
        db.session.rollback()
        raise Conflict(STALE) from None
    return review
