"""Audit pages: schedule, edit, start, complete, cancel and reopen an audit, and
recurring series. The rules are in qa_audit.audits.services: these views parse the
form, call a service and show what it says."""

from __future__ import annotations

import enum
from datetime import date
from typing import Callable

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload
from wtforms import SelectChoice

from qa_audit.admin.models import Service
from qa_audit.audits import bp
from qa_audit.audits import services as audit_rules
from qa_audit.audits import question_sets as question_set_rules
from qa_audit.audits import series as series_rules
from qa_audit.audits.forms import (
    MAX_ID,
    TYPE_CHOICES,
    AuditForm,
    ReasonForm,
    SeriesForm,
    StatusForm,
    WholeNumberField,
)
from qa_audit.audits.models import Audit, AuditSeries, AuditStatus, AuditType, QuestionSet
from qa_audit.auth.permissions import MANAGERS, can_change_audit_status, can_schedule_audits, roles_required
from qa_audit.errors import Conflict, InvalidInput
from qa_audit.extensions import db
from qa_audit.records import get_or_404
from qa_audit.forms import apply_errors, person_choice, version_of

def _render(template: str, status: int = 200, **context):
    return render_template(template, **context), status


def _show_rule_errors(form, check: Callable[[], object]) -> None:
    """The form did not parse (a date that is not real, say): run the rules as well,
    which only check, so every problem shows at once. A field that already has an
    error keeps just that one."""
    try:
        check()
    except InvalidInput as error:
        others = {name: messages for name, messages in error.errors.items() if not (name in form._fields and form[name].errors)}
        apply_errors(form, InvalidInput(others))
    except Conflict:
        pass


# Choices -----------------------------------------------------------------------


def _audit_label(audit: Audit) -> str:
    return f"{audit.title} ({audit.type.label.lower()}, {audit.scheduled_for:%-d %B %Y})"


def _set_choices(form: AuditForm, *, audit: Audit | None = None, series: AuditSeries | None = None, part: bool = False) -> None:
    """The options each select and checkbox list offers, always including the
    record's own values so an edit never changes one silently."""
    current = audit or series
    service_ids = [current.service_id] if current else []
    services = db.session.scalars(
        select(Service).where(or_(Service.active.is_(True), Service.id.in_(service_ids))).order_by(Service.name)
    ).all()
    form.service_id.choices = [SelectChoice("", "Select a service")] + [SelectChoice(str(s.id), s.name) for s in services]

    people = audit_rules.auditing_users()
    if current is not None:
        people += [current.lead_auditor] + list(audit.auditors if audit else [])
    people = sorted(set(people), key=lambda user: (user.name, user.id))
    form.lead_auditor_id.choices = [SelectChoice("", "Select the lead auditor")] + [person_choice(u) for u in people]
    form.auditor_ids.choices = [person_choice(u) for u in people]

    question_sets = question_set_rules.usable_question_sets()
    if current is not None and current.question_set is not None and current.question_set not in question_sets:
        question_sets.append(current.question_set)
    form.question_set_id.choices = [SelectChoice("", "None")] + [
        SelectChoice(str(q.id), q.title + (f" (version {q.version_number})" if q.version_number > 1 else "")) for q in question_sets
    ]

    # A part of a visit cannot itself be a targeted visit.
    if part or (audit is not None and audit.parent_id is not None):
        form.type.choices = [c for c in TYPE_CHOICES if c.value != AuditType.TARGETED_VISIT.value]

    if "parent_id" not in form._fields:
        return  # a series has no parent visit and follows up nothing
    open_visit = and_(Audit.type == AuditType.TARGETED_VISIT, Audit.status.in_([AuditStatus.PLANNED, AuditStatus.IN_PROGRESS]))
    not_cancelled = Audit.status != AuditStatus.CANCELLED
    if audit is not None and audit.parent_id:
        open_visit = or_(open_visit, Audit.id == audit.parent_id)
    if audit is not None and audit.follow_up_of_id:
        not_cancelled = or_(not_cancelled, Audit.id == audit.follow_up_of_id)
    visits, earlier = select(Audit).where(open_visit), select(Audit).where(not_cancelled)
    if audit is not None:
        visits, earlier = visits.where(Audit.id != audit.id), earlier.where(Audit.id != audit.id)
    newest_first = (Audit.scheduled_for.desc(), Audit.id)
    form.parent_id.choices = [SelectChoice("", "Not part of a visit")] + [
        SelectChoice(str(v.id), _audit_label(v)) for v in db.session.scalars(visits.order_by(*newest_first))
    ]
    form.follow_up_of_id.choices = [SelectChoice("", "Does not follow up an audit")] + [
        SelectChoice(str(a.id), _audit_label(a)) for a in db.session.scalars(earlier.order_by(*newest_first))
    ]


