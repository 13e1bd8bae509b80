"""The load test (`make loadtest`): 50 users for 2 minutes against gunicorn with 2 workers.

    .venv/bin/python -m loadtest.run [--duration 120] [--users 50] [--spawn-rate 10]

1. Makes a fresh database: SQLite in a temporary folder, or the PostgreSQL database
   named by LOADTEST_DATABASE_URL (or --database), whose tables are all dropped first.
   Migrates it and seeds it (loadtest/seed.py: users with a known password, tokens,
   audits in progress, plans and actions), in bulk.
2. Starts `gunicorn --workers 2 wsgi:app` on 127.0.0.1 at a free port with the
   production configuration: a random SECRET_KEY; FLASK_SESSION_COOKIE_SECURE=false,
   as the test speaks plain http on loopback; and the API rate limit per token and the
   sign-in rate limit per address raised far out of reach, because every simulated user
   comes from 127.0.0.1 and the four integrations share four tokens: the test measures
   the application, not the limits (tests/ check those).
3. Runs locust headless (loadtest/locustfile.py) for the duration, then stops it.
4. Stops gunicorn and compares every write locust saw accepted, by kind, with the rows
   in the database: lost writes are accepted writes missing from it (and any row more
   than was accepted is reported too).
5. Writes loadtest/results/latest.json and latest.md (and <database>.json/.md beside
   them), prints the table, and removes the temporary folder.

It exits 1 if any request failed, any write was lost, or gunicorn logged an error.
Only loopback is used; locust stops by itself after the duration.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
BIN = Path(sys.executable).parent

# Far above what 50 users can send in the run: see the module's docstring.
UNREACHABLE_LIMIT = "1000000 per minute"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtest.run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=int(os.environ.get("LOADTEST_DURATION") or 120), help="seconds of load (default 120)")
    parser.add_argument("--users", type=int, default=int(os.environ.get("LOADTEST_USERS") or 50), help="simulated users (default 50)")
    parser.add_argument("--spawn-rate", type=float, default=float(os.environ.get("LOADTEST_SPAWN_RATE") or 10), help="users started a second (default 10)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--database", default=os.environ.get("LOADTEST_DATABASE_URL") or "", help="a PostgreSQL URL to use instead of SQLite: EVERYTHING IN IT IS DROPPED")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (database, logs, locust output)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where to write latest.json and latest.md (default loadtest/results)")
    args = parser.parse_args(argv)
    if args.duration < 10 or args.users < 1 or args.spawn_rate <= 0:
        parser.error("--duration must be at least 10, --users at least 1 and --spawn-rate more than 0")

    work = Path(tempfile.mkdtemp(prefix="qa_audit_loadtest_"))
    sys.path.insert(0, str(ROOT))
    from qa_audit.config import normalise_database_url

    url = normalise_database_url(args.database or f"sqlite:///{work / 'loadtest.sqlite'}")
    database = "sqlite" if url.startswith("sqlite") else "postgresql" if url.startswith("postgresql") else url.split(":", 1)[0]
    environment = {
        **os.environ,
        "QA_AUDIT_CONFIG": "production",
        "DATABASE_URL": url,
        "SECRET_KEY": secrets.token_hex(32),
        "FLASK_SESSION_COOKIE_SECURE": "false",
        "FLASK_API_RATE_LIMIT": UNREACHABLE_LIMIT,
        "FLASK_LOGIN_RATE_LIMIT": UNREACHABLE_LIMIT,
        "FLASK_MAIL_OUTBOX": str(work / "outbox"),
        "FLASK_EVIDENCE_FOLDER": str(work / "evidence"),
    }
    server = None
    try:
        print(f"==> Fresh {database} database, migrated and seeded", flush=True)
        started = time.monotonic()
        fixture, before = prepare(url, environment, args.duration)
        fixture_path = work / "fixture.json"
        fixture_path.write_text(json.dumps(fixture))
        print(f"    {time.monotonic() - started:.1f} s", flush=True)

        port = free_port()
        print(f"==> gunicorn --workers {args.workers} wsgi:app on 127.0.0.1:{port}", flush=True)
        server_log = work / "gunicorn.log"
        server = start_gunicorn(port, args.workers, environment, server_log)

        print(f"==> locust: {args.users} users, {args.spawn_rate:g} a second, {args.duration} s", flush=True)
        stats_path, counts_dir = work / "stats.json", work / "counts"
        locust_log = work / "locust.log"
        server_cpu_before, children_before, load_before = server_cpu(server), resource.getrusage(resource.RUSAGE_CHILDREN), os.getloadavg()
        run_locust(port, args, environment, fixture_path, stats_path, counts_dir, locust_log)
        server_cpu_s = server_cpu(server) - server_cpu_before
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        locust_cpu_s = (children.ru_utime - children_before.ru_utime) + (children.ru_stime - children_before.ru_stime)
        load_after = os.getloadavg()

        stop(server)
        server = None
        server_errors = [line for line in server_log.read_text(errors="replace").splitlines() if "Traceback" in line or " ERROR " in line or "[ERROR]" in line]

        stats = json.loads(stats_path.read_text())
        counted = {"writes": Counter(), "conflicts": Counter()}
        for path in counts_dir.glob("counts-*.json"):
            data = json.loads(path.read_text())
            for key in counted:
                counted[key].update(data[key])
        after = count_rows(url, environment)
        checks = compare(counted["writes"], before, after)

        result = {
            "database": database,
            "workers": args.workers,
            "users": args.users,
            "spawn_rate": args.spawn_rate,
            "duration_s": args.duration,
            "measured_s": stats["seconds"],
            "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
            "rate_limits": f"API per token and sign-in per address raised to {UNREACHABLE_LIMIT} (the test measures the app, not the limits)",
            "server_cpu_ms_per_request": round(1000 * server_cpu_s / max(1, stats["total"]["requests"]), 1),
            "server_cpu_share": round(server_cpu_s / max(1.0, stats["seconds"]), 2),
            "locust_cpu_share": round(locust_cpu_s / max(1.0, stats["seconds"]), 2),
            "load_average": [round(load_before[0], 2), round(load_after[0], 2)],
            "total": stats["total"],
            "requests": dict(sorted(stats["requests"].items())),
            "failures": stats["total"]["failures"],
            "errors": stats["errors"],
            "server_errors_logged": len(server_errors),
            "writes": dict(sorted(counted["writes"].items())),
            "conflicts": dict(sorted(counted["conflicts"].items())),
            "checks": checks,
            "lost_writes": sum(c["lost"] for c in checks),
            "unexpected_rows": sum(c["extra"] for c in checks),
        }
        args.results.mkdir(parents=True, exist_ok=True)
        table = markdown(result)
        for name in ("latest", database):
            (args.results / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
            (args.results / f"{name}.md").write_text(table)
        print()
        print(table)
        if server_errors:
            print("gunicorn logged errors:\n" + "\n".join(server_errors[:20]))
        ok = result["failures"] == 0 and result["lost_writes"] == 0 and result["unexpected_rows"] == 0 and not server_errors
        return 0 if ok else 1
    finally:
        if server is not None:
            stop(server)
        if args.keep:
            print(f"Kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


# The database ------------------------------------------------------------------------------


def _app(url: str, environment: dict):
    os.environ.update({k: environment[k] for k in ("QA_AUDIT_CONFIG", "DATABASE_URL", "SECRET_KEY")})
    from qa_audit import create_app

    return create_app()


def prepare(url: str, environment: dict, duration: int) -> tuple[dict, dict]:
    """Drop everything, migrate from nothing, seed; the fixture and the row counts."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from loadtest.seed import seed
    from qa_audit.extensions import db

    app = _app(url, environment)
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade()
        fixture = seed(duration_s=duration)
        counts = _counts()
        db.session.remove()
        db.engine.dispose()
    return fixture, counts


