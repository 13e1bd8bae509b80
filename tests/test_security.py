"""Security properties that must hold for every route, present and future:

- every form post (any unsafe method outside the API) is refused without its CSRF token,
  whoever sends it and whatever record it names;
- the API, the one part exempt from CSRF, never accepts a session cookie instead of a token;
- rate limits: per API token, and per address on sign-in;
- the security headers are on every kind of response.
"""

from __future__ import annotations

import io
import re
import zipfile

import openpyxl
import pytest
from sqlalchemy import func, select
from werkzeug.routing import IntegerConverter

from qa_audit.errors import InvalidInput
from qa_audit.extensions import csrf, db
from qa_audit.history.models import HistoryEntry

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
CSRF_PAGE = "Your form could not be sent"


def _url(rule) -> str:
    """A URL for the rule, with 1 for every id: the CSRF check comes before any view
    looks a record up, so the record need not exist (if a lookup came first, the 404
    would fail the test, not hide the missing check)."""
    values = {}
    for argument in rule.arguments:
        values[argument] = 1 if isinstance(rule._converters[argument], IntegerConverter) else "x"
    url = rule.rule
    for argument, value in values.items():
        url = re.sub(rf"<(?:[^:<>]+:)?{argument}>", str(value), url)
    return url


def _unsafe_routes(app, *, api: bool):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") is not api:
            continue
        for method in sorted((rule.methods or set()) & UNSAFE):
            yield rule, method


def _refused_without_csrf(client, app) -> tuple[int, list[str]]:
    """Post to every form route without a CSRF token: (routes tried, those that did not
    answer with the CSRF page)."""
    tried, failures = 0, []
    for rule, method in _unsafe_routes(app, api=False):
        url = _url(rule)
        response = client.open(url, method=method, data={"name": "Forged", "confirm": "yes"})
        tried += 1
        body = response.get_data(as_text=True)
        if response.status_code != 400 or CSRF_PAGE not in body:
            failures.append(f"{method} {url} ({rule.endpoint}) answered {response.status_code} without a CSRF token")
    return tried, failures


def test_csrf_protection_is_global_and_only_the_api_is_exempt(app):
    assert app.config.get("WTF_CSRF_ENABLED", True) is True
    assert app.config.get("WTF_CSRF_CHECK_DEFAULT", True) is True
    assert csrf._exempt_views == set()
    assert {blueprint.name for blueprint in csrf._exempt_blueprints} == {"api"}


@pytest.mark.parametrize("who", ["admin", "anonymous"])
def test_every_form_post_is_refused_without_its_csrf_token(app, login_as, who):
    client = login_as("admin") if who == "admin" else app.test_client()
    history_before = db.session.scalar(select(func.count()).select_from(HistoryEntry))
    tried, failures = _refused_without_csrf(client, app)
    assert failures == []
    assert tried >= 50  # every form in the app: a broken walk must not pass by trying none
    assert db.session.scalar(select(func.count()).select_from(HistoryEntry)) == history_before
    if who == "admin":
        assert client.get("/admin/users").status_code == 200  # still signed in: even sign-out was refused


def test_the_walk_finds_a_form_route_that_skips_the_check(app, login_as):
    """The walk above can fail: with the default check off, every route is reported."""
    client = login_as("admin")
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    tried, failures = _refused_without_csrf(client, app)
    assert tried >= 50 and len(failures) == tried


def test_a_wrong_csrf_token_is_refused_like_a_missing_one(login_as):
    client = login_as("admin")
    response = client.post("/admin/services/new", data={"name": "MASH", "csrf_token": "not-the-token"})
    assert response.status_code == 400 and CSRF_PAGE in response.get_data(as_text=True)
    assert client.post_form("/admin/services/new", {"name": "MASH"}).status_code == 302


def test_the_api_never_takes_a_session_cookie_for_a_token(app, login_as):
    """The API is exempt from CSRF because it authenticates by bearer token only: a
    page on another site must not be able to use a signed-in person's cookie on it."""
    client = login_as("admin")
    tried = 0
    for rule, method in _unsafe_routes(app, api=True):
        url = _url(rule)
        response = client.open(url, method=method, json={"name": "Forged"})
        assert response.status_code == 401, f"{method} {url} answered {response.status_code} to a session cookie"
        tried += 1
    assert tried >= 15
    assert client.get("/api/v1/me").status_code == 401


# Rate limits --------------------------------------------------------------------------


def test_one_api_token_over_its_limit_gets_429_and_others_carry_on(app, client, api_as):
    app.config["API_RATE_LIMIT"] = "3 per minute"
    busy, _ = api_as("viewer")
    other, _ = api_as("viewer")
    assert [client.get("/api/v1/me", headers=busy).status_code for _ in range(3)] == [200, 200, 200]
    response = client.get("/api/v1/me", headers=busy)
    assert response.status_code == 429
    assert response.is_json and response.json["code"] == 429 and response.json["message"]
    assert 0 < int(response.headers["Retry-After"]) <= 60
    # Writes count against the same token, and are refused before anything is saved.
    assert client.post("/api/v1/services", json={"name": "Too fast"}, headers=busy).status_code == 429
    # Another token from the same address is not held up.
    assert [client.get("/api/v1/me", headers=other).status_code for _ in range(3)] == [200, 200, 200]


