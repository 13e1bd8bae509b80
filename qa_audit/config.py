"""Configuration classes.

Settings come, in order, from the class, the instance folder's ``config.py`` and the
environment (``DATABASE_URL``, ``SECRET_KEY`` and anything prefixed ``FLASK_``).
"""

from __future__ import annotations

import os
from datetime import timedelta


def normalise_database_url(url: str) -> str:
    """Let IT paste the URL their host gives them: psycopg 3 needs its own dialect name."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class Config:
    ENV_NAME = "production"
    SECRET_KEY: str | None = None
    SQLALCHEMY_DATABASE_URI: str | None = None  # set in create_app from DATABASE_URL
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SQLITE_BUSY_TIMEOUT_MS = 5000

    # Sessions: secure cookies, rotated at sign-in, ended after 30 idle minutes.
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_NAME = "qa_audit_session"
    REMEMBER_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    IDLE_TIMEOUT = timedelta(minutes=30)
    PERMANENT_SESSION_LIFETIME = timedelta(minutes=30)

    WTF_CSRF_TIME_LIMIT = None  # the CSRF token lives as long as the session

    # Sign-in throttling (API.md): 5 failures per account or address in 15 minutes,
    # then 429 for 15 minutes; 10 consecutive failures lock the account.
    LOGIN_WINDOW = timedelta(minutes=15)
    LOGIN_MAX_FAILURES_IN_WINDOW = 5
    LOGIN_LOCK_AFTER = 10

    # Flask-Limiter: memory per process unless Redis is configured
    # (RATELIMIT_STORAGE_URI=redis://...); sign-in counters live in the database.
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    API_RATE_LIMIT = "1200 per minute"
    LOGIN_RATE_LIMIT = "30 per minute"

    # flask-smorest
    API_TITLE = "qa_audit"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"

    # Number of reverse proxies in front of the app whose X-Forwarded-* headers
    # are trusted (0: none). Set FLASK_PROXY_FIX=1 behind nginx.
    PROXY_FIX = 0

    # Email: SMTP when MAIL_SERVER is set; otherwise messages are written to
    # MAIL_OUTBOX (default instance/outbox/) and not sent.
    MAIL_SERVER: str | None = None
    MAIL_PORT = 587
    MAIL_USE_TLS = True
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_FROM = "qa-audit@localhost"
    MAIL_OUTBOX: str | None = None
    # Where people reach the application: links in emails sent outside a request
    # (the reminders command) start with this. Set FLASK_APP_BASE_URL in production.
    APP_BASE_URL = "http://localhost:5000"

    SERVICE_NAME = "Quality assurance audits"
    COUNCIL_NAME = "Demo City Council"
    CASE_REFERENCE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9/-]{2,31}$"
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024

    # Evidence files on findings are kept outside the web root, each under a random
    # name: in EVIDENCE_FOLDER, or instance/evidence/ when it is not set. Back the
    # folder up with the database. Each file may be up to EVIDENCE_MAX_BYTES (and
    # the whole request up to MAX_CONTENT_LENGTH).
    EVIDENCE_FOLDER: str | None = None
    EVIDENCE_MAX_BYTES = 10 * 1024 * 1024


class ProductionConfig(Config):
    pass


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False


class TestConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "test-secret-key-not-for-production"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    RATELIMIT_ENABLED = True
    # Password hashing is deliberately slow; tests sign in hundreds of times.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"


CONFIGS = {
    "production": ProductionConfig,
    "development": DevelopmentConfig,
    "testing": TestConfig,
}


def config_from_environment() -> type[Config]:
    return CONFIGS.get(os.environ.get("QA_AUDIT_CONFIG", "production"), ProductionConfig)
