"""Browser tests: Debian's Chromium, driven by Playwright, against a live server.

* Chromium is ``/usr/bin/chromium`` (``apt-get install -y chromium``); Playwright's own
  browser downloads are never used. Without it the tests skip, or fail when ``CI`` is set.
* One browser per session; a fresh context (cookies, storage) per test.
* The live server is the real app served by werkzeug on 127.0.0.1 and a free port, in a
  background thread of the pytest process, with Flask-Limiter disabled.
* Database: the browser tests ALWAYS use their own SQLite file in a temporary directory,
  even when TEST_DATABASE_URL is set. The server thread holds connections for the whole
  session, so sharing the main test database (PostgreSQL in CI) would let the two suites
  empty or lock each other's tables. The schema is built by the migrations, as for the
  other tests, and every table is emptied after each test.
* Every page a test loads is checked with axe (zero violations) and for Content Security
  Policy errors, uncaught script errors and failed assets. Use the ``AppPage`` methods
  (``visit``, ``click_link``, ``submit``, ``check``) to move around: a page loaded without
  a check fails the test at teardown.
"""

from __future__ import annotations

import itertools
import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from axe_playwright_python.base import AxeResults
from axe_playwright_python.sync_playwright import Axe
from werkzeug.serving import make_server

from tests.conftest import PASSWORD, _make_app, dispose, empty_tables, reset_schema

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
TIMEOUT_MS = 10_000

_AXE = Axe()
_STATS = {"pages": 0, "seconds": 0.0}


def axe_violations(page) -> AxeResults:
    """Run axe on the page (every violation counts: there is no allow-list)."""
    started = time.perf_counter()
    results = _AXE.run(page)
    _STATS["pages"] += 1
    _STATS["seconds"] += time.perf_counter() - started
    return results


_counter = itertools.count(1)


# ---------------------------------------------------------------- the live server


@pytest.fixture(scope="session")
def live_app(tmp_path_factory):
    """The app on its own SQLite file (never TEST_DATABASE_URL: see the module docstring)."""
    path = tmp_path_factory.mktemp("browser-db") / "browser.sqlite"
    app = _make_app(f"sqlite:///{path}", RATELIMIT_ENABLED=False)
    reset_schema(app)
    return app


def _closing(wsgi_app):
    """Close every response body, even when the browser drops the connection mid-response.

    werkzeug's development server calls ``close()`` only after draining the socket, which
    raises when Chromium has already closed it (a favicon still loading as a context
    closes): the static file is then left open, and the ResourceWarning, an error under
    this project's ``filterwarnings = error``, lands on whichever test is running.
    """

    def app(environ, start_response):
        body = wsgi_app(environ, start_response)
        try:
            yield from body
        finally:
            if hasattr(body, "close"):
                body.close()

    return app


