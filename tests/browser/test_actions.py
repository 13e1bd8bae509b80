"""Actions in a real browser: raising one (a due date that is not real, then working
days), the owner posting progress and completing it with evidence, and a head of
service finding it under "Actions for sign-off", reading its timeline and signing it off."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import summary_value, today

pytestmark = pytest.mark.browser

TITLE = "Re-issue the referral guidance to partner agencies"


@pytest.fixture
def plan_and_action(app, make_user):
    """A head of service's plan with a priority, and an action in it owned by an auditor.
    Returns (head of service, owner, QA lead, priority id, action id)."""
    from qa_audit.actions import services as action_rules
    from qa_audit.plans import services as plan_rules

    head = make_user("head_of_service", name="Aisha Rahman")
    owner = make_user("auditor", name="Priya Shah")
    lead = make_user("qa_lead", name="Helen Gray")
    with app.app_context():
        from qa_audit.auth.models import User
        from qa_audit.extensions import db

        qa_lead = db.session.get(User, lead.id)
        plan = plan_rules.create_plan(
            {"title": "Local area improvement plan", "owner_id": head.id, "starts_on": today(), "ends_on": today() + timedelta(days=365)},
            qa_lead,
        )
        priority = plan_rules.add_priority(plan, {"title": "Front door"}, qa_lead)
        action = action_rules.raise_action(
            {"title": TITLE, "owner_id": owner.id, "due_date": today() + timedelta(days=30), "plan_priority_id": priority.id},
            qa_lead,
        )
        return head, owner, lead, priority.id, action.id


def _field_error(page, field_id: str):
    return page.locator(".govuk-form-group--error", has=page.locator(f"#{field_id}")).locator(".govuk-error-message")


def test_raising_an_action_shows_the_bad_date_then_takes_working_days(page, plan_and_action):
    head, owner, lead, priority_id, _ = plan_and_action
    page.sign_in(lead)
    page.visit(f"/plan-priorities/{priority_id}/actions/new")
    form = page.page.locator("main form")
    form.get_by_label("Title", exact=True).fill("Audit MASH supervision records")
    form.get_by_label("Owner").select_option(label="Priya Shah (Auditor)")

    # The number of working days shows only once its radio is chosen.
    days = form.get_by_label("Number of working days", exact=True)
    expect(days).to_be_hidden()
    date_group = form.get_by_role("group", name="Date", exact=True)
    date_group.get_by_label("Day").fill("31")
    date_group.get_by_label("Month").fill("13")
    date_group.get_by_label("Year").fill("2026")
    page.submit("Raise action")

    expect(page.page).to_have_title(re.compile(r"^Error: Raise an action – "))
    expect(page.error_summary().locator(".govuk-error-summary__list li")).to_have_text(["Due date must be a real date"])
    expect(_field_error(page.page, "due_date")).to_have_text(re.compile(r"Due date must be a real date"))
    expect(form.get_by_label("Title", exact=True)).to_have_value("Audit MASH supervision records")

    form.get_by_role("radio", name="In a number of working days from today").check()
    expect(days).to_be_visible()
    expect(date_group).to_be_hidden()
    days.fill("10")
    page.submit("Raise action")
    expect(page.success_banner()).to_contain_text("Action ‘Audit MASH supervision records’ raised")
    expect(page.page.locator("h1")).to_have_text("Audit MASH supervision records")
    expect(summary_value(page.page, "Owner")).to_have_text("Priya Shah")


def test_owner_completes_with_evidence_and_head_of_service_signs_it_off(page, new_page, plan_and_action):
    head, owner, lead, priority_id, action_id = plan_and_action

    # The owner: My actions → the action → post progress → complete it.
    page.sign_in(owner)
    page.click_link("My actions", within=page.navigation())
    expect(page.page.locator("#to-do")).to_contain_text(TITLE)
    page.click_link(TITLE)
    expect(summary_value(page.page, "Status")).to_have_text("Not started")
    page.click_link("Post progress")
    page.page.get_by_label("What progress has been made?").fill("Draft guidance shared with police and health")
    page.submit("Post update")
    expect(page.success_banner()).to_contain_text("Progress update posted")
    expect(summary_value(page.page, "Status")).to_have_text("In progress")

    page.click_link("Post progress")
    page.page.get_by_label("What progress has been made?").fill("Guidance re-issued to every partner agency")
    page.page.get_by_role("radio", name="Completed").check()
    page.submit("Post update")
    expect(page.error_summary()).to_contain_text("Enter the evidence that the action is complete")
    expect(_field_error(page.page, "evidence")).to_contain_text("Enter the evidence that the action is complete")
    expect(page.page.get_by_label("What progress has been made?")).to_have_value("Guidance re-issued to every partner agency")
    page.page.get_by_label("Evidence").fill("Email to partners of 20 November, with the guidance attached")
    page.submit("Post update")
    expect(page.success_banner()).to_contain_text("Action marked as completed")
    expect(summary_value(page.page, "Status")).to_have_text("Completed")
    expect(page.main_locator().get_by_role("link", name="Sign off")).to_have_count(0)  # not theirs to sign off

    # The head of service: Actions → Actions for sign-off → the action's timeline → sign off.
    boss = new_page()
    boss.sign_in(head)
    boss.click_link("Actions", within=boss.navigation())
    boss.click_link("Actions for sign-off")
    expect(boss.page.locator("#awaiting")).to_contain_text(TITLE)
    boss.click_link(TITLE, within=boss.page.locator("#awaiting"))
    timeline = boss.page.locator(".moj-timeline")
    expect(timeline.locator(".moj-timeline__title")).to_have_text(["Marked as completed", "Progress update", "Action raised"])
    expect(timeline).to_contain_text("Email to partners of 20 November")
    boss.click_link("Sign off")
    expect(boss.main_locator()).to_contain_text("Email to partners of 20 November")
    boss.page.get_by_label("Note (optional)").fill("Checked the email and the guidance")
    boss.submit("Sign off action")
    expect(boss.success_banner()).to_contain_text(f"Action ‘{TITLE}’ signed off")
    expect(summary_value(boss.page, "Status")).to_have_text("Verified")
    expect(summary_value(boss.page, "BRAG")).to_have_text("Blue")
    expect(timeline.locator(".moj-timeline__title").first).to_have_text("Signed off")
    expect(timeline.locator(".moj-timeline__item").first).to_contain_text("Checked the email and the guidance")

    boss.visit("/actions/sign-off")
    expect(boss.page.locator("#nothing-awaiting")).to_be_visible()


def test_filtering_the_actions_list_by_owner_and_plan_priority(page, plan_and_action):
    """The owner is searched for by typing; the priorities offered are the chosen plan's."""
    _head, _owner, lead, _priority_id, _action_id = plan_and_action
    page.sign_in(lead)
    page.visit("/actions")
    form = page.main_locator()
    expect(form.get_by_label("Plan priority")).to_have_count(0)

    page.page.get_by_text("Filter actions", exact=True).click()
    form.get_by_label("Owner").fill("priya")
    form.get_by_label("Improvement plan").select_option(label="Local area improvement plan")
    page.submit("Apply filters")
    expect(form.locator("#active-filters")).to_contain_text("Owner: name or email containing ‘priya’")
    expect(form.get_by_role("link", name=TITLE)).to_be_visible()

    form.get_by_label("Plan priority").select_option(label="Front door")
    page.submit("Apply filters")
    expect(form.locator("#active-filters")).to_contain_text("Plan priority: Front door")
    expect(form.get_by_role("link", name=TITLE)).to_be_visible()

    form.get_by_label("Owner").fill("someone else")
    page.submit("Apply filters")
    expect(form.get_by_text("No actions match the filters.")).to_be_visible()
