"""The archive: writing one (backup) and reading, checking and restoring one."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
import zlib
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO

from flask import current_app
from flask_migrate import upgrade

from qa_audit.backup import postgres, sqlite
from qa_audit.backup.common import (
    CHUNK,
    DATABASE_MEMBERS,
    EVIDENCE_DIR,
    FORMAT,
    FORMAT_VERSION,
    KEY,
    KIND_LABELS,
    MANIFEST,
    MANIFEST_MAX_BYTES,
    MEMBER,
    NAME,
    REVISION,
    SHA256,
    SUFFIXES,
    BackupError,
    BackupResult,
    RestoreResult,
    Snapshot,
    app_version,
    current_revision,
    database_kind,
    evidence_folder,
    known_revisions,
    release_connections,
    sha256_of,
    size_label,
)

# Backing up ------------------------------------------------------------------------------


def archive_path(destination: str | Path, now: datetime) -> Path:
    """Where the archive goes: into a folder under a dated name, or the file named."""
    destination = Path(destination).expanduser()
    if destination.is_dir():
        return destination / f"qa_audit-{now:%Y-%m-%dT%H%M%SZ}.tar.gz"
    if not destination.name.endswith(SUFFIXES):
        if destination.suffix == "":
            raise BackupError(f"There is no folder {destination}. Give a folder that exists, or a file name ending in .tar.gz.")
        raise BackupError(f"Give a folder to write the backup into, or a file name ending in .tar.gz (not {destination.name}).")
    if destination.exists():
        raise BackupError(f"{destination} already exists. Give a new file name, or a folder (each backup then gets a dated name).")
    if not destination.parent.is_dir():
        raise BackupError(f"There is no folder {destination.parent}. Create it first, readable only by the user that runs the backups.")
    return destination


def backup(destination: str | Path, *, now: datetime | None = None) -> BackupResult:
    """Write a backup archive of the database and the evidence files it lists. The
    archive is written beside its destination under a temporary name, and renamed
    when complete: a backup that fails half way leaves nothing that looks whole."""
    kind = database_kind()
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).replace(microsecond=0)
    target = archive_path(destination, now)
    folder = evidence_folder()
    try:
        work_dir = tempfile.TemporaryDirectory(dir=target.parent, prefix=".qa_audit-backup-")
    except OSError as error:
        raise BackupError(f"Cannot write in {target.parent}: {error.strerror or error}.") from None
    with work_dir as work_name:
        work = Path(work_name)
        member = DATABASE_MEMBERS[kind]
        snapshot = sqlite.snapshot(work / member) if kind == "sqlite" else postgres.snapshot(work / member)
        partial = work / "archive.tar.gz"
        try:
            manifest = _write_archive(partial, snapshot, folder, now)
            size = partial.stat().st_size
            digest = sha256_of(partial)
            os.replace(partial, target)
        except OSError as error:
            raise BackupError(f"The backup could not be written to {target}: {error.strerror or error}.") from None
    listed = set(snapshot.storage_keys)
    not_listed = sum(1 for path in folder.iterdir() if KEY.fullmatch(path.name) and path.name not in listed) if folder.is_dir() else 0
    return BackupResult(path=target, manifest=manifest, size=size, sha256=digest, not_listed=not_listed)


def _write_archive(path: Path, snapshot: Snapshot, folder: Path, now: datetime) -> dict[str, Any]:
    """The database, the evidence files it lists (each hashed as it is read) and last
    the manifest; readable only by its owner, and on disk before it is renamed."""
    mtime = int(now.timestamp())
    members: dict[str, dict[str, Any]] = {}
    missing: list[str] = []
    evidence_bytes = 0
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as handle:
        with tarfile.open(fileobj=handle, mode="w:gz", compresslevel=6) as archive:
            database = DATABASE_MEMBERS[snapshot.kind]
            with open(snapshot.file, "rb") as stream:
                members[database] = _add(archive, database, stream, os.fstat(stream.fileno()).st_size, mtime)
            for key in sorted(set(snapshot.storage_keys)):
                try:
                    if not KEY.fullmatch(key or ""):
                        raise FileNotFoundError(key)
                    stream = open(folder / key, "rb")
                except FileNotFoundError:
                    missing.append(key)  # already lost, or removed since the snapshot
                    continue
                with stream:
                    size = os.fstat(stream.fileno()).st_size
                    members[f"{EVIDENCE_DIR}/{key}"] = _add(archive, f"{EVIDENCE_DIR}/{key}", stream, size, mtime)
                evidence_bytes += size
            manifest = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "app_version": app_version(),
                "created_at": now.isoformat().replace("+00:00", "Z"),
                "database": snapshot.kind,
                "database_version": snapshot.database_version,
                "alembic_revision": snapshot.revision,
                "tables": snapshot.tables,
                "evidence": {"files": len(members) - 1, "bytes": evidence_bytes, "missing": missing},
                "members": members,
            }
            if snapshot.schema is not None:
                manifest["schema"] = snapshot.schema
            data = json.dumps(manifest, indent=2, sort_keys=True).encode()
            archive.addfile(_info(MANIFEST, len(data), mtime), io.BytesIO(data))
        handle.flush()
        os.fsync(handle.fileno())
    return manifest


def _info(name: str, size: int, mtime: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = mtime
    info.mode = 0o600
    info.type = tarfile.REGTYPE
    return info


class _HashingReader:
    """Reads a file for the archive and hashes what it reads, so each file is read once."""

    def __init__(self, stream: BinaryIO):
        self.stream = stream
        self.digest = hashlib.sha256()
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self.stream.read(size)
        self.digest.update(chunk)
        self.count += len(chunk)
        return chunk


def _add(archive: tarfile.TarFile, name: str, stream: BinaryIO, size: int, mtime: int) -> dict[str, Any]:
    reader = _HashingReader(stream)
    archive.addfile(_info(name, size, mtime), reader)
    return {"sha256": reader.digest.hexdigest(), "bytes": reader.count}


# Restoring ----------------------------------------------------------------------------


def restore(source: str | Path) -> RestoreResult:
    """Replace the database and the evidence files with a backup's, then migrate.
    Everything is checked first; a check that fails changes nothing."""
    source = Path(source).expanduser()
    if not source.is_file():
        raise BackupError(f"There is no backup file at {source}.")
    kind = database_kind()
    folder = evidence_folder()
    instance = Path(current_app.instance_path)
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        work_dir = tempfile.TemporaryDirectory(dir=instance, prefix=".qa_audit-restore-")
        staged = Path(tempfile.mkdtemp(dir=folder, prefix=".restoring-"))
    except OSError as error:
        raise BackupError(f"Cannot prepare the restore: {error.strerror or error} ({getattr(error, 'filename', '')}).") from None
    try:
        with work_dir as work_name:
            work = Path(work_name)
            manifest = _unpack(source, work, staged)
            _check_manifest(manifest, kind, source)
            database_file = work / DATABASE_MEMBERS[kind]
            release_connections()
            dropped: list[str] = []
            if kind == "sqlite":
                sqlite.restore(database_file, manifest)
            else:
                dropped = postgres.restore(database_file, manifest)
            try:
                before = _replace_evidence(staged, folder)
            except OSError as error:
                raise BackupError(
                    f"The database was restored, but the evidence files could not all be put in {folder}: {error.strerror or error}. "
                    "Fix that and run the restore again."
                ) from None
    finally:
        shutil.rmtree(staged, ignore_errors=True)
    release_connections()
    upgrade()
    release_connections()
    return RestoreResult(
        path=source,
        manifest=manifest,
        evidence_folder=folder,
        evidence_before=before,
        revision_now=current_revision() or "",
        dropped_tables=dropped,
    )


def _unpack(source: Path, work: Path, staged: Path) -> dict[str, Any]:
    """Read every member: the database into ``work``, evidence files into ``staged``,
    each hashed as it is written; then check them against the manifest."""
    damaged = f"{source} is not a complete qa_audit backup: it is damaged or was cut short"
    found: dict[str, dict[str, Any]] = {}
    manifest_data: bytes | None = None
    try:
        archive = tarfile.open(source, mode="r:gz")
    except (tarfile.TarError, OSError, EOFError, zlib.error) as error:
        raise BackupError(f"{source} is not a qa_audit backup: it cannot be read as a .tar.gz archive ({error}).") from None
    try:
        with archive:
            for member in archive:
                name = member.name
                if not MEMBER.fullmatch(name) or not member.isreg():
                    raise BackupError(f"{source} holds {name!r}, which a qa_audit backup never holds. Nothing was restored.")
                if name in found or (name == MANIFEST and manifest_data is not None):
                    raise BackupError(f"{source} holds {name} twice. Nothing was restored.")
                stream = archive.extractfile(member)
                if name == MANIFEST:
                    if member.size > MANIFEST_MAX_BYTES:
                        raise BackupError(f"{source} has a manifest of {size_label(member.size)}, far more than a real one. Nothing was restored.")
                    manifest_data = stream.read()
                    continue
                path = staged / name.split("/", 1)[1] if name.startswith(EVIDENCE_DIR + "/") else work / name
                digest, count = hashlib.sha256(), 0
                with open(path, "xb") as out:
                    while chunk := stream.read(CHUNK):
                        digest.update(chunk)
                        count += len(chunk)
                        out.write(chunk)
                found[name] = {"sha256": digest.hexdigest(), "bytes": count}
    except (tarfile.TarError, EOFError, zlib.error) as error:
        raise BackupError(f"{damaged} ({error}). Nothing was restored.") from None
    except OSError as error:
        if getattr(error, "filename", None):
            raise BackupError(f"Could not unpack the backup: {error.strerror or error} ({error.filename}). Nothing was restored.") from None
        raise BackupError(f"{damaged} ({error}). Nothing was restored.") from None
    if manifest_data is None:
        raise BackupError(f"{source} has no {MANIFEST}, so it is not a complete qa_audit backup. Nothing was restored.")
    try:
        manifest = json.loads(manifest_data)
    except (ValueError, UnicodeDecodeError):
        raise BackupError(f"The {MANIFEST} in {source} is not valid JSON. Nothing was restored.") from None
    _check_manifest_shape(manifest, source)
    listed = manifest["members"]
    lacking = sorted(set(listed) - set(found))
    if lacking:
        raise BackupError(f"{source} lacks {', '.join(lacking)}, which its manifest lists. Nothing was restored.")
    unlisted = sorted(set(found) - set(listed))
    if unlisted:
        raise BackupError(f"{source} holds {', '.join(unlisted)}, which its manifest does not list. Nothing was restored.")
    changed = [name for name in sorted(found) if found[name] != {"sha256": listed[name]["sha256"], "bytes": listed[name]["bytes"]}]
    if changed:
        raise BackupError(
            f"{', '.join(changed)} in {source} {'does' if len(changed) == 1 else 'do'} not match the SHA-256 checksum in the manifest: "
            "the backup is damaged or has been changed. Nothing was restored."
        )
    return manifest


def _check_manifest_shape(manifest: Any, source: Path) -> None:
    def bad(what: str) -> BackupError:
        return BackupError(f"The manifest in {source} {what}, so it is not a backup this version of qa_audit can restore. Nothing was restored.")

    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise bad("is not a qa_audit backup manifest")
    version = manifest.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise bad("has no format version")
    if version > FORMAT_VERSION:
        raise BackupError(
            f"{source} is in backup format {version}, made by a newer version of qa_audit than this one (which reads format {FORMAT_VERSION}). "
            "Restore it with that version. Nothing was restored."
        )
    if manifest.get("database") not in DATABASE_MEMBERS:
        raise bad("names no database this app uses")
    if not isinstance(manifest.get("alembic_revision"), str) or not REVISION.fullmatch(manifest["alembic_revision"]):
        raise bad("has no valid migration revision")
    tables = manifest.get("tables")
    if not isinstance(tables, dict) or not tables or not all(
        isinstance(name, str) and NAME.fullmatch(name) and isinstance(count, int) and not isinstance(count, bool) and count >= 0 for name, count in tables.items()
    ):
        raise bad("has no valid row counts")
    if manifest.get("schema") is not None and not (isinstance(manifest["schema"], str) and NAME.fullmatch(manifest["schema"])):
        raise bad("has no valid schema name")
    members = manifest.get("members")
    if not isinstance(members, dict) or not all(
        isinstance(name, str)
        and MEMBER.fullmatch(name)
        and name != MANIFEST
        and isinstance(facts, dict)
        and isinstance(facts.get("sha256"), str)
        and SHA256.fullmatch(facts["sha256"])
        and isinstance(facts.get("bytes"), int)
        for name, facts in members.items()
    ):
        raise bad("does not list its members with their checksums")
    if DATABASE_MEMBERS[manifest["database"]] not in members:
        raise bad("does not list the database")
    evidence = manifest.get("evidence")
    if not isinstance(evidence, dict) or not isinstance(evidence.get("missing", []), list):
        raise bad("does not describe the evidence files")


def _check_manifest(manifest: dict[str, Any], kind: str, source: Path) -> None:
    if manifest["database"] != kind:
        raise BackupError(
            f"{source} is a backup of a {KIND_LABELS[manifest['database']]} database, and this app uses {KIND_LABELS[kind]}. "
            f"Restore it into an app set up for {KIND_LABELS[manifest['database']]}. Nothing was restored."
        )
    known, head = known_revisions()
    revision = manifest["alembic_revision"]
    if revision not in known:
        raise BackupError(
            f"{source} was made by a newer version of qa_audit: its database is at migration {revision}, which this code does not know "
            f"(the newest it knows is {head}). Update the code to the version that made the backup, then restore it. Nothing was restored."
        )


def _replace_evidence(staged: Path, folder: Path) -> int:
    """Make the evidence folder hold exactly the backup's files: move each in (a
    rename in the same folder, so a file is never half there), then delete files the
    backup does not have. The folder itself stays (it may be a mount point).
    Returns how many evidence files the folder held before."""
    keep = {path.name for path in staged.iterdir()}
    before = [path for path in folder.iterdir() if path != staged and (path.is_file() or path.is_symlink())]
    held = sum(1 for path in before if KEY.fullmatch(path.name))
    for path in staged.iterdir():
        os.replace(path, folder / path.name)
    for path in before:
        if path.name not in keep:
            try:
                path.unlink()
            except FileNotFoundError:
                pass
    return held
