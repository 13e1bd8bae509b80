"""Column types shared by the domain models, and SQL functions that behave alike on
SQLite and PostgreSQL."""

from __future__ import annotations

import enum
from datetime import datetime, timezone

from sqlalchemy import DateTime, Enum, String, TypeDecorator
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import GenericFunction


def enum_type(enum_class: type[enum.Enum], name: str) -> Enum:
    """An enum stored as its string value, guarded by a named check constraint."""
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        validate_strings=True,
        length=max(len(m.value) for m in enum_class),
        values_callable=lambda members: [m.value for m in members],
    )


class UTCDateTime(TypeDecorator):
    """Timestamps are stored in UTC and always come back timezone-aware.

    SQLite has no timezone type, so without this a value read back would be naive
    and comparisons with ``utcnow()`` would fail on one database but not the other.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                value = value.replace(tzinfo=timezone.utc)
            value = value.astimezone(timezone.utc)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class unicode_lower(GenericFunction):
    """lower() for every letter: SQLite's own lower() changes only A to Z (so "É" would
    not match "é"); qa_audit registers this function on each SQLite connection with
    Python's str.lower, and on PostgreSQL it is lower(), which follows the database's
    collation."""

    type = String()
    name = "unicode_lower"
    inherit_cache = True


@compiles(unicode_lower, "postgresql")
def _unicode_lower_on_postgresql(element, compiler, **kw):
    return f"lower({compiler.process(element.clauses, **kw)})"


def sqlite_unicode_lower(value):
    return value.lower() if isinstance(value, str) else value
