"""Reminders by email, sent by `flask --app qa_audit reminders send` from cron:

- each owner of open actions that are overdue or due in the next 14 days gets one
  message listing them, overdue first;
- each head of service gets a weekly digest (on Mondays, or whenever asked) of the
  actions in the plans they own and for the services they head: overdue, completed
  and awaiting their sign-off, and due in the next fortnight.

Nobody gets the same reminder twice in a day, however often the command runs or
however many copies run at once: a ReminderSent row (unique per person, kind and
day) is saved before a message is sent, and a run that cannot save it leaves that
message to the run that did. Inactive users get nothing. Mail goes through
qa_audit.mail (SMTP when configured, otherwise files in instance/outbox/).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from itertools import groupby
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from qa_audit import dates, mail
from qa_audit.actions import services as action_rules
from qa_audit.actions.models import Action, ReminderSent
from qa_audit.auth.models import Role, User
from qa_audit.extensions import db
from qa_audit.plans.models import PlanPriority

log = logging.getLogger(__name__)

OWNER_REMINDER = "actions_due"
WEEKLY_DIGEST = "weekly_digest"
DIGEST_WEEKDAY = 0  # Monday


def app_link(endpoint: str, **values) -> str:
    """An absolute link to a page, for a message read away from the application:
    built from APP_BASE_URL, not from a request (there is none under cron)."""
    base = urlsplit(current_app.config["APP_BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path.rstrip("/") or "/", url_scheme=base.scheme or "https"
    )
    return adapter.build(endpoint, values, force_external=True)


def _when(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def _line(action: Action, today: date) -> str:
    if not action.status.is_open:
        done_on = f" on {_when(action.completed_at.astimezone(dates.LONDON).date())}" if action.completed_at else ""
        due = f"{done_on}, was due {_when(action.due_date)}"
    elif action.due_date < today:
        due = f", was due {_when(action.due_date)} ({_days((today - action.due_date).days)} overdue)"
    elif action.due_date == today:
        due = f", due today, {_when(action.due_date)}"
    else:
        due = f", due {_when(action.due_date)} (in {_days((action.due_date - today).days)})"
    where = ""
    if action.plan_priority is not None:
        where = f"\n  {action.plan_priority.plan.title}: {action.plan_priority.title}"
    return f"- {action.title}\n  {action.status.label}{due}{where}\n  {app_link('actions.show_action', action_id=action.id)}"


def _section(heading: str, actions: list[Action], today: date) -> list[str]:
    if not actions:
        return []
    return [f"{heading} ({len(actions)})", "", *(_line(a, today) + "\n" for a in actions)]


def _signature() -> list[str]:
    name = current_app.config["SERVICE_NAME"]
    return ["--", f"{name}, {current_app.config['COUNCIL_NAME']}", app_link("main.home")]


# What each person is told -----------------------------------------------------------


def owner_message(user: User, actions: list[Action], today: date) -> tuple[str, str]:
    """The subject and body of an owner's reminder: overdue first, then due soon,
    each by due date."""
    overdue = [a for a in actions if a.due_date < today]
    soon = [a for a in actions if a.due_date >= today]
    counts = [f"{len(overdue)} overdue"] if overdue else []
    counts += [f"{len(soon)} due soon"] if soon else []
    subject = f"Your actions: {' and '.join(counts)}"
    body = [
        f"Dear {user.name},",
        "",
        "These actions you own are overdue or due in the next 14 days. Post progress on each "
        "action's page; when one is done, mark it completed with the evidence.",
        "",
        *_section("Overdue", overdue, today),
        *_section("Due soon", soon, today),
        f"All your actions: {app_link('actions.my_actions')}",
        "",
        *_signature(),
    ]
    return subject, "\n".join(body) + "\n"


@dataclass
class Digest:
    overdue: list[Action] = field(default_factory=list)
    awaiting_sign_off: list[Action] = field(default_factory=list)
    due_next: list[Action] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.overdue or self.awaiting_sign_off or self.due_next)


def digest_message(user: User, digest: Digest, today: date) -> tuple[str, str]:
    counts = [f"{len(digest.overdue)} overdue", f"{len(digest.awaiting_sign_off)} awaiting your sign-off", f"{len(digest.due_next)} due in the next fortnight"]
    subject = f"Weekly actions digest: {', '.join(counts)}"
    body = [
        f"Dear {user.name},",
        "",
        f"This is the week's summary of actions in the plans you own and for the services you head, on {_when(today)}.",
        "",
        *_section("Overdue", digest.overdue, today),
        *_section("Completed and awaiting your sign-off", digest.awaiting_sign_off, today),
        *_section("Due in the next fortnight", digest.due_next, today),
    ]
    if digest.awaiting_sign_off:
        body += [f"Sign off completed actions: {app_link('actions.actions_for_sign_off')}", ""]
    body += _signature()
    return subject, "\n".join(body) + "\n"


def _row_options() -> tuple:
    return (selectinload(Action.plan_priority).selectinload(PlanPriority.plan),)


def owners_to_remind(today: date) -> list[tuple[User, list[Action]]]:
    """Active owners with open actions overdue or due in the next 14 days, each with
    those actions, earliest due first (so overdue first)."""
    query = (
        select(Action)
        .join(User, Action.owner_id == User.id)
        .where(User.active.is_(True), or_(action_rules.overdue_clause(today), action_rules.due_soon_clause(today)))
        .options(selectinload(Action.owner), *_row_options())
        .order_by(Action.owner_id, Action.due_date, Action.id)
    )
    actions = db.session.scalars(query).all()
    return [(owner_actions[0].owner, owner_actions) for _, group in groupby(actions, key=lambda a: a.owner_id) if (owner_actions := list(group))]


def digest_for(user: User, today: date) -> Digest:
    """What a head of service answers for (action_rules.in_charge_of), earliest due first."""
    mine = action_rules.in_charge_of(user)

    def listed(query) -> list[Action]:
        return list(db.session.scalars(query.options(*_row_options()).order_by(Action.due_date, Action.id)))

    return Digest(
        overdue=listed(action_rules.actions_query({"overdue": True}, today).where(mine)),
        awaiting_sign_off=listed(action_rules.awaiting_sign_off(user, today)),  # a head of service: in their charge, not their own
        due_next=listed(action_rules.actions_query({"due_soon": True}, today).where(mine)),
    )


def heads_of_service() -> list[User]:
    return list(db.session.scalars(select(User).where(User.role == Role.HEAD_OF_SERVICE, User.active.is_(True)).order_by(User.id)))


# Sending ----------------------------------------------------------------------------


@dataclass
class Sent:
    reminders: int = 0
    digests: int = 0
    already_sent: int = 0  # claimed by another run at the same time, between deciding and sending
    failed: list[str] = field(default_factory=list)


def _claim(user_id: int, kind: str, today: date) -> bool:
    """Record that this reminder is sent today, before sending it: False when another
    run has already recorded it (the unique constraint decides)."""
    db.session.add(ReminderSent(user_id=user_id, kind=kind, sent_on=today))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return False
    return True


def _release(user_id: int, kind: str, today: date) -> None:
    """The message could not be sent: forget the claim, so a later run tries again."""
    db.session.rollback()
    db.session.execute(delete(ReminderSent).where(ReminderSent.user_id == user_id, ReminderSent.kind == kind, ReminderSent.sent_on == today))
    db.session.commit()


@dataclass(frozen=True)
class Message:
    kind: str
    user_id: int
    to: str
    subject: str
    body: str


def _send_once(message: Message, today: date, sent: Sent) -> bool:
    if not _claim(message.user_id, message.kind, today):
        sent.already_sent += 1
        return False
    try:
        mail.send(message.to, message.subject, message.body)
    except Exception as error:  # noqa: BLE001  (SMTP and file errors alike: report, carry on with the others)
        log.warning("Reminder %s to %s not sent: %s", message.kind, message.to, error)
        _release(message.user_id, message.kind, today)
        sent.failed.append(f"{message.kind} to {message.to}: {error}")
        return False
    return True


def _already(kind: str, today: date) -> set[int]:
    return set(db.session.scalars(select(ReminderSent.user_id).where(ReminderSent.kind == kind, ReminderSent.sent_on == today)))


def due_messages(today: date, *, digest: bool) -> list[Message]:
    """Every message due today and not yet sent: owners' reminders, then (with
    ``digest``) heads of service's digests. Heads with nothing to report get none."""
    messages = []
    done = _already(OWNER_REMINDER, today)
    for owner, actions in owners_to_remind(today):
        if owner.id not in done:
            messages.append(Message(OWNER_REMINDER, owner.id, owner.email, *owner_message(owner, actions, today)))
    if digest:
        done = _already(WEEKLY_DIGEST, today)
        for head in heads_of_service():
            if head.id in done:
                continue
            found = digest_for(head, today)
            if found:
                messages.append(Message(WEEKLY_DIGEST, head.id, head.email, *digest_message(head, found, today)))
    return messages


def send_reminders(*, digest: bool | None = None, today: date | None = None) -> Sent:
    """Send today's reminders to owners and, on Mondays (or whenever ``digest`` is
    True; never when it is False), the weekly digests to heads of service.
    Every message is written before any is sent, and each is recorded as sent
    (ReminderSent) before it goes."""
    today = today or dates.today()
    if digest is None:
        digest = today.weekday() == DIGEST_WEEKDAY
    sent = Sent()
    for message in due_messages(today, digest=digest):
        if _send_once(message, today, sent):
            if message.kind == OWNER_REMINDER:
                sent.reminders += 1
            else:
                sent.digests += 1
    return sent
