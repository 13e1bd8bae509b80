"""Backups: `flask backup PATH` and `flask restore --yes PATH` (qa_audit/backup/).

Restoring replaces a whole database, so these tests run on a database of their
own: a SQLite file, or with TEST_DATABASE_URL a scratch PostgreSQL database made
beside the suite's (the CI's postgres user may create databases).
"""

from __future__ import annotations

import io
import json
import os
import re
import stat
import struct
import tarfile
import threading
import time
import zlib
from datetime import datetime, timezone
from pathlib import Path

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from qa_audit import backup as backups
from qa_audit.backup import common as backup_common
from qa_audit.extensions import db
from tests.conftest import _make_app, dispose, reset_schema

# The last migration before actions and improvement plans: a backup made then is
# "older" than the code, and restoring it must bring it up to date.
BEFORE_ACTIONS = "dfcebec16dda"


def _pdf(text_: str) -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        + f"% {text_}\n".encode()
        + b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )


def _png() -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


# A database of this module's own -----------------------------------------------------------


@pytest.fixture(scope="module")
def database_url(tmp_path_factory):
    base = os.environ.get("TEST_DATABASE_URL")
    admin, made = None, None
    if base:
        server = make_url(base).set(drivername="postgresql+psycopg")
        made = f"{server.database}_backup_{os.getpid()}"
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{made}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{made}"'))
        url = make_url(base).set(database=made).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('backup-db') / 'live.sqlite'}"
    app = _make_app(url)
    reset_schema(app)
    dispose(app)
    yield url
    if admin is not None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{made}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(autouse=True)
def folders(app, tmp_path):
    """Evidence and mail in the test's own folders."""
    app.config["EVIDENCE_FOLDER"] = str(tmp_path / "evidence")
    app.config["MAIL_OUTBOX"] = str(tmp_path / "outbox")
    return tmp_path / "evidence"


def kind() -> str:
    return db.engine.url.get_backend_name()


def everything() -> dict[str, list[tuple]]:
    """Every row of every table, every column, in primary-key order."""
    db.session.remove()
    rows: dict[str, list[tuple]] = {}
    with db.engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            rows[table.name] = [tuple(row) for row in connection.execute(select(table).order_by(*order))]
        rows["alembic_version"] = [tuple(row) for row in connection.execute(text("SELECT version_num FROM alembic_version"))]
    return rows


def stored_files(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir()) if path.is_file()} if folder.exists() else {}


def run(runner, *args: str, ok: bool = True):
    db.session.remove()  # the test's session must hold no locks on tables a restore replaces
    result = runner.invoke(args=list(args))
    if ok:
        assert result.exit_code == 0, result.output
    return result


def manifest_of(archive: Path) -> dict:
    with tarfile.open(archive, "r:gz") as tar:
        return json.load(tar.extractfile("manifest.json"))


def rewrite(archive: Path, out: Path, *, change=None, manifest=None, add=None, drop=()) -> Path:
    """A copy of the archive with a member's bytes changed, the manifest edited,
    a member added or dropped: each member and the manifest otherwise as they were."""
    with tarfile.open(archive, "r:gz") as source, tarfile.open(out, "w:gz") as target:
        for member in source.getmembers():
            if member.name in drop:
                continue
            data = source.extractfile(member).read()
            if member.name == "manifest.json" and manifest is not None:
                edited = json.loads(data)
                manifest(edited)
                data = json.dumps(edited).encode()
            elif change is not None and change[0] == member.name:
                data = change[1](data)
            info = tarfile.TarInfo(member.name)
            info.size = len(data)
            target.addfile(info, io.BytesIO(data))
        for name, data in (add or {}).items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            target.addfile(info, io.BytesIO(data))
    return out


# A council's worth of records, made through the services ---------------------------------------


