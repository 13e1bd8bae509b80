"""Fixtures: an app on a fresh database per test, clients signed in by role, factories.

Tests run on SQLite; with TEST_DATABASE_URL set they run on that database
(PostgreSQL in CI) instead. The schema is built once per run by the migrations,
so the migrations themselves are under test.
"""

from __future__ import annotations

import contextvars
import itertools
import os
import re

import pytest
from flask import has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import text

from qa_audit import create_app
from qa_audit.config import TestConfig
from qa_audit.extensions import db

PASSWORD = "correct-horse-battery-staple"
_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def _test_settings(url: str) -> dict:
    settings = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    settings["SQLALCHEMY_DATABASE_URI"] = url
    return settings


def reset_schema(app) -> None:
    """Drop everything and migrate from nothing."""
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade()


def empty_tables(app) -> None:
    with app.app_context():
        db.session.remove()
        tables = [t for t in db.metadata.sorted_tables]
        with db.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                names = ", ".join(f'"{t.name}"' for t in tables)
                connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                for table in reversed(tables):
                    connection.execute(table.delete())


def dispose(app) -> None:
    """Close the app's pooled connections: PostgreSQL allows only so many."""
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
    app = _make_app(url)
    reset_schema(app)
    dispose(app)
    return url


def _make_app(url: str, **overrides):
    os.environ.pop("DATABASE_URL", None)
    settings = _test_settings(url)
    settings.update(overrides)
    return create_app(settings)


class AppClient(FlaskClient):
    """A test client that finds and sends the CSRF token for form posts.

    Each request runs in its own, empty context: otherwise Flask would reuse the
    test's app context, and ``g`` (the signed-in user, the CSRF token) and the
    database session would leak from one request to the next.
    """

    _csrf: str | None = None

    def open(self, *args, **kwargs):
        response = contextvars.Context().run(super().open, *args, **kwargs)
        if has_app_context():
            db.session.expire_all()  # the test sees what the request wrote
        return response

    def csrf_token(self) -> str:
        page = self.get("/cookies").get_data(as_text=True)
        self._csrf = _CSRF.search(page).group(1)
        return self._csrf

    def post_form(self, url: str, data: dict | None = None, **kwargs):
        data = dict(data or {})
        data.setdefault("csrf_token", self._csrf or self.csrf_token())
        return self.post(url, data=data, **kwargs)


@pytest.fixture
def app(database_url):
    app = _make_app(database_url)
    app.test_client_class = AppClient
    with app.app_context():
        yield app
        db.session.remove()
    empty_tables(app)
    dispose(app)


@pytest.fixture
def client(app) -> AppClient:
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


_counter = itertools.count(1)


@pytest.fixture
def make_user(app):
    from qa_audit.auth import services

    def make(role: str = "auditor", *, email: str | None = None, name: str | None = None, password: str = PASSWORD, active: bool = True):
        n = next(_counter)
        user = services.create_user(email or f"user{n}@example.gov.uk", name or f"Test {role.replace('_', ' ').title()} {n}", role, password)
        if not active:
            user.active = False
            db.session.commit()
        return user

    return make


@pytest.fixture
def make_service(app):
    from qa_audit.admin import services

    def make(name: str | None = None, head_of_service_id: int | None = None):
        return services.create_service(name or f"Service {next(_counter)}", head_of_service_id)

    return make


def sign_in(client: AppClient, email: str, password: str = PASSWORD):
    """Sign in through the real form, as a person would."""
    response = client.post_form("/sign-in", {"email": email, "password": password})
    client._csrf = None  # the session, and so the CSRF token, is new after sign-in
    return response


@pytest.fixture
def login_as(app, make_user):
    """login_as("qa_lead") → a client signed in as a new user with that role."""

    def login(role: str, **kwargs) -> AppClient:
        user = make_user(role, **kwargs)
        client = app.test_client()
        response = sign_in(client, user.email)
        assert response.status_code == 302, response.get_data(as_text=True)
        client.user = user
        return client

    return login


@pytest.fixture
def api_as(app, make_user):
    """api_as("auditor") → (headers with a bearer token, the user)."""
    from qa_audit.auth import services

    def make(role: str, **kwargs):
        user = make_user(role, **kwargs)
        token, _ = services.create_token(user, "tests")
        return {"Authorization": f"Bearer {token}"}, user

    return make


