"""Findings: what an audit found, with the evidence for it, and the alerts a concern raises."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from qa_audit.audits.models import Audit
from qa_audit.auth.models import User
from qa_audit.extensions import db
from qa_audit.history.tracking import Tracked
from qa_audit.recording.models import Judgement
from qa_audit.types import UTCDateTime, enum_type, utcnow


class FindingKind(enum.Enum):
    STRENGTH = "strength"
    AREA_FOR_IMPROVEMENT = "area_for_improvement"
    CONCERN = "concern"

    @property
    def label(self) -> str:
        return {"strength": "Strength", "area_for_improvement": "Area for improvement", "concern": "Concern"}[self.value]


# The managed list of themes: these always exist (API.md); rows in `themes` add more.
DEFAULT_THEMES = [
    ("thresholds_and_decision_making", "Thresholds and decision-making"),
    ("management_oversight", "Management oversight"),
    ("multi_agency_working", "Multi-agency working"),
    ("referral_quality", "Referral quality"),
    ("supervision", "Supervision"),
    ("workload", "Workload"),
    ("voice_of_the_child", "Voice of the child"),
    ("timeliness", "Timeliness"),
    ("recording", "Recording"),
]


class Theme(Tracked, db.Model):
    __tablename__ = "themes"
    __history_entity__ = "theme"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(60), unique=True)
    label: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Finding(Tracked, db.Model):
    __tablename__ = "findings"
    __history_entity__ = "finding"

    id: Mapped[int] = mapped_column(primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("audits.id"), index=True)
    kind: Mapped[FindingKind] = mapped_column(enum_type(FindingKind, "finding_kind"), index=True)
    theme: Mapped[str | None] = mapped_column(String(60), index=True)
    judgement: Mapped[Judgement | None] = mapped_column(enum_type(Judgement, "judgement"))
    summary: Mapped[str] = mapped_column(String(2000))
    evidence: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    audit: Mapped[Audit] = relationship()
    recorded_by: Mapped[User | None] = relationship()
    alerts: Mapped[list[ConcernAlert]] = relationship(back_populates="finding", order_by="ConcernAlert.id")
    files: Mapped[list[EvidenceFile]] = relationship(back_populates="finding", order_by="EvidenceFile.id")


class ConcernAlert(Tracked, db.Model):
    """A concern is a safeguarding matter: each person who must respond gets an alert,
    shown on their home page until they acknowledge it."""

    __tablename__ = "concern_alerts"
    __history_entity__ = "concern_alert"
    __table_args__ = (UniqueConstraint("finding_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    notified_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)

    finding: Mapped[Finding] = relationship(back_populates="alerts")
    user: Mapped[User] = relationship()


class EvidenceFile(Tracked, db.Model):
    """A document or photo attached to a finding, stored outside the web root."""

    __tablename__ = "evidence_files"
    __history_entity__ = "evidence_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    finding: Mapped[Finding] = relationship(back_populates="files")
    uploaded_by: Mapped[User | None] = relationship()
