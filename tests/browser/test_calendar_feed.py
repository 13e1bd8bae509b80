"""An auditor puts their audits in Outlook: a secret calendar link they can replace
and turn off."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import today

pytestmark = pytest.mark.browser


def _unfold(body: str) -> str:
    """iCalendar folds long lines (RFC 5545 §3.1): undo it before looking for text."""
    return re.sub(r"\r\n[ \t]", "", body)


def _feed(page, url: str):
    """GET the feed as a calendar program would: outside the page, with no cookies needed."""
    return page.page.request.get(url, fail_on_status_code=False)


def test_an_auditor_subscribes_to_their_audits_and_turns_the_link_off(page, make_user, make_service, make_audit):
    priya = make_user("auditor", name="Priya Shah")
    tom = make_user("auditor", name="Tom Reid")
    mash = make_service("Multi-Agency Safeguarding Hub (MASH)")
    on = today() + timedelta(days=10)
    make_audit("MASH visit", lead_id=priya.id, service_id=mash, scheduled_for=on)
    make_audit("Police focus group", lead_id=tom.id, type="focus_group", service_id=mash, scheduled_for=on, auditor_ids=[priya.id])
    make_audit("Finished visit", lead_id=priya.id, service_id=mash, scheduled_for=on, status="completed")
    make_audit("Someone else's visit", lead_id=tom.id, service_id=mash, scheduled_for=on)

    page.sign_in(priya)
    page.click_link("My audits", within=page.navigation())
    page.click_link("See your audits in Outlook or another calendar")
    expect(page.page.get_by_role("heading", level=1)).to_have_text("Your audits in your calendar")
    expect(page.main_locator()).to_contain_text("You do not have a calendar link.")
    expect(page.page.get_by_role("button", name="Turn off calendar link")).to_have_count(0)

    page.submit("Create calendar link")
    feed_url = page.page.locator("#feed-url").inner_text().strip()
    assert re.fullmatch(re.escape(page.base_url) + r"/calendar/[A-Za-z0-9_-]{20,}\.ics", feed_url), feed_url
    expect(page.main_locator()).to_contain_text("Copy the link now. It will not be shown again.")

    response = _feed(page, feed_url)
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/calendar")
    body = _unfold(response.text())
    assert "SUMMARY:Targeted visit: MASH visit\r\n" in body
    assert "SUMMARY:Focus group: Police focus group\r\n" in body  # taking part, not leading
    assert f"DTSTART;VALUE=DATE:{on:%Y%m%d}\r\n" in body
    assert "Finished visit" not in body
    assert "Someone else" not in body
    assert body.count("BEGIN:VEVENT") == 2

    # The link is shown once only.
    page.visit("/my-audits/calendar-feed")
    expect(page.page.locator("#feed-url")).to_have_count(0)
    expect(page.main_locator()).to_contain_text("You have a calendar link.")

    # A new link replaces the old one.
    page.submit("Create a new calendar link")
    new_url = page.page.locator("#feed-url").inner_text().strip()
    assert new_url != feed_url
    assert _feed(page, feed_url).status == 404
    assert _feed(page, new_url).status == 200

    # Turned off, the link answers 404.
    page.submit("Turn off calendar link")
    expect(page.success_banner()).to_contain_text("Calendar link turned off. Calendars using it will no longer update")
    expect(page.main_locator()).to_contain_text("You do not have a calendar link.")
    assert _feed(page, new_url).status == 404
