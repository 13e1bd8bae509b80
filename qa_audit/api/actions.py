"""Actions: raise, list with filters, read, edit (with the version read), post progress,
sign off, send back and cancel; and a follow-up visit's view of the earlier audit's actions.

The rules live in qa_audit.actions.services (and qa_audit.actions.follow_up); this module
checks types and limits, and the order of the checks (API.md: 401, 404, 403, 422, 409).
The services check permission too, but only after they have loaded what they need; here
who may act is asked of qa_audit.auth.permissions right after the action is loaded, so
someone who may not gets a 403 whatever they send.
"""

from __future__ import annotations

from functools import wraps
from typing import Callable

from flask import abort
from flask_login import current_user
from marshmallow import fields, pre_dump, validate
from sqlalchemy import select

from qa_audit import dates
from qa_audit.actions import follow_up
from qa_audit.actions import services as action_rules
from qa_audit.actions.models import Action, ActionPriority, ActionStatus, ActionUpdate, Brag
from qa_audit.api import bp
from qa_audit.api.schemas import (
    BaseSchema,
    Day,
    EnumValue,
    FilterArgs,
    FreeText,
    Id,
    PageArgs,
    QueryBoolean,
    Title,
    load,
    page_schema,
    paginate,
)
from qa_audit.audits.models import Audit
from qa_audit.auth.permissions import (
    ACTION_MANAGERS,
    can_cancel_action,
    can_edit_action,
    can_post_update,
    can_verify_action,
    roles_required,
)
from qa_audit.errors import NotAllowed

PROGRESS_STATUSES = (ActionStatus.IN_PROGRESS.value, ActionStatus.COMPLETED.value)


class ActionSchema(BaseSchema):
    """An action as the API returns it. ``overdue`` and ``brag`` are worked out for the
    council's today: ``brag`` is null for a cancelled action."""

    id = fields.Integer()
    title = fields.String()
    owner_id = fields.Integer()
    due_date = fields.Date()
    priority = EnumValue(ActionPriority)
    status = EnumValue(ActionStatus)
    finding_id = fields.Integer(allow_none=True)
    plan_priority_id = fields.Integer(allow_none=True)
    overdue = fields.Boolean()
    brag = EnumValue(Brag, allow_none=True)
    version = fields.Integer()

    @pre_dump
    def with_figures(self, action: Action, **kwargs) -> dict:
        today = dates.today()
        return {
            "id": action.id,
            "title": action.title,
            "owner_id": action.owner_id,
            "due_date": action.due_date,
            "priority": action.priority,
            "status": action.status,
            "finding_id": action.finding_id,
            "plan_priority_id": action.plan_priority_id,
            "overdue": action_rules.is_overdue(action, today),
            "brag": action_rules.brag_of(action, today),
            "version": action.version,
        }


class ActionCreateSchema(BaseSchema):
    """Raise an action from a finding, or directly under a plan priority: at least one
    of ``finding_id`` and ``plan_priority_id``. The owner may be any active user."""

    title = Title(required=True)
    owner_id = Id(strict=True, required=True)
    due_date = Day(required=True)
    priority = EnumValue(ActionPriority, load_default=ActionPriority.MEDIUM.value, metadata={"description": "medium if not given"})
    finding_id = Id(strict=True, allow_none=True, load_default=None)
    plan_priority_id = Id(strict=True, allow_none=True, load_default=None)


class ActionEditSchema(BaseSchema):
    """Fields not sent keep their value; ``version`` is the one you read."""

    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    title = Title()
    owner_id = Id(strict=True)
    due_date = Day()
    priority = EnumValue(ActionPriority)
    plan_priority_id = Id(strict=True, allow_none=True)


class ProgressUpdateCreateSchema(BaseSchema):
    note = FreeText(required=True)
    status = fields.String(
        allow_none=True,
        load_default=None,
        validate=validate.OneOf(PROGRESS_STATUSES),
        metadata={"description": "completed needs evidence"},
    )
    evidence = FreeText(allow_none=True, load_default=None)


class ProgressUpdateSchema(BaseSchema):
    """One entry in the action's timeline: a progress note, a sign-off, a send-back or a cancellation."""

    id = fields.Integer()
    action_id = fields.Integer()
    note = fields.String()
    status = EnumValue(ActionStatus, allow_none=True)
    evidence = fields.String(allow_none=True)
    author_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()


class ActionVerifySchema(BaseSchema):
    note = FreeText(allow_none=True, load_default=None)


class ActionReasonSchema(BaseSchema):
    reason = FreeText(required=True)


class ActionListArgs(FilterArgs):
    """Every filter given must match; ``status`` may be repeated (?status=not_started&status=in_progress)."""

    owner_id = Id()
    status = fields.List(EnumValue(ActionStatus))
    overdue = QueryBoolean()
    plan_id = Id()
    priority_id = Id(metadata={"description": "a plan priority's id"})
    audit_id = Id(metadata={"description": "actions raised from findings of this audit or its parts"})
    service_id = Id()
    brag = EnumValue(Brag, metadata={"description": "amber: due soon (open, due in the next 14 days)"})


class FollowUpSchema(BaseSchema):
    """``open`` counts not started and in progress actions, ``done`` completed and verified ones."""

    follows_up = fields.Integer()
    actions = fields.List(fields.Nested(ActionSchema))
    open = fields.Integer()
    done = fields.Integer()


