"""Signing in and out in a real browser, and getting around with the keyboard."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_empty_sign_in_shows_the_error_summary(page):
    page.visit("/sign-in")
    expect(page.page).to_have_title(re.compile(r"^Sign in – "))

    page.submit("Sign in")

    expect(page.page).to_have_title(re.compile(r"^Error: Sign in – "))
    summary = page.error_summary()
    expect(summary).to_be_visible()
    expect(summary.get_by_role("heading", name="There is a problem")).to_be_visible()
    # Each message in the summary links to its field, and is repeated at the field.
    email_link = summary.get_by_role("link", name="Enter your email address")
    password_link = summary.get_by_role("link", name="Enter your password")
    expect(email_link).to_have_attribute("href", "#email")
    expect(password_link).to_have_attribute("href", "#password")
    expect(page.page.locator("#email-error")).to_contain_text("Enter your email address")
    expect(page.page.locator("#password-error")).to_contain_text("Enter your password")

    # Following a summary link puts the cursor in the field that is wrong.
    password_link.click()
    expect(page.page.locator("#password")).to_be_focused()


def test_wrong_password_is_refused(page, make_user):
    user = make_user("auditor")
    page.sign_in(user, password="not-the-right-password")

    expect(page.page).to_have_title(re.compile(r"^Error: Sign in – "))
    expect(page.error_summary()).to_contain_text("Enter a correct email address and password")
    # The email address is kept, the password is not.
    expect(page.page.get_by_label("Email address")).to_have_value(user.email)
    expect(page.page.get_by_label("Password", exact=True)).to_have_value("")


def test_sign_in_and_sign_out(page, make_user):
    user = make_user("qa_lead", name="Priya Chandran")
    page.sign_in(user)

    assert page.page.url == page.url("/")
    expect(page.page).to_have_title(re.compile(r"^Home – "))
    expect(page.page.get_by_role("heading", level=1)).to_have_text("Hello, Priya Chandran")
    expect(page.page.locator("header")).to_contain_text("Priya Chandran")

    page.sign_out()

    assert page.page.url == page.url("/sign-in")
    expect(page.success_banner()).to_contain_text("You have signed out")
    expect(page.page.get_by_role("button", name="Sign out")).to_have_count(0)

    # Signed out means signed out: the home page sends them back to sign in.
    page.visit("/")
    assert page.page.url.startswith(page.url("/sign-in"))


def test_a_protected_page_returns_there_after_sign_in(page, make_user):
    admin = make_user("admin")
    page.visit("/admin/users")
    assert page.page.url.startswith(page.url("/sign-in?next="))

    page.page.get_by_label("Email address").fill(admin.email)
    page.page.get_by_label("Password", exact=True).fill(admin.password)
    page.submit("Sign in")

    assert page.page.url == page.url("/admin/users")
    expect(page.page.get_by_role("heading", level=1)).to_have_text("Users")


@pytest.mark.parametrize("signed_in", [False, True], ids=["signed-out", "signed-in"])
def test_skip_link_is_the_first_thing_to_tab_to(page, make_user, signed_in):
    if signed_in:
        page.sign_in(make_user("admin"))
        page.visit("/admin/users")
    else:
        page.visit("/sign-in")

    page.page.keyboard.press("Tab")

    focused = page.page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Skip to main content"
    expect(page.page.get_by_role("link", name="Skip to main content")).to_be_focused()
    expect(page.page.get_by_role("link", name="Skip to main content")).to_be_visible()

    # Following it skips the header: the next Tab lands inside the main content.
    page.page.keyboard.press("Enter")
    # A same-page jump: the address changes asynchronously, so wait for it.
    expect(page.page).to_have_url(re.compile(r"#main-content$"))
    page.page.keyboard.press("Tab")
    assert page.page.evaluate("!!document.activeElement.closest('main')"), page.page.evaluate(
        "document.activeElement.outerHTML"
    )


def test_sign_in_works_with_the_keyboard_alone(page, make_user):
    user = make_user("viewer", name="Tomasz Nowak")
    page.visit("/sign-in")

    # Tab through the page to the email field, then type and submit without a mouse.
    for _ in range(30):
        page.page.keyboard.press("Tab")
        if page.page.evaluate("document.activeElement.id") == "email":
            break
    else:
        pytest.fail("the email field cannot be reached with Tab")
    page.page.keyboard.type(user.email)
    page.page.keyboard.press("Tab")
    assert page.page.evaluate("document.activeElement.id") == "password"
    page.page.keyboard.type(user.password)
    with page.page.expect_navigation():
        page.page.keyboard.press("Enter")
    page.check()

    expect(page.page.get_by_role("heading", level=1)).to_have_text("Hello, Tomasz Nowak")
