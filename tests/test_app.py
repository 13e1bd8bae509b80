import re

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text

from qa_audit import create_app
from qa_audit.auth.models import ApiToken, Role, User
from qa_audit.extensions import db


def test_security_headers(client):
    response = client.get("/sign-in")
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    page = response.get_data(as_text=True)
    for script in re.findall(r"<script[^>]*>", page):
        assert f'nonce="{nonce}"' in script
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"


def test_hsts_over_https(client):
    response = client.get("/sign-in", base_url="https://localhost")
    assert "max-age=" in response.headers["Strict-Transport-Security"]


def test_proxy_fix_makes_forwarded_https_secure(database_url):
    from tests.conftest import _make_app, dispose

    app = _make_app(database_url, PROXY_FIX=1)
    response = app.test_client().get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" in response.headers
    dispose(app)


def test_assets_are_served_locally(client):
    page = client.get("/sign-in").get_data(as_text=True)
    assert '/assets/govuk-frontend.min.css' in page
    assert '/assets/app.js' in page
    with client.get("/assets/app.js") as response:
        script = response.get_data(as_text=True)
    assert "from './govuk-frontend.min.js'" in script and "initAll()" in script
    with client.get("/assets/govuk-frontend.min.js") as response:
        assert response.status_code == 200
    assert "http://" not in re.sub(r'xmlns="http://www.w3.org/2000/svg"', "", page).replace("http://www.w3.org", "")


def test_404_is_a_govuk_page(login_as):
    response = login_as("viewer").get("/no-such-page")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)
    assert 'class="govuk-template' in response.get_data(as_text=True)


def test_500_is_a_govuk_page_and_json_under_api(database_url):
    from tests.conftest import _make_app, dispose

    app = _make_app(database_url, TESTING=False, PROPAGATE_EXCEPTIONS=False)
    dispose(app)
    from qa_audit.main.errors import handle_unexpected

    with app.test_request_context("/anything"):
        body, status = handle_unexpected(RuntimeError("boom"))
        assert status == 500 and "Sorry, there is a problem with the service" in body
    with app.test_request_context("/api/v1/me"):
        response = handle_unexpected(RuntimeError("boom"))
        assert response.status_code == 500 and response.json["message"]


def test_production_refuses_to_start_without_secret_key(monkeypatch):
    from qa_audit.config import ProductionConfig

    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("FLASK_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(ProductionConfig)


def test_secret_key_and_database_from_environment(monkeypatch, tmp_path):
    from qa_audit.config import ProductionConfig

    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@db.example/qa")
    monkeypatch.setenv("FLASK_SESSION_COOKIE_SECURE", "false")
    app = create_app(ProductionConfig)
    assert app.config["SECRET_KEY"] == "from-the-environment"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db.example/qa"
    assert app.config["SESSION_COOKIE_SECURE"] is False


def test_database_connection_settings(app):
    if db.engine.dialect.name == "postgresql":
        assert db.engine.dialect.driver == "psycopg"
        return
    with db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() >= 1000


def test_models_and_migrations_agree(app):
    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), db.metadata)
    assert diff == []


def test_navigation_by_role(login_as):
    admin = login_as("admin").get("/").get_data(as_text=True)
    assert 'href="/admin/users"' in admin and 'href="/admin/services"' in admin
    qa_lead = login_as("qa_lead").get("/").get_data(as_text=True)
    assert 'href="/admin/users"' not in qa_lead and 'href="/admin/services"' in qa_lead
    viewer = login_as("viewer").get("/").get_data(as_text=True)
    assert 'href="/admin/services"' not in viewer and "Sign out" in viewer


