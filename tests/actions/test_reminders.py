"""Reminders by email: owners' overdue and due-soon actions, heads of service's weekly
digest, never the same reminder twice in a day, nothing for inactive users, and the
`reminders send` command."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from sqlalchemy import func, select

from qa_audit import mail
from qa_audit.actions import reminders
from qa_audit.actions.models import ReminderSent
from qa_audit.extensions import db

TUESDAY = date(2026, 11, 24)
MONDAY = date(2026, 11, 23)


@pytest.fixture
def outbox(app, tmp_path) -> Path:
    app.config["MAIL_OUTBOX"] = str(tmp_path / "outbox")
    app.config["MAIL_SERVER"] = None
    return tmp_path / "outbox"


def _mails(outbox: Path) -> list[dict]:
    found = []
    for path in sorted(outbox.glob("*.eml")) if outbox.exists() else []:
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        found.append({"to": message["To"], "subject": message["Subject"], "body": message.get_content()})
    return sorted(found, key=lambda m: (m["to"], m["subject"]))


def _clear(outbox: Path) -> None:
    for path in outbox.glob("*.eml"):
        path.unlink()


def _sent_rows() -> int:
    return db.session.scalar(select(func.count()).select_from(ReminderSent))


@pytest.fixture
def owner(make_user):
    return make_user("auditor", email="jo.manager@example.gov.uk", name="Jo Manager")


# Owners ------------------------------------------------------------------------------------


def test_an_owner_gets_one_message_listing_overdue_first(pin_today, outbox, owner, make_plan, make_action):
    pin_today(TUESDAY)
    plan = make_plan("Annual improvement plan", priorities=["Front door"])
    front = plan.priorities[0]
    soon = make_action(owner=owner, priority=front, title="Publish threshold guidance", due_date=TUESDAY + timedelta(days=14))
    today = make_action(owner=owner, priority=front, title="Brief the MASH team", due_date=TUESDAY, status="in_progress")
    late = make_action(owner=owner, priority=front, title="Audit MASH contacts", due_date=TUESDAY - timedelta(days=3))
    very_late = make_action(owner=owner, priority=front, title="Review strategy meetings", due_date=TUESDAY - timedelta(days=40), status="in_progress")
    make_action(owner=owner, priority=front, title="Far off", due_date=TUESDAY + timedelta(days=15))
    make_action(owner=owner, priority=front, title="Done already", due_date=TUESDAY - timedelta(days=5), status="completed")
    make_action(owner=owner, priority=front, title="Signed off", due_date=TUESDAY - timedelta(days=5), status="verified")
    make_action(owner=owner, priority=front, title="Dropped", due_date=TUESDAY - timedelta(days=5), status="cancelled")

    sent = reminders.send_reminders()

    assert (sent.reminders, sent.digests, sent.failed) == (1, 0, [])
    [message] = _mails(outbox)
    assert message["to"] == "jo.manager@example.gov.uk"
    assert message["subject"] == "Your actions: 2 overdue and 2 due soon"
    body = message["body"]
    assert body.startswith("Dear Jo Manager,")
    order = [body.index(title) for title in ("Overdue (2)", "Review strategy meetings", "Audit MASH contacts", "Due soon (2)", "Brief the MASH team", "Publish threshold guidance")]
    assert order == sorted(order)
    assert "Not started, was due Saturday 21 November 2026 (3 days overdue)" in body
    assert "In progress, was due Thursday 15 October 2026 (40 days overdue)" in body
    assert "In progress, due today, Tuesday 24 November 2026" in body
    assert "Not started, due Tuesday 8 December 2026 (in 14 days)" in body
    assert "Annual improvement plan: Front door" in body
    for action in (soon, today, late, very_late):
        assert f"http://localhost:5000/actions/{action.id}\n" in body
    assert "http://localhost:5000/my-actions" in body
    for title in ("Far off", "Done already", "Signed off", "Dropped"):
        assert title not in body


def test_each_owner_gets_their_own_and_links_use_the_configured_address(app, pin_today, outbox, owner, make_user, make_action):
    pin_today(TUESDAY)
    app.config["APP_BASE_URL"] = "https://qa.council.example/audit/"
    other = make_user("viewer", email="sam.partner@example.gov.uk")
    mine = make_action(owner=owner, due_date=TUESDAY + timedelta(days=1), title="Mine")
    theirs = make_action(owner=other, due_date=TUESDAY - timedelta(days=1), title="Theirs")

    assert reminders.send_reminders().reminders == 2
    jo, sam = _mails(outbox)
    assert jo["subject"] == "Your actions: 1 due soon" and "Mine" in jo["body"] and "Theirs" not in jo["body"]
    assert f"https://qa.council.example/audit/actions/{mine.id}\n" in jo["body"]
    assert sam["subject"] == "Your actions: 1 overdue" and f"https://qa.council.example/audit/actions/{theirs.id}\n" in sam["body"]


def test_nothing_due_sends_nothing(pin_today, outbox, owner, make_action):
    pin_today(TUESDAY)
    make_action(owner=owner, due_date=TUESDAY + timedelta(days=30))
    sent = reminders.send_reminders(digest=True)
    assert (sent.reminders, sent.digests) == (0, 0)
    assert _mails(outbox) == [] and _sent_rows() == 0


def test_an_inactive_owner_gets_nothing(pin_today, outbox, make_user, make_action):
    pin_today(TUESDAY)
    gone = make_user("auditor", active=False)
    make_action(owner=gone, due_date=TUESDAY - timedelta(days=2))
    assert reminders.send_reminders().reminders == 0
    assert _mails(outbox) == []


# Never twice in a day ---------------------------------------------------------------------------


def test_twice_in_a_day_sends_once_and_the_next_day_again(pin_today, outbox, owner, make_action):
    pin_today(TUESDAY)
    make_action(owner=owner, due_date=TUESDAY - timedelta(days=1))

    assert reminders.send_reminders().reminders == 1
    assert reminders.send_reminders().reminders == 0
    assert len(_mails(outbox)) == 1
    assert db.session.scalars(select(ReminderSent)).one().sent_on == TUESDAY

    pin_today(TUESDAY + timedelta(days=1))
    assert reminders.send_reminders().reminders == 1
    assert len(_mails(outbox)) == 2


def test_a_run_that_loses_the_race_does_not_send(monkeypatch, pin_today, outbox, owner, make_action):
    """Two runs at once both find the owner not yet reminded; the unique row decides
    which one sends."""
    pin_today(TUESDAY)
    make_action(owner=owner, due_date=TUESDAY - timedelta(days=1))
    messages = reminders.due_messages(TUESDAY, digest=False)  # this run has decided what to send...
    db.session.add(ReminderSent(user_id=owner.id, kind=reminders.OWNER_REMINDER, sent_on=TUESDAY))
    db.session.commit()  # ...when the other run records its reminder first
    monkeypatch.setattr(reminders, "due_messages", lambda today, digest: messages)

    sent = reminders.send_reminders()

    assert (sent.reminders, sent.already_sent) == (0, 1)
    assert _mails(outbox) == [] and _sent_rows() == 1


def test_a_message_that_cannot_be_sent_is_tried_again_later(monkeypatch, pin_today, outbox, owner, make_action):
    pin_today(TUESDAY)
    make_action(owner=owner, due_date=TUESDAY - timedelta(days=1))

    def refuse(to, subject, body):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr(mail, "send", refuse)
    sent = reminders.send_reminders()
    assert sent.reminders == 0 and sent.failed == ["actions_due to jo.manager@example.gov.uk: mail server down"]
    assert _sent_rows() == 0

    monkeypatch.undo()
    pin_today(TUESDAY)
    assert reminders.send_reminders().reminders == 1
    assert len(_mails(outbox)) == 1


# Heads of service's weekly digest -----------------------------------------------------------------


@pytest.fixture
def head(make_user):
    return make_user("head_of_service", email="head@example.gov.uk", name="Hana Head")


@pytest.fixture
def in_charge(head, owner, make_user, make_service, make_plan, make_action):
    """Actions in the head's plan and service, and some that are not theirs."""
    service = make_service("MASH", head_of_service_id=head.id)
    plan = make_plan("Front door plan", owner=head, priorities=["Front door"])
    front = plan.priorities[0]
    elsewhere = make_plan("Someone else's plan", owner=make_user("qa_lead")).priorities[0]
    return {
        "overdue": make_action(owner=owner, priority=front, title="Overdue in the plan", due_date=MONDAY - timedelta(days=7)),
        "service_overdue": make_action(owner=owner, priority=elsewhere, service_id=service.id, title="Overdue for the service", due_date=MONDAY - timedelta(days=1)),
        "awaiting": make_action(
            owner=owner, priority=front, title="Completed, awaiting sign-off", status="completed", completed_at=datetime(2026, 7, 10, 23, 30, tzinfo=timezone.utc)
        ),
        "own": make_action(owner=head, priority=front, title="The head's own completed action", status="completed"),
        "next": make_action(owner=owner, priority=front, title="Due next week", due_date=MONDAY + timedelta(days=6)),
        "later": make_action(owner=owner, priority=front, title="Due in a month", due_date=MONDAY + timedelta(days=30)),
        "not_theirs": make_action(owner=owner, priority=elsewhere, title="Not in their charge", due_date=MONDAY - timedelta(days=2)),
    }


