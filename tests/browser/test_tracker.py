"""The improvement-plan tracker in a real browser: a head of service opens their plan's
tracker from the menu, filters it to Red, sorts a table, sees exactly what is late, and
follows an action's link to its page. axe checks every page on the way."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import today

pytestmark = pytest.mark.browser

PLAN = "Local area improvement plan"
LATE = "Launch the online referral form"
LATER = "Co-locate early help at the front door"
SOON = "LEAN review of domestic abuse triage"
DONE = "Give MASH access to youth offending systems"
ON_TRACK = "Recruit permanent social workers"
LATE_WORKFORCE = "Agency staff review"


def _make_plan(app, owner_id: int, staff: dict[str, int]) -> dict[str, int]:
    """A plan with two priorities and actions in every colour; returns the actions' ids."""
    from qa_audit.actions.models import Action, ActionStatus
    from qa_audit.auth.models import User
    from qa_audit.extensions import db
    from qa_audit.plans import services

    on = today()
    with app.app_context():
        owner = db.session.get(User, owner_id)
        plan = services.create_plan(
            {"title": PLAN, "owner_id": owner_id, "board": "Practice and Development Board", "starts_on": on - timedelta(days=200), "ends_on": on + timedelta(days=165)},
            owner,
        )
        front = services.add_priority(plan, {"title": "Front door"}, owner)
        workforce = services.add_priority(plan, {"title": "Workforce"}, owner)
        measure = services.add_measure(front, {"title": "Average MASH caseload", "unit": "cases", "baseline": "24", "target": "15"}, owner)
        services.record_measure_value(measure, {"measured_on": on - timedelta(days=30), "value": "19"}, owner)
        rows = {
            LATE: (front, "not_started", on - timedelta(days=10), "priya"),
            LATER: (front, "in_progress", on - timedelta(days=45), "tom"),
            SOON: (front, "in_progress", on + timedelta(days=5), "priya"),
            DONE: (front, "verified", on - timedelta(days=60), "tom"),
            ON_TRACK: (workforce, "in_progress", on + timedelta(days=90), "priya"),
            LATE_WORKFORCE: (workforce, "not_started", on - timedelta(days=3), "tom"),
        }
        ids = {}
        for title, (priority, status, due, who) in rows.items():
            action = Action(
                title=title,
                owner_id=staff[who],
                due_date=due,
                status=ActionStatus(status),
                plan_priority_id=priority.id,
                completed_at=datetime.now(timezone.utc) - timedelta(days=70) if status == "verified" else None,
            )
            db.session.add(action)
            db.session.commit()
            ids[title] = action.id
        ids["plan"] = plan.id
        return ids


def _titles(table) -> list[str]:
    return [text.strip() for text in table.locator("tbody tr td:first-child a").all_inner_texts()]


def test_a_head_of_service_sees_what_is_late_and_drills_into_an_action(page, make_user, app):
    head = make_user("head_of_service", name="Hana Head")
    priya = make_user("auditor", name="Priya Shah")
    tom = make_user("viewer", name="Tom Reid")
    ids = _make_plan(app, head.id, {"priya": priya.id, "tom": tom.id})

    page.sign_in(head)
    page.click_link("Plans", within=page.navigation())
    plans = page.page.get_by_role("table", name="Improvement plans")
    expect(plans.locator("tbody tr")).to_have_count(1)
    expect(plans.locator("tbody tr").first).to_contain_text("Red")
    page.click_link(PLAN)

    # The whole plan: 3 late, 1 due soon, 1 of 6 done.
    main = page.main_locator()
    expect(main.locator("#plan-brag")).to_contain_text("Red")
    expect(main.locator("#percent-complete")).to_have_text("16.7% complete")
    expect(main.get_by_role("heading", name="Overdue: 3")).to_be_visible()
    expect(main.locator(".app-measure").first).to_contain_text("Moving towards the target")

    # Filter to Red: every figure and table narrows, and the filter is in the URL.
    page.page.get_by_text("Filter actions", exact=True).click()
    page.page.get_by_label("BRAG colour").select_option("red")
    page.submit("Apply filters")
    assert re.search(r"[?&]brag=red(&|$)", page.page.url)
    expect(main.locator("#active-filters")).to_contain_text("BRAG: Red (overdue)")
    expect(main.locator("#counts td[data-count='total']")).to_have_text("3")
    expect(main.locator("#counts td[data-count='due_soon']")).to_have_text("0")
    expect(main.get_by_role("heading", name=re.compile(r"^Due in the next 14 days: 0$"))).to_be_visible()
    overdue = page.page.get_by_role("table", name="Overdue actions, most overdue first")
    # Exactly what is late, most overdue first.
    assert _titles(overdue) == [LATER, LATE, LATE_WORKFORCE]
    expect(overdue.locator("tbody tr td:nth-child(5)")).to_have_text(["45", "10", "3"])
    front_actions = page.page.get_by_role("table", name="Actions: Front door")
    assert _titles(front_actions) == [LATER, LATE]
    for title in (SOON, DONE, ON_TRACK):
        expect(main.get_by_role("link", name=title, exact=True)).to_have_count(0)

    # Sort the overdue list by its owner, then by days overdue, fewest first.
    owner_button = overdue.get_by_role("button", name="Owner")
    owner_button.click()
    expect(overdue.locator("thead th").nth(2)).to_have_attribute("aria-sort", "ascending")
    assert [t.strip() for t in overdue.locator("tbody tr td:nth-child(3)").all_inner_texts()] == ["Priya Shah", "Tom Reid", "Tom Reid"]
    days_button = overdue.get_by_role("button", name="Days overdue")
    days_button.click()
    expect(overdue.locator("thead th").nth(4)).to_have_attribute("aria-sort", "ascending")
    expect(overdue.locator("thead th").nth(2)).to_have_attribute("aria-sort", "none")
    assert _titles(overdue) == [LATE_WORKFORCE, LATE, LATER]
    days_button.click()
    expect(overdue.locator("thead th").nth(4)).to_have_attribute("aria-sort", "descending")
    assert _titles(overdue) == [LATER, LATE, LATE_WORKFORCE]
    expect(main.get_by_role("status").filter(has_text="Sorted by Days overdue, descending")).to_have_count(1)
    page.check()  # the sorted page still passes axe

    # Follow the most overdue action to its page.
    page.click(overdue.get_by_role("link", name=LATER, exact=True))
    assert page.page.url.endswith(f"/actions/{ids[LATER]}")
    expect(page.page.get_by_role("heading", level=1)).to_have_text(LATER)
