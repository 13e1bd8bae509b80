"""Action pages: raise an action from a finding or under a plan priority; the action's
page with its whole story as a timeline; post progress, sign off, send back, cancel and
edit. The lists of actions are in qa_audit.actions.list_views.

The rules are in qa_audit.actions.services: these views parse the form, call a service
and show what it says. Who may do what is asked of qa_audit.auth.permissions; NotAllowed
from a service is the app's 403 page.
"""

from __future__ import annotations

from typing import Callable

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError
from wtforms import SelectChoice

from qa_audit import dates
from qa_audit.actions import bp
from qa_audit.actions import services as action_rules
from qa_audit.actions.forms import ActionForm, ReasonForm, SignOffForm, UpdateForm
from qa_audit.actions.models import Action, ActionStatus, ActionUpdate, Brag
from qa_audit.auth.models import User
from qa_audit.auth.permissions import (
    ACTION_MANAGERS,
    can_cancel_action,
    can_edit_action,
    can_post_update,
    can_raise_actions,
    can_verify_action,
    can_view_history,
    roles_required,
)
from qa_audit.errors import Conflict, InvalidInput
from qa_audit.extensions import db
from qa_audit.findings.models import Finding
from qa_audit.forms import apply_errors, person_choice, version_of
from qa_audit.actions.list_views import row_options
from qa_audit.plans.models import ImprovementPlan, PlanPriority
from qa_audit.records import get_or_404

FINISHED = (ActionStatus.VERIFIED, ActionStatus.CANCELLED)


# Loading -----------------------------------------------------------------------------


def _get_action(action_id: int) -> Action:
    return get_or_404(
        Action,
        action_id,
        *row_options(),
        selectinload(Action.created_by),
        selectinload(Action.verified_by),
        selectinload(Action.finding).selectinload(Finding.audit),
        selectinload(Action.updates).selectinload(ActionUpdate.author),
    )


# Shown on every action page and list (and on the finding page) ------------------------


@bp.app_template_global()
def action_brag(action: Action) -> Brag | None:
    return action_rules.brag_of(action, dates.today())


@bp.app_template_global()
def action_due_note(action: Action) -> str:
    """"Overdue by 3 days", "Due today", "Due in 5 days" (within the 14 days of due soon)."""
    today = dates.today()
    if action_rules.is_overdue(action, today):
        days = (today - action.due_date).days
        return f"Overdue by {days} {'day' if days == 1 else 'days'}"
    if action_rules.is_due_soon(action, today):
        days = (action.due_date - today).days
        return "Due today" if days == 0 else f"Due in {days} {'day' if days == 1 else 'days'}"
    return ""


def _may(action: Action) -> dict[str, bool]:
    """Which buttons the action page shows. The services decide again when one is pressed."""
    user = current_user
    status = action.status
    return {
        "post_update": can_post_update(user, action) and status not in FINISHED,
        "verify": can_verify_action(user, action) and status is ActionStatus.COMPLETED,
        "cancel": can_cancel_action(user, action) and status not in FINISHED,
        "edit": can_edit_action(user, action) and status is not ActionStatus.CANCELLED,
        "history": can_view_history(user),
        "raise_another": action.finding_id is not None and can_raise_actions(user),
    }


def _latest_evidence(action: Action) -> ActionUpdate | None:
    return next((update for update in reversed(action.updates) if update.evidence), None)


def _back_to(action: Action):
    return redirect(url_for("actions.show_action", action_id=action.id))


# Raising and editing ------------------------------------------------------------------


def _priority_choices() -> list[SelectChoice]:
    """Every plan's priorities, newest plan first, each labelled "Plan – Priority"."""
    rows = db.session.execute(
        select(PlanPriority.id, PlanPriority.title, ImprovementPlan.title.label("plan_title"))
        .join(PlanPriority.plan)
        .order_by(ImprovementPlan.starts_on.desc(), ImprovementPlan.title, ImprovementPlan.id, PlanPriority.position)
    ).all()
    return [SelectChoice(str(row.id), f"{row.plan_title} – {row.title}") for row in rows]


def _set_choices(form: ActionForm, *, action: Action | None = None, optional_priority: bool) -> None:
    """Owners: every active user, whatever their role (and the action's own owner, so an
    edit never changes it silently). Plan priorities: every plan's, as "Plan – Priority"."""
    anyone_active = User.active.is_(True)
    if action is not None:
        anyone_active = or_(anyone_active, User.id == action.owner_id)
    people = db.session.scalars(select(User).where(anyone_active).order_by(User.name, User.id))
    form.owner_id.choices = [SelectChoice("", "Select the owner")] + [person_choice(user) for user in people]

    first = SelectChoice("", "Not in a plan yet") if optional_priority else SelectChoice("", "Select a plan priority")
    form.plan_priority_id.choices = [first] + _priority_choices()
    if optional_priority:
        form.plan_priority_id.label.text = "Plan priority (optional)"


