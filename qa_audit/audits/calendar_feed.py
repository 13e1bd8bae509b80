"""Each user's iCalendar feed (for Outlook): a secret URL they can turn off.

The feed is built from event sources: functions that take a user and yield
``FeedEvent``s. Audits are the first source; action deadlines (issue 5) are added
with ``register_source`` and need no change here.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Callable, Iterable, Iterator

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from qa_audit.audits.models import Audit, AuditStatus
from qa_audit.auth.models import User, hash_token
from qa_audit.extensions import db
from qa_audit.types import utcnow

PRODUCT_ID = "-//qa_audit//Audit programme//EN"
UID_DOMAIN = "qa-audit"


@dataclass(frozen=True)
class FeedEvent:
    """One all-day event in a feed."""

    uid: str  # stable, so a calendar updates the event rather than adding another
    summary: str
    description: str
    day: date
    url: str | None = None


EventSource = Callable[[User], Iterable[FeedEvent]]
SOURCES: list[EventSource] = []


def register_source(source: EventSource) -> EventSource:
    """Add a source of events to every user's feed (usable as a decorator)."""
    if source not in SOURCES:
        SOURCES.append(source)
    return source


def feed_events(user: User, sources: Iterable[EventSource] | None = None) -> Iterator[FeedEvent]:
    for source in SOURCES if sources is None else sources:
        yield from source(user)


@register_source
def audit_events(user: User) -> Iterator[FeedEvent]:
    """Planned and in-progress audits the user leads or takes part in."""
    from qa_audit.audits.programme import audit_path, my_audits

    audits = db.session.scalars(
        my_audits(user)
        .where(Audit.status.in_([AuditStatus.PLANNED, AuditStatus.IN_PROGRESS]))
        .options(selectinload(Audit.service))
    )
    for audit in audits:
        role = "Lead auditor" if audit.lead_auditor_id == user.id else "Auditor"
        yield FeedEvent(
            uid=f"audit-{audit.id}@{UID_DOMAIN}",
            summary=f"{audit.type.label}: {audit.title}",
            description=f"Service: {audit.service.name}\nStatus: {audit.status.label}\nYour role: {role}",
            day=audit.scheduled_for,
            url=audit_path(audit.id, external=True),
        )


def build_calendar(events: Iterable[FeedEvent], *, name: str) -> bytes:
    from icalendar import Calendar, Event

    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    # Ask Outlook and others to look for changes every hour.
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    stamp = utcnow()
    for item in events:
        event = Event()
        event.add("uid", item.uid)
        event.add("dtstamp", stamp)
        event.add("summary", item.summary)
        event.add("description", item.description)
        event.add("dtstart", item.day)
        event.add("dtend", item.day + timedelta(days=1))
        event.add("transp", "TRANSPARENT")  # an all-day reminder, not a busy day
        if item.url:
            event.add("url", item.url)
        calendar.add_component(event)
    return calendar.to_ical()


# The secret link


def create_feed_token(user: User) -> str:
    """A new secret for the user's feed; only its hash is kept, and an old link stops working."""
    token = secrets.token_urlsafe(32)
    user.calendar_token_hash = hash_token(token)
    db.session.commit()
    return token


def revoke_feed_token(user: User) -> None:
    if user.calendar_token_hash is not None:
        user.calendar_token_hash = None
        db.session.commit()


def user_for_feed_token(token: str) -> User | None:
    """The active user whose feed this is, or None."""
    if not token or len(token) > 200:
        return None
    return db.session.scalar(
        select(User).where(User.calendar_token_hash == hash_token(token), User.active.is_(True))
    )
