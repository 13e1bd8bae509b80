"""What auditors record on an audit: sampled cases and their answers (dip samples),
and the details of a focus group or a strategy meeting audit."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from qa_audit.audits.models import Audit, Question
from qa_audit.extensions import db
from qa_audit.history.tracking import Tracked
from qa_audit.types import UTCDateTime, enum_type, utcnow


class AnswerValue(enum.Enum):
    MET = "met"
    PARTIALLY_MET = "partially_met"
    NOT_MET = "not_met"
    NOT_APPLICABLE = "not_applicable"

    @property
    def label(self) -> str:
        return {"met": "Met", "partially_met": "Partially met", "not_met": "Not met", "not_applicable": "Not applicable"}[self.value]


class Judgement(enum.Enum):
    """Ofsted's four-point scale."""

    OUTSTANDING = "outstanding"
    GOOD = "good"
    REQUIRES_IMPROVEMENT = "requires_improvement"
    INADEQUATE = "inadequate"

    @property
    def label(self) -> str:
        return {
            "outstanding": "Outstanding",
            "good": "Good",
            "requires_improvement": "Requires improvement",
            "inadequate": "Inadequate",
        }[self.value]


class SampledCase(Tracked, db.Model):
    """A case in a dip sample, known only by the council's case reference: never a name."""

    __tablename__ = "sampled_cases"
    __history_entity__ = "sampled_case"
    __table_args__ = (UniqueConstraint("audit_id", "case_reference"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("audits.id", ondelete="CASCADE"), index=True)
    case_reference: Mapped[str] = mapped_column(String(32))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    audit: Mapped[Audit] = relationship()
    answers: Mapped[list[Answer]] = relationship(back_populates="sampled_case", cascade="all, delete-orphan")


class Answer(Tracked, db.Model):
    """One answer per sampled case per question."""

    __tablename__ = "answers"
    __history_entity__ = "answer"
    __table_args__ = (UniqueConstraint("sampled_case_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sampled_case_id: Mapped[int] = mapped_column(ForeignKey("sampled_cases.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"), index=True)
    value: Mapped[AnswerValue] = mapped_column(enum_type(AnswerValue, "answer_value"))
    notes: Mapped[str | None] = mapped_column(Text)

    sampled_case: Mapped[SampledCase] = relationship(back_populates="answers")
    question: Mapped[Question] = relationship()


class AuditDetails(Tracked, db.Model):
    """The fields of a focus group or a strategy meeting audit (one row per audit)."""

    __tablename__ = "audit_details"
    __history_entity__ = "audit_details"

    id: Mapped[int] = mapped_column(primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("audits.id", ondelete="CASCADE"), unique=True)
    # Focus group
    participants_count: Mapped[int | None] = mapped_column(Integer)
    participant_roles: Mapped[str | None] = mapped_column(Text)
    facilitator: Mapped[str | None] = mapped_column(String(200))
    themes: Mapped[str | None] = mapped_column(Text)
    key_messages: Mapped[str | None] = mapped_column(Text)
    assurance_statement: Mapped[str | None] = mapped_column(Text)
    # Strategy meeting audit
    meeting_date: Mapped[date | None] = mapped_column(Date)
    agencies_invited: Mapped[list[str] | None] = mapped_column(JSON)
    agencies_attended: Mapped[list[str] | None] = mapped_column(JSON)
    within_timescale: Mapped[bool | None] = mapped_column(Boolean)
    chairing_quality: Mapped[Judgement | None] = mapped_column(enum_type(Judgement, "judgement"))
    # agency value -> judgement value, for each agency that contributed
    agency_contributions: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    decision_recorded: Mapped[bool | None] = mapped_column(Boolean)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    audit: Mapped[Audit] = relationship()
