"""The improvement-plan pages: the plans list, creating and editing plans, priorities,
measures, and the tracker with its figures, filters, charts and exports."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import date, datetime, timedelta, timezone
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
from openpyxl import load_workbook
from sqlalchemy import event, func, insert, select

from qa_audit.actions.models import DONE, Action, ActionPriority, ActionStatus
from qa_audit.extensions import db
from qa_audit.plans import services
from qa_audit.plans.models import ImprovementPlan, Measure, MeasureValue, PlanPriority

TODAY = date(2026, 11, 24)


@pytest.fixture(autouse=True)
def today(pin_today):
    return pin_today(TODAY)


# Reading pages ---------------------------------------------------------------------------


class Page(HTMLParser):
    """The tables (by id), links and text of a page: enough to check what a person sees."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.html = text
        self.tables: dict[str, dict] = {}
        self.links: dict[str, str] = {}
        self._tables: list[dict] = []
        self._row = self._cell = None
        self._link: list | None = None
        self.feed(text)
        self.text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._tables.append({"id": attrs.get("id"), "head": [], "rows": []})
        elif tag == "tr" and self._tables:
            self._row = {"attrs": attrs, "cells": []}
        elif tag in ("td", "th") and self._row is not None:
            self._cell = {"text": "", "attrs": attrs, "links": [], "col": tag == "th" and attrs.get("scope") == "col"}
        elif tag == "a":
            self._link = [attrs.get("href"), ""]
            if self._cell is not None:
                self._cell["links"].append(attrs.get("href"))

    def handle_endtag(self, tag):
        if tag == "table" and self._tables:
            table = self._tables.pop()
            self.tables[table["id"]] = table
        elif tag in ("td", "th") and self._cell is not None:
            self._cell["text"] = " ".join(self._cell["text"].split())
            self._row["cells"].append(self._cell)
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._row["cells"] and all(c["col"] for c in self._row["cells"]):
                self._tables[-1]["head"] = [c["text"] for c in self._row["cells"]]
            else:
                self._tables[-1]["rows"].append(self._row)
            self._row = None
        elif tag == "a" and self._link is not None:
            self.links[" ".join(self._link[1].split())] = self._link[0]
            self._link = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell["text"] += data
        if self._link is not None:
            self._link[1] += data

    def counts(self, table_id: str) -> dict[str, str]:
        """A counts table's cells by their data-count key."""
        return {c["attrs"]["data-count"]: c["text"] for c in self.tables[table_id]["rows"][0]["cells"]}

    def column(self, table_id: str, index: int = 0) -> list[str]:
        return [row["cells"][index]["text"] for row in self.tables.get(table_id, {"rows": []})["rows"]]

    def action_ids(self, table_id: str) -> list[int]:
        return [int(row["attrs"]["data-action-id"]) for row in self.tables.get(table_id, {"rows": []})["rows"]]


def get_page(client, url: str, status: int = 200) -> Page:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:3000]
    return Page(response.get_data(as_text=True))


def _error_at(page: str, field: str, message: str) -> bool:
    """The message is in the error summary (linking to the field) and at the field."""
    page = html.unescape(page)
    summary = re.search(r'<div class="govuk-error-summary".*?</ul>', page, re.S)
    at_field = re.search(rf'<p id="{field}(?:-date)?-error" class="govuk-error-message">\s*<span class="govuk-visually-hidden">Error:</span>\s*(.*?)\s*</p>', page, re.S)
    return bool(summary and f'href="#{field}"' in summary.group(0) and message in summary.group(0) and at_field and message in at_field.group(1))


def _day(value: date) -> list[str]:
    return [str(value.day), str(value.month), str(value.year)]


def _completed(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=timezone.utc)


# A plan worked out by hand -------------------------------------------------------------------


@pytest.fixture
def worked(make_plan, make_action, make_user, make_service):
    """Three priorities and eight actions whose figures are worked out by hand below
    (today is 24 November 2026; due soon runs to 8 December)."""
    head = make_user("head_of_service", name="Hana Head")
    priya = make_user("auditor", name="Priya Shah")
    tom = make_user("viewer", name="Tom Reid")
    mash = make_service("Multi-Agency Safeguarding Hub (MASH)")
    irt = make_service("Initial Response Team")
    plan = make_plan("Local area improvement plan", owner=head, priorities=["Front door", "Workforce", "Multi-agency working"], board="Practice and Development Board")
    front, workforce, multi = plan.priorities
    a = {
        "late": make_action(title="Launch the online referral form", priority=front, owner=priya, service_id=mash.id, status="not_started", due_date=date(2026, 11, 1)),
        "very_late": make_action(title="Co-locate early help at the front door", priority=front, owner=tom, service_id=irt.id, status="in_progress", due_date=date(2026, 10, 15)),
        "soon": make_action(title="LEAN review of domestic abuse triage", priority=front, owner=priya, service_id=mash.id, status="in_progress", due_date=date(2026, 12, 1)),
        "verified": make_action(title="Give MASH access to youth offending systems", priority=front, owner=tom, service_id=mash.id, status="verified", due_date=date(2026, 10, 1), completed_at=_completed(date(2026, 9, 20))),
        "green": make_action(title="Recruit permanent social workers", priority=workforce, owner=priya, service_id=irt.id, status="in_progress", due_date=date(2027, 2, 1)),
        "completed": make_action(title="Monthly performance dashboard", priority=workforce, owner=tom, service_id=irt.id, status="completed", due_date=date(2026, 9, 1), completed_at=_completed(date(2026, 11, 2))),
        "cancelled": make_action(title="Agency staff review", priority=workforce, owner=priya, status="cancelled", due_date=date(2026, 9, 1)),
        "multi_cancelled": make_action(title="Joint training day", priority=multi, owner=tom, status="cancelled", due_date=date(2026, 9, 1)),
    }
    return {"plan": plan, "head": head, "priya": priya, "tom": tom, "mash": mash, "irt": irt, "actions": a, "priorities": (front, workforce, multi)}


