"""The action pages: raising, the action's page and timeline, progress, sign-off, send
back, cancel, edit, "My actions", the actions awaiting sign-off and the actions list.
Today is pinned to Tuesday 24 November 2026."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from flask import render_template_string
from sqlalchemy import event, func, select

from qa_audit.actions import services as rules
from qa_audit.actions.models import Action, ActionStatus, ActionUpdate
from qa_audit.extensions import db

TODAY = date(2026, 11, 24)
MANAGERS = ("qa_lead", "head_of_service", "admin")
OTHERS = ("auditor", "viewer")
ALL_ROLES = MANAGERS + OTHERS


@pytest.fixture(autouse=True)
def today(pin_today):
    return pin_today(TODAY)


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _error_at(page: str, field: str, message: str) -> bool:
    """The message is in the error summary (linking to the field) and at the field."""
    page = html.unescape(page)
    summary = re.search(r'<div class="govuk-error-summary".*?</ul>', page, re.S)
    at_field = re.search(
        rf'<p id="{field}(?:-date)?-error" class="govuk-error-message">\s*<span class="govuk-visually-hidden">Error:</span>\s*(.*?)\s*</p>',
        page,
        re.S,
    )
    return bool(
        summary
        and f'href="#{field}"' in summary.group(0)
        and message in summary.group(0)
        and at_field
        and message in at_field.group(1)
    )


def _count(model=Action) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _raise_form(owner, **overrides) -> dict:
    values = {
        "title": "Re-issue the referral guidance to partners",
        "owner_id": str(owner.id),
        "due_by": "date",
        "due_date": ["31", "1", "2027"],
        "due_in_working_days": "",
        "priority": "high",
        "plan_priority_id": "",
        "approved_by": "Practice and Development Board",
        "approved_on": ["20", "11", "2026"],
    }
    values.update(overrides)
    return values


@pytest.fixture
def setting(make_user, make_plan, make_finding, make_action, make_service):
    """A head of service's plan, a finding of an audit of their service, and actions."""

    s = SimpleNamespace()
    s.head = make_user("head_of_service", name="Aisha Rahman")
    s.owner = make_user("auditor", name="Priya Shah")
    s.service = make_service("Multi-Agency Safeguarding Hub (MASH)", head_of_service_id=s.head.id)
    s.plan = make_plan("Local area improvement plan", owner=s.head, priorities=["Front door", "Workforce"])
    s.priority = s.plan.priorities[0]
    s.finding = make_finding()
    s.open = make_action(title="Refresh the threshold guidance", owner=s.owner, priority=s.priority, status="in_progress")
    s.completed = make_action(title="Audit MASH supervision", owner=s.owner, priority=s.priority, status="completed")
    return s


# Who sees what ---------------------------------------------------------------------------


def test_every_page_renders_for_the_roles_that_may_see_it(app, login_as, setting):
    s = setting
    manager_pages = [
        f"/findings/{s.finding.id}/actions/new",
        f"/plan-priorities/{s.priority.id}/actions/new",
        "/actions/sign-off",
        f"/actions/{s.completed.id}/verify",
        f"/actions/{s.completed.id}/send-back",
        f"/actions/{s.open.id}/cancel",
        f"/actions/{s.open.id}/updates/new",
    ]
    for role in ALL_ROLES:
        client = login_as(role)
        for url in (f"/actions/{s.open.id}", f"/actions/{s.completed.id}", "/my-actions", "/actions"):
            assert client.get(url).status_code == 200, (role, url)
        for url in manager_pages:
            assert client.get(url).status_code == (200 if role in MANAGERS else 403), (role, url)
        # Editing: QA leads and admins, the plan's owner, the head of the service.
        edit = client.get(f"/actions/{s.open.id}/edit").status_code
        assert edit == (200 if role in ("qa_lead", "admin") else 403), (role, edit)
        if edit == 403:
            assert client.post_form(f"/actions/{s.open.id}/edit", _edit_form(s.open, title="Changed")).status_code == 403

    # The plan's owner may edit its actions.
    assert _owner_client(app, s.head).get(f"/actions/{s.open.id}/edit").status_code == 200

    # The owner (an auditor) posts progress on their own action; another auditor may not.
    owner = _owner_client(app, s.owner)
    assert owner.get(f"/actions/{s.open.id}/updates/new").status_code == 200
    page = _text(owner.get(f"/actions/{s.open.id}"))
    assert "Post progress" in page and "Sign off" not in page and "Cancel action" not in page
    other = login_as("auditor")
    assert other.get(f"/actions/{s.open.id}/updates/new").status_code == 403
    assert other.post_form(f"/actions/{s.open.id}/updates/new", {"note": "Done"}).status_code == 403
    assert _count(ActionUpdate) == 0


