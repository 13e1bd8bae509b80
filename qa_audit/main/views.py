"""Home, health check and the pages every GOV.UK service has."""

from __future__ import annotations

from flask import jsonify, render_template
from flask_login import current_user, login_required
from sqlalchemy import case, func, select, text

from qa_audit.auth.models import Role, User
from qa_audit.auth.permissions import public
from qa_audit.extensions import db
from qa_audit.main import bp


@bp.route("/")
@login_required
def home():
    account_counts = None
    if current_user.role is Role.ADMIN:
        account_counts = db.session.execute(
            select(
                func.count(User.id).label("total"),
                func.count(case((User.active.is_(True), 1))).label("active"),
                func.count(case((User.locked_at.is_not(None), 1))).label("locked"),
            )
        ).one()
    return render_template("main/home.html", account_counts=account_counts)


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
