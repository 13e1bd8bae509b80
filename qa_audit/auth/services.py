"""Rules for accounts: signing in, throttling, locking, passwords and tokens."""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm.exc import StaleDataError

from qa_audit.auth.models import ApiToken, LoginAttempt, Role, User, hash_token, new_login_id
from qa_audit.auth.passwords import (
    dummy_hash,
    hash_password,
    password_problem,
    verify_password,
)
from qa_audit.errors import Conflict, InvalidInput, NotAllowed
from qa_audit.extensions import db
from qa_audit.validation import check_text
from qa_audit.types import unicode_lower, utcnow

NAME_MAX = 200
EMAIL_MAX = 320


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


class SignIn(enum.Enum):
    OK = "ok"
    INVALID = "invalid"
    THROTTLED = "throttled"
    LOCKED = "locked"


@dataclass
class SignInResult:
    outcome: SignIn
    user: User | None = None


def _failures_since(column, value, since) -> int:
    return db.session.scalar(
        select(func.count(LoginAttempt.id)).where(
            column == value, LoginAttempt.succeeded.is_(False), LoginAttempt.at >= since
        )
    )


def _unknown_email_locked(email: str) -> bool:
    """Unknown emails 'lock' after as many failures as real ones, so the message
    shown cannot be used to learn which accounts exist."""
    since = utcnow() - ATTEMPTS_KEPT_FOR
    return _failures_since(LoginAttempt.email, email, since) >= current_app.config["LOGIN_LOCK_AFTER"]


ATTEMPTS_KEPT_FOR = timedelta(days=30)
# Sign-ins to one account saving at the same moment are saved again, one after another,
# on the account as it is now: this many times in all.
SAVE_ATTEMPTS = 5


def _record_attempt(email: str, address: str, succeeded: bool) -> None:
    db.session.add(LoginAttempt(email=email[:EMAIL_MAX], address=address[:64], succeeded=succeeded))
    # Attempts hold emails and addresses: keep them no longer than the lock rule needs.
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.at < utcnow() - ATTEMPTS_KEPT_FOR))


def sign_in(email: str, password: str, address: str) -> SignInResult:
    config = current_app.config
    email = normalise_email(email)
    since = utcnow() - config["LOGIN_WINDOW"]
    limit = config["LOGIN_MAX_FAILURES_IN_WINDOW"]
    if (
        _failures_since(LoginAttempt.email, email, since) >= limit
        or _failures_since(LoginAttempt.address, address, since) >= limit
    ):
        return SignInResult(SignIn.THROTTLED)

    user = db.session.scalar(select(User).where(User.email == email))
    method = config.get("PASSWORD_HASH_METHOD", "scrypt")
    if user is None:
        verify_password(dummy_hash(method), password)
        _record_attempt(email, address, False)
        db.session.commit()
        return SignInResult(SignIn.LOCKED if _unknown_email_locked(email) else SignIn.INVALID)

    if user.locked:
        verify_password(dummy_hash(method), password)
        _record_attempt(email, address, False)
        db.session.commit()
        return SignInResult(SignIn.LOCKED)

    if not user.active:
        verify_password(dummy_hash(method), password)
        _record_attempt(email, address, False)
        db.session.commit()
        return SignInResult(SignIn.LOCKED if _unknown_email_locked(email) else SignIn.INVALID)

    succeeded = verify_password(user.password_hash, password)
    for _attempt in range(SAVE_ATTEMPTS):
        # Other sign-ins to this account wait here for each other, and each counts on the
        # row as the one before left it. A write that changes nothing takes the lock
        # before the read: the row's lock on PostgreSQL, and on SQLite the one writer's
        # lock, which a SELECT ... FOR UPDATE would not take there.
        db.session.execute(
            update(User).where(User.id == user.id).values(failed_logins=User.failed_logins),
            execution_options={"synchronize_session": False},
        )
        db.session.refresh(user)
        if not succeeded:
            user.failed_logins += 1
            if user.failed_logins >= config["LOGIN_LOCK_AFTER"] and user.locked_at is None:
                user.locked_at = utcnow()
            outcome = SignIn.LOCKED if user.locked else SignIn.INVALID
        elif user.locked or not user.active:
            # Locked or deactivated by the attempts or the admin that saved just before.
            outcome = SignIn.LOCKED
        else:
            if user.failed_logins:
                user.failed_logins = 0
            user.last_login_at = utcnow()
            outcome = SignIn.OK
        try:
            _record_attempt(email, address, outcome is SignIn.OK)  # its delete flushes the account's change
            db.session.commit()
        except StaleDataError:
            # Another sign-in to this account saved first (two devices at once, or
            # guesses sent in parallel): count this one on the account as it is now, so
            # that every failure counts towards the lock and nobody gets a conflict.
            db.session.rollback()
            continue
        return SignInResult(outcome, user if outcome is SignIn.OK else None)
    raise Conflict("Too many people are signing in to this account at once. Wait a moment, then try again.")