def test_tracker_figures_match_a_hand_calculation(login_as, worked):
    plan, a = worked["plan"], worked["actions"]
    front, workforce, multi = worked["priorities"]
    page = get_page(login_as("viewer"), f"/plans/{plan.id}")

    # The plan: 8 actions; done 2 of 6 counted (8 − 2 cancelled) = 33.3%.
    assert page.counts("counts") == {
        "not_started": "1", "in_progress": "3", "completed": "1", "verified": "1",
        "cancelled": "2", "overdue": "2", "due_soon": "1", "total": "8",
    }
    assert "Plan BRAG: Red" in page.text
    assert "33.3% complete" in page.text
    assert "2 of 6 actions done" in page.text
    assert "Next deadline: 15 October 2026 (overdue)" in page.text
    assert 'class="app-bar app-bar--33"' in page.html  # the progress bar

    # Per priority: front door red (2 overdue, 1 due soon, 1 verified: 25%);
    # workforce green (1 green, 1 completed, 1 cancelled: 50%); multi-agency only cancelled.
    figures = {row["cells"][0]["text"]: {c["attrs"]["data-count"]: c["text"] for c in row["cells"][2:]} for row in page.tables["priority-figures"]["rows"]}
    assert figures == {
        "Front door": {"red": "2", "amber": "1", "green": "0", "blue": "1", "cancelled": "0", "total": "4", "percent": "25%"},
        "Workforce": {"red": "0", "amber": "0", "green": "1", "blue": "1", "cancelled": "1", "total": "3", "percent": "50%"},
        "Multi-agency working": {"red": "0", "amber": "0", "green": "0", "blue": "0", "cancelled": "1", "total": "1", "percent": "None counted"},
    }
    assert page.column("priority-figures", 1) == ["Red", "Green", "No actions"]
    assert page.counts(f"counts-{front.id}") == {
        "not_started": "1", "in_progress": "2", "completed": "0", "verified": "1",
        "cancelled": "0", "overdue": "2", "due_soon": "1", "total": "4",
    }
    # The stacked bars: front door 2 red, 1 amber, 1 blue of 4 = 50/25/25.
    front_bar = re.search(rf'id="brag-bar-{front.id}">(.*?)app-bar-chart__value', page.html, re.S).group(1)
    assert re.findall(r"segment--(\w+) app-bar--(\d+)", front_bar) == [("red", "50"), ("amber", "25"), ("blue", "25")]

    # Exactly what is late, most overdue first; what is due soon.
    assert page.action_ids("overdue") == [a["very_late"].id, a["late"].id]
    assert page.column("overdue", 4) == ["40", "23"]
    assert page.action_ids("due-soon") == [a["soon"].id]
    assert page.column("due-soon", 4) == ["7"]

    # Each priority's actions, by due date, linking to the action page.
    assert page.action_ids(f"actions-{front.id}") == [a["verified"].id, a["very_late"].id, a["late"].id, a["soon"].id]
    assert page.action_ids(f"actions-{workforce.id}") == [a["completed"].id, a["cancelled"].id, a["green"].id]
    assert page.action_ids(f"actions-{multi.id}") == [a["multi_cancelled"].id]
    assert page.links["Launch the online referral form"] == f"/actions/{a['late'].id}"
    assert page.column(f"actions-{workforce.id}", 5) == ["Blue", "None (cancelled)", "Green"]

    # Completion over time: from April 2026 (the plan's start) to November 2026.
    months = {row["attrs"]["data-month"]: [c["text"] for c in row["cells"][1:]] for row in page.tables["completion"]["rows"]}
    assert list(months) == [f"2026-{m:02d}" for m in range(4, 12)]
    assert months["2026-08"] == ["0", "0", "0%"]
    assert months["2026-09"] == ["1", "1", "16.7%"]
    assert months["2026-11"] == ["1", "2", "33.3%"]


def test_plans_list_shows_each_plan_from_one_query(login_as, worked, make_plan, make_action):
    make_plan("Workforce strategy", priorities=["Recruitment"])
    done = make_plan("Inspection plan 2025", priorities=["Front door"], board="Strategic MASH Board")
    make_action(priority=done.priorities[0], status="verified")
    make_action(priority=done.priorities[0], status="cancelled")
    page = get_page(login_as("viewer"), "/plans")
    rows = {row["cells"][0]["text"]: [c["text"] for c in row["cells"][1:]] for row in page.tables["plans"]["rows"]}
    assert rows["Local area improvement plan"] == ["Hana Head", "Practice and Development Board", "1 April 2026 to 31 March 2027", "Red", "8", "33.3%"]
    assert rows["Workforce strategy"][1:] == ["Not given", "1 April 2026 to 31 March 2027", "No actions", "0", "None counted"]
    assert rows["Inspection plan 2025"][3:] == ["Blue", "2", "100%"]
    assert page.links["Local area improvement plan"] == f"/plans/{worked['plan'].id}"
    assert "Create a plan" not in page.text  # a viewer reads, and cannot create


# Filters --------------------------------------------------------------------------------------


def test_filters_narrow_every_figure_and_stay_in_the_url(login_as, worked):
    plan, a = worked["plan"], worked["actions"]
    front, workforce, multi = worked["priorities"]
    client = login_as("head_of_service")

    red = get_page(client, f"/plans/{plan.id}?brag=red")
    assert red.counts("counts") == {
        "not_started": "1", "in_progress": "1", "completed": "0", "verified": "0",
        "cancelled": "0", "overdue": "2", "due_soon": "0", "total": "2",
    }
    assert "Filtered by BRAG: Red (overdue)" in red.text
    assert "0% complete" in red.text
    assert red.action_ids("overdue") == [a["very_late"].id, a["late"].id]
    assert "due-soon" not in red.tables
    assert red.action_ids(f"actions-{front.id}") == [a["very_late"].id, a["late"].id]
    assert f"actions-{workforce.id}" not in red.tables
    assert red.column("priority-figures", 7) == ["2", "0", "0"]  # totals per priority
    assert "completion" not in red.tables  # no done action is red
    # The form shows the filter chosen, and the downloads keep it.
    assert re.search(r'<option value="red" selected>', red.html)
    assert parse_qs(urlsplit(red.links["Download these actions as CSV"]).query) == {"brag": ["red"]}
    assert parse_qs(urlsplit(red.links["as Excel"]).query) == {"brag": ["red"]}

    # Owner, service and statuses (several) together.
    priya, mash = worked["priya"], worked["mash"]
    url = f"/plans/{plan.id}?owner={priya.id}&service={mash.id}&status=not_started&status=in_progress"
    mine = get_page(client, url)
    assert mine.counts("counts")["total"] == "2"
    assert mine.action_ids(f"actions-{front.id}") == [a["late"].id, a["soon"].id]
    assert "Owner: Priya Shah" in mine.text and "Service: Multi-Agency Safeguarding Hub (MASH)" in mine.text
    assert "Status: Not started, In progress" in mine.text
    assert "Plan BRAG: Red" in mine.text and "Next deadline: 1 November 2026 (overdue)" in mine.text
    assert parse_qs(urlsplit(mine.links["Download these actions as CSV"]).query) == {
        "owner": [str(priya.id)], "service": [str(mash.id)], "status": ["not_started", "in_progress"],
    }
    assert re.search(rf'<option value="{priya.id}" selected>', mine.html)
    assert re.search(r'value="in_progress" checked', mine.html)

    # Done actions only: completion over time counts just those.
    done = get_page(client, f"/plans/{plan.id}?status=completed&status=verified")
    months = {row["attrs"]["data-month"]: [c["text"] for c in row["cells"][1:]] for row in done.tables["completion"]["rows"]}
    assert months["2026-11"] == ["1", "2", "100%"]
    assert "100% complete" in done.text and "Plan BRAG: Blue" in done.text

    # Nothing matches: figures are zero, not an error.
    none = get_page(client, f"/plans/{plan.id}?brag=amber&owner={worked['tom'].id}")
    assert none.counts("counts")["total"] == "0"
    assert "No actions under this priority match the filters." in none.text


