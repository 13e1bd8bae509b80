"""The services (teams) audited."""

from __future__ import annotations

from marshmallow import fields
from sqlalchemy import select

from qa_audit.admin import services as service_rules
from qa_audit.admin.models import Service
from qa_audit.api import bp
from qa_audit.api.schemas import (
    BaseSchema,
    Id,
    PageArgs,
    Summary,
    Title,
    page_schema,
    paginate,
)
from qa_audit.auth.permissions import MANAGERS, roles_required


class ServiceSchema(BaseSchema):
    id = fields.Integer(dump_only=True)
    name = Title(required=True)
    head_of_service_id = Id(strict=True, allow_none=True, load_default=None)
    description = Summary(allow_none=True, load_default=None)
    active = fields.Boolean(dump_only=True)
    version = fields.Integer(dump_only=True)


@bp.route("/services", methods=["POST"])
@roles_required(*MANAGERS)
@bp.arguments(ServiceSchema)
@bp.response(201, ServiceSchema)
def create_service(data):
    """Add a service (team or function) to be audited."""
    return service_rules.create_service(data["name"], data["head_of_service_id"], data["description"])


@bp.route("/services")
@bp.arguments(PageArgs, location="query")
@bp.response(200, page_schema(ServiceSchema))
def list_services(args):
    """Every service, active ones first."""
    return paginate(select(Service).order_by(Service.active.desc(), Service.name, Service.id), args)
