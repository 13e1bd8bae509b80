"""Improvement plan pages: the plans list, creating and editing a plan, its priorities
and measures, and the tracker with its filters, charts and exports.

The rules are in qa_audit.plans.services (and the counting in SQL there and in
qa_audit.plans.tracker): these views parse the form, call a service and show what it
says. Every signed-in user reads plans; QA leads, heads of service and admins create
them; a plan's owner, QA leads and admins change it (the service says so too)."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError
from wtforms import SelectChoice

from qa_audit import dates
from qa_audit.actions import services as action_rules
from qa_audit.admin.models import Service
from qa_audit.audits.forms import DateInputField
from qa_audit.auth.models import User
from qa_audit.auth.permissions import ACTION_MANAGERS, can_manage_plan, roles_required
from qa_audit.errors import Conflict, InvalidInput
from qa_audit.extensions import db
from qa_audit.forms import apply_errors, person_choice, version_of
from qa_audit.plans import bp, exports, tracker
from qa_audit.plans import services as plan_rules
from qa_audit.plans.forms import MeasureForm, MeasureValueForm, MoveForm, PlanForm, PriorityForm, TrackerFilterForm
from qa_audit.plans.models import ImprovementPlan, Measure, PlanPriority
from qa_audit.records import get_or_404

FILTER_KEYS = ("owner", "service", "status", "brag")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NOT_A_DATE = "not a date"  # what an unparsed date goes to the service as (it refuses it)


def _may_manage(plan: ImprovementPlan) -> None:
    if not can_manage_plan(current_user, plan):
        abort(403)


def _show_rule_errors(form, save) -> None:
    """A date did not parse (31 13 2026, say): ask the service as well, so that every
    problem shows at once. The date goes to it as text that is not a date, so it
    always refuses the input and nothing is saved. A field that already has an error
    keeps just that one. (A missing CSRF token is only ever that error.)"""
    bad_dates = [name for name, field in form._fields.items() if isinstance(field, DateInputField) and field.errors]
    if not bad_dates or form.csrf_token.errors:
        return
    values = form.values()
    values.update({name: NOT_A_DATE for name in bad_dates})
    try:
        save(values)
    except InvalidInput as error:
        db.session.rollback()
        others = {name: messages for name, messages in error.errors.items() if not (name in form._fields and form[name].errors)}
        apply_errors(form, InvalidInput(others))
    except Conflict:
        db.session.rollback()


# The plans list ------------------------------------------------------------------------


@bp.route("/plans")
def list_plans():
    today = dates.today()
    return render_template("plans/list.html", plans=tracker.plans_overview(today), today=today)


# Creating and editing a plan ---------------------------------------------------------------


def _set_plan_choices(form: PlanForm, plan: ImprovementPlan | None = None) -> None:
    """Active people and services, and always the plan's own (even if retired), so an
    edit never changes one silently."""
    owner_ids = [plan.owner_id] if plan else []
    people = db.session.scalars(select(User).where(or_(User.active.is_(True), User.id.in_(owner_ids))).order_by(User.name, User.id))
    form.owner_id.choices = [SelectChoice("", "Select the owner")] + [
        person_choice(u) for u in people
    ]
    service_ids = [plan.service_id] if plan and plan.service_id else []
    services = db.session.scalars(select(Service).where(or_(Service.active.is_(True), Service.id.in_(service_ids))).order_by(Service.name))
    form.service_id.choices = [SelectChoice("", "Not for one service")] + [SelectChoice(str(s.id), s.name) for s in services]


@bp.route("/plans/new", methods=["GET", "POST"])
@roles_required(*ACTION_MANAGERS)
def create_plan():
    form = PlanForm()
    _set_plan_choices(form)
    if request.method == "GET":
        form.owner_id.data = str(current_user.id)
    if form.validate_on_submit():
        try:
            plan = plan_rules.create_plan(form.values(), current_user)
        except InvalidInput as error:
            apply_errors(form, error)
        else:
            flash(f"Plan ‘{plan.title}’ created. Add its priorities next.", "success")
            return redirect(url_for("plans.list_priorities", plan_id=plan.id))
    elif form.is_submitted():
        _show_rule_errors(form, lambda values: plan_rules.create_plan(values, current_user))
    return render_template("plans/form.html", form=form, plan=None)


@bp.route("/plans/<int:plan_id>/edit", methods=["GET", "POST"])
def edit_plan(plan_id: int):
    plan = get_or_404(ImprovementPlan, plan_id)
    _may_manage(plan)
    form = PlanForm()
    _set_plan_choices(form, plan)
    if request.method == "GET":
        form.title.data = plan.title
        form.description.data = plan.description
        form.owner_id.data = str(plan.owner_id)
        form.service_id.data = str(plan.service_id) if plan.service_id else ""
        form.board.data = plan.board
        form.starts_on.data = plan.starts_on
        form.ends_on.data = plan.ends_on
        form.version.data = str(plan.version)
    conflict = None
    if form.validate_on_submit():
        try:
            plan_rules.edit_plan(plan, form.values(), current_user, version=version_of(form))
        except InvalidInput as error:
            apply_errors(form, error)
        except (Conflict, StaleDataError) as error:
            # Someone saved first (or at the same moment): their input stays in the form.
            db.session.rollback()
            conflict = error.message if isinstance(error, Conflict) else plan_rules.STALE
            form.version.data = str(plan.version)  # saving again, having seen the plan, is their choice
        else:
            flash(f"Plan ‘{plan.title}’ saved", "success")
            return redirect(url_for("plans.show_plan", plan_id=plan.id))
    elif form.is_submitted():
        _show_rule_errors(form, lambda values: plan_rules.edit_plan(plan, values, current_user, version=version_of(form)))
    return render_template("plans/form.html", form=form, plan=plan, conflict=conflict), 409 if conflict else 200


# Priorities ----------------------------------------------------------------------------


@bp.route("/plans/<int:plan_id>/priorities")
def list_priorities(plan_id: int):
    plan = get_or_404(ImprovementPlan, plan_id, selectinload(ImprovementPlan.priorities).selectinload(PlanPriority.measures))
    _may_manage(plan)
    return render_template("plans/priorities.html", plan=plan)


@bp.route("/plans/<int:plan_id>/priorities/new", methods=["GET", "POST"])
def add_priority(plan_id: int):
    plan = get_or_404(ImprovementPlan, plan_id)
    _may_manage(plan)
    form = PriorityForm()
    if form.validate_on_submit():
        try:
            priority = plan_rules.add_priority(plan, form.values(), current_user)
        except InvalidInput as error:
            apply_errors(form, error)
        else:
            flash(f"Priority ‘{priority.title}’ added", "success")
            return redirect(url_for("plans.list_priorities", plan_id=plan.id))
    return render_template("plans/priority_form.html", form=form, plan=plan, priority=None)


@bp.route("/plan-priorities/<int:priority_id>/edit", methods=["GET", "POST"])
def rename_priority(priority_id: int):
    priority = get_or_404(PlanPriority, priority_id, joinedload(PlanPriority.plan))
    plan = priority.plan
    _may_manage(plan)
    form = PriorityForm()
    if request.method == "GET":
        form.title.data = priority.title
        form.version.data = str(priority.version)
    conflict = None
    if form.validate_on_submit():
        try:
            plan_rules.rename_priority(priority, form.values(), current_user, version=version_of(form))
        except InvalidInput as error:
            apply_errors(form, error)
        except (Conflict, StaleDataError) as error:
            db.session.rollback()
            conflict = error.message if isinstance(error, Conflict) else plan_rules.STALE
            form.version.data = str(priority.version)
        else:
            flash(f"Priority ‘{priority.title}’ saved", "success")
            return redirect(url_for("plans.list_priorities", plan_id=plan.id))
    return render_template("plans/priority_form.html", form=form, plan=plan, priority=priority, conflict=conflict), 409 if conflict else 200


@bp.route("/plan-priorities/<int:priority_id>/move", methods=["POST"])
def move_priority(priority_id: int):
    priority = get_or_404(PlanPriority, priority_id, joinedload(PlanPriority.plan))
    plan = priority.plan
    _may_manage(plan)
    form = MoveForm()
    if not form.validate_on_submit():
        abort(400)
    if form.direction.data not in ("up", "down"):
        flash("Choose to move the priority up or down.", "error")
    else:
        title = priority.title
        try:
            plan_rules.move_priority(priority, form.direction.data, current_user)
        except Conflict as error:
            flash(error.message, "error")
        else:
            flash(f"Priority ‘{title}’ moved {form.direction.data}", "success")
    return redirect(url_for("plans.list_priorities", plan_id=plan.id))


# Measures ------------------------------------------------------------------------------


@bp.route("/plan-priorities/<int:priority_id>/measures/new", methods=["GET", "POST"])
def add_measure(priority_id: int):
    priority = get_or_404(PlanPriority, priority_id, joinedload(PlanPriority.plan))
    _may_manage(priority.plan)
    form = MeasureForm()
    if form.validate_on_submit():
        try:
            measure = plan_rules.add_measure(priority, form.values(), current_user)
        except InvalidInput as error:
            apply_errors(form, error)
        else:
            flash(f"Measure ‘{measure.title}’ added to {priority.title}", "success")
            return redirect(url_for("plans.show_plan", plan_id=priority.plan_id, _anchor=f"priority-{priority.id}"))
    elif form.is_submitted():
        _show_rule_errors(form, lambda values: plan_rules.add_measure(priority, values, current_user))
    return render_template("plans/measure_form.html", form=form, priority=priority, plan=priority.plan)


@bp.route("/measures/<int:measure_id>/values/new", methods=["GET", "POST"])
def record_measure_value(measure_id: int):
    measure = get_or_404(Measure, measure_id, joinedload(Measure.priority).joinedload(PlanPriority.plan), selectinload(Measure.values))
    plan = measure.priority.plan
    _may_manage(plan)
    form = MeasureValueForm()
    if form.validate_on_submit():
        try:
            plan_rules.record_measure_value(measure, form.values(), current_user)
        except InvalidInput as error:
            apply_errors(form, error)
        else:
            flash(f"Value recorded for ‘{measure.title}’", "success")
            return redirect(url_for("plans.show_plan", plan_id=plan.id, _anchor=f"priority-{measure.priority_id}"))
    elif form.is_submitted():
        _show_rule_errors(form, lambda values: plan_rules.record_measure_value(measure, values, current_user))
    described = tracker.describe_measure(measure, list(measure.values))
    return render_template("plans/measure_value_form.html", form=form, measure=measure, described=described, plan=plan)


# The tracker ---------------------------------------------------------------------------


def _filter_form(plan: ImprovementPlan) -> tuple[TrackerFilterForm, bool]:
    form = TrackerFilterForm(formdata=request.args, meta={"csrf": False})
    form.owner.choices = [SelectChoice("", "Any owner")] + [
        SelectChoice(str(u.id), u.name if u.active else f"{u.name} (deactivated)") for u in tracker.owners_of_plan(plan.id)
    ]
    form.service.choices = [SelectChoice("", "Any service")] + [
        SelectChoice(str(s.id), s.name if s.active else f"{s.name} (retired)") for s in tracker.services_of_plan(plan.id)
    ]
    return form, form.validate()


def _filter_args() -> dict[str, list[str]]:
    """The filters in the current query string, for links that keep them."""
    kept = {}
    for key in FILTER_KEYS:
        values = [value for value in request.args.getlist(key) if value.strip()]
        if values:
            kept[key] = values
    return kept


def _row(action, today) -> dict:
    brag = action_rules.brag_of(action, today)
    return {
        "action": action,
        "brag": brag,
        "brag_rank": tracker.BRAG_ORDER[brag],
        "status_rank": tracker.STATUS_ORDER[action.status],
        "days_late": (today - action.due_date).days,
        "href": url_for("actions.show_action", action_id=action.id),
    }


@bp.route("/plans/<int:plan_id>")
def show_plan(plan_id: int):
    plan = get_or_404(ImprovementPlan, plan_id, joinedload(ImprovementPlan.owner), joinedload(ImprovementPlan.service))
    form, valid = _filter_form(plan)
    today = dates.today()
    args = _filter_args()
    context = {
        "plan": plan,
        "form": form,
        "today": today,
        "valid": valid,
        "active_filters": form.described() if valid else [],
        "clear_url": url_for("plans.show_plan", plan_id=plan.id),
        "csv_url": url_for("plans.export_actions_csv", plan_id=plan.id, **args),
        "xlsx_url": url_for("plans.export_actions_xlsx", plan_id=plan.id, **args),
        "manage": can_manage_plan(current_user, plan),
    }
    if not valid:
        return render_template("plans/show.html", **context)

    filters = form.filters()
    overall, priorities = plan_rules.plan_figures(plan.id, filters, today)
    by_priority: dict[int, list[dict]] = {}
    for action in tracker.priority_rows(plan.id, filters, today):
        by_priority.setdefault(action.plan_priority_id, []).append(_row(action, today))
    for figures in priorities:
        figures["segments"] = tracker.brag_segments(figures)
    overdue = [_row(action, today) for action in tracker.late_rows(plan.id, filters, today, overdue=True)]
    due_soon = [_row(action, today) for action in tracker.late_rows(plan.id, filters, today, overdue=False)]

    def all_actions_url(**narrower) -> str:
        """The actions list with every action the table stands for (the tracker's filters kept)."""
        kept = {("owner_id" if key == "owner" else key): value for key, value in args.items()}  # the list searches "owner" by name
        return url_for("actions.list_actions", **{"plan": plan.id, **kept, **narrower})

    context.update(
        overall=overall,
        priorities=priorities,
        priority_titles={p["id"]: p["title"] for p in priorities},
        rows_by_priority=by_priority,
        overdue=overdue,
        due_soon=due_soon,
        all_actions_url=all_actions_url,
        completion=tracker.completion_over_time(plan, filters, today, overall["total"] - overall["cancelled"]),
        measures=tracker.measures_of_plan(plan.id),
    )
    return render_template("plans/show.html", **context)


# Exports: exactly the tracker's filtered rows ------------------------------------------------


def _export(plan_id: int, render) -> Response:
    plan = get_or_404(ImprovementPlan, plan_id)
    form, valid = _filter_form(plan)
    if not valid:  # the tracker says what is wrong with the filters
        query = request.query_string.decode("ascii", "replace")
        return redirect(url_for("plans.show_plan", plan_id=plan.id) + (f"?{query}" if query else ""))
    today = dates.today()
    actions = tracker.tracker_actions(plan.id, form.filters(), today)
    titles = dict(db.session.execute(select(PlanPriority.id, PlanPriority.title).where(PlanPriority.plan_id == plan.id)).all())
    body, mimetype, extension = render(plan, actions, titles, today)
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="plan-{plan.id}-actions-{today:%Y-%m-%d}.{extension}"'
    return response


@bp.route("/plans/<int:plan_id>/actions.csv")
def export_actions_csv(plan_id: int):
    return _export(plan_id, lambda plan, actions, titles, today: (exports.to_csv(actions, titles, today), "text/csv; charset=utf-8", "csv"))


@bp.route("/plans/<int:plan_id>/actions.xlsx")
def export_actions_xlsx(plan_id: int):
    return _export(plan_id, lambda plan, actions, titles, today: (exports.to_xlsx(actions, titles, today, title=plan.title), XLSX, "xlsx"))
