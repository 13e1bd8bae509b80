"""qa_audit: quality-assurance audits, findings, actions and improvement plans."""

from __future__ import annotations

import gc
import os
import secrets
import sqlite3
from pathlib import Path
from typing import Any

import re

from flask import Flask, abort, current_app, render_template, request, session
from flask_login import current_user, logout_user
from govuk_frontend_wtf.main import WTFormsHelpers
from werkzeug.middleware.proxy_fix import ProxyFix
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader
from sqlalchemy import event
from sqlalchemy.engine import Engine

from qa_audit.config import Config, config_from_environment, normalise_database_url
from qa_audit.extensions import csrf, db, limiter, login_manager, migrate, talisman
from qa_audit.types import sqlite_unicode_lower, utcnow
from qa_audit.validation import MAX_ID

ROOT = Path(__file__).resolve().parent.parent
_NUL = re.compile("\x00")

CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """WAL lets readers and a writer work at once; SQLite leaves foreign keys off by
    default; unicode_lower is qa_audit.types'."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(os.environ.get('SQLITE_BUSY_TIMEOUT_MS', 5000))}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        dbapi_connection.create_function("unicode_lower", 1, sqlite_unicode_lower, deterministic=True)


def _load_config(app: Flask, config: type[Config] | dict[str, Any] | None) -> None:
    base = config if isinstance(config, type) else config_from_environment()
    app.config.from_object(base)
    app.config.from_pyfile("config.py", silent=True)
    if os.environ.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
    if os.environ.get("DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    app.config.from_prefixed_env()
    if isinstance(config, dict):
        app.config.update(config)

    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{Path(app.instance_path) / 'qa_audit.sqlite'}"
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(app.config["SQLALCHEMY_DATABASE_URI"])

    if not app.config.get("SECRET_KEY"):
        if app.config["ENV_NAME"] == "production":
            raise RuntimeError(
                "SECRET_KEY is not set. Set the SECRET_KEY environment variable "
                "(or SECRET_KEY in instance/config.py) to a long random value."
            )
        # Development: a key kept in instance/ so sessions survive restarts.
        key_file = Path(app.instance_path) / "dev_secret_key"
        if not key_file.exists():
            key_file.write_text(secrets.token_hex(32))
        app.config["SECRET_KEY"] = key_file.read_text().strip()


def create_app(config: type[Config] | dict[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder="static",
        static_url_path="/assets",
        instance_path=str(ROOT / "instance"),
        instance_relative_config=True,
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    _load_config(app, config)

    app.jinja_loader = ChoiceLoader(
        [
            app.jinja_loader,
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    from qa_audit.history import tracking

    tracking.install()
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = None
    login_manager.session_protection = "strong"
    talisman.init_app(
        app,
        force_https=False,  # TLS ends at the proxy; HSTS is still sent over HTTPS
        content_security_policy=CSP,
        content_security_policy_nonce_in=["script-src"],
        frame_options="DENY",
        referrer_policy="strict-origin-when-cross-origin",
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        session_cookie_http_only=True,
        strict_transport_security=True,
        permissions_policy={"geolocation": "()", "camera": "()", "microphone": "()"},
    )
    # The CSRF and rate-limit checks, hooked in before Talisman, can end a request with
    # a page of their own: make the CSP nonce first, or that page's scripts are blocked.
    before = app.before_request_funcs.setdefault(None, [])
    before.insert(0, before.pop(before.index(talisman._make_nonce)))

    if app.config.get("PROXY_FIX"):
        # Behind a TLS proxy: trust its X-Forwarded-* headers for this many hops,
        # so request.is_secure (and so HSTS) and client addresses are right.
        hops = int(app.config["PROXY_FIX"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    WTFormsHelpers(app)
    _register_models()
    _register_blueprints(app)
    _register_request_hooks(app)
    _register_template_helpers(app)

    from qa_audit import cli

    cli.register(app)
    return app


# A young collection after this many new objects (CPython's default is 700), an older
# one after this many young ones (default 10). Measured at scales 1 and 10: 20,000 made
# the young collections themselves a bump on the p95; 5,000 does not.
GC_YOUNG_THRESHOLD = 5_000


def tune_garbage_collection() -> None:
    """For a serving process (wsgi.py; the benchmark does the same). A page makes tens
    of thousands of short-lived objects; with CPython's defaults that means a young
    collection every 700 of them, and every so often a full one that walks the app's
    150,000 long-lived objects too: a pause of about 70 ms on some requests at council
    scale. Collect less often, and keep what start-up made out of the full collections
    (gc.freeze). Not in create_app: it is process-wide, and tests make many apps."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, 10, 10)


def _register_models() -> None:
    # Import every model so that metadata (and so migrations) knows them all.
    from qa_audit.actions import models as _actions  # noqa: F401
    from qa_audit.admin import models as _admin  # noqa: F401
    from qa_audit.audits import models as _audits  # noqa: F401
    from qa_audit.findings import models as _findings  # noqa: F401
    from qa_audit.recording import models as _recording  # noqa: F401
    from qa_audit.auth import models as _auth  # noqa: F401
    from qa_audit.history import models as _history  # noqa: F401
    from qa_audit.plans import models as _plans  # noqa: F401