def count_rows(url: str, environment: dict) -> dict:
    from qa_audit.extensions import db

    app = _app(url, environment)
    with app.app_context():
        counts = _counts()
        db.session.remove()
        db.engine.dispose()
    return counts


def _counts() -> dict:
    """What the checks compare: rows of each kind, and history entries of edits."""
    from sqlalchemy import func, select

    from qa_audit.actions.models import Action, ActionStatus, ActionUpdate, UpdateKind
    from qa_audit.extensions import db
    from qa_audit.findings.models import Finding
    from qa_audit.history.models import HistoryEntry
    from qa_audit.recording.models import Answer, SampledCase

    def count(*where, model):
        return db.session.scalar(select(func.count()).select_from(model).where(*where))

    def edits(entity: str, field: str) -> int:
        rows = db.session.scalars(select(HistoryEntry.changes).where(HistoryEntry.entity == entity, HistoryEntry.event == "update"))
        return sum(1 for changes in rows if field in (changes or {}))

    return {
        "findings": count(model=Finding),
        "finding_summary_edits": edits("finding", "summary"),
        "answers": count(model=Answer),
        "sampled_cases": count(model=SampledCase),
        "progress_updates": count(ActionUpdate.kind == UpdateKind.PROGRESS, model=ActionUpdate),
        "sign_off_entries": count(ActionUpdate.kind == UpdateKind.VERIFIED, model=ActionUpdate),
        "verified_actions": count(Action.status == ActionStatus.VERIFIED, model=Action),
        "action_title_edits": edits("action", "title"),
    }


# What locust saw accepted, against what the database holds.
CHECKS = [
    ("findings recorded (HTML)", "findings", ["findings_created"]),
    ("finding edits (HTML; history entries)", "finding_summary_edits", ["findings_edited"]),
    ("dip-sample answers (HTML grid and API)", "answers", ["answers_html", "answers_api"]),
    ("sampled cases (API)", "sampled_cases", ["cases_api"]),
    ("progress updates (HTML and API)", "progress_updates", ["progress_html", "progress_api"]),
    ("sign-offs (timeline entries)", "sign_off_entries", ["sign_offs"]),
    ("sign-offs (verified actions)", "verified_actions", ["sign_offs"]),
    ("action edits (API; history entries)", "action_title_edits", ["action_edits_api"]),
]


