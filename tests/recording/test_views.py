"""Recording pages: the workspace, cases (one, pasted, uploaded, drawn at random),
the grid and compliance; who may see and who may change them; and the bad input
of issue 4 (a name as a case reference, a duplicate, a bad CSV row, a 5MB upload,
a file that is not a CSV, completing with questions unanswered)."""

from __future__ import annotations

import html
import io
import re
from datetime import date

import pytest
from sqlalchemy import select

from qa_audit.audits.models import Audit, AuditStatus
from qa_audit.extensions import db
from qa_audit.recording import services
from qa_audit.recording.models import AnswerValue, SampledCase

ALL_ROLES = ("admin", "qa_lead", "auditor", "head_of_service", "viewer")


@pytest.fixture
def lead(login_as):
    """A client signed in as the lead auditor of the dip samples made by ``dip``."""
    return login_as("auditor", name="Priya Shah")


@pytest.fixture
def dip(make_audit, make_question_set, lead):
    def make(status: str = "in_progress", **fields) -> Audit:
        questions = make_question_set(None, ["Medical investigations undertaken?", "Child seen alone?", "Strategy meeting held?"])
        return make_audit("dip_sample", status=status, lead=lead.user, question_set_id=questions.id, **fields)

    return make


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _cases(audit) -> list[str]:
    return list(db.session.scalars(select(SampledCase.case_reference).where(SampledCase.audit_id == audit.id).order_by(SampledCase.id)))


def _error_at(page: str, field: str, message: str) -> bool:
    """The message is in the error summary (linking to the field) and at the field."""
    summary = re.search(r'<div class="govuk-error-summary".*?</ul>', page, re.S)
    at_field = re.search(rf'<p id="{field}-error" class="govuk-error-message">\s*<span class="govuk-visually-hidden">Error:</span>\s*(.*?)\s*</p>', page, re.S)
    return bool(summary and f'href="#{field}"' in summary.group(0) and message in summary.group(0) and at_field and message in at_field.group(1))


def _answer_all(audit, *values: str) -> None:
    questions = audit.question_set.questions
    for case in db.session.scalars(select(SampledCase).where(SampledCase.audit_id == audit.id)):
        for question, value in zip(questions, values):
            services.answer(case, audit.lead_auditor, question.id, value)


def _csv(*lines: str) -> tuple[io.BytesIO, str]:
    return io.BytesIO(("\n".join(lines) + "\n").encode()), "cases.csv"


# The workspace --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ALL_ROLES)
def test_anyone_signed_in_sees_the_workspace_but_only_recorders_can_complete(login_as, dip, role):
    audit = dip()
    services.add_case(audit, audit.lead_auditor, "CIN/001")
    _answer_all(audit, "met", "met", "not_met")
    page = _text(login_as(role).get(f"/audits/{audit.id}/workspace"))
    assert '<ul class="govuk-task-list">' in page and "Cases and answers" in page and "Compliance summary" in page
    complete_button = f'action="/audits/{audit.id}/status"' in page
    assert complete_button is (role in ("admin", "qa_lead"))
    assert "Overall compliance 66.7%" in page


def test_the_lead_completes_from_the_workspace(lead, dip):
    audit = dip()
    services.add_case(audit, audit.lead_auditor, "CIN/001")
    _answer_all(audit, "met", "met", "met")
    page = _text(lead.get(f"/audits/{audit.id}/workspace"))
    form = re.search(r'<form method="post" action="/audits/\d+/status".*?</form>', page, re.S).group(0)
    assert 'name="status" value="completed"' in form and f'name="version" value="{audit.version}"' in form
    response = lead.post_form(f"/audits/{audit.id}/status", {"status": "completed", "version": str(audit.version)})
    assert response.status_code == 302
    assert db.session.get(Audit, audit.id).status is AuditStatus.COMPLETED
    page = _text(lead.get(f"/audits/{audit.id}/workspace"))
    assert "completed and locked" in page and f'action="/audits/{audit.id}/status"' not in page


