"""The audit report: one page per audit (and per part of a targeted visit), and the
same report as a PDF. Every signed-in user may read any audit's report: boards,
partners and inspectors (viewers) are who it is for."""

from __future__ import annotations

import re
import unicodedata

from flask import Response, abort, render_template, request
from flask_login import current_user

from qa_audit.actions.services import brag_of
from qa_audit.audits.models import Agency
from qa_audit.auth.permissions import can_view_audit
from qa_audit.recording.models import Judgement
from qa_audit.reports import bp
from qa_audit.reports.services import AuditReport, report_of
from qa_audit.types import utcnow


def _report_or_404(audit_id: int) -> AuditReport:
    report = report_of(audit_id)
    if report is None:
        abort(404)
    if not can_view_audit(current_user, report.audit):
        abort(403)
    return report


def _render(report: AuditReport, *, printing: bool) -> str:
    return render_template(
        "reports/audit_report.html",
        report=report,
        audit=report.audit,
        printing=printing,
        produced_at=utcnow(),
        agency_labels={agency.value: agency.label for agency in Agency},
        judgement_labels={judgement.value: judgement.label for judgement in Judgement},
    )


def pdf_filename(title: str) -> str:
    """The audit's title as a safe file name: ASCII letters and digits joined by hyphens."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:80].rstrip("-")
    return f"{slug or 'audit'}-report.pdf"


@bp.route("/audits/<int:audit_id>/report")
def show_report(audit_id: int):
    return _render(_report_or_404(audit_id), printing=False)


@bp.route("/audits/<int:audit_id>/report.pdf")
def download_report_pdf(audit_id: int):
    report = _report_or_404(audit_id)
    from qa_audit.reports.pdf import render_pdf  # WeasyPrint loads its libraries on import: only when a PDF is asked for

    pdf = render_pdf(_render(report, printing=True))
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{pdf_filename(report.audit.title)}"',
            "Cache-Control": "no-store",
        },
    )


# The quarterly board report ----------------------------------------------------------


def _board_report_or_404(plan_id: int):
    from qa_audit import dates
    from qa_audit.reports import board

    today = dates.today()
    quarter = board.parse_quarter(request.args.get("quarter"), today)
    if quarter is None:
        abort(404)
    report = board.board_report(plan_id, quarter, today)
    if report is None:
        abort(404)
    return report


def _render_board(report, *, printing: bool) -> str:
    from qa_audit.reports import board

    return render_template(
        "reports/board_report.html",
        report=report,
        plan=report.plan,
        printing=printing,
        produced_at=utcnow(),
        quarters=board.quarters_of_plan(report.plan, report.today),
        quarter_key=board.quarter_key,
        brag_of=brag_of,
    )


@bp.route("/plans/<int:plan_id>/board-report")
def show_board_report(plan_id: int):
    return _render_board(_board_report_or_404(plan_id), printing=False)


@bp.route("/plans/<int:plan_id>/board-report.pdf")
def download_board_report_pdf(plan_id: int):
    report = _board_report_or_404(plan_id)
    from qa_audit.reports.pdf import render_pdf

    pdf = render_pdf(_render_board(report, printing=True))
    name = pdf_filename(f"{report.plan.title} {report.quarter.label}").replace("-report.pdf", "-board-report.pdf")
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )
