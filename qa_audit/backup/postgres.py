"""PostgreSQL: pg_dump in an exported snapshot, and pg_restore piped into psql in
one transaction. The client programs get the password through PGPASSWORD."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import URL

from qa_audit.backup import common
from qa_audit.backup.common import CHUNK, BackupError, Snapshot, quote, release_connections
from qa_audit.extensions import db

_PG_VERSION = re.compile(r"\(PostgreSQL\)\s+(\d+)")


def _server_major() -> int:
    with db.engine.connect() as connection:
        return int(connection.execute(text("SHOW server_version_num")).scalar()) // 10000


def pg_tool(name: str, server_major: int) -> str:
    """The path of a PostgreSQL client program at least as new as the server."""
    path = shutil.which(name)
    install = f"on Debian or Ubuntu: apt-get install postgresql-client-{server_major}, or postgresql-client"
    if path is None:
        raise BackupError(f"{name} is not installed, and PostgreSQL backups need it. Install the PostgreSQL {server_major} client tools ({install}).")
    try:
        output = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=60, check=True).stdout
    except (OSError, subprocess.SubprocessError) as error:
        raise BackupError(f"{path} --version did not work ({error}), so PostgreSQL backups cannot run.") from None
    match = _PG_VERSION.search(output)
    if match is None:
        raise BackupError(f"{path} does not say which PostgreSQL version it is from (it said {output.strip()[:200]!r}).")
    major = int(match.group(1))
    if major < server_major:
        raise BackupError(
            f"{name} is from PostgreSQL {major}, older than the database server (PostgreSQL {server_major}), so it cannot "
            f"{'dump' if name == 'pg_dump' else 'restore'} it reliably. Install the PostgreSQL {server_major} client tools ({install}) "
            "and make sure they come first on PATH."
        )
    return path


def libpq_connection(url: URL) -> tuple[str, dict[str, str]]:
    """A connection URI for the client programs, and their environment: the password
    goes in PGPASSWORD, never on a command line where other users could see it."""
    plain = URL.create("postgresql", username=url.username, host=url.host, port=url.port, database=url.database, query=url.query)
    uri = plain.render_as_string(hide_password=False)
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    return uri, env


def _tail(output: bytes | str, lines: int = 8) -> str:
    if isinstance(output, bytes):
        output = output.decode("utf-8", "replace")
    kept = [line.strip() for line in output.strip().splitlines() if line.strip()]
    return " / ".join(kept[-lines:]) or "no message"


def snapshot(out: Path) -> Snapshot:
    server_major = _server_major()
    pg_dump = pg_tool("pg_dump", server_major)
    uri, env = libpq_connection(db.engine.url)
    with db.engine.connect() as connection:
        connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            connection.execute(text("SET TRANSACTION READ ONLY"))
            # pg_dump reads the snapshot this transaction sees; the counts below read it too.
            snapshot_id = connection.execute(text("SELECT pg_export_snapshot()")).scalar()
            command = [pg_dump, "--format=custom", f"--snapshot={snapshot_id}", f"--file={out}", "--no-password", f"--dbname={uri}"]
            try:
                done = subprocess.run(command, capture_output=True, env=env, check=False)
            except OSError as error:
                raise BackupError(f"pg_dump could not be run: {error}.") from None
            if done.returncode != 0:
                raise BackupError(f"pg_dump failed: {_tail(done.stderr)}")
            schema = connection.execute(text("SELECT current_schema()")).scalar()
            names = connection.execute(
                text("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name")
            ).scalars().all()
            tables = {name: connection.execute(text(f"SELECT count(*) FROM {quote(name)}")).scalar() for name in names}  # nosec B608: quote() admits only plain identifiers, read from information_schema
            if "alembic_version" not in tables:
                raise BackupError("The database has not been set up (it has no alembic_version table): there is nothing to back up.")
            revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
            if revision is None:
                raise BackupError("The database has no migration revision in alembic_version.")
            keys = connection.execute(text("SELECT storage_key FROM evidence_files")).scalars().all() if "evidence_files" in tables else []
            version = connection.execute(text("SHOW server_version")).scalar()
    return Snapshot("postgresql", out, revision, tables, list(keys), str(version).split()[0], schema=schema)


def restore(dump: Path, manifest: dict[str, Any]) -> list[str]:
    """pg_restore's SQL, piped into psql in one transaction that first locks the
    tables and drops any the backup does not have (a newer migration's: the
    migrations make them again), and last checks every table's rows against the
    manifest. Any failure rolls it all back. Returns the tables dropped."""
    server_major = _server_major()
    pg_restore = pg_tool("pg_restore", server_major)
    psql = pg_tool("psql", server_major)
    uri, env = libpq_connection(db.engine.url)
    schema = manifest.get("schema") or "public"
    with db.engine.connect() as connection:
        current = connection.execute(
            text("SELECT table_name FROM information_schema.tables WHERE table_schema = :schema AND table_type = 'BASE TABLE' ORDER BY table_name"),
            {"schema": schema},
        ).scalars().all()
    release_connections()
    tables = manifest["tables"]
    extra = [name for name in current if name not in tables]
    qualified = lambda name: f"{quote(schema)}.{quote(name)}"  # noqa: E731
    prelude = [f"SET lock_timeout = '{common.LOCK_TIMEOUT_SECONDS}s';"]
    if current:
        prelude.append(f"LOCK TABLE {', '.join(qualified(name) for name in current)} IN ACCESS EXCLUSIVE MODE;")
    prelude += [f"DROP TABLE IF EXISTS {qualified(name)} CASCADE;" for name in extra]
    checks = [
        f"  SELECT count(*) INTO restored FROM {qualified(name)};\n"  # nosec B608: names are quote()d identifiers; the manifest was checked against NAME and REVISION before this runs
        f"  IF restored <> {int(count)} THEN RAISE EXCEPTION 'Table {name} has % rows after the restore; the manifest says {int(count)}', restored; END IF;"
        for name, count in sorted(tables.items())
    ]
    revision = manifest["alembic_revision"]
    postlude = (
        "\nDO $qa_audit_restore_check$\nDECLARE restored bigint;\nBEGIN\n"
        + "\n".join(checks)
        + f"\n  SELECT count(*) INTO restored FROM information_schema.tables WHERE table_schema = '{schema}' AND table_type = 'BASE TABLE';"  # nosec B608: as above
        + f"\n  IF restored <> {len(tables)} THEN RAISE EXCEPTION 'The restore left % tables; the manifest lists {len(tables)}', restored; END IF;"
        + f"\n  IF (SELECT version_num FROM {qualified('alembic_version')}) IS DISTINCT FROM '{revision}' THEN"  # nosec B608: as above
        + f" RAISE EXCEPTION 'The restored database is not at migration {revision}'; END IF;"
        + "\nEND\n$qa_audit_restore_check$;\n"
    )
    prelude_file = dump.parent / "prelude.sql"
    prelude_file.write_text("\n".join(prelude) + "\n")
    restore_command = [pg_restore, "--clean", "--if-exists", "--no-owner", "--no-privileges", "--file=-", str(dump)]
    psql_command = [psql, "--no-psqlrc", "--quiet", "--no-password", "--set=ON_ERROR_STOP=1", "--single-transaction", f"--dbname={uri}", "--file", str(prelude_file), "--file=-"]
    with tempfile.TemporaryFile() as restore_errors, tempfile.TemporaryFile() as psql_errors:
        try:
            loader = subprocess.Popen(psql_command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=psql_errors, env=env)
        except OSError as error:
            raise BackupError(f"psql could not be run: {error}. Nothing was restored.") from None
        try:
            reader = subprocess.Popen(restore_command, stdout=subprocess.PIPE, stderr=restore_errors, env=env)
        except OSError as error:
            loader.kill()
            loader.wait()
            raise BackupError(f"pg_restore could not be run: {error}. Nothing was restored.") from None
        loader_gone = False
        try:
            while chunk := reader.stdout.read(CHUNK):
                loader.stdin.write(chunk)
        except BrokenPipeError:
            loader_gone = True  # psql stopped at an error: its message says which
        reader.stdout.close()
        if loader_gone:
            reader.kill()
        reader_status = reader.wait()
        if reader_status != 0 and not loader_gone:
            # psql has not seen the end of its input, so it has not committed: ending
            # it ends the connection, and PostgreSQL rolls the transaction back.
            loader.kill()
            loader.wait()
            restore_errors.seek(0)
            raise BackupError(f"pg_restore could not read the dump ({_tail(restore_errors.read())}). The database was left as it was.")
        try:
            if not loader_gone:
                loader.stdin.write(postlude.encode())
            loader.stdin.close()
        except BrokenPipeError:
            pass
        if loader.wait() != 0:
            psql_errors.seek(0)
            message = _tail(psql_errors.read())
            hint = " Stop the app (and anything else using the database), then try again." if "lock timeout" in message else ""
            raise BackupError(f"The database restore failed, and the database was left as it was: {message}.{hint}")
    return extra
