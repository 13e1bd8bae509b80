"""Reference data an administrator manages: the services (teams) that are audited."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from qa_audit.auth.models import User
from qa_audit.extensions import db
from qa_audit.history.tracking import Tracked


class Service(Tracked, db.Model):
    """A team or function that is audited, e.g. the MASH; it has a head of service."""

    __tablename__ = "services"
    __history_entity__ = "service"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str | None] = mapped_column(String(2000))
    head_of_service_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    head_of_service: Mapped[User | None] = relationship(lazy="joined")
