"""Action deadlines in the user's iCalendar feed: each open action they own, as an
all-day event on its due date; done, cancelled and other people's actions are not in it."""

from __future__ import annotations

from datetime import date

import pytest
from icalendar import Calendar

from qa_audit.actions import calendar as action_calendar
from qa_audit.actions import services as action_rules
from qa_audit.audits import calendar_feed


@pytest.fixture
def owner(make_user):
    return make_user("auditor", email="jo.manager@example.gov.uk")


def _feed(client, user) -> dict[str, dict]:
    """The user's feed, fetched as a calendar program would: events by UID."""
    token = calendar_feed.create_feed_token(user)
    response = client.get(f"/calendar/{token}.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    events = {}
    for event in Calendar.from_ical(response.get_data()).walk("VEVENT"):
        events[str(event["UID"])] = {
            "summary": str(event["SUMMARY"]),
            "start": event["DTSTART"].dt,
            "end": event["DTEND"].dt,
            "url": str(event.get("URL", "")),
            "description": str(event["DESCRIPTION"]),
        }
    return events


def test_the_feed_has_the_deadline_of_each_open_action_the_user_owns(client, owner, make_user, make_plan, make_action):
    priority = make_plan("Annual improvement plan", priorities=["Front door"]).priorities[0]
    not_started = make_action(owner=owner, priority=priority, title="Audit MASH contacts", due_date=date(2027, 1, 31))
    in_progress = make_action(owner=owner, priority=priority, title="Brief the MASH team", due_date=date(2026, 10, 1), status="in_progress")
    someone_elses = make_action(owner=make_user("auditor"), priority=priority, title="Not mine", due_date=date(2027, 1, 31))

    events = _feed(client, owner)

    assert events[f"action-{not_started.id}@qa-audit"] == {
        "summary": "Action due: Audit MASH contacts",
        "start": date(2027, 1, 31),
        "end": date(2027, 2, 1),
        "url": f"http://localhost/actions/{not_started.id}",
        "description": "Status: Not started\nPriority: Medium\nPlan: Annual improvement plan\nPlan priority: Front door",
    }
    overdue = events[f"action-{in_progress.id}@qa-audit"]  # an overdue action stays in the feed until it is done
    assert (overdue["summary"], overdue["start"]) == ("Action due: Brief the MASH team", date(2026, 10, 1))
    assert f"action-{someone_elses.id}@qa-audit" not in events


@pytest.mark.parametrize("status", ["completed", "verified", "cancelled"])
def test_a_finished_action_is_not_in_the_feed(client, owner, make_action, status):
    finished = make_action(owner=owner, status=status, title="Finished")
    still_open = make_action(owner=owner, title="Still open")
    events = _feed(client, owner)
    assert f"action-{finished.id}@qa-audit" not in events
    assert f"action-{still_open.id}@qa-audit" in events


def test_completing_an_action_takes_it_out_and_a_new_due_date_moves_it(client, owner, make_user, make_action):
    action = make_action(owner=owner, title="Audit MASH contacts", due_date=date(2027, 1, 31))
    lead = make_user("qa_lead")
    action_rules.edit_action(action, {"due_date": "2027-03-01"}, lead, version=action.version)
    assert _feed(client, owner)[f"action-{action.id}@qa-audit"]["start"] == date(2027, 3, 1)  # same UID, new day

    action_rules.post_update(action, {"note": "Done", "status": "completed", "evidence": "Audit report"}, owner)
    assert f"action-{action.id}@qa-audit" not in _feed(client, owner)


def test_action_deadlines_are_a_source_of_every_feed(app):
    assert action_calendar.action_events in calendar_feed.SOURCES
    assert calendar_feed.audit_events in calendar_feed.SOURCES


def test_outside_a_request_links_use_the_configured_address(app, owner, make_action):
    app.config["APP_BASE_URL"] = "https://qa.council.example"
    action = make_action(owner=owner)
    [event] = list(action_calendar.action_events(owner))
    assert event.url == f"https://qa.council.example/actions/{action.id}"
    assert event.uid == action_calendar.action_uid(action.id)