def compare(writes: Counter, before: dict, after: dict) -> list[dict]:
    checks = []
    for label, rows, kinds in CHECKS:
        accepted = sum(writes.get(kind, 0) for kind in kinds)
        stored = after[rows] - before[rows]
        checks.append({"what": label, "accepted": accepted, "stored": stored, "lost": max(0, accepted - stored), "extra": max(0, stored - accepted)})
    return checks


# The server and the load -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_gunicorn(port: int, workers: int, environment: dict, log: Path) -> subprocess.Popen:
    command = [
        str(BIN / "gunicorn"), "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
        "--timeout", "60", "--error-logfile", "-", "--no-control-socket", "wsgi:app",
    ]
    with open(log, "w") as handle:  # the child keeps its own copy of the descriptor
        server = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn stopped at start:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(0.3)
    stop(server)
    raise SystemExit(f"gunicorn did not answer /healthz within 60 s:\n{log.read_text()[-3000:]}")


def server_cpu(server: subprocess.Popen) -> float:
    """CPU seconds used so far by gunicorn and its workers."""
    import psutil  # installed with locust

    try:
        processes = [psutil.Process(server.pid)]
        processes += processes[0].children(recursive=True)
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def stop(server: subprocess.Popen) -> None:
    """TERM to gunicorn's own process (it stops its workers), KILL if it lingers."""
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)


def run_locust(port: int, args, environment: dict, fixture: Path, stats: Path, counts: Path, log: Path) -> None:
    command = [
        str(BIN / "locust"), "-f", str(HERE / "locustfile.py"), "--headless",
        "--users", str(args.users), "--spawn-rate", str(args.spawn_rate), "--run-time", f"{args.duration}s",
        "--host", f"http://127.0.0.1:{port}", "--stop-timeout", "30", "--only-summary", "--loglevel", "WARNING",
    ]
    env = {**environment, "LOADTEST_FIXTURE": str(fixture), "LOADTEST_STATS": str(stats), "LOADTEST_COUNTS_DIR": str(counts)}
    with open(log, "w") as handle:
        finished = subprocess.run(command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT, timeout=args.duration + 120)
    # locust exits 1 when a request failed: that is reported from its statistics.
    if not stats.exists():
        raise SystemExit(f"locust wrote no statistics (exit {finished.returncode}):\n{log.read_text()[-3000:]}")


# The report --------------------------------------------------------------------------------


def markdown(result: dict) -> str:
    total = result["total"]
    lines = [
        f"# Load test: {result['users']} users for {result['duration_s']} s, gunicorn with {result['workers']} workers, {result['database']}",
        "",
        f"{result['when']} on {result['machine']} (locust and gunicorn on the same machine, over loopback).",
        f"gunicorn used {result['server_cpu_ms_per_request']} ms of CPU a request ({result['server_cpu_share']} CPUs busy on average), "
        f"locust {result['locust_cpu_share']} CPUs; load average {result['load_average'][0]} at the start and {result['load_average'][1]} at the end "
        "(above 2 means other work was competing for the 2 CPUs, and every time below is longer for it).",
        f"Rate limits: {result['rate_limits']}.",
        "",
        f"**{total['rps']} requests a second** over {total['requests']:,} requests; "
        f"p50 {total['p50_ms']} ms, **p95 {total['p95_ms']} ms**, p99 {total['p99_ms']} ms; "
        f"**{result['failures']} failed**; **lost writes: {result['lost_writes']}** "
        f"(rows beyond the writes accepted: {result['unexpected_rows']}); errors logged by gunicorn: {result['server_errors_logged']}.",
        "",
        "| request | count | failed | per second | p50 ms | p95 ms | p99 ms | max ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, e in result["requests"].items():
        lines.append(f"| {name} | {e['requests']} | {e['failures']} | {e['rps']} | {e['p50_ms']} | {e['p95_ms']} | {e['p99_ms']} | {e['max_ms']} |")
    lines.append(f"| **all** | **{total['requests']}** | **{total['failures']}** | **{total['rps']}** | {total['p50_ms']} | **{total['p95_ms']}** | {total['p99_ms']} | {total['max_ms']} |")
    lines += [
        "",
        "Writes accepted by the server (counted by locust) against rows in the database afterwards:",
        "",
        "| write | accepted | stored | lost | extra |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for check in result["checks"]:
        lines.append(f"| {check['what']} | {check['accepted']} | {check['stored']} | {check['lost']} | {check['extra']} |")
    conflicts = ", ".join(f"{kind.replace('_', ' ')} {n}" for kind, n in result["conflicts"].items()) or "none"
    lines += [
        "",
        f"Legitimate conflicts, not errors (the other person's save came first; the page or API said so and wrote nothing): {conflicts}.",
    ]
    if result["errors"]:
        lines += ["", "Failures:", ""]
        lines += [f"- {e['name']}: {e['error']} (×{e['occurrences']})" for e in result["errors"]]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