@pytest.mark.parametrize(
    "query, field, message",
    [
        ("brag=purple", "brag", "Select blue, red, amber or green"),
        ("status=lost", "status", "Select statuses from the list"),
        ("owner=99999", "owner", "Select an owner from the list"),
        ("owner=abc", "owner", "Select an owner from the list"),
        ("service=%EF%BC%91", "service", "Select a service from the list"),
    ],
)
def test_bad_filters_say_what_is_wrong(login_as, worked, query, field, message):
    plan = worked["plan"]
    client = login_as("viewer")
    response = client.get(f"/plans/{plan.id}?{query}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert _error_at(page, field, message)
    assert "Correct the filters to see the plan’s figures." in html.unescape(page)
    assert 'id="counts"' not in page
    # An export with the same filters goes back to the tracker, which says what is wrong.
    export = client.get(f"/plans/{plan.id}/actions.csv?{query}")
    assert export.status_code == 302 and export.location == f"/plans/{plan.id}?{query}"


# Exports ---------------------------------------------------------------------------------------


def test_exports_contain_exactly_the_filtered_rows(login_as, worked, make_action):
    plan, a = worked["plan"], worked["actions"]
    front = worked["priorities"][0]
    sneaky = make_action(title="=HYPERLINK(\"http://example.com\",\"Click\")", priority=front, owner=worked["priya"], status="not_started", due_date=date(2026, 11, 20))
    client = login_as("viewer")

    response = client.get(f"/plans/{plan.id}/actions.csv?brag=red")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == f'attachment; filename="plan-{plan.id}-actions-2026-11-24.csv"'
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["ID", "Priority", "Action", "Owner", "Service", "Due date", "Status", "BRAG", "Overdue", "Action priority", "Completed on", "Approved by", "Date approved"]
    assert [int(r[0]) for r in rows[1:]] == [a["very_late"].id, a["late"].id, sneaky.id]
    assert rows[2] == [str(a["late"].id), "Front door", "Launch the online referral form", "Priya Shah", "Multi-Agency Safeguarding Hub (MASH)", "2026-11-01", "Not started", "Red", "Yes", "Medium", "", "", ""]
    assert rows[3][2] == "'=HYPERLINK(\"http://example.com\",\"Click\")"  # never a formula

    # The tracker shows the same rows.
    page = get_page(client, f"/plans/{plan.id}?brag=red")
    assert page.action_ids(f"actions-{front.id}") == [a["very_late"].id, a["late"].id, sneaky.id]

    response = client.get(f"/plans/{plan.id}/actions.xlsx?status=completed&status=verified")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].endswith('.xlsx"')
    sheet = load_workbook(io.BytesIO(response.data)).active
    values = list(sheet.values)
    assert [v[0] for v in values[1:]] == [a["verified"].id, a["completed"].id]
    assert values[1][10] == datetime(2026, 9, 20)  # completed on, a real date
    assert values[1][5] == datetime(2026, 10, 1)

    response = client.get(f"/plans/{plan.id}/actions.xlsx?owner={worked['priya'].id}&brag=red")
    sheet = load_workbook(io.BytesIO(response.data)).active
    cells = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    assert set(cells) == {a["late"].id, sneaky.id}
    formula = cells[sneaky.id][2]
    assert formula.value.startswith("=HYPERLINK") and formula.data_type == "s"  # text, not a formula


# Who may do what -----------------------------------------------------------------------------


def test_viewers_read_and_cannot_change(login_as, worked):
    plan = worked["plan"]
    front = worked["priorities"][0]
    measure = services.add_measure(front, {"title": "Average MASH caseload", "baseline": "24", "target": "15"}, worked["head"])
    viewer = login_as("viewer")
    assert viewer.get("/plans").status_code == 200
    page = get_page(viewer, f"/plans/{plan.id}")
    assert "Edit the plan" not in page.text and "Raise an action" not in page.text
    assert "Add a measure" not in page.text and "Record a value" not in page.text
    assert viewer.get(f"/plans/{plan.id}/actions.csv").status_code == 200
    for url in (
        "/plans/new",
        f"/plans/{plan.id}/edit",
        f"/plans/{plan.id}/priorities",
        f"/plans/{plan.id}/priorities/new",
        f"/plan-priorities/{front.id}/edit",
        f"/plan-priorities/{front.id}/measures/new",
        f"/measures/{measure.id}/values/new",
    ):
        assert viewer.get(url).status_code == 403, url
        if not url.endswith("/priorities"):
            assert viewer.post_form(url, {"title": "Changed"}).status_code == 403, url
    assert viewer.post_form(f"/plan-priorities/{front.id}/move", {"direction": "down"}).status_code == 403
    assert viewer.post_form("/plans/new", {"title": "A plan", "owner_id": str(viewer.user.id), "starts_on": _day(TODAY), "ends_on": _day(TODAY)}).status_code == 403
    assert db.session.scalar(select(func.count()).select_from(ImprovementPlan)) == 1
    assert db.session.get(PlanPriority, front.id).title == "Front door"