def _show_errors(form: ActionForm, error: InvalidInput) -> None:
    """The service's messages at their fields; a field that already has an error keeps
    just that one, and the due-date field not chosen says nothing."""
    hidden = form.hidden_due_field()
    shown = {
        name: messages
        for name, messages in error.errors.items()
        if name != hidden and not (name in form._fields and form[name].errors)
    }
    if shown:
        apply_errors(form, InvalidInput(shown))


def _check_the_rest(form: ActionForm, check: Callable[[], object]) -> None:
    """The form did not parse (a date that is not real, say): run the service's checks,
    which save nothing, so that every problem shows at once."""
    try:
        check()
    except InvalidInput as error:
        _show_errors(form, error)


def _raise(*, finding: Finding | None = None, priority: PlanPriority | None = None):
    form = ActionForm()
    _set_choices(form, optional_priority=finding is not None)
    if request.method == "GET" and priority is not None:
        form.plan_priority_id.data = str(priority.id)
    finding_id = {"finding_id": finding.id if finding else None}
    if form.validate_on_submit():
        try:
            action = action_rules.raise_action(form.values() | finding_id, current_user)
        except InvalidInput as error:
            _show_errors(form, error)
        else:
            flash(f"Action ‘{action.title}’ raised: it is due on {action.due_date:%-d %B %Y}", "success")
            return redirect(url_for("actions.show_action", action_id=action.id))
    elif form.is_submitted():
        # _check validates without saving (the service's own check, as raise_action runs it).
        _check_the_rest(form, lambda: action_rules._check(form.values() | finding_id))
    return render_template("actions/form.html", form=form, finding=finding, priority=priority, action=None, conflict=None)


@bp.route("/findings/<int:finding_id>/actions/new", methods=["GET", "POST"])
@roles_required(*ACTION_MANAGERS)
def raise_action_from_finding(finding_id: int):
    finding = get_or_404(Finding, finding_id, selectinload(Finding.audit))
    return _raise(finding=finding)


@bp.route("/plan-priorities/<int:priority_id>/actions/new", methods=["GET", "POST"])
@roles_required(*ACTION_MANAGERS)
def raise_action_under_priority(priority_id: int):
    priority = get_or_404(PlanPriority, priority_id, selectinload(PlanPriority.plan))
    return _raise(priority=priority)


def _edit_values(form: ActionForm, action: Action) -> dict:
    values = form.values()
    if values["owner_id"] == str(action.owner_id):
        del values["owner_id"]  # unchanged: kept even if that person has since been deactivated
    return values


@bp.route("/actions/<int:action_id>/edit", methods=["GET", "POST"])
def edit_action(action_id: int):
    action = _get_action(action_id)
    if not can_edit_action(current_user, action):
        abort(403)
    if request.method == "GET" and action.status is ActionStatus.CANCELLED:
        flash("This action was cancelled, so it cannot be changed.", "error")
        return _back_to(action)
    form = ActionForm()
    _set_choices(form, action=action, optional_priority=action.finding_id is not None)
    if request.method == "GET":
        form.title.data = action.title
        form.owner_id.data = str(action.owner_id)
        form.due_date.data = action.due_date
        form.priority.data = action.priority.value
        form.plan_priority_id.data = str(action.plan_priority_id or "")
        form.approved_by.data = action.approved_by
        form.approved_on.data = action.approved_on
        form.version.data = str(action.version)
    conflict = None
    if form.validate_on_submit():
        try:
            action_rules.edit_action(action, _edit_values(form, action), current_user, version=version_of(form))
        except InvalidInput as error:
            _show_errors(form, error)
        except (Conflict, StaleDataError) as error:
            # Someone saved first (or it was cancelled meanwhile): their input stays in
            # the form; saving again, having seen the action as it is now, is their choice.
            db.session.rollback()
            conflict = error.message if isinstance(error, Conflict) else action_rules.STALE
            form.version.data = str(action.version)
        else:
            flash(f"Action ‘{action.title}’ saved", "success")
            return _back_to(action)
    elif form.is_submitted():
        _check_the_rest(form, lambda: action_rules._check(_edit_values(form, action), current=action))
    return (
        render_template("actions/form.html", form=form, finding=None, priority=None, action=action, conflict=conflict),
        409 if conflict else 200,
    )


# The action page ----------------------------------------------------------------------


@bp.route("/actions/<int:action_id>")
def show_action(action_id: int):
    action = _get_action(action_id)
    return render_template(
        "actions/show.html",
        action=action,
        may=_may(action),
        timeline=list(reversed(action.updates)),
        today=dates.today(),
    )


