"""What the backup modules share: the archive's names, the errors, small helpers."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy import text

from qa_audit.extensions import db
from qa_audit.findings import evidence

FORMAT = "qa_audit backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DATABASE_MEMBERS = {"sqlite": "database.sqlite", "postgresql": "database.dump"}
KIND_LABELS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
EVIDENCE_DIR = "evidence"
SUFFIXES = (".tar.gz", ".tgz")
# How long to wait for other connections to let go of the database when restoring.
LOCK_TIMEOUT_SECONDS = 30
MANIFEST_MAX_BYTES = 10 * 1024 * 1024
CHUNK = 1024 * 1024

KEY = evidence.KEY  # evidence files are named by their storage key
MEMBER = re.compile(r"manifest\.json|database\.sqlite|database\.dump|evidence/[0-9a-f]{64}")
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")  # a table or schema we are willing to quote
REVISION = re.compile(r"[0-9A-Za-z_]{1,64}")
SHA256 = re.compile(r"[0-9a-f]{64}")


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


@dataclass
class Snapshot:
    """The database as copied: the file, and what was counted in the same snapshot."""

    kind: str
    file: Path
    revision: str
    tables: dict[str, int]
    storage_keys: list[str]
    database_version: str
    schema: str | None = None


@dataclass
class BackupResult:
    path: Path
    manifest: dict[str, Any]
    size: int
    sha256: str
    not_listed: int  # files in the evidence folder that the database does not list

    @property
    def missing(self) -> list[str]:
        return self.manifest["evidence"]["missing"]


@dataclass
class RestoreResult:
    path: Path
    manifest: dict[str, Any]
    evidence_folder: Path
    evidence_before: int
    revision_now: str
    dropped_tables: list[str] = field(default_factory=list)


# Small helpers -------------------------------------------------------------------------


def size_label(size: int) -> str:
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"


def plural(count: int, word: str, words: str | None = None) -> str:
    return f"{count:,} {word if count == 1 else (words or word + 's')}"


def database_kind() -> str:
    name = db.engine.url.get_backend_name()
    if name not in DATABASE_MEMBERS:
        raise BackupError(f"Backups work with SQLite and PostgreSQL; this app's database is {name}.")
    return name


def app_version() -> str:
    try:
        return metadata.version("qa_audit")
    except metadata.PackageNotFoundError:
        return "unknown"


def evidence_folder() -> Path:
    return evidence.evidence_folder()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def quote(name: str) -> str:
    if not NAME.fullmatch(name):
        raise BackupError(f"The database has a table named {name!r}, which backups do not handle.")
    return f'"{name}"'


def release_connections() -> None:
    """End this process's sessions and pooled connections, so none holds a lock or a
    stale view of a database about to be replaced."""
    db.session.remove()
    for engine in db.engines.values():
        engine.dispose()


def known_revisions() -> tuple[set[str], str | None]:
    """The migrations this code has, and the newest."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(current_app.extensions["migrate"].directory))
    script = ScriptDirectory.from_config(config)
    return {revision.revision for revision in script.walk_revisions()}, script.get_current_head()


def current_revision() -> str | None:
    with db.engine.connect() as connection:
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