def test_auditors_cannot_create_plans_and_only_managers_change_one(login_as, worked):
    plan = worked["plan"]
    auditor = login_as("auditor")
    assert auditor.get("/plans/new").status_code == 403
    assert "Create a plan" not in get_page(auditor, "/plans").text
    # Another head of service may create plans, but not change this one (not theirs).
    other_head = login_as("head_of_service")
    assert "Create a plan" in get_page(other_head, "/plans").text
    assert other_head.get("/plans/new").status_code == 200
    assert other_head.get(f"/plans/{plan.id}/edit").status_code == 403
    # Heads of service raise actions under any plan's priority (another part of the app).
    front = worked["priorities"][0]
    tracker_page = get_page(other_head, f"/plans/{plan.id}")
    assert tracker_page.links["Raise an action under Front door"] == f"/plan-priorities/{front.id}/actions/new"
    assert "Edit the plan" not in tracker_page.text
    # Its owner and a QA lead may.
    owner = login_as("head_of_service")
    db.session.get(ImprovementPlan, plan.id).owner_id = owner.user.id
    db.session.commit()
    assert owner.get(f"/plans/{plan.id}/edit").status_code == 200
    assert "Edit the plan" in get_page(owner, f"/plans/{plan.id}").text
    assert login_as("qa_lead").get(f"/plans/{plan.id}/priorities").status_code == 200
    assert login_as("admin").get(f"/plans/{plan.id}/edit").status_code == 200


def test_a_plan_that_does_not_exist_is_404(login_as):
    client = login_as("qa_lead")
    for url in ("/plans/999", "/plans/999/edit", "/plans/999/actions.csv", "/plans/999/actions.xlsx", "/plan-priorities/999/edit", "/measures/999/values/new", "/plans/99999999999"):
        assert client.get(url).status_code == 404, url


# Creating and editing ---------------------------------------------------------------------------


def _plan_form(owner, **overrides) -> dict:
    data = {
        "title": "Local area improvement plan 2026 to 2027",
        "description": "After the joint targeted area inspection.\nApproved in March.",
        "owner_id": str(owner.id),
        "service_id": "",
        "board": "Practice and Development Board",
        "starts_on": ["1", "4", "2026"],
        "ends_on": ["31", "3", "2027"],
    }
    data.update(overrides)
    return data


def test_a_head_of_service_creates_a_plan_then_its_priorities(login_as, make_service):
    client = login_as("head_of_service")
    mash = make_service("MASH")
    form = get_page(client, "/plans/new")
    assert re.search(rf'<option value="{client.user.id}" selected>', form.html)  # they own it unless they say otherwise
    response = client.post_form("/plans/new", _plan_form(client.user, service_id=str(mash.id)))
    plan = db.session.scalars(select(ImprovementPlan)).one()
    assert response.status_code == 302 and response.location == f"/plans/{plan.id}/priorities"
    assert (plan.title, plan.owner_id, plan.service_id, plan.starts_on, plan.ends_on) == (
        "Local area improvement plan 2026 to 2027", client.user.id, mash.id, date(2026, 4, 1), date(2027, 3, 31)
    )
    for title in ("Front door", "Workforce", "Multi-agency working"):
        response = client.post_form(f"/plans/{plan.id}/priorities/new", {"title": title})
        assert response.status_code == 302
    # Move "Multi-agency working" up, then "Front door" down.
    db.session.expire_all()
    front, workforce, multi = plan.priorities
    assert client.post_form(f"/plan-priorities/{multi.id}/move", {"direction": "up"}).status_code == 302
    assert client.post_form(f"/plan-priorities/{front.id}/move", {"direction": "down"}).status_code == 302
    page = get_page(client, f"/plans/{plan.id}/priorities")
    assert page.column("priorities", 1) == ["Multi-agency working", "Front door", "Workforce"]
    # A rename, and a nonsense move.
    version = db.session.get(PlanPriority, workforce.id).version
    assert client.post_form(f"/plan-priorities/{workforce.id}/edit", {"title": "Workforce stability", "version": str(version)}).status_code == 302
    response = client.post_form(f"/plan-priorities/{workforce.id}/move", {"direction": "sideways"}, follow_redirects=True)
    assert "Choose to move the priority up or down." in html.unescape(response.get_data(as_text=True))
    page = get_page(client, f"/plans/{plan.id}")
    assert [t for t in page.column("priority-figures", 0)] == ["Multi-agency working", "Front door", "Workforce stability"]
    # Empty or too-long priority titles.
    response = client.post_form(f"/plans/{plan.id}/priorities/new", {"title": "  "})
    assert response.status_code == 200 and _error_at(response.get_data(as_text=True), "title", "Enter a title for the priority")
    response = client.post_form(f"/plans/{plan.id}/priorities/new", {"title": "x" * 201})
    assert _error_at(response.get_data(as_text=True), "title", "Title must be 200 characters or fewer")
    assert len(db.session.get(ImprovementPlan, plan.id).priorities) == 3


