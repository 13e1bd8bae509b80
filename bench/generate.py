"""A synthetic council: ten years of audits, findings, actions and plans, at a chosen scale.

Scale 1 is a large council over ten years: 60 services, 400 users, 5,000 audits of the
four types (targeted visits with their parts), 2,000 dip samples with 10 cases of 8
answers, 50,000 findings, 100,000 actions, 300,000 progress updates, 25 improvement
plans — and the history that all of it writes, one entry per change, shaped as the
session listener (qa_audit.history.tracking) writes it: a create with every field set,
then an update with [before, after] for each status change.

Rows go in with SQLAlchemy Core executemany in chunks, in the tables' dependency
order, with ids chosen here (so no row has to be read back). The schema comes from the
migrations, as in production. On SQLite the connection that loads runs without a
journal or fsync and with a big page cache; WAL mode is set again when it is done.

The subjects the measurements use keep the same size at every scale, so growth in a
page's time means growth with the size of the tables, not of what the page shows:
the busiest person owns 2,000 actions, the biggest plan has 2,000, and the services,
plans and visits are the same size on average whatever the scale.
"""

from __future__ import annotations

import bisect
import itertools
import random
import secrets
import time
from collections import defaultdict
from datetime import date, datetime, time as dtime, timedelta, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import text

from qa_audit import dates
from qa_audit.extensions import db

# Scale 1.
SCALE_1 = {
    "services": 60,
    "users": 400,
    "audits": 5000,
    "dip_samples": 2000,
    "targeted_visits": 500,
    "findings": 50_000,
    "actions": 100_000,
    "updates": 300_000,
    "plans": 25,
    "question_sets": 20,
}
CASES_PER_SAMPLE = 10
QUESTIONS_PER_SET = 8
# The measured subjects: the same size at every scale.
BUSY_OWNER_ACTIONS = 2000
BIG_PLAN_ACTIONS = 2000
BUSY_HEAD_SERVICES = 3
# Share of actions raised directly under a plan priority (the rest come from findings),
# and of findings' actions that are also placed under a plan priority.
PLAN_ONLY_SHARE = 0.2
FINDING_IN_PLAN_SHARE = 0.05
YEARS = 10

PASSWORD = "bench-password-not-secret"
EMAILS = {
    "admin": "admin@bench.example",
    "qa_lead": "qa.lead@bench.example",
    "head": "head.of.service@bench.example",
}

AGENCIES = ["social_care", "police", "health", "education", "probation", "youth_justice", "early_help", "other"]
THEMES = [
    "thresholds_and_decision_making",
    "management_oversight",
    "multi_agency_working",
    "referral_quality",
    "supervision",
    "workload",
    "voice_of_the_child",
    "timeliness",
    "recording",
]
JUDGEMENTS = ["outstanding", "good", "requires_improvement", "inadequate"]
TEAMS = [
    "Multi-Agency Safeguarding Hub",
    "Initial Response Team",
    "Assessment Team",
    "Child Protection Team",
    "Children in Care Team",
    "Care Leavers Service",
    "Disabled Children's Team",
    "Early Help Hub",
    "Family Support Team",
    "Fostering Service",
    "Adoption Service",
    "Youth Justice Service",
    "Domestic Abuse Hub",
    "Edge of Care Team",
    "Court Team",
]
AREAS = ["North", "South", "East", "West", "Central", "Riverside", "Hillside", "Docklands", "Old Town", "Valley"]
TOPICS = [
    "management oversight of strategy meetings",
    "multi-agency attendance at strategy meetings",
    "medical investigations for younger children",
    "the voice of the child in assessments",
    "timeliness of child protection visits",
    "quality of referrals from schools",
    "supervision records",
    "threshold decisions at the front door",
    "chronologies on case files",
    "return home interviews",
    "pathway plans for care leavers",
    "contingency planning",
]
VERBS = ["Improve", "Review", "Audit", "Embed", "Strengthen", "Agree", "Train staff on", "Report on"]
FIRST_NAMES = ["Amira", "Ben", "Chloe", "Dev", "Ella", "Farid", "Grace", "Hamza", "Isla", "Jack", "Kemi", "Liam", "Maya", "Noah", "Orla", "Priya", "Quinn", "Ruth", "Sam", "Tariq"]
LAST_NAMES = ["Adams", "Begum", "Clarke", "Davies", "Evans", "Fraser", "Gill", "Hughes", "Iqbal", "Jones", "Khan", "Lewis", "Morgan", "Nolan", "Owen", "Patel", "Reid", "Shah", "Turner", "Walsh"]
SENTENCES = [
    "Case records show the child was seen alone and their views recorded.",
    "Strategy meeting held within timescales with police and health present.",
    "Management oversight is recorded but does not always give clear direction.",
    "Chronology not updated since the last review.",
    "Education were not invited to the strategy meeting.",
    "Supervision is regular and reflective.",
    "Contingency plan is not specific about what would happen if the plan fails.",
    "The assessment analyses risk well and is written for the family.",
    "Partners report the front door is easy to reach.",
    "Workloads in the team remain high after two vacancies.",
]
BOARDS = ["Practice and Development Board", "Strategic MASH Board", "Safeguarding Assurance Meeting", "Improvement Board"]
PRIORITIES = ["Front door", "Workforce", "Quality of practice", "Care leavers", "Partnership working", "Leadership and oversight", "Voice of the child", "Permanence"]
MEASURES = [("Average caseload", "cases", 24, 16), ("Visits within timescale", "%", 71, 95), ("Re-referrals within 12 months", "%", 24, 18), ("Audits graded good or better", "%", 48, 75)]

EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)


def counts_for(scale: float) -> dict[str, int]:
    counts = {key: max(1, round(value * scale)) for key, value in SCALE_1.items()}
    counts["plans"] = max(2, counts["plans"])
    counts["services"] = max(BUSY_HEAD_SERVICES + 1, counts["services"])
    counts["users"] = max(30, counts["users"])
    return counts


class Loader:
    """Buffers rows per table and writes them all, parents first, in big executemany
    chunks; makes the history entries as the listener would."""

    CHUNK = 20_000

    def __init__(self, connection):
        self.connection = connection
        self.tables = {table.name: table for table in db.metadata.sorted_tables}
        self.order = [table.name for table in db.metadata.sorted_tables]
        self.buffers: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.buffered = 0
        self.written: dict[str, int] = defaultdict(int)
        self.checked: set[str] = set()
        self.ids: dict[str, itertools.count] = defaultdict(lambda: itertools.count(1))
        self._inserts: dict[str, tuple[str, list[str], list]] = {}

    def next_id(self, table: str) -> int:
        return next(self.ids[table])

    def add(self, table: str, row: dict[str, Any]) -> None:
        if table not in self.checked:
            expected = set(self.tables[table].c.keys())
            if set(row) != expected:
                raise ValueError(f"{table}: missing {sorted(expected - set(row))}, unknown {sorted(set(row) - expected)}")
            self.checked.add(table)
        self.buffers[table].append(row)
        self.buffered += 1
        if self.buffered >= self.CHUNK:
            self.flush()

    def history(self, entity: str, entity_id: int, event: str, changes: dict[str, list[Any]], at: datetime, user_id: int | None) -> None:
        self.add(
            "history",
            {"id": self.next_id("history"), "at": at, "user_id": user_id, "entity": entity, "entity_id": entity_id, "event": event, "changes": changes},
        )

    def flush(self) -> None:
        for name in self.order:
            rows = self.buffers.get(name)
            if rows:
                if self.connection.dialect.name == "sqlite":
                    sql, keys, processors = self._plain_insert(name)
                    self.connection.exec_driver_sql(
                        sql, [tuple(process(row[key]) if process else row[key] for key, process in zip(keys, processors)) for row in rows]
                    )
                else:
                    self.connection.execute(self.tables[name].insert(), rows)
                self.written[name] += len(rows)
                self.buffers[name] = []
        self.buffered = 0

    def _plain_insert(self, name: str) -> tuple[str, list[str], list]:
        """For SQLite: the INSERT and each column's own bind processor (what SQLAlchemy
        would do to each value), run as a plain DB-API executemany of tuples."""
        if name not in self._inserts:
            dialect = self.connection.dialect
            quote = dialect.identifier_preparer
            columns = list(self.tables[name].c)
            sql = (
                f"INSERT INTO {quote.format_table(self.tables[name])} ({', '.join(quote.format_column(c) for c in columns)}) "
                f"VALUES ({', '.join('?' for _ in columns)})"
            )
            processors = [column.type.dialect_impl(dialect).bind_processor(dialect) for column in columns]
            self._inserts[name] = (sql, [column.key for column in columns], processors)
        return self._inserts[name]


def plain(value: Any) -> Any:
    """As qa_audit.history.tracking._plain shows a value."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def created(row: dict[str, Any], redact: frozenset[str] = frozenset(), **collections: list[Any]) -> dict[str, list[Any]]:
    """A create entry's changes: every field set, [None, value] (id and version left out)."""
    changes = {
        key: [None, "[redacted]" if key in redact else plain(value)]
        for key, value in row.items()
        if key not in ("id", "version") and value is not None
    }
    for key, members in collections.items():
        if members:
            changes[key] = [None, sorted(members)]
    return changes


