"""The audit report: its page for each type of audit, the findings grouped by kind,
compliance checked by hand, a fixed number of queries, the PDF, and who may read it."""

from __future__ import annotations

import html
import io
import logging
import re
from datetime import date, datetime, timezone

import pytest
from flask import url_for
from pypdf import PdfReader
from sqlalchemy import event

from qa_audit.audits.models import AuditStatus
from qa_audit.extensions import db
from qa_audit.findings import services as finding_rules
from qa_audit.findings.models import EvidenceFile
from qa_audit.recording import services as recording_rules

ALL_ROLES = ("admin", "qa_lead", "auditor", "head_of_service", "viewer")


@pytest.fixture(autouse=True)
def outbox(app, tmp_path):
    """Concern emails go to a folder of the test's own."""
    app.config["MAIL_OUTBOX"] = str(tmp_path / "outbox")


def _text(response) -> str:
    assert response.status_code == 200, response.status_code
    return html.unescape(response.get_data(as_text=True))


def _plain(fragment: str) -> str:
    """The text of some HTML, tags dropped and spaces collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment)).strip()


def _section(page: str, section_id: str) -> str:
    match = re.search(rf'<section class="[^"]*" id="{section_id}".*?</section>', page, re.S)
    assert match, f"no section {section_id}"
    return match.group(0)


def _cells(table: str) -> list[str]:
    return [_plain(cell) for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", table, re.S)]


def _finding(audit, kind: str, summary: str, **fields):
    return finding_rules.record_finding(audit, {"kind": kind, "summary": summary, **fields}, audit.lead_auditor)


def _complete(audit) -> None:
    audit.status = AuditStatus.COMPLETED
    audit.started_at = datetime(2019, 11, 12, 9, 30, tzinfo=timezone.utc)
    audit.completed_at = datetime(2019, 11, 12, 16, 0, tzinfo=timezone.utc)
    db.session.commit()


@pytest.fixture
def dip_sample(make_audit, make_question_set):
    """An in-progress dip sample of 4 cases, answered so that (by hand):
    Q1 met, met, partially met, not applicable → 2 of 3 = 66.7%;
    Q2 met, not met, not met, met → 2 of 4 = 50%;
    overall 4 of 7 = 57.1%."""

    def make(**fields):
        questions = make_question_set(
            "Younger children", ["Were medical investigations undertaken?", "Was a strategy meeting held?"]
        )
        audit = make_audit("dip_sample", status="in_progress", question_set_id=questions.id, **fields)
        q1, q2 = [str(q.id) for q in audit.question_set.questions]
        lead = audit.lead_auditor
        for reference, answers in (
            ("CIN/001", {q1: "met", q2: "met"}),
            ("CIN/002", {q1: "met", q2: "not_met"}),
            ("CIN/003", {q1: "partially_met", q2: "not_met"}),
            ("CIN/004", {q1: "not_applicable", q2: "met"}),
        ):
            recording_rules.add_case(audit, lead, reference, answers)
        return audit

    return make


def _focus_group(make_audit, **fields):
    audit = make_audit("focus_group", status="in_progress", **fields)
    recording_rules.save_details(
        audit,
        audit.lead_auditor,
        {
            "participants_count": 7,
            "participant_roles": "Social workers in the MASH",
            "facilitator": "Head of Children's Quality Assurance",
            "themes": "Supervision\nWorkload\nCo-location",
            "key_messages": "Supervision and support are sufficient.",
            "assurance_statement": "Workloads are manageable.",
        },
    )
    return audit


def _strategy_meeting(make_audit, **fields):
    audit = make_audit("strategy_meeting_audit", status="in_progress", **fields)
    recording_rules.save_details(
        audit,
        audit.lead_auditor,
        {
            "meeting_date": date(2019, 11, 12),
            "agencies_invited": ["social_care", "police", "health", "education"],
            "agencies_attended": ["social_care", "police", "health"],
            "within_timescale": True,
            "chairing_quality": "outstanding",
            "agency_contributions": {"health": "outstanding", "police": "good"},
            "decision_recorded": False,
        },
    )
    return audit


# Each type of audit --------------------------------------------------------------------


def test_a_dip_sample_report_shows_compliance_as_calculated_by_hand(login_as, make_user, make_service, make_audit, dip_sample):
    earlier = make_audit("dip_sample", title="Younger children: August dip sample")
    auditor = make_user("auditor", name="Sam Okafor")
    audit = dip_sample(
        title="Younger children: medical investigations",
        purpose="Check that medical investigations are undertaken for younger children.",
        service=make_service("Initial Response Team"),
        auditor_ids=[auditor.id],
        agencies=["health", "social_care"],
        follow_up_of_id=earlier.id,
    )
    _finding(audit, "strength", "Medical investigations were undertaken where needed.", theme="timeliness", judgement="good")
    page = _text(login_as("viewer").get(f"/audits/{audit.id}/report"))

    assert "<title>Report: Younger children: medical investigations – " in page
    facts = _plain(re.search(r'<dl class="govuk-summary-list app-report__facts">.*?</dl>', page, re.S).group(0))
    for fact in (
        "Type Dip sample",
        "Service audited Initial Response Team",
        "Status In progress",
        "Scheduled date 1 December 2026",
        "Completed Not completed",
        f"Lead auditor {audit.lead_auditor.name}",
        "Other auditors Sam Okafor",
        "Agencies taking part Health Children's social care",
        "Follows up Younger children: August dip sample (dip sample,",
    ):
        assert fact in facts, fact
    assert f'href="http://localhost/audits/{earlier.id}/report"' in page
    assert "This audit is in progress: the report may change until it is completed." in page
    assert "Check that medical investigations are undertaken for younger children." in page

    method = page.split("Method: dip sample")[1].split('id="findings"')[0]
    assert "Question set Younger children" in _plain(method)
    assert "Cases sampled 4" in _plain(method)
    assert "Overall compliance 57.1%" in _plain(method)
    table = re.search(rf'<table class="govuk-table" id="compliance-table-{audit.id}">.*?</table>', page, re.S).group(0)
    assert _cells(table)[6:] == [
        "Q1 Were medical investigations undertaken?", "2", "1", "0", "1", "66.7%",
        "Q2 Was a strategy meeting held?", "2", "0", "2", "0", "50%",
        "Overall", "4", "1", "2", "1", "57.1%",
    ]  # fmt: skip
    chart = re.search(r'<figure class="app-bar-chart">.*?</figure>', page, re.S).group(0)
    assert re.findall(r"app-bar--(\d+)", chart) == ["67", "50", "57"]
    assert "style=" not in page.split("<main")[1]


def test_a_dip_sample_report_says_when_answers_are_missing(login_as, make_audit, make_question_set):
    questions = make_question_set("Repeat contacts", ["Was the contact repeated?", "Was it passed to early help?"])
    audit = make_audit("dip_sample", status="in_progress", question_set_id=questions.id)
    q1 = str(audit.question_set.questions[0].id)
    recording_rules.add_case(audit, audit.lead_auditor, "CIN/010", {q1: "met"})
    recording_rules.add_case(audit, audit.lead_auditor, "CIN/011")
    page = _text(login_as("viewer").get(f"/audits/{audit.id}/report"))
    assert "3 answers are still missing, so these figures may change." in page
    assert "Overall compliance 100%" in _plain(page)


def test_a_focus_group_report_shows_its_details(login_as, make_audit):
    audit = _focus_group(make_audit, title="Focus group: MASH social workers")
    _finding(audit, "strength", "Quality of supervision and support is sufficient.", theme="supervision")
    page = _text(login_as("viewer").get(f"/audits/{audit.id}/report"))
    method = _plain(page.split("Method: focus group")[1].split('id="findings"')[0])
    for fact in (
        "Number of participants 7",
        "Participants' roles Social workers in the MASH",
        "Facilitator Head of Children's Quality Assurance",
        "Themes discussed Supervision Workload Co-location",
        "Key messages Supervision and support are sufficient.",
        "Assurance statement Workloads are manageable.",
    ):
        assert fact in method, fact
    assert "Quality of supervision and support is sufficient." in _section(page, "strength")


def test_a_strategy_meeting_report_shows_attendance_and_contributions(login_as, make_audit):
    audit = _strategy_meeting(make_audit, title="Observed strategy meeting")
    page = _text(login_as("viewer").get(f"/audits/{audit.id}/report"))
    method = _plain(page.split("Method: strategy meeting audit")[1].split('id="findings"')[0])
    for fact in (
        "Date of the meeting 12 November 2019",
        "Agencies invited Children's social care Police Health Education",
        "Agencies that attended Children's social care Police Health",
        "Held within timescale Yes",
        "Quality of chairing Outstanding",
        "Children's social care: quality of contribution Not recorded",
        "Police: quality of contribution Good",
        "Health: quality of contribution Outstanding",
        "Decision recorded No",
    ):
        assert fact in method, fact
    assert "No findings were recorded." in page


def test_details_not_yet_recorded_are_said_so(login_as, make_audit):
    focus_group = make_audit("focus_group", status="planned")
    meeting = make_audit("strategy_meeting_audit", status="planned")
    client = login_as("viewer")
    assert "No focus group details were recorded." in _text(client.get(f"/audits/{focus_group.id}/report"))
    assert "No strategy meeting details were recorded." in _text(client.get(f"/audits/{meeting.id}/report"))


def test_a_targeted_visit_report_shows_its_parts_and_their_findings_by_method(login_as, make_audit, make_service, dip_sample):
    mash = make_service("Multi-Agency Safeguarding Hub (MASH)")
    earlier = make_audit("targeted_visit", title="Targeted visit to the MASH, August 2019", service=mash)
    visit = make_audit(
        "targeted_visit",
        status="in_progress",
        title="Follow-up targeted visit to the MASH",
        purpose="Assurance of decision-making after contact and referral.\nProgress on the August actions.",
        service=mash,
        follow_up_of_id=earlier.id,
        agencies=["social_care", "police", "health", "education"],
    )
    sample = dip_sample(title="Audit of referrals", parent_id=visit.id, service=mash, scheduled_for=date(2026, 11, 1))
    group = _focus_group(make_audit, title="Focus group: MASH social workers", parent_id=visit.id, service=mash, scheduled_for=date(2026, 11, 2))
    meeting = _strategy_meeting(make_audit, title="Observed strategy meeting", parent_id=visit.id, service=mash, scheduled_for=date(2026, 11, 3))
    make_audit("focus_group", title="Unrelated focus group", status="in_progress")  # not part of the visit

    _finding(visit, "strength", "Management arrangements are more resilient.", theme="management_oversight")
    _finding(sample, "strength", "Thresholds are appropriately applied.", theme="thresholds_and_decision_making", judgement="good")
    _finding(sample, "area_for_improvement", "Referrals can lack detail and clarity of purpose.", theme="referral_quality", judgement="requires_improvement")
    _finding(group, "strength", "Workloads have stabilised for MASH social workers.", theme="workload")
    _finding(meeting, "concern", "A decision to hold a child protection enquiry was not recorded.", evidence="Case 20412: no record of the decision.")

    page = _text(login_as("viewer").get(f"/audits/{visit.id}/report"))
    assert "Audit report: targeted visit" in page
    assert "Assurance of decision-making after contact and referral." in page and "Progress on the August actions." in page
    assert "Follows up Targeted visit to the MASH, August 2019" in _plain(page)
    assert "The visit used 3 methods" in page

    parts = _cells(re.search(r'<table class="govuk-table" id="parts-table">.*?</table>', page, re.S).group(0))
    assert parts[5:] == [
        "Dip sample", "Audit of referrals", "1 November 2026", "In progress", "2",
        "Focus group", "Focus group: MASH social workers", "2 November 2026", "In progress", "1",
        "Strategy meeting audit", "Observed strategy meeting", "3 November 2026", "In progress", "1",
    ]  # fmt: skip

    # Each part's own summary.
    assert "Overall compliance 57.1%" in _plain(_section(page, f"part-{sample.id}"))
    assert "Number of participants 7" in _plain(_section(page, f"part-{group.id}"))
    assert "Quality of chairing Outstanding" in _plain(_section(page, f"part-{meeting.id}"))
    assert "Unrelated focus group" not in page

    # The findings of the visit and of its parts, grouped, each marked with its method.
    assert "5 findings, from the visit and its parts: 3 strengths, 1 area for improvement and 1 concern." in page
    strengths = _section(page, "strength")
    improvements = _section(page, "area-for-improvement")
    concerns = _section(page, "concern")
    assert "Management arrangements are more resilient." in strengths and "Found by The visit itself" in _plain(strengths)
    assert "Thresholds are appropriately applied." in strengths
    assert f'Dip sample: <a class="govuk-link" href="#part-{sample.id}">Audit of referrals</a>' in strengths
    assert f'Focus group: <a class="govuk-link" href="#part-{group.id}">Focus group: MASH social workers</a>' in strengths
    assert "Referrals can lack detail and clarity of purpose." in improvements
    assert "Theme Referral quality Judgement Requires improvement Found by Dip sample: Audit of referrals" in _plain(improvements)
    assert "A decision to hold a child protection enquiry was not recorded." in concerns
    assert "Strategy meeting audit: Observed strategy meeting" in _plain(concerns)
    assert "Evidence Case 20412: no record of the decision." in _plain(concerns)
    for summary in ("Referrals can lack", "A decision to hold"):
        assert summary not in strengths
    assert "Thresholds are appropriately" not in improvements + concerns


def test_a_part_has_a_report_of_its_own(login_as, make_audit):
    visit = make_audit("targeted_visit", title="Multi-agency visit to the Initial Response Team")
    group = _focus_group(make_audit, title="Practitioner focus group", parent_id=visit.id)
    _finding(group, "area_for_improvement", "Domestic abuse triage can duplicate input.")
    page = _text(login_as("viewer").get(f"/audits/{group.id}/report"))
    assert "Part of Multi-agency visit to the Initial Response Team" in _plain(page)
    assert f'href="http://localhost/audits/{visit.id}/report"' in page
    assert "Domestic abuse triage can duplicate input." in _section(page, "area-for-improvement")
    assert "Found by" not in page  # one method: nothing to tell apart


def test_a_visit_without_parts_says_so(login_as, make_audit):
    visit = make_audit("targeted_visit")
    page = _text(login_as("viewer").get(f"/audits/{visit.id}/report"))
    assert "No dip samples, focus groups or strategy meeting audits were part of this visit." in page
    assert "No purpose was recorded." in page
    for section in ("strength", "area-for-improvement", "concern"):
        assert "None recorded." in _section(page, section)


def test_a_completed_report_gives_its_dates_and_a_cancelled_one_its_reason(login_as, make_audit):
    done = _focus_group(make_audit, title="Completed focus group")
    _complete(done)
    client = login_as("viewer")
    page = _text(client.get(f"/audits/{done.id}/report"))
    facts = _plain(re.search(r'<dl class="govuk-summary-list app-report__facts">.*?</dl>', page, re.S).group(0))
    assert "Status Completed" in facts
    assert "Started 12 November 2019 at 9:30am" in facts and "Completed 12 November 2019 at 4:00pm" in facts
    assert "the report may change" not in page

    cancelled = make_audit("focus_group", title="Cancelled focus group")
    cancelled.status = AuditStatus.CANCELLED
    cancelled.cancellation_reason = "The team was moving office."
    db.session.commit()
    page = _text(client.get(f"/audits/{cancelled.id}/report"))
    assert "This audit was cancelled." in page
    assert "Reason for cancelling The team was moving office." in _plain(page)


def test_evidence_files_are_listed_by_name_with_a_link(app, login_as, make_audit):
    audit = make_audit("focus_group", status="in_progress")
    finding = _finding(audit, "area_for_improvement", "Supervision records are not always on file.")
    for name, size in (("supervision-notes.pdf", 2048), ("photo of whiteboard.jpg", 3 * 1024 * 1024 + 1)):
        db.session.add(
            EvidenceFile(finding=finding, filename=name, content_type="application/pdf", size=size, storage_key=f"key-{name[:10]}")
        )
    db.session.commit()
    page = _text(login_as("viewer").get(f"/audits/{audit.id}/report"))
    files = re.search(r"Evidence files.*?</ul>", page, re.S).group(0)
    first, second = finding.files
    with app.test_request_context():
        first_url, second_url = (url_for("findings.download_evidence", evidence_id=f.id, _external=True) for f in (first, second))
    assert f'href="{first_url}">supervision-notes.pdf</a> (2 KB)' in files
    assert f'href="{second_url}">photo of whiteboard.jpg</a> (3.0 MB)' in files


def test_the_audit_page_links_to_the_report(login_as, make_audit):
    audit = make_audit("dip_sample")
    page = _text(login_as("viewer").get(f"/audits/{audit.id}"))
    assert f'<a class="govuk-link" href="/audits/{audit.id}/report">Audit report<span class="govuk-visually-hidden"> of {audit.title}</span></a>' in page
    report = _text(login_as("viewer").get(f"/audits/{audit.id}/report"))
    assert f'href="/audits/{audit.id}/report.pdf" download>Download this report as a PDF</a>' in report


# Who may read it --------------------------------------------------------------------------


@pytest.mark.parametrize("role", ALL_ROLES)
def test_every_signed_in_role_reads_any_report(login_as, make_audit, role):
    audit = _focus_group(make_audit, title="MASH focus group")
    _finding(audit, "strength", "Co-location has had a positive impact.")
    page = _text(login_as(role).get(f"/audits/{audit.id}/report"))
    assert "Co-location has had a positive impact." in page


def test_anonymous_users_are_sent_to_sign_in(client, make_audit):
    audit = make_audit("focus_group")
    for url in (f"/audits/{audit.id}/report", f"/audits/{audit.id}/report.pdf"):
        response = client.get(url)
        assert response.status_code == 302 and response.location.startswith("/sign-in"), url


def test_an_audit_that_does_not_exist_is_not_found(login_as):
    client = login_as("viewer")
    for url in ("/audits/99999/report", "/audits/99999/report.pdf", "/audits/99999999999999999999/report"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Page not found" in response.get_data(as_text=True)


# Queries ------------------------------------------------------------------------------


def _queries(client, url: str) -> int:
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(statements)


def test_the_report_makes_the_same_number_of_queries_as_parts_and_findings_grow(login_as, make_audit, make_user, dip_sample):
    client = login_as("viewer")
    visit = make_audit("targeted_visit", status="in_progress")

    def add_parts():
        sample = dip_sample(parent_id=visit.id, auditor_ids=[make_user("auditor").id])
        group = _focus_group(make_audit, parent_id=visit.id, agencies=["police"])
        meeting = _strategy_meeting(make_audit, parent_id=visit.id)
        for audit in (visit, sample, group, meeting):
            finding = _finding(audit, "area_for_improvement", "Something to improve.", theme="recording")
            db.session.add(EvidenceFile(finding=finding, filename="notes.pdf", content_type="application/pdf", size=10, storage_key=f"k{finding.id}"))
            _finding(audit, "strength", "Something done well.")
        db.session.commit()

    add_parts()
    client.get(f"/audits/{visit.id}/report")  # warm up
    few = _queries(client, f"/audits/{visit.id}/report")
    for _ in range(3):
        add_parts()
    assert _queries(client, f"/audits/{visit.id}/report") == few
    assert few <= 15, few


# The PDF ------------------------------------------------------------------------------


def _pdf_text(data: bytes) -> str:
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages))


def test_the_pdf_is_the_report(login_as, make_audit, dip_sample):
    visit = make_audit("targeted_visit", status="in_progress", title="Follow-up targeted visit to the MASH: 12/11/2019 (Ü)")
    sample = dip_sample(parent_id=visit.id, title="Audit of referrals")
    _finding(sample, "area_for_improvement", "Referrals can lack detail and clarity of purpose.")
    _finding(visit, "concern", "Domestic abuse triage duplicates input.")

    response = login_as("viewer").get(f"/audits/{visit.id}/report.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    assert response.headers["Content-Disposition"] == 'attachment; filename="follow-up-targeted-visit-to-the-mash-12-11-2019-u-report.pdf"'
    assert response.headers["Cache-Control"] == "no-store"

    text = _pdf_text(response.data)
    assert "Follow-up targeted visit to the MASH" in text
    assert "Referrals can lack detail and clarity of purpose." in text
    assert "Domestic abuse triage duplicates input." in text
    assert "Overall compliance 57.1%" in text
    # The print layout: no navigation, no back link, no link to the PDF itself.
    for absent in ("Sign out", "Back to the audit", "Download this report", "This is a new service"):
        assert absent not in text, absent
    assert "Page 1 of" in text


def test_the_pdf_uses_the_apps_stylesheets_and_nothing_from_the_network(app, login_as, make_audit, monkeypatch):
    """Every URL WeasyPrint asks for is one of the app's static files, served from
    disk; nothing opens a socket."""
    import socket

    from qa_audit.reports import pdf

    def no_network(*args, **kwargs):
        raise AssertionError("the PDF tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    fetched, refused = [], []
    real_fetch = pdf.StaticFilesOnly.fetch

    def recording_fetch(self, url, headers=None):
        try:
            response = real_fetch(self, url, headers)
        except pdf.RefusedURL:
            refused.append(url)
            raise
        fetched.append(url)
        return response

    monkeypatch.setattr(pdf.StaticFilesOnly, "fetch", recording_fetch)
    audit = _focus_group(make_audit, title="Focus group")
    _finding(audit, "strength", "See https://example.com/evidence.png for the evidence.")
    response = login_as("viewer").get(f"/audits/{audit.id}/report.pdf")
    assert response.status_code == 200
    assert "file:///assets/app.css" in fetched and "file:///assets/print.css" in fetched and "file:///assets/report.css" in fetched
    assert all(url.startswith("file:///assets/") for url in fetched)


def test_the_url_fetcher_serves_static_files_and_refuses_everything_else(app):
    from qa_audit.reports.pdf import RefusedURL, StaticFilesOnly, fetcher

    fetch = fetcher()
    assert isinstance(fetch, StaticFilesOnly)
    css = fetch("file:///assets/print.css")
    assert b"@page" in css.read() and css.content_type == "text/css"
    css.close()
    for url in (
        "http://example.com/style.css",
        "https://example.com/font.woff2",
        "http://127.0.0.1/assets/app.css",
        "ftp://example.com/file",
        "data:text/css,body{}",
        "file:///etc/passwd",
        "file:///assets/../../../etc/passwd",
        "file:///assets/%2e%2e/%2e%2e/etc/passwd",
        "file://example.com/assets/app.css",
        "file:///assets/no-such-file.css",
        "file:///assets/",
    ):
        with pytest.raises(RefusedURL):
            fetch(url)


def test_a_pdf_with_a_remote_image_draws_without_it(app, caplog):
    """A remote image in the HTML is refused, the refusal logged, and the PDF still
    drawn; the hundreds of warnings about GOV.UK's browser-only CSS are not logged."""
    from qa_audit.reports.pdf import render_pdf

    caplog.set_level(logging.WARNING, logger="weasyprint")
    with app.test_request_context():
        stylesheets = "".join(
            f'<link rel="stylesheet" href="{url_for("static", filename=name)}">' for name in ("govuk-frontend.min.css", "print.css")
        )
    data = render_pdf(f'{stylesheets}<p>Before</p><img src="http://example.com/tracker.png" alt="tracker"><p>After</p>')
    assert data.startswith(b"%PDF-")
    assert "Before" in _pdf_text(data) and "After" in _pdf_text(data)
    messages = [record.getMessage() for record in caplog.records]
    assert any("http://example.com/tracker.png" in message and "refused" in message for message in messages), messages
    assert not any("media type" in message or message.startswith("Ignored") for message in messages), messages[:5]


@pytest.mark.parametrize(
    "title, filename",
    [
        ("Targeted visit to the MASH", "targeted-visit-to-the-mash-report.pdf"),
        ('A "quoted"; title\r\nwith/slashes\\', "a-quoted-title-with-slashes-report.pdf"),
        ("Évaluation des réunions", "evaluation-des-reunions-report.pdf"),
        ("会议", "audit-report.pdf"),
        ("x" * 200, "x" * 80 + "-report.pdf"),
    ],
)
def test_pdf_file_names_are_safe(title, filename):
    from qa_audit.reports.views import pdf_filename

    assert pdf_filename(title) == filename
