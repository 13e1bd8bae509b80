"""Pages anyone can see, and the pages for errors."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    "path, title",
    [
        ("/accessibility", "Accessibility statement for Quality assurance audits"),
        ("/cookies", "Cookies"),
        ("/sign-in", "Sign in"),
    ],
)
def test_public_page(page, path, title):
    page.visit(path)

    expect(page.page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.page).to_have_title(re.compile(r" – Quality assurance audits$"))
    # No navigation or sign-out for someone not signed in.
    expect(page.navigation()).to_have_count(0)
    expect(page.page.get_by_role("button", name="Sign out")).to_have_count(0)


def test_footer_links_reach_the_public_pages(page):
    page.visit("/sign-in")
    page.click_link("Accessibility statement", within=page.page.locator(".govuk-footer"))
    assert page.page.url == page.url("/accessibility")
    page.click_link("Cookies", within=page.page.locator(".govuk-footer"))
    assert page.page.url == page.url("/cookies")
    expect(page.page.locator("tbody")).to_contain_text("qa_audit_session")


def test_page_not_found_signed_out(page):
    page.visit("/no-such-page", status=404)

    expect(page.page).to_have_title(re.compile(r"^Page not found – "))
    expect(page.page.get_by_role("heading", level=1)).to_have_text("Page not found")


def test_page_not_found_signed_in(page, make_user):
    page.sign_in(make_user("auditor"))

    page.visit("/admin/users/999999", status=403)  # admin pages refuse before they look
    page.visit("/history/nothing-like-this/1", status=403)
    page.visit("/no-such-page", status=404)

    expect(page.page.get_by_role("heading", level=1)).to_have_text("Page not found")
    page.click_link("Go to the home page")
    assert page.page.url == page.url("/")


def test_a_missing_record_is_page_not_found_for_an_admin(page, make_user):
    page.sign_in(make_user("admin"))

    page.visit("/admin/users/999999", status=404)
    page.visit("/admin/services/999999", status=404)
    page.visit("/history/user/999999", status=404)

    expect(page.page.get_by_role("heading", level=1)).to_have_text("Page not found")