def _fill(form: AuditForm, values: dict) -> None:
    """Put a record's values into the form (for a GET)."""
    for name, value in values.items():
        if name not in form._fields or value is None:
            continue
        field = form[name]
        if isinstance(value, list):
            value = [str(getattr(v, "value", v)) for v in value]
        elif isinstance(value, enum.Enum):
            value = value.value
        elif isinstance(value, int) and not isinstance(field, WholeNumberField):
            value = str(value)  # select options are text
        field.data = value


# The audit page ----------------------------------------------------------------


@bp.route("/audits/<int:audit_id>")
def show_audit(audit_id: int):
    audit = get_or_404(
        Audit,
        audit_id,
        selectinload(Audit.service),
        selectinload(Audit.lead_auditor),
        selectinload(Audit.auditors),
        selectinload(Audit.agency_rows),
        selectinload(Audit.parent),
        selectinload(Audit.follow_up_of),
        selectinload(Audit.question_set).selectinload(QuestionSet.questions),
        selectinload(Audit.series),
        selectinload(Audit.children).options(selectinload(Audit.service), selectinload(Audit.lead_auditor)),
    )
    follow_ups = db.session.scalars(
        select(Audit).where(Audit.follow_up_of_id == audit.id).order_by(Audit.scheduled_for, Audit.id)
    ).all()
    manager = can_schedule_audits(current_user)
    editable = audit_rules.is_editable(audit)

    def may(status: AuditStatus) -> bool:
        return audit_rules.can_move(audit, status) and can_change_audit_status(current_user, audit, status)

    reopening = audit.status is AuditStatus.COMPLETED
    actions = {
        "edit": manager and editable,
        "start": not reopening and may(AuditStatus.IN_PROGRESS),
        "complete": may(AuditStatus.COMPLETED),
        "cancel": may(AuditStatus.CANCELLED),
        "reopen": reopening and may(AuditStatus.IN_PROGRESS),
        "add_part": manager and editable and audit.type is AuditType.TARGETED_VISIT,
    }
    return _render("audits/audit.html", audit=audit, follow_ups=follow_ups, actions=actions, today=audit_rules.today())


# Scheduling and editing ------------------------------------------------------------

PREFILL = ("type", "title", "service_id", "lead_auditor_id", "question_set_id", "parent_id", "follow_up_of_id")


def _prefill(form: AuditForm) -> Audit | None:
    """Fill a new audit from the link that led here (?parent_id=, ?follow_up_of_id=,
    ?scheduled_for=2026-11-12 …); a part of a visit starts with the visit's service and date."""
    for name in PREFILL:
        if request.args.get(name):
            field = form[name]
            field.data = field.coerce(request.args[name]) if hasattr(field, "coerce") else request.args[name]
    try:
        form.scheduled_for.data = date.fromisoformat(request.args.get("scheduled_for", ""))
    except ValueError:
        pass
    parent = _visit(request.args.get("parent_id"))
    if parent is not None:
        form.service_id.data = form.service_id.data or str(parent.service_id)
        form.scheduled_for.data = form.scheduled_for.data or parent.scheduled_for
        form.agencies.data = form.agencies.data or [a.value for a in parent.agencies]
    earlier = _audit_or_none(request.args.get("follow_up_of_id"))
    if earlier is not None:
        form.service_id.data = form.service_id.data or str(earlier.service_id)
        if parent is None:
            form.type.data = form.type.data or earlier.type.value
    return parent


def _audit_or_none(value) -> Audit | None:
    if not (value and value.isascii() and value.isdigit() and 0 < int(value) <= MAX_ID):
        return None
    return db.session.get(Audit, int(value))


def _visit(value) -> Audit | None:
    audit = _audit_or_none(value)
    return audit if audit is not None and audit.type is AuditType.TARGETED_VISIT else None


