"""A follow-up visit in a real browser: the auditor opens the earlier visit's actions from
the audit page, judges progress on each, and the report shows it. axe checks every page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import today

pytestmark = pytest.mark.browser


def _earlier_actions(app, earlier_id: int, owner_id: int) -> list[str]:
    from qa_audit.actions.models import Action, ActionStatus
    from qa_audit.extensions import db
    from qa_audit.findings.models import Finding, FindingKind

    titles = ["Launch the online referral form", "LEAN review of domestic abuse triage"]
    with app.app_context():
        finding = Finding(audit_id=earlier_id, kind=FindingKind.AREA_FOR_IMPROVEMENT, summary="Referrals lack detail")
        db.session.add(finding)
        db.session.flush()
        for title, status in zip(titles, (ActionStatus.VERIFIED, ActionStatus.IN_PROGRESS)):
            db.session.add(Action(title=title, owner_id=owner_id, due_date=today() - timedelta(days=30), status=status, finding_id=finding.id))
        db.session.commit()
    return titles


def test_an_auditor_judges_progress_on_the_earlier_visits_actions(page, make_user, make_audit, app):
    auditor = make_user("auditor", name="Priya Shah")
    owner = make_user("viewer", name="Tom Reid")
    earlier = make_audit("MASH visit, August", lead_id=auditor.id, status="completed", scheduled_for=today() - timedelta(days=90))
    make_audit("MASH follow-up visit", lead_id=auditor.id, status="in_progress", follow_up_of_id=earlier)
    done, open_ = _earlier_actions(app, earlier, owner.id)

    page.sign_in(auditor)
    page.click_link("My audits", within=page.navigation())
    page.click_link("MASH follow-up visit")
    page.click_link("Progress on earlier actions from MASH visit, August")
    main = page.main_locator()
    expect(main).to_contain_text("Still open 1")
    section = main.locator("section", has=page.page.get_by_role("heading", name=open_))
    section.get_by_label("Some progress").check()
    section.get_by_label("Note (optional)").fill("Triage is faster; duplication remains")
    page.click(section.get_by_role("button", name="Save judgement"))
    expect(page.page.get_by_role("alert").or_(page.page.locator(".govuk-notification-banner--success"))).to_contain_text("Progress on ‘" + open_ + "’ saved")
    # Saving with no judgement chosen: a message at the field, nothing lost.
    other = page.main_locator().locator("section", has=page.page.get_by_role("heading", name=done))
    other.get_by_label("Note (optional)").fill("Form live since May")
    page.click(other.get_by_role("button", name="Save judgement"))
    expect(page.page.locator(".govuk-error-summary")).to_contain_text("Select sufficient, some or insufficient progress")

    page.click_link("Back to the audit")
    page.click_link("Audit report of MASH follow-up visit")
    expect(page.main_locator()).to_contain_text("Some progress: Triage is faster; duplication remains")
