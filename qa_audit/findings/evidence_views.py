"""Evidence file pages: add a file to a finding, download one, remove one.

The rules are in qa_audit.findings.evidence. Adding and removing are for those who
may record on the audit (its auditors, a QA lead), while it is in progress;
downloading is for anyone who may see the audit. NotAllowed from a service is the
app's 403 page.
"""

from __future__ import annotations

import os

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import GovFileInput, GovSubmitInput
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import NotFound, RequestEntityTooLarge
from wtforms import SubmitField

from qa_audit.audits.models import Audit
from qa_audit.auth.permissions import can_view_audit
from qa_audit.errors import Conflict, InvalidInput
from qa_audit.extensions import db
from qa_audit.findings import bp
from qa_audit.findings import evidence as evidence_store
from qa_audit.findings.models import EvidenceFile, Finding
from qa_audit.findings.services import check_in_progress, check_recording_allowed
from qa_audit.forms import ConfirmForm, apply_errors
from qa_audit.records import get_or_404

UPLOAD_PAGE = "findings.add_evidence"


class EvidenceForm(FlaskForm):
    file = FileField(
        "Upload a file",
        description="A PDF, Word document, Excel spreadsheet, PNG or JPEG",
        widget=GovFileInput(),
    )
    submit = SubmitField("Upload file", widget=GovSubmitInput())


@bp.app_template_filter("file_size")
def file_size(size: int) -> str:
    """12 KB, 1.4 MB: kept on one line (a no-break space) in a narrow column."""
    return evidence_store.size_label(size).replace(" ", "\u00a0")


@bp.app_template_filter("file_type")
def file_type(content_type: str) -> str:
    return evidence_store.type_label(content_type)


@bp.errorhandler(RequestEntityTooLarge)
def upload_too_large(error):
    """Over the app's request limit the body is never read: say so on the upload
    page rather than showing an error page."""
    if request.endpoint == UPLOAD_PAGE:
        flash(f"{evidence_store.too_big_message()}. Nothing has been saved.", "error")
        return redirect(request.path, code=303)
    from qa_audit.main.errors import handle_http_exception

    return handle_http_exception(error)


def _finding(finding_id: int) -> Finding:
    return get_or_404(
        Finding,
        finding_id,
        selectinload(Finding.audit).selectinload(Audit.auditors),
        selectinload(Finding.audit).selectinload(Audit.service),
    )


def _evidence(evidence_id: int) -> EvidenceFile:
    return get_or_404(
        EvidenceFile,
        evidence_id,
        selectinload(EvidenceFile.finding).selectinload(Finding.audit).selectinload(Audit.auditors),
    )


def _locked(audit: Audit, finding: Finding):
    """The audit is not in progress (a completed audit is locked): say so and go back."""
    try:
        check_in_progress(audit)
    except Conflict as error:
        flash(error.message, "error")
        return redirect(url_for("findings.show_finding", finding_id=finding.id))
    return None


@bp.route("/findings/<int:finding_id>/evidence/new", methods=["GET", "POST"])
def add_evidence(finding_id: int):
    finding = _finding(finding_id)
    audit = finding.audit
    check_recording_allowed(audit, current_user)
    if locked := _locked(audit, finding):
        return locked
    form = EvidenceForm()
    if form.validate_on_submit():
        try:
            evidence = evidence_store.add_evidence(finding, form.file.data, current_user)
        except InvalidInput as error:
            db.session.rollback()
            apply_errors(form, error)
        except evidence_store.EvidenceUnavailable as error:
            db.session.rollback()
            apply_errors(form, InvalidInput(file=error.message))
        except Conflict as error:
            # The audit was completed while they chose the file.
            db.session.rollback()
            flash(error.message, "error")
            return redirect(url_for("findings.show_finding", finding_id=finding.id))
        else:
            flash(f"‘{evidence.filename}’ added to the {finding.kind.label.lower()}", "success")
            return redirect(url_for("findings.show_finding", finding_id=finding.id))
    return render_template(
        "findings/evidence_new.html",
        form=form,
        finding=finding,
        audit=audit,
        accept=evidence_store.ACCEPT_ATTRIBUTE,
        limit=evidence_store.limit_label(),
    )


@bp.route("/evidence/<int:evidence_id>")
def download_evidence(evidence_id: int):
    evidence = _evidence(evidence_id)
    if not can_view_audit(current_user, evidence.finding.audit):
        abort(403)
    try:
        stored = evidence_store.open_evidence(evidence)
    except evidence_store.EvidenceUnavailable as error:
        return render_template("errors/generic.html", error=NotFound(description=error.message)), 404
    response = send_file(
        stored,
        mimetype=evidence.content_type,
        as_attachment=True,
        download_name=evidence.filename,
        conditional=False,
        etag=False,
        last_modified=None,
        max_age=None,
    )
    response.content_length = os.fstat(stored.fileno()).st_size
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/evidence/<int:evidence_id>/remove", methods=["GET", "POST"])
def remove_evidence(evidence_id: int):
    evidence = _evidence(evidence_id)
    finding = evidence.finding
    audit = finding.audit
    check_recording_allowed(audit, current_user)
    if locked := _locked(audit, finding):
        return locked
    form = ConfirmForm()
    if form.validate_on_submit():
        name = evidence.filename
        try:
            evidence_store.remove_evidence(evidence, current_user)
        except Conflict as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            flash(f"‘{name}’ removed", "success")
        return redirect(url_for("findings.show_finding", finding_id=finding.id))
    return render_template("findings/evidence_remove.html", form=form, evidence=evidence, finding=finding, audit=audit, uploaded_by=evidence.uploaded_by)