@pytest.fixture
def council(app, make_user, make_service, make_audit, make_plan, login_as):
    """Users, a dip sample with cases and answers, findings (one a concern) with
    evidence files, a plan with a measure, actions with progress and a sign-off,
    an API token, sign-ins, and the history all of that wrote."""
    from qa_audit.actions import services as actions
    from qa_audit.audits import question_sets as question_set_rules
    from qa_audit.auth import services as accounts
    from qa_audit.findings import evidence, services as findings
    from qa_audit.plans import services as plans
    from qa_audit.recording import services as recording

    qa_lead = make_user("qa_lead", name="Priya Shah")
    head = make_user("head_of_service", name="Sam O'Neill")
    auditor = make_user("auditor", name="Zoë Ångström")  # names beyond ASCII survive too
    owner = make_user("auditor")
    service = make_service("Front Door (MASH)", head.id)
    question_set = question_set_rules.create_question_set("Threshold decisions", ["Was the threshold applied correctly?", "Was the child's voice recorded?", "Was consent recorded?"])
    audit = make_audit("dip_sample", status="in_progress", lead=auditor, service=service, question_set_id=question_set.id, title="MASH threshold dip sample")
    questions = [q.id for q in question_set.questions]
    for n, values in enumerate([("met", "partially_met", "not_met"), ("met", "met", "not_applicable"), ("not_met", "met", "met")]):
        recording.add_case(audit, auditor, f"CIN/2026/{n + 1:03d}", dict(zip(map(str, questions), values)), notes=f"Case {n + 1}: sampled from the October contacts")
    from qa_audit.recording.models import SampledCase

    first = db.session.scalars(select(SampledCase).where(SampledCase.audit_id == audit.id).order_by(SampledCase.id)).first()
    recording.answer(first, auditor, questions[1], "met", notes="Checked again with the team manager")

    strength = findings.record_finding(audit, {"kind": "strength", "summary": "Threshold decisions were timely and well reasoned.", "evidence": "Cases 1 and 2"}, auditor)
    concern = findings.record_finding(audit, {"kind": "concern", "summary": "Consent was not recorded for a contact from school.", "evidence": "Case 1"}, auditor)
    improvement = findings.record_finding(audit, {"kind": "area_for_improvement", "summary": "Record the child's voice in every contact."}, auditor)
    evidence.add_evidence(concern, _pdf("case 1 chronology"), auditor, filename="Case 1 chronology.pdf")
    evidence.add_evidence(concern, _png(), auditor, filename="whiteboard.png")
    evidence.add_evidence(strength, _pdf("team meeting minutes"), auditor, filename="minutes.pdf")

    plan = make_plan("Front door improvement plan 2026–27", owner=head, priorities=("Front door", "Workforce"))
    measure = plans.add_measure(plan.priorities[0], {"title": "Contacts decided within 24 hours", "unit": "%", "baseline": "71.5", "target": "95", "baseline_on": "2026-04-01"}, qa_lead)
    plans.record_measure_value(measure, {"measured_on": "2026-06-30", "value": "80.25", "note": "Quarter 1"}, qa_lead)

    from_finding = actions.raise_action({"title": "Re-issue consent guidance", "owner_id": owner.id, "due_date": "2027-01-31", "finding_id": concern.id, "priority": "high"}, qa_lead)
    under_plan = actions.raise_action({"title": "Voice of the child training", "owner_id": owner.id, "due_date": "2027-03-31", "plan_priority_id": plan.priorities[1].id, "finding_id": improvement.id}, qa_lead)
    actions.post_update(from_finding, {"note": "Guidance drafted"}, owner)
    actions.post_update(from_finding, {"note": "Guidance sent to all MASH staff", "status": "completed", "evidence": "Email of 3 November"}, owner)
    actions.verify_action(from_finding, head, "Seen the email and the read receipts.")
    actions.post_update(under_plan, {"note": "Training booked for January", "status": "in_progress"}, owner)

    accounts.create_token(qa_lead, "Power BI")
    signed_in = login_as("viewer")  # a sign-in attempt and a last sign-in time
    assert signed_in.get("/").status_code == 200
    db.session.commit()
    # Ids, not objects: a restore ends every session.
    return {"concern": concern.id, "strength": strength.id, "under_plan": under_plan.id, "qa_lead": qa_lead.id, "auditor": auditor.id}


# The round trip ----------------------------------------------------------------------------


