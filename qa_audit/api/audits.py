"""Audits: schedule, list with filters, read, edit (with the version read) and
change status. The rules live in qa_audit.audits.services; this module checks
types and limits, and the order of the checks (API.md: 401, 404, 403, 422, 409)."""

from __future__ import annotations

from flask_login import current_user
from marshmallow import ValidationError, fields, validate, validates_schema

from qa_audit.api import bp
from qa_audit.api.schemas import (
    BaseSchema,
    EnumValue,
    FilterArgs,
    FreeText,
    Id,
    Title,
    load,
    may_record,
    page_schema,
    paginate,
)
from qa_audit.audits import services as audit_rules
from qa_audit.audits.models import Agency, Audit, AuditStatus, AuditType
from qa_audit.audits.programme import (
    ProgrammeFilters,
    filtered,
    ordered,
    with_page_data,
)
from qa_audit.auth.permissions import MANAGERS, roles_required

MAX_AUDITORS = 50


class AuditSchema(BaseSchema):
    """An audit as the API returns it."""

    id = fields.Integer()
    type = EnumValue(AuditType)
    title = fields.String()
    purpose = fields.String(allow_none=True)
    service_id = fields.Integer()
    scheduled_for = fields.Date()
    lead_auditor_id = fields.Integer()
    auditor_ids = fields.List(fields.Integer())
    agencies = fields.List(EnumValue(Agency))
    parent_id = fields.Integer(allow_none=True)
    follow_up_of_id = fields.Integer(allow_none=True)
    question_set_id = fields.Integer(allow_none=True)
    series_id = fields.Integer(allow_none=True)
    status = EnumValue(AuditStatus)
    cancellation_reason = fields.String(allow_none=True)
    reopen_reason = fields.String(allow_none=True)
    started_at = fields.DateTime(allow_none=True)
    completed_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    version = fields.Integer()


def _audit_fields(required: bool) -> dict:
    """The fields a client may send when scheduling (all required ones required)
    or editing (none required) an audit."""
    must = {"required": True} if required else {}
    optional_id = {"allow_none": True, "strict": True}
    return {
        "type": EnumValue(AuditType, **must),
        "title": Title(**must),
        "service_id": Id(strict=True, **must),
        "scheduled_for": fields.Date(**must),
        "lead_auditor_id": Id(strict=True, **must),
        "auditor_ids": fields.List(Id(strict=True), validate=validate.Length(max=MAX_AUDITORS)),
        "agencies": fields.List(EnumValue(Agency), validate=validate.Length(max=len(Agency))),
        "purpose": FreeText(allow_none=True),
        "parent_id": Id(**optional_id),
        "follow_up_of_id": Id(**optional_id),
        "question_set_id": Id(**optional_id),
    }


AuditCreateSchema = BaseSchema.from_dict(_audit_fields(required=True), name="AuditCreateSchema")


class AuditUpdateSchema(BaseSchema.from_dict(_audit_fields(required=False), name="AuditUpdateFields")):
    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))


class StatusChangeSchema(BaseSchema):
    status = EnumValue(AuditStatus, required=True)
    reason = FreeText(allow_none=True, load_default=None)
    version = fields.Integer(strict=True, allow_none=True, load_default=None, validate=validate.Range(min=1))


class AuditListArgs(FilterArgs):
    """Each filter may be repeated (?type=dip_sample&type=focus_group): any of its values."""

    type = fields.List(EnumValue(AuditType))
    status = fields.List(EnumValue(AuditStatus))
    service_id = fields.List(Id())
    auditor_id = fields.List(Id())
    agency = fields.List(EnumValue(Agency))
    scheduled_from = fields.Date()
    scheduled_to = fields.Date()

    @validates_schema
    def dates_in_order(self, data, **kwargs):
        start, end = data.get("scheduled_from"), data.get("scheduled_to")
        if start and end and end < start:
            raise ValidationError("Must be the same as or after scheduled_from.", "scheduled_to")


@bp.route("/audits", methods=["POST"])
@roles_required(*MANAGERS)
@bp.arguments(AuditCreateSchema)
@bp.response(201, AuditSchema)
def schedule_audit(data):
    """Schedule an audit; it starts as planned. Past dates are accepted."""
    return audit_rules.schedule_audit(data)


@bp.route("/audits")
@bp.arguments(AuditListArgs, location="query")
@bp.response(200, page_schema(AuditSchema))
def list_audits(args):
    """Audits matching every filter given, by scheduled date then id."""
    filters = ProgrammeFilters(
        types=[AuditType(v) for v in args.get("type", [])],
        statuses=[AuditStatus(v) for v in args.get("status", [])],
        service_ids=args.get("service_id", []),
        auditor_ids=args.get("auditor_id", []),
        agencies=[Agency(v) for v in args.get("agency", [])],
        scheduled_from=args.get("scheduled_from"),
        scheduled_to=args.get("scheduled_to"),
    )
    return paginate(with_page_data(ordered(filtered(filters))), args)


@bp.route("/audits/<int:audit_id>")
@load(Audit, "audit_id")
@bp.response(200, AuditSchema)
def get_audit(audit: Audit):
    """One audit."""
    return audit


@bp.route("/audits/<int:audit_id>", methods=["PATCH"])
@load(Audit, "audit_id")
@roles_required(*MANAGERS)
@bp.arguments(AuditUpdateSchema)
@bp.response(200, AuditSchema)
def update_audit(data, audit: Audit):
    """Change an audit's details. Send the ``version`` you read: if the audit has
    changed since, nothing is written (409). Completed and cancelled audits are locked (409)."""
    version = data.pop("version")
    return audit_rules.update_audit(audit, data, version=version)


@bp.route("/audits/<int:audit_id>/status", methods=["POST"])
@load(Audit, "audit_id")
@may_record("audit")
@bp.arguments(StatusChangeSchema)
@bp.response(200, AuditSchema)
def change_audit_status(data, audit: Audit):
    """Start, complete, cancel (with a reason) or reopen (QA lead or admin, with a reason).

    The audit's auditors may start it and complete it; QA leads and admins may make any
    legal change. An illegal change is a 409. ``version`` is optional: if sent and stale, 409.
    """
    return audit_rules.change_status(audit, data["status"], current_user, reason=data["reason"], version=data["version"])
