"""Action deadlines in each user's iCalendar feed: every open action they own, as an
all-day event on its due date. Importing this module adds the source to the feed
(qa_audit.audits.calendar_feed.register_source)."""

from __future__ import annotations

from typing import Iterator

from flask import has_request_context, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from qa_audit.actions.models import OPEN, Action
from qa_audit.audits.calendar_feed import UID_DOMAIN, FeedEvent, register_source
from qa_audit.auth.models import User
from qa_audit.extensions import db
from qa_audit.plans.models import PlanPriority


def action_uid(action_id: int) -> str:
    """Stable for the action, so a calendar moves the event when the due date changes."""
    return f"action-{action_id}@{UID_DOMAIN}"


def _action_url(action_id: int) -> str:
    """The action's page: on the host the feed was asked of, or APP_BASE_URL outside a request."""
    if has_request_context():
        return url_for("actions.show_action", action_id=action_id, _external=True)
    from qa_audit.actions.reminders import app_link

    return app_link("actions.show_action", action_id=action_id)


def _description(action: Action) -> str:
    lines = [f"Status: {action.status.label}", f"Priority: {action.priority.label}"]
    if action.plan_priority is not None:
        lines.append(f"Plan: {action.plan_priority.plan.title}")
        lines.append(f"Plan priority: {action.plan_priority.title}")
    return "\n".join(lines)


@register_source
def action_events(user: User) -> Iterator[FeedEvent]:
    """Open (not started or in progress) actions the user owns, on their due dates."""
    actions = db.session.scalars(
        select(Action)
        .where(Action.owner_id == user.id, Action.status.in_(OPEN))
        .options(selectinload(Action.plan_priority).selectinload(PlanPriority.plan))
        .order_by(Action.due_date, Action.id)
    )
    for action in actions:
        yield FeedEvent(
            uid=action_uid(action.id),
            summary=f"Action due: {action.title}",
            description=_description(action),
            day=action.due_date,
            url=_action_url(action.id),
        )
