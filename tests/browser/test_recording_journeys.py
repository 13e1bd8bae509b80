"""Recording audits in the browser: an auditor completes each of the four audit types
without help, a concern reaches the head of service, two auditors edit the same
finding or details (or one completes the audit while the other answers), and a QA
lead reopens a completed audit.

Each journey signs in through the real sign-in page and then moves only by what a
user would click, from "My audits" or the audit page. Every page is checked with axe
by AppPage.
"""

from __future__ import annotations

import email
import email.policy
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import row_for, summary_value

pytestmark = pytest.mark.browser

MASH = "Multi-Agency Safeguarding Hub (MASH)"
YOUNGER_CHILDREN = "Younger children: were medical investigations undertaken?"
MULTI_AGENCY = "Locality strategy meetings: was attendance multi-agency?"


# ---------------------------------------------------------------- moving around


def open_from_my_audits(page, title: str) -> None:
    """From anywhere: "My audits" in the menu, then the audit's link in "To do"."""
    page.click_link("My audits", within=page.navigation())
    page.click_link(title, within=row_for(page.page.get_by_role("table", name="To do"), title))
    expect(page.page.get_by_role("heading", level=1)).to_have_text(title)


def open_from_programme(page, title: str) -> None:
    """From anywhere: "Programme" in the menu, then the audit's link in its quarter."""
    page.click_link("Programme", within=page.navigation())
    page.click_link(title, within=row_for(page.page, title))
    expect(page.page.get_by_role("heading", level=1)).to_have_text(title)


def start_audit(page, title: str) -> None:
    """On the audit page: press "Start audit"."""
    page.submit("Start audit")
    expect(page.success_banner()).to_contain_text(f"‘{title}’ is now in progress")
    expect(summary_value(page.page, "Status")).to_have_text("In progress")


def complete_audit(page, title: str) -> None:
    """On the audit page or the workspace: press "Complete audit"."""
    page.submit("Complete audit")
    expect(page.success_banner()).to_contain_text(f"‘{title}’ is now completed")
    expect(summary_value(page.page, "Status")).to_have_text("Completed")


def go_back(page, text: str) -> None:
    """Follow the GOV.UK back link at the top of the page."""
    page.click(page.page.locator(".govuk-back-link", has_text=text))


def field_error(page, label: str):
    """The error message at the form group of the field with this label."""
    return page.locator(".govuk-form-group--error", has=page.get_by_label(label, exact=True)).locator(".govuk-error-message")


def group_error(page, legend: str):
    """The error message in a fieldset (date inputs, radios, checkboxes)."""
    return page.get_by_role("group", name=legend).locator(".govuk-error-message")


def record_finding(page, kind: str, summary: str, *, theme: str | None = None, judgement: str | None = None, evidence: str | None = None) -> None:
    """On an audit's findings page: "Record a finding", fill it in and save."""
    page.click_link("Record a finding")
    form = page.page.locator("main form")
    form.get_by_role("group", name="What kind of finding is this?").get_by_label(kind, exact=True).check()
    if theme:
        form.get_by_label("Theme (optional)").select_option(label=theme)
    if judgement:
        form.get_by_role("group", name="Judgement (optional)").get_by_label(judgement, exact=True).check()
    form.get_by_label("Summary", exact=True).fill(summary)
    if evidence:
        form.get_by_label("Evidence (optional)").fill(evidence)
    page.submit("Save finding")
    expect(page.page.get_by_role("heading", level=1)).to_have_text("Findings")


def finding_card(page, title: str):
    """A finding's summary card on a findings page, by its title ("Strength 1")."""
    return page.locator(".govuk-summary-card").filter(
        has=page.locator(".govuk-summary-card__title", has_text=re.compile(rf"^\s*{re.escape(title)}\s*$"))
    )


def card_value(card, key: str):
    """The value of the row with this key in a summary card (a finding on a findings page)."""
    key_cell = card.page.locator(".govuk-summary-list__key", has_text=re.compile(rf"^\s*{re.escape(key)}\s*$"))
    return card.locator(".govuk-summary-list__row", has=key_cell).locator(".govuk-summary-list__value")


def table_cells(table) -> list[list[str]]:
    """Each body row of a table as the text of its cells (header cells included)."""
    return [[cell.strip() for cell in row.locator("th, td").all_inner_texts()] for row in table.locator("tbody tr").all()]


def add_part(page, visit_title: str, kind: str, title: str, lead: str) -> None:
    """On the visit's page: "Add a part to this visit", schedule it, back to the visit."""
    page.click_link("Add a part to this visit")
    expect(page.page.get_by_role("heading", level=1)).to_have_text(f"Add a part to {visit_title}")
    form = page.page.locator("main form")
    expect(form.get_by_role("radio", name="Targeted visit", exact=True)).to_have_count(0)
    form.get_by_role("radio", name=kind, exact=True).check()
    form.get_by_label("Title", exact=True).fill(title)
    form.get_by_label("Lead auditor").select_option(label=lead)
    page.submit("Schedule audit")
    expect(page.success_banner()).to_contain_text(f"{kind} ‘{title}’ scheduled for")
    expect(summary_value(page.page, "Service audited")).to_have_text(MASH)
    page.click_link(visit_title, within=summary_value(page.page, "Part of"))