def test_the_workspace_says_what_is_left_and_why_the_audit_cannot_be_completed(lead, dip):
    audit = dip()
    services.add_case(audit, audit.lead_auditor, "CIN/001")
    services.add_case(audit, audit.lead_auditor, "CIN/002", {str(audit.question_set.questions[0].id): "met"})
    page = _text(lead.get(f"/audits/{audit.id}/workspace"))
    assert "2 cases, 5 answers missing" in page
    assert "You cannot complete this audit yet: 5 answers are still missing in the dip sample grid" in page
    assert f'action="/audits/{audit.id}/status"' not in page
    items = re.findall(r'<li class="govuk-task-list__item.*?</li>', page, re.S)
    assert len(items) == 5
    cases_item = next(item for item in items if "Cases and answers" in item)
    assert "In progress" in cases_item and f'href="/audits/{audit.id}/cases"' in cases_item
    complete_item = next(item for item in items if "Complete the audit" in item)
    assert "Cannot start yet" in complete_item and "href" not in complete_item


def test_a_planned_audit_cannot_start_its_tasks(lead, dip):
    audit = dip(status="planned")
    page = _text(lead.get(f"/audits/{audit.id}/workspace"))
    assert page.count("Cannot start yet") == 4  # cases, findings, compliance, complete
    assert "This audit has not started yet" in page
    assert f'href="/audits/{audit.id}/cases"' not in page


def test_a_focus_groups_workspace_has_its_details_and_no_cases(login_as, make_audit, app):
    client = login_as("auditor")
    audit = make_audit("focus_group", status="in_progress", lead=client.user)
    page = _text(client.get(f"/audits/{audit.id}/workspace"))
    assert "Focus group details" in page and "Cases and answers" not in page and "Compliance summary" not in page
    details = f'href="/audits/{audit.id}/details"'
    item = next(i for i in re.findall(r'<li class="govuk-task-list__item.*?</li>', page, re.S) if "Focus group details" in i)
    assert details in item and "Not yet started" in item
    services.save_details(audit, client.user, {"participants_count": 8, "participant_roles": "MASH social workers", "themes": "Supervision"})
    page = _text(client.get(f"/audits/{audit.id}/workspace"))
    item = next(i for i in re.findall(r'<li class="govuk-task-list__item.*?</li>', page, re.S) if "Focus group details" in i)
    assert "In progress" in item and "3 of 6 answered" in item
    viewer_page = _text(login_as("viewer").get(f"/audits/{audit.id}/workspace"))
    assert f'href="/audits/{audit.id}/details"' not in viewer_page  # the edit page is for recorders


def test_a_missing_audit_is_404(lead, make_audit):
    assert lead.get("/audits/999999/workspace").status_code == 404
    visit = make_audit("targeted_visit", status="in_progress")
    for page in ("cases", "cases/import", "cases/draw", "grid", "compliance"):
        assert lead.get(f"/audits/{visit.id}/{page}").status_code == 404, page
    assert lead.get(f"/audits/{visit.id}/workspace").status_code == 200


# Who may change what ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["viewer", "head_of_service", "auditor"])
def test_people_not_on_the_audit_can_look_but_not_record(login_as, dip, role):
    audit = dip()
    services.add_case(audit, audit.lead_auditor, "CIN/001")
    client = login_as(role)
    for page in ("workspace", "cases", "grid", "compliance"):
        assert client.get(f"/audits/{audit.id}/{page}").status_code == 200, page
    assert "<select" not in client.get(f"/audits/{audit.id}/grid").get_data(as_text=True)
    assert 'name="case_reference"' not in client.get(f"/audits/{audit.id}/cases").get_data(as_text=True)
    for page in ("cases/import", "cases/draw"):
        assert client.get(f"/audits/{audit.id}/{page}").status_code == 403, page
    case_id = db.session.scalar(select(SampledCase.id))
    posts = {
        "cases": {"case_reference": "CIN/002"},
        "cases/import": {"references": "CIN/003"},
        "cases/draw": {"file": _csv("reference", "CIN/004"), "number": "1"},
        "grid": {f"answer_{case_id}_{audit.question_set.questions[0].id}": "met", f"version_{case_id}": "1.x"},
    }
    for page, data in posts.items():
        assert client.post_form(f"/audits/{audit.id}/{page}", data).status_code == 403, page
    assert _cases(audit) == ["CIN/001"]
    assert services.unanswered(audit) == 3


def test_a_qa_lead_records_on_any_audit(login_as, dip):
    audit = dip()
    client = login_as("qa_lead")
    assert client.post_form(f"/audits/{audit.id}/cases", {"case_reference": "CIN/001"}).status_code == 302
    assert _cases(audit) == ["CIN/001"]


