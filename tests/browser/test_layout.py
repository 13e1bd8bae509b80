"""The page layout every page shares (landmarks, GOV.UK Frontend's JavaScript), and
self-tests of the browser harness."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect


pytestmark = pytest.mark.browser


def test_security_headers_and_csp_nonce(page):
    response = page.visit("/sign-in")

    headers = response.all_headers()
    policy = headers["content-security-policy"]
    assert "script-src 'self' 'nonce-" in policy
    assert "'unsafe-inline'" not in policy
    assert headers["x-frame-options"] == "DENY"
    assert headers["cache-control"] == "no-store"
    # The template's one inline script ran (it carries the nonce) ...
    expect(page.page.locator("body")).to_have_class("govuk-template__body js-enabled govuk-frontend-supported")


def test_the_csp_check_catches_a_blocked_script(page):
    """The harness must notice a CSP violation: an inline script without the nonce."""
    page.visit("/cookies")

    page.page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.injected = 1';"
        " document.body.appendChild(s); }"
    )
    page.page.wait_for_function("true")  # let the console message arrive

    assert page.page.evaluate("window.injected") is None
    assert page.csp_errors and "Content Security Policy" in page.csp_errors[0]
    with pytest.raises(AssertionError, match="Content Security Policy"):
        page.assert_clean()
    page.csp_errors.clear()


def test_footer_is_a_landmark(page):
    page.visit("/cookies")
    expect(page.page.get_by_role("contentinfo").locator(".govuk-footer")).to_have_count(1, timeout=500)


def test_phase_banner_is_in_a_landmark(page):
    page.visit("/cookies")
    expect(page.page.locator("header .govuk-phase-banner, main .govuk-phase-banner")).to_have_count(1, timeout=500)


def test_govuk_frontend_javascript_is_initialised(page):
    page.visit("/sign-in")
    expect(page.page.get_by_role("button", name="Show password")).to_be_visible(timeout=500)


def test_the_axe_check_catches_a_violation(page):
    """The harness must fail a page with an accessibility fault: an image with no alt text."""
    page.visit("/cookies")
    page.page.evaluate(
        "() => { const i = document.createElement('img'); i.src = '/assets/images/favicon.svg';"
        " document.querySelector('main').appendChild(i); }"
    )

    with pytest.raises(AssertionError, match="image-alt"):
        page.check()


def test_a_page_loaded_without_a_check_is_noticed(page):
    """Pages reached other than through the AppPage methods are reported at teardown."""
    page.page.goto(page.url("/cookies"))
    page.page.goto(page.url("/accessibility"))
    page.page.evaluate("1")

    assert page.unchecked == [page.url("/cookies")]
    assert page._pending == page.url("/accessibility")
    page.check()
    assert page._pending is None
    page.unchecked.clear()
