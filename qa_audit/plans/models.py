"""Improvement plans: the plans a governance board holds managers to account against,
their priorities (workstreams), and the measures that show whether the work made a difference."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from qa_audit.admin.models import Service
from qa_audit.auth.models import User
from qa_audit.extensions import db
from qa_audit.history.tracking import Tracked
from qa_audit.types import UTCDateTime, utcnow


class ImprovementPlan(Tracked, db.Model):
    __tablename__ = "improvement_plans"
    __history_entity__ = "plan"
    __table_args__ = (CheckConstraint("ends_on >= starts_on", name="period_in_order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"), index=True)
    board: Mapped[str | None] = mapped_column(String(200))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    owner: Mapped[User] = relationship()
    service: Mapped[Service | None] = relationship()
    priorities: Mapped[list[PlanPriority]] = relationship(back_populates="plan", order_by="PlanPriority.position")


class PlanPriority(Tracked, db.Model):
    """A workstream of a plan ("front door", "workforce"); actions roll up into it."""

    __tablename__ = "plan_priorities"
    __history_entity__ = "plan_priority"
    __table_args__ = (UniqueConstraint("plan_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("improvement_plans.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    plan: Mapped[ImprovementPlan] = relationship(back_populates="priorities")
    measures: Mapped[list[Measure]] = relationship(back_populates="priority", order_by="Measure.id")


class Measure(Tracked, db.Model):
    """Impact, not just completion: e.g. average MASH caseload, 24 at the start, 15 the target."""

    __tablename__ = "measures"
    __history_entity__ = "measure"

    id: Mapped[int] = mapped_column(primary_key=True)
    priority_id: Mapped[int] = mapped_column(ForeignKey("plan_priorities.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str | None] = mapped_column(String(40))
    baseline: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    baseline_on: Mapped[date | None] = mapped_column(Date)
    target: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    priority: Mapped[PlanPriority] = relationship(back_populates="measures")
    values: Mapped[list[MeasureValue]] = relationship(back_populates="measure", order_by="MeasureValue.measured_on")

    @property
    def higher_is_better(self) -> bool:
        return self.target >= self.baseline


class MeasureValue(Tracked, db.Model):
    __tablename__ = "measure_values"
    __history_entity__ = "measure_value"
    __table_args__ = (UniqueConstraint("measure_id", "measured_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    measure_id: Mapped[int] = mapped_column(ForeignKey("measures.id"), index=True)
    measured_on: Mapped[date] = mapped_column(Date)
    value: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    note: Mapped[str | None] = mapped_column(String(2000))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    measure: Mapped[Measure] = relationship(back_populates="values")
