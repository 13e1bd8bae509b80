"""Walk every route: none is reachable anonymously unless it is on the allow-list,
and role-restricted routes refuse every other role. A new route without the right
check fails here."""

from __future__ import annotations

import re

import pytest
from werkzeug.routing import IntegerConverter, PathConverter

from qa_audit.auth.models import Role

PUBLIC = {
    "auth.sign_in",
    "main.healthz",
    "main.accessibility",
    "main.cookies",
    "static",
    "api-docs.openapi_json",
    "audits.calendar_feed_ics",
}
METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


def _url_for_rule(rule) -> str:
    url = rule.rule
    for argument in rule.arguments:
        converter = rule._converters[argument]
        if isinstance(converter, IntegerConverter):
            value = "1"
        elif isinstance(converter, PathConverter):
            value = "assets.css"
        else:
            value = "user"
        url = re.sub(rf"<(?:[^:<>]+:)?{argument}>", value, url)
    return url


def _routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) & METHODS):
            yield rule, method


def test_every_route_needs_sign_in_unless_allow_listed(app):
    app.config["WTF_CSRF_ENABLED"] = False  # let requests reach the sign-in check
    client = app.test_client()
    checked = 0
    for rule, method in _routes(app):
        if rule.endpoint in PUBLIC:
            continue
        url = _url_for_rule(rule)
        response = client.open(url, method=method)
        if url.startswith("/api/"):
            assert response.status_code == 401, f"{method} {url} answered {response.status_code} to an anonymous client"
        else:
            assert response.status_code == 302, f"{method} {url} answered {response.status_code} to an anonymous client"
            assert response.location.startswith("/sign-in"), f"{method} {url} redirected to {response.location}"
        checked += 1
    assert checked >= 15


def test_public_allow_list_is_short_and_real(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert PUBLIC <= endpoints


@pytest.mark.parametrize("url", ["/sign-in", "/healthz", "/accessibility", "/cookies", "/api/v1/openapi.json"])
def test_public_pages_answer_anonymously(client, url):
    assert client.get(url).status_code == 200


def test_role_restricted_routes_refuse_other_roles(app, login_as):
    """Every view declaring allowed roles answers 403 to each role it does not allow."""
    app.config["WTF_CSRF_ENABLED"] = False
    clients = {role: login_as(role.value) for role in Role}
    checked = 0
    for rule, method in _routes(app):
        view = app.view_functions[rule.endpoint]
        allowed = getattr(view, "allowed_roles", None)
        if allowed is None or rule.rule.startswith("/api/"):
            continue
        url = _url_for_rule(rule)
        for role, client in clients.items():
            if role in allowed:
                continue
            response = client.open(url, method=method)
            assert response.status_code == 403, f"{role.value} got {response.status_code} from {method} {url}"
            checked += 1
    assert checked >= 10


def test_api_role_restricted_routes_refuse_other_roles(app, api_as):
    tokens = {role: api_as(role.value)[0] for role in Role}
    checked = 0
    for rule, method in _routes(app):
        view = app.view_functions[rule.endpoint]
        allowed = getattr(view, "allowed_roles", None)
        if allowed is None or not rule.rule.startswith("/api/"):
            continue
        url = _url_for_rule(rule)
        for role, headers in tokens.items():
            if role in allowed:
                continue
            response = app.test_client().open(url, method=method, headers=headers, json={})
            assert response.status_code == 403, f"{role.value} got {response.status_code} from {method} {url}"
            checked += 1
    assert checked >= 1


def test_url_paths_are_kebab_case(app):
    for rule in app.url_map.iter_rules():
        static_parts = re.sub(r"<[^>]+>", "", rule.rule)
        assert re.fullmatch(r"[a-z0-9\-/.]*", static_parts), f"{rule.rule} is not kebab-case"
