"""An administrator manages user accounts in a real browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from qa_audit.types import utcnow
from tests.browser.conftest import Person, row_for, set_user

pytestmark = pytest.mark.browser

NEW_PASSWORD = "Lantern-Orchard-Velvet-93"
RESET_PASSWORD = "Copper-Meadow-Thistle-58"


def _status(page):
    """The value of the Status row of the user's summary list."""
    return page.page.locator(".govuk-summary-list__row", has_text="Status").locator(".govuk-summary-list__value")


def test_admin_adds_and_manages_a_user(page, new_page, make_user, app):
    admin = make_user("admin", name="Amara Okafor")
    page.sign_in(admin)

    # Users, through the header navigation.
    page.click_link("Users", within=page.navigation())
    assert page.page.url == page.url("/admin/users")
    users_link = page.navigation().get_by_role("link", name="Users")
    expect(users_link).to_have_attribute("aria-current", re.compile(r"^(page|true)$"))

    # Add a user: a mistake first, so the error summary is checked too.
    page.click_link("Add a user")
    page.page.get_by_label("Full name").fill("Joanne Whitfield")
    page.page.get_by_label("Email address").fill("joanne.whitfield@example.gov.uk")
    page.page.get_by_role("radio", name="Auditor").check()
    page.page.get_by_label("Password", exact=True).fill("short")
    page.submit("Add user")
    expect(page.page).to_have_title(re.compile(r"^Error: Add a user – "))
    expect(page.error_summary()).to_contain_text("Password must be 12 characters or more")
    # What was typed is kept (except the password).
    expect(page.page.get_by_label("Full name")).to_have_value("Joanne Whitfield")
    expect(page.page.get_by_role("radio", name="Auditor")).to_be_checked()

    page.page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.submit("Add user")

    assert page.page.url == page.url("/admin/users")
    expect(page.success_banner()).to_contain_text("Joanne Whitfield added as Auditor")
    row = row_for(page.page, "joanne.whitfield@example.gov.uk")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Auditor")
    expect(row).to_contain_text("Active")
    expect(row).to_contain_text("Never")

    # Open them and change their role.
    page.click_link("Joanne Whitfield", within=row)
    expect(page.page.get_by_role("heading", level=1)).to_have_text("Joanne Whitfield")
    expect(_status(page)).to_have_text("Active")
    expect(page.page.get_by_role("radio", name="Auditor")).to_be_checked()
    page.page.get_by_role("radio", name="QA lead").check()
    page.submit("Save details")

    assert page.page.url == page.url("/admin/users")
    expect(page.success_banner()).to_contain_text("Joanne Whitfield’s details saved")
    expect(row_for(page.page, "joanne.whitfield@example.gov.uk")).to_contain_text("QA lead")

    # Deactivate, then reactivate.
    page.click_link("Joanne Whitfield", within=row_for(page.page, "joanne.whitfield@example.gov.uk"))
    user_url = page.page.url
    page.submit("Deactivate account")
    assert page.page.url == user_url
    expect(page.success_banner()).to_contain_text("Joanne Whitfield deactivated: they can no longer sign in")
    expect(_status(page)).to_have_text("Deactivated")
    expect(page.page.get_by_role("button", name="Deactivate account")).to_have_count(0)

    page.submit("Reactivate account")
    expect(page.success_banner()).to_contain_text("Joanne Whitfield reactivated")
    expect(_status(page)).to_have_text("Active")

    # Reset their password.
    page.click_link("Reset password")
    expect(page.page.get_by_role("heading", level=1)).to_have_text("Reset password")
    page.page.get_by_label("New password").fill(RESET_PASSWORD)
    page.submit("Reset password")
    assert page.page.url == user_url
    expect(page.success_banner()).to_contain_text("Joanne Whitfield’s password reset and their account unlocked")

    # The history of the account shows every change, newest first.
    page.click_link("History of changes to this user")
    expect(page.page.get_by_role("heading", level=1)).to_have_text("History of changes")
    rows = page.page.locator("tbody tr")
    expect(rows.first).to_be_visible()
    assert rows.count() >= 5  # created, role, deactivated, reactivated, password reset
    expect(rows.last).to_contain_text("Created")
    expect(rows.last).to_contain_text("Amara Okafor")
    expect(page.page.locator("tbody")).to_contain_text("auditor → qa_lead")
    expect(page.page.locator("tbody")).to_contain_text("Changed")
    expect(page.page.locator("tbody")).not_to_contain_text(NEW_PASSWORD)

    # The new user can sign in with the password the administrator reset.
    joanne = new_page()
    joanne.sign_in(Person(0, "joanne.whitfield@example.gov.uk", "Joanne Whitfield", "qa_lead", RESET_PASSWORD))
    expect(joanne.page.get_by_role("heading", level=1)).to_have_text("Hello, Joanne Whitfield")
    expect(joanne.page.locator(".govuk-caption-l")).to_have_text("QA lead")


def test_admin_unlocks_a_locked_account(page, make_user, app):
    admin = make_user("admin")
    locked = make_user("auditor", name="Kwame Mensah")
    set_user(app, locked.id, failed_logins=10, locked_at=utcnow())

    page.sign_in(admin)
    page.click_link("Users", within=page.navigation())
    row = row_for(page.page, locked.email)
    expect(row.locator(".govuk-tag")).to_have_text("Locked")

    page.click_link("Kwame Mensah", within=row)
    expect(_status(page)).to_have_text("Locked")
    expect(page.page.locator(".govuk-summary-list__row", has_text="Failed sign-ins in a row")).to_contain_text("10")

    page.submit("Unlock account")

    expect(page.success_banner()).to_contain_text("Kwame Mensah’s account unlocked")
    expect(_status(page)).to_have_text("Active")
    expect(page.page.locator(".govuk-summary-list__row", has_text="Failed sign-ins in a row")).to_contain_text("0")
    expect(page.page.get_by_role("button", name="Unlock account")).to_have_count(0)

    from qa_audit.auth.models import User
    from qa_audit.extensions import db

    with app.app_context():
        user = db.session.scalar(select(User).where(User.id == locked.id))
        assert user.locked_at is None and user.failed_logins == 0


def test_a_locked_user_is_told_to_ask_their_administrator(page, make_user, app):
    locked = make_user("auditor")
    set_user(app, locked.id, failed_logins=10, locked_at=utcnow())

    page.sign_in(locked)

    expect(page.error_summary()).to_contain_text("This account is locked after too many attempts to sign in")


def test_admin_cannot_deactivate_themselves(page, make_user):
    admin = make_user("admin", name="Solo Admin")
    page.sign_in(admin)
    page.click_link("Users", within=page.navigation())
    page.click_link("Solo Admin", within=row_for(page.page, admin.email))

    expect(page.page.get_by_role("button", name="Deactivate account")).to_have_count(0)
