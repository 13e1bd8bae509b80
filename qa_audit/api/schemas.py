"""Schemas and helpers shared by every API resource."""

from __future__ import annotations

import re

from flask import abort
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate
from sqlalchemy import func, select

from qa_audit.extensions import db

MAX_PAGE_SIZE = 200

# Control characters other than tab, LF and CR, and unpaired surrogates.
_BAD_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_BAD_LINE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")


class NoControlCharacters(validate.Validator):
    def __init__(self, multiline: bool):
        self.pattern = _BAD_TEXT if multiline else _BAD_LINE

    def __call__(self, value):
        if value is not None and self.pattern.search(value):
            raise ValidationError("Must not contain control characters.")
        return value


def Title(**kwargs) -> fields.String:
    """A one-line name or title: 1 to 200 characters."""
    return fields.String(
        validate=[validate.Length(min=1, max=200), NoControlCharacters(multiline=False)], **kwargs
    )


def Summary(**kwargs) -> fields.String:
    return fields.String(validate=[validate.Length(max=2000), NoControlCharacters(multiline=True)], **kwargs)


def FreeText(**kwargs) -> fields.String:
    return fields.String(validate=[validate.Length(max=10000), NoControlCharacters(multiline=True)], **kwargs)


class BaseSchema(Schema):
    class Meta:
        unknown = EXCLUDE
        ordered = True


class PageArgs(BaseSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
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


def get_or_404(model, ident: int):
    obj = db.session.get(model, ident)
    if obj is None:
        abort(404)
    return obj