# Progress, sign-off, send back, cancel ------------------------------------------------


@bp.route("/actions/<int:action_id>/updates/new", methods=["GET", "POST"])
def post_update(action_id: int):
    action = _get_action(action_id)
    if not can_post_update(current_user, action):
        abort(403)
    if request.method == "GET" and action.status in FINISHED:
        flash(f"This action is {action.status.label.lower()}, so no more progress can be posted on it.", "error")
        return _back_to(action)
    form = UpdateForm()
    conflict = None
    if form.validate_on_submit():
        data = {"note": form.note.data, "status": form.status.data, "evidence": form.evidence.data}
        try:
            update = action_rules.post_update(action, data, current_user)
        except InvalidInput as error:
            apply_errors(form, error)
        except Conflict as error:
            db.session.rollback()
            conflict = error.message
        else:
            if update.status is ActionStatus.COMPLETED:
                flash("Action marked as completed. A head of service or QA lead will now check it and sign it off", "success")
            else:
                flash("Progress update posted", "success")
            return _back_to(action)
    return (
        render_template("actions/update_form.html", form=form, action=action, conflict=conflict),
        409 if conflict else 200,
    )


def _decide(action: Action, decision: str, form, field, decide: Callable[[str | None], object], done: Callable[[], str], *, locked: str | None = None, evidence=True):
    """The sign-off, send-back and cancel pages: one field, one service call, back to the action."""
    if request.method == "GET" and locked:
        flash(locked, "error")
        return _back_to(action)
    if form.validate_on_submit():
        try:
            decide(field.data)
        except InvalidInput as error:
            apply_errors(form, error)
        except Conflict as error:
            db.session.rollback()
            flash(error.message, "error")
            return _back_to(action)
        else:
            flash(done(), "success")
            return _back_to(action)
    shown = _latest_evidence(action) if evidence else None
    return render_template("actions/decision.html", form=form, field=field, action=action, page=DECISIONS[decision], evidence=shown)


def _not_completed(action: Action, doing: str) -> str | None:
    if action.status is ActionStatus.COMPLETED:
        return None
    return f"Only a completed action can be {doing}; this one is {action.status.label.lower()}."


@bp.route("/actions/<int:action_id>/verify", methods=["GET", "POST"])
@roles_required(*ACTION_MANAGERS)
def verify_action(action_id: int):
    action = _get_action(action_id)
    if not can_verify_action(current_user, action):
        abort(403)  # their own action: someone else signs it off
    form = SignOffForm()
    return _decide(
        action, "verify", form, form.note,
        lambda note: action_rules.verify_action(action, current_user, note),
        lambda: f"Action ‘{action.title}’ signed off",
        locked=_not_completed(action, "signed off"),
    )


DECISIONS = {
    "verify": {
        "title": "Sign off this action",
        "label": "Note (optional)",
        "hint": "For example, what you checked. It is shown on the action's timeline",
        "button": "Sign off action",
        "warning": False,
    },
    "send_back": {
        "title": "Send this action back",
        "label": "Why is it being sent back?",
        "hint": "Say what is still needed. The owner sees this on the action's timeline, and the action goes back to in progress",
        "button": "Send back",
        "warning": False,
    },
    "cancel": {
        "title": "Cancel this action",
        "label": "Why is this action being cancelled?",
        "hint": "The reason is shown on the action and kept on its timeline",
        "button": "Cancel action",
        "warning": True,
    },
}


@bp.route("/actions/<int:action_id>/send-back", methods=["GET", "POST"])
@roles_required(*ACTION_MANAGERS)
def send_back_action(action_id: int):
    action = _get_action(action_id)
    if not can_verify_action(current_user, action):
        abort(403)
    form = ReasonForm()
    return _decide(
        action, "send_back", form, form.reason,
        lambda reason: action_rules.send_back(action, current_user, reason),
        lambda: f"Action ‘{action.title}’ sent back to {action.owner.name}: it is in progress again",
        locked=_not_completed(action, "sent back"),
    )


@bp.route("/actions/<int:action_id>/cancel", methods=["GET", "POST"])
@roles_required(*ACTION_MANAGERS)
def cancel_action(action_id: int):
    action = _get_action(action_id)
    if not can_cancel_action(current_user, action):
        abort(403)
    form = ReasonForm()
    return _decide(
        action, "cancel", form, form.reason,
        lambda reason: action_rules.cancel_action(action, current_user, reason),
        lambda: f"Action ‘{action.title}’ cancelled",
        locked=f"This action is already {action.status.label.lower()}." if action.status in FINISHED else None,
        evidence=False,
    )