def record_on_part(page, visit_title: str, part_title: str, kind: str, summary: str) -> None:
    """From the visit's page: open the part, start it, record a finding, back to the visit."""
    parts = page.page.get_by_role("table", name=re.compile(r"^\d+ parts?$"))
    page.click_link(part_title, within=parts)
    start_audit(page, part_title)
    page.click_link(f"Findings of {part_title}")
    record_finding(page, kind, summary)
    go_back(page, "Back to the audit")
    page.click_link(visit_title, within=summary_value(page.page, "Part of"))


def open_finding_to_edit(page, audit_title: str) -> None:
    """From "My audits": the audit, its findings, the first area for improvement, "Edit finding"."""
    open_from_my_audits(page, audit_title)
    page.click_link(f"Findings of {audit_title}")
    page.click(finding_card(page.page, "Area for improvement 1").get_by_role("link", name="View (Area for improvement 1)", exact=True))
    page.click_link("Edit finding")
    expect(page.page.get_by_role("heading", level=1)).to_have_text("Edit finding")


# ---------------------------------------------------------------- data


def make_service_with_head(app, name: str, head_id: int) -> int:
    from qa_audit.admin import services

    with app.app_context():
        return services.create_service(name, head_of_service_id=head_id).id


def audit_state(app, audit_id: int) -> dict:
    from qa_audit.audits.models import Audit
    from qa_audit.extensions import db

    with app.app_context():
        audit = db.session.get(Audit, audit_id)
        return {"status": audit.status.value, "reopen_reason": audit.reopen_reason}


def make_finding(app, audit_id: int, user_id: int, **values) -> int:
    from qa_audit.audits.models import Audit
    from qa_audit.auth.models import User
    from qa_audit.extensions import db
    from qa_audit.findings import services

    with app.app_context():
        finding = services.record_finding(db.session.get(Audit, audit_id), values, db.session.get(User, user_id))
        return finding.id


def add_answered_case(app, audit_id: int, reference: str, value: str = "met") -> None:
    """A sampled case with every question answered, as if recorded earlier."""
    from qa_audit.audits.models import Audit
    from qa_audit.extensions import db
    from qa_audit.recording import services

    with app.app_context():
        audit = db.session.get(Audit, audit_id)
        answers = {str(question.id): value for question in audit.question_set.questions}
        services.add_case(audit, audit.lead_auditor, reference, answers=answers)


def finding_values(app, finding_id: int) -> dict:
    from qa_audit.extensions import db
    from qa_audit.findings.models import Finding

    with app.app_context():
        finding = db.session.get(Finding, finding_id)
        return {
            "kind": finding.kind.value,
            "judgement": finding.judgement.value if finding.judgement else None,
            "summary": finding.summary,
            "evidence": finding.evidence,
            "version": finding.version,
        }


# ---------------------------------------------------------------- 1. dip sample


