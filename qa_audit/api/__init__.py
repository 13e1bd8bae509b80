"""The JSON API, version 1 (API.md is the contract).

flask-smorest generates /api/v1/openapi.json from the marshmallow schemas that
validate each request, so the description can never drift from the behaviour.
"""

from __future__ import annotations

import json

from flask import abort, g, request
from flask_smorest import Api
from flask_smorest import Blueprint as SmorestBlueprint
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


class ApiBlueprint(SmorestBlueprint):
    ARGUMENTS_PARSER = JsonBodyParser()


class QaApi(Api):
    def _register_error_handlers(self):
        """The app has one error handler that answers JSON under /api and GOV.UK
        pages elsewhere (qa_audit.main.errors); smorest's would answer JSON everywhere."""


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


from qa_audit.api import audits, history, question_sets, recording, services, users  # noqa: E402,F401
