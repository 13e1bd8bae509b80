"""Question sets for dip samples. A set a started audit uses is never changed under
it: editing it makes a new version (qa_audit.audits.question_sets holds that rule)."""

from __future__ import annotations

from marshmallow import fields, validate
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from qa_audit.api import bp
from qa_audit.api.schemas import (
    BaseSchema,
    NoControlCharacters,
    PageArgs,
    Summary,
    Title,
    load,
    page_schema,
    paginate,
)
from qa_audit.audits import question_sets as question_set_rules
from qa_audit.audits.models import QuestionSet
from qa_audit.auth.permissions import MANAGERS, roles_required
from qa_audit.validation import SUMMARY_MAX


def QuestionText(**kwargs) -> fields.String:
    """One question: a line of up to 2,000 characters."""
    return fields.String(validate=[validate.Length(min=1, max=SUMMARY_MAX), NoControlCharacters(multiline=False)], **kwargs)


class QuestionSchema(BaseSchema):
    id = fields.Integer()
    text = fields.String()
    position = fields.Integer()


class QuestionSetSchema(BaseSchema):
    """A question set as the API returns it. ``version`` is for editing (send it back
    in a PATCH); ``version_number`` counts the versions of one set, which all share
    ``lineage_id`` (the id of the first)."""

    id = fields.Integer()
    title = fields.String()
    description = fields.String(allow_none=True)
    questions = fields.List(fields.Nested(QuestionSchema))
    lineage_id = fields.Function(lambda qs: qs.lineage_id or qs.id)
    version_number = fields.Integer()
    superseded = fields.Boolean()
    retired = fields.Boolean()
    created_at = fields.DateTime()
    version = fields.Integer()


class QuestionSetCreateSchema(BaseSchema):
    title = Title(required=True)
    description = Summary(allow_none=True, load_default=None)
    questions = fields.List(
        QuestionText(), required=True, validate=validate.Length(min=1, max=question_set_rules.MAX_QUESTIONS)
    )


class QuestionSetUpdateSchema(BaseSchema):
    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    title = Title()
    description = Summary(allow_none=True)
    questions = fields.List(QuestionText(), validate=validate.Length(min=1, max=question_set_rules.MAX_QUESTIONS))


class QuestionSetListArgs(PageArgs):
    usable = fields.Boolean(metadata={"description": "true: only sets that can be chosen for a new audit (not retired or superseded)"})


@bp.route("/question-sets", methods=["POST"])
@roles_required(*MANAGERS)
@bp.arguments(QuestionSetCreateSchema)
@bp.response(201, QuestionSetSchema)
def create_question_set(data):
    """Create a question set: its questions are numbered in the order given."""
    return question_set_rules.create_question_set(data["title"], data["questions"], data["description"])


@bp.route("/question-sets")
@bp.arguments(QuestionSetListArgs, location="query")
@bp.response(200, page_schema(QuestionSetSchema))
def list_question_sets(args):
    """Question sets by title, newest version first."""
    query = select(QuestionSet).options(selectinload(QuestionSet.questions))
    if args.get("usable") is True:
        query = query.where(QuestionSet.retired.is_(False), QuestionSet.superseded.is_(False))
    elif args.get("usable") is False:
        query = query.where((QuestionSet.retired.is_(True)) | (QuestionSet.superseded.is_(True)))
    return paginate(query.order_by(QuestionSet.title, QuestionSet.version_number.desc(), QuestionSet.id), args)


@bp.route("/question-sets/<int:question_set_id>")
@load(QuestionSet, "question_set_id")
@bp.response(200, QuestionSetSchema)
def get_question_set(question_set: QuestionSet):
    """One question set with its questions in order."""
    return question_set


@bp.route("/question-sets/<int:question_set_id>", methods=["PATCH"])
@load(QuestionSet, "question_set_id")
@roles_required(*MANAGERS)
@bp.arguments(QuestionSetUpdateSchema)
@bp.response(200, QuestionSetSchema)
def update_question_set(data, question_set: QuestionSet):
    """Edit a set (fields not sent keep their value). If an audit that has started
    uses it, the edit makes a new version, returned here with a new ``id``: started
    audits keep the old one, planned audits and series move to the new one.
    A superseded or retired set, or a stale ``version``, is a 409."""
    return question_set_rules.update_question_set(
        question_set,
        data.get("title", question_set.title),
        data.get("questions", [q.text for q in question_set.questions]),
        data.get("description", question_set.description),
        version=data["version"],
    )


@bp.route("/question-sets/<int:question_set_id>/retire", methods=["POST"])
@load(QuestionSet, "question_set_id")
@roles_required(*MANAGERS)
@bp.response(200, QuestionSetSchema)
def retire_question_set(question_set: QuestionSet):
    """Retire a set: audits that use it keep it, but it cannot be chosen again."""
    return question_set_rules.retire_question_set(question_set)