def test_a_round_trip_loses_nothing(app, runner, council, folders, tmp_path):
    from qa_audit.actions import services as actions
    from qa_audit.findings import evidence, services as findings
    from qa_audit.findings.models import EvidenceFile, Finding

    before = everything()
    files = stored_files(folders)
    # The story filled every table it should have.
    for table in ("users", "services", "audits", "question_sets", "questions", "sampled_cases", "answers", "findings", "concern_alerts",
                  "evidence_files", "improvement_plans", "plan_priorities", "measures", "measure_values", "actions", "action_updates",
                  "api_tokens", "login_attempts", "history"):
        assert before[table], f"{table} is empty"
    assert len(files) == 3

    archive = tmp_path / "backups" / "nightly.tar.gz"
    archive.parent.mkdir()
    result = run(runner, "backup", str(archive))
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    assert list(archive.parent.iterdir()) == [archive]  # no temporary files left beside it
    rows = sum(len(v) for v in before.values())
    kind_label = backups.KIND_LABELS[kind()]
    assert f"Backed up the {kind_label} database at migration {before['alembic_version'][0][0]}: {rows:,} rows in" in result.output
    assert "Backed up 3 evidence files" in result.output
    assert f"Wrote {archive}" in result.output
    manifest = manifest_of(archive)
    assert {name: count for name, count in manifest["tables"].items()} == {name: len(v) for name, v in before.items()}
    assert manifest["database"] == kind() and manifest["format_version"] == 1 and manifest["evidence"]["missing"] == []
    assert set(manifest["members"]) == {backups.DATABASE_MEMBERS[kind()]} | {f"evidence/{key}" for key in files}
    with tarfile.open(archive, "r:gz") as tar:
        for key, data in files.items():
            assert tar.extractfile(f"evidence/{key}").read() == data

    # Then a day's work: edits, deletions, new records, new and removed files.
    from qa_audit.actions.models import Action
    from qa_audit.auth.models import User

    concern = db.session.get(Finding, council["concern"])
    auditor, qa_lead = db.session.get(User, council["auditor"]), db.session.get(User, council["qa_lead"])
    findings.update_finding(concern, {"summary": "Consent was not recorded (school contact)."}, auditor, version=concern.version)
    removed = db.session.scalars(select(EvidenceFile).where(EvidenceFile.finding_id == concern.id)).first()
    evidence.remove_evidence(removed, auditor)
    evidence.add_evidence(concern, _pdf("a later file"), auditor, filename="later.pdf")
    actions.cancel_action(db.session.get(Action, council["under_plan"]), qa_lead, "Merged into the workforce plan")
    findings.remove_finding(db.session.get(Finding, council["strength"]), auditor)
    db.session.execute(text("DELETE FROM login_attempts"))
    db.session.commit()
    assert everything() != before and stored_files(folders) != files

    result = run(runner, "restore", "--yes", str(archive))
    assert everything() == before
    assert stored_files(folders) == files
    assert sorted(path.name for path in folders.iterdir()) == sorted(files)  # no staging folder left behind
    assert not list(Path(app.instance_path).glob(".qa_audit-restore-*"))
    assert f"Restored the {kind_label} database at migration {before['alembic_version'][0][0]}: {rows:,} rows" in result.output
    assert "Restored 3 evidence files" in result.output and f"to {folders}, which held 2 files before." in result.output
    assert "the newest" in result.output

    # The restored service works: new rows get new ids, files download.
    client = app.test_client()
    from tests.conftest import sign_in

    lead = db.session.get(User, council["qa_lead"])
    assert sign_in(client, lead.email).status_code == 302
    stored = db.session.scalars(select(EvidenceFile)).first()
    response = client.get(f"/evidence/{stored.id}")
    assert response.status_code == 200 and response.data == files[stored.storage_key]
    response.close()
    from qa_audit.auth import services as accounts

    fresh = accounts.create_user("after.restore@example.gov.uk", "After Restore", "viewer", "correct-horse-battery-staple")
    assert fresh.id > max(row[0] for row in before["users"])


