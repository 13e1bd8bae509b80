"""Measure the main pages on a generated council, in one run, in this process.

Requests go through Flask's test client to the real app (create_app with production
settings apart from plain-http cookies), signed in through the real sign-in form or
with a real API token. Server time is taken by a WSGI middleware around the app: from
the request entering the app to the last byte of the body, so it leaves out the test
client's own work. SQL statements are counted with a before_cursor_execute listener on
the engine. Every page is warmed up first, then the pages are requested in turns
(round-robin), so a burst of noise from elsewhere on the machine falls on all of them
alike, the bare page included.

The bare page exists only in this benchmark app: it renders the base template (header,
navigation, footer) for an anonymous visitor and runs no SQL — the floor that the pages
are compared with.
"""

from __future__ import annotations

import math
import re
import statistics
import time
from typing import Any, Callable

from jinja2 import ChoiceLoader, DictLoader
from sqlalchemy import event, text

from qa_audit.extensions import db

BARE_TEMPLATE = """{% extends "base.html" %}
{% block title %}Benchmark{% endblock %}
{% block main_content %}<h1 class="govuk-heading-l">Benchmark</h1>{% endblock %}
"""
_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')

# Targets (issue 6): at scale 1 on SQLite.
P95_LIMIT_MS = 50
BARE_MULTIPLE = 4
MAX_QUERIES = 12


