"""The lists of actions: "My actions", the actions awaiting sign-off, and every action
with filters in the URL. Each loads a page of ids from an index, then those rows with
what the table shows, so a list is as quick with 100,000 actions as with 100."""

from __future__ import annotations

import math
from datetime import date

from flask import render_template, request, url_for
from flask_login import current_user
from sqlalchemy import exists, select
from sqlalchemy.orm import joinedload
from wtforms import SelectChoice

from qa_audit import dates
from qa_audit.actions import bp
from qa_audit.actions import services as action_rules
from qa_audit.actions.forms import ActionFilterForm
from qa_audit.actions.models import OPEN, Action, ActionStatus
from qa_audit.admin.models import Service
from qa_audit.audits.programme_views import _pagination
from qa_audit.auth.models import Role, User
from qa_audit.auth.permissions import ACTION_MANAGERS, roles_required
from qa_audit.extensions import db
from qa_audit.plans.models import ImprovementPlan, PlanPriority

PER_PAGE = 50


# Loading -----------------------------------------------------------------------------


def row_options() -> tuple:
    """What a row of a list shows, joined into the list's own query (each is one row
    per action): one query however many rows."""
    return (
        joinedload(Action.owner),
        joinedload(Action.plan_priority).joinedload(PlanPriority.plan),
        joinedload(Action.service),
    )


def page_of_rows(query, order: tuple, limit: int, offset: int = 0) -> list[Action]:
    """A page of the query's actions in this order: the page's ids first, from the index
    alone, then just those rows with what a row shows (joining first and sorting after
    would join every matching action)."""
    ids = query.with_only_columns(Action.id).order_by(*order).limit(limit).offset(offset)
    return list(db.session.scalars(select(Action).where(Action.id.in_(ids)).options(*row_options()).order_by(*order)))


# My actions and the actions awaiting sign-off ------------------------------------------


def _figures(query, today: date) -> dict:
    """Counts, BRAG and percent complete of the actions a query finds, in one SQL query
    (the query's own conditions, so the database can answer from an index)."""
    row = db.session.execute(query.with_only_columns(*action_rules.count_columns(today)).order_by(None)).one()
    return action_rules.summarise(row)


# My actions shows a page of the open ones and the latest of the rest (the actions list,
# linked, has them all): a person with 2,000 actions gets a page as quick as one with 20.
DONE_SHOWN = 20
CLOSED = (ActionStatus.COMPLETED, ActionStatus.VERIFIED, ActionStatus.CANCELLED)


@bp.route("/my-actions")
def my_actions():
    today = dates.today()
    mine = action_rules.actions_query({"owner_id": current_user.id}, today)
    figures = _figures(mine, today)
    pages = max(1, math.ceil(figures["open"] / PER_PAGE))
    page = _page(pages)
    # Open ones by due date, which puts the overdue ones first.
    to_do = page_of_rows(mine.where(Action.status.in_(OPEN)), (Action.due_date, Action.id), PER_PAGE, (page - 1) * PER_PAGE)
    # Done, awaiting sign-off, signed off and cancelled: the latest deadline first.
    done = page_of_rows(mine.where(Action.status.in_(CLOSED)), (Action.due_date.desc(), Action.id.desc()), DONE_SHOWN)
    pagination = _pagination(page, pages, lambda number: url_for("actions.my_actions", page=number))
    if pagination:
        pagination["landmarkLabel"] = "Pages of your open actions"
    closed = figures["total"] - figures["open"]
    all_closed_url = url_for("actions.list_actions", owner_id=current_user.id, status=[status.value for status in CLOSED])
    return render_template(
        "actions/my_actions.html",
        to_do=to_do,
        done=done,
        closed=closed,
        all_closed_url=all_closed_url,
        figures=figures,
        page=page,
        pages=pages,
        pagination=pagination,
        today=today,
    )


@bp.route("/actions/sign-off")
@roles_required(*ACTION_MANAGERS)
def actions_for_sign_off():
    today = dates.today()
    head_of_service = current_user.role is Role.HEAD_OF_SERVICE
    awaiting = action_rules.awaiting_sign_off(current_user, today)
    overdue = []
    if head_of_service:
        overdue = db.session.scalars(
            action_rules.within_charge_of(action_rules.actions_query({"overdue": True}, today), current_user)
            .options(*row_options())
            .order_by(Action.due_date, Action.id)
        ).all()
    awaiting = db.session.scalars(
        awaiting.options(*row_options()).order_by(Action.completed_at, Action.id)
    ).all()
    return render_template(
        "actions/sign_off.html", awaiting=awaiting, overdue=overdue, head_of_service=head_of_service, today=today
    )


# Every action, with filters -------------------------------------------------------------