def test_cases_can_be_added_only_while_the_audit_is_in_progress(lead, dip):
    audit = dip(status="planned")
    response = lead.post_form(f"/audits/{audit.id}/cases", {"case_reference": "CIN/001"}, follow_redirects=True)
    assert "Case CIN/001 was not added. Cases can only be added or answered while the audit is in progress; this audit is planned." in _text(response)
    assert lead.get(f"/audits/{audit.id}/cases/import").status_code == 302
    assert _cases(audit) == []


def test_a_case_refused_as_the_audit_is_completed_meanwhile_is_named(lead, dip, monkeypatch):
    """The page saw the audit in progress; the service, a moment later, did not."""
    from qa_audit.errors import Conflict

    audit = dip()

    def completed_meanwhile(*args, **kwargs):
        raise Conflict("This audit is completed, so it cannot be changed.")

    monkeypatch.setattr(services, "add_case", completed_meanwhile)
    response = lead.post_form(f"/audits/{audit.id}/cases", {"case_reference": "CIN/<b>007</b>"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Case CIN/&lt;b&gt;007&lt;/b&gt; was not added. This audit is completed, so it cannot be changed." in page
    assert _cases(audit) == []


# One case at a time ------------------------------------------------------------------------------------


def test_add_a_case(lead, dip):
    audit = dip()
    response = lead.post_form(f"/audits/{audit.id}/cases", {"case_reference": " CIN/2024/001 "}, follow_redirects=True)
    page = _text(response)
    assert "Case CIN/2024/001 added to the sample" in page
    assert "<td class=\"govuk-table__cell\">CIN/2024/001</td>" in page and "0 of 3" in page
    assert _cases(audit) == ["CIN/2024/001"]


def test_a_name_is_refused_as_a_case_reference_and_kept_in_the_box(lead, dip):
    audit = dip()
    response = lead.post_form(f"/audits/{audit.id}/cases", {"case_reference": "Jane Smith"})
    page = _text(response)
    assert response.status_code == 200
    assert page.startswith("<!DOCTYPE html>") and "<title>Error: Cases:" in page
    assert _error_at(page, "case_reference", "Enter a case reference from the case system, like 12345 or CIN/2024/001 – not a name")
    assert 'value="Jane Smith"' in page
    assert _cases(audit) == []


def test_a_duplicate_case_is_refused(lead, dip):
    audit = dip()
    services.add_case(audit, audit.lead_auditor, "CIN/001")
    page = _text(lead.post_form(f"/audits/{audit.id}/cases", {"case_reference": "CIN/001"}))
    assert _error_at(page, "case_reference", "Case CIN/001 is already in this sample")
    assert _cases(audit) == ["CIN/001"]


# Many cases at once ------------------------------------------------------------------------------------


def _problem_rows(page: str) -> list[tuple[str, str, str]]:
    table = re.search(r'<table class="govuk-table" id="row-problems">.*?</table>', page, re.S).group(0)
    rows = re.findall(r"<tr class=\"govuk-table__row\">\s*<td[^>]*>(.*?)</td>\s*<td[^>]*>(.*?)</td>\s*<td[^>]*>(.*?)</td>", table, re.S)
    return [tuple(cell.strip() for cell in row) for row in rows]


def test_paste_a_list_of_references(lead, dip):
    audit = dip()
    response = lead.post_form(f"/audits/{audit.id}/cases/import", {"references": "CIN/001\r\n\r\nCIN/002\r\nCIN/003\r\n"}, follow_redirects=True)
    assert "3 cases added to the sample" in _text(response)
    assert _cases(audit) == ["CIN/001", "CIN/002", "CIN/003"]


def test_a_pasted_list_with_bad_lines_saves_nothing_and_lists_each_line(lead, dip):
    audit = dip()
    services.add_case(audit, audit.lead_auditor, "CIN/009")
    pasted = "CIN/001\nJane Smith\nCIN/001\nCIN/009"
    page = _text(lead.post_form(f"/audits/{audit.id}/cases/import", {"references": pasted}))
    assert _error_at(page, "references", "3 rows have problems, listed below. Nothing has been saved")
    rows = _problem_rows(page)
    assert rows[0][:2] == ("Line 2", "Jane Smith") and "not a name" in rows[0][2]
    assert rows[1] == ("Line 3", "CIN/001", "Case CIN/001 is also on line 1")
    assert rows[2] == ("Line 4", "CIN/009", "Case CIN/009 is already in this sample")
    assert "CIN/001\nJane Smith\nCIN/001\nCIN/009</textarea>" in page  # kept to correct
    assert _cases(audit) == ["CIN/009"]


def test_upload_a_csv_of_cases(lead, dip):
    audit = dip()
    data = {"file": _csv("reference,team,age_band,worker,child_name", "CIN/001,MASH,0-4,A Khan,Never stored", "CIN/002,Locality North,5-9,B Jones,Never stored")}
    response = lead.post_form(f"/audits/{audit.id}/cases/import", data, follow_redirects=True)
    page = _text(response)
    assert "2 cases added to the sample" in page and "Team: MASH. Age band: 0-4. Worker: A Khan." in page
    assert "Never stored" not in page
    assert _cases(audit) == ["CIN/001", "CIN/002"]


def test_a_csv_with_a_bad_row_reports_its_line_and_reason_and_saves_nothing(lead, dip):
    audit = dip()
    data = {"file": _csv("reference,team", "CIN/001,MASH", "CIN/002,MASH", "Jane Smith,MASH", "CIN/004,MASH")}
    page = _text(lead.post_form(f"/audits/{audit.id}/cases/import", data))
    assert _error_at(page, "file", "Line 4: Enter a case reference from the case system, like 12345 or CIN/2024/001 – not a name. Nothing has been saved")
    assert _problem_rows(page) == [("Line 4", "Jane Smith", "Enter a case reference from the case system, like 12345 or CIN/2024/001 – not a name")]
    assert "choose it again" in page
    assert _cases(audit) == []


def _post_big(client, url: str, data: dict):
    """Post a large body. The test client keeps a body over 500KB in a temporary
    file, which it closes only with a response it followed (redirects or not)."""
    response = client.post_form(url, data, follow_redirects=True)
    page = _text(response)
    response.close()
    return response, page


def test_a_5mb_upload_is_refused_with_a_message(lead, dip):
    audit = dip()
    big = io.BytesIO(b"reference\n" + b"CIN/000001\n" * (5 * 1024 * 1024 // 11))
    response, page = _post_big(lead, f"/audits/{audit.id}/cases/import", {"file": (big, "cases.csv")})
    assert response.status_code == 200 and not response.history
    assert _error_at(page, "file", "The selected file must be smaller than 1MB")
    assert _cases(audit) == []


def test_an_upload_over_the_request_limit_is_a_message_not_an_error_page(lead, dip, app):
    audit = dip()
    app.config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024  # as 16MB would be, faster
    for page in ("cases/import", "cases/draw"):
        big = io.BytesIO(b"x" * (3 * 1024 * 1024))
        response, text = _post_big(lead, f"/audits/{audit.id}/{page}", {"file": (big, "cases.csv"), "number": "1"})
        assert [r.status_code for r in response.history] == [303] and response.request.path == f"/audits/{audit.id}/{page}"
        assert response.status_code == 200 and "The selected file must be smaller than 1MB" in text
    assert _cases(audit) == []


@pytest.mark.parametrize(
    "content, message",
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "The selected file must be a CSV"),
        (b"PK\x03\x04\x14\x00\x06\x00\x08\x00", "The selected file is an Excel workbook, not a CSV"),
        ("reference\nCIN/001,Équipe\n".encode("cp1252"), "The selected file must be a CSV saved as UTF-8"),
        (b"", "The selected file is empty"),
    ],
)
def test_a_file_that_is_not_a_csv_is_refused(lead, dip, content, message):
    audit = dip()
    page = _text(lead.post_form(f"/audits/{audit.id}/cases/import", {"file": (io.BytesIO(content), "cases.csv")}))
    assert _error_at(page, "file", message)
    assert _cases(audit) == []


def test_paste_or_upload_not_both(lead, dip):
    audit = dip()
    page = _text(lead.post_form(f"/audits/{audit.id}/cases/import", {"references": "  "}))
    assert _error_at(page, "references", "Paste case references or choose a CSV file")
    page = _text(lead.post_form(f"/audits/{audit.id}/cases/import", {"references": "CIN/001", "file": _csv("reference", "CIN/002")}))
    assert _error_at(page, "references", "Paste case references or choose a CSV file, not both")
    assert _cases(audit) == []


# Random draws --------------------------------------------------------------------------------------------------


def _case_list(count: int) -> bytes:
    teams = ["MASH"] * 7 + ["Locality North"] * 2 + ["Disabled children"]
    lines = ["reference,team,age_band,worker"] + [f"CIN/{n:04d},{teams[n % 10]},{'0-4' if n % 2 else '5-9'},Worker {n % 5}" for n in range(1, count + 1)]
    return ("\n".join(lines) + "\n").encode()


def _draw(client, audit, **fields):
    data = {"file": (io.BytesIO(_case_list(fields.pop("rows", 100))), "cases.csv"), "number": "10", "stratify_by": "", "exclude_months": "", "seed": ""}
    data.update(fields)
    return client.post_form(f"/audits/{audit.id}/cases/draw", data, follow_redirects=True)


def test_a_draw_is_reproducible_with_its_seed(lead, dip):
    first, second = dip(), dip(scheduled_for=date(2027, 6, 1))
    page = _text(_draw(lead, first, seed="12345"))
    assert "10 cases drawn at random from 100 with seed 12345. To draw the same cases again, use the same file, number, options and seed." in page
    assert "Drawn at random, seed 12345, from 100 cases." in page  # in each case's notes
    _draw(lead, second, seed="12345")
    assert len(_cases(first)) == 10 and _cases(first) == _cases(second)


def test_a_draw_without_a_seed_shows_the_seed_it_used(lead, dip):
    audit = dip()
    page = _text(_draw(lead, audit))
    seed = re.search(r"drawn at random from 100 with seed (\d+)\.", page).group(1)
    again = dip(scheduled_for=date(2027, 6, 1))
    _draw(lead, again, seed=seed)
    assert _cases(audit) == _cases(again)


def test_a_stratified_draw_takes_from_every_team(lead, dip):
    audit = dip()
    _draw(lead, audit, number="10", stratify_by="team", seed="3")
    teams = [n % 10 for n in (int(ref.split("/")[1]) for ref in _cases(audit))]
    assert sum(1 for t in teams if t < 7) == 7 and sum(1 for t in teams if t in (7, 8)) == 2 and teams.count(9) == 1
    assert "stratified by team" in db.session.scalar(select(SampledCase.notes).limit(1))


def test_a_draw_leaves_out_cases_audited_recently(lead, dip):
    earlier = dip(scheduled_for=date(2026, 10, 1))
    audit = dip(scheduled_for=date(2026, 12, 1))
    for n in range(1, 6):
        services.add_case(earlier, earlier.lead_auditor, f"CIN/{n:04d}")
    page = _text(_draw(lead, audit, rows=10, number="5", exclude_months="3", seed="1"))
    assert "5 cases drawn at random from 5 (5 left out: already in this sample or audited recently)" in page
    assert _cases(audit) == [f"CIN/{n:04d}" for n in range(6, 11)]


def test_a_draw_with_bad_options_says_what_is_wrong_and_draws_nothing(lead, dip):
    audit = dip()
    page = _text(_draw(lead, audit, rows=5, number="6", seed="1"))
    assert _error_at(page, "number", "The case list has 5 cases that can be drawn: enter 5 or fewer")
    page = _text(_draw(lead, audit, number="ten", exclude_months="0", seed="-1"))
    assert _error_at(page, "number", "Number of cases must be a whole number")
    assert _error_at(page, "seed", "Seed must be a whole number from 0 to 2147483647")
    page = _text(lead.post_form(f"/audits/{audit.id}/cases/draw", {"number": ""}))
    assert _error_at(page, "file", "Select a CSV file of cases") and _error_at(page, "number", "Enter how many cases to draw")
    bad = io.BytesIO(b"reference\nCIN/0001\nJane Smith\n")
    page = _text(lead.post_form(f"/audits/{audit.id}/cases/draw", {"file": (bad, "cases.csv"), "number": "1"}))
    assert _problem_rows(page)[0][:2] == ("Line 3", "Jane Smith")
    assert _cases(audit) == []


# The grid ------------------------------------------------------------------------------------------------------


def _grid_fields(page: str) -> dict[str, str]:
    """What the browser would post: each select's selected option, each textarea, each hidden input."""
    fields = {name: value for name, value in re.findall(r'<input id="(version_\d+)" name="\1" type="hidden" value="([^"]*)"', page)}
    for name, body in re.findall(r'<select class="govuk-select[^"]*" id="(answer_\d+_\d+)" name="\1"[^>]*>(.*?)</select>', page, re.S):
        selected = re.search(r'<option value="([^"]*)" selected', body)
        fields[name] = selected.group(1) if selected else ""
    for name, body in re.findall(r'<textarea class="govuk-textarea[^"]*" id="(notes_\d+)" name="\1"[^>]*>(.*?)</textarea>', page, re.S):
        fields[name] = html.unescape(body).lstrip("\n")
    return fields


def test_the_grid_has_a_labelled_select_for_every_case_and_question(lead, dip):
    audit = dip()
    services.add_case(audit, audit.lead_auditor, "CIN/001")
    services.add_case(audit, audit.lead_auditor, "CIN/002")
    page = _text(lead.get(f"/audits/{audit.id}/grid"))
    assert page.count("<select") == 6 and page.count("<textarea") == 2
    assert re.search(r'<label class="govuk-label govuk-visually-hidden" for="answer_\d+_\d+">\s*Case CIN/001, question 2: Child seen alone\?\s*</label>', page)
    assert "<option value=\"not_applicable\">Not applicable</option>" in page


def test_the_grid_saves_answers_and_completion_waits_for_every_answer(lead, dip):
    audit = dip()
    services.add_case(audit, audit.lead_auditor, "CIN/001")
    services.add_case(audit, audit.lead_auditor, "CIN/002")
    fields = _grid_fields(_text(lead.get(f"/audits/{audit.id}/grid")))
    answers = sorted(name for name in fields if name.startswith("answer_"))
    for name in answers[:5]:
        fields[name] = "met"
    notes = next(name for name in fields if name.startswith("notes_"))
    fields[notes] = "Checked with the team manager"
    page = _text(lead.post_form(f"/audits/{audit.id}/grid", fields, follow_redirects=True))
    assert "Saved: 6 changes" in page and "1 answer is missing" in page
    assert services.unanswered(audit) == 1

    response = lead.post_form(f"/audits/{audit.id}/status", {"status": "completed", "version": str(audit.version)}, follow_redirects=True)
    assert "1 answer is still missing in the dip sample grid" in _text(response)
    assert db.session.get(Audit, audit.id).status is AuditStatus.IN_PROGRESS
    assert "You cannot complete this audit yet: 1 answer is still missing" in _text(lead.get(f"/audits/{audit.id}/workspace"))

    fields = _grid_fields(_text(lead.get(f"/audits/{audit.id}/grid")))
    assert fields[notes] == "Checked with the team manager"
    fields[answers[5]] = "not_applicable"
    lead.post_form(f"/audits/{audit.id}/grid", fields)
    assert services.unanswered(audit) == 0
    response = lead.post_form(f"/audits/{audit.id}/status", {"status": "completed", "version": str(db.session.get(Audit, audit.id).version)})
    assert db.session.get(Audit, audit.id).status is AuditStatus.COMPLETED
    assert "<select" not in lead.get(f"/audits/{audit.id}/grid").get_data(as_text=True)  # locked


def test_saving_an_unchanged_grid_changes_nothing(lead, dip):
    audit = dip()
    services.add_case(audit, audit.lead_auditor, "CIN/001", notes="Drawn at random, seed 1, from 5 cases.")
    fields = _grid_fields(_text(lead.get(f"/audits/{audit.id}/grid")))
    page = _text(lead.post_form(f"/audits/{audit.id}/grid", fields, follow_redirects=True))
    assert "Nothing had changed, so nothing was saved" in page
    assert db.session.scalar(select(SampledCase.version)) == 1


def test_a_case_someone_else_changed_is_a_conflict_that_keeps_my_answers(lead, dip):
    audit = dip()
    q1, q2, _ = audit.question_set.questions
    case = services.add_case(audit, audit.lead_auditor, "CIN/001")
    fields = _grid_fields(_text(lead.get(f"/audits/{audit.id}/grid")))
    services.answer(case, audit.lead_auditor, q1.id, "not_met")  # someone else, meanwhile
    fields[f"answer_{case.id}_{q1.id}"] = "met"
    fields[f"answer_{case.id}_{q2.id}"] = "partially_met"
    response = lead.post_form(f"/audits/{audit.id}/grid", fields)
    page = _text(response)
    assert response.status_code == 409
    assert "Someone else changed case CIN/001 while you were answering. Nothing has been saved." in page
    mine = _grid_fields(page)
    assert mine[f"answer_{case.id}_{q1.id}"] == "met" and mine[f"answer_{case.id}_{q2.id}"] == "partially_met"
    assert "Saved now: Not met" in page
    assert {a.question_id: a.value for a in db.session.get(SampledCase, case.id).answers} == {q1.id: AnswerValue.NOT_MET}
    # Having seen it, saving again is their choice.
    lead.post_form(f"/audits/{audit.id}/grid", mine)
    assert {a.question_id: a.value for a in db.session.get(SampledCase, case.id).answers} == {q1.id: AnswerValue.MET, q2.id: AnswerValue.PARTIALLY_MET}


def test_a_tampered_answer_is_an_error_at_its_cell(lead, dip):
    audit = dip()
    case = services.add_case(audit, audit.lead_auditor, "CIN/001")
    fields = _grid_fields(_text(lead.get(f"/audits/{audit.id}/grid")))
    cell = f"answer_{case.id}_{audit.question_set.questions[0].id}"
    fields[cell] = "excellent"
    page = _text(lead.post_form(f"/audits/{audit.id}/grid", fields))
    assert _error_at(page, cell, "Select met, partially met, not met or not applicable")
    assert services.unanswered(audit) == 3


def test_the_grid_pages_through_many_cases(lead, dip, monkeypatch):
    from qa_audit.recording import views

    monkeypatch.setattr(views, "GRID_PAGE_SIZE", 2)
    audit = dip()
    for n in range(1, 6):
        services.add_case(audit, audit.lead_auditor, f"CIN/{n:03d}")
    page = _text(lead.get(f"/audits/{audit.id}/grid?page=3"))
    assert page.count("<select") == 3 and "CIN/005" in page and "CIN/001" not in page
    assert "Answers for cases 5 to 5 of 5" in page and 'class="govuk-pagination"' in page


# Compliance --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ALL_ROLES)
def test_compliance_matches_a_hand_calculation_for_everyone(login_as, dip, role):
    audit = dip()
    q1, q2, q3 = [str(q.id) for q in audit.question_set.questions]
    lead = audit.lead_auditor
    services.add_case(audit, lead, "CIN/001", {q1: "met", q2: "met", q3: "not_applicable"})
    services.add_case(audit, lead, "CIN/002", {q1: "partially_met", q2: "not_met", q3: "not_applicable"})
    services.add_case(audit, lead, "CIN/003", {q1: "met", q2: "met", q3: "met"})
    page = _text(login_as(role).get(f"/audits/{audit.id}/compliance"))
    # q1: 2 of 3 = 66.7%; q2: 2 of 3 = 66.7%; q3: 1 of 1 = 100%; overall 5 of 7 = 71.4%
    assert "Overall compliance: <strong>71.4%</strong>" in page
    table = re.search(r'<table class="govuk-table" id="compliance-table">.*?</table>', page, re.S).group(0)
    cells = [re.sub(r"\s+", " ", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", table, re.S)]
    assert cells[6:] == [
        "Q1 Medical investigations undertaken?", "2", "1", "0", "0", "66.7%",
        "Q2 Child seen alone?", "2", "0", "1", "0", "66.7%",
        "Q3 Strategy meeting held?", "1", "0", "0", "2", "100%",
        "Overall", "5", "1", "1", "2", "71.4%",
    ]  # fmt: skip
    assert page.count("app-bar app-bar--67") == 2 and "app-bar app-bar--100" in page and "app-bar app-bar--71" in page
    assert "style=" not in page.split("<main")[1]


def test_compliance_with_no_answers_yet(lead, dip):
    audit = dip()
    page = _text(lead.get(f"/audits/{audit.id}/compliance"))
    assert "Overall compliance: <strong>No answers counted</strong>" in page
    assert "app-bar app-bar--" not in page