def test_an_auditor_completes_a_dip_sample(page, make_user, make_service, make_audit, make_question_set, app):
    priya = make_user("auditor", name="Priya Shah")
    title = "Dip sample: younger children and strategy meetings"
    question_set = make_question_set("Younger children", [YOUNGER_CHILDREN, MULTI_AGENCY])
    audit_id = make_audit(title, type="dip_sample", lead_id=priya.id, service_id=make_service(MASH), question_set_id=question_set)

    page.sign_in(priya)
    open_from_my_audits(page, title)
    start_audit(page, title)

    # Cases: one at a time.
    page.click_link("Sampled cases")
    expect(page.page.get_by_role("heading", level=1)).to_have_text("Cases in this sample")
    page.page.get_by_label("Case reference").fill("CIN/2024/001")
    page.submit("Add case")
    expect(page.success_banner()).to_contain_text("Case CIN/2024/001 added to the sample")

    # A name is not a case reference: the error is at the field, and what was typed is kept.
    page.page.get_by_label("Case reference").fill("Jane Smith")
    page.submit("Add case")
    message = "Enter a case reference from the case system, like 12345 or CIN/2024/001 – not a name"
    expect(page.page).to_have_title(re.compile(r"^Error: Cases: "))
    expect(page.error_summary()).to_contain_text(message)
    expect(field_error(page.page, "Case reference")).to_contain_text(message)
    expect(page.page.get_by_label("Case reference")).to_have_value("Jane Smith")
    page.error_summary().get_by_role("link", name=message).click()
    expect(page.page.get_by_label("Case reference")).to_be_focused()

    # Cases: several at once, pasted from a spreadsheet column. A name among them,
    # and one already in the sample: each listed with its line, and nothing added.
    page.click_link("Add several cases at once", exact=False)
    pasted = page.page.get_by_label("Paste case references")
    pasted.fill("reference\nCIN/2024/002\nJane Smith\nCIN/2024/001\n")
    page.submit("Add cases")
    expect(page.page).to_have_title(re.compile(r"^Error: Add several cases: "))
    expect(page.error_summary().locator("li")).to_have_text(
        ["2 rows have problems, listed below. Nothing has been saved: correct them and try again"]
    )
    expect(field_error(page.page, "Paste case references")).to_contain_text("2 rows have problems")
    assert table_cells(page.page.get_by_role("table", name="Rows with problems")) == [
        ["Line 3", "Jane Smith", message],
        ["Line 4", "CIN/2024/001", "Case CIN/2024/001 is already in this sample"],
    ]
    pasted = page.page.get_by_label("Paste case references")
    expect(pasted).to_have_value(re.compile(r"Jane Smith"))
    pasted.fill("reference\nCIN/2024/002\n\nCIN/2024/003\n12345\n")
    page.submit("Add cases")
    expect(page.success_banner()).to_contain_text("3 cases added to the sample")
    cases = page.page.get_by_role("table", name="Sampled cases")
    expect(cases.locator("tbody tr")).to_have_count(4)
    assert [row[:2] for row in table_cells(cases)] == [
        ["CIN/2024/001", "0 of 2"],
        ["CIN/2024/002", "0 of 2"],
        ["CIN/2024/003", "0 of 2"],
        ["12345", "0 of 2"],
    ]

    # The grid: every answer but one.
    page.click_link("Answer the questions")
    answers = {
        ("CIN/2024/001", 1): "Met",
        ("CIN/2024/002", 1): "Met",
        ("CIN/2024/003", 1): "Partially met",
        ("12345", 1): "Not met",
        ("CIN/2024/001", 2): "Met",
        ("CIN/2024/002", 2): "Not applicable",
        ("CIN/2024/003", 2): "Met",
    }
    questions = {1: YOUNGER_CHILDREN, 2: MULTI_AGENCY}
    for (case, number), answer in answers.items():
        page.page.get_by_label(f"Case {case}, question {number}: {questions[number]}").select_option(label=answer)
    page.page.get_by_label("Notes on case CIN/2024/002").fill("No strategy meeting was needed: single-agency contact.")
    page.submit("Save answers")
    expect(page.success_banner()).to_contain_text("Saved: ")
    expect(page.main_locator()).to_contain_text("1 answer is missing.")

    # The workspace says why it cannot be completed yet, and offers no button.
    go_back(page, "Back to the cases")
    go_back(page, "Back to the workspace")
    expect(page.page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.main_locator()).to_contain_text(
        "You cannot complete this audit yet: 1 answer is still missing in the dip sample grid. Answer every question for every case first."
    )
    expect(page.main_locator().get_by_role("button", name="Complete audit")).to_have_count(0)

    # Completing from the audit page is refused with the same reason.
    go_back(page, "Back to the audit")
    page.submit("Complete audit")
    problem = page.page.locator(".govuk-notification-banner", has_text="There is a problem")
    expect(problem).to_contain_text("still missing in the dip sample grid: answer every question for every case before completing")
    expect(summary_value(page.page, "Status")).to_have_text("In progress")
    assert audit_state(app, audit_id)["status"] == "in_progress"

    # The compliance page warns that figures may change, and links to the grid.
    page.click_link("Compliance")
    expect(page.main_locator()).to_contain_text("1 answer is still missing in the grid, so these figures may change.")
    page.click_link("the grid")
    page.page.get_by_label(f"Case 12345, question 2: {MULTI_AGENCY}").select_option(label="Not met")
    page.submit("Save answers")
    expect(page.success_banner()).to_contain_text("Saved: 1 change")
    expect(page.main_locator()).to_contain_text("Every question is answered.")

    # Compliance = met ÷ (met + partially met + not met), not applicable left out:
    # Q1 2 of 4 = 50%; Q2 2 of 3 = 66.7%; overall 4 of 7 = 57.1%.
    go_back(page, "Back to the cases")
    go_back(page, "Back to the workspace")
    page.click_link("Compliance summary")
    expect(page.main_locator()).to_contain_text("Overall compliance: 57.1%")
    expect(page.main_locator()).not_to_contain_text("still missing")
    table = page.page.get_by_role("table", name="Answers and compliance by question")
    assert table_cells(table) == [
        [f"Q1 {YOUNGER_CHILDREN}", "2", "1", "1", "0", "50%"],
        [f"Q2 {MULTI_AGENCY}", "2", "0", "1", "1", "66.7%"],
        ["Overall", "4", "1", "2", "1", "57.1%"],
    ]

    # Complete it from the workspace: it is locked.
    go_back(page, "Back to the workspace")
    expect(page.main_locator()).to_contain_text("Completing the audit locks it")
    complete_audit(page, title)
    assert audit_state(app, audit_id)["status"] == "completed"
    main = page.main_locator()
    for name in ("Start audit", "Complete audit"):
        expect(main.get_by_role("button", name=name)).to_have_count(0)

    page.click_link("Sampled cases")
    expect(page.main_locator().get_by_label("Case reference")).to_have_count(0)
    expect(page.main_locator().get_by_role("link", name="Add several cases at once", exact=False)).to_have_count(0)
    page.click_link("See the answers")
    expect(page.page.get_by_role("heading", level=1)).to_have_text("Answers")
    expect(page.main_locator().get_by_role("combobox")).to_have_count(0)
    expect(page.main_locator().get_by_role("button", name="Save answers")).to_have_count(0)
    grid = page.page.get_by_role("table", name="Answers for each case")
    assert table_cells(grid)[1] == ["CIN/2024/002", "Met", "Not applicable", "No strategy meeting was needed: single-agency contact."]
    go_back(page, "Back to the cases")
    go_back(page, "Back to the workspace")
    expect(page.main_locator()).to_contain_text("This audit is completed and locked. A QA lead can reopen it from the audit page.")