@pytest.mark.parametrize(
    "overrides, errors",
    [
        ({"starts_on": ["31", "13", "2026"]}, {"starts_on": "Start date must be a real date"}),
        ({"ends_on": ["30", "2", "2027"], "title": ""}, {"ends_on": "End date must be a real date", "title": "Enter a title for the plan"}),
        ({"starts_on": ["1", "", "2026"]}, {"starts_on": "Start date must include a month"}),
        ({"starts_on": ["", "", ""], "ends_on": ["1", "1", "26"]}, {"starts_on": "Enter the start date", "ends_on": "Year must include 4 numbers"}),
        ({"starts_on": ["1", "4", "2027"], "ends_on": ["1", "4", "2027"]}, {}),  # one day is a period
        ({"starts_on": ["2", "4", "2027"], "ends_on": ["1", "4", "2027"]}, {"ends_on": "End date must be the same as or after the start date"}),
        ({"owner_id": "abc", "service_id": "99999"}, {"owner_id": "Select an owner from the list", "service_id": "Select a service from the list"}),
        ({"owner_id": ""}, {"owner_id": "Select an active user as the plan's owner"}),
        ({"title": "x" * 201, "board": "y" * 201}, {"title": "Title must be 200 characters or fewer", "board": "Governance board must be 200 characters or fewer"}),
    ],
)
def test_bad_plans_say_what_is_wrong_and_keep_the_input(login_as, overrides, errors):
    client = login_as("qa_lead")
    response = client.post_form("/plans/new", _plan_form(client.user, **overrides))
    if not errors:
        assert response.status_code == 302
        return
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<title>Error: " in page
    for field, message in errors.items():
        assert _error_at(page, field, message), (field, message)
    assert "After the joint targeted area inspection." in page  # the input is kept
    assert db.session.scalar(select(func.count()).select_from(ImprovementPlan)) == 0


def test_a_stale_edit_gets_the_conflict_banner_and_keeps_the_input(login_as, make_plan):
    client = login_as("qa_lead")
    plan = make_plan("Inspection plan", board="Strategic MASH Board")
    form = get_page(client, f"/plans/{plan.id}/edit")
    version = re.search(r'name="version" type="hidden" value="(\d+)"', form.html).group(1)
    # Someone else saves first.
    services.edit_plan(plan, {"title": "Inspection plan (revised)"}, client.user, version=plan.version)
    response = client.post_form(f"/plans/{plan.id}/edit", _plan_form(plan.owner, title="My new title", version=version))
    assert response.status_code == 409
    page = html.unescape(response.get_data(as_text=True))
    assert "Someone else changed this plan at the same time" in page
    assert "Your changes are still in the form below and have not been saved." in page
    assert 'value="My new title"' in page
    db.session.expire_all()
    assert db.session.get(ImprovementPlan, plan.id).title == "Inspection plan (revised)"
    # Saving again, having seen the conflict, is their choice: the form now carries the new version.
    new_version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    assert new_version != version
    response = client.post_form(f"/plans/{plan.id}/edit", _plan_form(plan.owner, title="My new title", version=new_version))
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(ImprovementPlan, plan.id).title == "My new title"
    # No version at all is stale too, never a 500.
    assert client.post_form(f"/plans/{plan.id}/edit", _plan_form(plan.owner, version="")).status_code == 409
    # A stale priority rename, likewise.
    priority = plan.priorities[0]
    services.rename_priority(priority, {"title": "Front door (MASH)"}, client.user, version=priority.version)
    response = client.post_form(f"/plan-priorities/{priority.id}/edit", {"title": "Referrals", "version": "1"})
    assert response.status_code == 409 and 'value="Referrals"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(PlanPriority, priority.id).title == "Front door (MASH)"


def test_editing_a_plan_with_a_bad_date_shows_every_problem(login_as, make_plan):
    client = login_as("qa_lead")
    plan = make_plan("Inspection plan")
    response = client.post_form(f"/plans/{plan.id}/edit", _plan_form(plan.owner, title="", ends_on=["31", "13", "2027"], version=str(plan.version)))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert _error_at(page, "ends_on", "End date must be a real date")
    assert _error_at(page, "title", "Enter a title for the plan")
    db.session.expire_all()
    assert db.session.get(ImprovementPlan, plan.id).title == "Inspection plan"


# Measures -------------------------------------------------------------------------------------


