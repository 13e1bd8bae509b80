"""Accounts: users, their API tokens and the record of sign-in attempts."""

from __future__ import annotations

import enum
import hashlib
import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from qa_audit.extensions import db
from qa_audit.history.tracking import Tracked
from qa_audit.types import UTCDateTime, enum_type, utcnow


class Role(enum.Enum):
    ADMIN = "admin"
    QA_LEAD = "qa_lead"
    AUDITOR = "auditor"
    HEAD_OF_SERVICE = "head_of_service"
    VIEWER = "viewer"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.ADMIN: "Administrator",
    Role.QA_LEAD: "QA lead",
    Role.AUDITOR: "Auditor",
    Role.HEAD_OF_SERVICE: "Head of service",
    Role.VIEWER: "Viewer",
}


def new_login_id() -> str:
    return secrets.token_urlsafe(24)


class User(Tracked, UserMixin, db.Model):
    __tablename__ = "users"
    __history_entity__ = "user"
    __history_redact__ = frozenset({"password_hash", "login_id", "calendar_token_hash"})
    __history_ignore__ = frozenset({"last_login_at"})

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(enum_type(Role, "role"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Changes whenever the password is reset or the account deactivated, which
    # ends every session signed in with the old value (Flask-Login's get_id).
    login_id: Mapped[str] = mapped_column(String(64), unique=True, default=new_login_id)
    # The secret in the user's iCalendar feed URL, hashed; None when they have no feed.
    calendar_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user", order_by="ApiToken.id")

    def get_id(self) -> str:
        return self.login_id

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def locked(self) -> bool:
        return self.locked_at is not None

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role.value}>"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(Tracked, db.Model):
    """A bearer token for the API. Only a hash is kept; the token is shown once."""

    __tablename__ = "api_tokens"
    __history_entity__ = "api_token"
    __history_redact__ = frozenset({"token_hash"})
    __history_ignore__ = frozenset({"last_used_at"})

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(back_populates="tokens")

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


class LoginAttempt(db.Model):
    """Every sign-in attempt, so that throttling is shared by every worker process."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    succeeded: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