# ---------------------------------------------------------------- 2. focus group


def test_an_auditor_completes_a_focus_group(page, make_user, make_service, make_audit, app):
    priya = make_user("auditor", name="Priya Shah")
    title = "Focus group: MASH social workers"
    audit_id = make_audit(title, type="focus_group", lead_id=priya.id, service_id=make_service(MASH))

    page.sign_in(priya)
    open_from_my_audits(page, title)
    start_audit(page, title)

    page.click_link("Focus group details")
    expect(page.page.get_by_role("heading", level=1)).to_have_text("Focus group details")
    form = page.page.locator("main form")
    form.get_by_label("Number of participants").fill("8")
    form.get_by_label("Participants' roles").fill("Social workers and a team manager in the MASH")
    form.get_by_label("Facilitator").fill("Head of Children's Quality Assurance")
    form.get_by_label("Themes discussed").fill("Supervision\nWorkload\nCo-location")
    form.get_by_label("Key messages").fill("Quality of supervision and support is sufficient; workloads are manageable.")
    form.get_by_label("Assurance statement").fill("Assurance that supervision is regular; no assurance yet on case recording.")
    page.submit("Save details")
    expect(page.success_banner()).to_contain_text(f"Details of ‘{title}’ saved")
    expect(form.get_by_label("Number of participants")).to_have_value("8")
    expect(form.get_by_label("Facilitator")).to_have_value("Head of Children's Quality Assurance")

    page.click_link("Findings of this audit")
    record_finding(
        page, "Strength", "Positive impact of co-location on sharing information.",
        theme="Multi-agency working", judgement="Good", evidence="All eight practitioners described it.",
    )
    expect(page.success_banner()).to_contain_text("Strength recorded")
    record_finding(page, "Area for improvement", "Case recording after supervision is not always timely.", theme="Recording")
    expect(page.success_banner()).to_contain_text("Area for improvement recorded")
    strength = finding_card(page.page, "Strength 1")
    expect(card_value(strength, "Theme")).to_have_text("Multi-agency working")
    expect(card_value(strength, "Judgement")).to_have_text("Good")
    improvement = finding_card(page.page, "Area for improvement 1")
    expect(card_value(improvement, "Summary")).to_have_text("Case recording after supervision is not always timely.")
    expect(page.page.get_by_role("heading", name="Concerns (0)")).to_be_visible()

    # The workspace shows all six details answered and two findings.
    go_back(page, "Back to the audit")
    page.click_link(f"Audit workspace for {title}")
    tasks = page.page.locator(".govuk-task-list")
    expect(tasks.locator(".govuk-task-list__item", has_text="Focus group details")).to_contain_text("6 of 6 answered")
    expect(tasks.locator(".govuk-task-list__item", has_text="Findings")).to_contain_text("2 findings")
    complete_audit(page, title)
    assert audit_state(app, audit_id)["status"] == "completed"

    # Locked: the details are read, not edited, and no finding can be added.
    page.click_link("Focus group details")
    expect(page.main_locator().locator("form")).to_have_count(0)
    expect(summary_value(page.page, "Number of participants")).to_have_text("8")
    expect(summary_value(page.page, "Themes discussed")).to_contain_text("Co-location")
    page.click_link("Findings of this audit")
    expect(page.main_locator().get_by_role("link", name="Record a finding")).to_have_count(0)
    expect(page.main_locator().get_by_role("button", name="Record a finding")).to_have_count(0)


# ---------------------------------------------------------------- 3. strategy meeting audit


