"""One error handler for the whole app: JSON under /api, GOV.UK pages elsewhere."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, InternalServerError

from qa_audit.auth.permissions import wants_json
from qa_audit.errors import Conflict, InvalidInput, NotAllowed
from qa_audit.extensions import db

log = logging.getLogger(__name__)

TEMPLATES = {403: "errors/403.html", 404: "errors/404.html", 429: "errors/429.html"}


def _flatten(messages) -> dict:
    """webargs nests errors by location ({"json": {...}}); API.md wants each
    field at the top level of ``errors``."""
    flat: dict = {}
    if isinstance(messages, dict):
        for location, errors in messages.items():
            if isinstance(errors, dict):
                flat.update(errors)
            else:
                flat[location] = errors
    return flat


def _json_error(code: int, message: str, errors: dict | None = None, headers=None):
    body = {"code": code, "message": message}
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = code
    if headers:
        response.headers.extend(headers)
    return response


def handle_http_exception(error: HTTPException):
    code = error.code or 500
    if wants_json():
        data = getattr(error, "data", None) or {}
        messages = data.get("messages")
        errors = _flatten(messages) if code == 422 else None
        message = error.description or ""
        if code == 400 and messages:
            message = "The request body is not valid JSON."
        elif code == 422:
            message = "The request has invalid fields."
        elif code == 401:
            message = "Send a valid API token: Authorization: Bearer <token>."
        headers = data.get("headers") or (error.get_headers() if code in (401, 429) else None)
        if code == 401:
            headers = {"WWW-Authenticate": 'Bearer realm="qa_audit"'}
        return _json_error(code, message, errors, headers)
    if code == 401:
        return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))
    template = TEMPLATES.get(code)
    if template is None:
        template = "errors/500.html" if code >= 500 else "errors/generic.html"
    return render_template(template, error=error), code


def handle_csrf_error(error: CSRFError):
    if wants_json():
        return _json_error(400, error.description)
    return render_template("errors/csrf.html", error=error), 400


def handle_invalid_input(error: InvalidInput):
    if wants_json():
        return _json_error(422, "The request has invalid fields.", error.errors)
    return render_template("errors/generic.html", error=InternalServerError(description="; ".join(m for ms in error.errors.values() for m in ms))), 422


def handle_conflict(error: Conflict):
    db.session.rollback()
    if wants_json():
        return _json_error(409, error.message)
    return render_template("errors/conflict.html", message=error.message), 409


def handle_stale(error: StaleDataError):
    db.session.rollback()
    return handle_conflict(Conflict("Someone else changed this record at the same time. Nothing of yours was saved over theirs: reload and try again."))


def handle_not_allowed(error: NotAllowed):
    db.session.rollback()
    if wants_json():
        return _json_error(403, str(error) or "You are not allowed to do this.")
    return render_template("errors/403.html", error=error), 403


def handle_unexpected(error: Exception):
    log.exception("Unhandled error", exc_info=error)
    db.session.rollback()
    if wants_json():
        return _json_error(500, "Something went wrong. It has been logged.")
    return render_template("errors/500.html"), 500


def register(app: Flask) -> None:
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(InvalidInput, handle_invalid_input)
    app.register_error_handler(Conflict, handle_conflict)
    app.register_error_handler(StaleDataError, handle_stale)
    app.register_error_handler(NotAllowed, handle_not_allowed)
    if not app.config.get("PROPAGATE_EXCEPTIONS") and not app.testing:
        app.register_error_handler(Exception, handle_unexpected)