def _digests(outbox: Path) -> list[dict]:
    return [m for m in _mails(outbox) if m["subject"].startswith("Weekly actions digest")]


def test_a_head_of_service_gets_a_weekly_digest_on_monday(pin_today, outbox, head, in_charge):
    pin_today(MONDAY)
    sent = reminders.send_reminders()
    assert sent.digests == 1 and sent.reminders == 1  # and the owner their own reminder
    [digest] = _digests(outbox)
    assert digest["to"] == "head@example.gov.uk"
    assert digest["subject"] == "Weekly actions digest: 2 overdue, 1 awaiting your sign-off, 1 due in the next fortnight"
    body = digest["body"]
    sections = [body.index(s) for s in ("Overdue (2)", "Completed and awaiting your sign-off (1)", "Due in the next fortnight (1)")]
    assert sections == sorted(sections)
    overdue, awaiting, due_next = body[sections[0]:sections[1]], body[sections[1]:sections[2]], body[sections[2]:]
    assert overdue.index("Overdue in the plan") < overdue.index("Overdue for the service")  # earliest first
    assert "Completed, awaiting sign-off" in awaiting and "The head's own completed action" not in body
    assert "Completed on Saturday 11 July 2026, was due Sunday 31 January 2027" in awaiting  # 23:30 UTC on the 10th was past midnight in London
    assert "Due next week" in due_next and "Due in a month" not in body and "Not in their charge" not in body
    assert f"http://localhost:5000/actions/{in_charge['awaiting'].id}\n" in awaiting
    assert "Sign off completed actions: http://localhost:5000/actions/sign-off" in body

    assert reminders.send_reminders().digests == 0  # not twice in a day
    assert len(_digests(outbox)) == 1


