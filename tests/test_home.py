from datetime import date

import pytest

from qa_audit.audits import services


@pytest.fixture
def today(monkeypatch):
    monkeypatch.setattr(services, "today", lambda: date(2026, 11, 24))
    return date(2026, 11, 24)


def test_home_shows_my_next_audits_and_the_quarter(login_as, make_audit, today):
    client = login_as("auditor")
    make_audit("focus_group", title="Focus group: MASH social workers", lead=client.user, scheduled_for=date(2026, 12, 3))
    make_audit("dip_sample", title="Someone else's dip sample", scheduled_for=date(2026, 11, 1))
    page = client.get("/").get_data(as_text=True)
    assert "Focus group: MASH social workers" in page and "Start the audit" in page
    assert "Quarter 3 2026/27" in page
    assert '<h2 class="govuk-heading-m">Overdue to start</h2>' not in page  # auditors do not manage the programme


def test_qa_lead_sees_audits_overdue_to_start(login_as, make_audit, today):
    client = login_as("qa_lead")
    make_audit(title="Late targeted visit", scheduled_for=date(2026, 11, 2))
    make_audit(title="Future targeted visit", scheduled_for=date(2026, 12, 2))
    make_audit(title="Started visit", scheduled_for=date(2026, 11, 3), status="in_progress")
    page = client.get("/").get_data(as_text=True)
    overdue = page.split('<h2 class="govuk-heading-m">Overdue to start</h2>')[1].split("</table>")[0]
    assert "Late targeted visit" in overdue
    assert "Future targeted visit" not in overdue and "Started visit" not in overdue
