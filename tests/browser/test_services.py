"""QA leads manage the services (teams) audited; other roles may not."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import row_for

pytestmark = pytest.mark.browser


def test_qa_lead_adds_and_edits_a_service(page, make_user):
    lead = make_user("qa_lead", name="Helen Gray")
    make_user("head_of_service", name="Farah Siddiqui")
    make_user("head_of_service", name="Declan Byrne")
    make_user("auditor", name="Not A Head")

    page.sign_in(lead)
    page.click_link("Services", within=page.navigation())
    assert page.page.url == page.url("/admin/services")
    expect(page.page.get_by_role("heading", level=1)).to_have_text("Services")

    # Add one: the name is required.
    page.click_link("Add a service")
    head = page.page.get_by_label("Head of service")
    expect(head.locator("option")).to_have_text(["None yet", "Declan Byrne", "Farah Siddiqui"])
    page.submit("Save service")
    expect(page.page).to_have_title(re.compile(r"^Error: Add a service – "))
    expect(page.error_summary()).to_contain_text("Enter the name of the service")

    page.page.get_by_label("Name", exact=True).fill("Multi-Agency Safeguarding Hub (MASH)")
    page.page.get_by_label("Description (optional)").fill("The front door for contacts and referrals.")
    page.page.get_by_label("Head of service").select_option(label="Farah Siddiqui")
    page.submit("Save service")

    assert page.page.url == page.url("/admin/services")
    expect(page.success_banner()).to_contain_text("Multi-Agency Safeguarding Hub (MASH) added")
    row = row_for(page.page, "Multi-Agency Safeguarding Hub (MASH)")
    expect(row).to_contain_text("Farah Siddiqui")
    expect(row).to_contain_text("Audited")

    # Edit it: new name, new head of service.
    page.click_link("Multi-Agency Safeguarding Hub (MASH)", within=row)
    expect(page.page.get_by_role("heading", level=1)).to_have_text("Edit Multi-Agency Safeguarding Hub (MASH)")
    expect(page.page.get_by_label("Name", exact=True)).to_have_value("Multi-Agency Safeguarding Hub (MASH)")
    expect(page.page.get_by_label("Head of service")).to_have_value(re.compile(r"^\d+$"))
    expect(page.page.get_by_label("Head of service").locator("option:checked")).to_have_text("Farah Siddiqui")
    page.page.get_by_label("Name", exact=True).fill("MASH and Early Help Hub")
    page.page.get_by_label("Head of service").select_option(label="Declan Byrne")
    page.submit("Save service")

    expect(page.success_banner()).to_contain_text("MASH and Early Help Hub saved")
    row = row_for(page.page, "MASH and Early Help Hub")
    expect(row).to_contain_text("Declan Byrne")
    expect(page.page.locator("tbody tr")).to_have_count(1)

    # Retire it.
    page.click_link("MASH and Early Help Hub", within=row)
    page.page.get_by_role("checkbox").uncheck()
    page.submit("Save service")
    expect(row_for(page.page, "MASH and Early Help Hub")).to_contain_text("Retired")

    # A QA lead may read its history.
    page.click_link("MASH and Early Help Hub", within=row_for(page.page, "MASH and Early Help Hub"))
    page.click_link("History of changes to this service")
    expect(page.page.locator("tbody tr")).to_have_count(3)
    expect(page.page.locator("tbody")).to_contain_text("Multi-Agency Safeguarding Hub (MASH) → MASH and Early Help Hub")


@pytest.mark.parametrize("path", ["/admin/services", "/admin/services/new", "/admin/users"])
def test_an_auditor_is_refused(page, make_user, path):
    page.sign_in(make_user("auditor"))

    page.visit(path, status=403)

    expect(page.page).to_have_title(re.compile(r"^You do not have permission to see this page – "))
    expect(page.page.get_by_role("heading", level=1)).to_have_text("You do not have permission to see this page")
    # The navigation offers only what they may use.
    expect(page.navigation().get_by_role("link", name="Services")).to_have_count(0)
    expect(page.navigation().get_by_role("link", name="Users")).to_have_count(0)

    page.click_link("Go to the home page")
    assert page.page.url == page.url("/")
