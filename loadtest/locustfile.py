"""Who uses qa_audit at once, and what they do (ISSUE 6, item 2). Run by loadtest/run.py.

Four kinds of user, in these proportions of the users started:

- QA leads (5): browse the programme, the trackers, the actions list and reports. Read only.
- Auditors (20): record findings on the audits they work on, edit the findings they
  share with the other auditors of the audit (two of them editing one finding at once
  is a legitimate conflict: 409, counted apart), answer their own cases on dip-sample
  grids that three auditors save at once, and post progress on their own actions,
  sometimes marking one completed.
- Heads of service (10): read their home page and trackers, and sign off completed
  actions; two heads are in charge of each action, so one of two sign-offs of the same
  action at once gets "only a completed action can be signed off" (legitimate, counted apart).
- API clients (15): reporting integrations with bearer tokens listing actions and plan
  summaries, posting progress, editing actions with the version they read (a change
  since is a legitimate 409, counted apart), and feeding sampled cases into a dip sample.

People use the HTML pages as a browser would: they sign in through the form, read each
form (CSRF token, hidden versions) before posting it and follow the redirect after it.

Every write the server accepts is counted by kind; the counts are written to
$LOADTEST_COUNTS_DIR/counts-<pid>.json when locust stops, and run.py compares them with
the rows in the database. The request statistics go to $LOADTEST_STATS.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time
from collections import Counter
from pathlib import Path

import gevent
from locust import HttpUser, between, events, task

import pages  # loadtest/pages.py: locust puts the locustfile's folder on sys.path

FIXTURE = json.loads(Path(os.environ["LOADTEST_FIXTURE"]).read_text())
ANSWERS = ["met", "partially_met", "not_met", "not_applicable"]
KINDS = ["strength", "area_for_improvement"]
THEMES = ["management_oversight", "supervision", "voice_of_the_child", "timeliness", "recording", ""]

writes: Counter[str] = Counter()  # accepted writes, by kind
conflicts: Counter[str] = Counter()  # legitimate conflicts, by kind
_accounts = {role: itertools.count() for role in ("qa_leads", "auditors", "heads_of_service", "tokens")}
_serial = itertools.count(1)


def take(role: str):
    """The next account of this role: each user its own while there are enough."""
    accounts = FIXTURE[role]
    return accounts[next(_accounts[role]) % len(accounts)]


def unique() -> str:
    return f"{os.getpid()}-{next(_serial)}"


def _problem(name: str, message: str) -> None:
    """Count a failure that no single response shows, under the page it is about."""
    events.request.fire(
        request_type="CHECK", name=name, response_time=0, response_length=0, exception=AssertionError(message), context={}
    )


class Browser(HttpUser):
    """A person using the HTML pages."""

    abstract = True
    wait_time = between(0.5, 2.5)
    role = ""

    def on_start(self):
        self.me = take(self.role)
        self.sign_in()

    # How a browser reads and posts pages -----------------------------------------------

    def sign_in(self):
        form = self.form(self.page("/sign-in", "GET /sign-in"), "email", "GET /sign-in")
        if form is None:
            return
        data = form.data(email=self.me["email"], password=FIXTURE["password"])
        with self.client.post("/sign-in", data=data, name="POST /sign-in", allow_redirects=False, catch_response=True) as r:
            if r.status_code != 302:
                r.failure(f"sign-in refused: {r.status_code}")

    def page(self, path: str, name: str) -> str | None:
        """A page that must be there (200); anything else is an error."""
        with self.client.get(path, name=name, allow_redirects=False, catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"{r.status_code} for {path} (to {r.headers.get('Location', '-')})")
                return None
            return r.text

    def submit(self, path: str, data, name: str, *, conflict: str | None = None):
        """Post a form. A redirect is success (None is returned for it, or the page it
        leads to); a 409 is a conflict, legitimate when ``conflict`` names its kind."""
        with self.client.post(path, data=data, name=name, allow_redirects=False, catch_response=True) as r:
            if r.status_code == 302:
                location = r.headers.get("Location", "")
                outcome = "ok"
            elif r.status_code == 409 and conflict:
                r.success()
                conflicts[conflict] += 1
                return "conflict", None
            else:
                r.failure(f"{r.status_code} for POST {path}: {pages.error_message(r.text) or r.text[:200]!r}")
                return "failed", None
        return outcome, location

    def form(self, page: str | None, field: str, name: str) -> pages.Form | None:
        """The page's POST form with this field. A page that came but lacks the form is
        an error (so a changed page cannot quietly stop the writes being tested)."""
        if page is None:
            return None
        form = pages.form_with(page, field)
        if form is None:
            _problem(name, f"no form with a {field!r} field on the page")
        return form

    def follow(self, location: str, name: str) -> str | None:
        path = location.split("://", 1)[-1]
        path = path[path.find("/"):] if "://" in location else location
        return self.page(path, name)

    def think(self, low: float = 0.5, high: float = 2.0):
        gevent.sleep(random.uniform(low, high))


class QaLead(Browser):
    weight = 5
    role = "qa_leads"

    @task(3)
    def home(self):
        self.page("/", "GET /")

    @task(3)
    def programme(self):
        self.page("/programme", "GET /programme")

    @task(2)
    def programme_in_progress(self):
        self.page("/programme?status=in_progress", "GET /programme?status=")

    @task(1)
    def plans(self):
        self.page("/plans", "GET /plans")

    @task(4)
    def tracker(self):
        self.page(f"/plans/{random.choice(FIXTURE['plans'])}", "GET /plans/[id] (tracker)")

    @task(2)
    def tracker_red(self):
        self.page(f"/plans/{random.choice(FIXTURE['plans'])}?brag=red", "GET /plans/[id]?brag=red")

    @task(2)
    def actions_list(self):
        plan = random.choice(FIXTURE["plans"])
        self.page(f"/actions?status=in_progress&plan={plan}&page={random.randint(1, 2)}", "GET /actions?status=&plan=")

    @task(2)
    def audit_report(self):
        self.page(f"/audits/{random.choice(FIXTURE['completed_audits'])}/report", "GET /audits/[id]/report")

    @task(1)
    def board_report(self):
        self.page(f"/plans/{random.choice(FIXTURE['plans'])}/board-report", "GET /plans/[id]/board-report")


class Auditor(Browser):
    weight = 20
    role = "auditors"

    def on_start(self):
        super().on_start()
        self.cases = list(self.me["grid_cases"])
        self.open_actions = list(self.me["open_actions"])

    @task(3)
    def record_finding(self):
        audit_id = random.choice(self.me["recording_audits"])["audit_id"]
        page = self.page(f"/audits/{audit_id}/findings/new", "GET /audits/[id]/findings/new")
        form = self.form(page, "summary", "GET /audits/[id]/findings/new")
        if form is None:
            return
        self.think()
        data = form.data(
            kind=random.choice(KINDS),
            theme=random.choice(THEMES),
            summary=f"Supervision was regular but not reflective on the cases seen ({unique()}).",
            evidence="Supervision records for cases LT-1042 and LT-2210.",
        )
        outcome, location = self.submit(f"/audits/{audit_id}/findings/new", data, "POST /audits/[id]/findings/new")
        if outcome == "ok":
            writes["findings_created"] += 1
            self.follow(location, "GET /audits/[id]/findings")

    @task(2)
    def edit_shared_finding(self):
        audit = random.choice(self.me["recording_audits"])
        finding_id = random.choice(audit["shared_findings"])
        page = self.page(f"/findings/{finding_id}/edit", "GET /findings/[id]/edit")
        form = self.form(page, "summary", "GET /findings/[id]/edit")
        if form is None:
            return
        self.think(1.0, 3.0)  # typing, while another auditor of the audit may save first
        data = form.data(summary=f"Management oversight was evident on most cases; edited by {self.me['email']} ({unique()}).")
        outcome, location = self.submit(f"/findings/{finding_id}/edit", data, "POST /findings/[id]/edit", conflict="finding_edit")
        if outcome == "ok":
            writes["findings_edited"] += 1
            self.follow(location, "GET /findings/[id]")

    @task(3)
    def answer_grid(self):
        if not self.cases:
            case = random.choice(self.me["grid_cases"])
            self.page(f"/audits/{case['audit_id']}/grid?page={case['page']}", "GET /audits/[id]/grid")
            return
        case = self.cases.pop(0)
        url = f"/audits/{case['audit_id']}/grid?page={case['page']}"
        page = self.page(url, "GET /audits/[id]/grid")
        form = self.form(page, f"version_{case['case_id']}", "GET /audits/[id]/grid")
        if form is None:
            return
        cells = {f"answer_{case['case_id']}_{q}": random.choice(ANSWERS) for q in FIXTURE["question_ids"]}
        if any(form.value(name) for name in cells):
            return  # already answered: nothing new to write
        self.think(2.0, 4.0)
        cells[f"notes_{case['case_id']}"] = f"Answered from the case file ({unique()})."
        outcome, location = self.submit(url, form.data(**cells), "POST /audits/[id]/grid")
        if outcome == "ok":
            writes["grid_saves"] += 1
            writes["answers_html"] += len(FIXTURE["question_ids"])
            self.follow(location, "GET /audits/[id]/grid")

    @task(3)
    def post_progress(self):
        if not self.open_actions:
            self.page("/my-actions", "GET /my-actions")
            return
        action_id = random.choice(self.open_actions)
        page = self.page(f"/actions/{action_id}/updates/new", "GET /actions/[id]/updates/new")
        form = self.form(page, "note", "GET /actions/[id]/updates/new")
        if form is None:
            return
        self.think()
        completing = random.random() < 0.3
        changes = {"note": f"Team managers briefed; audit of five cases booked ({unique()})."}
        if completing:
            changes.update(status="completed", evidence="Briefing notes and the audit results, filed in the team folder.")
        outcome, location = self.submit(f"/actions/{action_id}/updates/new", form.data(**changes), "POST /actions/[id]/updates/new")
        if outcome == "ok":
            writes["progress_html"] += 1
            if completing:
                self.open_actions.remove(action_id)
            self.follow(location, "GET /actions/[id]")

    @task(2)
    def my_actions(self):
        self.page("/my-actions", "GET /my-actions")

    @task(2)
    def my_audits(self):
        self.page("/my-audits", "GET /my-audits")
        audit_id = random.choice(self.me["recording_audits"])["audit_id"]
        self.page(f"/audits/{audit_id}/findings", "GET /audits/[id]/findings")


class HeadOfService(Browser):
    weight = 10
    role = "heads_of_service"

    @task(2)
    def home(self):
        self.page("/", "GET /")

    @task(3)
    def tracker(self):
        plan = random.choice(self.me["plans"] or FIXTURE["plans"])
        self.page(f"/plans/{plan}", "GET /plans/[id] (tracker)")

    @task(1)
    def tracker_red(self):
        plan = random.choice(self.me["plans"] or FIXTURE["plans"])
        self.page(f"/plans/{plan}?brag=red", "GET /plans/[id]?brag=red")

    @task(1)
    def board_report(self):
        plan = random.choice(self.me["plans"] or FIXTURE["plans"])
        self.page(f"/plans/{plan}/board-report", "GET /plans/[id]/board-report")

    @task(4)
    def sign_off(self):
        page = self.page("/actions/sign-off", "GET /actions/sign-off")
        waiting = pages.action_ids(page or "", "awaiting")
        if not waiting:
            return
        action_id = random.choice(waiting[:3])  # the longest waiting, as people do
        with self.client.get(f"/actions/{action_id}/verify", name="GET /actions/[id]/verify", allow_redirects=False, catch_response=True) as r:
            if r.status_code == 302:
                r.success()  # signed off by the other head since the list was read
                conflicts["sign_off"] += 1
                return
            if r.status_code != 200:
                r.failure(f"{r.status_code} for the sign-off page")
                return
            page = r.text
        form = self.form(page, "note", "GET /actions/[id]/verify")
        if form is None:
            return
        self.think()
        outcome, location = self.submit(f"/actions/{action_id}/verify", form.data(note="Evidence checked with the team manager."), "POST /actions/[id]/verify")
        if outcome != "ok":
            return
        # Signed off, or not (someone else did first): the action page says which.
        shown = self.follow(location, "GET /actions/[id]") or ""
        if pages.success_message(shown) and "signed off" in pages.success_message(shown):
            writes["sign_offs"] += 1
        elif pages.error_message(shown) and "Only a completed action" in pages.error_message(shown):
            conflicts["sign_off"] += 1
        else:
            _problem("GET /actions/[id]", f"neither signed off nor refused: action {action_id}")


class ApiClient(HttpUser):
    """A reporting integration with a bearer token."""

    weight = 15
    wait_time = between(0.2, 1.0)

    def on_start(self):
        self.client.headers["Authorization"] = f"Bearer {take('tokens')}"
        self.hot = FIXTURE["api_actions"][:80]  # the actions everyone is working on this week

    def call(self, method: str, path: str, name: str, *, ok: int = 200, conflict: str | None = None, **kwargs):
        with self.client.request(method, path, name=name, catch_response=True, **kwargs) as r:
            if r.status_code == ok:
                return r.json()
            if r.status_code == 409 and conflict:
                r.success()
                conflicts[conflict] += 1
                return None
            r.failure(f"{r.status_code} for {method} {path}: {r.text[:200]!r}")
            return None

    @task(4)
    def list_plan_actions(self):
        plan = random.choice(FIXTURE["plans"])
        self.call("GET", f"/api/v1/actions?plan_id={plan}&page={random.randint(1, 5)}&page_size=50", "GET /api/v1/actions?plan_id=")

    @task(2)
    def list_overdue(self):
        self.call("GET", "/api/v1/actions?overdue=true&page_size=100", "GET /api/v1/actions?overdue=true")

    @task(3)
    def plan_summary(self):
        self.call("GET", f"/api/v1/plans/{random.choice(FIXTURE['plans'])}/summary", "GET /api/v1/plans/[id]/summary")

    @task(2)
    def one_action(self):
        self.call("GET", f"/api/v1/actions/{random.choice(FIXTURE['api_actions'])}", "GET /api/v1/actions/[id]")

    @task(1)
    def audits_in_progress(self):
        self.call("GET", "/api/v1/audits?status=in_progress&page_size=50", "GET /api/v1/audits?status=")

    @task(3)
    def post_progress(self):
        action_id = random.choice(self.hot)
        body = {"note": f"Figures refreshed from the case system ({unique()})."}
        # A 409 here is legitimate: a head of service signed the action off meanwhile.
        if self.call("POST", f"/api/v1/actions/{action_id}/updates", "POST /api/v1/actions/[id]/updates", ok=201, conflict="progress_api", json=body):
            writes["progress_api"] += 1

    @task(2)
    def edit_action(self):
        action_id = random.choice(self.hot)
        action = self.call("GET", f"/api/v1/actions/{action_id}", "GET /api/v1/actions/[id]")
        if action is None:
            return
        gevent.sleep(random.uniform(0.1, 0.5))
        body = {"version": action["version"], "title": f"{action['title'].split(' [')[0]} [{unique()}]"[:200]}
        if self.call("PATCH", f"/api/v1/actions/{action_id}", "PATCH /api/v1/actions/[id]", conflict="action_edit_api", json=body):
            writes["action_edits_api"] += 1

    @task(1)
    def feed_case(self):
        body = {
            "case_reference": f"API{unique()}"[:32],
            "answers": {str(q): random.choice(ANSWERS) for q in FIXTURE["question_ids"]},
        }
        if self.call("POST", f"/api/v1/audits/{FIXTURE['feed_audit_id']}/cases", "POST /api/v1/audits/[id]/cases", ok=201, json=body):
            writes["cases_api"] += 1
            writes["answers_api"] += len(body["answers"])


# What run.py reads ------------------------------------------------------------------------


def _entry(entry) -> dict:
    return {
        "requests": entry.num_requests,
        "failures": entry.num_failures,
        "rps": round(entry.total_rps, 2),
        "avg_ms": round(entry.avg_response_time, 1),
        "p50_ms": entry.get_response_time_percentile(0.5),
        "p95_ms": entry.get_response_time_percentile(0.95),
        "p99_ms": entry.get_response_time_percentile(0.99),
        "max_ms": round(entry.max_response_time or 0, 1),
    }


@events.test_start.add_listener
def _started(environment, **kwargs):
    environment.loadtest_started = time.time()


@events.quitting.add_listener
def _save(environment, **kwargs):
    counts_dir = os.environ.get("LOADTEST_COUNTS_DIR")
    if counts_dir:
        Path(counts_dir).mkdir(parents=True, exist_ok=True)
        Path(counts_dir, f"counts-{os.getpid()}.json").write_text(json.dumps({"writes": writes, "conflicts": conflicts}))
    stats_path = os.environ.get("LOADTEST_STATS")
    if stats_path and environment.stats is not None:
        stats = environment.stats
        Path(stats_path).write_text(
            json.dumps(
                {
                    "seconds": round(time.time() - getattr(environment, "loadtest_started", time.time()), 1),
                    "users": environment.runner.user_count if environment.runner else None,
                    "total": _entry(stats.total),
                    "requests": {f"{e.method} {e.name}" if not e.name.startswith(e.method) else e.name: _entry(e) for e in stats.entries.values()},
                    "errors": [{"name": f"{e.method} {e.name}", "error": str(e.error), "occurrences": e.occurrences} for e in stats.errors.values()],
                },
                indent=2,
            )
        )
