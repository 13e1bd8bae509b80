"""Finding a record for a page, or answering 404."""

from __future__ import annotations

from sqlalchemy import select

from qa_audit.extensions import db


def get_or_404(model, ident: int, *options):
    """The record with this id, loaded with ``options`` (eager loads for the page).
    Ids too big for the database never reach here: the app answers them with 404."""
    return db.one_or_404(select(model).where(model.id == ident).options(*options))
