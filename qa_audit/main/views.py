"""Home, health check and the pages every GOV.UK service has."""

from __future__ import annotations

from flask import jsonify, render_template
from flask_login import current_user, login_required
from sqlalchemy import case, func, select, text
from sqlalchemy.orm import selectinload

from qa_audit.audits import programme
from qa_audit.audits import services as audit_services
from qa_audit.audits.models import Audit, AuditStatus
from qa_audit.auth.models import Role, User
from qa_audit.auth.permissions import can_schedule_audits, public
from qa_audit.extensions import db
from qa_audit.findings import services as finding_services
from qa_audit.findings.models import Finding
from qa_audit.main import bp


@bp.route("/")
@login_required
def home():
    """What each role needs first: safeguarding concerns waiting for the user to
    acknowledge them, this quarter's programme for everyone, what is overdue to
    start for QA leads, and the user's own next audits."""
    concern_alerts = _open_concern_alerts()
    today = audit_services.today()
    quarter = programme.quarter_of(today)
    counts = programme.quarter_counts(programme.filtered(programme.ProgrammeFilters()), [quarter], today)[quarter]
    overdue_to_start = []
    if can_schedule_audits(current_user):
        overdue_to_start = db.session.scalars(
            programme.with_list_data(
                select(Audit)
                .where(Audit.status == AuditStatus.PLANNED, Audit.scheduled_for < today)
                .order_by(Audit.scheduled_for)
                .limit(10)
            )
        ).all()
    mine = db.session.scalars(
        programme.with_list_data(
            programme.my_audits(current_user).where(Audit.status.in_([AuditStatus.PLANNED, AuditStatus.IN_PROGRESS])).limit(5)
        )
    ).all()
    account_counts = None
    if current_user.role is Role.ADMIN:
        account_counts = db.session.execute(
            select(
                func.count(User.id).label("total"),
                func.count(case((User.active.is_(True), 1))).label("active"),
                func.count(case((User.locked_at.is_not(None), 1))).label("locked"),
            )
        ).one()
    return render_template(
        "main/home.html",
        concern_alerts=concern_alerts,
        account_counts=account_counts,
        quarter=quarter,
        counts=counts,
        overdue_to_start=overdue_to_start,
        mine=mine,
        today=today,
        next_step=programme.next_step,
    )


def _open_concern_alerts() -> list[tuple]:
    """(alert, finding) for each concern the user has not acknowledged yet, newest
    first, with each finding's audit and service loaded in the same few queries
    however many alerts there are."""
    alerts = finding_services.open_alerts(current_user)
    if not alerts:
        return []
    findings = {
        finding.id: finding
        for finding in db.session.scalars(
            select(Finding)
            .where(Finding.id.in_({alert.finding_id for alert in alerts}))
            .options(selectinload(Finding.audit).selectinload(Audit.service))
        )
    }
    return [(alert, findings[alert.finding_id]) for alert in alerts]


@bp.route("/healthz")
@public
def healthz():
    db.session.execute(text("SELECT 1"))
    return jsonify(status="ok")


@bp.route("/accessibility")
@public
def accessibility():
    return render_template("main/accessibility.html")


@bp.route("/cookies")
@public
def cookies():
    return render_template("main/cookies.html")
