"""A user's own API tokens: made, shown once, revoked."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import row_for

pytestmark = pytest.mark.browser


def test_create_see_once_and_revoke_a_token(page, make_user):
    page.sign_in(make_user("head_of_service"))
    page.click_link("API tokens", within=page.navigation())
    assert page.page.url == page.url("/account/tokens")
    expect(page.main_locator()).to_contain_text("You have no tokens.")

    # A name is required.
    page.submit("Create token")
    expect(page.page).to_have_title(re.compile(r"^Error: API tokens – "))
    expect(page.error_summary()).to_contain_text("Enter a name for the token")

    page.page.get_by_label("Token name").fill("Power BI tracker")
    page.submit("Create token")

    panel = page.page.locator(".govuk-panel")
    expect(panel).to_contain_text("Your new token")
    token = page.page.locator("#new-token").inner_text().strip()
    assert re.fullmatch(r"qa_[A-Za-z0-9_-]{40,}", token), token
    expect(page.page.locator(".govuk-warning-text")).to_contain_text("It will not be shown again")
    row = row_for(page.page, "Power BI tracker")
    expect(row).to_contain_text(token[:10] + "…")
    expect(row).to_contain_text("Never")

    # Shown once: coming back to the page does not show it again.
    page.visit("/account/tokens")
    expect(page.page.locator(".govuk-panel")).to_have_count(0)
    expect(page.main_locator()).not_to_contain_text(token)
    expect(row_for(page.page, "Power BI tracker")).to_contain_text(token[:10] + "…")

    # Revoke: the button names the token for screen reader users.
    page.submit("Revoke Power BI tracker", within=row_for(page.page, "Power BI tracker"))
    expect(page.success_banner()).to_contain_text("Token ‘Power BI tracker’ revoked")
    row = row_for(page.page, "Power BI tracker")
    expect(row.locator(".govuk-tag")).to_have_text("Revoked")
    expect(row.get_by_role("button", name=re.compile("^Revoke"))).to_have_count(0)


def test_a_revoked_token_no_longer_opens_the_api(page, make_user):
    page.sign_in(make_user("viewer"))
    page.visit("/account/tokens")
    page.page.get_by_label("Token name").fill("Excel")
    page.submit("Create token")
    token = page.page.locator("#new-token").inner_text().strip()

    api = page.page.context.request
    headers = {"Authorization": f"Bearer {token}"}
    assert api.get(page.url("/api/v1/me"), headers=headers).status == 200

    page.submit("Revoke Excel", within=row_for(page.page, "Excel"))
    assert api.get(page.url("/api/v1/me"), headers=headers).status == 401
