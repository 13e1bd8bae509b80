"""A QA lead builds a year's audit programme in a real browser, and reads it back:
by quarter, filtered, exported to Excel and CSV, and as a month calendar. A viewer
reads the same pages without the buttons that change them."""

from __future__ import annotations

import csv
import re
from datetime import date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from qa_audit.audits.programme import Quarter, financial_year_quarters, quarter_of
from qa_audit.dates import add_months
from tests.browser.conftest import row_for, summary_value, today

pytestmark = pytest.mark.browser

SERIES_TITLE = "Locality strategy meetings dip sample"
VISIT_TITLE = "Targeted visit to the MASH"
PART_TITLE = "Focus group: MASH social workers"
QUESTION_SET = "Strategy meetings: thresholds"
QUESTIONS = [
    "Was the strategy meeting held within the timescale?",
    "Did police, health and social care all attend?",
    "Was the threshold for section 47 enquiries applied correctly?",
]


def _long_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def _fill_date(scope, day: date) -> None:
    scope.get_by_label("Day").fill(str(day.day))
    scope.get_by_label("Month").fill(str(day.month))
    scope.get_by_label("Year").fill(str(day.year))


def _audit_ids(page) -> list[int]:
    """The ids of the audits linked from the programme's tables, in page order."""
    hrefs = page.locator("main table tbody tr a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    return [int(re.search(r"/audits/(\d+)$", href).group(1)) for href in hrefs]


def _quarter_table(page, quarter: Quarter):
    return page.get_by_role("table", name=f"{quarter.label} ({quarter.months})", exact=True)


def test_qa_lead_builds_a_years_programme(page, make_user, make_service, make_question_set, make_audit, tmp_path):
    lead = make_user("qa_lead", name="Helen Gray")
    priya = make_user("auditor", name="Priya Shah")
    make_user("auditor", name="Tom Reid")
    make_user("viewer", name="Vera Viewer")  # a viewer cannot lead: not offered
    mash = make_service("Multi-Agency Safeguarding Hub (MASH)")
    make_service("Locality team North")

    on = today()
    year = quarter_of(on).year
    year_starts = date(year, 4, 1)
    series_dates = [add_months(year_starts, n) for n in range(12)]

    # Audits that the filter below must leave out: a dip sample without the police,
    # and a strategy meeting audit with them.
    other_set = make_question_set("Early help: step-down")
    make_audit(
        "Early help dip sample", lead_id=priya.id, type="dip_sample", service_id=mash,
        scheduled_for=date(year, 5, 15), agencies=["early_help", "health"], question_set_id=other_set,
    )
    make_audit(
        "Strategy meetings with the police", lead_id=priya.id, type="strategy_meeting_audit",
        service_id=mash, scheduled_for=date(year, 9, 10), agencies=["police"],
    )

    page.sign_in(lead)

    # 1. A question set, through the header navigation.
    page.click_link("Question sets", within=page.navigation())
    page.click_link("Create a question set")
    page.page.get_by_label("Title", exact=True).fill(QUESTION_SET)
    page.page.get_by_label("Questions", exact=True).fill("\n".join(QUESTIONS) + "\n\n")
    page.submit("Save question set")
    expect(page.success_banner()).to_contain_text(f"Question set ‘{QUESTION_SET}’ created")
    expect(page.page.get_by_role("heading", level=1)).to_have_text(QUESTION_SET)
    expect(page.main_locator().locator("ol li")).to_have_text(QUESTIONS)

    # 2. A targeted visit, from the programme page.
    page.click_link("Programme", within=page.navigation())
    page.click_link("Schedule an audit")
    expect(page.page.get_by_role("heading", level=1)).to_have_text("Schedule an audit")
    form = page.page.locator("main form")
    expect(form.get_by_label("Lead auditor").locator("option")).to_have_text(
        ["Select the lead auditor", "Helen Gray (QA lead)", "Priya Shah (Auditor)", "Tom Reid (Auditor)"]
    )
    form.get_by_role("radio", name="Targeted visit", exact=True).check()
    form.get_by_label("Title", exact=True).fill(VISIT_TITLE)
    form.get_by_label("Purpose (optional)").fill("Quarterly visit: contacts, referrals and strategy meetings.")
    form.get_by_label("Service audited").select_option(label="Multi-Agency Safeguarding Hub (MASH)")
    _fill_date(form.get_by_role("group", name="Scheduled date"), on)
    form.get_by_label("Lead auditor").select_option(label="Priya Shah (Auditor)")
    form.get_by_role("group", name="Other auditors (optional)").get_by_label("Tom Reid (Auditor)").check()
    agencies = form.get_by_role("group", name="Agencies taking part (optional)")
    agencies.get_by_label("Police", exact=True).check()
    agencies.get_by_label("Health", exact=True).check()
    page.submit("Schedule audit")

    expect(page.success_banner()).to_contain_text(f"Targeted visit ‘{VISIT_TITLE}’ scheduled for {_long_date(on)}")
    expect(page.page.get_by_role("heading", level=1)).to_have_text(VISIT_TITLE)
    visit_url = page.page.url
    expect(summary_value(page.page, "Status")).to_have_text("Planned")
    expect(summary_value(page.page, "Service audited")).to_have_text("Multi-Agency Safeguarding Hub (MASH)")
    expect(summary_value(page.page, "Scheduled date")).to_contain_text(_long_date(on))
    expect(summary_value(page.page, "Lead auditor")).to_have_text("Priya Shah")
    expect(summary_value(page.page, "Other auditors")).to_have_text("Tom Reid")
    # (In the order stored: by the agency's value, not the order of the checkboxes.)
    assert sorted(summary_value(page.page, "Agencies taking part").locator("li").all_inner_texts()) == ["Health", "Police"]
    expect(page.main_locator()).to_contain_text("No dip samples, focus groups or strategy meeting audits are part of this visit yet.")

    # 3. A part of the visit: a focus group, from the visit's page.
    page.click_link("Add a part to this visit")
    expect(page.page.get_by_role("heading", level=1)).to_have_text(f"Add a part to {VISIT_TITLE}")
    form = page.page.locator("main form")
    expect(form.get_by_role("radio", name="Targeted visit")).to_have_count(0)  # a part is never a visit
    expect(form.get_by_label("Service audited").locator("option:checked")).to_have_text("Multi-Agency Safeguarding Hub (MASH)")
    expect(form.get_by_role("group", name="Scheduled date").get_by_label("Day")).to_have_value(str(on.day))
    form.get_by_role("radio", name="Focus group", exact=True).check()
    form.get_by_label("Title", exact=True).fill(PART_TITLE)
    form.get_by_label("Lead auditor").select_option(label="Helen Gray (QA lead)")
    page.submit("Schedule audit")

    expect(page.success_banner()).to_contain_text(f"Focus group ‘{PART_TITLE}’ scheduled for {_long_date(on)}")
    expect(page.page.locator(".govuk-caption-l")).to_have_text("Focus group, part of a targeted visit")
    page.click_link(VISIT_TITLE, within=summary_value(page.page, "Part of"))
    assert page.page.url == visit_url
    parts = page.page.get_by_role("table", name="1 part")
    expect(parts.locator("tbody tr")).to_have_count(1)
    expect(parts.locator("tbody tr")).to_contain_text(PART_TITLE)
    expect(parts.locator("tbody tr")).to_contain_text("Helen Gray")

    # 4. A dip sample every month for a year, with the question set.
    page.click_link("Programme", within=page.navigation())
    page.click_link("Schedule an audit")
    page.click_link("schedule a recurring series")
    expect(page.page.get_by_role("heading", level=1)).to_have_text("Schedule a recurring series")
    form = page.page.locator("main form")
    form.get_by_role("radio", name="Dip sample", exact=True).check()
    form.get_by_label("Title", exact=True).fill(SERIES_TITLE)
    form.get_by_label("Service audited").select_option(label="Multi-Agency Safeguarding Hub (MASH)")
    form.get_by_label("Lead auditor").select_option(label="Priya Shah (Auditor)")
    agencies = form.get_by_role("group", name="Agencies taking part (optional)")
    agencies.get_by_label("Police", exact=True).check()
    agencies.get_by_label("Children's social care", exact=True).check()
    form.get_by_label("Question set", exact=True).select_option(label=QUESTION_SET)
    form.get_by_role("radio", name="Every month", exact=True).check()
    _fill_date(form.get_by_role("group", name="Date of the first audit"), year_starts)
    form.get_by_label("Number of audits (optional)").fill("12")
    page.submit("Schedule series")

    expect(page.success_banner()).to_contain_text(f"Series ‘{SERIES_TITLE}’ created with 12 planned audits")
    expect(summary_value(page.page, "How often")).to_have_text("Every month")
    expect(summary_value(page.page, "Number of audits")).to_have_text("12")
    expect(summary_value(page.page, "Question set")).to_have_text(QUESTION_SET)
    series_rows = page.page.get_by_role("table", name="12 audits").locator("tbody tr")
    expect(series_rows).to_have_count(12)
    expect(series_rows.locator("td:first-child")).to_have_text([_long_date(d) for d in series_dates])
    expect(series_rows.locator(".govuk-tag")).to_have_text(["Planned"] * 12)

    # 5. The programme, by quarter: three dip samples in each.
    page.click_link("Programme", within=page.navigation())
    expect(page.page).to_have_title(re.compile(rf"^Audit programme {year}/{str(year + 1)[-2:]} – "))
    expect(page.page.locator("#total")).to_contain_text("16 audits")
    everything = {  # date of each audit, by title (the series' twelve under one title)
        VISIT_TITLE: [on], PART_TITLE: [on], SERIES_TITLE: series_dates,
        "Early help dip sample": [date(year, 5, 15)], "Strategy meetings with the police": [date(year, 9, 10)],
    }
    for quarter in financial_year_quarters(year):
        table = _quarter_table(page.page, quarter)
        expect(row_for(table, SERIES_TITLE)).to_have_count(3)
        expect(row_for(table, SERIES_TITLE).locator("td:nth-child(2)")).to_have_text(["Dip sample"] * 3)
        in_quarter = [d for dates in everything.values() for d in dates if quarter.starts_on <= d <= quarter.ends_on]
        overdue = sum(d < on for d in in_quarter)
        expect(page.page.locator(f"#counts-{quarter.year}-q{quarter.number}")).to_have_text(
            re.compile(rf"^\s*{len(in_quarter)} planned,\s+0 in progress,\s+0 completed,\s+{overdue} overdue to start\s*$")
        )
    this_quarter = _quarter_table(page.page, quarter_of(on))
    expect(row_for(this_quarter, VISIT_TITLE)).to_contain_text("Targeted visit")
    expect(row_for(this_quarter, PART_TITLE)).to_contain_text("Focus group")

    # 6. Filtered: dip samples the police take part in. The filters go in the URL.
    page.page.locator("#filters summary").click()
    filters = page.page.locator("#filters form")
    filters.get_by_role("group", name="Type").get_by_label("Dip sample", exact=True).check()
    filters.get_by_role("group", name="Agency taking part").get_by_label("Police", exact=True).check()
    page.submit("Apply filters", within=page.page.locator("#filters"))

    query = parse_qs(urlsplit(page.page.url).query)
    assert query["type"] == ["dip_sample"] and query["agency"] == ["police"], page.page.url
    expect(page.page.locator("#active-filters")).to_contain_text("Type: Dip sample; Agency taking part: Police")
    expect(filters.get_by_role("group", name="Type").get_by_label("Dip sample", exact=True)).to_be_checked()
    expect(filters.get_by_role("group", name="Agency taking part").get_by_label("Police", exact=True)).to_be_checked()
    expect(page.page.locator("#total")).to_contain_text("12 audits")
    rows = page.page.locator("main table tbody tr")
    expect(rows).to_have_count(12)
    expect(page.main_locator()).not_to_contain_text("Early help dip sample")
    expect(page.main_locator()).not_to_contain_text(VISIT_TITLE)
    filtered_ids = _audit_ids(page.page)
    assert len(filtered_ids) == 12
    filtered_dates = rows.locator("td:first-child").all_inner_texts()
    assert filtered_dates == [_long_date(d) for d in series_dates]

    # Reloading the URL gives the same page: the filters live in it.
    page.visit(page.page.url.removeprefix(page.base_url))
    assert _audit_ids(page.page) == filtered_ids

    # 7. The Excel download holds exactly the filtered rows.
    with page.page.expect_download() as download_info:
        page.page.get_by_role("link", name="Download as Excel").click()
    download = download_info.value
    assert download.suggested_filename == f"audit-programme-{year}-{str(year + 1)[-2:]}.xlsx"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    workbook = load_workbook(saved)
    sheet = workbook.active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:9] == ("ID", "Date", "Type", "Title", "Service", "Lead auditor", "Auditors", "Agencies", "Status")
    data = values[1:]
    assert [row[0] for row in data] == filtered_ids
    assert [row[1].date() if isinstance(row[1], datetime) else row[1] for row in data] == series_dates
    for row in data:
        assert row[2:6] == ("Dip sample", SERIES_TITLE, "Multi-Agency Safeguarding Hub (MASH)", "Priya Shah")
        assert "Police" in row[7]
        assert row[8] == "Planned"
    workbook.close()

    # The CSV has the same rows.
    with page.page.expect_download() as download_info:
        page.page.get_by_role("link", name="Download as CSV").click()
    with open(download_info.value.path(), encoding="utf-8-sig", newline="") as handle:
        csv_rows = list(csv.reader(handle))
    assert [int(row[0]) for row in csv_rows[1:]] == filtered_ids

    # 8. The month calendar keeps the filters.
    page.click_link("View as a calendar")
    query = parse_qs(urlsplit(page.page.url).query)
    assert query["type"] == ["dip_sample"] and query["agency"] == ["police"] and query["month"] == [f"{on:%Y-%m}"]
    expect(page.page.get_by_role("heading", level=1)).to_contain_text(f"Audits in {on:%B %Y}")
    calendar = page.page.locator("#calendar")
    expect(calendar.get_by_role("link")).to_have_text([f"Dip sample: {SERIES_TITLE}"])
    first_of_month = calendar.locator("td", has=page.page.get_by_role("link", name=f"Dip sample: {SERIES_TITLE}"))
    expect(first_of_month.locator("p").first).to_have_text(re.compile(rf"^\s*1 {on:%B}\b"))
    expect(page.page.locator("#active-filters")).to_contain_text("Type: Dip sample; Agency taking part: Police")

    # Without the filters, the visit and its focus group are there too.
    page.click_link("Clear filters", within=page.page.locator("#active-filters"))
    expect(calendar.get_by_role("link", name=f"Targeted visit: {VISIT_TITLE}")).to_have_count(1)
    expect(calendar.get_by_role("link", name=f"Focus group: {PART_TITLE}")).to_have_count(1)

    # Next month and back, then from the calendar to an audit.
    next_month = add_months(on.replace(day=1), 1)
    # (The month is visually hidden text in the link, so match the name loosely around the colon.)
    page.click(page.page.get_by_role("link", name=re.compile(rf"^Next month\s*: {next_month:%B %Y}$")))
    expect(page.page.get_by_role("heading", level=1)).to_contain_text(f"Audits in {next_month:%B %Y}")
    page.click(page.page.get_by_role("link", name=re.compile(rf"^Previous month\s*: {on:%B %Y}$")))
    expect(page.page.get_by_role("heading", level=1)).to_contain_text(f"Audits in {on:%B %Y}")
    page.click_link(f"Dip sample: {SERIES_TITLE}", within=page.page.locator("#calendar"))
    expect(page.page.get_by_role("heading", level=1)).to_have_text(SERIES_TITLE)
    expect(summary_value(page.page, "Scheduled date")).to_contain_text(_long_date(on.replace(day=1)))
    expect(summary_value(page.page, "Series")).to_contain_text(SERIES_TITLE)
    expect(page.main_locator().locator("ol li")).to_have_text(QUESTIONS)