@pytest.fixture(scope="session")
def live_server(live_app):
    """The base URL of the app served by werkzeug in a background thread."""
    server = make_server("127.0.0.1", 0, _closing(live_app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        dispose(live_app)


@pytest.fixture
def app(live_app, live_server):
    """The live app, emptied after the test. Overrides tests/conftest.py's ``app``, so the
    browser tests never touch the main test database."""
    from qa_audit.extensions import limiter

    # Flask-Limiter keeps "enabled" on the one shared Limiter object, and each
    # create_app() (the other tests' fixtures) sets it again: keep it off here.
    was_enabled = limiter.enabled
    limiter.enabled = False
    try:
        yield live_app
    finally:
        limiter.enabled = was_enabled
        empty_tables(live_app)


# ---------------------------------------------------------------- data


@dataclass
class Person:
    id: int
    email: str
    name: str
    role: str
    password: str = PASSWORD


@pytest.fixture
def make_user(app):
    """make_user("admin", name="Ada Obi") → a Person (plain data, usable outside the app)."""
    from qa_audit.auth import services

    def make(
        role: str = "auditor", *, email: str | None = None, name: str | None = None, password: str = PASSWORD
    ) -> Person:
        n = next(_counter)
        with app.app_context():
            user = services.create_user(
                email or f"browser{n}@example.gov.uk",
                name or f"Browser {role.replace('_', ' ').title()} {n}",
                role,
                password,
            )
            return Person(user.id, user.email, user.name, user.role.value, password)

    return make


@pytest.fixture
def make_service(app):
    """make_service("MASH") → the new service's id."""
    from qa_audit.admin import services

    def make(name: str | None = None) -> int:
        with app.app_context():
            return services.create_service(name or f"Browser service {next(_counter)}").id

    return make


@pytest.fixture
def make_question_set(app):
    """make_question_set("Title", ["Question?"]) → the new question set's id."""
    from qa_audit.audits import question_sets as question_set_rules

    def make(title: str | None = None, questions: list[str] | None = None) -> int:
        with app.app_context():
            return question_set_rules.create_question_set(
                title or f"Browser question set {next(_counter)}",
                questions or ["Was the threshold applied correctly?", "Was the child seen alone?"],
            ).id

    return make


@pytest.fixture
def make_audit(app, make_service):
    """make_audit("Title", lead_id=…, type="dip_sample", status="in_progress", …) → the audit's id.

    Scheduled through the audit services (so the rules apply), then put in the status
    asked for directly, as a journey that does not click through the status changes needs."""
    from qa_audit.audits import services
    from qa_audit.audits.models import AuditStatus
    from qa_audit.extensions import db

    def make(
        title: str,
        *,
        lead_id: int,
        type: str = "targeted_visit",
        service_id: int | None = None,
        scheduled_for=None,
        status: str = "planned",
        **fields,
    ) -> int:
        service_id = service_id or make_service()
        with app.app_context():
            audit = services.schedule_audit(
                {
                    "type": type,
                    "title": title,
                    "service_id": service_id,
                    "scheduled_for": scheduled_for or services.today(),
                    "lead_auditor_id": lead_id,
                    **fields,
                }
            )
            if status != "planned":
                audit.status = AuditStatus(status)
                db.session.commit()
            return audit.id

    return make


def today():
    """The app's date (Europe/London), as the pages see it."""
    from qa_audit.audits import services

    return services.today()


# ---------------------------------------------------------------- the browser


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        message = (
            f"Chromium is not installed at {CHROMIUM}: install it with "
            "`apt-get update && apt-get install -y chromium` (Playwright's browser downloads are not used)"
        )
        if "CI" in os.environ:
            pytest.fail(message + ". CI is set, so this is a failure, not a skip", pytrace=False)
        pytest.skip(message)

    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class AppPage:
    """A Playwright page with an axe check and a CSP/script/asset check after every load."""

    page: object
    base_url: str
    console_errors: list[str] = field(default_factory=list)
    csp_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_assets: list[str] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)
    _pending: str | None = None
    checked_urls: list[str] = field(default_factory=list)

    def __post_init__(self):
        self.page.set_default_timeout(TIMEOUT_MS)
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda error: self.page_errors.append(f"{self.page.url}: {error}"))
        self.page.on("response", self._on_response)
        self.page.on("load", self._on_load)

    # -- listeners

    def _on_console(self, message) -> None:
        if message.type != "error":
            return
        text = f"{self.page.url}: {message.text}"
        self.console_errors.append(text)
        if "Content Security Policy" in message.text:
            self.csp_errors.append(text)

    def _on_response(self, response) -> None:
        if response.request.resource_type != "document" and response.status >= 400:
            self.failed_assets.append(f"{response.status} {response.url}")

    def _on_load(self, _page) -> None:
        if self._pending is not None:
            self.unchecked.append(self._pending)
        self._pending = self.page.url

    # -- moving around (each checks the page it lands on)

    def url(self, path: str) -> str:
        return self.base_url + path

    def visit(self, path: str, *, status: int = 200):
        response = self.page.goto(self.url(path))
        assert response is not None, f"no response for {path}"
        assert response.status == status, f"GET {path}: expected {status}, got {response.status}"
        self.check()
        return response

    def click(self, locator, *, status: int | None = None) -> None:
        """Click something that loads a new page, wait for it, check it."""
        with self.page.expect_navigation() as navigation:
            locator.click()
        if status is not None:
            response = navigation.value
            assert response is not None and response.status == status, (
                f"after clicking {locator}: expected {status}, got {response and response.status}"
            )
        self.check()

    def click_link(self, name: str, *, within=None, exact: bool = True) -> None:
        """Follow a link (GOV.UK link buttons, <a role="button">, included)."""
        scope = within if within is not None else self.page
        link = scope.get_by_role("link", name=name, exact=exact).or_(
            scope.locator("a[role=button]").filter(has_text=re.compile(rf"^\s*{re.escape(name)}\s*$"))
        )
        self.click(link)

    def submit(self, name: str, *, within=None, exact: bool = True, status: int | None = None) -> None:
        """Press a button that sends a form, wait for the page it leads to, check it."""
        scope = within if within is not None else self.page
        self.click(scope.locator("form").get_by_role("button", name=name, exact=exact), status=status)

    # -- checks

    def check(self) -> None:
        """axe (zero violations), no CSP errors, no script errors, no failed assets."""
        page = self.page
        page.wait_for_load_state("load")
        self._pending = None  # checked, pass or fail: a failure is reported here, not again at teardown
        self.checked_urls.append(page.url)
        results = axe_violations(page)
        assert results.violations_count == 0, f"axe on {page.url} ({page.title()}):\n{results.generate_report()}"
        self.assert_clean()

    def assert_clean(self) -> None:
        assert not self.csp_errors, "Content Security Policy violations:\n" + "\n".join(self.csp_errors)
        assert not self.page_errors, "Uncaught script errors:\n" + "\n".join(self.page_errors)
        assert not self.failed_assets, "Assets that failed to load:\n" + "\n".join(self.failed_assets)

    # -- reading

    def main_locator(self):
        return self.page.locator("main")

    def error_summary(self):
        return self.page.locator(".govuk-error-summary")

    def success_banner(self):
        return self.page.locator(".govuk-notification-banner--success")

    def navigation(self):
        return self.page.get_by_role("navigation", name="Menu")

    def sign_in(self, person: Person, *, password: str | None = None) -> None:
        self.visit("/sign-in")
        self.page.get_by_label("Email address").fill(person.email)
        self.page.get_by_label("Password", exact=True).fill(password or person.password)
        self.submit("Sign in")

    def sign_out(self) -> None:
        self.submit("Sign out")


