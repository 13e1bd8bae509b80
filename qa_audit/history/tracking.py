"""Record every insert, update and delete of a Tracked model in the history table.

One listener on SQLAlchemy's session does this for every domain model, so a new
model gets its history by inheriting ``Tracked`` and naming its entity; services
never write history by hand and cannot forget to.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import decimal
import enum
from typing import Any

from flask import g, has_app_context
from sqlalchemy import event, inspect, insert
from sqlalchemy.orm import Session

from qa_audit.types import utcnow

REDACTED = "[redacted]"

# Who is acting when there is no signed-in user (a CLI command, a scheduled job).
_actor_override: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "history_actor", default=None
)


class Tracked:
    """Mixin: the model's writes are recorded in the history.

    ``__history_entity__`` names it (API.md's entity names); ``__history_redact__``
    lists fields whose change is recorded without the values; ``__history_ignore__``
    fields whose change alone is not worth an entry (e.g. a last-seen timestamp).
    """

    __history_entity__: str
    __history_redact__: frozenset[str] = frozenset()
    __history_ignore__: frozenset[str] = frozenset({"version"})
    # Collections whose membership is part of the record: name -> how to show a member.
    __history_collections__: dict[str, Any] = {}


@event.listens_for(Tracked, "mapper_configured", propagate=True)
def _load_old_values(mapper, cls) -> None:
    """Ask SQLAlchemy to load a column's old value before it is replaced, even on
    an expired object (the usual case after a commit); otherwise the history
    would show [None, new] for a change."""
    for attr in mapper.column_attrs:
        event.listen(getattr(cls, attr.key), "set", _keep_old_value, active_history=True)


def _keep_old_value(target, value, oldvalue, initiator):
    return value


@contextlib.contextmanager
def acting_as(user_id: int | None):
    """Attribute the writes inside to ``user_id`` (for CLI commands and jobs)."""
    token = _actor_override.set(user_id)
    try:
        yield
    finally:
        _actor_override.reset(token)


def _actor_id() -> int | None:
    override = _actor_override.get()
    if override is not None:
        return override
    if has_app_context():
        # Read Flask-Login's cached user rather than current_user: loading a user
        # here would query the database in the middle of a flush.
        user = g.get("_login_user")
        if user is not None and getattr(user, "is_authenticated", False):
            return inspect(user).identity[0] if inspect(user).identity else None
    return None


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _columns(obj: Tracked):
    mapper = inspect(obj).mapper
    return [attr for attr in mapper.column_attrs if attr.key != "id"]


def _snapshot(obj: Tracked, *, as_before: bool) -> dict[str, list[Any]]:
    changes: dict[str, list[Any]] = {}
    for attr in _columns(obj):
        if attr.key in ("version",):
            continue
        value = getattr(obj, attr.key)
        if value is None:
            continue
        shown = REDACTED if attr.key in obj.__history_redact__ else _plain(value)
        changes[attr.key] = [shown, None] if as_before else [None, shown]
    for key, show in obj.__history_collections__.items():
        members = sorted(_plain(show(m)) for m in getattr(obj, key))
        if members:
            changes[key] = [members, None] if as_before else [None, members]
    return changes


def _diff(obj: Tracked) -> dict[str, list[Any]]:
    state = inspect(obj)
    changes: dict[str, list[Any]] = {}
    for attr in _columns(obj):
        key = attr.key
        if key in obj.__history_ignore__:
            continue
        hist = state.attrs[key].history
        if not hist.has_changes():
            continue
        before = hist.deleted[0] if hist.deleted else None
        after = hist.added[0] if hist.added else None
        if before == after:
            continue
        if key in obj.__history_redact__:
            changes[key] = [REDACTED, REDACTED]
        else:
            changes[key] = [_plain(before), _plain(after)]
    for key, show in obj.__history_collections__.items():
        hist = state.attrs[key].history
        if not (hist.added or hist.deleted):
            continue
        before = sorted(_plain(show(m)) for m in list(hist.unchanged) + list(hist.deleted))
        after = sorted(_plain(show(m)) for m in list(hist.unchanged) + list(hist.added))
        if before != after:
            changes[key] = [before, after]
    return changes


def _record(session: Session, flush_context) -> None:
    rows = []
    at = utcnow()
    actor = None
    for event_name, objects in (
        ("create", session.new),
        ("update", session.dirty),
        ("delete", session.deleted),
    ):
        for obj in objects:
            if not isinstance(obj, Tracked):
                continue
            if event_name == "create":
                changes = _snapshot(obj, as_before=False)
            elif event_name == "delete":
                changes = _snapshot(obj, as_before=True)
            else:
                if not session.is_modified(obj, include_collections=bool(obj.__history_collections__)):
                    continue
                changes = _diff(obj)
                if not changes:
                    continue
            if actor is None:
                actor = _actor_id()
            rows.append(
                {
                    "at": at,
                    "user_id": actor,
                    "entity": obj.__history_entity__,
                    "entity_id": inspect(obj).mapper.primary_key_from_instance(obj)[0],
                    "event": event_name,
                    "changes": changes,
                }
            )
    if rows:
        from qa_audit.history.models import HistoryEntry

        session.connection().execute(insert(HistoryEntry), rows)


def _refuse_history_changes(session: Session, flush_context, instances) -> None:
    from qa_audit.history.models import HistoryEntry

    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, HistoryEntry):
            raise PermissionError("History is append-only: entries are never changed or deleted.")


def install() -> None:
    """Attach the listeners to every session (idempotent)."""
    if not event.contains(Session, "after_flush", _record):
        event.listen(Session, "after_flush", _record)
        event.listen(Session, "before_flush", _refuse_history_changes)