def test_a_viewer_sees_the_programme_but_cannot_change_it(page, make_user, make_service, make_audit):
    viewer = make_user("viewer", name="Vera Viewer")
    priya = make_user("auditor", name="Priya Shah")
    on = today()
    visit = make_audit(VISIT_TITLE, lead_id=priya.id, service_id=make_service("Multi-Agency Safeguarding Hub (MASH)"), scheduled_for=on)
    started = make_audit("Focus group in progress", lead_id=priya.id, type="focus_group", scheduled_for=on, status="in_progress")

    page.sign_in(viewer)
    expect(page.navigation().get_by_role("link", name="Question sets")).to_have_count(0)
    page.click_link("Programme", within=page.navigation())
    expect(page.page.get_by_role("heading", level=1)).to_contain_text("Audit programme")
    expect(page.main_locator().get_by_role("link", name="Schedule an audit")).to_have_count(0)
    expect(page.page.locator("main table tbody tr")).to_have_count(2)

    page.click_link(VISIT_TITLE, within=row_for(page.page, VISIT_TITLE))
    assert page.page.url == page.url(f"/audits/{visit}")
    expect(page.page.get_by_role("heading", level=1)).to_have_text(VISIT_TITLE)
    expect(summary_value(page.page, "Lead auditor")).to_have_text("Priya Shah")
    main = page.main_locator()
    for name in ("Edit audit", "Start audit", "Complete audit", "Cancel audit", "Reopen audit", "Add a part to this visit"):
        expect(main.get_by_role("link", name=name)).to_have_count(0)
        expect(main.get_by_role("button", name=name)).to_have_count(0)
    expect(main.get_by_role("link", name=re.compile("History of changes"))).to_have_count(0)

    page.visit(f"/audits/{started}")
    expect(main.get_by_role("button", name="Complete audit")).to_have_count(0)
    expect(main.get_by_role("link", name="Cancel audit")).to_have_count(0)

    # The pages that change an audit answer 403.
    for path in (f"/audits/{visit}/edit", "/audits/new", f"/audits/{visit}/cancel", "/audit-series/new"):
        page.visit(path, status=403)
        expect(page.page.get_by_role("heading", level=1)).to_have_text("You do not have permission to see this page")


