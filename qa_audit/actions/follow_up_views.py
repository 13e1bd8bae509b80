"""The follow-up page: the earlier audit's actions with their status now, and the
progress judged on each. The rules are in qa_audit.actions.follow_up."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSubmitInput, GovTextArea
from sqlalchemy.orm import selectinload
from wtforms import HiddenField, RadioField, SelectChoice, SubmitField, TextAreaField

from qa_audit.actions import bp
from qa_audit.actions import follow_up as rules
from qa_audit.actions import services as action_rules
from qa_audit.actions.models import Action, ProgressJudgement
from qa_audit.audits.forms import plain_text
from qa_audit.audits.models import Audit, AuditStatus
from qa_audit.auth.permissions import can_record_on
from qa_audit.errors import Conflict, InvalidInput
from qa_audit.extensions import db
from qa_audit.forms import apply_errors
from qa_audit.records import get_or_404


class ProgressReviewForm(FlaskForm):
    judgement = RadioField(
        "Progress made",
        widget=GovRadioInput(),
        coerce=plain_text,
        validate_choice=False,
        choices=[SelectChoice(j.value, j.label) for j in ProgressJudgement],
    )
    note = TextAreaField("Note (optional)", description="What the visit saw of the progress", widget=GovTextArea())
    version = HiddenField()
    submit = SubmitField("Save judgement", widget=GovSubmitInput())


def _audit(audit_id: int) -> Audit:
    audit = get_or_404(Audit, audit_id, selectinload(Audit.follow_up_of), selectinload(Audit.auditors), selectinload(Audit.service))
    if audit.follow_up_of_id is None:
        abort(404)
    return audit


def _forms(audit: Audit, actions: list[Action], reviews: dict) -> dict[int, ProgressReviewForm]:
    forms = {}
    for action in actions:
        review = reviews.get(action.id)
        form = ProgressReviewForm(prefix=f"action-{action.id}", formdata=None)
        if review is not None:
            form.judgement.data = review.judgement.value
            form.note.data = review.note
            form.version.data = str(review.version)
        forms[action.id] = form
    return forms


def _render(audit: Audit, forms: dict | None = None, *, error_form=None, status: int = 200, conflict: str | None = None):
    summary = rules.follow_up_summary(audit)
    reviews = rules.reviews_of(audit)
    may_judge = audit.status is AuditStatus.IN_PROGRESS and can_record_on(current_user, audit)
    forms = forms or _forms(audit, summary["actions"], reviews)
    return (
        render_template(
            "actions/follow_up.html",
            audit=audit,
            summary=summary,
            reviews=reviews,
            forms=forms,
            form=error_form,
            may_judge=may_judge,
            brag_of=action_rules.brag_of,
            conflict=conflict,
        ),
        status,
    )


@bp.route("/audits/<int:audit_id>/follow-up")
def show_follow_up(audit_id: int):
    return _render(_audit(audit_id))


@bp.route("/audits/<int:audit_id>/follow-up/<int:action_id>", methods=["POST"])
def judge_progress(audit_id: int, action_id: int):
    audit = _audit(audit_id)
    action = get_or_404(Action, action_id)
    if not can_record_on(current_user, audit):
        abort(403)
    form = ProgressReviewForm(prefix=f"action-{action.id}")
    if form.validate_on_submit():
        try:
            rules.judge_progress(audit, action, {"judgement": form.judgement.data, "note": form.note.data}, current_user, version=form.version.data or None)
        except InvalidInput as error:
            apply_errors(form, error)
        except Conflict as error:
            db.session.rollback()
            summary = rules.follow_up_summary(audit)
            forms = _forms(audit, summary["actions"], rules.reviews_of(audit))
            forms[action.id] = form
            return _render(audit, forms, status=409, conflict=error.message)
        else:
            flash(f"Progress on ‘{action.title}’ saved", "success")
            return redirect(url_for("actions.show_follow_up", audit_id=audit.id) + f"#action-{action.id}")
    summary = rules.follow_up_summary(audit)
    forms = _forms(audit, summary["actions"], rules.reviews_of(audit))
    forms[action.id] = form
    return _render(audit, forms, error_form=form, status=400)
