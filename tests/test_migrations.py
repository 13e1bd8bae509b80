"""Migrations run on a database that already holds data, as a council's will."""

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from qa_audit.extensions import db
from tests.conftest import _make_app, dispose


def test_sqlite_upgrade_from_the_first_revision_keeps_data(tmp_path):
    """SQLite batch mode rebuilds tables: referenced rows must survive. (On
    PostgreSQL the whole suite's schema is built by these same migrations.)"""
    app = _make_app(f"sqlite:///{tmp_path / 'migrate.sqlite'}")
    with app.app_context():
        upgrade(revision="ab44cbb2c540")
        with db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO users (id, email, name, role, active, password_hash, failed_logins, created_at, login_id, version) "
                "VALUES (1, 'a@example.gov.uk', 'A', 'admin', 1, 'x', 0, '2026-01-01 00:00:00', 'abc', 1)"
            ))
            connection.execute(text(
                "INSERT INTO history (at, user_id, entity, entity_id, event, changes) VALUES ('2026-01-01 00:00:00', 1, 'user', 1, 'create', '{}')"
            ))
        upgrade()
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM history WHERE user_id = 1")).scalar() == 1
            assert connection.execute(text("SELECT email FROM users")).scalar() == "a@example.gov.uk"
        downgrade(revision="base")
        upgrade()
    dispose(app)
