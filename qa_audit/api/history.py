"""The history of changes, for reporting tools and auditors of the auditors."""

from __future__ import annotations

from marshmallow import fields, validate

from qa_audit.api import bp
from qa_audit.api.schemas import MAX_PAGE_SIZE, BaseSchema, Id, PageArgs, page_schema
from qa_audit.auth.permissions import HISTORY_READERS, roles_required
from qa_audit.history.services import ENTITY_LABELS, page_of_entries


class HistoryEntrySchema(BaseSchema):
    id = fields.Integer()
    at = fields.DateTime()
    user_id = fields.Integer(allow_none=True)
    entity = fields.String()
    entity_id = fields.Integer()
    event = fields.String(metadata={"enum": ["create", "update", "delete"]})
    changes = fields.Dict(
        keys=fields.String(),
        values=fields.Raw(),
        metadata={"description": "each changed field: [before, after]"},
    )


class HistoryArgs(PageArgs):
    entity = fields.String(validate=validate.OneOf(sorted(ENTITY_LABELS)))
    entity_id = Id()


@bp.route("/history")
@roles_required(*HISTORY_READERS)
@bp.arguments(HistoryArgs, location="query")
@bp.response(200, page_schema(HistoryEntrySchema))
def list_history(args):
    """Changes, oldest first (so pages stay put as new changes are added),
    optionally for one entity type and one record."""
    page_size = min(args["page_size"], MAX_PAGE_SIZE)
    items, total = page_of_entries(
        args.get("entity"), args.get("entity_id"), page=args["page"], page_size=page_size, newest_first=False
    )
    return {"items": items, "total": total, "page": args["page"], "page_size": page_size}
