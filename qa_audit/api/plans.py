"""Improvement plans: create, list, read, add priorities, and the tracker's summary figures.

The rules and the figures live in qa_audit.plans.services; this module checks types and
limits, and the order of the checks (API.md: 401, 404, 403, 422, 409).
"""

from __future__ import annotations

from functools import wraps

from flask_login import current_user
from marshmallow import fields, validate
from sqlalchemy import select

from qa_audit.actions.models import Brag
from qa_audit.api import bp
from qa_audit.api.schemas import (
    BaseSchema,
    Day,
    EnumValue,
    FilterArgs,
    Id,
    NoControlCharacters,
    Title,
    load,
    page_schema,
    paginate,
)
from qa_audit.auth.permissions import ACTION_MANAGERS, can_manage_plan, roles_required
from qa_audit.errors import NotAllowed
from qa_audit.plans import services as plan_rules
from qa_audit.plans.models import ImprovementPlan
from qa_audit.validation import TITLE_MAX


class PlanSchema(BaseSchema):
    """An improvement plan as the API returns it."""

    id = fields.Integer()
    title = fields.String()
    owner_id = fields.Integer()
    board = fields.String(allow_none=True)
    starts_on = fields.Date()
    ends_on = fields.Date()
    version = fields.Integer()


class PlanCreateSchema(BaseSchema):
    """``board`` is the governance board that holds the plan; the period runs from
    ``starts_on`` to ``ends_on`` (inclusive, in order). The owner is any active user."""

    title = Title(required=True)
    owner_id = Id(strict=True, required=True)
    board = fields.String(
        allow_none=True,
        load_default=None,
        validate=[validate.Length(max=TITLE_MAX), NoControlCharacters(multiline=False)],
    )
    starts_on = Day(required=True)
    ends_on = Day(required=True)


class PlanPrioritySchema(BaseSchema):
    """A priority (workstream) of a plan, in the board's order."""

    id = fields.Integer()
    plan_id = fields.Integer()
    title = fields.String()
    version = fields.Integer()


class PlanPriorityCreateSchema(BaseSchema):
    title = Title(required=True)


class PrioritySummarySchema(BaseSchema):
    id = fields.Integer()
    title = fields.String()
    total = fields.Integer()
    overdue = fields.Integer()
    percent_complete = fields.Float(allow_none=True)
    brag = EnumValue(Brag, allow_none=True)


class PlanSummarySchema(BaseSchema):
    """The tracker's figures (DESIGN.md §3), for the council's today. ``total`` counts every
    action, cancelled ones included, and the status counts add up to it. ``percent_complete``
    is (completed + verified) ÷ (total − cancelled), 0–100 rounded half up to one decimal, null
    when nothing counts. ``brag`` is the worst open action's colour, blue when all are done,
    null when there are no actions but cancelled ones. ``next_deadline`` is the earliest due
    date among open actions, overdue ones included."""

    plan_id = fields.Integer()
    total = fields.Integer()
    not_started = fields.Integer()
    in_progress = fields.Integer()
    completed = fields.Integer()
    verified = fields.Integer()
    cancelled = fields.Integer()
    overdue = fields.Integer()
    due_soon = fields.Integer()
    percent_complete = fields.Float(allow_none=True)
    brag = EnumValue(Brag, allow_none=True)
    next_deadline = fields.String(allow_none=True, metadata={"format": "date"})
    priorities = fields.List(fields.Nested(PrioritySummarySchema))


class PlanListArgs(FilterArgs):
    owner_id = Id()


def may_manage_plan(view):
    """Refuse (403) anyone but the plan's owner, a QA lead or an admin, before the body
    is read (422). Put it after ``load``."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not can_manage_plan(current_user, kwargs["plan"]):
            raise NotAllowed("Only the plan's owner, a QA lead or an admin can change this plan.")
        return view(*args, **kwargs)

    return wrapped


@bp.route("/plans", methods=["POST"])
@roles_required(*ACTION_MANAGERS)
@bp.arguments(PlanCreateSchema)
@bp.response(201, PlanSchema)
def create_plan(data):
    """Create an improvement plan. Past dates are accepted."""
    return plan_rules.create_plan(data, current_user)


@bp.route("/plans")
@bp.arguments(PlanListArgs, location="query")
@bp.response(200, page_schema(PlanSchema))
def list_plans(args):
    """Improvement plans, latest period first, optionally of one owner."""
    query = select(ImprovementPlan).order_by(ImprovementPlan.starts_on.desc(), ImprovementPlan.id)
    if args.get("owner_id"):
        query = query.where(ImprovementPlan.owner_id == args["owner_id"])
    return paginate(query, args)


@bp.route("/plans/<int:plan_id>")
@load(ImprovementPlan, "plan_id", name="plan")
@bp.response(200, PlanSchema)
def get_plan(plan: ImprovementPlan):
    """One improvement plan."""
    return plan


@bp.route("/plans/<int:plan_id>/priorities", methods=["POST"])
@load(ImprovementPlan, "plan_id", name="plan")
@may_manage_plan
@bp.arguments(PlanPriorityCreateSchema)
@bp.response(201, PlanPrioritySchema)
def add_priority(data, plan: ImprovementPlan):
    """Add a priority (workstream) at the end of the plan's order. The plan's owner,
    QA leads and admins may."""
    return plan_rules.add_priority(plan, data, current_user)


@bp.route("/plans/<int:plan_id>/summary")
@load(ImprovementPlan, "plan_id", name="plan")
@bp.response(200, PlanSummarySchema)
def get_plan_summary(plan: ImprovementPlan):
    """The plan's figures, and each priority's in the board's order, counted in SQL."""
    return plan_rules.plan_summary(plan)
