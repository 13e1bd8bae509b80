"""Errors raised by services; HTML views and the API turn them into messages."""

from __future__ import annotations


class InvalidInput(Exception):
    """Input that breaks a rule: each field named with GOV.UK error messages."""

    def __init__(self, errors: dict[str, list[str]] | None = None, **fields: str):
        self.errors = dict(errors or {})
        for field, message in fields.items():
            self.errors.setdefault(field, []).append(message)
        super().__init__(self.errors)


class Conflict(Exception):
    """The request conflicts with the record's state: a stale version, a locked audit."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


class NotAllowed(Exception):
    """The user's role or relationship to the record does not allow this."""