class Meter:
    """WSGI middleware: the time the app takes over a request and the SQL it runs."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app
        self.queries = 0
        self.seconds = 0.0
        self.cpu_seconds = 0.0

    def count(self, *args, **kwargs) -> None:
        self.queries += 1

    def __call__(self, environ, start_response):
        self.queries = 0
        started, cpu_started = time.perf_counter(), time.thread_time()
        result = self.wsgi_app(environ, start_response)
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        self.seconds = time.perf_counter() - started
        self.cpu_seconds = time.thread_time() - cpu_started
        return [body]


def bench_app(database_url: str):
    """The product app with a bare page added; nothing else differs from production
    but cookies that work over plain http (the test client's) and the garbage
    collection, which `python -m bench` tunes for its process as wsgi.py does."""
    from flask import render_template

    from qa_audit import create_app
    from qa_audit.auth.permissions import public

    app = create_app(
        {
            "SECRET_KEY": "benchmark-only-secret-key",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SESSION_COOKIE_SECURE": False,
            "REMEMBER_COOKIE_SECURE": False,
            "SERVER_NAME": None,
        }
    )
    app.jinja_loader = ChoiceLoader([DictLoader({"bench/bare.html": BARE_TEMPLATE}), app.jinja_loader])

    @public
    def bare():
        return render_template("bench/bare.html")

    app.add_url_rule("/bench/bare", "bench_bare", bare)
    return app


def sign_in(client, email: str, password: str) -> None:
    page = client.get("/cookies").get_data(as_text=True)
    token = _CSRF.search(page).group(1)
    response = client.post("/sign-in", data={"email": email, "password": password, "csrf_token": token})
    if response.status_code != 302:
        raise RuntimeError(f"Could not sign in as {email}: {response.status_code}")


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def subjects(meta: dict[str, Any]) -> dict[str, Any]:
    """What each page shows: the biggest plan; the person with the most actions; a
    completed targeted visit that follows up an earlier one, with at least three parts
    (a dip sample among them) and about 60 findings of its own and its parts'; one of
    the busy head of service's services."""
    findings = """(SELECT COUNT(*) FROM findings f WHERE f.audit_id = v.id
                      OR f.audit_id IN (SELECT c.id FROM audits c WHERE c.parent_id = v.id))"""
    parts = "(SELECT COUNT(*) FROM audits c WHERE c.parent_id = v.id)"
    # The best fit first (a tiny council may have no visit with all of it).
    visit = db.session.execute(
        text(
            f"""
            SELECT v.id, v.title, {parts} AS parts, {findings} AS findings
            FROM audits v
            WHERE v.type = 'targeted_visit' AND v.status = 'completed'
            ORDER BY v.follow_up_of_id IS NULL,
                     NOT EXISTS (SELECT 1 FROM audits d WHERE d.parent_id = v.id AND d.type = 'dip_sample' AND d.status = 'completed'),
                     {parts} < 3,
                     ABS({findings} - 60), v.id
            LIMIT 1
            """
        )
    ).one()
    head = meta["users"]["head"]
    busy_actions = db.session.scalar(text("SELECT COUNT(*) FROM actions WHERE owner_id = :id"), {"id": head})
    plan_actions = db.session.scalar(
        text("SELECT COUNT(*) FROM actions a JOIN plan_priorities p ON p.id = a.plan_priority_id WHERE p.plan_id = :id"),
        {"id": meta["big_plan_id"]},
    )
    service = meta["busy_head_services"][0]
    service_open = db.session.scalar(
        text("SELECT COUNT(*) FROM actions WHERE service_id = :id AND status IN ('not_started', 'in_progress')"), {"id": service}
    )
    return {
        "visit": {"id": visit.id, "title": visit.title, "parts": visit.parts, "findings": visit.findings},
        "plan": {"id": meta["big_plan_id"], "actions": plan_actions},
        "busy_owner": {"id": head, "actions": busy_actions},
        "service": {"id": service, "open_actions": service_open},
    }


def pages(meta: dict[str, Any], chosen: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(page, who, path). Who: "head" (a head of service with 2,000 actions, owner of
    the biggest plan), "qa_lead", "head_api"/"qa_api" (bearer tokens), "anonymous"."""
    plan, visit, service, owner = chosen["plan"]["id"], chosen["visit"]["id"], chosen["service"]["id"], chosen["busy_owner"]["id"]
    return [
        ("home", "head", "/"),
        ("programme", "qa_lead", "/programme"),
        ("audit_report", "qa_lead", f"/audits/{visit}/report"),
        ("tracker", "head", f"/plans/{plan}"),
        ("my_actions", "head", "/my-actions"),
        ("actions_list_filtered", "qa_lead", f"/actions?service={service}&status=not_started&status=in_progress"),
        ("api_plan_summary", "head_api", f"/api/v1/plans/{plan}/summary"),
        ("api_actions_list", "head_api", f"/api/v1/actions?owner_id={owner}&status=not_started&status=in_progress"),
    ]


def measure(
    database_url: str, meta: dict[str, Any], *, requests: int = 50, warmup: int = 5, log: Callable[[str], None] = print, tune_gc: bool = False
) -> dict[str, Any]:
    """tune_gc: collect garbage as a gunicorn worker does (wsgi.py); a process-wide
    setting, so only for the benchmark's own process."""
    app = bench_app(database_url)
    if tune_gc:
        from qa_audit import tune_garbage_collection

        tune_garbage_collection()
    meter = Meter(app.wsgi_app)
    app.wsgi_app = meter
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", meter.count)
        chosen = subjects(meta)
        db.session.remove()

    clients = {name: app.test_client() for name in ("head", "qa_lead", "head_api", "anonymous")}
    sign_in(clients["head"], meta["emails"]["head"], meta["password"])
    sign_in(clients["qa_lead"], meta["emails"]["qa_lead"], meta["password"])
    headers = {"head_api": {"Authorization": f"Bearer {meta['tokens']['head']}"}}

    plan = [("bare", "anonymous", "/bench/bare")] + pages(meta, chosen)
    samples: dict[str, list[tuple[float, float, int]]] = {name: [] for name, _, _ in plan}
    sizes: dict[str, int] = {}

    def fetch(name: str, who: str, path: str) -> tuple[float, float, int]:
        response = clients[who].get(path, headers=headers.get(who, {}))
        if response.status_code != 200:
            raise RuntimeError(f"{name}: GET {path} answered {response.status_code}")
        sizes[name] = len(response.get_data())
        return meter.seconds, meter.cpu_seconds, meter.queries

    log(f"Warming up ({warmup} requests a page)")
    for _ in range(warmup):
        for name, who, path in plan:
            fetch(name, who, path)
    log(f"Measuring ({requests} requests a page, in turns)")
    for _ in range(requests):
        for name, who, path in plan:
            samples[name].append(fetch(name, who, path))

    with app.app_context():
        db.engine.dispose()

    def summary(name: str) -> dict[str, Any]:
        times = [seconds * 1000 for seconds, _, _ in samples[name]]
        cpu = [seconds * 1000 for _, seconds, _ in samples[name]]
        queries = [count for _, _, count in samples[name]]
        return {
            "p50_ms": round(statistics.median(times), 2),
            "p95_ms": round(percentile(times, 0.95), 2),
            "cpu_p50_ms": round(statistics.median(cpu), 2),
            "cpu_p95_ms": round(percentile(cpu, 0.95), 2),
            "queries": max(queries),
            "queries_min": min(queries),
            "bytes": sizes[name],
        }

    bare = summary("bare")
    return {
        "requests": requests,
        "warmup": warmup,
        "bare": bare,
        "pages": {name: {**summary(name), "path": path, "as": who} for name, who, path in plan if name != "bare"},
        "subjects": chosen,
    }


def check_targets(result: dict[str, Any], baseline: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """Each page against the issue's targets: at scale 1, p95 under 50 ms and under 4x
    the bare page's; at every scale, at most 12 queries; against a scale-1 baseline, the
    same queries and a p95 under 3x. (They are set for SQLite; on another database they
    are shown for comparison.)"""
    bare_p95 = result["bare"]["p95_ms"]
    checks = {}
    for name, page in result["pages"].items():
        check = {}
        if result["scale"] == 1:
            check["p95_under_50ms"] = page["p95_ms"] < P95_LIMIT_MS
            check["p95_under_4x_bare"] = page["p95_ms"] < BARE_MULTIPLE * bare_p95
        check["queries_at_most_12"] = page["queries"] <= MAX_QUERIES
        if baseline and name in baseline.get("pages", {}):
            before = baseline["pages"][name]
            check["p95_under_3x_scale_1"] = page["p95_ms"] < 3 * before["p95_ms"]
            check["queries_same_as_scale_1"] = page["queries"] == before["queries"]
        checks[name] = check
    return checks


def markdown(result: dict[str, Any], baseline: dict[str, Any] | None = None) -> str:
    bare = result["bare"]
    growth = baseline is not None
    lines = [
        f"Scale {result['scale']:g} on {result['database']} ({result['requests']} requests a page after {result['warmup']} to warm up; "
        f"{result['server']}).",
        "",
        f"Bare page (base template, no SQL): median {bare['p50_ms']:.1f} ms, 95th percentile {bare['p95_ms']:.1f} ms "
        f"(CPU median {bare['cpu_p50_ms']:.1f} ms). Server time is wall-clock, in this process; CPU is this thread's "
        "(on SQLite it includes the database's work, on PostgreSQL not the server's).",
        "",
        "| page | median ms | p95 ms | p95 ÷ bare p95 | CPU median ms | SQL queries | "
        + ("p95 ÷ scale 1 | " if growth else "")
        + "targets |",
        "| --- | ---: | ---: | ---: | ---: | ---: | " + ("---: | " if growth else "") + "--- |",
    ]
    for name, page in result["pages"].items():
        check = result["targets"][name]
        missed = [key for key, ok in check.items() if not ok]
        row = f"| {name} | {page['p50_ms']:.1f} | {page['p95_ms']:.1f} | {page['p95_ms'] / bare['p95_ms']:.1f}× | {page['cpu_p50_ms']:.1f} | {page['queries']} | "
        if growth:
            before = baseline["pages"].get(name)
            row += f"{page['p95_ms'] / before['p95_ms']:.1f}× | " if before else "– | "
        row += ("all met" if not missed else "missed: " + ", ".join(missed)) + " |"
        lines.append(row)
    if result["database"] != "sqlite":
        lines += ["", "The targets are set for SQLite; on this database they are shown for comparison."]
    machine = result.get("machine")
    if machine:
        lines += ["", f"Machine: {machine['cpus']} CPUs, load average {', '.join(str(x) for x in machine['load_average'])} when measured (other work on it slows every page alike)."]
    generated = result.get("generated")
    if generated:
        lines += ["", f"Data generated in {generated['seconds']:.0f} s: " + ", ".join(f"{count:,} {table}" for table, count in generated["rows"].items()) + "."]
    return "\n".join(lines) + "\n"