_CALL_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call" and report.failed:
        item.stash[_CALL_FAILED] = True
    return report


@pytest.fixture
def new_page(request, browser, live_server, app):
    """new_page() → an AppPage in a fresh browser context (its own cookies)."""
    contexts = []
    pages: list[AppPage] = []

    def make() -> AppPage:
        context = browser.new_context(base_url=live_server, locale="en-GB", timezone_id="Europe/London")
        contexts.append(context)
        app_page = AppPage(context.new_page(), live_server)
        pages.append(app_page)
        return app_page

    yield make

    try:
        if request.node.stash.get(_CALL_FAILED, False):
            return  # the failure is already reported; do not add a second one
        for app_page in pages:
            if not app_page.page.is_closed():
                app_page.page.evaluate("1")  # deliver any events still in flight
        for app_page in pages:
            if app_page._pending is not None:
                app_page.unchecked.append(app_page._pending)
            assert not app_page.unchecked, "Pages loaded without an axe check:\n" + "\n".join(app_page.unchecked)
            app_page.assert_clean()
    finally:
        for context in contexts:
            context.close()


@pytest.fixture
def page(new_page) -> AppPage:
    return new_page()


def set_user(app, user_id: int, **values) -> None:
    """Change a user's columns directly in the database (for states a journey cannot reach quickly)."""
    from qa_audit.auth.models import User
    from qa_audit.extensions import db

    with app.app_context():
        user = db.session.get(User, user_id)
        for name, value in values.items():
            setattr(user, name, value)
        db.session.commit()


def row_for(page, text: str):
    """The table rows whose text contains this (a name, an email address), case-sensitively."""
    return page.locator("tbody tr").filter(has_text=re.compile(re.escape(text)))


def summary_value(page, key: str):
    """The value cell of the GOV.UK summary list row whose key is exactly this."""
    key_cell = page.locator(".govuk-summary-list__key", has_text=re.compile(rf"^\s*{re.escape(key)}\s*$"))
    return page.locator(".govuk-summary-list__row", has=key_cell).locator(".govuk-summary-list__value")


def pytest_terminal_summary(terminalreporter):
    if _STATS["pages"]:
        terminalreporter.write_line(
            f"browser: axe checked {_STATS['pages']} pages in {_STATS['seconds']:.1f}s"
        )