class Council:
    """Generates one council's ten years. Every random choice comes from one seeded
    generator, so a scale and seed always give the same data."""

    def __init__(self, loader: Loader, scale: float, seed: int, password_hash: str):
        self.load = loader
        self.scale = scale
        self.rng = random.Random(seed)
        self.counts = counts_for(scale)
        self.password_hash = password_hash
        self.now = datetime.now(timezone.utc).replace(microsecond=0)
        self.today = dates.today()
        self.first_day = self.today - timedelta(days=365 * YEARS)
        self.follows_up: dict[int, int] = {}  # follow-up visit -> the visit it follows up

    # Helpers -------------------------------------------------------------------------

    def moment(self, day: date, hour_from: int = 8, hour_to: int = 18) -> datetime:
        seconds = self.rng.randrange(hour_from * 3600, hour_to * 3600)
        return datetime.combine(day, dtime(), tzinfo=timezone.utc) + timedelta(seconds=seconds)

    def between(self, start: datetime, end: datetime) -> datetime:
        if end <= start:
            return start
        return start + timedelta(seconds=self.rng.randrange(int((end - start).total_seconds()) + 1))

    def sentence(self, count: int = 2) -> str:
        return " ".join(self.rng.sample(SENTENCES, count))

    # People and services ----------------------------------------------------------

    def people(self) -> None:
        c, rng = self.counts, self.rng
        n = c["users"]
        n_qa = max(2, round(10 * self.scale))
        n_heads = max(2, round(c["services"] / 2))
        n_admins = max(1, round(2 * self.scale))
        n_auditors = round(n * 0.4)
        roles = ["admin", "qa_lead", "head_of_service"]
        roles += ["admin"] * (n_admins - 1) + ["qa_lead"] * (n_qa - 1) + ["head_of_service"] * (n_heads - 1)
        roles += ["auditor"] * n_auditors
        roles += ["viewer"] * (n - len(roles))
        self.users: dict[int, str] = {}
        created_at = self.moment(self.first_day - timedelta(days=30))
        admin_id = None
        for index, role in enumerate(roles):
            user_id = self.load.next_id("users")
            if index < 3:
                email = EMAILS[("admin", "qa_lead", "head")[index]]
                name = {0: "Bench Admin", 1: "Bench QA Lead", 2: "Bench Head of Service"}[index]
            else:
                name = f"{FIRST_NAMES[index % 20]} {LAST_NAMES[(index // 20) % 20]} {index}"
                email = f"user{index}@bench.example"
            row = {
                "id": user_id,
                "email": email,
                "name": name,
                "role": role,
                "active": index < 3 or rng.random() > 0.05,
                "password_hash": self.password_hash,
                "failed_logins": 0,
                "locked_at": None,
                "last_login_at": None,
                "created_at": created_at,
                "login_id": secrets.token_urlsafe(24),
                "calendar_token_hash": None,
                "version": 1,
            }
            self.load.add("users", row)
            self.load.history("user", user_id, "create", created(row, frozenset({"password_hash", "login_id", "calendar_token_hash"})), created_at, admin_id)
            self.users[user_id] = role
            admin_id = admin_id or user_id
        self.admin_id, self.qa_lead_id, self.head_id = 1, 2, 3
        by_role = defaultdict(list)
        for user_id, role in self.users.items():
            by_role[role].append(user_id)
        self.qa_leads = by_role["qa_lead"]
        self.heads = by_role["head_of_service"]
        self.managers = self.qa_leads + self.heads
        self.auditors = by_role["auditor"] + self.qa_leads
        # Who owns the actions: anyone but the busiest person (whose count is fixed), some busier than others.
        others = [user_id for user_id in self.users if user_id != self.head_id]
        weights = [rng.uniform(0.3, 3.0) for _ in others]
        self.owner_pool = others
        self.owner_weights = list(itertools.accumulate(weights))

        self.services: list[int] = []
        self.service_head: dict[int, int] = {}
        other_heads = [h for h in self.heads if h != self.head_id] or [self.head_id]
        for index in range(c["services"]):
            service_id = self.load.next_id("services")
            head = self.head_id if index < BUSY_HEAD_SERVICES else other_heads[index % len(other_heads)]
            row = {
                "id": service_id,
                "name": f"{TEAMS[index % len(TEAMS)]} {AREAS[(index // len(TEAMS)) % len(AREAS)]} {index + 1}",
                "description": None,
                "head_of_service_id": head,
                "active": rng.random() > 0.05,
                "version": 1,
            }
            self.load.add("services", row)
            self.load.history("service", service_id, "create", created(row), created_at, self.admin_id)
            self.services.append(service_id)
            self.service_head[service_id] = head

        self.tokens = {}
        for user_id, who in ((self.head_id, "head"), (self.qa_lead_id, "qa_lead")):
            from qa_audit.auth.models import hash_token

            plain_token = "qa_" + secrets.token_urlsafe(32)
            token_id = self.load.next_id("api_tokens")
            row = {
                "id": token_id,
                "user_id": user_id,
                "name": "bench",
                "token_hash": hash_token(plain_token),
                "prefix": plain_token[:10],
                "created_at": self.now,
                "last_used_at": None,
                "revoked_at": None,
            }
            self.load.add("api_tokens", row)
            self.load.history("api_token", token_id, "create", created(row, frozenset({"token_hash"})), self.now, user_id)
            self.tokens[who] = plain_token

    def pick_owner(self) -> int:
        return self.owner_pool[bisect.bisect_left(self.owner_weights, self.rng.random() * self.owner_weights[-1])]

    # Question sets ------------------------------------------------------------------

    def question_sets(self) -> None:
        self.set_questions: dict[int, list[int]] = {}
        at = self.moment(self.first_day - timedelta(days=20))
        for index in range(self.counts["question_sets"]):
            set_id = self.load.next_id("question_sets")
            row = {
                "id": set_id,
                "title": f"Dip sample questions: {TOPICS[index % len(TOPICS)]} ({index + 1})",
                "description": None,
                "lineage_id": set_id,
                "version_number": 1,
                "superseded": False,
                "retired": False,
                "created_at": at,
                "version": 1,
            }
            self.load.add("question_sets", row)
            self.load.history("question_set", set_id, "create", created(row), at, self.qa_lead_id)
            questions = []
            for position in range(1, QUESTIONS_PER_SET + 1):
                question_id = self.load.next_id("questions")
                row = {"id": question_id, "question_set_id": set_id, "text": f"Question {position}: was {self.rng.choice(TOPICS)} evident?", "position": position}
                self.load.add("questions", row)
                self.load.history("question", question_id, "create", created(row), at, self.qa_lead_id)
                questions.append(question_id)
            self.set_questions[set_id] = questions

    # Audits -------------------------------------------------------------------------

    def status_of(self, day: date) -> str:
        age = (self.today - day).days
        roll = self.rng.random()
        if age < 0:
            return "planned"
        if age > 60:
            return "cancelled" if roll < 0.05 else "completed"
        return "in_progress" if roll < 0.5 else "completed" if roll < 0.8 else "planned"

    def audits(self) -> None:
        c, rng = self.counts, self.rng
        span = (self.today + timedelta(days=180) - self.first_day).days
        n_visits = c["targeted_visits"]
        n_dips = c["dip_samples"]
        n_rest = max(0, c["audits"] - n_visits - n_dips)
        kinds = ["focus_group"] * (n_rest // 2) + ["strategy_meeting_audit"] * (n_rest - n_rest // 2) + ["dip_sample"] * n_dips
        rng.shuffle(kinds)
        # The audits the later steps need, by id: (type, service, status, started_at, ended_at, lead, parent).
        self.audit_info: dict[int, tuple] = {}
        visit_days = sorted(self.first_day + timedelta(days=rng.randrange(span)) for _ in range(n_visits))
        last_visit_of_service: dict[int, int] = {}
        visits = []
        for day in visit_days:
            service = rng.choice(self.services)
            follows = last_visit_of_service.get(service) if rng.random() < 0.5 else None
            audit_id = self.audit(day, "targeted_visit", service, parent=None, follow_up_of=follows)
            last_visit_of_service[service] = audit_id
            visits.append((audit_id, day, service))
        for kind in kinds:
            if visits and rng.random() < 0.35:
                parent, visit_day, service = rng.choice(visits)
                day = visit_day + timedelta(days=rng.randrange(0, 21))
            else:
                parent, service, day = None, rng.choice(self.services), self.first_day + timedelta(days=rng.randrange(span))
            self.audit(day, kind, service, parent=parent, follow_up_of=None)

    def audit(self, day: date, kind: str, service: int, *, parent: int | None, follow_up_of: int | None) -> int:
        rng = self.rng
        audit_id = self.load.next_id("audits")
        lead = rng.choice(self.auditors)
        auditors = sorted(set(rng.sample(self.auditors, rng.randrange(0, 3))) - {lead})
        if kind in ("targeted_visit", "strategy_meeting_audit"):
            agencies = sorted(rng.sample(AGENCIES, rng.randrange(2, 5)))
        elif kind == "focus_group" and rng.random() < 0.3:
            agencies = sorted(rng.sample(AGENCIES, rng.randrange(1, 3)))
        else:
            agencies = []
        status = self.status_of(day)
        created_at = self.moment(day - timedelta(days=rng.randrange(20, 90)))
        topic = rng.choice(TOPICS)
        label = {"targeted_visit": "Targeted visit", "dip_sample": "Dip sample", "focus_group": "Focus group", "strategy_meeting_audit": "Strategy meeting audit"}[kind]
        row = {
            "id": audit_id,
            "type": kind,
            "title": f"{label}: {topic}",
            "purpose": f"To assure the board about {topic}." if kind == "targeted_visit" or rng.random() < 0.3 else None,
            "service_id": service,
            "scheduled_for": day,
            "lead_auditor_id": lead,
            "parent_id": parent,
            "follow_up_of_id": follow_up_of,
            "question_set_id": rng.choice(list(self.set_questions)) if kind == "dip_sample" else None,
            "series_id": None,
            "status": "planned",
            "cancellation_reason": None,
            "reopen_reason": None,
            "started_at": None,
            "completed_at": None,
            "created_at": created_at,
            "version": 1,
        }
        self.load.history("audit", audit_id, "create", created(row, auditors=auditors, agency_rows=agencies), created_at, self.qa_lead_id)
        started = ended = None
        if status == "cancelled":
            at = self.moment(day - timedelta(days=rng.randrange(1, 10)))
            row.update(status="cancelled", cancellation_reason="The team was inspected that month.")
            self.load.history("audit", audit_id, "update", {"status": ["planned", "cancelled"], "cancellation_reason": [None, row["cancellation_reason"]]}, at, self.qa_lead_id)
            row["version"] += 1
        elif status in ("in_progress", "completed"):
            started = min(self.moment(day), self.now)
            row.update(status="in_progress", started_at=started)
            self.load.history("audit", audit_id, "update", {"status": ["planned", "in_progress"], "started_at": [None, plain(started)]}, started, lead)
            row["version"] += 1
            if status == "completed":
                ended = min(started + timedelta(days=rng.randrange(3, 30), seconds=rng.randrange(28800)), self.now)
                row.update(status="completed", completed_at=ended)
                self.load.history("audit", audit_id, "update", {"status": ["in_progress", "completed"], "completed_at": [None, plain(ended)]}, ended, lead)
                row["version"] += 1
        self.load.add("audits", row)
        for user_id in auditors:
            self.load.add("audit_auditors", {"audit_id": audit_id, "user_id": user_id})
        for agency in agencies:
            self.load.add("audit_agencies", {"audit_id": audit_id, "agency": agency})
        if follow_up_of is not None:
            self.follows_up[audit_id] = follow_up_of
        self.audit_info[audit_id] = (kind, service, row["status"], started, ended, lead, parent, row["question_set_id"], day)
        return audit_id

    def recording(self) -> None:
        """Cases and answers for the dip samples under way or done; details for focus
        groups and strategy meeting audits."""
        rng = self.rng
        values = ["met"] * 6 + ["partially_met"] * 2 + ["not_met"] * 2 + ["not_applicable"]
        for audit_id, (kind, _, status, started, ended, lead, _, question_set, day) in self.audit_info.items():
            if status not in ("in_progress", "completed"):
                continue
            end = ended or self.now
            if kind == "dip_sample":
                questions = self.set_questions[question_set]
                references = rng.sample(range(1000000, 9999999), CASES_PER_SAMPLE)
                for reference in references:
                    at = self.between(started, end)
                    case_id = self.load.next_id("sampled_cases")
                    row = {"id": case_id, "audit_id": audit_id, "case_reference": f"CS{reference}", "notes": None, "created_at": at, "version": 1}
                    self.load.add("sampled_cases", row)
                    self.load.history("sampled_case", case_id, "create", created(row), at, lead)
                    for question_id in questions:
                        answer_id = self.load.next_id("answers")
                        answer = {"id": answer_id, "sampled_case_id": case_id, "question_id": question_id, "value": rng.choice(values), "notes": None}
                        self.load.add("answers", answer)
                        self.load.history("answer", answer_id, "create", created(answer), at, lead)
            elif kind in ("focus_group", "strategy_meeting_audit"):
                at = self.between(started, end)
                details_id = self.load.next_id("audit_details")
                focus = kind == "focus_group"
                invited = sorted(rng.sample(AGENCIES, 4)) if not focus else None
                row = {
                    "id": details_id,
                    "audit_id": audit_id,
                    "participants_count": rng.randrange(4, 15) if focus else None,
                    "participant_roles": "Social workers and team managers" if focus else None,
                    "facilitator": "QA practice lead" if focus else None,
                    "themes": self.sentence() if focus else None,
                    "key_messages": self.sentence() if focus else None,
                    "assurance_statement": self.sentence(1) if focus else None,
                    "meeting_date": None if focus else day,
                    "agencies_invited": invited,
                    "agencies_attended": invited[: rng.randrange(1, 5)] if invited else None,
                    "within_timescale": None if focus else rng.random() < 0.8,
                    "chairing_quality": None if focus else rng.choice(JUDGEMENTS),
                    "agency_contributions": None if focus else {agency: rng.choice(JUDGEMENTS) for agency in invited[:2]},
                    "decision_recorded": None if focus else rng.random() < 0.9,
                    "version": 1,
                }
                self.load.add("audit_details", row)
                self.load.history("audit_details", details_id, "create", created(row), at, lead)

    # Findings and concern alerts ----------------------------------------------------------

    def findings(self) -> None:
        rng = self.rng
        started = [(audit_id, info) for audit_id, info in self.audit_info.items() if info[2] in ("in_progress", "completed")]
        weights = list(itertools.accumulate(2.0 if info[0] == "targeted_visit" else 1.0 for _, info in started))
        per_audit: dict[int, int] = defaultdict(int)
        for _ in range(self.counts["findings"]):
            per_audit[started[bisect.bisect_left(weights, rng.random() * weights[-1])][0]] += 1
        # (finding id, audit id, kind, created_at, service) of the findings actions come from.
        self.actionable: list[tuple] = []
        for audit_id, count in sorted(per_audit.items()):
            kind, service, status, begun, ended, lead, *_ = self.audit_info[audit_id]
            end = ended or self.now
            for _ in range(count):
                finding_id = self.load.next_id("findings")
                roll = rng.random()
                finding_kind = "strength" if roll < 0.35 else "area_for_improvement" if roll < 0.9 else "concern"
                at = self.between(begun, end)
                row = {
                    "id": finding_id,
                    "audit_id": audit_id,
                    "kind": finding_kind,
                    "theme": rng.choice(THEMES) if rng.random() < 0.9 else None,
                    "judgement": rng.choice(JUDGEMENTS) if rng.random() < 0.6 else None,
                    "summary": rng.choice(SENTENCES),
                    "evidence": self.sentence() if rng.random() < 0.5 else None,
                    "recorded_by_id": lead,
                    "created_at": at,
                    "version": 1,
                }
                self.load.add("findings", row)
                self.load.history("finding", finding_id, "create", created(row), at, lead)
                if finding_kind != "strength":
                    self.actionable.append((finding_id, audit_id, finding_kind, at, service))
                if finding_kind == "concern":
                    self.alerts(finding_id, service, at, lead)

    def alerts(self, finding_id: int, service: int, at: datetime, recorder: int) -> None:
        people = {self.service_head[service], self.rng.choice(self.qa_leads)}
        for user_id in sorted(people):
            alert_id = self.load.next_id("concern_alerts")
            row = {"id": alert_id, "finding_id": finding_id, "user_id": user_id, "notified_at": at, "emailed_at": at, "acknowledged_at": None}
            self.load.history("concern_alert", alert_id, "create", created(row), at, recorder)
            acknowledged = at + timedelta(hours=self.rng.randrange(1, 120))
            if at < self.now - timedelta(days=14) and acknowledged < self.now:
                row["acknowledged_at"] = acknowledged
                self.load.history("concern_alert", alert_id, "update", {"acknowledged_at": [None, plain(acknowledged)]}, acknowledged, user_id)
            self.load.add("concern_alerts", row)

    # Plans ----------------------------------------------------------------------------

    def plans(self) -> None:
        rng = self.rng
        self.plan_info: dict[int, tuple] = {}  # plan id -> (starts_on, ends_on, owner, service, [priority ids])
        other_heads = [h for h in self.heads if h != self.head_id] or [self.head_id]
        for index in range(self.counts["plans"]):
            plan_id = self.load.next_id("improvement_plans")
            if index == 0:
                starts_on, ends_on = self.today - timedelta(days=365), self.today + timedelta(days=365)
                owner, service, title = self.head_id, self.services[0], "Children's services improvement plan"
            else:
                starts_on = self.first_day + timedelta(days=rng.randrange(0, 365 * YEARS - 200))
                ends_on = starts_on + timedelta(days=rng.randrange(365, 1095))
                owner = rng.choice(other_heads)
                service = rng.choice(self.services) if rng.random() < 0.6 else None
                title = f"{rng.choice(PRIORITIES)} improvement plan {starts_on.year}/{str(starts_on.year + 1)[-2:]} ({index + 1})"
            at = self.moment(starts_on - timedelta(days=10))
            row = {
                "id": plan_id,
                "title": title,
                "description": None,
                "owner_id": owner,
                "service_id": service,
                "board": rng.choice(BOARDS),
                "starts_on": starts_on,
                "ends_on": ends_on,
                "created_at": at,
                "version": 1,
            }
            self.load.add("improvement_plans", row)
            self.load.history("plan", plan_id, "create", created(row), at, self.qa_lead_id)
            priorities = []
            for position in range(1, (6 if index == 0 else rng.randrange(3, 8)) + 1):
                priority_id = self.load.next_id("plan_priorities")
                priority = {"id": priority_id, "plan_id": plan_id, "title": PRIORITIES[(position - 1) % len(PRIORITIES)], "position": position, "version": 1}
                self.load.add("plan_priorities", priority)
                self.load.history("plan_priority", priority_id, "create", created(priority), at, self.qa_lead_id)
                priorities.append(priority_id)
                for title, unit, baseline, target in rng.sample(MEASURES, rng.randrange(1, 3)):
                    self.measure(priority_id, title, unit, baseline, target, starts_on, ends_on, owner, at)
            self.plan_info[plan_id] = (starts_on, ends_on, owner, service, priorities)
        self.big_plan_id = 1

    def measure(self, priority_id, title, unit, baseline, target, starts_on, ends_on, owner, at) -> None:
        measure_id = self.load.next_id("measures")
        row = {
            "id": measure_id,
            "priority_id": priority_id,
            "title": title,
            "unit": unit,
            "baseline": Decimal(baseline),
            "baseline_on": starts_on,
            "target": Decimal(target),
            "version": 1,
        }
        self.load.add("measures", row)
        self.load.history("measure", measure_id, "create", created(row), at, owner)
        value = Decimal(baseline)
        step = Decimal(target - baseline) / 8
        day = starts_on + timedelta(days=90)
        while day <= min(ends_on, self.today) and day < starts_on + timedelta(days=90 * 9):
            value = (value + step * Decimal(self.rng.uniform(0.2, 1.4))).quantize(Decimal("0.01"))
            value_id = self.load.next_id("measure_values")
            recorded = self.moment(day)
            reading = {"id": value_id, "measure_id": measure_id, "measured_on": day, "value": value, "note": None, "recorded_by_id": owner, "recorded_at": recorded}
            self.load.add("measure_values", reading)
            self.load.history("measure_value", value_id, "create", created(reading), recorded, owner)
            day += timedelta(days=91)

    # Actions and their timelines --------------------------------------------------------

    def action_status(self, due: date) -> str:
        age = (self.today - due).days
        roll = self.rng.random()
        if age > 90:
            table = (("verified", 0.75), ("completed", 0.83), ("cancelled", 0.90), ("in_progress", 0.96))
        elif age > 0:
            table = (("verified", 0.40), ("completed", 0.60), ("cancelled", 0.63), ("in_progress", 0.88))
        else:
            table = (("in_progress", 0.45), ("completed", 0.55), ("verified", 0.58), ("cancelled", 0.60))
        for status, upto in table:
            if roll < upto:
                return status
        return "not_started"

    def actions(self) -> None:
        rng = self.rng
        n_actions = self.counts["actions"]
        n_plan_only = round(n_actions * PLAN_ONLY_SHARE)
        n_from_findings = n_actions - n_plan_only
        big_plan = min(BIG_PLAN_ACTIONS, n_plan_only // 2)
        busy = set(rng.sample(range(n_actions), min(BUSY_OWNER_ACTIONS, n_actions // 10)))
        other_plans = [plan_id for plan_id in self.plan_info if plan_id != self.big_plan_id] or [self.big_plan_id]

        specs = []  # (finding, plan priority, created_at, service, created_by)
        finding_weights = list(itertools.accumulate(2.0 if kind == "concern" else 1.0 for _, _, kind, _, _ in self.actionable))
        for _ in range(n_from_findings):
            finding_id, audit_id, _, at, service = self.actionable[bisect.bisect_left(finding_weights, rng.random() * finding_weights[-1])]
            priority = None
            if rng.random() < FINDING_IN_PLAN_SHARE:
                priority = rng.choice(self.plan_info[rng.choice(other_plans)][4])
            specs.append((finding_id, audit_id, priority, at + timedelta(hours=rng.randrange(1, 240)), service))
        for index in range(n_plan_only):
            plan_id = self.big_plan_id if index < big_plan else rng.choice(other_plans)
            starts_on, ends_on, owner, service, priorities = self.plan_info[plan_id]
            at = self.moment(starts_on + timedelta(days=rng.randrange(0, max(1, min((ends_on - starts_on).days, (self.today - starts_on).days)))))
            specs.append((None, None, rng.choice(priorities), min(at, self.now), service))
        rng.shuffle(specs)
        specs.sort(key=lambda spec: spec[3])  # ids in the order they were raised

        self.visit_actions: dict[int, list[int]] = defaultdict(list)
        dues = [at.date() + timedelta(days=rng.randrange(20, 200)) for _, _, _, at, _ in specs]
        statuses = [self.action_status(due) for due in dues]
        # Progress updates: each status needs a few (completing, signing off, cancelling),
        # and the rest of the total falls on actions that were worked on.
        minimum = {"not_started": 0, "in_progress": 1, "completed": 1, "verified": 2, "cancelled": 1}
        updates = [minimum[status] for status in statuses]
        worked = [i for i, status in enumerate(statuses) if status != "not_started"]
        for index in rng.choices(worked, k=max(0, self.counts["updates"] - sum(updates))):
            updates[index] += 1

        for index, (finding_id, audit_id, priority, at, service) in enumerate(specs):
            owner = self.head_id if index in busy else self.pick_owner()
            creator = rng.choice(self.managers)
            due = dues[index]
            action_id = self.load.next_id("actions")
            row = {
                "id": action_id,
                "title": f"{rng.choice(VERBS)} {rng.choice(TOPICS)}",
                "owner_id": owner,
                "due_date": due,
                "priority": rng.choice(("high", "medium", "medium", "low")),
                "status": "not_started",
                "finding_id": finding_id,
                "plan_priority_id": priority,
                "service_id": service,
                "approved_by": rng.choice(BOARDS) if rng.random() < 0.4 else None,
                "approved_on": at.date() + timedelta(days=rng.randrange(0, 30)) if rng.random() < 0.4 else None,
                "created_by_id": creator,
                "created_at": at,
                "completed_at": None,
                "verified_at": None,
                "verified_by_id": None,
                "cancellation_reason": None,
                "version": 1,
            }
            self.load.history("action", action_id, "create", created(row), at, creator)
            self.pending: list[dict[str, Any]] = []
            self.timeline(row, statuses[index], updates[index])
            self.load.add("actions", row)  # the action first, then its updates
            for update in self.pending:
                self.load.add("action_updates", update)
            if audit_id is not None and self.audit_info[audit_id][0] == "targeted_visit":
                self.visit_actions[audit_id].append(action_id)

    def timeline(self, action: dict[str, Any], final: str, count: int) -> None:
        """The action's progress updates, sign-off or cancelling, and the history each writes."""
        rng = self.rng
        if final == "not_started" or count == 0:
            return
        start = action["created_at"]
        end = min(datetime.combine(action["due_date"], dtime(12), tzinfo=timezone.utc) + timedelta(days=rng.randrange(-30, 60)), self.now)
        end = max(end, start + timedelta(hours=count))
        end = min(end, self.now)
        moments = sorted(self.between(start, end) for _ in range(count))
        closing = final in ("verified", "cancelled")
        progress = moments[:-1] if closing else moments
        status = "not_started"
        for position, at in enumerate(progress):
            last = position == len(progress) - 1
            new_status = None
            evidence = None
            if final in ("completed", "verified") and last:
                new_status, evidence = "completed", self.sentence(1)
            elif status == "not_started":
                new_status = "in_progress"
            self.update(action, "progress", self.sentence(), new_status, evidence, action["owner_id"], at)
            if new_status and new_status != status:
                changes = {"status": [status, new_status]}
                if new_status == "completed":
                    action["completed_at"] = at
                    changes["completed_at"] = [None, plain(at)]
                self.action_changed(action, changes, at, action["owner_id"])
                status = new_status
        if final == "verified":
            at = moments[-1]
            signer = rng.choice([m for m in self.managers if m != action["owner_id"]])
            self.update(action, "verified", "Signed off.", "verified", None, signer, at)
            action.update(verified_at=at, verified_by_id=signer)
            self.action_changed(action, {"status": [status, "verified"], "verified_at": [None, plain(at)], "verified_by_id": [None, signer]}, at, signer)
            status = "verified"
        elif final == "cancelled":
            at = moments[-1]
            who = rng.choice(self.managers)
            reason = "Superseded by the new improvement plan."
            self.update(action, "cancelled", reason, "cancelled", None, who, at)
            action["cancellation_reason"] = reason
            self.action_changed(action, {"status": [status, "cancelled"], "cancellation_reason": [None, reason]}, at, who)
            status = "cancelled"
        action["status"] = status

    def update(self, action, kind, note, status, evidence, author, at) -> None:
        update_id = self.load.next_id("action_updates")
        row = {"id": update_id, "action_id": action["id"], "kind": kind, "note": note, "status": status, "evidence": evidence, "author_id": author, "created_at": at}
        self.pending.append(row)
        self.load.history("action_update", update_id, "create", created(row), at, author)

    def action_changed(self, action, changes, at, user_id) -> None:
        action["version"] += 1
        self.load.history("action", action["id"], "update", changes, at, user_id)

    # Follow-up visits judge progress on the earlier visit's actions -------------------------

    def reviews(self) -> None:
        rng = self.rng
        judgements = ["sufficient", "some", "insufficient"]
        for audit_id, (kind, _, status, started, ended, lead, *_) in self.audit_info.items():
            if kind != "targeted_visit" or status not in ("in_progress", "completed"):
                continue
            earlier = self.follows_up.get(audit_id)
            if earlier is None:
                continue
            for action_id in sorted(rng.sample(self.visit_actions.get(earlier, []), min(6, len(self.visit_actions.get(earlier, []))))):
                review_id = self.load.next_id("progress_reviews")
                at = self.between(started, ended or self.now)
                row = {
                    "id": review_id,
                    "audit_id": audit_id,
                    "action_id": action_id,
                    "judgement": rng.choice(judgements),
                    "note": None,
                    "recorded_by_id": lead,
                    "recorded_at": at,
                    "version": 1,
                }
                self.load.add("progress_reviews", row)
                self.load.history("progress_review", review_id, "create", created(row), at, lead)

    def run(self) -> None:
        self.people()
        self.question_sets()
        self.audits()
        self.recording()
        self.findings()
        self.plans()
        self.actions()
        self.reviews()
        self.load.flush()


def _schema(app) -> None:
    """Drop everything and build the schema with the migrations, as a council would."""
    from flask_migrate import upgrade

    db.drop_all()
    with db.engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    upgrade()


def generate(app, scale: float, seed: int = 1) -> dict[str, Any]:
    """Build the schema and load a council of this scale; return what was made and the
    subjects the measurements use."""
    from qa_audit.auth.passwords import hash_password

    started = time.perf_counter()
    with app.app_context():
        _schema(app)
        schema_seconds = time.perf_counter() - started
        engine = db.engine
        sqlite = engine.dialect.name == "sqlite"
        engine.dispose()  # the loading connection is the only one
        with engine.connect() as connection:
            if sqlite:
                # For loading only: no rollback journal (a load that fails is simply run
                # again), no fsync, a big page cache. WAL comes back at the end.
                connection.exec_driver_sql("PRAGMA journal_mode=OFF")
                connection.exec_driver_sql("PRAGMA synchronous=OFF")
                connection.exec_driver_sql("PRAGMA cache_size=-262144")
                connection.exec_driver_sql("PRAGMA temp_store=MEMORY")
            loader = Loader(connection)
            council = Council(loader, scale, seed, hash_password(PASSWORD))
            council.run()
            if not sqlite:
                # Ids were chosen here: move each sequence past them.
                for table in db.metadata.sorted_tables:
                    if "id" in table.c and table.c.id.primary_key and table.name in loader.written:
                        connection.execute(
                            text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), (SELECT MAX(id) FROM {table.name}))")
                        )
            connection.commit()
            if sqlite:
                connection.exec_driver_sql("PRAGMA journal_mode=WAL")
            else:
                # A bulk load leaves PostgreSQL without statistics until autovacuum
                # gets round to it; a council restoring a dump would analyse too.
                connection.exec_driver_sql("ANALYZE")
                connection.commit()  # the statistics are kept only if committed
        db.engine.dispose()
    seconds = time.perf_counter() - started
    return {
        "scale": scale,
        "seed": seed,
        "seconds": round(seconds, 1),
        "schema_seconds": round(schema_seconds, 1),
        "rows": dict(sorted(loader.written.items())),
        "today": council.today.isoformat(),
        "tokens": council.tokens,
        "users": {"admin": council.admin_id, "qa_lead": council.qa_lead_id, "head": council.head_id},
        "emails": EMAILS,
        "password": PASSWORD,
        "big_plan_id": council.big_plan_id,
        "busy_head_services": council.services[:BUSY_HEAD_SERVICES],
    }
