"""Home, health check and the pages every GOV.UK service has."""

from __future__ import annotations

from flask import jsonify, render_template
from flask_login import current_user, login_required
from sqlalchemy import case, func, select, text
from sqlalchemy.orm import joinedload

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
    this_quarter = programme.ProgrammeFilters(scheduled_from=quarter.starts_on, scheduled_to=quarter.ends_on)
    counts = programme.quarter_counts(programme.filtered(this_quarter), [quarter], today)[quarter]
    overdue_to_start = []
    if can_schedule_audits(current_user):
        overdue_to_start = db.session.scalars(
            programme.with_row_data(
                select(Audit)
                .where(Audit.status == AuditStatus.PLANNED, Audit.scheduled_for < today)
                .order_by(Audit.scheduled_for)
                .limit(10)
            )
        ).all()
    mine = db.session.scalars(
        programme.with_row_data(
            programme.my_audits(current_user).where(Audit.status.in_([AuditStatus.PLANNED, AuditStatus.IN_PROGRESS])).limit(5)
        )
    ).all()
    actions = _action_panels(today)
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
        **actions,
    )


def _action_panels(today):
    """What each role answers for: everyone their own actions (overdue first); heads
    of service, QA leads and admins what awaits their sign-off; heads of service their
    plans' BRAG and what is overdue in their charge; QA leads every concern still
    unacknowledged. Counts are aggregated in SQL."""
    from qa_audit.actions import services as action_rules
    from qa_audit.actions.models import OPEN, Action
    from qa_audit.auth.permissions import can_raise_actions
    from qa_audit.plans import tracker

    mine = action_rules.actions_query({"owner_id": current_user.id}, today)
    my_figures = action_rules.summarise(
        db.session.execute(mine.with_only_columns(*action_rules.count_columns(today)).order_by(None)).one()
    )
    my_actions = db.session.scalars(
        mine.where(Action.status.in_(OPEN))
        .order_by(action_rules.overdue_clause(today).desc(), Action.due_date, Action.id)
        .limit(5)
    ).all()
    panels = {"my_figures": my_figures, "my_actions": my_actions, "brag_of": action_rules.brag_of}
    if can_raise_actions(current_user):
        panels["awaiting_count"] = action_rules.count_awaiting_sign_off(current_user, today)
    if current_user.role is Role.HEAD_OF_SERVICE:
        panels["my_plans"] = tracker.plans_overview(today, owner_id=current_user.id)
        panels["overdue_in_charge"] = action_rules.count_within_charge_of(action_rules.actions_query({"overdue": True}, today), current_user)
    if can_schedule_audits(current_user):
        panels["unacknowledged"] = finding_services.unacknowledged_concerns()
    return panels


def _open_concern_alerts() -> list[tuple]:
    """(alert, finding) for each concern the user has not acknowledged yet, newest
    first, with each finding's audit and service loaded in the same few queries
    however many alerts there are (one query for the findings with them)."""
    alerts = finding_services.open_alerts(current_user)
    if not alerts:
        return []
    findings = {
        finding.id: finding
        for finding in db.session.scalars(
            select(Finding)
            .where(Finding.id.in_({alert.finding_id for alert in alerts}))
            .options(joinedload(Finding.audit).joinedload(Audit.service))
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