def test_sign_in_posts_are_limited_per_address(app, make_user):
    """Besides the per-account and per-address failure counts (tests/auth/test_sign_in.py),
    any address gets LOGIN_RATE_LIMIT sign-in posts a minute, right or wrong."""
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    users = [make_user() for _ in range(4)]
    client = app.test_client()
    for user in users[:3]:
        response = client.post_form("/sign-in", {"email": user.email, "password": "wrong-password-here"})
        assert response.status_code == 200
    response = client.post_form("/sign-in", {"email": users[3].email, "password": "wrong-password-here"})
    assert response.status_code == 429
    assert "Too many requests" in response.get_data(as_text=True)
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert client.get("/sign-in").status_code == 200  # only posts are limited
    elsewhere = app.test_client()
    response = elsewhere.post_form(
        "/sign-in", {"email": users[3].email, "password": "wrong-password-here"}, environ_base={"REMOTE_ADDR": "10.9.8.7"}
    )
    assert response.status_code == 200


# Security headers ---------------------------------------------------------------------


def _responses(app, login_as, api_as, make_audit):
    """One response of every kind the app sends."""
    anonymous = app.test_client()
    admin = login_as("admin")
    viewer = login_as("viewer")
    headers, _ = api_as("admin")
    make_audit()
    yield "public page", 200, anonymous.get("/sign-in")
    yield "redirect to sign in", 302, anonymous.get("/")
    yield "signed-in page", 200, admin.get("/")
    yield "form with errors", 200, admin.post_form("/admin/services/new", {"name": ""})
    yield "CSRF refusal", 400, admin.post("/admin/services/new", data={"name": "MASH"})
    yield "403 page", 403, viewer.get("/admin/users")
    yield "404 page", 404, admin.get("/no-such-page")
    app.config["LOGIN_RATE_LIMIT"] = "1 per minute"
    anonymous.post_form("/sign-in", {"email": "nobody@example.gov.uk", "password": "wrong-password-here"})
    yield "429 page", 429, anonymous.post_form("/sign-in", {"email": "nobody@example.gov.uk", "password": "wrong-password-here"})
    yield "CSV download", 200, admin.get("/programme/export.csv")
    yield "API JSON", 200, anonymous.get("/api/v1/me", headers=headers)
    yield "API error", 401, anonymous.get("/api/v1/me")
    yield "OpenAPI", 200, anonymous.get("/api/v1/openapi.json")
    yield "static asset", 200, anonymous.get("/assets/app.js")

def test_security_headers_on_every_kind_of_response(app, login_as, api_as, make_audit):
    nonces = set()
    kinds = 0
    for kind, status, response in _responses(app, login_as, api_as, make_audit):
        kinds += 1
        assert response.status_code == status, kind
        csp = response.headers.get("Content-Security-Policy", "")
        directives = dict((part.strip().split(" ", 1) + [""])[:2] for part in csp.split(";") if part.strip())
        assert directives.get("default-src") == "'self'", (kind, csp)
        assert directives.get("frame-ancestors") == "'none'", (kind, csp)
        assert directives.get("object-src") == "'none'", (kind, csp)
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, (kind, csp)
        nonce = re.search(r"'nonce-([^']+)'", directives.get("script-src", ""))
        assert nonce, (kind, csp)
        nonces.add(nonce.group(1))
        assert response.headers.get("X-Content-Type-Options") == "nosniff", kind
        assert response.headers.get("Referrer-Policy") == "strict-origin-when-cross-origin", kind
        assert response.headers.get("X-Frame-Options") == "DENY", kind
        if kind != "static asset":
            assert response.headers.get("Cache-Control") == "no-store", kind
        if response.mimetype == "text/html":
            page = response.get_data(as_text=True)
            for script in re.findall(r"<script\b[^>]*>", page):
                assert f'nonce="{nonce.group(1)}"' in script, (kind, script)
            # The policy blocks inline styles and handlers: a page must not rely on them.
            assert not re.search(r"<[^>]+\s(style|on[a-z]+)=", page), kind
        response.close()
    assert kinds == 13
    assert len(nonces) == kinds  # a fresh nonce for every response


# Uploaded XML ------------------------------------------------------------------------


def _workbook_with_entity(declare: bool) -> io.BytesIO:
    """A plan workbook whose sheet uses an XML entity (the seed of 'billion laughs'
    and external-entity attacks) when ``declare``; the same workbook without."""
    book = openpyxl.Workbook()
    book.active.append(["priority", "action", "owner", "due date"])
    book.active.append(["Front door", "MARKER", "jo@example.gov.uk", "2027-01-31"])
    plain = io.BytesIO()
    book.save(plain)
    hostile = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(plain.getvalue())) as source, zipfile.ZipFile(hostile, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml" and declare:
                text = data.decode()
                assert text.count("MARKER") == 1
                text = text.replace("<worksheet", '<!DOCTYPE worksheet [<!ENTITY marker "Review every contact">]><worksheet', 1)
                data = text.replace("MARKER", "&marker;").encode()
            target.writestr(item, data)
    hostile.seek(0)
    return hostile


def test_uploaded_workbooks_may_not_declare_xml_entities(app):
    """openpyxl parses with defusedxml (a dependency for this): a DTD with entities is
    refused with the importer's plain message, never expanded."""
    from qa_audit.plans import importing

    assert openpyxl.DEFUSEDXML is True
    table = importing.read_upload(_workbook_with_entity(declare=False), "plan.xlsx")
    assert any("MARKER" in [str(cell) for cell in cells] for _, cells in table.rows)
    with pytest.raises(InvalidInput) as refused:
        importing.read_upload(_workbook_with_entity(declare=True), "plan.xlsx")
    assert "could not be read as an Excel workbook" in refused.value.errors["file"][0]
