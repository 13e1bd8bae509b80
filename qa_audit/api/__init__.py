"""The JSON API, version 1 (API.md is the contract).

flask-smorest generates /api/v1/openapi.json from the marshmallow schemas that
validate each request, so the description can never drift from the behaviour.
"""

from __future__ import annotations

import http
import json

from flask import abort, g, request
from flask_smorest import Api
from flask_smorest import Blueprint as SmorestBlueprint
from flask_smorest.utils import prepare_response
from marshmallow import Schema, fields
from webargs import core
from webargs.flaskparser import FlaskParser

from qa_audit.auth.services import user_for_token


class JsonBodyParser(FlaskParser):
    """Read the body as JSON whatever its Content-Type: a body that is not JSON
    at all is a 400, not a silently empty object."""

    def _raw_load_json(self, req):
        try:
            return core.parse_json(req.get_data(cache=True))
        except json.JSONDecodeError:
            raise  # webargs answers these (an empty body is "no body")
        except (ValueError, RecursionError):
            # Valid JSON that Python will not hold: a 5,000-digit number, deep nesting.
            abort(400, "The request body is not valid JSON.")


class ApiErrorSchema(Schema):
    """Every error the API answers (qa_audit.main.errors writes them)."""

    code = fields.Integer(required=True, metadata={"description": "the HTTP status code"})
    message = fields.String(required=True, metadata={"description": "what went wrong, in words"})
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "422 only: each bad field (at the top level, wherever it was sent) and its messages"},
    )


class ApiValidationErrorSchema(ApiErrorSchema):
    """422: ``errors`` names each bad field at the top level, not nested under ``json`` or ``query``."""

    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        required=True,
        metadata={"description": 'each bad field and its messages: {"<field>": ["message", ...]}'},
    )


# API.md's status codes, as each operation's OpenAPI documents them.
ERROR_RESPONSES = {
    400: "The body is not JSON at all.",
    401: "Missing or bad token: send Authorization: Bearer <token>.",
    403: "The token's user may not do this (role or ownership).",
    404: "No such record.",
    409: "The request conflicts with the state of the record (an illegal status change, a locked audit, a stale version): the message says why. Nothing is written.",
    422: "Invalid input: each bad field at the top level of errors.",
    429: "Too many requests with this token: wait and try again.",
}


def error_statuses(rule: str, methods, view) -> list[int]:
    """The errors an operation can answer, from what every route here has in common:
    a token (401, and its rate limit 429); an id in the path (404); a role or ownership
    check (403: every write, and reads limited to some roles); a record whose state a
    write depends on (409); a JSON body (400). 422 is documented by ``arguments``."""
    writes = any(method.upper() != "GET" for method in methods)
    has_id = "<" in rule
    limited = writes or getattr(view, "allowed_roles", None) or getattr(view, "roles_after_load", None)
    arguments = getattr(view, "_apidoc", {}).get("arguments", {}).get("parameters", [])
    body = any(argument.get("in") == "json" for argument in arguments)
    statuses = [401, 429]
    if has_id:
        statuses.append(404)
    if limited:
        statuses.append(403)
    if writes and has_id:
        statuses.append(409)
    if body:
        statuses.append(400)
    return sorted(statuses)


class ApiBlueprint(SmorestBlueprint):
    ARGUMENTS_PARSER = JsonBodyParser()

    def route(self, rule, *, parameters=None, tags=None, **options):
        """Register the view and document the error responses it can give
        (``error_statuses``), so the OpenAPI lists every status the API answers."""
        register = super().route(rule, parameters=parameters, tags=tags, **options)

        def decorator(func):
            for status in error_statuses(rule, options.get("methods", ["GET"]), func):
                func = self.alt_response(status, response=http.HTTPStatus(status).name)(func)
            return register(func)

        return decorator


class QaApi(Api):
    ERROR_SCHEMA = ApiErrorSchema
    # Every status an operation answers is listed (ApiBlueprint.route): no catch-all.
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_error_handlers(self):
        """The app has one error handler that answers JSON under /api and GOV.UK
        pages elsewhere (qa_audit.main.errors); smorest's would answer JSON everywhere."""

    def _register_responses(self):
        """A response component per status code (as flask-smorest's), with API.md's
        words for the errors this API gives and the flattened shape for 422."""
        for status in http.HTTPStatus:
            response = {"description": ERROR_RESPONSES.get(status.value, status.phrase)}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = ApiValidationErrorSchema if status == 422 else self.ERROR_SCHEMA
            prepare_response(response, self.spec, self.DEFAULT_RESPONSE_CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)


api = QaApi()
bp = ApiBlueprint("api", __name__, url_prefix="/api/v1", description="qa_audit API, version 1")


@bp.before_request
def authenticate():
    """Bearer tokens only: a browser's session cookie never authorises the API,
    which is exempt from CSRF checks."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    user = user_for_token(token.strip()) if scheme.lower() == "bearer" else None
    if user is None:
        abort(401)
    g._login_user = user


from qa_audit.api import actions, audits, history, plans, question_sets, recording, services, users  # noqa: E402,F401