@pytest.fixture
def make_question_set(app):
    from qa_audit.audits import question_sets as question_set_rules

    def make(title: str | None = None, questions: list[str] | None = None):
        return question_set_rules.create_question_set(
            title or f"Question set {next(_counter)}",
            questions or ["Were medical investigations undertaken?", "Was the child seen alone?"],
        )

    return make


@pytest.fixture
def make_audit(app, make_user, make_service):
    """make_audit(type="dip_sample", status="in_progress", ...) → a saved audit."""
    import datetime as dt

    from qa_audit.audits import services
    from qa_audit.audits import question_sets as question_set_rules
    from qa_audit.audits.models import AuditStatus

    def make(type: str = "targeted_visit", *, status: str = "planned", lead=None, service=None, scheduled_for=None, **fields):
        lead = lead or make_user("auditor")
        service = service or make_service()
        if type == "dip_sample" and "question_set_id" not in fields:
            fields["question_set_id"] = question_set_rules.create_question_set(
                f"Set {next(_counter)}", ["Was the threshold applied correctly?", "Was the child's voice recorded?"]
            ).id
        audit = services.schedule_audit(
            {
                "type": type,
                "title": fields.pop("title", f"{type.replace('_', ' ').capitalize()} {next(_counter)}"),
                "service_id": service.id,
                "scheduled_for": scheduled_for or dt.date(2026, 12, 1),
                "lead_auditor_id": lead.id,
                **fields,
            }
        )
        if status != "planned":
            audit.status = AuditStatus(status)
            db.session.commit()
        return audit

    return make


@pytest.fixture
def pin_today(monkeypatch):
    """pin_today(date(2026, 11, 24)): every rule that asks for the council's date gets this one."""
    from qa_audit import dates
    from qa_audit.audits import services as audit_services

    def pin(day):
        monkeypatch.setattr(dates, "today", lambda: day)
        monkeypatch.setattr(audit_services, "today", lambda: day)
        return day

    return pin


@pytest.fixture
def make_finding(app, make_audit):
    """make_finding(kind="area_for_improvement", audit=...) → a finding saved straight to the database."""
    from qa_audit.findings.models import Finding, FindingKind

    def make(kind: str = "area_for_improvement", *, audit=None, summary: str | None = None, **fields):
        audit = audit or make_audit("dip_sample", status="completed")
        finding = Finding(audit_id=audit.id, kind=FindingKind(kind), summary=summary or f"Finding {next(_counter)}", **fields)
        db.session.add(finding)
        db.session.commit()
        return finding

    return make


@pytest.fixture
def make_plan(app, make_user):
    """make_plan(priorities=["Front door", "Workforce"]) → a saved plan with those priorities."""
    import datetime as dt

    from qa_audit.plans import services

    def make(title: str | None = None, *, owner=None, priorities=("Front door",), **fields):
        owner = owner or make_user("head_of_service")
        manager = make_user("qa_lead")
        plan = services.create_plan(
            {
                "title": title or f"Improvement plan {next(_counter)}",
                "owner_id": owner.id,
                "starts_on": fields.pop("starts_on", dt.date(2026, 4, 1)),
                "ends_on": fields.pop("ends_on", dt.date(2027, 3, 31)),
                **fields,
            },
            manager,
        )
        for title in priorities:
            services.add_priority(plan, {"title": title}, manager)
        return plan

    return make


@pytest.fixture
def make_action(app, make_user, make_plan):
    """make_action(status="in_progress", due_date=..., priority=plan.priorities[0]) → a saved action.
    The status is set straight in the database: tests of the rules go through the services."""
    import datetime as dt

    from qa_audit.actions.models import Action, ActionPriority, ActionStatus

    def make(*, status: str = "not_started", due_date=None, priority=None, owner=None, finding=None, title: str | None = None, **fields):
        if priority is None and finding is None:
            priority = make_plan().priorities[0]
        action = Action(
            title=title or f"Action {next(_counter)}",
            owner_id=(owner or make_user("auditor")).id,
            due_date=due_date or dt.date(2027, 1, 31),
            priority=ActionPriority(fields.pop("action_priority", "medium")),
            status=ActionStatus(status),
            plan_priority_id=priority.id if priority is not None else None,
            finding_id=finding.id if finding is not None else None,
            service_id=finding.audit.service_id if finding is not None else fields.pop("service_id", None),
            **fields,
        )
        db.session.add(action)
        db.session.commit()
        return action

    return make