def test_cli_users_create_and_tokens_create(app, runner, client):
    result = runner.invoke(
        args=["users", "create", "Ruth.Ellison@example.gov.uk", "--name", "Ruth Ellison", "--role", "viewer", "--password", "a-very-long-passphrase"]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "ruth.ellison@example.gov.uk"))
    assert user.role is Role.VIEWER
    result = runner.invoke(args=["tokens", "create", "ruth.ellison@example.gov.uk"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    stored = db.session.scalars(select(ApiToken)).one()
    assert token not in stored.token_hash
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json["email"] == user.email


def test_cli_refuses_bad_input(runner):
    result = runner.invoke(args=["users", "create", "x@example.gov.uk", "--name", "X", "--role", "viewer", "--password", "short"])
    assert result.exit_code == 1 and "12 characters" in result.output
    result = runner.invoke(args=["tokens", "create", "nobody@example.gov.uk"])
    assert result.exit_code == 1


def test_demo_load_is_idempotent(app, runner, tmp_path):
    app.config["MAIL_OUTBOX"] = str(tmp_path)  # the demo's concern alerts are emailed
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    counts = {model: db.session.scalar(select(db.func.count()).select_from(model)) for model in (User,)}
    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0
    assert "0 users" in second.output
    assert {model: db.session.scalar(select(db.func.count()).select_from(model)) for model in (User,)} == counts
    roles = set(db.session.scalars(select(User.role)))
    assert roles == set(Role)
    from qa_audit.audits.models import Audit, AuditType

    audits = db.session.scalars(select(Audit)).all()
    assert {a.type for a in audits} == set(AuditType)
    assert "0 audits" in second.output
    follow_up = [a for a in audits if a.follow_up_of_id]
    assert follow_up and follow_up[0].children
    assert "qa.lead@demo.qa-audit.test" in first.output


def test_tokens_page_creates_shows_once_and_revokes(login_as, client):
    user_client = login_as("auditor")
    page = user_client.post_form("/account/tokens", {"name": "Power BI"}).get_data(as_text=True)
    token = re.search(r'id="new-token">([^<]+)<', page).group(1)
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    listing = user_client.get("/account/tokens").get_data(as_text=True)
    assert token not in listing and "Power BI" in listing
    stored = db.session.scalars(select(ApiToken)).one()
    user_client.post_form(f"/account/tokens/{stored.id}/revoke")
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_cannot_revoke_someone_elses_token(login_as, api_as):
    api_as("auditor")
    stored = db.session.scalars(select(ApiToken)).one()
    assert login_as("qa_lead").post_form(f"/account/tokens/{stored.id}/revoke").status_code == 403


def test_empty_token_name(login_as):
    page = login_as("auditor").post_form("/account/tokens", {"name": ""}).get_data(as_text=True)
    assert "Enter a name for the token" in page


def test_ids_too_big_for_the_database_are_404(login_as):
    client = login_as("admin")
    for url in ["/admin/users/99999999999999999999", "/admin/services/3000000000", "/question-sets/99999999999999999999", "/history/audit/3000000000"]:
        assert client.get(url).status_code == 404, url


def test_control_characters_in_a_form_are_refused_not_stored(client, login_as):
    response = client.post_form("/sign-in", {"email": "a\x00b@example.gov.uk", "password": "whatever-password"})
    assert response.status_code == 400
    assert "hidden control characters" in response.get_data(as_text=True)
    admin = login_as("admin")
    response = admin.post_form("/admin/services/new", {"name": "MASH\x00"})
    assert response.status_code == 400
    response = admin.post_form("/admin/services/new", {"name": "MASH\x07"})
    assert "Name must not contain control characters" in response.get_data(as_text=True)
    from qa_audit.admin.models import Service

    assert db.session.scalars(select(Service)).all() == []


def test_sign_out_makes_a_copied_session_cookie_worthless(app, login_as):
    client = login_as("admin")
    cookie = client.get_cookie("qa_audit_session").value
    client.post_form("/sign-out")
    thief = app.test_client()
    thief.set_cookie("qa_audit_session", cookie)
    assert thief.get("/admin/users").status_code == 302


def test_stale_user_edit_is_a_conflict(login_as, make_user):
    admin = login_as("admin")
    user = make_user("viewer")
    version = str(user.version)
    assert admin.post_form(f"/admin/users/{user.id}", {"name": "First", "role": "viewer", "version": version}).status_code == 302
    response = admin.post_form(f"/admin/users/{user.id}", {"name": "Second", "role": "auditor", "version": version})
    assert response.status_code == 409 and 'value="Second"' in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.name == "First" and user.role is Role.VIEWER


def test_openapi_declares_bearer_auth(client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert spec["security"] == [{"bearerAuth": []}]


def test_the_wsgi_entry_point_tunes_garbage_collection(tmp_path):
    """gunicorn's app collects garbage less often and keeps start-up's objects out of
    full collections (pauses of ~70 ms on some requests otherwise; README, Benchmark).
    Checked in a process of its own: the setting is process-wide."""
    import subprocess
    import sys
    from pathlib import Path

    from qa_audit import GC_YOUNG_THRESHOLD

    root = Path(__file__).resolve().parent.parent
    script = "import gc, wsgi; print(gc.get_threshold()[0], gc.get_freeze_count() > 10000)"
    env = {
        "PATH": "/usr/bin:/bin",
        "SECRET_KEY": "a-test-only-secret-key-that-is-long-enough",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'wsgi.sqlite'}",
    }
    finished = subprocess.run([sys.executable, "-c", script], cwd=root, env=env, capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert finished.stdout.split() == [str(GC_YOUNG_THRESHOLD), "True"]