def test_an_auditor_completes_a_strategy_meeting_audit(page, new_page, make_user, make_service, make_audit, app):
    priya = make_user("auditor", name="Priya Shah")
    helen = make_user("qa_lead", name="Helen Gray")
    title = "Observation of a child protection strategy meeting"
    audit_id = make_audit(title, type="strategy_meeting_audit", lead_id=priya.id, service_id=make_service(MASH))
    year = 2025

    page.sign_in(priya)
    open_from_my_audits(page, title)
    start_audit(page, title)

    page.click_link("Strategy meeting details")
    expect(page.page.get_by_role("heading", level=1)).to_have_text("Strategy meeting details")
    form = page.page.locator("main form")
    meeting = form.get_by_role("group", name="Date of the meeting")
    meeting.get_by_label("Day").fill("31")
    meeting.get_by_label("Month").fill("2")
    meeting.get_by_label("Year").fill(str(year))
    invited = form.get_by_role("group", name="Agencies invited")
    for agency in ("Children's social care", "Police", "Health", "Education"):
        invited.get_by_label(agency, exact=True).check()
    attended = form.get_by_role("group", name="Agencies that attended")
    contributions = {"Children's social care": "Good", "Police": "Requires improvement", "Health": "Outstanding"}
    for agency, judgement in contributions.items():
        attended.get_by_label(agency, exact=True).check()
        contribution = form.get_by_role("group", name=f"{agency}: quality of contribution")
        expect(contribution).to_be_visible()  # revealed when the agency is ticked
        contribution.get_by_label(judgement, exact=True).check()
    expect(form.get_by_role("group", name="Education: quality of contribution")).to_be_hidden()
    form.get_by_role("group", name="Was the meeting held within timescale?").get_by_label("Yes", exact=True).check()
    form.get_by_role("group", name="Quality of chairing").get_by_label("Outstanding", exact=True).check()
    form.get_by_role("group", name="Was the decision recorded?").get_by_label("Yes", exact=True).check()
    page.submit("Save details")

    # 31 February: the error at the date, everything else kept.
    expect(page.page).to_have_title(re.compile(r"^Error: Details – "))
    expect(page.error_summary().locator("li")).to_have_text(["Date of the meeting must be a real date"])
    form = page.page.locator("main form")
    expect(group_error(form, "Date of the meeting")).to_contain_text("Date of the meeting must be a real date")
    page.error_summary().get_by_role("link", name="Date of the meeting must be a real date").click()
    expect(form.get_by_role("group", name="Date of the meeting").get_by_label("Day")).to_be_focused()
    expect(form.get_by_role("group", name="Date of the meeting").get_by_label("Day")).to_have_value("31")
    expect(form.get_by_role("group", name="Agencies invited").get_by_label("Education", exact=True)).to_be_checked()
    expect(form.get_by_role("group", name="Police: quality of contribution").get_by_label("Requires improvement", exact=True)).to_be_checked()
    expect(form.get_by_role("group", name="Quality of chairing").get_by_label("Outstanding", exact=True)).to_be_checked()

    form.get_by_role("group", name="Date of the meeting").get_by_label("Day").fill("28")
    page.submit("Save details")
    expect(page.success_banner()).to_contain_text(f"Details of ‘{title}’ saved")
    form = page.page.locator("main form")
    expect(form.get_by_role("group", name="Health: quality of contribution").get_by_label("Outstanding", exact=True)).to_be_checked()

    page.click_link("Findings of this audit")
    record_finding(
        page, "Strength", "Quality of chairing and of health and education contributions was excellent.",
        theme="Multi-agency working", judgement="Outstanding",
    )
    expect(page.success_banner()).to_contain_text("Strength recorded")
    go_back(page, "Back to the audit")
    complete_audit(page, title)
    assert audit_state(app, audit_id)["status"] == "completed"

    # The details, read back once locked.
    page.click_link("Strategy meeting details")
    expect(summary_value(page.page, "Date of the meeting")).to_have_text(f"28 February {year}")
    expect(summary_value(page.page, "Police: quality of contribution")).to_have_text("Requires improvement")
    expect(summary_value(page.page, "Held within timescale")).to_have_text("Yes")
    expect(summary_value(page.page, "Decision recorded")).to_have_text("Yes")

    # A QA lead finds attendance by agency from the audit's details.
    lead = new_page()
    lead.sign_in(helen)
    open_from_programme(lead, title)
    lead.click_link("Strategy meeting details")
    lead.click_link("Attendance at strategy meetings by agency")
    expect(lead.page.get_by_role("heading", level=1)).to_have_text("Attendance at strategy meetings")
    expect(lead.main_locator()).to_contain_text("1 strategy meeting audit scheduled from")
    expect(lead.main_locator()).to_contain_text("1 with details recorded")
    attendance = lead.page.get_by_role("table", name=re.compile(r"^Attendance by agency"))
    assert table_cells(attendance) == [
        ["Children's social care", "1", "1", "100.0%"],
        ["Police", "1", "1", "100.0%"],
        ["Health", "1", "1", "100.0%"],
        ["Education", "1", "0", "0.0%"],
    ]


# ---------------------------------------------------------------- 4. targeted visit


