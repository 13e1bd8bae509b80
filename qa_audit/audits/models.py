"""The audit programme: audits of four types, recurring series and question sets."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from qa_audit.admin.models import Service
from qa_audit.auth.models import User
from qa_audit.extensions import db
from qa_audit.history.tracking import Tracked
from qa_audit.types import UTCDateTime, enum_type, utcnow


class AuditType(enum.Enum):
    TARGETED_VISIT = "targeted_visit"
    DIP_SAMPLE = "dip_sample"
    FOCUS_GROUP = "focus_group"
    STRATEGY_MEETING_AUDIT = "strategy_meeting_audit"

    @property
    def label(self) -> str:
        return {
            "targeted_visit": "Targeted visit",
            "dip_sample": "Dip sample",
            "focus_group": "Focus group",
            "strategy_meeting_audit": "Strategy meeting audit",
        }[self.value]


class AuditStatus(enum.Enum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return {"planned": "Planned", "in_progress": "In progress", "completed": "Completed", "cancelled": "Cancelled"}[self.value]

    @property
    def tag_class(self) -> str:
        return {
            "planned": "",  # GOV.UK Frontend 6's plain tag is blue
            "in_progress": "govuk-tag--yellow",
            "completed": "govuk-tag--green",
            "cancelled": "govuk-tag--grey",
        }[self.value]


class Agency(enum.Enum):
    SOCIAL_CARE = "social_care"
    POLICE = "police"
    HEALTH = "health"
    EDUCATION = "education"
    PROBATION = "probation"
    YOUTH_JUSTICE = "youth_justice"
    EARLY_HELP = "early_help"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            "social_care": "Children's social care",
            "police": "Police",
            "health": "Health",
            "education": "Education",
            "probation": "Probation",
            "youth_justice": "Youth justice",
            "early_help": "Early help",
            "other": "Other",
        }[self.value]


class Frequency(enum.Enum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    WEEKLY = "weekly"  # every N weeks

    @property
    def label(self) -> str:
        return {"monthly": "Every month", "quarterly": "Every quarter", "weekly": "Every few weeks"}[self.value]


audit_auditors = Table(
    "audit_auditors",
    db.metadata,
    Column("audit_id", ForeignKey("audits.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id"), primary_key=True, index=True),
)


class AuditAgency(db.Model):
    """An agency taking part in a (multi-agency) audit."""

    __tablename__ = "audit_agencies"

    audit_id: Mapped[int] = mapped_column(ForeignKey("audits.id", ondelete="CASCADE"), primary_key=True)
    agency: Mapped[Agency] = mapped_column(enum_type(Agency, "agency"), primary_key=True)


class QuestionSet(Tracked, db.Model):
    """A reusable set of dip-sample questions. Sets are versioned: once a started
    audit uses a set, editing it makes a new version and the old one stays as it was."""

    __tablename__ = "question_sets"
    __history_entity__ = "question_set"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(String(2000))
    # Every version of one set shares the id of its first version.
    lineage_id: Mapped[int | None] = mapped_column(ForeignKey("question_sets.id"), index=True)
    version_number: Mapped[int] = mapped_column(Integer, default=1)
    superseded: Mapped[bool] = mapped_column(Boolean, default=False)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    questions: Mapped[list[Question]] = relationship(
        back_populates="question_set", order_by="Question.position", cascade="all, delete-orphan"
    )


class Question(Tracked, db.Model):
    __tablename__ = "questions"
    __history_entity__ = "question"
    __table_args__ = (UniqueConstraint("question_set_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_set_id: Mapped[int] = mapped_column(ForeignKey("question_sets.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(String(2000))
    position: Mapped[int] = mapped_column(Integer)

    question_set: Mapped[QuestionSet] = relationship(back_populates="questions")


class AuditSeries(Tracked, db.Model):
    """A recurring audit ("a dip sample of locality strategy meetings every month"):
    it creates the planned audits, and edits to it reach only future, unstarted ones."""

    __tablename__ = "audit_series"
    __history_entity__ = "audit_series"

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[AuditType] = mapped_column(enum_type(AuditType, "audit_type"))
    title: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str | None] = mapped_column(Text)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), index=True)
    lead_auditor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    question_set_id: Mapped[int | None] = mapped_column(ForeignKey("question_sets.id"))
    frequency: Mapped[Frequency] = mapped_column(enum_type(Frequency, "frequency"))
    interval_weeks: Mapped[int | None] = mapped_column(Integer)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    occurrences: Mapped[int | None] = mapped_column(Integer)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    service: Mapped[Service] = relationship()
    lead_auditor: Mapped[User] = relationship()
    question_set: Mapped[QuestionSet | None] = relationship()
    audits: Mapped[list[Audit]] = relationship(back_populates="series", order_by="Audit.scheduled_for")


class Audit(Tracked, db.Model):
    __tablename__ = "audits"
    __history_entity__ = "audit"
    __history_collections__ = {"auditors": lambda user: user.id, "agency_rows": lambda row: row.agency}
    __table_args__ = (
        Index("ix_audits_scheduled_for_status", "scheduled_for", "status"),
        CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[AuditType] = mapped_column(enum_type(AuditType, "audit_type"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str | None] = mapped_column(Text)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), index=True)
    scheduled_for: Mapped[date] = mapped_column(Date, index=True)
    lead_auditor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("audits.id"), index=True)
    follow_up_of_id: Mapped[int | None] = mapped_column(ForeignKey("audits.id"), index=True)
    question_set_id: Mapped[int | None] = mapped_column(ForeignKey("question_sets.id"), index=True)
    series_id: Mapped[int | None] = mapped_column(ForeignKey("audit_series.id"), index=True)
    status: Mapped[AuditStatus] = mapped_column(enum_type(AuditStatus, "audit_status"), default=AuditStatus.PLANNED, index=True)
    cancellation_reason: Mapped[str | None] = mapped_column(Text)
    reopen_reason: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    service: Mapped[Service] = relationship()
    lead_auditor: Mapped[User] = relationship(foreign_keys=[lead_auditor_id])
    auditors: Mapped[list[User]] = relationship(secondary=audit_auditors, order_by="User.name")
    agency_rows: Mapped[list[AuditAgency]] = relationship(cascade="all, delete-orphan", order_by="AuditAgency.agency")
    parent: Mapped[Audit | None] = relationship(remote_side=[id], foreign_keys=[parent_id], back_populates="children")
    children: Mapped[list[Audit]] = relationship(back_populates="parent", foreign_keys=[parent_id], order_by="Audit.scheduled_for")
    follow_up_of: Mapped[Audit | None] = relationship(remote_side=[id], foreign_keys=[follow_up_of_id])
    question_set: Mapped[QuestionSet | None] = relationship()
    series: Mapped[AuditSeries | None] = relationship(back_populates="audits")

    @property
    def agencies(self) -> list[Agency]:
        return [row.agency for row in self.agency_rows]

    @property
    def auditor_ids(self) -> list[int]:
        return [user.id for user in self.auditors]

    def overdue_to_start(self, today: date) -> bool:
        return self.status is AuditStatus.PLANNED and self.scheduled_for < today

    def takes_part(self, user) -> bool:
        return user.id == self.lead_auditor_id or any(a.id == user.id for a in self.auditors)
