"""Evidence files on findings: the service (types read from the content, limits, who
and when, storage) and the pages (upload, download, remove)."""

from __future__ import annotations

import html
import io
import re
import struct
import zipfile
import zlib
from contextlib import contextmanager
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import event, func, select

from qa_audit.errors import Conflict, InvalidInput, NotAllowed
from qa_audit.extensions import db
from qa_audit.findings import evidence, services
from qa_audit.findings.models import EvidenceFile, Finding
from qa_audit.history.models import HistoryEntry

# Real, minimal files of each accepted type ------------------------------------------------


def pdf_bytes() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )


def png_bytes(width: int = 1, height: int = 1) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def jpeg_bytes() -> bytes:
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


def zip_bytes(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<xml/>")
    return buffer.getvalue()


def docx_bytes() -> bytes:
    return zip_bytes("[Content_Types].xml", "_rels/.rels", "word/document.xml", "word/_rels/document.xml.rels")


def xlsx_bytes() -> bytes:
    buffer = io.BytesIO()
    workbook = openpyxl.Workbook()
    workbook.active["A1"] = "Case reference"
    workbook.save(buffer)
    return buffer.getvalue()


def ole_bytes(*streams: str, storages: tuple[str, ...] = ()) -> bytes:
    """An OLE compound file (the container of .doc and .xls) with these entries in its
    directory, which may take more than one sector (a chain in the allocation table)."""
    free, end, fat_sector = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD

    def entry(name: str, kind: int) -> bytes:
        raw = (name + "\0").encode("utf-16-le")
        return raw.ljust(64, b"\0") + struct.pack("<HBB", len(raw), kind, 1) + b"\xff" * 12 + bytes(48)

    entries = [entry("Root Entry", 5)] + [entry(n, 2) for n in streams] + [entry(n, 1) for n in storages]
    directory = b"".join(entries)
    directory += bytes(-len(directory) % 512)
    directory_sectors = len(directory) // 512
    chain = [2 + i for i in range(directory_sectors - 1)] + [end]  # sector 0 is the table, 1.. the directory
    fat = struct.pack("<128I", fat_sector, *chain, *([free] * (127 - len(chain))))
    header = bytearray(512)
    header[0:8] = evidence.OLE_SIGNATURE
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIII", header, 44, 1, 1, 0, 4096)  # FAT sectors, first directory sector
    struct.pack_into("<IIII", header, 60, end, 0, end, 0)  # no mini FAT, no more DIFAT
    struct.pack_into("<109I", header, 76, 0, *([free] * 108))
    return bytes(header) + fat + directory


def doc_bytes() -> bytes:
    return ole_bytes("WordDocument", "1Table", "\x05SummaryInformation")


def xls_bytes() -> bytes:
    return ole_bytes("Workbook", "\x05SummaryInformation")


ACCEPTED = [
    ("report.pdf", pdf_bytes, "application/pdf"),
    ("photo.png", png_bytes, "image/png"),
    ("photo.jpg", jpeg_bytes, "image/jpeg"),
    ("notes.docx", docx_bytes, evidence.DOCX),
    ("tracker.xlsx", xlsx_bytes, evidence.XLSX),
    ("old notes.doc", doc_bytes, "application/msword"),
    ("old tracker.xls", xls_bytes, "application/vnd.ms-excel"),
]

WRONG_TYPE = evidence.WRONG_TYPE
REFUSED = [
    ("a program renamed .pdf", "report.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(200), WRONG_TYPE),
    ("HTML named .png", "photo.png", b"<!DOCTYPE html><html><script>alert(1)</script></html>", WRONG_TYPE),
    ("SVG named .png", "photo.png", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', WRONG_TYPE),
    ("plain text", "notes.pdf", b"Case 10234: no supervision since March.\n", WRONG_TYPE),
    ("a GIF", "photo.gif", b"GIF89a\x01\x00\x01\x00\x80\x00\x00" + bytes(20), WRONG_TYPE),
    ("a plain zip named .docx", "notes.docx", zip_bytes("notes.txt"), WRONG_TYPE),
    ("a zip claiming to be Office without its parts", "notes.docx", zip_bytes("[Content_Types].xml", "_rels/.rels"), WRONG_TYPE),
    ("a PowerPoint named .docx", "slides.docx", zip_bytes("[Content_Types].xml", "ppt/presentation.xml"), WRONG_TYPE),
    ("a broken zip", "notes.docx", b"PK\x03\x04" + bytes(60), WRONG_TYPE),
    ("a Word file with macros", "notes.docx", zip_bytes("[Content_Types].xml", "word/document.xml", "word/vbaProject.bin"), evidence.MACROS),
    ("an old Excel file with macros", "tracker.xls", ole_bytes("Workbook", storages=("_VBA_PROJECT_CUR",)), evidence.MACROS),
    ("an old PowerPoint named .doc", "slides.doc", ole_bytes("PowerPoint Document", "Current User"), WRONG_TYPE),
    ("a password-protected workbook", "tracker.xlsx", ole_bytes("EncryptedPackage", "EncryptionInfo"), evidence.PASSWORD),
    ("an OLE header alone", "notes.doc", evidence.OLE_SIGNATURE + bytes(100), WRONG_TYPE),
    ("a truncated OLE file", "notes.doc", doc_bytes()[:700], WRONG_TYPE),
]


# Fixtures and helpers -----------------------------------------------------------------------


@pytest.fixture(autouse=True)
def store(app, tmp_path) -> Path:
    """Evidence is stored in a folder of the test's own."""
    folder = tmp_path / "evidence"
    app.config["EVIDENCE_FOLDER"] = str(folder)
    app.config["MAIL_OUTBOX"] = str(tmp_path / "outbox")
    return folder


def _stored(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _error_at(page: str, field: str, message: str) -> bool:
    """The message is in the error summary (linking to the field) and at the field."""
    summary = re.search(r'<div class="govuk-error-summary".*?</ul>', page, re.S)
    at_field = re.search(
        rf'<p id="{field}-error" class="govuk-error-message">\s*<span class="govuk-visually-hidden">Error:</span>\s*(.*?)\s*</p>', page, re.S
    )
    return bool(summary and f'href="#{field}"' in summary.group(0) and message in summary.group(0) and at_field and message in at_field.group(1))


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(EvidenceFile))


def _finding_data(**overrides) -> dict:
    data = {"kind": "area_for_improvement", "summary": "Management oversight is not evident on 4 of 10 cases."}
    data.update(overrides)
    return data


@pytest.fixture
def finding(make_user, make_audit):
    """A finding on an in-progress focus group; ``finding.lead`` is its lead auditor."""
    lead = make_user("auditor")
    audit = make_audit("focus_group", status="in_progress", lead=lead, title="Focus group: MASH social workers")
    recorded = services.record_finding(audit, _finding_data(), lead)
    recorded.lead = lead
    return recorded


@pytest.fixture
def lead_client(app, finding):
    """A client signed in as the finding's audit's lead auditor."""
    from tests.conftest import sign_in

    client = app.test_client()
    assert sign_in(client, finding.lead.email).status_code == 302
    client.user = finding.lead
    return client


def _upload(client, finding_id: int, content: bytes, name: str, **kwargs):
    return client.post_form(f"/findings/{finding_id}/evidence/new", {"file": (io.BytesIO(content), name)}, **kwargs)


def _post_big(client, url: str, data: dict):
    """Post a large body. The test client keeps a body over 500KB in a temporary
    file, which it closes only with a response it followed."""
    response = client.post_form(url, data, follow_redirects=True)
    page = _text(response)
    response.close()
    return response, page


@contextmanager
def count_queries():
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


# The service: what a file is ------------------------------------------------------------------


@pytest.mark.parametrize("name, make, content_type", ACCEPTED, ids=[a[0] for a in ACCEPTED])
def test_each_accepted_type_is_recognised_from_its_content(finding, store, name, make, content_type):
    data = make()
    assert evidence.sniff(data) == content_type
    # The name plays no part: the same bytes under a misleading name are the same type.
    added = evidence.add_evidence(finding, data, finding.lead, filename="misleading.txt")
    assert added.content_type == content_type and added.size == len(data)
    assert added.filename == f"misleading.txt.{evidence.ACCEPTED[content_type].extensions[0]}"
    assert (store / added.storage_key).read_bytes() == data
    assert re.fullmatch(r"[0-9a-f]{64}", added.storage_key)


@pytest.mark.parametrize("label, name, data, message", REFUSED, ids=[r[0] for r in REFUSED])
def test_other_content_is_refused_whatever_its_name(finding, store, label, name, data, message):
    with pytest.raises(InvalidInput) as refused:
        evidence.add_evidence(finding, data, finding.lead, filename=name)
    assert refused.value.errors == {"file": [message]}
    assert _count() == 0 and _stored(store) == []


def test_an_old_word_file_whose_directory_takes_several_sectors(finding):
    data = ole_bytes("\x05SummaryInformation", "\x05DocumentSummaryInformation", "1Table", "Data", "ObjectPool", "WordDocument")
    assert len(data) > 512 * 3  # a table sector and two directory sectors after the header
    assert evidence.ole_entry_names(data) >= {"WordDocument", "1Table", "ObjectPool"}
    assert evidence.sniff(data) == evidence.DOC


def test_an_ole_directory_that_loops_is_read_once(finding):
    data = bytearray(doc_bytes())
    struct.pack_into("<I", data, 512 + 4, 1)  # the directory's next sector is itself
    assert "WordDocument" in evidence.ole_entry_names(bytes(data))


def test_empty_missing_and_too_big_files_are_refused(app, finding, store):
    with pytest.raises(InvalidInput) as refused:
        evidence.add_evidence(finding, b"", finding.lead, filename="empty.pdf")
    assert refused.value.errors == {"file": ["The selected file is empty"]}
    with pytest.raises(InvalidInput) as refused:
        evidence.add_evidence(finding, None, finding.lead)
    assert refused.value.errors == {"file": ["Select a file"]}

    app.config["EVIDENCE_MAX_BYTES"] = 2048
    just_right = pdf_bytes().ljust(2048, b" ")
    assert evidence.add_evidence(finding, just_right, finding.lead, filename="a.pdf").size == 2048
    with pytest.raises(InvalidInput) as refused:
        evidence.add_evidence(finding, just_right + b" ", finding.lead, filename="b.pdf")
    assert refused.value.errors == {"file": ["The selected file must be smaller than 2KB"]}
    assert _count() == 1 and len(_stored(store)) == 1


def test_the_request_limit_caps_the_file_limit(app):
    app.config.update(EVIDENCE_MAX_BYTES=10 * 1024 * 1024, MAX_CONTENT_LENGTH=16 * 1024 * 1024)
    assert evidence.max_bytes() == 10 * 1024 * 1024 and evidence.limit_label() == "10MB"
    app.config["MAX_CONTENT_LENGTH"] = 5 * 1024 * 1024
    assert evidence.max_bytes() == 5 * 1024 * 1024 and evidence.too_big_message() == "The selected file must be smaller than 5MB"


@pytest.mark.parametrize(
    "raw, content_type, expected",
    [
        ("../../etc/passwd.pdf", evidence.PDF, "passwd.pdf"),
        ("C:\\Users\\helen\\Documents\\Visit notes.docx", evidence.DOCX, "Visit notes.docx"),
        ("rep\x07ort\r\n.pdf", evidence.PDF, "report.pdf"),
        ("invoice\u202efdp.exe", evidence.PDF, "invoicefdp.exe.pdf"),  # a right-to-left override disguising a program
        ("..hidden.png", evidence.PNG, "hidden.png"),
        ("   ", evidence.PNG, "evidence.png"),
        ("../", evidence.JPEG, "evidence.jpg"),
        (None, evidence.XLSX, "evidence.xlsx"),
        ("Photo.JPEG", evidence.JPEG, "Photo.JPEG"),
        ("scan.pdf", evidence.PNG, "scan.pdf.png"),
        ("Équipe   réunion.xls", evidence.XLS, "Équipe réunion.xls"),
        ("x" * 300 + ".pdf", evidence.PDF, "x" * 251 + ".pdf"),
    ],
)
def test_filenames_are_cleaned_for_showing_and_downloading(raw, content_type, expected):
    name = evidence.safe_filename(raw, content_type)
    assert name == expected and len(name) <= 255


def test_a_name_with_path_parts_never_reaches_the_disk(finding, store, tmp_path):
    added = evidence.add_evidence(finding, pdf_bytes(), finding.lead, filename="../../outside.pdf")
    assert added.filename == "outside.pdf"
    assert _stored(store) == [store / added.storage_key]
    assert not (tmp_path / "outside.pdf").exists() and not (store.parent.parent / "outside.pdf").exists()
    assert not list(store.glob(".upload-*"))  # no temporary file left behind


# The service: who and when ---------------------------------------------------------------------


def test_only_the_audits_people_may_add_or_remove_files(finding, make_user, store):
    added = evidence.add_evidence(finding, png_bytes(), finding.lead, filename="photo.png")
    for role in ("auditor", "viewer", "head_of_service"):
        outsider = make_user(role)
        with pytest.raises(NotAllowed):
            evidence.add_evidence(finding, png_bytes(), outsider, filename="photo.png")
        with pytest.raises(NotAllowed):
            evidence.remove_evidence(added, outsider)
    for role in ("qa_lead", "admin"):
        manager = make_user(role)
        evidence.remove_evidence(evidence.add_evidence(finding, png_bytes(), manager, filename="photo.png"), manager)
    assert _count() == 1 and _stored(store) == [store / added.storage_key]


@pytest.mark.parametrize("status", ["completed", "planned", "cancelled"])
def test_files_change_only_while_the_audit_is_in_progress(finding, store, status):
    added = evidence.add_evidence(finding, png_bytes(), finding.lead, filename="photo.png")
    finding.audit.status = type(finding.audit.status)(status)
    db.session.commit()
    with pytest.raises(Conflict, match="only be recorded while the audit is in progress"):
        evidence.add_evidence(finding, pdf_bytes(), finding.lead, filename="late.pdf")
    with pytest.raises(Conflict):
        evidence.remove_evidence(added, finding.lead)
    assert _count() == 1 and _stored(store) == [store / added.storage_key]


def test_removing_a_file_deletes_it_from_storage_after_the_commit(finding, store):
    added = evidence.add_evidence(finding, pdf_bytes(), finding.lead, filename="report.pdf")
    evidence_id, path = added.id, store / added.storage_key
    evidence.remove_evidence(added, finding.lead)
    assert _count() == 0 and not path.exists()
    events = db.session.scalars(
        select(HistoryEntry.event).where(HistoryEntry.entity == "evidence_file", HistoryEntry.entity_id == evidence_id)
    ).all()
    assert events == ["create", "delete"]


def test_a_failed_commit_leaves_no_stored_file(finding, store, monkeypatch):
    def fail():
        raise RuntimeError("database went away")

    monkeypatch.setattr(db.session, "commit", fail)
    with pytest.raises(RuntimeError):
        evidence.add_evidence(finding, pdf_bytes(), finding.lead, filename="report.pdf")
    monkeypatch.undo()
    assert _stored(store) == [] and _count() == 0


def test_a_removal_that_fails_keeps_the_stored_file(finding, store, monkeypatch):
    added = evidence.add_evidence(finding, pdf_bytes(), finding.lead, filename="report.pdf")
    path = store / added.storage_key

    def fail():
        raise RuntimeError("database went away")

    monkeypatch.setattr(db.session, "commit", fail)
    with pytest.raises(RuntimeError):
        evidence.remove_evidence(added, finding.lead)
    monkeypatch.undo()
    db.session.rollback()
    assert path.exists() and _count() == 1


def test_removing_a_finding_removes_its_files(finding, store):
    files = [evidence.add_evidence(finding, make(), finding.lead, filename=name) for name, make, _ in ACCEPTED[:3]]
    assert len(_stored(store)) == 3
    services.remove_finding(finding, finding.lead)
    assert _count() == 0 and _stored(store) == []
    assert db.session.scalar(select(func.count()).select_from(Finding)) == 0
    deleted = db.session.scalars(
        select(HistoryEntry.entity_id).where(HistoryEntry.entity == "evidence_file", HistoryEntry.event == "delete")
    ).all()
    assert sorted(deleted) == sorted(f.id for f in files)


def test_a_stored_file_that_is_missing_is_a_clear_error(finding, store):
    added = evidence.add_evidence(finding, pdf_bytes(), finding.lead, filename="report.pdf")
    (store / added.storage_key).unlink()
    with pytest.raises(evidence.EvidenceUnavailable, match="‘report.pdf’ is missing from storage"):
        evidence.open_evidence(added)
    with pytest.raises(evidence.EvidenceUnavailable):
        evidence.path_of(added)


def test_the_folder_defaults_to_the_instance_folder(app):
    app.config["EVIDENCE_FOLDER"] = None
    assert evidence.evidence_folder() == Path(app.instance_path) / "evidence"
    app.config["EVIDENCE_FOLDER"] = "files"
    assert evidence.evidence_folder() == Path(app.instance_path) / "files"


# The pages ---------------------------------------------------------------------------------------


def test_upload_a_file_and_see_it_listed(lead_client, finding, store):
    form = _text(lead_client.get(f"/findings/{finding.id}/evidence/new"))
    assert "Add an evidence file" in form and 'enctype="multipart/form-data"' in form
    assert 'type="file"' in form and 'accept=".doc,.docx,.jpeg,.jpg,.pdf,.png,.xls,.xlsx,' in form
    assert "up to 10MB" in form

    response = _upload(lead_client, finding.id, png_bytes(), "Whiteboard photo.png")
    assert response.status_code == 302 and response.location == f"/findings/{finding.id}"
    added = db.session.scalars(select(EvidenceFile)).one()
    assert (added.filename, added.content_type, added.uploaded_by_id) == ("Whiteboard photo.png", "image/png", finding.lead.id)
    assert (store / added.storage_key).read_bytes() == png_bytes()

    page = _text(lead_client.get(response.location))
    assert "‘Whiteboard photo.png’ added to the area for improvement" in page
    row = re.search(r"<tr class=\"govuk-table__row\">\s*<td[^>]*><a[^>]*>Whiteboard photo.png</a>.*?</tr>", page, re.S).group(0)
    assert f'href="/evidence/{added.id}"' in row and "PNG image" in row and "1\u00a0KB" in row and finding.lead.name in row
    assert f'href="/evidence/{added.id}/remove"' in row and "Add evidence file" in page


def test_a_file_is_downloaded_as_an_attachment(lead_client, login_as, finding):
    added = evidence.add_evidence(finding, pdf_bytes(), finding.lead, filename='Visit "notes".pdf')
    viewer = login_as("viewer")
    with viewer.get(f"/evidence/{added.id}") as response:
        assert response.status_code == 200
        assert response.data == pdf_bytes()
        assert response.headers["Content-Type"] == "application/pdf"
        assert response.headers["Content-Disposition"] == 'attachment; filename="Visit \\"notes\\".pdf"'
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Content-Length"] == str(len(pdf_bytes()))
        assert "ETag" not in response.headers and "Last-Modified" not in response.headers


def test_a_name_outside_ascii_is_offered_in_both_forms(lead_client, finding):
    added = evidence.add_evidence(finding, xlsx_bytes(), finding.lead, filename="Équipe réunion.xlsx")
    with lead_client.get(f"/evidence/{added.id}") as response:
        assert response.headers["Content-Disposition"] == (
            "attachment; filename=\"Equipe reunion.xlsx\"; filename*=UTF-8''%C3%89quipe%20r%C3%A9union.xlsx"
        )
        assert response.headers["Content-Type"] == evidence.XLSX


def test_every_role_may_download_and_only_the_audits_people_change(login_as, finding):
    added = evidence.add_evidence(finding, png_bytes(), finding.lead, filename="photo.png")
    for role in ("qa_lead", "admin", "auditor", "head_of_service", "viewer"):
        client = login_as(role)
        with client.get(f"/evidence/{added.id}") as response:
            assert response.status_code == 200 and response.data == png_bytes(), role
        page = _text(client.get(f"/findings/{finding.id}"))
        assert f'href="/evidence/{added.id}"' in page, role
        managers = role in ("qa_lead", "admin")
        assert ("Add evidence file" in page) is managers and (f'href="/evidence/{added.id}/remove"' in page) is managers, role
        expected = 200 if managers else 403
        assert client.get(f"/findings/{finding.id}/evidence/new").status_code == expected, role
        assert client.get(f"/evidence/{added.id}/remove").status_code == expected, role

    viewer = login_as("viewer")
    assert _upload(viewer, finding.id, png_bytes(), "viewer.png").status_code == 403
    assert viewer.post_form(f"/evidence/{added.id}/remove").status_code == 403
    assert _count() == 1


def test_anonymous_users_are_sent_to_sign_in(client, finding):
    added = evidence.add_evidence(finding, png_bytes(), finding.lead, filename="photo.png")
    for url in (f"/evidence/{added.id}", f"/evidence/{added.id}/remove", f"/findings/{finding.id}/evidence/new"):
        response = client.get(url)
        assert response.status_code == 302 and response.location.startswith("/sign-in"), url
        assert b"\x89PNG" not in response.data


def test_unknown_files_and_findings_are_not_found(lead_client):
    for url in ("/evidence/999999", "/evidence/999999/remove", "/findings/999999/evidence/new", "/evidence/99999999999"):
        assert lead_client.get(url).status_code == 404, url


def test_a_missing_stored_file_is_a_page_not_an_error(lead_client, finding, store):
    added = evidence.add_evidence(finding, pdf_bytes(), finding.lead, filename="report.pdf")
    (store / added.storage_key).unlink()
    response = lead_client.get(f"/evidence/{added.id}")
    assert response.status_code == 404
    assert "The file ‘report.pdf’ is missing from storage" in _text(response)


@pytest.mark.parametrize(
    "content, name, message",
    [
        (b"MZ\x90\x00" + bytes(300), "report.pdf", WRONG_TYPE),
        (b"<html><body><script>alert(1)</script></body></html>", "photo.png", WRONG_TYPE),
        (b"", "empty.pdf", "The selected file is empty"),
        (b"", "", "Select a file"),
    ],
    ids=["program named .pdf", "HTML named .png", "empty file", "no file chosen"],
)
def test_bad_files_get_a_message_at_the_field(lead_client, finding, store, content, name, message):
    response = _upload(lead_client, finding.id, content, name)
    assert response.status_code == 200
    page = _text(response)
    assert page.count("<title>Error: ") == 1 and _error_at(page, "file", message)
    assert "Browsers do not keep a chosen file" in page
    assert _count() == 0 and _stored(store) == []


def test_no_file_part_at_all_is_a_message(lead_client, finding):
    page = _text(lead_client.post_form(f"/findings/{finding.id}/evidence/new", {}))
    assert _error_at(page, "file", "Select a file")


def test_an_11mb_file_is_a_message_not_an_error(lead_client, finding, store):
    big = io.BytesIO(pdf_bytes() + b"0" * (11 * 1024 * 1024))
    response, page = _post_big(lead_client, f"/findings/{finding.id}/evidence/new", {"file": (big, "scan.pdf")})
    assert response.status_code == 200 and not response.history
    assert _error_at(page, "file", "The selected file must be smaller than 10MB")
    assert _count() == 0 and _stored(store) == []


def test_a_request_over_the_limit_is_a_message_on_the_upload_page(app, lead_client, finding, store):
    app.config.update(MAX_CONTENT_LENGTH=2 * 1024 * 1024, EVIDENCE_MAX_BYTES=1024 * 1024)  # as 16MB and 10MB would be, faster
    big = io.BytesIO(pdf_bytes() + b"0" * (3 * 1024 * 1024))
    url = f"/findings/{finding.id}/evidence/new"
    response, page = _post_big(lead_client, url, {"file": (big, "scan.pdf")})
    assert [r.status_code for r in response.history] == [303] and response.request.path == url
    assert response.status_code == 200 and "The selected file must be smaller than 1MB. Nothing has been saved." in page
    assert "Add an evidence file" in page
    assert _count() == 0 and _stored(store) == []


def test_a_request_over_the_limit_elsewhere_is_still_the_error_page(app, lead_client, finding):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = lead_client.post_form(f"/findings/{finding.id}/edit", {"summary": "x" * 4096})
    assert response.status_code == 413


def test_a_path_in_the_name_is_stored_safely(lead_client, finding, store, tmp_path):
    response = _upload(lead_client, finding.id, pdf_bytes(), "../../etc/passwd.pdf")
    assert response.status_code == 302
    added = db.session.scalars(select(EvidenceFile)).one()
    assert added.filename == "passwd.pdf" and _stored(store) == [store / added.storage_key]
    assert "‘passwd.pdf’ added" in _text(lead_client.get(response.location))
    with lead_client.get(f"/evidence/{added.id}") as download:
        assert download.headers["Content-Disposition"] == "attachment; filename=passwd.pdf"


def test_control_characters_in_the_name_are_removed(lead_client, finding):
    assert _upload(lead_client, finding.id, jpeg_bytes(), "cam\x1bera\u202e.jpg").status_code == 302
    assert db.session.scalars(select(EvidenceFile.filename)).one() == "camera.jpg"


def test_a_completed_audit_is_locked(lead_client, finding, store):
    added = evidence.add_evidence(finding, png_bytes(), finding.lead, filename="photo.png")
    finding.audit.status = type(finding.audit.status)("completed")
    db.session.commit()
    message = "Findings, cases and details can only be recorded while the audit is in progress; this audit is completed."
    for request in (
        lambda: lead_client.get(f"/findings/{finding.id}/evidence/new"),
        lambda: _upload(lead_client, finding.id, pdf_bytes(), "late.pdf"),
        lambda: lead_client.get(f"/evidence/{added.id}/remove"),
        lambda: lead_client.post_form(f"/evidence/{added.id}/remove"),
    ):
        response = request()
        assert response.status_code == 302 and response.location == f"/findings/{finding.id}"
        page = _text(lead_client.get(response.location))
        assert message in page and "Add evidence file" not in page and "/remove" not in page.split("Evidence files")[1]
    assert _count() == 1 and _stored(store) == [store / added.storage_key]
    with lead_client.get(f"/evidence/{added.id}") as response:  # still there to read
        assert response.status_code == 200


def test_remove_a_file_through_the_page(lead_client, finding, store):
    added = evidence.add_evidence(finding, docx_bytes(), finding.lead, filename="Visit notes.docx")
    page = _text(lead_client.get(f"/evidence/{added.id}/remove"))
    assert "Are you sure you want to remove this evidence file?" in page
    assert "Visit notes.docx" in page and "Word document" in page and finding.lead.name in page
    response = lead_client.post_form(f"/evidence/{added.id}/remove")
    assert response.status_code == 302 and response.location == f"/findings/{finding.id}"
    page = _text(lead_client.get(response.location))
    assert "‘Visit notes.docx’ removed" in page and "No evidence files have been added to this finding." in page
    assert _count() == 0 and _stored(store) == []


def test_another_auditors_removal_is_refused(login_as, finding, store):
    added = evidence.add_evidence(finding, png_bytes(), finding.lead, filename="photo.png")
    other = login_as("auditor")  # an auditor, but not on this audit
    assert other.get(f"/evidence/{added.id}/remove").status_code == 403
    assert other.post_form(f"/evidence/{added.id}/remove").status_code == 403
    assert _count() == 1 and (store / added.storage_key).exists()


def test_removing_a_finding_through_the_page_removes_its_files(lead_client, finding, store):
    for name, make, _ in ACCEPTED:
        assert _upload(lead_client, finding.id, make(), name).status_code == 302
    assert len(_stored(store)) == len(ACCEPTED)
    assert lead_client.post_form(f"/findings/{finding.id}/remove").status_code == 302
    assert _count() == 0 and _stored(store) == []


def test_the_finding_page_makes_the_same_queries_however_many_files(lead_client, login_as, finding):
    def queries() -> int:
        with count_queries() as statements:
            assert lead_client.get(f"/findings/{finding.id}").status_code == 200
        return len(statements)

    evidence.add_evidence(finding, png_bytes(), finding.lead, filename="one.png")
    queries()  # the first request may open a connection
    one = queries()
    for _ in range(4):
        uploader = login_as("qa_lead").user
        evidence.add_evidence(finding, pdf_bytes(), uploader, filename="more.pdf")
    assert queries() == one


@pytest.mark.parametrize(
    "size, label",
    [(1, "1 KB"), (1024, "1 KB"), (1025, "2 KB"), (1024 * 1024 - 1, "1024 KB"), (1024 * 1024, "1.0 MB"), (int(2.46 * 1024 * 1024), "2.5 MB")],
)
def test_sizes_are_shown_in_kb_and_mb(size, label):
    assert evidence.size_label(size) == label
