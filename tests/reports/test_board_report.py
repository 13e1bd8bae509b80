"""The quarterly progress report a head of service takes to the board."""

from __future__ import annotations

import html
import re
from datetime import date, datetime, timezone

import pytest

from qa_audit.actions import services as rules
from qa_audit.extensions import db

TODAY = date(2026, 11, 24)  # quarter 3 of 2026/27


@pytest.fixture(autouse=True)
def today(pin_today):
    return pin_today(TODAY)


def _text(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))))


def _section(page: str, start: str, end: str) -> str:
    return page[page.index(start):page.index(end, page.index(start))]


@pytest.fixture
def plan(make_plan, make_action, make_user):
    plan = make_plan("Annual improvement plan", priorities=["Front door", "Workforce"], board="Practice and Development Board")
    front, workforce = plan.priorities
    owner = make_user("auditor", name="Team Manager")
    done = make_action(priority=front, owner=owner, title="Online referral form launched", status="verified")
    done.completed_at = datetime(2026, 10, 15, 9, tzinfo=timezone.utc)
    earlier = make_action(priority=front, owner=owner, title="Done last quarter", status="completed")
    earlier.completed_at = datetime(2026, 9, 30, 23, 30, tzinfo=timezone.utc)  # 1 October 00:30 in London (BST): this quarter
    older = make_action(priority=front, owner=owner, title="Done in the summer", status="completed")
    older.completed_at = datetime(2026, 8, 1, 9, tzinfo=timezone.utc)
    late = make_action(priority=workforce, owner=owner, title="Recruit permanent social workers", due_date=date(2026, 10, 31))
    db.session.commit()
    rules.post_update(late, {"note": "Two offers made; start dates in January"}, owner)
    make_action(priority=workforce, owner=owner, title="Caseload review", due_date=date(2027, 2, 15), status="in_progress")
    make_action(priority=workforce, owner=owner, title="Due this quarter", due_date=date(2026, 12, 20))
    return plan


def test_the_board_report_for_a_quarter(login_as, plan):
    viewer = login_as("viewer")  # board members read it
    page = _text(viewer.get(f"/plans/{plan.id}/board-report"))
    assert "Quarter 3 2026/27" in page and "Practice and Development Board" in page
    completed = _section(page, "Completed in Quarter 3 2026/27", "Overdue, and why")
    assert "Online referral form launched" in completed and "Done last quarter" in completed
    assert "Done in the summer" not in completed
    overdue = _section(page, "Overdue, and why", "Due in Quarter 4")
    assert "Recruit permanent social workers" in overdue and "Two offers made; start dates in January" in overdue
    due_next = _section(page, "Due in Quarter 4 2026/27", "Produced")
    assert "Caseload review" in due_next and "Due this quarter" not in due_next

    summer = _text(viewer.get(f"/plans/{plan.id}/board-report?quarter=2026-2"))
    assert "Done in the summer" in _section(summer, "Completed in Quarter 2 2026/27", "Overdue, and why")


def test_bad_quarters_and_plans_are_not_found(login_as, plan):
    viewer = login_as("viewer")
    for query in ("quarter=2026-5", "quarter=abc", "quarter=99999-1"):
        assert viewer.get(f"/plans/{plan.id}/board-report?{query}").status_code == 404
    assert viewer.get("/plans/999999/board-report").status_code == 404


def test_the_board_report_downloads_as_pdf(login_as, plan):
    from io import BytesIO

    from pypdf import PdfReader

    response = login_as("head_of_service").get(f"/plans/{plan.id}/board-report.pdf?quarter=2026-3")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == 'attachment; filename="annual-improvement-plan-quarter-3-2026-27-board-report.pdf"'
    text = " ".join(page.extract_text() for page in PdfReader(BytesIO(response.data)).pages)
    assert "Recruit permanent social workers" in re.sub(r"\s+", " ", text)


def test_the_board_report_makes_the_same_queries_however_many_actions(login_as, plan, make_action):
    from sqlalchemy import event

    client = login_as("viewer")

    def queries() -> int:
        count = []
        listener = lambda *args: count.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get(f"/plans/{plan.id}/board-report").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(count)

    before = queries()
    for n in range(10):
        make_action(priority=plan.priorities[n % 2], due_date=date(2026, 11, 1 + n), title=f"Late {n}")
    assert queries() == before
