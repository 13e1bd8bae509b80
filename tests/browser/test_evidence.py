"""Evidence files in a real browser: choose a file on the GOV.UK file upload, see it
listed on the finding, download it, and remove it; a file that is not allowed gets
the error summary."""

from __future__ import annotations

import re
import struct
import zlib

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import row_for

pytestmark = pytest.mark.browser


def _png() -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00" + b"\x00\x70\xb8" * 2 + b"\x00" + b"\xff\xdd\x00" * 2))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def store(app, tmp_path, monkeypatch):
    folder = tmp_path / "evidence"
    monkeypatch.setitem(app.config, "EVIDENCE_FOLDER", str(folder))
    return folder


def _finding(app, audit_id: int, user_id: int) -> int:
    from qa_audit.audits.models import Audit
    from qa_audit.auth.models import User
    from qa_audit.extensions import db
    from qa_audit.findings import services

    with app.app_context():
        audit, user = db.session.get(Audit, audit_id), db.session.get(User, user_id)
        return services.record_finding(
            audit, {"kind": "strength", "summary": "Strategy meetings are held within a day."}, user
        ).id


def test_upload_a_photo_see_it_listed_download_it_and_remove_it(page, make_user, make_audit, app, store):
    auditor = make_user("auditor", name="Priya Shah")
    audit_id = make_audit("MASH strategy meetings", lead_id=auditor.id, type="strategy_meeting_audit", status="in_progress")
    finding_id = _finding(app, audit_id, auditor.id)

    page.sign_in(auditor)
    page.visit(f"/findings/{finding_id}")
    expect(page.main_locator()).to_contain_text("No evidence files have been added to this finding.")
    page.click_link("Add evidence file")
    expect(page.page.get_by_role("heading", level=1)).to_have_text("Add an evidence file")

    # A web page dressed as a photo is refused, with the GOV.UK error summary.
    page.page.get_by_label("Upload a file").set_input_files(
        {"name": "whiteboard.png", "mimeType": "image/png", "buffer": b"<html><script>alert(1)</script></html>"}
    )
    page.submit("Upload file")
    expect(page.page).to_have_title(re.compile(r"^Error: Add an evidence file – "))
    expect(page.error_summary().locator("li")).to_have_text(
        ["The selected file must be a PDF, Word document, Excel spreadsheet, PNG or JPEG"]
    )
    page.error_summary().get_by_role("link").click()
    expect(page.page.get_by_label("Upload a file")).to_be_focused()

    # A real photo is added and listed.
    page.page.get_by_label("Upload a file").set_input_files({"name": "Whiteboard photo.png", "mimeType": "image/png", "buffer": _png()})
    page.submit("Upload file")
    expect(page.success_banner()).to_contain_text("‘Whiteboard photo.png’ added to the strength")
    row = row_for(page.page, "Whiteboard photo.png")
    expect(row.locator("td")).to_have_text(
        ["Whiteboard photo.png", "PNG image", "1 KB", re.compile(r"^Priya Shah, \d"), re.compile(r"Remove\s+Whiteboard photo.png")]
    )
    assert len(list(store.iterdir())) == 1

    with page.page.expect_download() as downloading:
        row.get_by_role("link", name="Whiteboard photo.png", exact=True).click()
    download = downloading.value
    assert download.suggested_filename == "Whiteboard photo.png"
    with open(download.path(), "rb") as saved:
        assert saved.read() == _png()

    page.click_link("Remove Whiteboard photo.png", exact=False)
    expect(page.page.get_by_role("heading", level=1)).to_have_text("Are you sure you want to remove this evidence file?")
    page.submit("Remove file")
    expect(page.success_banner()).to_contain_text("‘Whiteboard photo.png’ removed")
    expect(page.main_locator()).to_contain_text("No evidence files have been added to this finding.")
    assert list(store.iterdir()) == []


def test_a_viewer_sees_and_downloads_but_cannot_add(page, make_user, make_audit, app, store):
    auditor = make_user("auditor")
    viewer = make_user("viewer", name="Board member")
    audit_id = make_audit("Front door dip sample", lead_id=auditor.id, type="focus_group", status="in_progress")
    finding_id = _finding(app, audit_id, auditor.id)
    from qa_audit.auth.models import User
    from qa_audit.extensions import db
    from qa_audit.findings import evidence
    from qa_audit.findings.models import Finding

    with app.app_context():
        evidence.add_evidence(db.session.get(Finding, finding_id), _png(), db.session.get(User, auditor.id), filename="photo.png")

    page.sign_in(viewer)
    page.visit(f"/findings/{finding_id}")
    expect(row_for(page.page, "photo.png")).to_have_count(1)
    expect(page.main_locator().get_by_role("link", name="Add evidence file")).to_have_count(0)
    expect(page.main_locator().get_by_role("link", name=re.compile("^Remove"))).to_have_count(0)
    with page.page.expect_download() as downloading:
        page.main_locator().get_by_role("link", name="photo.png", exact=True).click()
    assert downloading.value.suggested_filename == "photo.png"
