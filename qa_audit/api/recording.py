"""Recording an audit through the API: findings, sampled cases and their answers,
compliance, and the details of a focus group or a strategy meeting audit.

The rules live in qa_audit.findings.services and qa_audit.recording.services; this
module checks types and limits, and the order of the checks (API.md: 401, 404, 403,
422, 409). Who may record is checked right after the record is loaded and before
the body is read, so someone who may not record gets a 403 whatever they send.
"""

from __future__ import annotations

from flask import abort, g
from flask_login import current_user
from marshmallow import ValidationError, fields, pre_dump, validate, validates_schema
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from qa_audit.api import bp
from qa_audit.api.schemas import (
    MAX_PAGE_SIZE,
    BaseSchema,
    EnumValue,
    FreeText,
    Id,
    NoControlCharacters,
    PageArgs,
    Summary,
    load,
    may_record,
    page_schema,
    paginate,
)
from qa_audit.audits.models import Agency, Audit, AuditType
from qa_audit.findings import services as finding_rules
from qa_audit.findings.models import DEFAULT_THEMES, Finding, FindingKind
from qa_audit.recording import services as recording_rules
from qa_audit.recording.models import AnswerValue, Judgement, SampledCase
from qa_audit.validation import TITLE_MAX

# A dip sample's question set has at most a few dozen questions; a body naming more
# is a mistake (and each unknown one would be a message).
MAX_ANSWERS = 200
CASE_REFERENCE_MAX = 32  # the column's size; the configured pattern decides the rest
MAX_PARTICIPANTS = 100000


def _page_of(items: list, args: dict) -> dict:
    """One page of a list a service has already worked out."""
    page, page_size = args.get("page", 1), min(args.get("page_size", 50), MAX_PAGE_SIZE)
    start = (page - 1) * page_size
    return {"items": items[start : start + page_size], "total": len(items), "page": page, "page_size": page_size}


