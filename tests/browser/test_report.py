"""The audit report in a real browser: a viewer opens it from the audit page, prints it
(print media hides the service's navigation) and downloads it as a PDF."""

from __future__ import annotations

import io

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

pytestmark = pytest.mark.browser

VISIT = "Multi-agency visit to the Initial Response Team and MASH"
FOCUS_GROUP = "Practitioner focus group"


def _record(app, audit_id: int, kind: str, summary: str, **fields) -> None:
    from qa_audit.audits.models import Audit
    from qa_audit.extensions import db
    from qa_audit.findings import services

    with app.app_context():
        audit = db.session.get(Audit, audit_id)
        services.record_finding(audit, {"kind": kind, "summary": summary, **fields}, audit.lead_auditor)


def _details(app, audit_id: int) -> None:
    from qa_audit.audits.models import Audit
    from qa_audit.extensions import db
    from qa_audit.recording import services

    with app.app_context():
        audit = db.session.get(Audit, audit_id)
        services.save_details(
            audit,
            audit.lead_auditor,
            {"participants_count": 9, "participant_roles": "Reception team social workers", "themes": "Direct work"},
        )


def test_a_viewer_reads_prints_and_downloads_an_audit_report(page, app, make_user, make_audit, make_service):
    lead = make_user("qa_lead", name="Helen Gray")
    viewer = make_user("viewer", name="Board Member")
    service = make_service("Initial Response Team")
    visit = make_audit(VISIT, lead_id=lead.id, service_id=service, status="in_progress", agencies=["police", "health"])
    part = make_audit(FOCUS_GROUP, lead_id=lead.id, type="focus_group", parent_id=visit, service_id=service, status="in_progress")
    _details(app, part)
    _record(app, visit, "strength", "Decision-making is timely and thresholds fairly applied.", theme="thresholds_and_decision_making")
    _record(app, part, "area_for_improvement", "Domestic abuse triage can duplicate input.", judgement="requires_improvement")

    page.sign_in(viewer)
    page.visit(f"/audits/{visit}")
    page.click_link(f"Audit report of {VISIT}")
    expect(page.page.get_by_role("heading", level=1)).to_have_text(VISIT)
    improvements = page.page.locator("section#area-for-improvement")
    expect(improvements).to_contain_text("Domestic abuse triage can duplicate input.")
    expect(improvements).to_contain_text(f"Focus group: {FOCUS_GROUP}")
    expect(page.page.locator(f"section#part-{part}")).to_contain_text("Reception team social workers")

    # Printing: the service's navigation, banner, back link, footer and the PDF link go.
    printed = [
        page.navigation(),
        page.page.locator(".govuk-phase-banner"),
        page.page.get_by_role("link", name="Back to the audit"),
        page.page.locator(".govuk-footer"),
        page.page.get_by_role("link", name="Download this report as a PDF"),
    ]
    for locator in printed:
        expect(locator).to_be_visible()
    page.page.emulate_media(media="print")
    for locator in printed:
        expect(locator).to_be_hidden()
    expect(page.page.get_by_role("heading", level=1)).to_be_visible()
    expect(improvements).to_be_visible()
    page.page.emulate_media(media="screen")
    expect(page.navigation()).to_be_visible()

    # The PDF, through the link.
    with page.page.expect_download() as downloading:
        page.page.get_by_role("link", name="Download this report as a PDF").click()
    download = downloading.value
    assert download.suggested_filename == "multi-agency-visit-to-the-initial-response-team-and-mash-report.pdf"
    with open(download.path(), "rb") as handle:
        data = handle.read()
    assert data.startswith(b"%PDF-")
    text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(data)).pages)
    assert VISIT in text
    assert "Decision-making is timely and thresholds fairly applied." in text
    assert "Domestic abuse triage can duplicate input." in text
    assert "Sign out" not in text