def test_no_digest_on_other_days_unless_asked(pin_today, outbox, head, in_charge):
    pin_today(TUESDAY)
    assert reminders.send_reminders().digests == 0
    assert _digests(outbox) == []
    assert reminders.send_reminders(digest=True).digests == 1
    assert len(_digests(outbox)) == 1
    pin_today(MONDAY + timedelta(days=7))
    assert reminders.send_reminders(digest=False).digests == 0


def test_no_digest_for_a_head_with_nothing_to_report_or_who_is_inactive(pin_today, outbox, make_user, make_service, make_plan, make_action):
    pin_today(MONDAY)
    quiet = make_user("head_of_service")
    make_plan(owner=quiet)
    gone = make_user("head_of_service")
    service = make_service(head_of_service_id=gone.id)
    elsewhere = make_plan(owner=make_user("qa_lead")).priorities[0]
    make_action(priority=elsewhere, service_id=service.id, due_date=MONDAY - timedelta(days=1))
    gone.active = False
    db.session.commit()
    sent = reminders.send_reminders()
    assert sent.digests == 0
    assert _digests(outbox) == []


# The command ------------------------------------------------------------------------------------


def test_the_command_sends_and_says_how_many(runner, pin_today, outbox, owner, head, in_charge):
    pin_today(TUESDAY)
    result = runner.invoke(args=["reminders", "send"])
    assert result.exit_code == 0, result.output
    assert result.output == "Sent 1 reminder to action owners and 0 weekly digests to heads of service.\n"

    result = runner.invoke(args=["reminders", "send", "--digest"])
    assert result.exit_code == 0, result.output
    assert result.output == "Sent 0 reminders to action owners and 1 weekly digest to heads of service.\n"
    assert len(_mails(outbox)) == 2


def test_the_command_fails_when_mail_cannot_be_sent(monkeypatch, runner, pin_today, outbox, owner, make_action):
    pin_today(TUESDAY)
    make_action(owner=owner, due_date=TUESDAY)

    def refuse(to, subject, body):
        raise OSError("no route to the mail server")

    monkeypatch.setattr(mail, "send", refuse)
    result = runner.invoke(args=["reminders", "send"])
    assert result.exit_code == 1
    assert "Sent 0 reminders" in result.output
    assert "Error: not sent: actions_due to jo.manager@example.gov.uk: no route to the mail server" in result.output