def people_matching(text: str):
    """People whose name or email holds the text, whatever its case: how a list of
    thousands of people is searched instead of scrolled."""
    needle = text.strip().lower()
    return or_(
        unicode_lower(User.name).contains(needle, autoescape=True),
        unicode_lower(User.email).contains(needle, autoescape=True),
    )


def _check_user_fields(email: str, name: str, role, password: str | None, *, user: User | None = None):
    errors: dict[str, list[str]] = {}
    if not email:
        errors["email"] = ["Enter an email address"]
    elif len(email) > EMAIL_MAX or " " in email or "@" not in email:
        errors["email"] = ["Enter an email address in the correct format, like name@example.gov.uk"]
    else:
        clash = db.session.scalar(select(User.id).where(User.email == email))
        if clash is not None and (user is None or clash != user.id):
            errors["email"] = ["A user with this email address already exists"]
    name = check_text(errors, "name", name, label="Name", max_length=NAME_MAX, required=True, missing_message="Enter a name") or ""
    if role is None:
        errors["role"] = ["Select a role"]
    if password is not None:
        problem = password_problem(password, email=email, name=name)
        if problem:
            errors["password"] = [problem]
    if errors:
        raise InvalidInput(errors)


def _role(value) -> Role | None:
    if isinstance(value, Role):
        return value
    try:
        return Role(value)
    except ValueError:
        return None


def create_user(email: str, name: str, role, password: str) -> User:
    email = normalise_email(email)
    role_value = _role(role)
    _check_user_fields(email, name, role_value, password)
    user = User(
        email=email,
        name=name.strip(),
        role=role_value,
        password_hash=hash_password(password),
        active=True,
        failed_logins=0,
    )
    db.session.add(user)
    db.session.commit()
    return user


def update_user(user: User, *, name: str, role, acting: User, version: int | None = None) -> User:
    if version is not None and version != user.version:
        raise Conflict("Someone else changed this user while you were editing. Your changes have not been saved: check the user, then try again.")
    role_value = _role(role)
    _check_user_fields(user.email, name, role_value, None, user=user)
    if user.id == acting.id and role_value != user.role:
        raise InvalidInput(role="You cannot change your own role")
    user.name = name.strip()
    user.role = role_value
    db.session.commit()
    return user


def set_active(user: User, active: bool, *, acting: User) -> User:
    if user.id == acting.id and not active:
        raise NotAllowed("You cannot deactivate your own account")
    user.active = active
    if not active:
        user.login_id = new_login_id()  # ends their sessions
        for token in user.tokens:
            if not token.revoked:
                token.revoked_at = utcnow()
    db.session.commit()
    return user


def end_sessions(user: User) -> None:
    user.login_id = new_login_id()
    db.session.commit()


def unlock(user: User) -> User:
    user.locked_at = None
    user.failed_logins = 0
    db.session.commit()
    return user


def reset_password(user: User, password: str) -> User:
    problem = password_problem(password, email=user.email, name=user.name)
    if problem:
        raise InvalidInput(password=problem)
    user.password_hash = hash_password(password)
    user.login_id = new_login_id()
    user.locked_at = None
    user.failed_logins = 0
    db.session.commit()
    return user


def create_token(user: User, name: str) -> tuple[str, ApiToken]:
    """Make a token; the plain value is returned once and never stored."""
    errors: dict[str, list[str]] = {}
    name = check_text(errors, "name", name, label="Name", max_length=NAME_MAX, required=True, missing_message="Enter a name for the token")
    if errors:
        raise InvalidInput(errors)
    plain = "qa_" + secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name, token_hash=hash_token(plain), prefix=plain[:10])
    db.session.add(token)
    db.session.commit()
    return plain, token


def revoke_token(token: ApiToken) -> None:
    if not token.revoked:
        token.revoked_at = utcnow()
        db.session.commit()


def user_for_token(plain: str) -> User | None:
    if not plain:
        return None
    token = db.session.scalar(
        select(ApiToken).where(ApiToken.token_hash == hash_token(plain), ApiToken.revoked_at.is_(None))
    )
    if token is None or not token.user.active:
        return None
    now = utcnow()
    # Write last-used at most once a minute: a busy integration must not write per call.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        token.last_used_at = now
        db.session.commit()
    return token.user
