from datetime import date

import pytest

from qa_audit.audits import services


@pytest.fixture
def today(monkeypatch):
    monkeypatch.setattr(services, "today", lambda: date(2026, 11, 24))
    return date(2026, 11, 24)


def test_home_shows_my_next_audits_and_the_quarter(login_as, make_audit, today):
    client = login_as("auditor")
    make_audit("focus_group", title="Focus group: MASH social workers", lead=client.user, scheduled_for=date(2026, 12, 3))
    make_audit("dip_sample", title="Someone else's dip sample", scheduled_for=date(2026, 11, 1))
    page = client.get("/").get_data(as_text=True)
    assert "Focus group: MASH social workers" in page and "Start the audit" in page
    assert "Quarter 3 2026/27" in page
    assert '<h2 class="govuk-heading-m">Overdue to start</h2>' not in page  # auditors do not manage the programme


def test_qa_lead_sees_audits_overdue_to_start(login_as, make_audit, today):
    client = login_as("qa_lead")
    make_audit(title="Late targeted visit", scheduled_for=date(2026, 11, 2))
    make_audit(title="Future targeted visit", scheduled_for=date(2026, 12, 2))
    make_audit(title="Started visit", scheduled_for=date(2026, 11, 3), status="in_progress")
    page = client.get("/").get_data(as_text=True)
    overdue = page.split('<h2 class="govuk-heading-m">Overdue to start</h2>')[1].split("</table>")[0]
    assert "Late targeted visit" in overdue
    assert "Future targeted visit" not in overdue and "Started visit" not in overdue


# Concern alerts ------------------------------------------------------------------


@pytest.fixture
def concern(app, tmp_path, make_audit, make_service):
    """concern(head, summary) → a concern recorded on an audit of a service that
    ``head`` is head of (alerting them and every QA lead)."""
    from qa_audit.findings import services as findings

    app.config["MAIL_OUTBOX"] = str(tmp_path / "outbox")

    def record(head, summary: str, title: str | None = None):
        service = make_service(head_of_service_id=head.id)
        audit = make_audit("focus_group", status="in_progress", service=service, **({"title": title} if title else {}))
        return findings.record_finding(audit, {"kind": "concern", "summary": summary}, audit.lead_auditor)

    return record


def test_home_shows_only_my_open_concern_alerts(login_as, make_user, concern, today):
    from qa_audit.findings import services as findings

    head = login_as("head_of_service")
    assert "Safeguarding concerns" not in head.get("/").get_data(as_text=True)

    mine = concern(head.user, "A baby was not seen for six weeks.", title="Focus group: MASH social workers")
    concern(make_user("head_of_service"), "Someone else's concern.")
    done = concern(head.user, "Already acknowledged.")
    findings.acknowledge(next(a for a in done.alerts if a.user_id == head.user.id), head.user)

    page = head.get("/").get_data(as_text=True)
    assert "1 safeguarding concern needs your response" in page
    assert "A baby was not seen for six weeks." in page and "Focus group: MASH social workers" in page
    assert mine.audit.service.name in page and f'href="/findings/{mine.id}"' in page
    assert "Someone else's concern" not in page and "Already acknowledged." not in page
    # The banner comes first, before the greeting.
    assert page.index("Safeguarding concerns") < page.index("Hello, ")
    # Viewers are never alerted.
    assert "Safeguarding concerns" not in login_as("viewer").get("/").get_data(as_text=True)


def test_home_makes_the_same_number_of_queries_for_one_concern_alert_or_many(login_as, concern, today):
    from sqlalchemy import event

    from qa_audit.extensions import db

    head = login_as("head_of_service")

    def queries() -> tuple[int, str]:
        statements = []

        def count(conn, cursor, statement, parameters, context, executemany):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            page = head.get("/").get_data(as_text=True)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(statements), page

    concern(head.user, "Concern number 1")
    head.get("/")  # warm up
    one, page = queries()
    assert "Concern number 1" in page
    for n in range(2, 7):
        concern(head.user, f"Concern number {n}")
    many, page = queries()
    assert "6 safeguarding concerns need your response" in page
    assert all(f"Concern number {n}" in page for n in range(1, 7))
    assert one == many


def _page(client) -> str:
    import html
    import re

    text = re.sub(r"<[^>]+>", "", client.get("/").get_data(as_text=True))
    return re.sub(r"\s+", " ", html.unescape(text))


def test_everyone_sees_their_own_actions_overdue_first(login_as, make_action, today):
    auditor = login_as("auditor")
    make_action(owner=auditor.user, title="Later one", due_date=date(2027, 3, 1))
    make_action(owner=auditor.user, title="Late one", due_date=date(2026, 11, 1))
    make_action(owner=auditor.user, title="Soon one", due_date=date(2026, 11, 30), status="in_progress")
    make_action(owner=auditor.user, title="Done one", status="verified")
    make_action(title="Someone else's", due_date=date(2026, 11, 1))
    page = _page(auditor)
    assert "3 open: 1 overdue, 1 due in the next 14 days." in page
    assert page.index("Late one") < page.index("Soon one") < page.index("Later one")
    assert "Someone else's" not in page and "Done one" not in page
    assert "Awaiting your sign-off" not in page and "Your improvement plans" not in page


def test_head_of_service_sees_plan_brag_sign_off_and_overdue(login_as, make_user, make_plan, make_action, today):
    head = login_as("head_of_service")
    plan = make_plan("Front door improvement plan", owner=head.user)
    priority = plan.priorities[0]
    make_action(priority=priority, status="completed", title="Awaiting")
    make_action(priority=priority, status="completed", owner=head.user, title="My own, done")  # not theirs to sign off
    make_action(priority=priority, due_date=date(2026, 10, 1), title="Late")
    make_action(status="completed", title="Another plan's")  # not in their charge
    page = _page(head)
    assert "1 completed action is waiting for you to sign it off or send it back." in page
    assert "1 action in your plans and services is overdue." in page
    plans = page[page.index("Your improvement plans"):]
    assert "Front door improvement plan" in plans and "Red" in plans and "66.7%" in plans  # 2 done of 3


def test_qa_lead_sees_every_unacknowledged_concern(login_as, make_user, concern, today):
    qa_lead = login_as("qa_lead")
    head = make_user("head_of_service", name="Martin Doyle")
    concern(head, "Baby not seen")
    page = _page(qa_lead)
    section = page[page.index("Concerns awaiting acknowledgement"):]
    assert "Martin Doyle" in section
    auditor = login_as("auditor")
    assert "Concerns awaiting acknowledgement" not in _page(auditor)
