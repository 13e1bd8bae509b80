"""What an audit report shows, loaded at once: the audit and its header facts, each
method (a targeted visit's parts, or the audit itself) with its details or its
dip-sample compliance, and the findings grouped by kind.

The number of queries is fixed: it does not grow with the number of parts, cases,
findings or evidence files (the report tests count them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from qa_audit.actions import follow_up
from qa_audit.actions.models import Action
from qa_audit.audits.models import Audit, AuditType, QuestionSet
from qa_audit.extensions import db
from qa_audit.findings import services as finding_rules
from qa_audit.findings.models import DEFAULT_THEMES, Finding, FindingKind
from qa_audit.recording import services as recording_rules
from qa_audit.recording.models import AuditDetails, SampledCase

GROUPS = [
    (FindingKind.STRENGTH, "Strengths"),
    (FindingKind.AREA_FOR_IMPROVEMENT, "Areas for improvement"),
    (FindingKind.CONCERN, "Concerns"),
]


@dataclass
class Method:
    """One method of the audit: a part of a targeted visit, or the audit itself."""

    audit: Audit
    details: AuditDetails | None = None
    # Dip samples: compliance() with each question numbered, plus the answer totals.
    compliance: dict[str, Any] | None = None
    cases: int = 0
    missing: int = 0
    findings: int = 0


@dataclass
class FindingGroup:
    kind: FindingKind
    heading: str
    findings: list[Finding] = field(default_factory=list)


@dataclass
class AuditReport:
    audit: Audit
    # The audit's own method; for a targeted visit, its parts are the methods.
    own: Method
    parts: list[Method]
    groups: list[FindingGroup]
    theme_labels: dict[str, str]
    # The actions raised from each finding, by finding id.
    actions: dict[int, list[Action]] = field(default_factory=dict)
    # A follow-up: the earlier audit's actions, their status now and the progress judged.
    follow_up: dict[str, Any] | None = None

    @property
    def is_visit(self) -> bool:
        return self.audit.type is AuditType.TARGETED_VISIT

    @property
    def findings_total(self) -> int:
        return sum(len(group.findings) for group in self.groups)

    def method_of(self, finding: Finding) -> Method:
        """The method that found this finding (the visit itself, or one of its parts)."""
        if finding.audit_id == self.audit.id:
            return self.own
        return next(part for part in self.parts if part.audit.id == finding.audit_id)


def _audit_options():
    """What the report shows of an audit and of each of its parts: one-to-one things
    joined, lists loaded in one query each."""
    return (
        joinedload(Audit.service),
        joinedload(Audit.lead_auditor),
        selectinload(Audit.auditors),
        selectinload(Audit.agency_rows),
        joinedload(Audit.question_set).selectinload(QuestionSet.questions),
    )


def report_of(audit_id: int) -> AuditReport | None:
    """Everything the report of this audit shows, or None when there is no such audit."""
    # The audit and its parts in one query, so that each list they need (auditors,
    # agencies, questions) is one more query for all of them, not one per level.
    loaded = db.session.scalars(
        select(Audit)
        .where(or_(Audit.id == audit_id, Audit.parent_id == audit_id))
        .options(*_audit_options(), joinedload(Audit.parent), joinedload(Audit.follow_up_of))
        .order_by(Audit.scheduled_for, Audit.id)
    ).all()
    audit = next((each for each in loaded if each.id == audit_id), None)
    if audit is None:
        return None
    set_committed_value(audit, "children", [each for each in loaded if each.parent_id == audit_id])
    own = Method(audit)
    parts = [Method(child) for child in audit.children] if audit.type is AuditType.TARGETED_VISIT else []
    methods = {method.audit.id: method for method in [own, *parts]}

    detailed = [m.audit.id for m in methods.values() if m.audit.type in (AuditType.FOCUS_GROUP, AuditType.STRATEGY_MEETING_AUDIT)]
    if detailed:
        for details in db.session.scalars(select(AuditDetails).where(AuditDetails.audit_id.in_(detailed))):
            methods[details.audit_id].details = details

    samples = [m.audit for m in methods.values() if m.audit.type is AuditType.DIP_SAMPLE]
    if samples:
        _add_compliance(methods, samples)

    findings = list(db.session.scalars(finding_rules.findings_query(audit).options(joinedload(Finding.files))).unique())
    groups = [FindingGroup(kind, heading, [f for f in findings if f.kind is kind]) for kind, heading in GROUPS]
    for finding in findings:
        methods[finding.audit_id].findings += 1
    # The standard themes' labels are fixed; the managed list is read only for others.
    theme_labels = dict(DEFAULT_THEMES)
    if any(finding.theme and finding.theme not in theme_labels for finding in findings):
        theme_labels = dict(finding_rules.themes())
    report = AuditReport(audit, own, parts, groups, theme_labels)
    if findings:
        raised = db.session.scalars(
            select(Action)
            .where(Action.finding_id.in_([finding.id for finding in findings]))
            .options(joinedload(Action.owner))
            .order_by(Action.due_date, Action.id)
        )
        for action in raised:
            report.actions.setdefault(action.finding_id, []).append(action)
    if audit.follow_up_of_id is not None:
        report.follow_up = follow_up.follow_up_summary(audit) | {"reviews": follow_up.reviews_of(audit)}
    return report


def _add_compliance(methods: dict[int, Method], samples: list[Audit]) -> None:
    """Each dip sample's compliance (one query for all of them), its number of cases
    and how many answers are still missing (one more)."""
    results = recording_rules.compliance_by_audit(samples)
    cases = dict(
        db.session.execute(
            select(SampledCase.audit_id, func.count(SampledCase.id))
            .where(SampledCase.audit_id.in_([sample.id for sample in samples]))
            .group_by(SampledCase.audit_id)
        ).all()
    )
    for sample in samples:
        result = results[sample.id]
        questions = [question | {"number": number} for number, question in enumerate(result["questions"], start=1)]
        totals = {key: sum(question[key] for question in questions) for key in ("met", "partially_met", "not_met", "not_applicable")}
        method = methods[sample.id]
        method.compliance = {"overall": result["overall"], "questions": questions, "totals": totals}
        method.cases = cases.get(sample.id, 0)
        method.missing = method.cases * len(questions) - sum(totals.values())