def test_missing_records_are_404(login_as):
    client = login_as("qa_lead")
    for url in ("/actions/999", "/actions/999/edit", "/actions/999/updates/new", "/actions/999/verify", "/findings/999/actions/new", "/plan-priorities/999/actions/new"):
        assert client.get(url).status_code == 404, url


def test_navigation_has_my_actions_and_actions(login_as):
    page = _text(login_as("viewer").get("/my-actions"))
    nav = re.search(r'<nav aria-label="Menu".*?</nav>', page, re.S).group(0)
    assert 'href="/my-actions"' in nav and 'href="/actions"' in nav
    assert 'aria-current="page"' in nav


# Raising -----------------------------------------------------------------------------------


def test_raise_from_a_finding_with_a_date(login_as, setting):
    s = setting
    client = login_as("qa_lead")
    page = client.get(f"/findings/{s.finding.id}/actions/new").get_data(as_text=True)
    assert f'<p class="govuk-body govuk-!-margin-bottom-0">{s.finding.summary}</p>' in page
    assert "Plan priority (optional)" in page and "Local area improvement plan – Front door" in page
    assert "Priya Shah (Auditor)" in page  # anyone can own an action
    response = client.post_form(f"/findings/{s.finding.id}/actions/new", _raise_form(s.owner))
    assert response.status_code == 302
    action = db.session.scalar(select(Action).order_by(Action.id.desc()))
    assert (action.title, action.owner_id, action.due_date, action.finding_id) == (
        "Re-issue the referral guidance to partners", s.owner.id, date(2027, 1, 31), s.finding.id
    )
    assert action.priority.value == "high" and action.approved_on == date(2026, 11, 20)
    assert response.location.endswith(f"/actions/{action.id}")
    page = _text(client.get(response.location))
    assert "Action ‘Re-issue the referral guidance to partners’ raised" in page
    assert "Practice and Development Board on 20 November 2026" in page
    assert "Raise another action for this finding" in page


