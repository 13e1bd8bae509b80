"""The details of a focus group or a strategy meeting audit, and strategy meeting
attendance by agency over a period. The rules are in qa_audit.recording.services:
these views parse the form, call a service and show what it says."""

from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import MultiDict

from qa_audit.audits import programme
from qa_audit.audits import services as audit_services
from qa_audit.forms import version_of
from qa_audit.audits.models import Agency, Audit, AuditStatus, AuditType
from qa_audit.auth.permissions import can_record_on
from qa_audit.errors import Conflict, InvalidInput
from qa_audit.extensions import db
from qa_audit.records import get_or_404
from qa_audit.forms import apply_errors
from qa_audit.recording import bp
from qa_audit.recording import services as recording_rules
from qa_audit.recording.details_forms import (
    FocusGroupDetailsForm,
    PeriodForm,
    StrategyMeetingDetailsForm,
    contribution_field_name,
    fill_strategy_meeting,
    strategy_meeting_values,
)
from qa_audit.recording.models import AuditDetails, Judgement

DETAILS_TYPES = (AuditType.FOCUS_GROUP, AuditType.STRATEGY_MEETING_AUDIT)
STALE_DETAILS = "Someone else changed these details at the same time. Your changes have not been saved: check the details, then make them again."


def _audit_with_details(audit_id: int) -> Audit:
    audit = get_or_404(Audit, audit_id, selectinload(Audit.auditors), selectinload(Audit.service), selectinload(Audit.parent))
    if audit.type not in DETAILS_TYPES:
        abort(404)
    return audit


def _form_for(audit: Audit):
    if audit.type is AuditType.FOCUS_GROUP:
        return FocusGroupDetailsForm()
    return StrategyMeetingDetailsForm()


def _fill(form, audit: Audit, details) -> None:
    if details is None:
        # Version 0: if someone else saves the first details meanwhile, this save
        # is stale too, rather than silently replacing theirs.
        form.version.data = "0"
        return
    if audit.type is AuditType.FOCUS_GROUP:
        form.fill(details)
    else:
        fill_strategy_meeting(form, details)
    form.version.data = str(details.version)


def _values(form, audit: Audit) -> dict:
    return form.values() if audit.type is AuditType.FOCUS_GROUP else strategy_meeting_values(form)


def _apply_errors(form, error: InvalidInput) -> None:
    """The service names agency contributions as one field, a message per agency
    ("…: police"): show each at that agency's radios."""
    errors = dict(error.errors)
    contributions = errors.pop("agency_contributions", None) or []
    apply_errors(form, InvalidInput(errors))
    for message in contributions:
        name = f"contribution_{message.rsplit(': ', 1)[-1]}"
        field = form[name] if name in form else form.agencies_attended
        field.errors = list(field.errors) + [message]
    form._errors = None


@bp.route("/audits/<int:audit_id>/details", methods=["GET", "POST"])
def edit_details(audit_id: int):
    """The form for the audit's own auditors (and QA leads) while it is in progress;
    everyone else, and everyone once it is finished, reads the details."""
    audit = _audit_with_details(audit_id)
    details = recording_rules.details_of(audit)
    if request.method == "GET" and not (audit.status is AuditStatus.IN_PROGRESS and can_record_on(current_user, audit)):
        return render_template("recording/details_show.html", audit=audit, details=details, **_labels())
    if request.method == "POST":
        recording_rules.check_recording_allowed(audit, current_user)  # NotAllowed is the 403 page

    form = _form_for(audit)
    if request.method == "GET":
        _fill(form, audit, details)
    conflict = None
    if form.validate_on_submit():
        try:
            recording_rules.save_details(audit, current_user, _values(form, audit), version=version_of(form))
        except InvalidInput as error:
            _apply_errors(form, error)
        except (Conflict, StaleDataError) as error:
            # Nothing was saved; what they entered stays in the form.
            db.session.rollback()
            if audit.status is not AuditStatus.IN_PROGRESS:
                conflict = getattr(error, "message", None) or str(error)
            else:
                conflict = STALE_DETAILS
                details = recording_rules.details_of(audit)
                form.version.data = str(details.version) if details else "0"
        else:
            flash(f"Details of ‘{audit.title}’ saved", "success")
            return redirect(url_for("recording.edit_details", audit_id=audit.id))
    return (
        render_template("recording/details_form.html", form=form, audit=audit, conflict=conflict, **_labels()),
        409 if conflict else 200,
    )


def _labels() -> dict:
    return {
        "agencies": list(Agency),
        "agency_labels": {agency.value: agency.label for agency in Agency},
        "judgement_labels": {judgement.value: judgement.label for judgement in Judgement},
        "contribution_field_name": contribution_field_name,
    }


# Attendance at strategy meetings -------------------------------------------------


def _period_formdata() -> MultiDict:
    """?from=2026-04-01 (a link) or the three boxes of the date inputs (the form)."""
    data = MultiDict()
    for name in ("from", "to"):
        values = request.args.getlist(name)
        if len(values) == 1:
            try:
                day = date.fromisoformat(values[0].strip())
            except ValueError:
                pass
            else:
                values = [str(day.day), str(day.month), str(day.year)]
        for value in values:
            data.add(name, value)
    return data


@bp.route("/strategy-meetings/attendance")
def show_attendance():
    form = PeriodForm(formdata=_period_formdata())
    year = programme.financial_year_of(audit_services.today())
    start, end = date(year, 4, 1), date(year + 1, 3, 31)
    if not request.args.getlist("from"):
        form.from_.data = start
    if not request.args.getlist("to"):
        form.to.data = end
    form.validate()
    if not form.errors:
        if form.from_.data is None:
            form.from_.errors = ["Enter the start date"]
        if form.to.data is None:
            form.to.errors = ["Enter the end date"]
        if form.from_.data and form.to.data and form.to.data < form.from_.data:
            form.to.errors = ["The end date must be the same as or after the start date"]
        form._errors = None
    rows, audit_count, recorded_count = [], 0, 0
    if not form.errors:
        start, end = form.from_.data, form.to.data
        audits = select(Audit).where(
            Audit.type == AuditType.STRATEGY_MEETING_AUDIT,
            Audit.status != AuditStatus.CANCELLED,
            Audit.scheduled_for >= start,
            Audit.scheduled_for <= end,
        )
        rows = recording_rules.attendance_by_agency(audits)
        ids = audits.with_only_columns(Audit.id)
        audit_count = db.session.scalar(select(func.count()).select_from(ids.subquery()))
        recorded_count = db.session.scalar(select(func.count(AuditDetails.id)).where(AuditDetails.audit_id.in_(ids)))
    return render_template(
        "recording/details_attendance.html",
        form=form,
        rows=rows,
        start=start,
        end=end,
        audit_count=audit_count,
        recorded_count=recorded_count,
    )

