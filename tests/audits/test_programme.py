"""The programme pages: by quarter, the month calendar, exports, "my audits" and the
iCalendar feed."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timezone
from html import unescape
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
from icalendar import Calendar
from openpyxl import load_workbook
from sqlalchemy import event

from qa_audit.audits import programme, services
from qa_audit.audits.models import Agency, Audit, AuditAgency, AuditStatus, AuditType
from qa_audit.auth.models import User, hash_token
from qa_audit.extensions import db

TODAY = date(2026, 11, 15)  # quarter 3 of 2026/27


@pytest.fixture(autouse=True)
def pinned_today(monkeypatch):
    monkeypatch.setattr(services, "today", lambda: TODAY)


# Reading pages


class Page(HTMLParser):
    """The tables, links and text of a page, enough to check what a person sees."""

    def __init__(self, html: str):
        super().__init__()
        self.tables: list[dict] = []
        self.links: dict[str, str] = {}
        self._table = self._row = self._cell = None
        self._in_caption = False
        self._link: list | None = None
        self.feed(html)
        self.html = html

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._table = {"caption": "", "head": [], "rows": [], "id": attrs.get("id")}
        elif tag == "caption":
            self._in_caption = True
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = {"text": "", "links": [], "header": tag == "th" and attrs.get("scope") == "col"}
        elif tag == "a":
            self._link = [attrs.get("href"), ""]
            if self._cell is not None:
                self._cell["links"].append(attrs.get("href"))

    def handle_endtag(self, tag):
        if tag == "table" and self._table is not None:
            self.tables.append(self._table)
            self._table = None
        elif tag == "caption":
            self._in_caption = False
        elif tag in ("td", "th") and self._cell is not None:
            self._cell["text"] = " ".join(self._cell["text"].split())
            self._row.append(self._cell)
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._row and all(c["header"] for c in self._row):
                self._table["head"] = [c["text"] for c in self._row]
            else:
                self._table["rows"].append(self._row)
            self._row = None
        elif tag == "a" and self._link is not None:
            self.links[" ".join(self._link[1].split())] = unescape(self._link[0] or "")
            self._link = None

    def handle_data(self, data):
        if self._in_caption and self._table is not None:
            self._table["caption"] += data.strip()
        if self._cell is not None:
            self._cell["text"] += data
        if self._link is not None:
            self._link[1] += data

    def titles(self) -> list[str]:
        """The audit titles in the programme tables, in order."""
        return [row[2]["text"] for table in self.tables for row in table["rows"]]

    def captions(self) -> list[str]:
        return [table["caption"] for table in self.tables]

    def counts(self, quarter: programme.Quarter) -> dict[str, int]:
        block = re.search(rf'id="counts-{quarter.year}-q{quarter.number}">(.*?)</p>', self.html, re.S).group(1)
        found = {name: int(n) for n, name in re.findall(r"<strong>(\d+)</strong> ([a-z ]+)", block)}
        return {key.replace(" ", "_"): value for key, value in found.items()}


def get_page(client, url: str) -> Page:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)
    return Page(response.get_data(as_text=True))


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query, keep_blank_values=True)


# Making a lot of audits quickly


@pytest.fixture
def bulk_audits(make_user, make_service):
    """bulk_audits(n, year=2026) → n planned audits spread over that financial year."""

    def make(n: int, year: int = 2026) -> list[Audit]:
        leads = [make_user("auditor") for _ in range(3)]
        helpers = [make_user("auditor") for _ in range(3)]
        services_ = [make_service() for _ in range(3)]
        audits = []
        start = date(year, 4, 1).toordinal()
        for i in range(n):
            audit = Audit(
                type=list(AuditType)[i % 4],
                title=f"Bulk audit {i:04d}",
                service_id=services_[i % 3].id,
                scheduled_for=date.fromordinal(start + (i * 364) // max(n, 1)),
                lead_auditor_id=leads[i % 3].id,
                status=list(AuditStatus)[i % 4],
            )
            audit.auditors = [helpers[i % 3]]
            audit.agency_rows = [AuditAgency(agency=Agency.POLICE), AuditAgency(agency=Agency.HEALTH)]
            audits.append(audit)
        db.session.add_all(audits)
        db.session.commit()
        return audits

    return make


# The programme by quarter


def test_programme_shows_the_financial_year_by_quarter(login_as, make_audit):
    client = login_as("viewer")
    make_audit("dip_sample", title="Before the year", scheduled_for=date(2026, 3, 31))
    make_audit("dip_sample", title="First day", scheduled_for=date(2026, 4, 1))
    make_audit("focus_group", title="Summer focus group", scheduled_for=date(2026, 8, 3))
    make_audit("targeted_visit", title="Last day", scheduled_for=date(2027, 3, 31))
    make_audit("targeted_visit", title="Next year", scheduled_for=date(2027, 4, 1))

    page = get_page(client, "/programme")  # today is in 2026/27
    assert "Financial year 2026/27 (April 2026 to March 2027)" in page.html
    assert page.titles() == ["First day", "Summer focus group", "Last day"]
    assert page.captions() == [
        "Quarter 1 2026/27 (April 2026 to June 2026)",
        "Quarter 2 2026/27 (July 2026 to September 2026)",
        "Quarter 4 2026/27 (January 2027 to March 2027)",
    ]
    # An empty quarter still has its heading and counts.
    assert "Quarter 3 2026/27 (October 2026 to December 2026)" in page.html
    assert "No audits in this quarter." in page.html

    head = page.tables[0]["head"]
    assert head == ["Date", "Type", "Title", "Service", "Lead auditor", "Status"]
    first = page.tables[0]["rows"][0]
    assert first[0]["text"] == "1 April 2026" and first[1]["text"] == "Dip sample"
    assert re.fullmatch(r"/audits/\d+", first[2]["links"][0])

    assert get_page(client, "/programme?year=2025").titles() == ["Before the year"]
    assert get_page(client, "/programme?year=2027").titles() == ["Next year"]
    for year in ("banana", "1", "9999", "%C2%B2", "-2026"):
        assert get_page(client, f"/programme?year={year}").titles() == ["First day", "Summer focus group", "Last day"]


def test_counts_per_quarter_with_overdue_to_start(login_as, make_audit):
    client = login_as("auditor")
    make_audit(title="Late to start", scheduled_for=date(2026, 10, 1))  # planned, before today
    make_audit(title="Starts today", scheduled_for=TODAY)  # planned, not overdue
    make_audit(title="Later", scheduled_for=date(2026, 12, 1))
    make_audit(title="Running", status="in_progress", scheduled_for=date(2026, 11, 1))
    make_audit(title="Done", status="completed", scheduled_for=date(2026, 10, 5))
    make_audit(title="Dropped", status="cancelled", scheduled_for=date(2026, 10, 6))
    make_audit(title="Spring", status="completed", scheduled_for=date(2026, 5, 5))
    make_audit(title="Spring, late", scheduled_for=date(2026, 6, 5))

    q1, q2, q3, q4 = programme.financial_year_quarters(2026)
    counts = programme.quarter_counts(programme.filtered(programme.ProgrammeFilters()), [q1, q2, q3, q4], TODAY)
    assert counts[q3] == {"planned": 3, "in_progress": 1, "completed": 1, "cancelled": 1, "overdue_to_start": 1}
    assert counts[q1] == {"planned": 1, "in_progress": 0, "completed": 1, "cancelled": 0, "overdue_to_start": 1}
    assert programme.total(counts[q2]) == 0

    page = get_page(client, "/programme?year=2026")
    assert page.counts(q3) == {"planned": 3, "in_progress": 1, "completed": 1, "overdue_to_start": 1, "cancelled": 1}
    assert page.counts(q1) == {"planned": 1, "in_progress": 0, "completed": 1, "overdue_to_start": 1}
    assert page.counts(q4) == {"planned": 0, "in_progress": 0, "completed": 0, "overdue_to_start": 0}

    statuses = {row[2]["text"]: row[5]["text"] for table in page.tables for row in table["rows"]}
    assert statuses["Late to start"] == "Planned Overdue to start"
    assert statuses["Spring, late"] == "Planned Overdue to start"
    assert statuses["Starts today"] == "Planned"
    assert statuses["Running"] == "In progress" and statuses["Dropped"] == "Cancelled"
    assert 'govuk-tag--red">\n  Overdue to start' in page.html

    # The counts follow the filters.
    page = get_page(client, "/programme?status=planned")
    assert page.counts(q3) == {"planned": 3, "in_progress": 0, "completed": 0, "overdue_to_start": 1}


def test_filters_combine_and_stay_in_the_url(login_as, make_audit, make_user, make_service):
    client = login_as("qa_lead")
    mash, front_door = make_service("MASH"), make_service("Front door")
    alice, bob = make_user("auditor", name="Alice Auditor"), make_user("auditor", name="Bob Auditor")
    make_audit("dip_sample", title="A", service=mash, lead=alice, agencies=["police"], scheduled_for=date(2026, 5, 1))
    make_audit("targeted_visit", title="B", service=mash, lead=bob, auditor_ids=[alice.id], agencies=["health"], scheduled_for=date(2026, 6, 1))
    make_audit("dip_sample", title="C", service=front_door, lead=bob, status="in_progress", scheduled_for=date(2026, 7, 1))
    make_audit("focus_group", title="D", service=mash, lead=bob, agencies=["police", "health"], scheduled_for=date(2026, 8, 1))

    def titles(query: str) -> list[str]:
        return get_page(client, "/programme?" + query).titles()

    assert titles("") == ["A", "B", "C", "D"]
    assert titles("type=dip_sample") == ["A", "C"]
    assert titles("type=dip_sample&type=targeted_visit") == ["A", "B", "C"]  # OR within a filter
    assert titles(f"type=dip_sample&type=targeted_visit&service={mash.id}") == ["A", "B"]  # AND across
    assert titles(f"service={mash.id}&service={front_door.id}&status=in_progress") == ["C"]
    assert titles(f"auditor={alice.id}") == ["A", "B"]  # leads or takes part
    assert titles(f"auditor={alice.id}&agency=police") == ["A"]
    assert titles("agency=police&agency=health") == ["A", "B", "D"]
    assert titles(f"type=focus_group&auditor={alice.id}") == []

    query = f"type=dip_sample&type=targeted_visit&service={mash.id}&auditor={alice.id}&agency=police&agency=health&year=2026"
    page = get_page(client, "/programme?" + query)
    assert page.titles() == ["A", "B"]
    assert 'value="dip_sample" checked' in page.html and 'value="focus_group" checked' not in page.html
    assert f'<option value="{alice.id}" selected>' in page.html
    assert "Filtered by" in page.html and "Type: Dip sample, Targeted visit" in page.html
    expected = {
        "type": ["dip_sample", "targeted_visit"],
        "service": [str(mash.id)],
        "auditor": [str(alice.id)],
        "agency": ["police", "health"],
    }
    for link in ("Download as CSV", "Download as Excel"):
        assert query_of(page.links[link]) == {**expected, "year": ["2026"]}
    assert query_of(page.links["View as a calendar"]) == {**expected, "month": ["2026-11"]}
    assert {k: v for k, v in query_of(page.links["Next year: 2027/28"]).items() if k != "year"} == expected
    assert page.links["Clear filters"] == "/programme?year=2026"
    assert 'type="hidden" name="year" value="2026"' in page.html  # applying filters keeps the year


def test_a_date_range_shows_the_quarters_it_covers(login_as, make_audit):
    client = login_as("viewer")
    make_audit(title="September", scheduled_for=date(2026, 9, 30))
    make_audit(title="October", scheduled_for=date(2026, 10, 1))
    make_audit(title="January", scheduled_for=date(2027, 1, 31))
    make_audit(title="February", scheduled_for=date(2027, 2, 1))

    page = get_page(client, "/programme?date_from=1&date_from=10&date_from=2026&date_to=31&date_to=1&date_to=2027")
    assert page.titles() == ["October", "January"]
    assert page.captions() == [
        "Quarter 3 2026/27 (October 2026 to December 2026)",
        "Quarter 4 2026/27 (January 2027 to March 2027)",
    ]
    assert "Quarter 2 2026/27" not in page.html and "1 October 2026 to 31 January 2027" in page.html

    # Only a start: everything from then on, across financial years.
    page = get_page(client, "/programme?date_from=1&date_from=1&date_from=2027")
    assert page.titles() == ["January", "February"]
    # Only an end.
    assert get_page(client, "/programme?date_to=30&date_to=9&date_to=2026").titles() == ["September"]
    # A huge range shows the audits, not hundreds of empty quarters.
    page = get_page(client, "/programme?date_from=1&date_from=1&date_from=1900&date_to=1&date_to=1&date_to=2100")
    assert page.titles() == ["September", "October", "January", "February"]
    assert page.html.count("No audits") == 0


@pytest.mark.parametrize(
    "query, message",
    [
        ("date_from=31&date_from=2&date_from=2026", "Date from must be a real date"),
        ("date_from=0&date_from=1&date_from=2026", "Date from must be a real date"),
        ("date_to=1&date_to=13&date_to=2026", "Date to must be a real date"),
        ("date_from=a&date_from=b&date_from=c", "Date from must be a real date"),
        ("date_from=&date_from=4&date_from=2026", "Date from must include a day"),
        ("date_from=1&date_from=4&date_from=26", "Year must include 4 numbers"),
        ("date_from=5", "Date from must include a month and a year"),
        ("date_from=1&date_from=1&date_from=0001", "Year must be between 1900 and 2100"),
        ("date_to=31&date_to=12&date_to=9999", "Year must be between 1900 and 2100"),
        ("date_from=%C2%B2&date_from=1&date_from=2026", "Date from must be a real date"),
        ("date_from=1&date_from=4&date_from=2027&date_to=1&date_to=4&date_to=2026", "Date to must be the same as or after date from"),
        ("type=inspection", "Select audit types from the list"),
        ("agency=fire_brigade", "Select agencies from the list"),
        ("status=lost", "Select statuses from the list"),
        ("service=999", "Select services from the list"),
        ("auditor=999", "Select an auditor from the list"),
        ("auditor=x", "Select an auditor from the list"),
    ],
)
def test_bad_filters_get_a_message_at_the_field(login_as, make_audit, query, message):
    client = login_as("viewer")
    make_audit(title="Visible")
    response = client.get("/programme?" + query)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<title>Error: " in html
    assert "govuk-error-summary" in html and html.count(message) >= 2  # summary and field
    assert "Correct the filters" in html and "Visible" not in html
    # The exports and calendar do not fall over either.
    assert client.get("/programme/export.csv?" + query).status_code == 302
    assert client.get("/programme/calendar?" + query).status_code == 200


def test_blank_date_boxes_are_no_filter(login_as, make_audit):
    client = login_as("viewer")
    make_audit(title="Visible")
    page = get_page(client, "/programme?type=&date_from=&date_from=&date_from=&date_to=&date_to=&date_to=")
    assert "<title>Error" not in page.html and page.titles() == ["Visible"]
    assert query_of(page.links["Download as CSV"]) == {}  # empty values are not carried along


def test_quarters_on_page():
    q1, q2, q3, q4 = quarters = programme.financial_year_quarters(2026)

    def counts(*sizes):
        return {q: {"planned": n, "in_progress": 0, "completed": 0, "cancelled": 0} for q, n in zip(quarters, sizes)}

    assert programme.quarters_on_page(quarters, counts(0, 0, 0, 0), 1, 100) == quarters
    assert programme.quarters_on_page(quarters, counts(60, 0, 60, 10), 1, 100) == [q1, q2, q3]
    assert programme.quarters_on_page(quarters, counts(60, 0, 60, 10), 2, 100) == [q3, q4]
    assert programme.quarters_on_page(quarters, counts(100, 0, 0, 0), 1, 100) == [q1, q2, q3, q4]
    assert programme.quarters_on_page(quarters, counts(100, 0, 1, 0), 1, 100) == [q1]
    assert programme.quarters_on_page(quarters, counts(100, 0, 1, 0), 2, 100) == [q2, q3, q4]
    assert programme.quarters_on_page(quarters, counts(0, 250, 0, 0), 2, 100) == [q2]


def test_pagination_across_quarters(login_as, bulk_audits):
    client = login_as("viewer")
    audits = bulk_audits(230)
    titles = [a.title for a in sorted(audits, key=lambda a: (a.scheduled_for, a.id))]

    first = get_page(client, "/programme?year=2026")
    assert "230 audits, page 1 of 3" in first.html
    assert first.titles() == titles[:100]
    assert query_of(first.links["Next page"]) == {"year": ["2026"], "page": ["2"]}
    second = get_page(client, first.links["Next page"])
    assert second.titles() == titles[100:200]
    third = get_page(client, "/programme?year=2026&page=3")
    assert third.titles() == titles[200:]
    assert "Next page" not in third.links
    # Counts cover every filtered audit, not just the page's.
    seen = {}
    for page in (first, second, third):
        for quarter in programme.financial_year_quarters(2026):
            if f'id="counts-{quarter.year}-q{quarter.number}"' in page.html:
                seen.setdefault(quarter, page.counts(quarter))
    assert len(seen) == 4  # every quarter's counts are shown on some page
    assert sum(c["planned"] + c["in_progress"] + c["completed"] + c.get("cancelled", 0) for c in seen.values()) == 230
    # Past the end: the last page.
    assert get_page(client, "/programme?year=2026&page=99").titles() == titles[200:]
    assert get_page(client, "/programme?year=2026&page=-1").titles() == titles[:100]

    # Paging keeps the filters.
    page = get_page(client, "/programme?year=2026&status=planned&status=cancelled")
    planned_or_cancelled = [
        a.title for a in sorted(audits, key=lambda a: (a.scheduled_for, a.id))
        if a.status in (AuditStatus.PLANNED, AuditStatus.CANCELLED)
    ]
    assert "115 audits, page 1 of 2" in page.html
    link = page.links["2"]
    assert query_of(link) == {"status": ["planned", "cancelled"], "year": ["2026"], "page": ["2"]}
    assert get_page(client, link).titles() == planned_or_cancelled[100:]


def _count_queries(client, url: str) -> int:
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = client.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return len(statements)


def test_programme_page_makes_the_same_number_of_queries_for_10_and_400_audits(app, login_as, bulk_audits):
    client = login_as("qa_lead")
    bulk_audits(10)
    client.get("/programme?year=2026")  # warm up: the first request compiles and caches
    small = _count_queries(client, "/programme?year=2026")
    small_filtered = _count_queries(client, "/programme?year=2026&agency=police&status=planned")
    small_calendar = _count_queries(client, "/programme/calendar?month=2026-06")
    small_my = _count_queries(client, "/my-audits")

    bulk_audits(390)
    assert db.session.query(Audit).count() == 400
    large = _count_queries(client, "/programme?year=2026")
    large_page_3 = _count_queries(client, "/programme?year=2026&page=3")
    large_filtered = _count_queries(client, "/programme?year=2026&agency=police&status=planned")
    large_calendar = _count_queries(client, "/programme/calendar?month=2026-06")

    assert small == large == large_page_3
    assert small_filtered == large_filtered
    assert small_calendar == large_calendar
    assert small <= 15, small
    assert small_my <= 12


# Exports


def _csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    text = response.get_data().decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def _xlsx_rows(response) -> list[list]:
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    workbook = load_workbook(io.BytesIO(response.get_data()))
    return [list(row) for row in workbook.active.iter_rows(values_only=True)]


def test_exports_hold_exactly_the_filtered_rows(login_as, bulk_audits, make_audit, make_user):
    client = login_as("viewer")
    audits = bulk_audits(250)
    helper = make_user("auditor", name="Helen Helper")
    visit = make_audit("targeted_visit", title="MASH visit", scheduled_for=date(2026, 6, 1), agencies=["police", "education"], auditor_ids=[helper.id])
    part = make_audit("dip_sample", title="MASH dip sample", scheduled_for=date(2026, 6, 2), parent_id=visit.id, follow_up_of_id=visit.id)
    make_audit("dip_sample", title="Next year", scheduled_for=date(2027, 6, 2))

    query = "year=2026&status=planned&status=in_progress&agency=police"
    expected = [
        a for a in sorted([*audits, visit, part], key=lambda a: (a.scheduled_for, a.id))
        if a.status in (AuditStatus.PLANNED, AuditStatus.IN_PROGRESS) and Agency.POLICE in a.agencies
    ]
    assert len(expected) > 100  # more than one page
    page_ids = []
    for number in (1, 2):
        page = get_page(client, f"/programme?{query}&page={number}")
        page_ids += [int(row[2]["links"][0].rsplit("/", 1)[1]) for t in page.tables for row in t["rows"]]
    assert page_ids == [a.id for a in expected]

    response = client.get(page.links["Download as CSV"])
    assert response.headers["Content-Disposition"] == 'attachment; filename="audit-programme-2026-27.csv"'
    rows = _csv_rows(response)
    assert rows[0] == ["ID", "Date", "Type", "Title", "Service", "Lead auditor", "Auditors", "Agencies", "Status", "Parent ID", "Follows up ID"]
    assert [int(r[0]) for r in rows[1:]] == page_ids  # every page, not just this one
    by_id = {int(r[0]): r for r in rows[1:]}
    assert by_id[visit.id][1:9] == [
        "2026-06-01", "Targeted visit", "MASH visit", visit.service.name, visit.lead_auditor.name,
        "Helen Helper", "Education; Police", "Planned",
    ]

    # Every audit, with parent and follow-up ids, when not filtering by agency.
    rows = _csv_rows(client.get("/programme/export.csv?year=2026&type=dip_sample&date_from=2&date_from=6&date_from=2026&date_to=2&date_to=6&date_to=2026"))
    assert rows[1:] == [[str(part.id), "2026-06-02", "Dip sample", "MASH dip sample", part.service.name, part.lead_auditor.name, "", "", "Planned", str(visit.id), str(visit.id)]]

    xlsx = _xlsx_rows(client.get(f"/programme/export.xlsx?{query}"))
    assert xlsx[0] == rows[0]
    assert [r[0] for r in xlsx[1:]] == page_ids
    visit_row = next(r for r in xlsx if r[0] == visit.id)
    assert visit_row[1] == datetime(2026, 6, 1)  # a real date
    assert visit_row[2:9] == ["Targeted visit", "MASH visit", visit.service.name, visit.lead_auditor.name, "Helen Helper", "Education; Police", "Planned"]


def test_excel_export_is_formatted(login_as, make_audit):
    client = login_as("viewer")
    make_audit(title="Visit", scheduled_for=date(2026, 6, 1))
    response = client.get("/programme/export.xlsx?year=2026")
    assert response.headers["Content-Disposition"] == 'attachment; filename="audit-programme-2026-27.xlsx"'
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.column_dimensions["D"].width >= 40
    assert sheet.freeze_panes == "A2"
    assert sheet["B2"].is_date and sheet["B2"].number_format == "DD/MM/YYYY"


def test_exports_guard_against_formula_injection(login_as, make_audit, make_user, make_service):
    client = login_as("viewer")
    lead = make_user("auditor", name="@SUM(1+1)")
    service = make_service("+44 team")
    helper = make_user("auditor", name="-2+3")
    make_audit(title='=HYPERLINK("http://evil.example","Click")', lead=lead, service=service, auditor_ids=[helper.id], scheduled_for=date(2026, 6, 1))

    row = _csv_rows(client.get("/programme/export.csv?year=2026"))[1]
    assert row[3] == "'=HYPERLINK(\"http://evil.example\",\"Click\")"
    assert row[4] == "'+44 team" and row[5] == "'@SUM(1+1)" and row[6] == "'-2+3"
    assert row[1] == "2026-06-01"  # dates and numbers are left alone

    response = client.get("/programme/export.xlsx?year=2026")
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    assert sheet["D2"].value == '=HYPERLINK("http://evil.example","Click")'
    assert sheet["D2"].data_type == "s"  # text, never a formula
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_exports_need_valid_filters(login_as):
    client = login_as("viewer")
    response = client.get("/programme/export.xlsx?date_from=31&date_from=2&date_from=2026")
    assert response.status_code == 302
    assert query_of(response.location) == {"date_from": ["31", "2", "2026"]}


# The month calendar


def test_month_calendar(login_as, make_audit, make_service):
    client = login_as("auditor")
    mash = make_service("MASH")
    make_audit("dip_sample", title="Monday audit", scheduled_for=date(2026, 11, 2), service=mash)
    make_audit("focus_group", title="Sunday audit", scheduled_for=date(2026, 11, 29), status="in_progress")
    make_audit("targeted_visit", title="Same Monday", scheduled_for=date(2026, 11, 2))
    make_audit("dip_sample", title="Late", scheduled_for=date(2026, 11, 10))
    make_audit(title="December", scheduled_for=date(2026, 12, 1))

    page = get_page(client, "/programme/calendar?month=2026-11")
    (table,) = page.tables
    assert table["caption"] == "Audits in November 2026, by day"
    assert table["head"] == ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    rows = table["rows"]
    assert len(rows) == 6  # 1 November 2026 is a Sunday; 30 November a Monday
    assert [len(r) for r in rows] == [7] * 6
    assert rows[0][6]["text"].startswith("1 November") and rows[0][0]["text"] == ""
    monday = rows[1][0]
    assert monday["text"].startswith("2 November")
    assert "Dip sample: Monday audit" in monday["text"] and "Targeted visit: Same Monday" in monday["text"]
    assert len(monday["links"]) == 2 and all(re.fullmatch(r"/audits/\d+", h) for h in monday["links"])
    assert "Focus group: Sunday audit In progress" in rows[4][6]["text"]
    assert "Overdue to start" in rows[2][1]["text"]  # 10 November, planned, before today
    assert "(today)" in rows[2][6]["text"]  # 15 November
    assert rows[5][0]["text"] == "30 November" and "December" not in page.titles()
    assert 'aria-current="date"' in page.html

    assert page.links["Previous month: October 2026"] == "/programme/calendar?month=2026-10"
    assert page.links["Next month: December 2026"] == "/programme/calendar?month=2026-12"

    # Filters are honoured and kept when moving month.
    page = get_page(client, f"/programme/calendar?month=2026-11&type=dip_sample&service={mash.id}")
    text = page.tables[0]["rows"][1][0]["text"]
    assert "Monday audit" in text and "Same Monday" not in text and "Late" not in page.html.split("<table")[1]
    assert query_of(page.links["Next month: December 2026"]) == {"type": ["dip_sample"], "service": [str(mash.id)], "month": ["2026-12"]}
    assert 'type="hidden" name="month" value="2026-11"' in page.html


def test_month_calendar_defaults_to_this_month(login_as):
    client = login_as("viewer")
    for url in (
        "/programme/calendar",
        "/programme/calendar?month=2026-13",
        "/programme/calendar?month=nonsense",
        "/programme/calendar?month=0001-01",
        "/programme/calendar?month=9999-12",
        "/programme/calendar?month=2026-%C2%B2",
    ):
        page = get_page(client, url)
        assert page.tables[0]["caption"] == "Audits in November 2026, by day"
        assert "No audits this month." in page.html


# My audits


def test_my_audits_unfinished_first_with_what_to_do_next(login_as, make_audit, make_user):
    client = login_as("auditor")
    me = client.user
    other = make_user("auditor")
    later = make_audit(title="Later visit", lead=me, scheduled_for=date(2026, 12, 10))
    overdue = make_audit(title="Overdue visit", lead=me, scheduled_for=date(2026, 11, 1))
    make_audit("focus_group", title="Running focus group", lead=other, auditor_ids=[me.id], status="in_progress", scheduled_for=date(2026, 11, 5))
    done = make_audit(title="Done visit", lead=me, status="completed", scheduled_for=date(2026, 9, 1))
    done.completed_at = datetime(2026, 9, 3, 23, 30, tzinfo=timezone.utc)  # 4 September in London
    db.session.commit()
    make_audit(title="Dropped visit", lead=other, auditor_ids=[me.id], status="cancelled", scheduled_for=date(2026, 8, 1))
    make_audit(title="Not mine", lead=other, scheduled_for=date(2026, 11, 2))

    page = get_page(client, "/my-audits")
    to_do, finished = page.tables
    assert to_do["caption"] == "To do" and finished["caption"] == "Completed and cancelled"
    assert [r[1]["text"] for r in to_do["rows"]] == ["Overdue visit", "Running focus group", "Later visit"]
    assert [r[1]["text"] for r in finished["rows"]] == ["Done visit", "Dropped visit"]  # most recent first
    steps = {r[1]["text"]: r[6]["text"] for r in to_do["rows"] + finished["rows"]}
    assert steps == {
        "Overdue visit": "Start the audit (overdue to start)",
        "Running focus group": "Record findings and complete the audit",
        "Later visit": "Start the audit",
        "Done visit": "Completed on 4 September 2026",
        "Dropped visit": "Cancelled",
    }
    roles = {r[1]["text"]: r[4]["text"] for r in to_do["rows"]}
    assert roles == {"Overdue visit": "Lead auditor", "Running focus group": "Auditor", "Later visit": "Lead auditor"}
    assert to_do["rows"][0][1]["links"] == [f"/audits/{overdue.id}"]
    assert "Overdue to start" in to_do["rows"][0][5]["text"]
    assert "Not mine" not in page.html and later.id


def test_my_audits_when_there_are_none(login_as):
    page = get_page(login_as("viewer"), "/my-audits")
    assert page.tables == []
    assert "You do not lead or take part in any audits yet" in page.html


# The iCalendar feed


def _feed_url(html: str) -> str:
    return unescape(re.search(r'id="feed-url">([^<]+)<', html).group(1))


def test_calendar_feed_lifecycle(app, login_as, make_audit, make_user):
    client = login_as("auditor")
    me = client.user
    other = make_user("auditor")
    planned = make_audit("dip_sample", title="Locality strategy meetings", lead=me, scheduled_for=date(2026, 12, 3))
    running = make_audit("targeted_visit", title="MASH visit", lead=other, auditor_ids=[me.id], status="in_progress", scheduled_for=date(2026, 11, 12))
    make_audit(title="Finished", lead=me, status="completed", scheduled_for=date(2026, 10, 1))
    make_audit(title="Called off", lead=me, status="cancelled", scheduled_for=date(2026, 10, 2))
    make_audit(title="Someone else's", lead=other, scheduled_for=date(2026, 10, 3))

    page = client.get("/my-audits/calendar-feed").get_data(as_text=True)
    assert "You do not have a calendar link." in page and "Create calendar link" in page
    assert db.session.get(User, me.id).calendar_token_hash is None

    response = client.post_form("/my-audits/calendar-feed")
    assert response.status_code == 200
    url = _feed_url(response.get_data(as_text=True))
    match = re.fullmatch(r"http://localhost/calendar/([A-Za-z0-9_-]{43})\.ics", url)
    assert match, url
    token = match.group(1)
    assert db.session.get(User, me.id).calendar_token_hash == hash_token(token)  # only the hash is kept
    # Shown once: the page does not show it again.
    page = client.get("/my-audits/calendar-feed").get_data(as_text=True)
    assert token not in page and "You have a calendar link" in page

    anonymous = app.test_client()
    response = anonymous.get(f"/calendar/{token}.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    calendar = Calendar.from_ical(response.get_data())
    events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    assert set(events) == {f"audit-{planned.id}@qa-audit", f"audit-{running.id}@qa-audit"}
    event_ = events[f"audit-{planned.id}@qa-audit"]
    assert str(event_["SUMMARY"]) == "Dip sample: Locality strategy meetings"
    assert event_.decoded("DTSTART") == date(2026, 12, 3) and not isinstance(event_.decoded("DTSTART"), datetime)
    assert f"Service: {planned.service.name}" in str(event_["DESCRIPTION"]) and "Status: Planned" in str(event_["DESCRIPTION"])
    assert str(event_["URL"]) == f"http://localhost/audits/{planned.id}"
    assert "Status: In progress" in str(events[f"audit-{running.id}@qa-audit"]["DESCRIPTION"])

    # A new link replaces the old one.
    new_url = _feed_url(client.post_form("/my-audits/calendar-feed").get_data(as_text=True))
    assert anonymous.get(f"/calendar/{token}.ics").status_code == 404
    new_path = urlsplit(new_url).path
    assert anonymous.get(new_path).status_code == 200

    # Turned off: the link is dead.
    response = client.post_form("/my-audits/calendar-feed/turn-off")
    assert response.status_code == 302
    assert db.session.get(User, me.id).calendar_token_hash is None
    assert anonymous.get(new_path).status_code == 404
    assert "Calendar link turned off" in client.get("/my-audits/calendar-feed").get_data(as_text=True)


def test_calendar_feed_refuses_unknown_tokens_and_inactive_users(app, login_as):
    client = login_as("auditor")
    anonymous = app.test_client()
    assert anonymous.get("/calendar/not-a-token.ics").status_code == 404
    assert anonymous.get("/calendar/.ics").status_code == 404

    url = _feed_url(client.post_form("/my-audits/calendar-feed").get_data(as_text=True))
    path = urlsplit(url).path
    assert anonymous.get(path).status_code == 200
    user = db.session.get(User, client.user.id)
    user.active = False
    db.session.commit()
    assert anonymous.get(path).status_code == 404


def test_calendar_feed_pages_need_sign_in_and_csrf(client, login_as):
    assert client.get("/my-audits/calendar-feed").status_code == 302
    auditor = login_as("auditor")
    assert auditor.post("/my-audits/calendar-feed").status_code == 400  # no CSRF token
    db.session.refresh(auditor.user)
    assert auditor.user.calendar_token_hash is None


def test_feed_takes_events_from_every_source(make_user):
    from qa_audit.audits import calendar_feed

    user = make_user("auditor")

    def deadlines(user):
        yield calendar_feed.FeedEvent(uid="action-1@qa-audit", summary="Action due", description="", day=date(2026, 12, 1))

    events = list(calendar_feed.feed_events(user, [calendar_feed.audit_events, deadlines]))
    assert [e.uid for e in events] == ["action-1@qa-audit"]
    ical = Calendar.from_ical(calendar_feed.build_calendar(events, name="Test"))
    assert [str(e["SUMMARY"]) for e in ical.walk("VEVENT")] == ["Action due"]
    assert calendar_feed.audit_events in calendar_feed.SOURCES
