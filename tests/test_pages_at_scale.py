"""Pages that would grow with a council's data show a page of it and link to the rest
(make bench found them): My actions, the tracker's tables, and what a head of service
answers for counted from their own plans and services."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import insert, select

from qa_audit.actions import services as action_rules
from qa_audit.actions.models import Action, ActionPriority, ActionStatus
from qa_audit.extensions import db
from tests.conftest import sign_in

TODAY = date(2026, 11, 24)


@pytest.fixture(autouse=True)
def today(pin_today):
    return pin_today(TODAY)


def _client(app, person):
    client = app.test_client()
    sign_in(client, person.email)
    return client


def _text(response) -> str:
    assert response.status_code == 200, response.status_code
    return html.unescape(response.get_data(as_text=True))


def _add(owner, priority, statuses_and_days, service=None) -> None:
    """Actions straight into the table: (status, days from today to the due date)."""
    db.session.execute(
        insert(Action),
        [
            {
                "title": f"Bulk {i} {status} {days}",
                "owner_id": owner.id,
                "due_date": TODAY + timedelta(days=days),
                "priority": ActionPriority.MEDIUM,
                "status": ActionStatus(status),
                "plan_priority_id": priority.id,
                "service_id": service.id if service else None,
            }
            for i, (status, days) in enumerate(statuses_and_days)
        ],
    )
    db.session.commit()


def _ids(page: str, table_id: str) -> list[int]:
    table = re.search(rf'<table class="govuk-table"[^>]*id="{table_id}".*?</table>', page, re.S).group(0)
    return [int(n) for n in re.findall(r'href="/actions/(\d+)"', table)]


def test_my_actions_pages_the_open_ones_and_shows_the_latest_done(app, make_user, make_plan):
    from qa_audit.actions.list_views import DONE_SHOWN, PER_PAGE

    me = make_user("auditor")
    priority = make_plan().priorities[0]
    # 60 open (10 overdue), 30 done or cancelled.
    _add(me, priority, [("in_progress", day) for day in range(-10, 50)] + [(("verified", "completed", "cancelled")[i % 3], -100 - i) for i in range(30)])
    client = _client(app, me)

    first = _text(client.get("/my-actions"))
    open_ids = list(db.session.scalars(select(Action.id).where(Action.status == ActionStatus.IN_PROGRESS).order_by(Action.due_date, Action.id)))
    assert _ids(first, "to-do") == open_ids[:PER_PAGE]
    assert "Overdue by 10 days" in first  # the most overdue first
    assert 'aria-label="Pages of your open actions"' in first
    second = _text(client.get("/my-actions?page=2"))
    assert _ids(second, "to-do") == open_ids[PER_PAGE:]
    assert _text(client.get("/my-actions?page=99")).count("Overdue by") == _text(client.get("/my-actions?page=2")).count("Overdue by")

    closed = list(db.session.scalars(select(Action.id).where(Action.status != ActionStatus.IN_PROGRESS).order_by(Action.due_date.desc(), Action.id.desc())))
    assert _ids(first, "done") == closed[:DONE_SHOWN]
    more = re.search(r'<p class="govuk-body" id="more-done">.*?</p>', first, re.S).group(0)
    assert f"Showing the {DONE_SHOWN} with the latest deadlines of your 30 done and cancelled actions" in re.sub(r"\s+", " ", more)
    href = re.search(r'href="([^"]+)"', more).group(1)
    assert parse_qs(urlsplit(href).query) == {"owner_id": [str(me.id)], "status": ["completed", "verified", "cancelled"]}
    # The counts are of all of them, not of the page.
    assert re.search(r"Overdue</dt>\s*<dd[^>]*>10<", first) and re.search(r"Done</dt>\s*<dd[^>]*>20<", first)


def test_the_tracker_lists_the_first_late_actions_and_links_to_all_with_the_filters(app, login_as, make_user, make_plan):
    from qa_audit.plans.tracker import LATE_ROWS

    owner = make_user("auditor")
    plan = make_plan(priorities=["Front door", "Workforce"])
    front, workforce = plan.priorities
    _add(owner, front, [("not_started", -day) for day in range(1, 31)] + [("in_progress", day) for day in range(0, LATE_ROWS - 2)])
    _add(owner, workforce, [("in_progress", -5), ("verified", -50)])
    client = login_as("head_of_service")

    page = _text(client.get(f"/plans/{plan.id}"))
    assert re.search(r'id="overdue-heading">Overdue: 31<', page)  # every overdue action is counted
    assert len(_ids(page, "overdue")) == LATE_ROWS
    assert f"Showing the {LATE_ROWS} most overdue of 31 overdue actions" in page
    assert "View all 31 overdue actions" in page
    assert re.search(rf'id="due-soon-heading">Due in the next 14 days: {LATE_ROWS - 2}<', page)
    assert "View all" not in re.search(r'id="due-soon-heading".*?id="by-priority"', page, re.S).group(0)  # they all fit

    filtered = _text(client.get(f"/plans/{plan.id}?owner={owner.id}&status=not_started"))
    link = re.search(r'<a class="govuk-link" href="([^"]+)">View all 30 overdue actions</a>', filtered).group(1)
    assert parse_qs(urlsplit(link).query) == {"plan": [str(plan.id)], "owner_id": [str(owner.id)], "status": ["not_started"], "overdue": ["yes"]}
    # The link opens the actions list with exactly those actions.
    listed = _text(client.get(link))
    assert re.search(r'<p class="govuk-body" id="total">\s*30 actions:\s*30 overdue', listed)


def test_what_a_head_of_service_answers_for_is_the_same_counted_either_way(app, make_user, make_plan, make_service):
    """within_charge_of (a union over their plans and their services) finds exactly the
    actions the in_charge_of condition finds."""
    head = make_user("head_of_service")
    other = make_user("auditor")
    mine = make_plan(owner=head).priorities[0]
    theirs = make_plan().priorities[0]
    my_service, their_service = make_service(head_of_service_id=head.id), make_service()
    _add(other, mine, [("in_progress", -3), ("completed", 5), ("not_started", 40), ("in_progress", 7)], service=their_service)
    _add(other, theirs, [("in_progress", -3), ("completed", 5)], service=my_service)  # mine by service
    _add(other, theirs, [("in_progress", -3), ("completed", 5)], service=their_service)  # not mine
    _add(other, mine, [("in_progress", -8)], service=my_service)  # mine both ways: counted once

    for filters in ({}, {"overdue": True}, {"status": "completed"}, {"due_soon": True}):
        query = action_rules.actions_query(filters, TODAY)
        expected = set(db.session.scalars(query.with_only_columns(Action.id).where(action_rules.in_charge_of(head))))
        found = set(db.session.scalars(action_rules.within_charge_of(query, head).with_only_columns(Action.id)))
        assert found == expected and expected, filters
    assert len(set(db.session.scalars(action_rules.within_charge_of(action_rules.actions_query({}, TODAY), head).with_only_columns(Action.id)))) == 7
