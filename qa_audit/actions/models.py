"""Actions: what must be done about a finding, by whom and by when; their progress log;
the progress a follow-up visit judges; and the reminders sent about them."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from qa_audit.admin.models import Service
from qa_audit.audits.models import Audit
from qa_audit.auth.models import User
from qa_audit.extensions import db
from qa_audit.findings.models import Finding
from qa_audit.history.tracking import Tracked
from qa_audit.plans.models import PlanPriority
from qa_audit.types import UTCDateTime, enum_type, utcnow


class ActionStatus(enum.Enum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    VERIFIED = "verified"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return {
            "not_started": "Not started",
            "in_progress": "In progress",
            "completed": "Completed",
            "verified": "Verified",
            "cancelled": "Cancelled",
        }[self.value]

    @property
    def tag_class(self) -> str:
        # GOV.UK Frontend 6's plain tag is blue: in progress.
        return {
            "not_started": "govuk-tag--grey",
            "in_progress": "",
            "completed": "govuk-tag--teal",
            "verified": "govuk-tag--green",
            "cancelled": "govuk-tag--grey",
        }[self.value]

    @property
    def is_open(self) -> bool:
        return self in OPEN


OPEN = (ActionStatus.NOT_STARTED, ActionStatus.IN_PROGRESS)
DONE = (ActionStatus.COMPLETED, ActionStatus.VERIFIED)


class ActionPriority(enum.Enum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class Brag(enum.Enum):
    """DESIGN.md §3: Blue done, Red overdue, Amber due soon, Green any other open action."""

    BLUE = "blue"
    RED = "red"
    AMBER = "amber"
    GREEN = "green"

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @property
    def tag_class(self) -> str:
        # GOV.UK Frontend 6 has no blue modifier: its plain tag is blue.
        return {"blue": "", "red": "govuk-tag--red", "amber": "govuk-tag--orange", "green": "govuk-tag--green"}[self.value]


class UpdateKind(enum.Enum):
    """What an entry in an action's timeline records."""

    PROGRESS = "progress"
    VERIFIED = "verified"
    SENT_BACK = "sent_back"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return {"progress": "Progress update", "verified": "Signed off", "sent_back": "Sent back", "cancelled": "Cancelled"}[self.value]


class ProgressJudgement(enum.Enum):
    SUFFICIENT = "sufficient"
    SOME = "some"
    INSUFFICIENT = "insufficient"

    @property
    def label(self) -> str:
        return {"sufficient": "Sufficient progress", "some": "Some progress", "insufficient": "Insufficient progress"}[self.value]


class Action(Tracked, db.Model):
    __tablename__ = "actions"
    __history_entity__ = "action"
    __table_args__ = (
        CheckConstraint("finding_id IS NOT NULL OR plan_priority_id IS NOT NULL", name="raised_from_somewhere"),
        Index("ix_actions_status_due_date", "status", "due_date"),
        # A person's, a plan's and a service's actions by status and deadline: the lists
        # and counts read only the index, however many actions the council has in all
        # (bench/: make bench). Each also serves its column's foreign key.
        Index("ix_actions_owner_status_due_date", "owner_id", "status", "due_date"),
        Index("ix_actions_plan_priority_status_due_date", "plan_priority_id", "status", "due_date", "completed_at", "owner_id", "service_id"),
        Index("ix_actions_service_status_due_date", "service_id", "status", "due_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    due_date: Mapped[date] = mapped_column(Date)
    priority: Mapped[ActionPriority] = mapped_column(enum_type(ActionPriority, "action_priority"), default=ActionPriority.MEDIUM)
    status: Mapped[ActionStatus] = mapped_column(enum_type(ActionStatus, "action_status"), default=ActionStatus.NOT_STARTED)
    finding_id: Mapped[int | None] = mapped_column(ForeignKey("findings.id"), index=True)
    plan_priority_id: Mapped[int | None] = mapped_column(ForeignKey("plan_priorities.id"))
    # The service the action is for: the audited service when raised from a finding.
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"))
    approved_by: Mapped[str | None] = mapped_column(String(200))
    approved_on: Mapped[date | None] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cancellation_reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    verified_by: Mapped[User | None] = relationship(foreign_keys=[verified_by_id])
    finding: Mapped[Finding | None] = relationship()
    plan_priority: Mapped[PlanPriority | None] = relationship()
    service: Mapped[Service | None] = relationship()
    updates: Mapped[list[ActionUpdate]] = relationship(back_populates="action", order_by="ActionUpdate.id")


class ActionUpdate(Tracked, db.Model):
    """One entry in an action's timeline: a dated progress note, a sign-off, a send-back
    or a cancellation. Entries are never edited."""

    __tablename__ = "action_updates"
    __history_entity__ = "action_update"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id"), index=True)
    kind: Mapped[UpdateKind] = mapped_column(enum_type(UpdateKind, "update_kind"), default=UpdateKind.PROGRESS)
    note: Mapped[str] = mapped_column(Text)
    status: Mapped[ActionStatus | None] = mapped_column(enum_type(ActionStatus, "action_status"))
    evidence: Mapped[str | None] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    action: Mapped[Action] = relationship(back_populates="updates")
    author: Mapped[User | None] = relationship()


class ProgressReview(Tracked, db.Model):
    """A follow-up visit's judgement of the progress made on an action raised by the
    audit it follows up."""

    __tablename__ = "progress_reviews"
    __history_entity__ = "progress_review"
    __table_args__ = (UniqueConstraint("audit_id", "action_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("audits.id"), index=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id"), index=True)
    judgement: Mapped[ProgressJudgement] = mapped_column(enum_type(ProgressJudgement, "progress_judgement"))
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    audit: Mapped[Audit] = relationship()
    action: Mapped[Action] = relationship()


class ReminderSent(db.Model):
    """One row per person, kind of reminder and day: the reminders command never sends
    the same reminder twice in a day, however often cron runs it."""

    __tablename__ = "reminders_sent"
    __table_args__ = (UniqueConstraint("user_id", "kind", "sent_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    sent_on: Mapped[date] = mapped_column(Date)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