def test_a_backup_taken_while_another_connection_writes_is_consistent(app, runner, tmp_path):
    """Each of the writer's transactions adds a service and a sign-in attempt. A
    consistent backup holds both of every pair, and only whole transactions."""
    services = db.metadata.tables["services"]
    attempts = db.metadata.tables["login_attempts"]
    engine = create_engine(db.engine.url)
    stop = threading.Event()
    written = [0]
    problems: list[BaseException] = []

    def write() -> None:
        try:
            while not stop.is_set():
                n = written[0] + 1
                with engine.begin() as connection:
                    connection.execute(services.insert().values(name=f"Writer service {n}", active=True, version=1))
                    connection.execute(attempts.insert().values(email=f"writer{n}@example.gov.uk", address="127.0.0.1", succeeded=False, at=datetime.now(timezone.utc)))
                written[0] = n
        except BaseException as error:  # noqa: BLE001 - reported by the test
            problems.append(error)

    def wait_for(count: int) -> None:
        deadline = time.monotonic() + 60
        while written[0] < count and not problems and time.monotonic() < deadline:
            time.sleep(0.01)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        wait_for(20)
        started = written[0]
        archive = tmp_path / "busy.tar.gz"
        result = runner.invoke(args=["backup", str(archive)])
        finished = written[0]
        wait_for(finished + 10)
    finally:
        stop.set()
        writer.join()
        engine.dispose()
    assert not problems, problems
    assert result.exit_code == 0, result.output
    assert finished > started, "the writer committed nothing while the backup ran: the test proves nothing"

    tables = manifest_of(archive)["tables"]
    copied = tables["services"]
    assert tables["login_attempts"] == copied
    assert started <= copied <= finished

    run(runner, "restore", "--yes", str(archive))
    with db.engine.connect() as connection:
        names = set(connection.execute(select(services.c.name)).scalars())
        emails = set(connection.execute(select(attempts.c.email)).scalars())
    assert names == {f"Writer service {n}" for n in range(1, copied + 1)}
    assert emails == {f"writer{n}@example.gov.uk" for n in range(1, copied + 1)}


def test_an_older_backup_is_restored_and_migrated_to_the_newest(app, runner, make_plan, make_action, tmp_path):
    from qa_audit.actions.models import Action

    archive = tmp_path / "older.tar.gz"
    db.session.remove()
    try:
        downgrade(revision=BEFORE_ACTIONS)
        with db.engine.begin() as connection:
            connection.execute(text("INSERT INTO services (name, active, version) VALUES ('Older service', :yes, 1)"), {"yes": True})
        result = run(runner, "backup", str(archive))
        assert f"at migration {BEFORE_ACTIONS}" in result.output
    finally:
        upgrade()
    head = everything()["alembic_version"][0][0]
    assert head != BEFORE_ACTIONS
    make_action()  # rows in tables the older backup does not have
    db.session.remove()

    result = run(runner, "restore", "--yes", str(archive))
    assert f"Upgraded the database from migration {BEFORE_ACTIONS} to {head}, the newest." in result.output
    if kind() == "postgresql":
        assert "Dropped" in result.output and "actions" in result.output
    after = everything()
    assert after["alembic_version"] == [(head,)]
    assert [row.name for row in db.session.execute(text("SELECT name FROM services"))] == ["Older service"]
    assert db.session.scalar(select(func.count(Action.id))) == 0
    assert make_plan().id  # the new tables work


# Refusals -----------------------------------------------------------------------------------


@pytest.fixture
def made(app, runner, make_user, make_audit, tmp_path, folders):
    """A backup holding an audit with a finding and its evidence file; then a
    change after it, so that a restore that went ahead would show."""
    from qa_audit.auth.models import User
    from qa_audit.findings import evidence, services as findings
    from qa_audit.findings.models import Finding

    auditor = make_user("auditor")
    audit = make_audit("targeted_visit", status="in_progress", lead=auditor)
    finding = findings.record_finding(audit, {"kind": "strength", "summary": "Supervision is regular and reflective."}, auditor)
    evidence.add_evidence(finding, _pdf("supervision notes"), auditor, filename="notes.pdf")
    archive = tmp_path / "made.tar.gz"
    finding_id, auditor_id = finding.id, auditor.id
    run(runner, "backup", str(archive))
    make_user("viewer", email="after.backup@example.gov.uk")
    evidence.add_evidence(db.session.get(Finding, finding_id), _png(), db.session.get(User, auditor_id), filename="later.png")
    return archive


def _refused(runner, archive: Path, folders: Path, *args: str) -> str:
    """Run a restore that must be refused, and show that nothing changed."""
    before, files = everything(), stored_files(folders)
    result = run(runner, "restore", *args, str(archive), ok=False)
    assert result.exit_code == 1, result.output
    assert result.output.startswith("Error: ")
    assert everything() == before
    assert stored_files(folders) == files
    assert not list(folders.glob(".restoring-*")), "a refused restore left its staging folder behind"
    return result.output


