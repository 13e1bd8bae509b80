"""Who am I, and who are the users (for choosing owners and auditors)."""

from __future__ import annotations

from flask_login import current_user
from marshmallow import fields, validate
from sqlalchemy import select

from qa_audit.api import bp
from qa_audit.api.schemas import BaseSchema, PageArgs, page_schema, paginate
from qa_audit.auth.models import Role, User


class UserSchema(BaseSchema):
    id = fields.Integer(dump_only=True)
    email = fields.String()
    name = fields.String()
    role = fields.Function(lambda user: user.role.value)


class UserListArgs(PageArgs):
    role = fields.String(validate=validate.OneOf([r.value for r in Role]))


@bp.route("/me")
@bp.response(200, UserSchema)
def me():
    """The user the token belongs to."""
    return current_user


@bp.route("/users")
@bp.arguments(UserListArgs, location="query")
@bp.response(200, page_schema(UserSchema))
def list_users(args):
    """Active users, optionally of one role."""
    query = select(User).where(User.active.is_(True)).order_by(User.name, User.id)
    if args.get("role"):
        query = query.where(User.role == Role(args["role"]))
    return paginate(query, args)