def test_measures_show_baseline_latest_target_and_their_trend(login_as, worked):
    plan = worked["plan"]
    front, workforce, _ = worked["priorities"]
    client = login_as("qa_lead")
    response = client.post_form(
        f"/plan-priorities/{front.id}/measures/new",
        {"title": "Average MASH caseload", "unit": "cases", "baseline": "24", "baseline_on": ["31", "3", "2019"], "target": "15"},
    )
    assert response.status_code == 302 and response.location == f"/plans/{plan.id}#priority-{front.id}"
    caseload = db.session.scalars(select(Measure)).one()
    page = get_page(client, f"/plans/{plan.id}")
    assert "Baseline 24 cases (31 March 2019) → latest none yet → target 15 cases" in page.text
    assert "No values recorded yet" in page.text

    assert client.post_form(f"/measures/{caseload.id}/values/new", {"measured_on": ["30", "6", "2019"], "value": "20", "note": "After the MASH review"}).status_code == 302
    page = get_page(client, f"/plans/{plan.id}")
    assert "latest 20 cases (30 June 2019)" in page.text and "Moving towards the target" in page.text
    assert client.post_form(f"/measures/{caseload.id}/values/new", {"measured_on": ["31", "10", "2019"], "value": "15"}).status_code == 302
    page = get_page(client, f"/plans/{plan.id}")
    assert "Baseline 24 cases (31 March 2019) → latest 15 cases (31 October 2019) → target 15 cases" in page.text
    assert "Target met" in page.text
    # The trend: baseline and two values as a line (high to low, left to right), the
    # target dashed; and the same figures as a table.
    svg = re.search(rf'<div class="app-measure" id="measure-{caseload.id}">.*?</svg>', page.html, re.S).group(0)
    points = [tuple(map(float, p.split(","))) for p in re.search(r'<polyline class="app-trend__line" points="([^"]+)"', svg).group(1).split()]
    assert [x for x, _ in points] == sorted(x for x, _ in points) and len(points) == 3
    assert points[0][1] < points[1][1] < points[2][1]  # 24 → 20 → 15: each lower on the chart
    target_y = float(re.search(r'class="app-trend__target" x1="[\d.]+" y1="([\d.]+)"', svg).group(1))
    assert target_y == points[2][1]  # the last value is on the target
    assert 'aria-hidden="true"' in svg
    rows = [[c["text"] for c in row["cells"]] for row in page.tables[f"measure-{caseload.id}-values"]["rows"]]
    assert rows == [["31 March 2019", "24 cases", "Baseline"], ["30 June 2019", "20 cases", "After the MASH review"], ["31 October 2019", "15 cases", ""]]

    # A measure where higher is better, going the wrong way.
    client.post_form(f"/plan-priorities/{workforce.id}/measures/new", {"title": "Single assessments in timescale", "unit": "%", "baseline": "63.4", "target": "90"})
    timescale = db.session.scalars(select(Measure).where(Measure.priority_id == workforce.id)).one()
    for day, value in (("31", "70.5"), ("30", "65")):
        month = "5" if day == "31" else "6"
        assert client.post_form(f"/measures/{timescale.id}/values/new", {"measured_on": [day, month, "2019"], "value": value}).status_code == 302
    page = get_page(client, f"/plans/{plan.id}")
    assert "Baseline 63.4% → latest 65% (30 June 2019) → target 90%" in page.text
    assert re.search(rf'id="measure-{timescale.id}">.*?data-direction="away">Moving away from the target<', page.html, re.S)


@pytest.mark.parametrize(
    "data, errors",
    [
        ({"baseline": "twenty-four", "target": ""}, {"baseline": "Baseline must be a number, like 24 or 63.4", "target": "Enter the target"}),
        ({"baseline": "1e400", "target": "NaN"}, {"baseline": "Baseline must be a number, like 24 or 63.4", "target": "Target must be a number, like 24 or 63.4"}),
        ({"baseline": "99999999999", "target": "Infinity"}, {"baseline": "Baseline must be a number, like 24 or 63.4", "target": "Target must be a number, like 24 or 63.4"}),
        ({"title": "", "baseline_on": ["31", "13", "2019"], "target": "1,5"}, {"title": "Enter what is measured", "baseline_on": "Date of the baseline must be a real date"}),
    ],
)
def test_measures_with_bad_numbers_say_what_is_wrong(login_as, worked, data, errors):
    front = worked["priorities"][0]
    client = login_as("qa_lead")
    form = {"title": "Agency social workers", "unit": "social workers", "baseline": "19", "target": "10", **data}
    response = client.post_form(f"/plan-priorities/{front.id}/measures/new", form)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for field, message in errors.items():
        assert _error_at(page, field, message), (field, message)
    assert db.session.scalar(select(func.count()).select_from(Measure)) == 0


def test_measure_values_with_bad_numbers_or_dates_say_what_is_wrong(login_as, worked):
    front = worked["priorities"][0]
    measure = services.add_measure(front, {"title": "Agency social workers", "baseline": "19", "target": "10"}, worked["head"])
    client = login_as("qa_lead")
    url = f"/measures/{measure.id}/values/new"

    def post(**data):
        response = client.post_form(url, {"measured_on": ["30", "9", "2019"], "value": "8", **data})
        return response, response.get_data(as_text=True)

    response, page = post(value="eight")
    assert response.status_code == 200 and _error_at(page, "value", "Value must be a number, like 24 or 63.4")
    response, page = post(measured_on=["31", "13", "2019"], value="")
    assert _error_at(page, "measured_on", "Date must be a real date") and _error_at(page, "value", "Enter the value")
    response, page = post(measured_on=["25", "11", "2026"])  # tomorrow
    assert _error_at(page, "measured_on", "Date must be today or in the past")
    response, page = post(note="n" * 2001)
    assert _error_at(page, "note", "Note must be 2,000 characters or fewer")
    assert db.session.scalar(select(func.count()).select_from(MeasureValue)) == 0
    assert post()[0].status_code == 302
    response, page = post(value="7")
    assert _error_at(page, "measured_on", "A value is already recorded for that date")
    assert db.session.scalar(select(func.count()).select_from(MeasureValue)) == 1