def test_a_targeted_visit_with_parts(page, new_page, make_user, make_service, make_audit, app):
    helen = make_user("qa_lead", name="Helen Gray")
    priya = make_user("auditor", name="Priya Shah")
    visit = "Targeted visit to the MASH"
    focus_group = "Focus group: Domestic Abuse Hub"
    observation = "Observed strategy meeting"
    visit_id = make_audit(visit, lead_id=priya.id, service_id=make_service(MASH), status="in_progress")

    # The QA lead adds two parts from the visit's page.
    lead = page
    lead.sign_in(helen)
    open_from_programme(lead, visit)
    add_part(lead, visit, "Focus group", focus_group, "Priya Shah (Auditor)")
    add_part(lead, visit, "Strategy meeting audit", observation, "Priya Shah (Auditor)")
    parts = lead.page.get_by_role("table", name="2 parts")
    assert [row[1:] for row in table_cells(parts)] == [
        ["Focus group", focus_group, "Priya Shah", "Planned"],
        ["Strategy meeting audit", observation, "Priya Shah", "Planned"],
    ]

    # The auditor records on both parts and on the visit itself.
    auditor = new_page()
    auditor.sign_in(priya)
    open_from_my_audits(auditor, visit)
    record_on_part(auditor, visit, focus_group, "Strength", "Positive impact of the LEAN review on processing referrals.")
    record_on_part(auditor, visit, observation, "Area for improvement", "Police contribution was not recorded in the minutes.")
    auditor.click_link(f"Findings of {visit}")
    record_finding(auditor, "Strength", "More written referrals from partners.")

    # The visit's findings page shows every part's findings, marked by method.
    expect(auditor.main_locator()).to_contain_text("This visit's findings include those of its parts, each marked with the method that found it.")
    strengths = auditor.main_locator().locator(".govuk-summary-card", has_text="Strength")
    expect(strengths).to_have_count(2)
    from_part = finding_card(auditor.page, "Strength 1")
    expect(card_value(from_part, "Method")).to_have_text(f"Focus group: {focus_group}")
    expect(card_value(from_part, "Summary")).to_have_text("Positive impact of the LEAN review on processing referrals.")
    own = finding_card(auditor.page, "Strength 2")
    expect(card_value(own, "Method")).to_have_count(0)
    expect(card_value(own, "Summary")).to_have_text("More written referrals from partners.")
    improvement = finding_card(auditor.page, "Area for improvement 1")
    expect(card_value(improvement, "Method")).to_have_text(f"Strategy meeting audit: {observation}")

    # Complete the parts (each through its method link), then the visit.
    for method, title in ((from_part, focus_group), (improvement, observation)):
        auditor.click_link(title, within=method)
        complete_audit(auditor, title)
        auditor.click_link(visit, within=summary_value(auditor.page, "Part of"))
        auditor.click_link(f"Findings of {visit}")
    go_back(auditor, "Back to the audit")
    parts = auditor.page.get_by_role("table", name="2 parts")
    assert [row[-1] for row in table_cells(parts)] == ["Completed", "Completed"]
    complete_audit(auditor, visit)
    assert audit_state(app, visit_id)["status"] == "completed"


# ---------------------------------------------------------------- 5. a concern


