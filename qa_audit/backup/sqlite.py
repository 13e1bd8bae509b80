"""SQLite: a consistent copy through the online backup API, and copying one back."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any, Callable

from qa_audit.backup import common
from qa_audit.backup.common import BackupError, Snapshot, plural, quote
from qa_audit.extensions import db


def _give_up_after(seconds: int, doing: str) -> Callable[[int, int, int], None]:
    """A progress callback for sqlite3's backup: it retries for ever while another
    connection holds a lock; this stops it, with a message, after ``seconds``."""
    deadline = time.monotonic() + seconds

    def progress(status: int, remaining: int, total: int) -> None:
        if status in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) and time.monotonic() > deadline:
            raise BackupError(
                f"The database was busy for {plural(seconds, 'second')}, so it could not be {doing}. "
                "Stop the app (and anything else using the database) and try again."
            )

    return progress


def database_path() -> Path:
    database = db.engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError("Backups need a SQLite database in a file; this app's database is not one.")
    return Path(database)


def snapshot(out: Path) -> Snapshot:
    path = database_path()
    if not path.is_file():
        raise BackupError(f"There is no database at {path}.")
    source = sqlite3.connect(path, timeout=common.LOCK_TIMEOUT_SECONDS)
    target = sqlite3.connect(out)
    try:
        try:
            # One step (pages=-1): one read transaction, so one consistent snapshot,
            # while the app's connections go on writing to the WAL.
            source.backup(target, pages=-1, progress=_give_up_after(common.LOCK_TIMEOUT_SECONDS, "read"))
            target.execute("PRAGMA journal_mode=DELETE")  # the copy stands alone, without a -wal file
        except sqlite3.Error as error:
            raise BackupError(f"The database could not be copied: {error}.") from None
        finally:
            source.close()
        revision, tables, keys = facts(target, "The database")
        version = sqlite3.sqlite_version
    finally:
        target.close()
    return Snapshot("sqlite", out, revision, tables, keys, version)


def facts(connection: sqlite3.Connection, what: str) -> tuple[str, dict[str, int], list[str]]:
    """The migration, the rows in each table and the evidence files' keys of a SQLite file."""
    try:
        check = connection.execute("PRAGMA quick_check").fetchall()
        if check != [("ok",)]:
            raise BackupError(f"{what} is damaged (SQLite's quick_check says: {'; '.join(str(row[0]) for row in check[:5])}).")
        names = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        tables = {name: connection.execute(f"SELECT count(*) FROM {quote(name)}").fetchone()[0] for name in names}  # nosec B608: quote() admits only [A-Za-z_][A-Za-z0-9_]* names read from sqlite_master
        if "alembic_version" not in tables:
            raise BackupError(f"{what} has not been set up (it has no alembic_version table): there is nothing to back up.")
        revision = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        keys = [row[0] for row in connection.execute("SELECT storage_key FROM evidence_files")] if "evidence_files" in tables else []
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{what} cannot be read as a SQLite database: {error}.") from None
    if revision is None:
        raise BackupError(f"{what} has no migration revision in alembic_version.")
    return revision[0], tables, keys


def restore(snapshot: Path, manifest: dict[str, Any]) -> None:
    """Check the copy (readable, the migration and the rows the manifest says), then
    copy it over the app's database with the backup API: one step, so all or nothing."""
    source = sqlite3.connect(snapshot)
    try:
        revision, tables, _ = facts(source, "The backup's database")
        if revision != manifest["alembic_revision"] or tables != manifest["tables"]:
            raise BackupError("The backup's database does not hold what its manifest says (migration or rows differ). Nothing was restored.")
        path = database_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        target = sqlite3.connect(path, timeout=common.LOCK_TIMEOUT_SECONDS)
        try:
            source.backup(target, pages=-1, progress=_give_up_after(common.LOCK_TIMEOUT_SECONDS, "replaced"))
        except sqlite3.Error as error:
            raise BackupError(f"The database could not be replaced ({error}); it was left as it was. Nothing was restored.") from None
        finally:
            target.close()
    finally:
        source.close()