def allowed(check: Callable, refusal: Callable[[Action], str]) -> Callable:
    """Refuse (403) a user ``check`` does not allow on the loaded action, before the body
    is read (422) and before the action's state is looked at (409). Put it after ``load``."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            action = kwargs["action"]
            if not check(current_user, action):
                raise NotAllowed(refusal(action))
            return view(*args, **kwargs)

        return wrapped

    return decorator


def _sign_off_refusal(action: Action) -> str:
    if action.owner_id == current_user.id:
        return "You own this action, so someone else must sign it off or send it back."
    return "Only a head of service, a QA lead or an admin can sign off or send back an action."


# Raising and reading ----------------------------------------------------------------


@bp.route("/actions", methods=["POST"])
@roles_required(*ACTION_MANAGERS)
@bp.arguments(ActionCreateSchema)
@bp.response(201, ActionSchema)
def raise_action(data):
    """Raise an action; it starts as not started. Past due dates are accepted."""
    return action_rules.raise_action(data, current_user)


@bp.route("/actions")
@bp.arguments(ActionListArgs, location="query")
@bp.response(200, page_schema(ActionSchema))
def list_actions(args):
    """Actions matching every filter given, soonest due first."""
    filters = {key: args[key] for key in ("owner_id", "status", "overdue", "plan_id", "priority_id", "audit_id", "service_id", "brag") if key in args}
    return paginate(action_rules.actions_query(filters).order_by(Action.due_date, Action.id), args)


@bp.route("/actions/<int:action_id>")
@load(Action, "action_id")
@bp.response(200, ActionSchema)
def get_action(action: Action):
    """One action."""
    return action


@bp.route("/actions/<int:action_id>", methods=["PATCH"])
@load(Action, "action_id")
@allowed(can_edit_action, lambda action: "Only an admin, a QA lead, the plan's owner or the head of the audited service can change this action.")
@bp.arguments(ActionEditSchema)
@bp.response(200, ActionSchema)
def edit_action(data, action: Action):
    """Change an action's details. Send the ``version`` you read: if the action has changed
    since, nothing is written (409). A cancelled action cannot be changed (409)."""
    version = data.pop("version")
    return action_rules.edit_action(action, data, current_user, version=version)


# Progress, sign-off and cancelling ---------------------------------------------------


@bp.route("/actions/<int:action_id>/updates", methods=["POST"])
@load(Action, "action_id")
@allowed(can_post_update, lambda action: "Only the action's owner, a QA lead, a head of service or an admin can post progress on it.")
@bp.arguments(ProgressUpdateCreateSchema)
@bp.response(201, ProgressUpdateSchema)
def post_update(data, action: Action):
    """Post a dated progress note, perhaps moving the action to in progress or completed
    (completed needs ``evidence``: 422). Any progress on a not started action starts it.
    No progress can be posted on a verified or cancelled action (409)."""
    return action_rules.post_update(action, data, current_user)


@bp.route("/actions/<int:action_id>/updates")
@load(Action, "action_id")
@bp.arguments(PageArgs, location="query")
@bp.response(200, page_schema(ProgressUpdateSchema))
def list_updates(args, action: Action):
    """The action's timeline, oldest first."""
    return paginate(select(ActionUpdate).where(ActionUpdate.action_id == action.id).order_by(ActionUpdate.id), args)


@bp.route("/actions/<int:action_id>/verify", methods=["POST"])
@load(Action, "action_id")
@allowed(can_verify_action, _sign_off_refusal)
@bp.arguments(ActionVerifySchema)
@bp.response(200, ActionSchema)
def verify_action(data, action: Action):
    """Sign off a completed action (any other: 409). A head of service, a QA lead or an
    admin may, but never the action's own owner (403)."""
    return action_rules.verify_action(action, current_user, data["note"])


@bp.route("/actions/<int:action_id>/send-back", methods=["POST"])
@load(Action, "action_id")
@allowed(can_verify_action, _sign_off_refusal)
@bp.arguments(ActionReasonSchema)
@bp.response(200, ActionSchema)
def send_back_action(data, action: Action):
    """Not done yet: a completed action (any other: 409) goes back to in progress, with
    the reason on its timeline. Who may: as for signing off."""
    return action_rules.send_back(action, current_user, data["reason"])


@bp.route("/actions/<int:action_id>/cancel", methods=["POST"])
@load(Action, "action_id")
@allowed(can_cancel_action, lambda action: "Only QA leads, heads of service and admins can cancel actions.")
@bp.arguments(ActionReasonSchema)
@bp.response(200, ActionSchema)
def cancel_action(data, action: Action):
    """Cancel an action, with a reason. A verified or cancelled action cannot be (409)."""
    return action_rules.cancel_action(action, current_user, data["reason"])


# Follow-up visits ---------------------------------------------------------------------


@bp.route("/audits/<int:audit_id>/follow-up")
@load(Audit, "audit_id")
@bp.response(200, FollowUpSchema)
def get_follow_up(audit: Audit):
    """For an audit that follows up an earlier one (any other: 404): every action raised
    from a finding of the earlier audit or its parts, whatever its status now."""
    if audit.follow_up_of_id is None:
        abort(404, "This audit does not follow up an earlier one.")
    return follow_up.follow_up_summary(audit)
