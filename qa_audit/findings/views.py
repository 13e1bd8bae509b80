"""Finding pages: list an audit's findings, record, edit and remove one, and
acknowledge a concern alert. The rules are in qa_audit.findings.services: these
views parse the form, call a service and show what it says. NotAllowed from a
service is the app's 403 page."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from qa_audit.forms import version_of
from qa_audit.audits.models import Audit, AuditStatus
from qa_audit.auth.permissions import can_record_on
from qa_audit.errors import Conflict, InvalidInput
from qa_audit.extensions import db
from qa_audit.findings import bp
from qa_audit.findings import services as finding_rules
from qa_audit.findings.forms import KIND_HINTS, FindingForm, theme_choices
from qa_audit.findings.models import ConcernAlert, EvidenceFile, Finding, FindingKind
from qa_audit.records import get_or_404
from qa_audit.forms import ConfirmForm, apply_errors


def _get_finding(finding_id: int) -> Finding:
    return get_or_404(
        Finding,
        finding_id,
        selectinload(Finding.audit).selectinload(Audit.service),
        selectinload(Finding.audit).selectinload(Audit.auditors),
        selectinload(Finding.recorded_by),
        selectinload(Finding.alerts).selectinload(ConcernAlert.user),
        selectinload(Finding.files).selectinload(EvidenceFile.uploaded_by),
    )


def _may_change(audit: Audit) -> bool:
    return audit.status is AuditStatus.IN_PROGRESS and can_record_on(current_user, audit)


def _locked(audit: Audit, target: str):
    """The audit is not in progress: say so plainly and go back (never a 500)."""
    try:
        finding_rules.check_in_progress(audit)
    except Conflict as error:
        flash(error.message, "error")
        return redirect(target)
    return None


def _render_form(form: FindingForm, audit: Audit, finding: Finding | None = None, *, status: int = 200, conflict: str | None = None):
    return (
        render_template("findings/form.html", form=form, audit=audit, finding=finding, conflict=conflict, kind_hints=KIND_HINTS),
        status,
    )


# Listing and showing ---------------------------------------------------------------

GROUPS = [
    (FindingKind.STRENGTH, "Strengths"),
    (FindingKind.AREA_FOR_IMPROVEMENT, "Areas for improvement"),
    (FindingKind.CONCERN, "Concerns"),
]


@bp.route("/audits/<int:audit_id>/findings")
def list_findings(audit_id: int):
    audit = get_or_404(Audit, audit_id, selectinload(Audit.service), selectinload(Audit.auditors), selectinload(Audit.children))
    findings = finding_rules.findings_of(audit)
    groups = [
        {"kind": kind, "heading": heading, "findings": [f for f in findings if f.kind is kind]} for kind, heading in GROUPS
    ]
    return render_template(
        "findings/list.html",
        audit=audit,
        groups=groups,
        total=len(findings),
        theme_labels=dict(finding_rules.themes()),
        may_record=_may_change(audit),
    )


@bp.route("/findings/<int:finding_id>")
def show_finding(finding_id: int):
    finding = _get_finding(finding_id)
    my_alert = next((a for a in finding.alerts if a.user_id == current_user.id and a.acknowledged_at is None), None)
    from qa_audit.actions.services import actions_of_finding

    return render_template(
        "findings/show.html",
        finding=finding,
        audit=finding.audit,
        theme=finding_rules.theme_label(finding.theme) or finding.theme,
        may_change=_may_change(finding.audit),
        my_alert=my_alert,
        actions=actions_of_finding(finding),
    )


# Recording, editing and removing -----------------------------------------------------


@bp.route("/audits/<int:audit_id>/findings/new", methods=["GET", "POST"])
def record_finding(audit_id: int):
    audit = get_or_404(Audit, audit_id, selectinload(Audit.auditors), selectinload(Audit.service))
    finding_rules.check_recording_allowed(audit, current_user)
    if request.method == "GET" and (locked := _locked(audit, url_for("findings.list_findings", audit_id=audit.id))):
        return locked
    form = FindingForm()
    form.theme.choices = theme_choices(finding_rules.themes())
    if form.validate_on_submit():
        try:
            finding = finding_rules.record_finding(audit, form.values(), current_user)
        except InvalidInput as error:
            apply_errors(form, error)
        except Conflict as error:
            # The audit stopped being in progress while they typed: say so, and keep
            # what they wrote on the page so that nothing is lost.
            db.session.rollback()
            return _render_form(form, audit, status=409, conflict=error.message)
        else:
            if finding.kind is FindingKind.CONCERN:
                names = [alert.user.name for alert in finding.alerts]
                alerted = ", ".join(names[:-1]) + (" and " if len(names) > 1 else "") + names[-1] if names else None
                if alerted:
                    flash(f"Concern recorded. {alerted} {'has' if len(names) == 1 else 'have'} been alerted", "success")
                else:
                    flash("Concern recorded. No active QA lead or head of service could be alerted: tell the QA team at once", "success")
            else:
                flash(f"{finding.kind.label} recorded", "success")
            return redirect(url_for("findings.list_findings", audit_id=audit.id))
    return _render_form(form, audit)


@bp.route("/findings/<int:finding_id>/edit", methods=["GET", "POST"])
def edit_finding(finding_id: int):
    finding = _get_finding(finding_id)
    audit = finding.audit
    finding_rules.check_recording_allowed(audit, current_user)
    if request.method == "GET" and (locked := _locked(audit, url_for("findings.show_finding", finding_id=finding.id))):
        return locked
    form = FindingForm()
    form.theme.choices = theme_choices(finding_rules.themes(), finding.theme)
    if request.method == "GET":
        form.kind.data = finding.kind.value
        form.theme.data = finding.theme or ""
        form.judgement.data = finding.judgement.value if finding.judgement else ""
        form.summary.data = finding.summary
        form.evidence.data = finding.evidence
        form.version.data = str(finding.version)
    conflict = None
    if form.validate_on_submit():
        try:
            finding_rules.update_finding(finding, form.values(), current_user, version=version_of(form))
        except InvalidInput as error:
            apply_errors(form, error)
        except (Conflict, StaleDataError) as error:
            db.session.rollback()
            if audit.status is not AuditStatus.IN_PROGRESS:
                conflict = getattr(error, "message", None) or str(error)
            else:
                conflict = finding_rules.STALE
                # Saving again, having seen the finding as it is now, is their choice.
                form.version.data = str(finding.version)
        else:
            flash(f"{finding.kind.label} saved", "success")
            return redirect(url_for("findings.show_finding", finding_id=finding.id))
    return _render_form(form, audit, finding, status=409 if conflict else 200, conflict=conflict)


@bp.route("/findings/<int:finding_id>/remove", methods=["GET", "POST"])
def remove_finding(finding_id: int):
    finding = _get_finding(finding_id)
    audit = finding.audit
    finding_rules.check_recording_allowed(audit, current_user)
    if locked := _locked(audit, url_for("findings.show_finding", finding_id=finding.id)):
        return locked
    form = ConfirmForm()
    if form.validate_on_submit():
        label = finding.kind.label
        try:
            finding_rules.remove_finding(finding, current_user)
        except Conflict as error:
            db.session.rollback()
            flash(error.message, "error")
            return redirect(url_for("findings.show_finding", finding_id=finding_id))
        flash(f"{label} removed", "success")
        return redirect(url_for("findings.list_findings", audit_id=audit.id))
    return render_template(
        "findings/remove.html", form=form, finding=finding, audit=audit, theme=finding_rules.theme_label(finding.theme) or finding.theme
    )


# Concern alerts ------------------------------------------------------------------


@bp.route("/concern-alerts/<int:alert_id>/acknowledge", methods=["POST"])
def acknowledge_alert(alert_id: int):
    alert = get_or_404(ConcernAlert, alert_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    finding_rules.acknowledge(alert, current_user)
    flash(f"Concern on ‘{alert.finding.audit.title}’ acknowledged", "success")
    if request.form.get("return_to") == "finding":
        return redirect(url_for("findings.show_finding", finding_id=alert.finding_id))
    return redirect(url_for("main.home"))