# Performance ----------------------------------------------------------------------------------


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


def test_the_tracker_takes_as_many_queries_for_2000_actions_as_for_20(login_as, make_plan, make_user, make_service):
    plan = make_plan("Big plan", priorities=["Front door", "Workforce", "Multi-agency working"])
    owners = [make_user("auditor") for _ in range(6)]
    teams = [make_service() for _ in range(3)]
    measure = services.add_measure(plan.priorities[0], {"title": "Average MASH caseload", "baseline": "24", "target": "15"}, plan.owner)
    services.record_measure_value(measure, {"measured_on": "2026-06-30", "value": "20"}, plan.owner)
    statuses = list(ActionStatus)

    def add(count: int, start: int) -> None:
        rows = []
        for i in range(start, start + count):
            status = statuses[i % len(statuses)]
            rows.append(
                {
                    "title": f"Action {i}",
                    "owner_id": owners[i % len(owners)].id,
                    "due_date": TODAY + timedelta(days=i % 90 - 45),
                    "priority": ActionPriority.MEDIUM,
                    "status": status,
                    "plan_priority_id": plan.priorities[i % 3].id,
                    "service_id": teams[i % 3].id,
                    "completed_at": _completed(TODAY - timedelta(days=i % 230)) if status in DONE else None,
                }
            )
        db.session.execute(insert(Action), rows)
        db.session.commit()

    client = login_as("head_of_service")
    base = f"/plans/{plan.id}"
    filtered = f"{base}?owner={owners[1].id}&status=not_started&status=in_progress&brag=red"
    urls = [base, filtered, f"{base}/actions.csv", f"{base}/actions.xlsx?brag=green", "/plans"]
    add(20, 0)
    for url in urls:
        client.get(url)  # warm up: the first request compiles and caches
    small = {url: _count_queries(client, url) for url in urls}

    add(1980, 20)
    assert db.session.scalar(select(func.count()).select_from(Action)) == 2000
    large = {url: _count_queries(client, url) for url in urls}

    assert small == large
    assert large[base] <= 12 and large[filtered] <= 12, large
    page = get_page(client, base)
    assert page.counts("counts")["total"] == "2000"
    # Each priority's table shows its most pressing actions (open ones first) and links to
    # all of them in the actions list, so the page does not grow with the plan.
    from qa_audit.actions.models import OPEN
    from qa_audit.plans.tracker import ROWS_PER_PRIORITY

    open_ids = set(db.session.scalars(select(Action.id).where(Action.status.in_(OPEN))))
    for priority in plan.priorities:
        shown = page.action_ids(f"actions-{priority.id}")
        assert len(shown) == ROWS_PER_PRIORITY and set(shown) <= open_ids
        total = db.session.scalar(select(func.count()).select_from(Action).where(Action.plan_priority_id == priority.id))
        href = page.links[f"View all {total} actions under {priority.title}"]
        assert parse_qs(urlsplit(href).query) == {"plan": [str(plan.id)], "priority": [str(priority.id)]}


def test_a_save_that_races_another_gets_the_conflict_banner(login_as, make_plan, monkeypatch):
    """Two saves at the same moment: the database's version check (StaleDataError) is
    answered like a stale form, with the input kept, never a 500."""
    from sqlalchemy.orm.exc import StaleDataError

    client = login_as("qa_lead")
    plan = make_plan("Inspection plan")

    def racing(*args, **kwargs):
        raise StaleDataError("UPDATE statement on table 'improvement_plans' expected to update 1 row(s); 0 were matched.")

    monkeypatch.setattr(services, "edit_plan", racing)
    response = client.post_form(f"/plans/{plan.id}/edit", _plan_form(plan.owner, title="Raced title", version=str(plan.version)))
    assert response.status_code == 409
    page = html.unescape(response.get_data(as_text=True))
    assert "Someone else changed this plan at the same time" in page and 'value="Raced title"' in page


def test_the_trackers_view_all_links_keep_its_owner_filter_by_id(login_as, make_plan, make_action, make_user, today):
    """The tracker filters by the owner's ID; the actions list searches "owner" by name,
    so the tracker's links send the ID as owner_id and the list shows that one person."""
    plan = make_plan("Inspection plan")
    owner = make_user("auditor", name="Priya Shah")
    for n in range(12):
        make_action(title=f"Late {n:02}", owner=owner, priority=plan.priorities[0], due_date=TODAY - timedelta(days=n + 1))
    client = login_as("qa_lead")
    page = html.unescape(client.get(f"/plans/{plan.id}?owner={owner.id}").get_data(as_text=True))
    links = re.findall(r'href="(/actions\?[^"]+)"', page)
    assert links and all(parse_qs(urlsplit(link).query).get("owner_id") == [str(owner.id)] for link in links), links
    assert all("owner" not in parse_qs(urlsplit(link).query) for link in links)
    listed = html.unescape(client.get(links[0]).get_data(as_text=True))
    assert "Owner: Priya Shah" in listed and "12 actions" in listed