def _filter_form() -> tuple[ActionFilterForm, bool]:
    """The filters, with lists only as long as a choice needs: the owner is searched for
    by name or email, and the priorities offered are those of the plan chosen."""
    args = request.args
    form = ActionFilterForm(formdata=args, meta={"csrf": False})
    services = db.session.execute(select(Service.id, Service.name, Service.active).order_by(Service.name, Service.id))
    form.service.choices = [SelectChoice("", "Any service")] + [
        SelectChoice(str(s.id), s.name if s.active else f"{s.name} (retired)") for s in services
    ]
    plans = db.session.execute(select(ImprovementPlan.id, ImprovementPlan.title).order_by(ImprovementPlan.starts_on.desc(), ImprovementPlan.title, ImprovementPlan.id))
    form.plan.choices = [SelectChoice("", "Any plan")] + [SelectChoice(str(p.id), p.title) for p in plans]
    _priority_choices(form, plan_sent="plan" in args)
    valid = form.validate()
    if owner_id_sent := args.get("owner_id", "").strip():
        # A link names the owner by ID (My actions, the tracker): the box shows their
        # name, and a hidden field keeps the ID until the box is changed.
        owner_id = _record_id(owner_id_sent)
        owner = (
            db.session.execute(
                select(User.name, User.active).where(User.id == owner_id, exists().where(Action.owner_id == User.id))
            ).one_or_none()
            if owner_id is not None
            else None
        )
        if owner is None:
            form.owner.errors.append("No one with that ID owns an action: search for the owner by name or email address")
            return form, False
        if "owner" not in args or args["owner"].strip() == owner.name:
            form.owner_id, form.owner.data = owner_id, owner.name
            form.owner_label = owner.name if owner.active else f"{owner.name} (deactivated)"
    return form, valid


def _priority_choices(form: ActionFilterForm, *, plan_sent: bool) -> None:
    """The chosen plan's priorities. A link with a priority and no plan chooses the
    priority's plan; a priority left over from another plan (the plan was changed, or
    set to any plan) is dropped rather than refused."""
    plan_id = _record_id(form.plan.data)
    priority_id = _record_id(form.priority.data)
    if not plan_sent and priority_id is not None:
        plan_id = db.session.scalar(select(PlanPriority.plan_id).where(PlanPriority.id == priority_id))
        if plan_id is not None:
            form.plan.data = str(plan_id)
    priorities = (
        db.session.execute(
            select(PlanPriority.id, PlanPriority.title).where(PlanPriority.plan_id == plan_id).order_by(PlanPriority.position, PlanPriority.id)
        ).all()
        if plan_id is not None
        else []
    )
    form.priority.choices = [SelectChoice("", "Any priority")] + [SelectChoice(str(p.id), p.title) for p in priorities]
    if plan_sent and form.priority.data and form.priority.data not in {str(p.id) for p in priorities}:
        form.priority.data = ""


def _record_id(value: str | None) -> int | None:
    return int(value) if value and value.isascii() and value.isdigit() and len(value) <= 9 else None


def _filters(form: ActionFilterForm) -> dict:
    return {
        "owner_id": form.owner_id,
        "owner_text": form.owner.data if form.owner_id is None and form.owner.data else None,
        "service_id": int(form.service.data) if form.service.data else None,
        "plan_id": int(form.plan.data) if form.plan.data else None,
        "priority_id": int(form.priority.data) if form.priority.data else None,
        "status": list(form.status.data or []),
        "brag": form.brag.data or None,
        "overdue": True if form.overdue.data else None,
    }


def _active_filters(form: ActionFilterForm) -> list[str]:
    described = []
    if form.owner_id is not None:
        described.append(f"Owner: {form.owner_label}")
    elif form.owner.data:
        described.append(f"Owner: name or email containing ‘{form.owner.data}’")
    for field in (form.service, form.plan, form.priority, form.brag):
        if field.data:
            described.append(f"{field.label.text}: {dict((c.value, c.label) for c in field.choices)[field.data]}")
    if form.status.data:
        labels = dict((c.value, c.label) for c in form.status.choices)
        described.append(f"Status: {', '.join(labels[v] for v in form.status.data)}")
    if form.overdue.data:
        described.append("Overdue only")
    return described


FILTER_KEYS = ("owner", "owner_id", "service", "plan", "priority", "status", "brag", "overdue")


@bp.route("/actions")
def list_actions():
    form, valid = _filter_form()
    today = dates.today()
    context = {"form": form, "today": today, "valid": valid, "actions": [], "active_filters": [], "pagination": None}
    if valid:
        query = action_rules.actions_query(_filters(form), today)
        figures = _figures(query, today)
        pages = max(1, math.ceil(figures["total"] / PER_PAGE))
        page = _page(pages)
        args = {key: request.args.getlist(key) for key in FILTER_KEYS if any(v.strip() for v in request.args.getlist(key))}
        pagination = _pagination(page, pages, lambda number: url_for("actions.list_actions", **args, page=number))
        if pagination:
            pagination["landmarkLabel"] = "Pages of actions"
        actions = page_of_rows(query, (Action.due_date, Action.id), PER_PAGE, (page - 1) * PER_PAGE)
        context.update(
            actions=actions, figures=figures, page=page, pages=pages, pagination=pagination, active_filters=_active_filters(form)
        )
    return render_template("actions/list.html", **context)


def _page(pages: int) -> int:
    return min(max(_record_id(request.args.get("page")) or 1, 1), pages)