def test_a_long_programme_is_paginated_and_bad_filters_are_explained(page, make_user, make_service, make_audit, app):
    from qa_audit.audits import services

    lead = make_user("qa_lead", name="Helen Gray")
    priya = make_user("auditor", name="Priya Shah")
    mash = make_service("Multi-Agency Safeguarding Hub (MASH)")
    year = quarter_of(today()).year
    with app.app_context():
        for n in range(125):
            services.schedule_audit(
                {"type": "focus_group", "title": f"Focus group {n + 1:03}", "service_id": mash,
                 "scheduled_for": date(year, 4, 1) + timedelta(days=2 * n), "lead_auditor_id": priya.id}
            )
    make_audit(VISIT_TITLE, lead_id=priya.id, service_id=mash, scheduled_for=date(year, 4, 2))

    page.sign_in(lead)
    page.visit("/programme?type=focus_group")
    expect(page.page.locator("#total")).to_contain_text("125 audits, page 1 of 2.")
    expect(page.page.locator("main tbody tr")).to_have_count(100)
    pages = page.page.get_by_role("navigation", name="Pages of audits")
    expect(pages).to_be_visible()
    page.click(pages.get_by_role("link", name=re.compile(r"^Next")))
    query = parse_qs(urlsplit(page.page.url).query)
    assert query == {"type": ["focus_group"], "page": ["2"]}, page.page.url
    expect(page.page.locator("#total")).to_contain_text("125 audits, page 2 of 2.")
    rows = page.page.locator("main tbody tr")
    expect(rows).to_have_count(25)
    expect(rows.last).to_contain_text("Focus group 125")
    expect(page.main_locator()).not_to_contain_text(VISIT_TITLE)

    # An impossible date and a range that ends before it starts: GOV.UK errors, no table.
    page.visit("/programme")
    page.page.locator("#filters summary").click()
    filters = page.page.locator("#filters form")
    date_from = filters.get_by_role("group", name="Date from")
    date_from.get_by_label("Day").fill("31")
    date_from.get_by_label("Month").fill("2")
    date_from.get_by_label("Year").fill(str(year + 1))
    page.submit("Apply filters", within=page.page.locator("#filters"))
    expect(page.page).to_have_title(re.compile(r"^Error: Audit programme "))
    expect(page.error_summary()).to_contain_text("Date from must be a real date")
    expect(page.main_locator()).to_contain_text("Correct the filters to see the programme.")
    expect(page.page.locator("main table")).to_have_count(0)

    filters = page.page.locator("#filters form")
    _fill_date(filters.get_by_role("group", name="Date from"), date(year, 6, 1))
    _fill_date(filters.get_by_role("group", name="Date to"), date(year, 5, 1))
    page.submit("Apply filters", within=page.page.locator("#filters"))
    expect(page.error_summary()).to_contain_text("Date to must be the same as or after date from")

    # A range that makes sense: the caption says so, and the export is named after it.
    filters = page.page.locator("#filters form")
    _fill_date(filters.get_by_role("group", name="Date to"), date(year, 6, 30))
    page.submit("Apply filters", within=page.page.locator("#filters"))
    expect(page.page.get_by_role("heading", level=1)).to_contain_text(f"1 June {year} to 30 June {year}")
    in_june = [n for n in range(125) if date(year, 4, 1) + timedelta(days=2 * n) >= date(year, 6, 1)
               and date(year, 4, 1) + timedelta(days=2 * n) <= date(year, 6, 30)]
    expect(page.page.locator("main tbody tr")).to_have_count(len(in_june))
    with page.page.expect_download() as download_info:
        page.page.get_by_role("link", name="Download as CSV").click()
    assert download_info.value.suggested_filename == f"audit-programme-{year}-06-01-to-{year}-06-30.csv"
