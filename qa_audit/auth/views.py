"""Signing in and out, and a user's own API tokens."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from qa_audit.auth import bp, services
from qa_audit.auth.forms import SignInForm, TokenForm
from qa_audit.auth.models import ApiToken
from qa_audit.auth.permissions import can_manage_token, public
from qa_audit.auth.services import SignIn
from qa_audit.errors import InvalidInput
from qa_audit.extensions import db, limiter
from qa_audit.forms import apply_errors
from qa_audit.types import utcnow

SIGN_IN_MESSAGES = {
    SignIn.INVALID: "Enter a correct email address and password",
    SignIn.LOCKED: (
        "This account is locked after too many attempts to sign in. "
        "Ask your administrator to unlock it"
    ),
    SignIn.THROTTLED: "Too many attempts to sign in. Wait 15 minutes, then try again",
}


def safe_next(target: str | None) -> str:
    """Only same-site paths: an attacker's link must not bounce users elsewhere."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//") and "\\" not in target:
            return target
    return url_for("main.home")


def _login_rate_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/sign-in", methods=["GET", "POST"])
@public
@limiter.limit(_login_rate_limit, methods=["POST"])
def sign_in():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = SignInForm()
    status = 200
    if form.validate_on_submit():
        result = services.sign_in(form.email.data, form.password.data, request.remote_addr or "unknown")
        if result.outcome is SignIn.OK:
            # Rotate the session so a session id planted before sign-in is worthless.
            session.clear()
            login_user(result.user)
            session.permanent = True
            session["last_seen"] = utcnow().timestamp()
            return redirect(safe_next(request.args.get("next")))
        apply_errors(form, InvalidInput(email=SIGN_IN_MESSAGES[result.outcome]))
        if result.outcome is SignIn.THROTTLED:
            status = 429
    return render_template("auth/sign_in.html", form=form), status


@bp.route("/sign-out", methods=["POST"])
@login_required
def sign_out():
    # A signed cookie copied before sign-out would otherwise still work: changing
    # the user's login id makes every earlier session cookie worthless.
    services.end_sessions(current_user)
    logout_user()
    session.clear()
    flash("You have signed out", "success")
    return redirect(url_for("auth.sign_in"))


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def list_tokens():
    form = TokenForm()
    new_token = None
    if form.validate_on_submit():
        try:
            new_token, _ = services.create_token(current_user, form.name.data)
        except InvalidInput as error:
            apply_errors(form, error)
    tokens = db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == current_user.id).order_by(ApiToken.id.desc())
    ).all()
    return render_template("auth/tokens.html", form=form, tokens=tokens, new_token=new_token)


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int):
    token = db.get_or_404(ApiToken, token_id)
    if not can_manage_token(current_user, token):
        abort(403)
    services.revoke_token(token)
    flash(f"Token ‘{token.name}’ revoked", "success")
    return redirect(url_for("auth.list_tokens"))
