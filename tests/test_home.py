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