def test_raise_with_31_13_2026_shows_every_problem_and_saves_nothing(login_as, setting):
    s = setting
    client = login_as("head_of_service")
    before = _count()
    response = client.post_form(
        f"/findings/{s.finding.id}/actions/new", _raise_form(s.owner, title="", due_date=["31", "13", "2026"])
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert _error_at(page, "due_date", "Due date must be a real date")
    assert _error_at(page, "title", "Enter a title for the action")  # the rules ran too
    assert "<title>Error: " in page
    assert 'value="31"' in page and 'value="13"' in page  # what was typed is kept
    assert _count() == before


def test_raise_under_a_priority_in_working_days(login_as, setting):
    s = setting
    client = login_as("head_of_service")
    page = _text(client.get(f"/plan-priorities/{s.priority.id}/actions/new"))
    assert re.search(rf'<option value="{s.priority.id}" selected>', page)
    form = _raise_form(s.owner, due_by="working_days", due_date=["", "", ""], due_in_working_days="5", plan_priority_id=str(s.priority.id))
    response = client.post_form(f"/plan-priorities/{s.priority.id}/actions/new", form)
    assert response.status_code == 302
    action = db.session.scalar(select(Action).order_by(Action.id.desc()))
    # Tuesday 24 November 2026 + 5 working days
    assert action.due_date == date(2026, 12, 1)
    assert action.plan_priority_id == s.priority.id and action.finding_id is None


def test_working_days_mistakes_are_shown_at_the_number(login_as, setting):
    s = setting
    client = login_as("qa_lead")
    url = f"/plan-priorities/{s.priority.id}/actions/new"
    base = dict(due_by="working_days", due_date=["", "", ""], plan_priority_id=str(s.priority.id))
    page = client.post_form(url, _raise_form(s.owner, due_in_working_days="", **base)).get_data(as_text=True)
    assert _error_at(page, "due_in_working_days", "Enter the number of working days")
    assert "due_date-error" not in page  # the date boxes were not chosen
    page = client.post_form(url, _raise_form(s.owner, due_in_working_days="0", **base)).get_data(as_text=True)
    assert _error_at(page, "due_in_working_days", "Number of working days must be a whole number from 1 to 2,000")
    page = client.post_form(url, _raise_form(s.owner, due_in_working_days="five", **base)).get_data(as_text=True)
    assert _error_at(page, "due_in_working_days", "Number of working days must be a whole number, like 4")
    # A bad date typed before switching to working days does not count.
    form = _raise_form(s.owner, due_in_working_days="3", **{**base, "due_date": ["31", "13", "2026"]})
    assert client.post_form(url, form).status_code == 302


def test_raising_directly_needs_a_plan_priority_and_an_active_owner(login_as, setting, make_user):
    s = setting
    client = login_as("qa_lead")
    gone = make_user("auditor", active=False)
    page = client.post_form(
        f"/plan-priorities/{s.priority.id}/actions/new", _raise_form(gone, plan_priority_id="")
    ).get_data(as_text=True)
    assert _error_at(page, "plan_priority_id", "Select the plan priority the action belongs to, or raise it from a finding")
    assert _error_at(page, "owner_id", "Select an active user as the owner")


def test_auditors_and_viewers_cannot_raise(login_as, setting):
    s = setting
    for role in OTHERS:
        client = login_as(role)
        response = client.post_form(f"/findings/{s.finding.id}/actions/new", _raise_form(s.owner))
        assert response.status_code == 403
    assert _count() == 2


# The action page and its timeline ----------------------------------------------------------


def test_action_page_shows_the_whole_story_newest_first(login_as, setting, make_user):
    s = setting
    lead = make_user("qa_lead", name="Helen Gray")
    action = rules.raise_action(
        {"title": "Re-audit strategy meetings", "owner_id": s.owner.id, "due_date": "2026-11-20", "finding_id": s.finding.id, "plan_priority_id": s.priority.id},
        lead,
    )
    rules.post_update(action, {"note": "Guidance drafted"}, s.owner)
    rules.post_update(action, {"note": "All done", "status": "completed", "evidence": "Minutes of 1 December"}, s.owner)
    rules.send_back(action, s.head, "Please attach the minutes")
    rules.post_update(action, {"note": "Minutes attached", "status": "completed", "evidence": "Minutes, signed"}, s.owner)
    rules.verify_action(action, s.head, "Checked the minutes")

    page = _text(login_as("viewer").get(f"/actions/{action.id}"))
    assert "<h1 class=\"govuk-heading-l\">Re-audit strategy meetings</h1>" in page
    assert f'href="/plans/{s.plan.id}">Local area improvement plan' in page
    assert f'href="/plans/{s.plan.id}#priority-{s.priority.id}">Front door' in page
    assert f'href="/findings/{s.finding.id}"' in page and f'href="/audits/{s.finding.audit_id}"' in page
    assert "Verified" in page and "Blue" in page
    assert "Signed off" in page and f"{s.head.name}," in page
    titles = re.findall(r'<h3 class="moj-timeline__title">(.*?)</h3>', page)
    assert titles == ["Signed off", "Marked as completed", "Sent back", "Marked as completed", "Progress update", "Action raised"]
    bylines = re.findall(r'<p class="moj-timeline__byline">by (.*?)</p>', page)
    assert bylines == [s.head.name, s.owner.name, s.head.name, s.owner.name, s.owner.name, "Helen Gray"]
    assert page.index("Checked the minutes") < page.index("Please attach the minutes") < page.index("Guidance drafted")
    assert "Minutes, signed" in page and "Minutes of 1 December" in page
    assert len(re.findall(r'<time datetime="', page)) == 6
    # A viewer has no buttons and no history link.
    assert "Post progress" not in page and "History of changes" not in page


def test_action_page_says_overdue_and_due_soon(login_as, make_action):
    late = make_action(due_date=TODAY - timedelta(days=3))
    soon = make_action(due_date=TODAY + timedelta(days=1))
    client = login_as("viewer")
    page = _text(client.get(f"/actions/{late.id}"))
    assert "Overdue by 3 days" in page and "govuk-tag--red" in page
    page = _text(client.get(f"/actions/{soon.id}"))
    assert "Due in 1 day" in page and "govuk-tag--orange" in page


def test_buttons_follow_permissions(login_as, setting):
    s = setting
    qa = login_as("qa_lead")
    page = _text(qa.get(f"/actions/{s.completed.id}"))
    for button in ("Post progress", "Sign off", "Send back", "Edit action", "Cancel action", "History of changes"):
        assert button in page, button
    page = _text(qa.get(f"/actions/{s.open.id}"))
    assert "Sign off" not in page and "Send back" not in page and "Post progress" in page


# Progress ------------------------------------------------------------------------------------


def _owner_client(app, person):
    from tests.conftest import sign_in

    client = app.test_client()
    sign_in(client, person.email)
    return client


def test_owner_posts_progress_then_completes_with_evidence(app, setting):
    s = setting
    client = _owner_client(app, s.owner)
    url = f"/actions/{s.open.id}/updates/new"
    response = client.post_form(url, {"note": "Draft shared with partners", "status": "", "evidence": ""})
    assert response.status_code == 302
    assert "Progress update posted" in _text(client.get(response.location))

    response = client.post_form(url, {"note": "Guidance re-issued", "status": "completed", "evidence": ""})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert _error_at(page, "evidence", "Enter the evidence that the action is complete")
    assert "Guidance re-issued" in page  # the note is kept
    db.session.refresh(s.open)
    assert s.open.status is ActionStatus.IN_PROGRESS

    response = client.post_form(url, {"note": "Guidance re-issued", "status": "completed", "evidence": "Email to partners, 20 November"})
    assert response.status_code == 302
    db.session.refresh(s.open)
    assert s.open.status is ActionStatus.COMPLETED and s.open.completed_at is not None
    page = _text(client.get(response.location))
    assert "Action marked as completed" in page and "Email to partners, 20 November" in page


def test_a_20000_character_note_is_a_field_error(app, setting):
    s = setting
    client = _owner_client(app, s.owner)
    before = _count(ActionUpdate)
    response = client.post_form(f"/actions/{s.open.id}/updates/new", {"note": "n" * 20_000, "status": ""})
    assert response.status_code == 200
    assert _error_at(response.get_data(as_text=True), "note", "Note must be 10,000 characters or fewer")
    assert _count(ActionUpdate) == before


def test_progress_on_a_signed_off_action_is_a_conflict_with_the_input_kept(login_as, make_action):
    action = make_action(status="verified")
    client = login_as("qa_lead")
    assert client.get(f"/actions/{action.id}/updates/new").status_code == 302
    response = client.post_form(f"/actions/{action.id}/updates/new", {"note": "One more thing", "status": ""})
    assert response.status_code == 409
    page = _text(response)
    assert "This action is verified, so no more progress can be posted on it." in page and "One more thing" in page


# Sign-off, send back, cancel --------------------------------------------------------------


def test_verifying_your_own_action_is_403(app, make_user, make_action):
    head = make_user("head_of_service")
    action = make_action(status="completed", owner=head)
    client = _owner_client(app, head)
    assert client.get(f"/actions/{action.id}/verify").status_code == 403
    response = client.post_form(f"/actions/{action.id}/verify", {"note": ""})
    assert response.status_code == 403
    assert "You do not have permission" in _text(response)
    db.session.refresh(action)
    assert action.status is ActionStatus.COMPLETED
    shown = client.get(f"/actions/{action.id}")
    assert shown.status_code == 200 and action.title in _text(shown)
    assert "Sign off" not in _text(shown)


def test_verifying_an_open_action_says_why_not(login_as, setting):
    s = setting
    client = login_as("qa_lead")
    response = client.get(f"/actions/{s.open.id}/verify")
    assert response.status_code == 302
    assert "Only a completed action can be signed off; this one is in progress." in _text(client.get(response.location))
    response = client.post_form(f"/actions/{s.open.id}/verify", {"note": "Looks fine"})
    assert response.status_code == 302
    assert "Only a completed action can be signed off; this one is in progress." in _text(client.get(response.location))
    db.session.refresh(s.open)
    assert s.open.status is ActionStatus.IN_PROGRESS


def test_sign_off_and_send_back(login_as, setting):
    s = setting
    client = login_as("qa_lead")
    rules.post_update(s.completed, {"note": "Done", "status": "completed", "evidence": "Supervision <records> seen"}, s.owner)
    page = client.get(f"/actions/{s.completed.id}/verify").get_data(as_text=True)
    assert "Supervision &lt;records&gt; seen" in page
    assert f'<p class="govuk-body-s">Given by {s.owner.name}, ' in page
    page = _text(client.get(f"/actions/{s.completed.id}/send-back"))
    assert "Send this action back" in page
    page = client.post_form(f"/actions/{s.completed.id}/send-back", {"reason": ""}).get_data(as_text=True)
    assert _error_at(page, "reason", "Enter why the action is being sent back")
    response = client.post_form(f"/actions/{s.completed.id}/send-back", {"reason": "No evidence of the training"})
    assert response.status_code == 302
    db.session.refresh(s.completed)
    assert s.completed.status is ActionStatus.IN_PROGRESS

    s.completed.status = ActionStatus.COMPLETED
    db.session.commit()
    response = client.post_form(f"/actions/{s.completed.id}/verify", {"note": "Training records seen"})
    assert response.status_code == 302
    db.session.refresh(s.completed)
    assert s.completed.status is ActionStatus.VERIFIED
    page = _text(client.get(response.location))
    assert "signed off" in page and "Training records seen" in page


def test_cancel_needs_a_reason(login_as, setting):
    s = setting
    client = login_as("head_of_service")
    page = client.post_form(f"/actions/{s.open.id}/cancel", {"reason": "  "}).get_data(as_text=True)
    assert _error_at(page, "reason", "Enter why the action is being cancelled")
    response = client.post_form(f"/actions/{s.open.id}/cancel", {"reason": "Replaced by a wider review"})
    assert response.status_code == 302
    db.session.refresh(s.open)
    assert s.open.status is ActionStatus.CANCELLED
    page = _text(client.get(response.location))
    assert "Reason for cancelling" in page and "Replaced by a wider review" in page
    assert "Cancel action" not in page and "Edit action" not in page
    assert client.get(f"/actions/{s.open.id}/cancel").status_code == 302  # already cancelled


# Editing -------------------------------------------------------------------------------------


def _edit_form(action, **overrides) -> dict:
    values = {
        "title": action.title,
        "owner_id": str(action.owner_id),
        "due_by": "date",
        "due_date": [str(action.due_date.day), str(action.due_date.month), str(action.due_date.year)],
        "priority": action.priority.value,
        "plan_priority_id": str(action.plan_priority_id or ""),
        "approved_by": "",
        "approved_on": ["", "", ""],
        "version": str(action.version),
    }
    values.update(overrides)
    return values


def test_edit_saves_and_a_stale_edit_keeps_the_input_with_the_conflict(login_as, setting):
    s = setting
    first, second = login_as("qa_lead"), login_as("admin")
    assert first.get(f"/actions/{s.open.id}/edit").status_code == 200
    page = _text(second.get(f"/actions/{s.open.id}/edit"))
    assert f'name="version" type="hidden" value="{s.open.version}"' in page
    stale = _edit_form(s.open)

    response = first.post_form(f"/actions/{s.open.id}/edit", _edit_form(s.open, title="Refresh the threshold document"))
    assert response.status_code == 302
    response = second.post_form(f"/actions/{s.open.id}/edit", {**stale, "title": "Rewrite the threshold guidance with police"})
    assert response.status_code == 409
    page = _text(response)
    assert rules.STALE in page
    assert 'value="Rewrite the threshold guidance with police"' in page  # their input is kept
    db.session.refresh(s.open)
    assert s.open.title == "Refresh the threshold document"
    assert f'name="version" type="hidden" value="{s.open.version}"' in page  # saving again is their choice
    response = second.post_form(
        f"/actions/{s.open.id}/edit", {**stale, "title": "Rewrite the threshold guidance with police", "version": str(s.open.version)}
    )
    assert response.status_code == 302
    db.session.refresh(s.open)
    assert s.open.title == "Rewrite the threshold guidance with police"


def test_edit_shows_bad_input_at_the_fields(login_as, setting):
    s = setting
    client = login_as("qa_lead")
    response = client.post_form(f"/actions/{s.open.id}/edit", _edit_form(s.open, title="", due_date=["30", "2", "2027"]))
    page = response.get_data(as_text=True)
    assert _error_at(page, "due_date", "Due date must be a real date")
    assert _error_at(page, "title", "Enter a title for the action")
    response = client.post_form(f"/actions/{s.open.id}/edit", _edit_form(s.open, due_by="working_days", due_in_working_days="10"))
    assert response.status_code == 302
    db.session.refresh(s.open)
    assert s.open.due_date == date(2026, 12, 8)


# My actions ----------------------------------------------------------------------------------


def test_my_actions_overdue_first_then_by_due_date(app, make_user, make_plan, make_action):
    me = make_user("viewer")
    priority = make_plan().priorities[0]

    def mine(title, status, due):
        return make_action(title=title, status=status, due_date=due, owner=me, priority=priority)

    mine("Later", "not_started", TODAY + timedelta(days=60))
    mine("Due soon", "in_progress", TODAY + timedelta(days=3))
    mine("Late by a day", "in_progress", TODAY - timedelta(days=1))
    mine("Late by a month", "not_started", TODAY - timedelta(days=30))
    mine("Done, awaiting sign-off", "completed", TODAY - timedelta(days=40))
    mine("Signed off", "verified", TODAY - timedelta(days=50))
    mine("Dropped", "cancelled", TODAY + timedelta(days=5))
    make_action(title="Someone else's", owner=make_user("auditor"), priority=priority)

    page = _text(_owner_client(app, me).get("/my-actions"))
    to_do = re.search(r'<table class="govuk-table" id="to-do">.*?</table>', page, re.S).group(0)
    done = re.search(r'<table class="govuk-table" id="done">.*?</table>', page, re.S).group(0)
    link = r'<a class="govuk-link" href="/actions/\d+">(.*?)</a>'
    assert re.findall(link, to_do) == ["Late by a month", "Late by a day", "Due soon", "Later"]
    assert re.findall(link, done) == ["Dropped", "Done, awaiting sign-off", "Signed off"]
    assert "Someone else's" not in page
    counts = re.search(r'<dl class="app-action-counts".*?</dl>', page, re.S).group(0)
    figures = dict(re.findall(r'<dt class="app-action-counts__label">(.*?)</dt>\s*<dd class="app-action-counts__figure">(\d+)</dd>', counts))
    assert figures == {"Overdue": "2", "Due within 14 days": "1", "Other open": "1", "Done": "2"}
    assert "Overdue by 30 days" in to_do and "govuk-tag--red" in to_do


def test_my_actions_when_there_are_none(login_as):
    assert "You do not own any actions" in _text(login_as("auditor").get("/my-actions"))


# Actions for sign-off ------------------------------------------------------------------------


def test_sign_off_page_for_a_head_of_service_and_a_qa_lead(app, login_as, setting, make_user, make_plan, make_action):
    s = setting
    elsewhere = make_plan("Another plan").priorities[0]
    by_service = make_action(title="Check MASH rota", status="completed", service_id=s.service.id, priority=elsewhere)
    own = make_action(title="My own completed", status="completed", owner=s.head, priority=s.priority)
    other_plan = make_action(title="Not in my charge", status="completed", priority=elsewhere)
    late = make_action(title="Late in my plan", status="in_progress", due_date=TODAY - timedelta(days=2), priority=s.priority)
    late_elsewhere = make_action(title="Late elsewhere", due_date=TODAY - timedelta(days=2), priority=elsewhere)

    page = _text(_owner_client(app, s.head).get("/actions/sign-off"))
    awaiting = re.search(r'<table class="govuk-table" id="awaiting">.*?</table>', page, re.S).group(0)
    assert "Audit MASH supervision" in awaiting and by_service.title in awaiting
    assert own.title not in awaiting and other_plan.title not in awaiting
    overdue = re.search(r'<table class="govuk-table" id="overdue">.*?</table>', page, re.S).group(0)
    assert late.title in overdue and late_elsewhere.title not in overdue

    page = _text(login_as("qa_lead").get("/actions/sign-off"))
    awaiting = re.search(r'<table class="govuk-table" id="awaiting">.*?</table>', page, re.S).group(0)
    for action in (s.completed, by_service, own, other_plan):
        assert action.title in awaiting
    assert 'id="overdue"' not in page


# The actions list ----------------------------------------------------------------------------


def test_list_filters_live_in_the_url(login_as, setting, make_action):
    s = setting
    late = make_action(title="Late one", due_date=TODAY - timedelta(days=5), priority=s.priority)
    client = login_as("viewer")
    page = _text(client.get("/actions"))
    assert "3 actions" in page
    page = _text(client.get("/actions?overdue=yes"))
    assert late.title in page and s.open.title not in page and "Overdue only" in page
    page = _text(client.get(f"/actions?status=completed&plan={s.plan.id}"))
    assert s.completed.title in page and s.open.title not in page and "1 action:" in page
    page = _text(client.get("/actions?brag=blue"))
    assert s.completed.title in page and late.title not in page
    page = _text(client.get(f"/actions?owner_id={s.owner.id}"))
    assert s.open.title in page and late.title not in page
    page = _text(client.get(f"/actions?priority={s.plan.priorities[1].id}"))
    assert "0 actions" in page and "No actions match the filters." in page

    response = client.get("/actions?owner_id=99999&brag=purple&status=lost")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert _error_at(page, "owner", "No one with that ID owns an action: search for the owner by name or email address")
    assert _error_at(page, "brag", "Select a BRAG colour from the list")
    assert "Correct the filters to see the actions." in page


def test_list_owner_is_searched_by_name_or_email(login_as, setting, make_user, make_action, make_plan):
    s = setting
    other = make_user("auditor", name="Tom Reid", email="t.reid2024@example.gov.uk")
    namesake = make_user("auditor", name="Tom Reidy")
    percent = make_user("auditor", name="100% Certain")
    accented = make_user("auditor", name="Élodie Martin")
    make_action(title="Tom's action", owner=other, priority=s.priority)
    make_action(title="Namesake's action", owner=namesake, priority=s.priority)
    make_action(title="Percent action", owner=percent, priority=s.priority)
    make_action(title="Élodie's action", owner=accented, priority=s.priority)
    client = login_as("viewer")

    page = _text(client.get("/actions?owner=PRIYA"))  # any case, part of the name
    assert s.open.title in page and s.completed.title in page and "Tom's action" not in page
    assert "Owner: name or email containing ‘PRIYA’" in page
    page = _text(client.get("/actions?owner=reid2024%40example"))  # part of the email
    assert "Tom's action" in page and "Namesake's action" not in page
    page = _text(client.get("/actions?owner=2024"))  # digits are searched for too, not taken as an ID
    assert "Tom's action" in page and "1 action:" in page
    page = _text(client.get("/actions?owner=%25"))  # % is a character, not a wildcard
    assert "Percent action" in page and "Tom's action" not in page and "1 action:" in page
    for typed in ("élodie", "ÉLODIE"):  # every letter folds, not only A to Z
        page = _text(client.get("/actions", query_string={"owner": typed}))
        assert "Élodie's action" in page and "1 action:" in page, typed
    page = _text(client.get("/actions?owner=Nobody+at+all"))
    assert "0 actions" in page and "No actions match the filters." in page

    # A link names the owner by ID: the box shows their name, a hidden field keeps the ID.
    html_page = response_html(client, f"/actions?owner_id={other.id}")
    assert re.search(r'<input[^>]*id="owner"[^>]*value="Tom Reid"', html_page)
    assert f'<input type="hidden" name="owner_id" value="{other.id}">' in html_page
    page = _text(client.get(f"/actions?owner_id={other.id}"))
    assert "Owner: Tom Reid" in page and "Namesake's action" not in page
    # Applying the filters again sends the name and the ID: still that one person...
    page = _text(client.get("/actions", query_string={"owner": "Tom Reid", "owner_id": other.id, "status": "not_started"}))
    assert "Tom's action" in page and "Namesake's action" not in page
    # ...until the box is changed, when the text is searched for instead.
    page = _text(client.get("/actions", query_string={"owner": "Tom", "owner_id": other.id}))
    assert "Tom's action" in page and "Namesake's action" in page
    page = _text(client.get("/actions", query_string={"owner": "", "owner_id": other.id}))
    assert "Percent action" in page  # cleared: anyone

    # Only people who own an action can be named by ID.
    admin = make_user("admin", name="Ada Admin")
    response = client.get(f"/actions?owner_id={admin.id}")
    assert _error_at(response.get_data(as_text=True), "owner", "No one with that ID owns an action: search for the owner by name or email address")
    assert "Ada Admin" not in _text(response)

    response = client.get("/actions?owner=" + "x" * 101)
    assert _error_at(response.get_data(as_text=True), "owner", "Owner must be 100 characters or fewer")


def test_my_actions_links_to_all_of_the_owners_closed_actions(app, setting, make_action):
    from qa_audit.actions.list_views import DONE_SHOWN

    s = setting
    for n in range(DONE_SHOWN):
        make_action(title=f"Done {n:02}", owner=s.owner, priority=s.priority, status="verified")
    client = _owner_client(app, s.owner)
    page = html.unescape(response_html(client, "/my-actions"))
    link = re.search(r'<a class="govuk-link" href="([^"]+)">View all 21 of your done and cancelled actions</a>', page).group(1)
    assert f"owner_id={s.owner.id}" in link
    page = _text(client.get(link))
    assert "Owner: Priya Shah" in page and "21 actions" in page and s.completed.title in page and s.open.title not in page


def test_list_priorities_are_those_of_the_plan_chosen(login_as, setting, make_plan, make_action):
    s = setting
    elsewhere = make_plan("Another plan", priorities=["Elsewhere priority"])
    make_action(title="Elsewhere action", priority=elsewhere.priorities[0])
    client = login_as("viewer")

    page = response_html(client, "/actions")
    assert 'id="priority"' not in page and "To filter by a plan’s priorities, choose the plan" in page
    page = response_html(client, f"/actions?plan={s.plan.id}")
    options = re.search(r'<select[^>]*id="priority".*?</select>', page, re.S).group(0)
    assert "Front door" in options and "Workforce" in options and "Elsewhere priority" not in options

    # A link to one priority chooses its plan with it.
    page = response_html(client, f"/actions?priority={s.priority.id}")
    assert re.search(rf'<option value="{s.plan.id}" selected>', page)
    assert s.open.title in html.unescape(page)

    # The form sends the plan too: another plan, or any plan, drops the old priority.
    page = _text(client.get(f"/actions?plan={elsewhere.id}&priority={s.priority.id}"))
    assert "Elsewhere action" in page and s.open.title not in page and "Plan priority:" not in page
    page = _text(client.get(f"/actions?plan=&priority={s.priority.id}"))
    assert "Elsewhere action" in page and s.open.title in page and "Filtered by" not in page
    # A plan that does not exist is refused, whatever the priority.
    page = response_html(client, f"/actions?plan=99999&priority={s.priority.id}")
    assert _error_at(page, "plan", "Select a plan from the list")


def test_list_pages_keep_the_filters(login_as, make_plan, make_action, make_user):
    priority = make_plan().priorities[0]
    owner = make_user("auditor")
    for n in range(55):
        make_action(title=f"Action {n:02}", owner=owner, priority=priority, due_date=TODAY + timedelta(days=n))
    client = login_as("viewer")
    page = _text(client.get("/actions?status=not_started"))
    assert "55 actions, page 1 of 2" in page
    assert "/actions?status=not_started&amp;page=2" in response_html(client, "/actions?status=not_started")
    page = _text(client.get("/actions?status=not_started&page=2"))
    assert "Action 54" in page and "Action 00" not in page


def response_html(client, url) -> str:
    return client.get(url).get_data(as_text=True)


# Queries -------------------------------------------------------------------------------------


def _queries(client, url) -> int:
    count = 0

    def count_query(*args):
        nonlocal count
        count += 1

    event.listen(db.engine, "before_cursor_execute", count_query)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", count_query)
    return count


@pytest.fixture
def many_actions(make_user, make_plan, make_service):
    """many_actions(n, owner) → n more actions, each with its own owner (or the one given),
    plan priority and service, in every status."""
    from qa_audit.plans.models import PlanPriority

    plan = make_plan(priorities=[])
    statuses = list(ActionStatus)
    made = {"count": 0}

    def make(n: int, owner=None):
        for _ in range(n):
            i = made["count"] = made["count"] + 1
            priority = PlanPriority(plan_id=plan.id, title=f"Priority {i}", position=i)
            db.session.add(priority)
            db.session.flush()
            db.session.add(
                Action(
                    title=f"Bulk action {i}",
                    owner_id=(owner or make_user("auditor")).id,
                    due_date=TODAY + timedelta(days=(i % 40) - 20),
                    status=statuses[i % len(statuses)],
                    plan_priority_id=priority.id,
                    service_id=make_service().id,
                )
            )
        db.session.commit()

    return make


def test_list_and_my_actions_make_a_constant_number_of_queries(app, login_as, many_actions, make_user):
    client = login_as("qa_lead")
    me = make_user("auditor")
    mine = _owner_client(app, me)
    many_actions(5)
    many_actions(5, owner=me)
    client.get("/actions")  # warm up
    small = _queries(client, "/actions")
    small_filtered = _queries(client, "/actions?status=in_progress&status=not_started&overdue=yes")
    small_mine = _queries(mine, "/my-actions")
    small_sign_off = _queries(client, "/actions/sign-off")

    many_actions(45)
    many_actions(45, owner=me)
    assert _count() == 100
    assert _queries(client, "/actions") == small
    assert _queries(client, "/actions?page=2") == small
    assert _queries(client, "/actions?status=in_progress&status=not_started&overdue=yes") == small_filtered
    assert _queries(mine, "/my-actions") == small_mine
    assert _queries(client, "/actions/sign-off") == small_sign_off
    assert small <= 15, small


def test_action_page_queries_do_not_grow_with_its_updates(login_as, setting, make_user):
    s = setting
    client = login_as("qa_lead")
    rules.post_update(s.open, {"note": "First"}, make_user("qa_lead"))
    few = _queries(client, f"/actions/{s.open.id}")
    for n in range(6):
        rules.post_update(s.open, {"note": f"Update {n}"}, make_user("qa_lead"))
    assert _queries(client, f"/actions/{s.open.id}") == few


# The finding page's part ---------------------------------------------------------------------


def test_finding_actions_macro_lists_actions_and_offers_to_raise(app, setting, make_action):
    from qa_audit.actions.services import actions_of_finding

    s = setting
    late = make_action(title="Late from the finding", finding=s.finding, due_date=TODAY - timedelta(days=1))
    source = '{% from "actions/_finding_actions.html" import finding_actions %}{{ finding_actions(finding, actions, may_raise) }}'
    with app.test_request_context():
        actions = actions_of_finding(s.finding)
        assert [a.id for a in actions] == [late.id]
        shown = render_template_string(source, finding=s.finding, actions=actions, may_raise=True)
        assert late.title in shown and "Overdue by 1 day" in shown
        assert f'href="/findings/{s.finding.id}/actions/new"' in shown
        none = render_template_string(source, finding=s.finding, actions=[], may_raise=False)
        assert "No actions have been raised for this finding." in none and "Raise an action" not in none
