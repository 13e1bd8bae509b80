"""Schemas and helpers shared by every API resource."""

from __future__ import annotations

import enum
import re
from functools import wraps
from typing import Callable

from flask import abort, g
from flask_login import current_user
from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load, validate
from sqlalchemy import func, select

from qa_audit.audits.models import Audit
from qa_audit.auth.permissions import can_record_on
from qa_audit.extensions import db
from qa_audit.validation import (
    CONTROL,
    CONTROL_ONE_LINE,
    MAX_ID,
    SUMMARY_MAX,
    TEXT_MAX,
    TITLE_MAX,
)

MAX_PAGE_SIZE = 200


class NoControlCharacters(validate.Validator):
    """Refuses control characters (tab, CR and LF are allowed in multi-line text). The
    OpenAPI shows what is allowed as the field's ``pattern`` (apispec reads ``regex``)."""

    ALLOWED = re.compile(r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$")
    ALLOWED_ONE_LINE = re.compile(r"^[^\x00-\x1f\x7f]*$")

    def __init__(self, multiline: bool):
        self.pattern = CONTROL if multiline else CONTROL_ONE_LINE
        self.regex = self.ALLOWED if multiline else self.ALLOWED_ONE_LINE

    def __call__(self, value):
        if value is not None and self.pattern.search(value):
            raise ValidationError("Must not contain control characters.")
        return value


def Title(**kwargs) -> fields.String:
    """A one-line name or title: 1 to 200 characters."""
    return fields.String(
        validate=[validate.Length(min=1, max=TITLE_MAX), NoControlCharacters(multiline=False)], **kwargs
    )


def Summary(**kwargs) -> fields.String:
    return fields.String(validate=[validate.Length(max=SUMMARY_MAX), NoControlCharacters(multiline=True)], **kwargs)


def FreeText(**kwargs) -> fields.String:
    return fields.String(validate=[validate.Length(max=TEXT_MAX), NoControlCharacters(multiline=True)], **kwargs)


def Id(**kwargs) -> fields.Integer:
    """A record id in a body or query: a positive integer the database can hold.
    In JSON bodies pass ``strict=True`` so that 1.5 or "1" is not taken for 1."""
    return fields.Integer(validate=validate.Range(min=1, max=MAX_ID), **kwargs)


class EnumValue(fields.String):
    """An enum given and shown as its value ("dip_sample"); an unknown value is a 422
    at the field, and the OpenAPI description lists the allowed values."""

    def __init__(self, enum_class: type[enum.Enum], **kwargs):
        self.enum_class = enum_class
        validators = [validate.OneOf([member.value for member in enum_class])]
        super().__init__(validate=validators, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        if isinstance(value, enum.Enum):
            value = value.value
        return super()._serialize(value, attr, obj, **kwargs)


def _messages(errors, prefix: str = "") -> list[str]:
    if isinstance(errors, dict):
        found = []
        for key, value in errors.items():
            label = f"Item {key + 1}" if isinstance(key, int) else str(key)
            found += _messages(value, f"{prefix}{label}: ")
        return found
    if isinstance(errors, (list, tuple)):
        return [m for item in errors for m in _messages(item, prefix)]
    return [f"{prefix}{errors}"]


class BaseSchema(Schema):
    class Meta:
        unknown = EXCLUDE
        ordered = True

    def handle_error(self, error, data, **kwargs):
        """API.md: each bad field maps to a list of messages, so errors inside a list
        ({"agencies": {0: [...]}}) become messages naming the item."""
        if isinstance(error.messages, dict):
            error.messages = {field: _messages(messages) for field, messages in error.messages.items()}


class PageArgs(BaseSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_ID))
    page_size = fields.Integer(load_default=50, validate=validate.Range(min=1))


def page_schema(item_schema: type[Schema]) -> type[Schema]:
    return type(
        f"{item_schema.__name__.removesuffix('Schema')}PageSchema",
        (BaseSchema,),
        {
            "items": fields.List(fields.Nested(item_schema)),
            "total": fields.Integer(),
            "page": fields.Integer(),
            "page_size": fields.Integer(),
        },
    )


def paginate(query, args: dict) -> dict:
    """One page of ``query`` and the total, counted in SQL."""
    page = args.get("page", 1)
    page_size = min(args.get("page_size", 50), MAX_PAGE_SIZE)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    items = db.session.scalars(query.limit(page_size).offset((page - 1) * page_size)).all()
    return {"items": items, "total": total, "page": page, "page_size": page_size}


def load(model, argument: str, name: str | None = None) -> Callable:
    """Look up the record named in the path (404 if there is none) and pass it to
    the view as ``name`` (the model's name in snake case by default).

    Put it between ``@bp.route`` and the role check, so a missing record is a 404
    before a 403 (API.md's order: 401, 404, 403, 422, 409). The role check's
    ``allowed_roles`` is kept as ``roles_after_load``, so the route walker in
    tests/test_permissions.py (which probes id 1 with no data) leaves these
    routes to their own tests.
    """
    name = name or re.sub(r"(?<!^)(?=[A-Z])", "_", model.__name__).lower()

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            ident = kwargs.pop(argument)
            record = db.session.get(model, ident) if 0 < ident <= MAX_ID else None
            if record is None:
                abort(404)
            kwargs[name] = record
            return view(*args, **kwargs)

        roles = wrapped.__dict__.pop("allowed_roles", None)
        if roles is not None:
            wrapped.roles_after_load = roles
        wrapped.loads_record = model
        return wrapped

    return decorator


def may_record(name: str):
    """Refuse (403) anyone but a QA lead, an admin or the audit's own auditors (those
    who may record on it or change its status) for the record loaded as ``name`` (the
    audit itself, or a finding or case of it), before the body is read (422) and
    before the audit's state is looked at (409). Put it after ``load``."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            record = kwargs[name]
            audit = record if isinstance(record, Audit) else record.audit
            if not can_record_on(current_user, audit):
                abort(403)
            g.api_audit = audit  # for schemas whose required fields depend on the audit
            return view(*args, **kwargs)

        return wrapped

    return decorator


class QueryBoolean(fields.Boolean):
    """A query-string flag: ``true`` or ``false`` (API.md), nothing else."""

    def __init__(self, **kwargs):
        super().__init__(truthy={"true"}, falsy={"false"}, **kwargs)


class FilterArgs(PageArgs):
    """A list's query: a filter left blank (``?status=&owner_id=``, a form sent as it
    is) means no filter, not a bad value."""

    @pre_load
    def drop_empty(self, data, **kwargs):
        cleaned = {}
        for key in data:
            value = data[key]
            if isinstance(value, list):
                value = [v for v in value if v != ""]
                if value:
                    cleaned[key] = value
            elif value != "":
                cleaned[key] = value
        return cleaned


def Day(**kwargs) -> fields.Date:
    """A calendar date, YYYY-MM-DD; anything else (31/13/2026, 2026-13-31) is a 422 at the field."""
    return fields.Date(error_messages={"invalid": "Must be a real date in the form YYYY-MM-DD, like 2027-01-31."}, **kwargs)