def _register_blueprints(app: Flask) -> None:
    from qa_audit import admin, audits, auth, findings, history, main, recording
    from qa_audit.admin import views as _admin_views  # noqa: F401  (routes register on import)
    from qa_audit.audits import programme_views as _programme_views  # noqa: F401
    from qa_audit.audits import question_set_views as _question_set_views  # noqa: F401
    from qa_audit.audits import views as _audit_views  # noqa: F401
    from qa_audit.auth import views as _auth_views  # noqa: F401
    from qa_audit.findings import views as _finding_views  # noqa: F401
    from qa_audit.recording import details_views as _details_views  # noqa: F401
    from qa_audit.recording import views as _recording_views  # noqa: F401
    from qa_audit.history import views as _history_views  # noqa: F401
    from qa_audit.main import views as _main_views  # noqa: F401
    from qa_audit.plans import views as _plan_views  # noqa: F401
    from qa_audit.plans import import_views as _plan_import_views  # noqa: F401
    from qa_audit.actions import calendar as _action_calendar  # noqa: F401  (action deadlines in the calendar feed)
    from qa_audit import actions, plans
    from qa_audit.actions import follow_up_views as _follow_up_views  # noqa: F401
    from qa_audit.actions import list_views as _action_list_views  # noqa: F401
    from qa_audit.actions import views as _action_views  # noqa: F401
    from qa_audit.reports import views as _report_views
    from qa_audit.api import api
    from qa_audit.api import bp as api_bp
    from qa_audit.main import errors

    app.register_blueprint(main.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(audits.bp)
    app.register_blueprint(recording.bp)
    app.register_blueprint(findings.bp)
    app.register_blueprint(history.bp)
    app.register_blueprint(actions.bp)
    app.register_blueprint(plans.bp)
    app.register_blueprint(_report_views.bp)

    api.init_app(app, spec_kwargs={"security": [{"bearerAuth": []}]})
    if "bearerAuth" not in api.spec.components.security_schemes:
        api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    api.register_blueprint(api_bp)
    csrf.exempt(api_bp)
    if not getattr(api_bp, "rate_limited", False):
        # The limiter and the blueprint live as long as the process: limit the blueprint
        # once, not once per app made (the tests make hundreds, and each extra limit
        # counted every request again), reading the limit from the app serving it.
        # Shared: one count per token across the whole API, not one per endpoint.
        limiter.shared_limit(
            lambda: current_app.config["API_RATE_LIMIT"],
            scope="api",
            key_func=_api_rate_key,
        )(api_bp)
        api_bp.rate_limited = True
    errors.register(app)


def _api_rate_key() -> str:
    """Per token (hashed, as parsed: spacing or case of "Bearer" must not reset the
    count), so one integration cannot starve the others."""
    from qa_audit.auth.models import hash_token

    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return "token:" + hash_token(token.strip())
    return "address:" + (request.remote_addr or "")


def _register_request_hooks(app: Flask) -> None:
    from qa_audit.auth.models import User
    from qa_audit.auth.permissions import is_public

    @login_manager.user_loader
    def load_user(login_id: str):
        return db.session.scalar(db.select(User).where(User.login_id == login_id, User.active.is_(True)))

    @app.url_value_preprocessor
    def no_such_id(endpoint, values):
        """An id in a URL too big for the database's integer is no record: 404,
        never a database overflow error."""
        if values and any(isinstance(v, int) and v > MAX_ID for v in values.values()):
            abort(404)

    @app.before_request
    def refuse_control_characters():
        """A NUL character cannot be stored by PostgreSQL: refuse the whole form with
        a clear page rather than fail while saving it. (Other control characters are
        refused at their field by the services' text checks.)"""
        if request.method == "POST" and request.blueprint != "api" and request.form:
            for values in request.form.listvalues():
                if any(_NUL.search(value) for value in values):
                    return render_template("errors/control_characters.html"), 400
        return None

    @app.before_request
    def require_sign_in():
        """Every page needs a signed-in user unless its view is marked public;
        a new route is protected even if its author forgets."""
        if request.endpoint is None or request.blueprint == "api":
            return None  # 404s, and the API authenticates with tokens
        if is_public(request.endpoint, app.view_functions.get(request.endpoint)):
            return None
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        last_seen = session.get("last_seen")
        now = utcnow().timestamp()
        if last_seen and now - last_seen > app.config["IDLE_TIMEOUT"].total_seconds():
            logout_user()
            session.clear()
            return login_manager.unauthorized()
        session["last_seen"] = now
        return None

    @app.after_request
    def no_store(response):
        """Pages hold sensitive information: browsers and proxies must not keep copies."""
        if request.endpoint != "static":
            response.headers.setdefault("Cache-Control", "no-store")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response


def _register_template_helpers(app: Flask) -> None:
    from qa_audit.auth.models import Role
    from qa_audit.auth.permissions import TEMPLATE_CHECKS
    from qa_audit.navigation import navigation_for

    @app.context_processor
    def inject():
        checks = {name: (lambda f=f: f(current_user)) for name, f in TEMPLATE_CHECKS.items()}
        return {
            "service_name": app.config["SERVICE_NAME"],
            "council_name": app.config["COUNCIL_NAME"],
            "can": checks,
            "Role": Role,
            "navigation": navigation_for(current_user, request.endpoint),
        }

    @app.template_filter("datetime")
    def format_datetime(value):
        if value is None:
            return ""
        from zoneinfo import ZoneInfo

        local = value.astimezone(ZoneInfo("Europe/London"))
        return local.strftime("%-d %B %Y at %-I:%M%p").replace("AM", "am").replace("PM", "pm")

    @app.template_filter("date")
    def format_date(value):
        return value.strftime("%-d %B %Y") if value else ""