def test_a_concern_reaches_the_head_of_service(page, new_page, make_user, make_audit, app, tmp_path, monkeypatch):
    outbox = tmp_path / "outbox"
    monkeypatch.setitem(app.config, "MAIL_OUTBOX", str(outbox))  # the live server writes mail here
    priya = make_user("auditor", name="Priya Shah")
    helen = make_user("qa_lead", name="Helen Gray", email="helen.gray@example.gov.uk")
    sam = make_user("head_of_service", name="Sam Okafor", email="sam.okafor@example.gov.uk")
    make_user("head_of_service", name="Other Head")  # of another service: not alerted
    title = "Audit of contacts and referrals"
    make_audit(title, type="focus_group", lead_id=priya.id, service_id=make_service_with_head(app, MASH, sam.id), status="in_progress")
    summary = "A referral about a baby with a bruise was not passed to the police strategy discussion."

    auditor = page
    auditor.sign_in(priya)
    open_from_my_audits(auditor, title)
    auditor.click_link(f"Findings of {title}")
    record_finding(auditor, "Concern", summary, theme="Thresholds and decision-making", judgement="Inadequate")
    expect(auditor.success_banner()).to_contain_text("Concern recorded. Helen Gray and Sam Okafor have been alerted")

    # An email to each person alerted, linking to the finding.
    messages = {}
    for path in sorted(outbox.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        messages[message["To"]] = message
    assert sorted(messages) == ["helen.gray@example.gov.uk", "sam.okafor@example.gov.uk"]
    message = messages["sam.okafor@example.gov.uk"]
    assert message["Subject"] == f"Safeguarding concern recorded: {title}"
    body = message.get_content()
    assert summary in body and MASH in body
    link = re.search(r"https?://\S+/findings/\d+", body)
    assert link, body

    # The head of service sees it on their home page, opens it and acknowledges it.
    head = new_page()
    head.sign_in(sam)
    banner = head.page.locator(".govuk-notification-banner", has_text="Safeguarding concerns")
    expect(banner).to_contain_text("1 safeguarding concern needs your response")
    expect(banner).to_contain_text(summary)
    head.click_link(f"{title} – concern", within=banner)
    assert head.page.url.endswith(link.group(0).split("/", 3)[3])  # the page the email links to
    expect(head.page.get_by_role("heading", level=1)).to_have_text("Concern")
    expect(summary_value(head.page, "Judgement")).to_have_text("Inadequate")
    alerted = summary_value(head.page, "Alerted")
    expect(alerted).to_contain_text("Sam Okafor: not yet acknowledged")
    head.submit("Acknowledge")
    expect(head.success_banner()).to_contain_text(f"Concern on ‘{title}’ acknowledged")
    expect(summary_value(head.page, "Alerted")).to_contain_text("Sam Okafor: acknowledged")
    expect(head.main_locator().get_by_role("button", name="Acknowledge")).to_have_count(0)
    head.click_link("Home", within=head.navigation())
    expect(head.page.locator(".govuk-notification-banner", has_text="Safeguarding concerns")).to_have_count(0)

    # The QA lead's alert is theirs to acknowledge: it is still there.
    lead = new_page()
    lead.sign_in(helen)
    expect(lead.page.locator(".govuk-notification-banner", has_text="Safeguarding concerns")).to_contain_text(
        "1 safeguarding concern needs your response"
    )


# ---------------------------------------------------------------- 6. two people at once


def test_two_auditors_edit_the_same_finding(page, new_page, make_user, make_service, make_audit, app):
    priya = make_user("auditor", name="Priya Shah")
    omar = make_user("auditor", name="Omar Farouk")
    title = "Focus group: Initial Response Team"
    audit_id = make_audit(
        title, type="focus_group", lead_id=priya.id, auditor_ids=[omar.id], service_id=make_service(MASH), status="in_progress"
    )
    finding_id = make_finding(app, audit_id, priya.id, kind="area_for_improvement", summary="Supervision is not always recorded.")

    first, second = page, new_page()
    first.sign_in(priya)
    second.sign_in(omar)
    open_finding_to_edit(first, title)
    open_finding_to_edit(second, title)

    first.page.locator("main form").get_by_label("Summary", exact=True).fill("Supervision is recorded late in a third of cases.")
    first.submit("Save changes")
    expect(first.success_banner()).to_contain_text("Area for improvement saved")
    saved = finding_values(app, finding_id)
    assert saved["summary"] == "Supervision is recorded late in a third of cases."

    form = second.page.locator("main form")
    form.get_by_role("group", name="Judgement (optional)").get_by_label("Requires improvement", exact=True).check()
    form.get_by_label("Summary", exact=True).fill("Supervision records lack reflection.")
    form.get_by_label("Evidence (optional)").fill("Six of ten files.")
    second.submit("Save changes", status=409)
    banner = second.page.locator(".govuk-notification-banner").filter(has_text="Someone else changed this finding at the same time")
    expect(banner).to_contain_text("Your changes are still in the form below and have not been saved.")
    form = second.page.locator("main form")
    expect(form.get_by_label("Summary", exact=True)).to_have_value("Supervision records lack reflection.")
    expect(form.get_by_label("Evidence (optional)")).to_have_value("Six of ten files.")
    expect(form.get_by_role("group", name="Judgement (optional)").get_by_label("Requires improvement", exact=True)).to_be_checked()
    assert finding_values(app, finding_id) == saved  # nothing overwritten

    # Having seen the conflict, saving again is their choice.
    second.submit("Save changes")
    expect(second.success_banner()).to_contain_text("Area for improvement saved")
    expect(summary_value(second.page, "Summary")).to_have_text("Supervision records lack reflection.")
    now = finding_values(app, finding_id)
    assert now["judgement"] == "requires_improvement" and now["version"] > saved["version"]


def test_two_auditors_save_the_same_focus_group_details(page, new_page, make_user, make_service, make_audit, app):
    priya = make_user("auditor", name="Priya Shah")
    omar = make_user("auditor", name="Omar Farouk")
    title = "Focus group: Domestic Abuse Hub"
    make_audit(title, type="focus_group", lead_id=priya.id, auditor_ids=[omar.id], service_id=make_service(MASH), status="in_progress")

    first, second = page, new_page()
    for person, app_page in ((priya, first), (omar, second)):
        app_page.sign_in(person)
        open_from_my_audits(app_page, title)
        app_page.click_link("Focus group details")
    for app_page, count, roles in ((first, "6", "Domestic abuse triage officers"), (second, "7", "Hub social workers and police")):
        form = app_page.page.locator("main form")
        form.get_by_label("Number of participants").fill(count)
        form.get_by_label("Participants' roles").fill(roles)
        form.get_by_label("Themes discussed").fill("The LEAN review")
    first.submit("Save details")
    expect(first.success_banner()).to_contain_text(f"Details of ‘{title}’ saved")

    second.submit("Save details", status=409)
    banner = second.page.locator(".govuk-notification-banner").filter(has_text="Someone else changed these details at the same time")
    expect(banner).to_contain_text("Your changes are still in the form below and have not been saved.")
    expect(banner.get_by_role("link", name="See the details page as it is now (opens in a new tab)")).to_be_visible()
    form = second.page.locator("main form")
    expect(form.get_by_label("Number of participants")).to_have_value("7")
    expect(form.get_by_label("Participants' roles")).to_have_value("Hub social workers and police")

    # Having seen the conflict, saving again is their choice.
    second.submit("Save details")
    expect(second.success_banner()).to_contain_text(f"Details of ‘{title}’ saved")
    expect(second.page.locator("main form").get_by_label("Number of participants")).to_have_value("7")


def test_answers_are_kept_when_the_audit_is_completed_meanwhile(page, new_page, make_user, make_service, make_audit, make_question_set, app):
    priya = make_user("auditor", name="Priya Shah")
    omar = make_user("auditor", name="Omar Farouk")
    title = "Dip sample: referrals from schools"
    question_set = make_question_set("Referrals", [YOUNGER_CHILDREN, MULTI_AGENCY])
    audit_id = make_audit(
        title, type="dip_sample", lead_id=priya.id, auditor_ids=[omar.id], service_id=make_service(MASH),
        question_set_id=question_set, status="in_progress",
    )
    add_answered_case(app, audit_id, "CIN/2024/101")

    # Omar opens the grid and starts correcting an answer ...
    second = new_page()
    second.sign_in(omar)
    open_from_my_audits(second, title)
    second.click_link("Sampled cases")
    second.click_link("Answer the questions")
    cell = f"Case CIN/2024/101, question 1: {YOUNGER_CHILDREN}"
    second.page.get_by_label(cell).select_option(label="Not met")
    second.page.get_by_label("Notes on case CIN/2024/101").fill("No medical at the first visit.")

    # ... while Priya completes the audit.
    page.sign_in(priya)
    open_from_my_audits(page, title)
    complete_audit(page, title)

    # Omar's save is refused, with his answers still on the page.
    second.submit("Save answers", status=409)
    banner = second.page.locator(".govuk-notification-banner").filter(has_text="This audit was completed while you were answering")
    expect(banner).to_contain_text("Your changes are still in the form below and have not been saved.")
    expect(second.page.get_by_label(cell)).to_have_value("not_met")
    expect(second.page.get_by_label("Notes on case CIN/2024/101")).to_have_value("No medical at the first visit.")
    assert audit_state(app, audit_id)["status"] == "completed"
    go_back(second, "Back to the cases")
    second.click_link("See the answers")
    grid = second.page.get_by_role("table", name="Answers for each case")
    assert table_cells(grid) == [["CIN/2024/101", "Met", "Met", "None"]]


# ---------------------------------------------------------------- 7. reopening


def test_a_qa_lead_reopens_a_completed_audit(page, new_page, make_user, make_service, make_audit, app):
    helen = make_user("qa_lead", name="Helen Gray")
    priya = make_user("auditor", name="Priya Shah")
    title = "Focus group: Children in Care team"
    audit_id = make_audit(title, type="focus_group", lead_id=priya.id, service_id=make_service(MASH), status="in_progress")

    # The auditor completes it: findings can no longer be recorded.
    auditor = page
    auditor.sign_in(priya)
    open_from_my_audits(auditor, title)
    complete_audit(auditor, title)
    auditor.click_link(f"Findings of {title}")
    expect(auditor.main_locator()).to_contain_text("Findings are recorded while the audit is in progress. This audit is completed.")

    # The QA lead reopens it, with a reason.
    lead = new_page()
    lead.sign_in(helen)
    open_from_programme(lead, title)
    lead.click_link("Reopen audit")
    lead.submit("Reopen audit")
    expect(lead.page).to_have_title(re.compile(r"^Error: Reopen this audit – "))
    expect(field_error(lead.page, "Why is this audit being reopened?")).to_contain_text("Enter the reason for reopening")
    assert audit_state(app, audit_id)["status"] == "completed"
    lead.page.get_by_label("Why is this audit being reopened?").fill("The themes from the second session were missed.")
    lead.submit("Reopen audit")
    expect(lead.success_banner()).to_contain_text(f"‘{title}’ reopened")
    expect(summary_value(lead.page, "Status")).to_have_text("In progress")
    expect(summary_value(lead.page, "Reason for reopening")).to_have_text("The themes from the second session were missed.")
    assert audit_state(app, audit_id) == {"status": "in_progress", "reopen_reason": "The themes from the second session were missed."}

    # The auditor can record again.
    open_from_my_audits(auditor, title)
    auditor.click_link(f"Findings of {title}")
    record_finding(auditor, "Strength", "Children's views are recorded in every plan.")
    expect(auditor.success_banner()).to_contain_text("Strength recorded")