@bp.route("/audits/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def schedule_audit():
    form = AuditForm()
    parent = _visit(request.args.get("parent_id"))
    _set_choices(form, part=parent is not None)
    if request.method == "GET":
        _prefill(form)
    if form.validate_on_submit():
        try:
            audit = audit_rules.schedule_audit(form.values())
        except InvalidInput as error:
            apply_errors(form, error)
        else:
            flash(f"{audit.type.label} ‘{audit.title}’ scheduled for {audit.scheduled_for:%-d %B %Y}", "success")
            return redirect(url_for("audits.show_audit", audit_id=audit.id))
    elif form.is_submitted():
        _show_rule_errors(form, lambda: audit_rules.check_audit_input(form.values()))
    return _render("audits/audit_form.html", form=form, audit=None, parent=parent)


@bp.route("/audits/<int:audit_id>/edit", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def edit_audit(audit_id: int):
    audit = get_or_404(
        Audit, audit_id, selectinload(Audit.auditors), selectinload(Audit.agency_rows), selectinload(Audit.lead_auditor), selectinload(Audit.question_set)
    )
    if request.method == "GET" and not audit_rules.is_editable(audit):
        flash(f"This audit is {audit.status.label.lower()}: it cannot be changed.", "error")
        return redirect(url_for("audits.show_audit", audit_id=audit.id))
    form = AuditForm()
    _set_choices(form, audit=audit)
    if request.method == "GET":
        _fill(form, audit_rules.audit_values(audit))
        form.version.data = str(audit.version)
    conflict = None
    if form.validate_on_submit():
        try:
            audit_rules.update_audit(audit, form.values(), version=version_of(form))
        except InvalidInput as error:
            apply_errors(form, error)
        except Conflict as error:
            db.session.rollback()
            conflict = error.message
            form.version.data = str(audit.version)  # saving again, having seen the audit, is their choice
        else:
            flash(f"‘{audit.title}’ saved", "success")
            return redirect(url_for("audits.show_audit", audit_id=audit.id))
    elif form.is_submitted():
        _show_rule_errors(form, lambda: audit_rules.check_audit_input(form.values(), audit=audit))
    return _render("audits/audit_form.html", 409 if conflict else 200, form=form, audit=audit, parent=None, conflict=conflict)


# Status changes ----------------------------------------------------------------

REASON_PAGES = {
    AuditStatus.CANCELLED: {
        "title": "Cancel this audit",
        "label": "Why is this audit being cancelled?",
        "hint": "The reason is shown on the audit and kept in its history",
        "button": "Cancel audit",
        "done": "cancelled",
    },
    AuditStatus.IN_PROGRESS: {
        "title": "Reopen this audit",
        "label": "Why is this audit being reopened?",
        "hint": "It goes back to in progress so that findings can be changed. The reason is kept in its history",
        "button": "Reopen audit",
        "done": "reopened",
    },
}


def _change_with_reason(audit: Audit, status: AuditStatus):
    """The confirmation page for cancelling or reopening, and what it posts."""
    page = REASON_PAGES[status]
    if not audit_rules.can_move(audit, status) or (
        status is AuditStatus.IN_PROGRESS and audit.status is not AuditStatus.COMPLETED
    ):
        flash(f"This audit is {audit.status.label.lower()}: it cannot be {page['done']}.", "error")
        return redirect(url_for("audits.show_audit", audit_id=audit.id))
    form = ReasonForm()
    if request.method == "GET":
        form.version.data = str(audit.version)
    if form.validate_on_submit():
        try:
            audit_rules.change_status(audit, status, current_user, reason=form.reason.data, version=version_of(form))
        except InvalidInput as error:
            apply_errors(form, error)
        except Conflict as error:
            db.session.rollback()
            flash(error.message, "error")
            return redirect(url_for("audits.show_audit", audit_id=audit.id))
        else:
            flash(f"‘{audit.title}’ {page['done']}", "success")
            return redirect(url_for("audits.show_audit", audit_id=audit.id))
    return _render("audits/audit_reason.html", form=form, audit=audit, page=page)


@bp.route("/audits/<int:audit_id>/cancel", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def cancel_audit(audit_id: int):
    return _change_with_reason(get_or_404(Audit, audit_id), AuditStatus.CANCELLED)


@bp.route("/audits/<int:audit_id>/reopen", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def reopen_audit(audit_id: int):
    return _change_with_reason(get_or_404(Audit, audit_id), AuditStatus.IN_PROGRESS)


@bp.route("/audits/<int:audit_id>/status", methods=["POST"])
def change_audit_status(audit_id: int):
    """Start or complete an audit (the audit's auditors or a manager); cancelling
    and reopening need a reason, so send those to their pages. NotAllowed from the
    service is the app's 403 page."""
    audit = get_or_404(Audit, audit_id, selectinload(Audit.auditors))
    form = StatusForm()
    if not form.validate_on_submit():
        abort(400)
    wanted = form.status.data
    if wanted == AuditStatus.CANCELLED.value and not (form.reason.data or "").strip():
        return redirect(url_for("audits.cancel_audit", audit_id=audit.id))
    if wanted == AuditStatus.IN_PROGRESS.value and audit.status is AuditStatus.COMPLETED and not (form.reason.data or "").strip():
        return redirect(url_for("audits.reopen_audit", audit_id=audit.id))
    try:
        audit_rules.change_status(audit, wanted, current_user, reason=form.reason.data, version=version_of(form))
    except (InvalidInput, Conflict) as error:
        db.session.rollback()
        messages = error.message if isinstance(error, Conflict) else " ".join(m for ms in error.errors.values() for m in ms)
        flash(messages, "error")
    else:
        flash(f"‘{audit.title}’ is now {audit.status.label.lower()}", "success")
    return redirect(url_for("audits.show_audit", audit_id=audit.id))


# Recurring series --------------------------------------------------------------


def _series_with_audits(series_id: int) -> tuple[AuditSeries, list[Audit]]:
    series = get_or_404(
        AuditSeries,
        series_id,
        selectinload(AuditSeries.service),
        selectinload(AuditSeries.lead_auditor),
        selectinload(AuditSeries.question_set),
    )
    audits = db.session.scalars(
        select(Audit).where(Audit.series_id == series.id).order_by(Audit.scheduled_for, Audit.id)
    ).all()
    return series, audits


def _pattern(series: AuditSeries) -> Audit | None:
    """The audit whose auditors and agencies stand for the series' (the series
    itself keeps neither): its next unstarted audit, or else its latest."""
    planned = series_rules.future_unstarted(series, audit_rules.today())
    if planned:
        return planned[0]
    return db.session.scalar(
        select(Audit).where(Audit.series_id == series.id).order_by(Audit.scheduled_for.desc(), Audit.id.desc()).limit(1)
    )


@bp.route("/audit-series/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def schedule_series():
    form = SeriesForm()
    _set_choices(form)
    if form.validate_on_submit():
        try:
            series = series_rules.create_series(form.values())
        except InvalidInput as error:
            apply_errors(form, error)
        else:
            count = len(series.audits)
            flash(f"Series ‘{series.title}’ created with {count} planned {'audit' if count == 1 else 'audits'}", "success")
            return redirect(url_for("audits.show_series", series_id=series.id))
    elif form.is_submitted():
        _show_rule_errors(form, lambda: series_rules.check_series_input(form.values()))
    return _render("audits/series_form.html", form=form, series=None)


@bp.route("/audit-series/<int:series_id>")
def show_series(series_id: int):
    series, audits = _series_with_audits(series_id)
    return _render("audits/series.html", series=series, audits=audits)


@bp.route("/audit-series/<int:series_id>/edit", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def edit_series(series_id: int):
    series = get_or_404(AuditSeries, series_id, selectinload(AuditSeries.lead_auditor), selectinload(AuditSeries.question_set))
    if series.cancelled:
        flash("This series is cancelled: it cannot be changed.", "error")
        return redirect(url_for("audits.show_series", series_id=series.id))
    form = SeriesForm()
    _set_choices(form, series=series)
    if request.method == "GET":
        pattern = _pattern(series)
        _fill(
            form,
            {
                "type": series.type,
                "title": series.title,
                "purpose": series.purpose,
                "service_id": series.service_id,
                "lead_auditor_id": series.lead_auditor_id,
                "auditor_ids": pattern.auditor_ids if pattern else [],
                "agencies": pattern.agencies if pattern else [],
                "question_set_id": series.question_set_id,
                "frequency": series.frequency,
                "interval_weeks": series.interval_weeks,
                "starts_on": series.starts_on,
                "ends_on": series.ends_on,
                "occurrences": series.occurrences,
            },
        )
        form.version.data = str(series.version)
    conflict = None
    if form.validate_on_submit():
        try:
            series_rules.update_series(series, form.values(), version=version_of(form))
        except InvalidInput as error:
            apply_errors(form, error)
        except Conflict as error:
            db.session.rollback()
            conflict = error.message
            form.version.data = str(series.version)
        else:
            flash(f"Series ‘{series.title}’ saved: its future audits that had not started now match it", "success")
            return redirect(url_for("audits.show_series", series_id=series.id))
    elif form.is_submitted():
        _show_rule_errors(form, lambda: series_rules.check_series_input(form.values()))
    return _render("audits/series_form.html", 409 if conflict else 200, form=form, series=series, conflict=conflict)


@bp.route("/audit-series/<int:series_id>/cancel", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def cancel_series(series_id: int):
    series = get_or_404(AuditSeries, series_id)
    if series.cancelled:
        flash("This series is already cancelled.", "error")
        return redirect(url_for("audits.show_series", series_id=series.id))
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            count = series_rules.cancel_series(series, form.reason.data)
        except InvalidInput as error:
            apply_errors(form, error)
        except Conflict as error:
            db.session.rollback()
            flash(error.message, "error")
            return redirect(url_for("audits.show_series", series_id=series.id))
        else:
            flash(f"Series ‘{series.title}’ cancelled: {count} planned {'audit' if count == 1 else 'audits'} cancelled", "success")
            return redirect(url_for("audits.show_series", series_id=series.id))
    to_cancel = series_rules.future_unstarted(series, audit_rules.today())
    return _render("audits/series_cancel.html", form=form, series=series, to_cancel=to_cancel)
