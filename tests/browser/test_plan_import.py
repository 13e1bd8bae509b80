"""Importing an improvement plan in a real browser: the upload page with its column
guide and template, a file with bad rows (error summary and the rows listed, nothing
imported), then a good file and the page that says what was imported. axe checks every
page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def _plan(app, owner_id: int) -> int:
    from qa_audit.auth.models import User
    from qa_audit.extensions import db
    from qa_audit.plans import services

    with app.app_context():
        owner = db.session.get(User, owner_id)
        plan = services.create_plan(
            {"title": "Annual improvement plan", "owner_id": owner_id, "starts_on": dt.date(2026, 4, 1), "ends_on": dt.date(2027, 3, 31)}, owner
        )
        services.add_priority(plan, {"title": "Front door"}, owner)
        return plan.id


def _actions(app, plan_id: int) -> list[tuple[str, str, str]]:
    from sqlalchemy import select

    from qa_audit.actions.models import Action
    from qa_audit.extensions import db
    from qa_audit.plans.models import PlanPriority

    with app.app_context():
        rows = db.session.execute(
            select(PlanPriority.title, Action.title, Action.status)
            .join(Action, Action.plan_priority_id == PlanPriority.id)
            .where(PlanPriority.plan_id == plan_id)
            .order_by(Action.id)
        ).all()
        return [(priority, title, status.value) for priority, title, status in rows]


def _csv(*lines: str) -> dict:
    return {"name": "plan.csv", "mimeType": "text/csv", "buffer": ("\n".join(lines) + "\n").encode()}


def test_a_head_of_service_imports_their_plan(app, new_page, make_user):
    head = make_user("head_of_service", name="Hana Head", email="hana.head@example.gov.uk")
    make_user("auditor", name="Jo Manager", email="jo.manager@example.gov.uk")
    plan_id = _plan(app, head.id)
    page = new_page()
    page.sign_in(head)
    page.visit(f"/plans/{plan_id}/import")
    expect(page.page.get_by_role("heading", level=1)).to_have_text("Import actions from a spreadsheet")
    expect(page.page.get_by_role("link", name="Download a template CSV file")).to_have_attribute("href", "/plans/import-template.csv")

    headings = "Priority,Action,Owner,Due date,Status,Note"
    page.page.get_by_label("Upload a file").set_input_files(
        _csv(
            headings,
            "Front door,Audit MASH contacts,jo.manager@example.gov.uk,31/13/2026,In progress,",
            "Workforce,Reduce caseloads,nobody@example.gov.uk,2027-06-30,Completed,",
        )
    )
    page.submit("Import actions")
    expect(page.page).to_have_title(re.compile(r"^Error: Import actions – Annual improvement plan"))
    expect(page.error_summary().locator("li")).to_have_text(["2 rows have problems, listed below. Nothing has been saved: correct them and try again"])
    problems = page.page.locator("#row-problems tbody tr")
    expect(problems).to_have_count(2)
    expect(problems.nth(0).locator("td")).to_have_text(
        ["Line 2", "Audit MASH contacts", "Due date 31/13/2026 is not a real date: enter it as DD/MM/YYYY or YYYY-MM-DD, like 31/03/2026 or 2026-03-31"]
    )
    expect(problems.nth(1).locator("td").nth(2)).to_contain_text("No user has the email address nobody@example.gov.uk")
    page.error_summary().get_by_role("link").click()
    expect(page.page.get_by_label("Upload a file")).to_be_focused()
    assert _actions(app, plan_id) == []

    page.page.get_by_label("Upload a file").set_input_files(
        _csv(
            headings,
            "Front door,Audit MASH contacts,jo.manager@example.gov.uk,31/12/2026,In progress,",
            "Workforce,Reduce caseloads,jo.manager@example.gov.uk,2027-06-30,Completed,Caseloads at 15 since May",
        )
    )
    page.submit("Import actions")
    expect(page.page).to_have_title(re.compile(r"^Actions imported – Annual improvement plan"))
    expect(page.page.locator(".govuk-panel")).to_contain_text("2 actions added to Annual improvement plan")
    expect(page.main_locator()).to_contain_text("Workforce")
    expect(page.page.get_by_role("link", name="Go to the plan")).to_have_attribute("href", f"/plans/{plan_id}")
    assert _actions(app, plan_id) == [("Front door", "Audit MASH contacts", "in_progress"), ("Workforce", "Reduce caseloads", "completed")]
