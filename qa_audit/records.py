"""Finding a record for a page (or answering 404), and checking the version a change
was made on."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from qa_audit.errors import Conflict
from qa_audit.extensions import db


def get_or_404(model, ident: int, *options):
    """The record with this id, loaded with ``options`` (eager loads for the page).
    Ids too big for the database never reach here: the app answers them with 404."""
    return db.one_or_404(select(model).where(model.id == ident).options(*options))


def check_version(record, version: Any, message: str) -> None:
    """Optimistic locking: a change made on another version than the record's now (or on
    no version, or on something that is not a number) is refused with Conflict."""
    try:
        same = version is not None and int(version) == record.version
    except (TypeError, ValueError):
        same = False
    if not same:
        raise Conflict(message)