class StrictBoolean(fields.Boolean):
    """true or false only: not "yes", 1 or "on"."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


def OneLine(max_length: int, **kwargs) -> fields.String:
    """Optional one-line text: blank is the same as not given."""
    return fields.String(validate=[validate.Length(max=max_length), NoControlCharacters(multiline=False)], **kwargs)


# Findings ---------------------------------------------------------------------------

THEME_HELP = (
    "A key from the managed list of themes (GET /api/v1/themes): "
    + ", ".join(key for key, _ in DEFAULT_THEMES)
    + ", or one the council added."
)


class FindingSchema(BaseSchema):
    """A finding as the API returns it."""

    id = fields.Integer()
    audit_id = fields.Integer()
    kind = EnumValue(FindingKind)
    summary = fields.String()
    theme = fields.String(allow_none=True)
    judgement = EnumValue(Judgement, allow_none=True)
    evidence = fields.String(allow_none=True)
    recorded_by_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    version = fields.Integer()


def _finding_fields(required: bool) -> dict:
    must = {"required": True} if required else {}
    return {
        "kind": EnumValue(FindingKind, **must),
        "summary": Summary(**must),
        "theme": OneLine(60, allow_none=True, metadata={"description": THEME_HELP}),
        "judgement": EnumValue(Judgement, allow_none=True),
        "evidence": FreeText(allow_none=True),
    }


FindingCreateSchema = BaseSchema.from_dict(_finding_fields(required=True), name="FindingCreateSchema")


class FindingUpdateSchema(BaseSchema.from_dict(_finding_fields(required=False), name="FindingUpdateFields")):
    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))


class ThemeSchema(BaseSchema):
    key = fields.String()
    label = fields.String()


@bp.route("/audits/<int:audit_id>/findings", methods=["POST"])
@load(Audit, "audit_id")
@may_record("audit")
@bp.arguments(FindingCreateSchema)
@bp.response(201, FindingSchema)
def record_finding(data, audit: Audit):
    """Record a finding while the audit is in progress (else 409). The audit's lead
    auditor and auditors, QA leads and admins may. A ``concern`` alerts the QA leads
    and the head of the audited service at once."""
    return finding_rules.record_finding(audit, data, current_user)


@bp.route("/audits/<int:audit_id>/findings")
@load(Audit, "audit_id")
@bp.arguments(PageArgs, location="query")
@bp.response(200, page_schema(FindingSchema))
def list_findings(args, audit: Audit):
    """The audit's findings by kind, then as recorded; a targeted visit's include
    those of its parts (each finding's ``audit_id`` says which part)."""
    return paginate(finding_rules.findings_query(audit), args)


@bp.route("/findings/<int:finding_id>")
@load(Finding, "finding_id")
@bp.response(200, FindingSchema)
def get_finding(finding: Finding):
    """One finding."""
    return finding


@bp.route("/findings/<int:finding_id>", methods=["PATCH"])
@load(Finding, "finding_id")
@may_record("finding")
@bp.arguments(FindingUpdateSchema)
@bp.response(200, FindingSchema)
def update_finding(data, finding: Finding):
    """Change a finding while its audit is in progress (else 409); fields not sent
    keep their value. Send the ``version`` you read: if someone else has changed the
    finding since, nothing is written (409)."""
    version = data.pop("version")
    return finding_rules.update_finding(finding, data, current_user, version=version)


@bp.route("/findings/<int:finding_id>", methods=["DELETE"])
@load(Finding, "finding_id")
@may_record("finding")
@bp.response(204)
def remove_finding(finding: Finding):
    """Remove a finding while its audit is in progress (else 409). The history keeps it."""
    finding_rules.remove_finding(finding, current_user)


@bp.route("/themes")
@bp.arguments(PageArgs, location="query")
@bp.response(200, page_schema(ThemeSchema))
def list_themes(args):
    """The managed list of finding themes: the standard ones, then any the council added."""
    return _page_of([{"key": key, "label": label} for key, label in finding_rules.themes()], args)


# Sampled cases (dip samples) --------------------------------------------------------


class SampledCaseSchema(BaseSchema):
    """A sampled case: ``answers`` maps each answered question's id to its answer,
    ``answer_notes`` each answer's notes where there are any."""

    id = fields.Integer()
    audit_id = fields.Integer()
    case_reference = fields.String()
    answers = fields.Dict(keys=fields.String(), values=EnumValue(AnswerValue))
    answer_notes = fields.Dict(keys=fields.String(), values=fields.String())
    notes = fields.String(allow_none=True)
    created_at = fields.DateTime()
    version = fields.Integer()

    @pre_dump
    def answers_by_question(self, sampled: SampledCase, **kwargs) -> dict:
        ordered = sorted(sampled.answers, key=lambda a: a.question_id)
        return {
            "id": sampled.id,
            "audit_id": sampled.audit_id,
            "case_reference": sampled.case_reference,
            "answers": {str(a.question_id): a.value for a in ordered},
            "answer_notes": {str(a.question_id): a.notes for a in ordered if a.notes},
            "notes": sampled.notes,
            "created_at": sampled.created_at,
            "version": sampled.version,
        }


class CaseCreateSchema(BaseSchema):
    case_reference = fields.String(
        required=True,
        validate=[validate.Length(max=CASE_REFERENCE_MAX), NoControlCharacters(multiline=False)],
        metadata={"description": "The case system's reference, never a name: it must match the configured pattern, by default ^[A-Za-z0-9][A-Za-z0-9/-]{2,31}$"},
    )
    answers = fields.Dict(
        keys=fields.String(validate=validate.Regexp(r"^[0-9]{1,9}$", error="Must be the id of a question in the dip sample's question set.")),
        values=EnumValue(AnswerValue),
        load_default=dict,
        validate=validate.Length(max=MAX_ANSWERS),
        metadata={"description": 'Answers so far: {"<question id>": "met" | "partially_met" | "not_met" | "not_applicable"}'},
    )
    notes = FreeText(allow_none=True, load_default=None)


class CaseAnswerSchema(BaseSchema):
    question_id = Id(strict=True, required=True)
    value = EnumValue(AnswerValue, required=True)
    notes = FreeText(allow_none=True, load_default=None)


@bp.route("/audits/<int:audit_id>/cases", methods=["POST"])
@load(Audit, "audit_id")
@may_record("audit")
@bp.arguments(CaseCreateSchema)
@bp.response(201, SampledCaseSchema)
def add_case(data, audit: Audit):
    """Add a case to a dip sample while it is in progress (any other audit, or one
    not in progress: 409), with any answers so far. A reference that is not a case
    reference (a name), or a case already in the sample, is a 422 at ``case_reference``."""
    return recording_rules.add_case(audit, current_user, data["case_reference"], data["answers"], data["notes"])


@bp.route("/audits/<int:audit_id>/cases")
@load(Audit, "audit_id")
@bp.arguments(PageArgs, location="query")
@bp.response(200, page_schema(SampledCaseSchema))
def list_cases(args, audit: Audit):
    """The cases of a dip sample, in the order they were added (none for other audits)."""
    query = (
        select(SampledCase)
        .where(SampledCase.audit_id == audit.id)
        .options(selectinload(SampledCase.answers))
        .order_by(SampledCase.id)
    )
    return paginate(query, args)


@bp.route("/cases/<int:case_id>")
@load(SampledCase, "case_id", name="sampled_case")
@bp.response(200, SampledCaseSchema)
def get_case(sampled_case: SampledCase):
    """One sampled case with its answers."""
    return sampled_case


@bp.route("/cases/<int:case_id>/answers", methods=["POST"])
@load(SampledCase, "case_id", name="sampled_case")
@may_record("sampled_case")
@bp.arguments(CaseAnswerSchema)
@bp.response(200, SampledCaseSchema)
def answer_case(data, sampled_case: SampledCase):
    """Answer one question for a case, or change its answer, while the dip sample is
    in progress (else 409) → the case."""
    recording_rules.answer(sampled_case, current_user, data["question_id"], data["value"], data["notes"])
    return sampled_case


# Compliance ---------------------------------------------------------------------------


class ComplianceQuestionSchema(BaseSchema):
    question_id = fields.Integer()
    text = fields.String()
    met = fields.Integer()
    partially_met = fields.Integer()
    not_met = fields.Integer()
    not_applicable = fields.Integer()
    compliance = fields.Float(allow_none=True)


class ComplianceSchema(BaseSchema):
    """met ÷ (met + partially met + not met) as a percentage, 0–100 rounded half up to one
    decimal; not-applicable answers are left out; ``null`` where nothing counts."""

    overall = fields.Float(allow_none=True)
    questions = fields.List(fields.Nested(ComplianceQuestionSchema))


@bp.route("/audits/<int:audit_id>/compliance")
@load(Audit, "audit_id")
@bp.response(200, ComplianceSchema)
def get_compliance(audit: Audit):
    """Compliance per question and overall, for a dip sample; for other audits
    ``{"overall": null, "questions": []}``."""
    if audit.type is not AuditType.DIP_SAMPLE:
        return {"overall": None, "questions": []}
    return recording_rules.compliance(audit)


# Details of a focus group or a strategy meeting audit ------------------------------

class AuditDetailsSchema(BaseSchema):
    """The details of a focus group or a strategy meeting audit; the other type's
    fields are null."""

    id = fields.Integer()
    audit_id = fields.Integer()
    participants_count = fields.Integer(allow_none=True)
    participant_roles = fields.String(allow_none=True)
    facilitator = fields.String(allow_none=True)
    themes = fields.String(allow_none=True)
    key_messages = fields.String(allow_none=True)
    assurance_statement = fields.String(allow_none=True)
    meeting_date = fields.Date(allow_none=True)
    agencies_invited = fields.List(EnumValue(Agency), allow_none=True)
    agencies_attended = fields.List(EnumValue(Agency), allow_none=True)
    within_timescale = fields.Boolean(allow_none=True)
    chairing_quality = EnumValue(Judgement, allow_none=True)
    agency_contributions = fields.Dict(keys=EnumValue(Agency), values=EnumValue(Judgement), allow_none=True)
    decision_recorded = fields.Boolean(allow_none=True)
    version = fields.Integer()


class AuditDetailsInputSchema(BaseSchema):
    """Focus group: ``participants_count``, ``participant_roles`` and ``themes`` are
    required. Strategy meeting audit: ``meeting_date``, ``agencies_invited``,
    ``agencies_attended``, ``within_timescale`` and ``chairing_quality`` are required.
    The details are replaced: optional fields not sent are cleared. ``version`` is
    optional; if sent and stale, 409."""

    # Focus group
    participants_count = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=0, max=MAX_PARTICIPANTS))
    participant_roles = FreeText(allow_none=True)
    facilitator = OneLine(TITLE_MAX, allow_none=True)
    themes = FreeText(allow_none=True)
    key_messages = FreeText(allow_none=True)
    assurance_statement = FreeText(allow_none=True)
    # Strategy meeting audit
    meeting_date = fields.Date(allow_none=True)
    agencies_invited = fields.List(EnumValue(Agency), allow_none=True, validate=validate.Length(max=len(Agency) * 4))
    agencies_attended = fields.List(EnumValue(Agency), allow_none=True, validate=validate.Length(max=len(Agency) * 4))
    within_timescale = StrictBoolean(allow_none=True)
    chairing_quality = EnumValue(Judgement, allow_none=True)
    agency_contributions = fields.Dict(
        keys=EnumValue(Agency),
        values=EnumValue(Judgement),
        allow_none=True,
        metadata={"description": 'The quality of each agency\'s contribution: {"police": "good", ...}'},
    )
    decision_recorded = StrictBoolean(allow_none=True)
    version = fields.Integer(strict=True, allow_none=True, load_default=None, validate=validate.Range(min=1))

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def required_for_the_audit_type(self, data, original_data, **kwargs):
        """Which fields are required depends on the audit (set by ``may_record``);
        the service holds the rule, checked here too so that missing fields and
        fields of the wrong type are reported in one answer."""
        audit = g.get("api_audit")
        if audit is None or not isinstance(original_data, dict):
            return
        missing = {}
        for field, message in recording_rules.REQUIRED_DETAILS.get(audit.type, {}).items():
            value = original_data.get(field)
            if value is None or (isinstance(value, str) and not value.strip()):
                missing[field] = [message]
        if missing:
            raise ValidationError(missing)


@bp.route("/audits/<int:audit_id>/details", methods=["PUT"])
@load(Audit, "audit_id")
@may_record("audit")
@bp.arguments(AuditDetailsInputSchema)
@bp.response(200, AuditDetailsSchema)
def save_details(data, audit: Audit):
    """Record the details of a focus group or a strategy meeting audit while it is in
    progress (any other audit, or one not in progress: 409)."""
    version = data.pop("version")
    return recording_rules.save_details(audit, current_user, data, version=version)


@bp.route("/audits/<int:audit_id>/details")
@load(Audit, "audit_id")
@bp.response(200, AuditDetailsSchema)
def get_details(audit: Audit):
    """The details recorded for a focus group or a strategy meeting audit (404 if none yet)."""
    details = recording_rules.details_of(audit)
    if details is None:
        abort(404)
    return details