def test_restore_refuses_to_run_without_yes(runner, made, folders):
    output = _refused(runner, made, folders)
    assert "replaces the whole database and every evidence file" in output and "run it again with --yes" in output


def _flip(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 1])


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        ("the database changed", "does not match the SHA-256 checksum in the manifest"),
        ("an evidence file changed", "does not match the SHA-256 checksum in the manifest"),
        ("an evidence file dropped", "lacks evidence/"),
        ("an extra member", "holds 'notes.txt', which a qa_audit backup never holds"),
        ("an extra evidence file", "which its manifest does not list"),
        ("a path outside the archive", "which a qa_audit backup never holds"),
        ("a checksum changed to match", "does not match the SHA-256 checksum in the manifest"),
        ("a newer migration", "was made by a newer version of qa_audit"),
        ("a newer format", "is in backup format 2, made by a newer version of qa_audit"),
        ("another kind of database", "this app uses"),
        ("no manifest", "has no manifest.json"),
        ("cut short", "damaged or was cut short"),
        ("not an archive", "cannot be read as a .tar.gz archive"),
    ],
)
def test_a_tampered_archive_is_refused(runner, made, folders, tmp_path, tamper, message):
    manifest = manifest_of(made)
    database = backups.DATABASE_MEMBERS[kind()]
    (stored,) = [name for name in manifest["members"] if name.startswith("evidence/")]
    out = tmp_path / "tampered.tar.gz"
    if tamper == "the database changed":
        rewrite(made, out, change=(database, _flip))
    elif tamper == "an evidence file changed":
        rewrite(made, out, change=(stored, _flip))
    elif tamper == "an evidence file dropped":
        rewrite(made, out, drop=(stored,))
    elif tamper == "an extra member":
        rewrite(made, out, add={"notes.txt": b"hello"})
    elif tamper == "an extra evidence file":
        rewrite(made, out, add={"evidence/" + "0" * 64: _pdf("planted")})
    elif tamper == "a path outside the archive":
        rewrite(made, out, add={"../evidence/" + "0" * 64: _pdf("planted")})
    elif tamper == "a checksum changed to match":
        # Changing a file and its size in the manifest, but not its hash, is still found.
        rewrite(made, out, change=(stored, lambda data: data + b"%"), manifest=lambda m: m["members"][stored].update(bytes=m["members"][stored]["bytes"] + 1))
    elif tamper == "a newer migration":
        rewrite(made, out, manifest=lambda m: m.update(alembic_revision="ffffffffffff"))
    elif tamper == "a newer format":
        rewrite(made, out, manifest=lambda m: m.update(format_version=2))
    elif tamper == "another kind of database":
        other = "postgresql" if kind() == "sqlite" else "sqlite"
        renamed = backups.DATABASE_MEMBERS[other]

        def swap(m):
            m["database"] = other
            m["members"][renamed] = m["members"].pop(database)

        with tarfile.open(made, "r:gz") as tar:
            data = tar.extractfile(database).read()
        rewrite(made, out, drop=(database,), add={renamed: data}, manifest=swap)
    elif tamper == "no manifest":
        rewrite(made, out, drop=("manifest.json",))
    elif tamper == "cut short":
        out.write_bytes(made.read_bytes()[: made.stat().st_size // 2])
    elif tamper == "not an archive":
        out.write_bytes(b"not a backup at all")
    assert message in _refused(runner, out, folders, "--yes")


def test_a_restore_that_cannot_have_the_database_changes_nothing(app, runner, made, folders, monkeypatch):
    """Another connection in the middle of a write (SQLite) or holding a table
    (PostgreSQL): the restore gives up after the lock timeout and nothing changes,
    not the database and not the evidence files."""
    monkeypatch.setattr(backup_common, "LOCK_TIMEOUT_SECONDS", 1)
    engine = create_engine(db.engine.url)
    try:
        with engine.connect() as other:
            if kind() == "sqlite":
                other.exec_driver_sql("BEGIN IMMEDIATE")
            other.execute(text("SELECT count(*) FROM users")).scalar()
            output = _refused(runner, made, folders, "--yes")
            other.rollback()
    finally:
        engine.dispose()
    assert "Stop the app (and anything else using the database)" in output
    assert ("busy for 1 second," if kind() == "sqlite" else "lock timeout") in output


def test_backup_says_where_it_cannot_write(runner, tmp_path, made):
    assert "already exists" in run(runner, "backup", str(made), ok=False).output
    assert "ending in .tar.gz" in run(runner, "backup", str(tmp_path / "backup.zip"), ok=False).output
    assert "There is no folder" in run(runner, "backup", str(tmp_path / "nowhere" / "b.tar.gz"), ok=False).output
    assert "There is no backup file" in run(runner, "restore", "--yes", str(tmp_path / "missing.tar.gz"), ok=False).output


def test_backup_into_a_folder_names_the_file_by_its_time(runner, tmp_path):
    folder = tmp_path / "nightly"
    folder.mkdir()
    result = run(runner, "backup", str(folder))
    (archive,) = folder.iterdir()
    assert re.fullmatch(r"qa_audit-\d{4}-\d{2}-\d{2}T\d{6}Z\.tar\.gz", archive.name)
    assert f"Wrote {archive} (" in result.output
    assert manifest_of(archive)["created_at"].endswith("Z")


def test_a_file_missing_from_storage_is_reported_not_fatal(runner, made, folders, tmp_path):
    from qa_audit.findings.models import EvidenceFile

    lost = db.session.scalars(select(EvidenceFile).order_by(EvidenceFile.id)).first()
    (folders / lost.storage_key).unlink()
    archive = tmp_path / "with-a-gap.tar.gz"
    result = run(runner, "backup", str(archive))
    assert f"Warning: 1 evidence file listed in the database was not in the evidence folder, so not backed up: {lost.storage_key}" in result.output
    assert manifest_of(archive)["evidence"]["missing"] == [lost.storage_key]
    result = run(runner, "restore", "--yes", str(archive))
    assert "already missing when the backup was made" in result.output


# PostgreSQL client programs --------------------------------------------------------------------


def _fake_tool(folder: Path, name: str, says: str) -> None:
    script = folder / name
    script.write_text(f"#!/bin/sh\necho '{says}'\n")
    script.chmod(0o755)


def test_pg_tools_must_exist_and_be_as_new_as_the_server(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(backups.BackupError, match=r"pg_dump is not installed.*PostgreSQL 15 client tools.*apt-get install postgresql-client"):
        backups.pg_tool("pg_dump", 15)
    _fake_tool(tmp_path, "pg_dump", "pg_dump (PostgreSQL) 13.16 (Debian 13.16-0+deb11u1)")
    with pytest.raises(backups.BackupError, match=r"pg_dump is from PostgreSQL 13, older than the database server \(PostgreSQL 15\)"):
        backups.pg_tool("pg_dump", 15)
    _fake_tool(tmp_path, "pg_restore", "pg_restore (PostgreSQL) 9.6.24")
    with pytest.raises(backups.BackupError, match=r"from PostgreSQL 9, older than the database server \(PostgreSQL 15\)"):
        backups.pg_tool("pg_restore", 15)
    _fake_tool(tmp_path, "psql", "psql (PostgreSQL) 16.4")
    assert backups.pg_tool("psql", 15) == str(tmp_path / "psql")
    _fake_tool(tmp_path, "psql", "something else")
    with pytest.raises(backups.BackupError, match="does not say which PostgreSQL version"):
        backups.pg_tool("psql", 15)


def test_a_postgresql_backup_with_an_old_pg_dump_says_so(app, runner, monkeypatch, tmp_path):
    if kind() != "postgresql":
        pytest.skip("PostgreSQL only (TEST_DATABASE_URL)")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _fake_tool(bin_dir, "pg_dump", "pg_dump (PostgreSQL) 9.6.24")
    monkeypatch.setenv("PATH", str(bin_dir))
    result = run(runner, "backup", str(tmp_path / "b.tar.gz"), ok=False)
    assert result.exit_code == 1
    assert "Error: pg_dump is from PostgreSQL 9, older than the database server" in result.output
    assert not (tmp_path / "b.tar.gz").exists()


def test_the_password_goes_in_the_environment_not_the_command_line():
    url = make_url("postgresql+psycopg://qa:s3cret%2Fpass@db.internal:5433/qa_audit?sslmode=require")
    uri, env = backups.libpq_connection(url)
    assert "s3cret" not in uri
    assert uri == "postgresql://qa@db.internal:5433/qa_audit?sslmode=require"
    assert env["PGPASSWORD"] == "s3cret/pass"
