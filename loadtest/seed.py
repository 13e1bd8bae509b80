"""The data the load test runs on: a council part-way through its year.

Users of every role with one known password, API tokens for integrations, a programme
of audits (completed ones with findings, for reports; in-progress ones being recorded
now, including dip samples whose cases are shared out among their auditors), and
improvement plans with actions in every status and their progress logs.

Rows go in with SQLAlchemy bulk INSERT ... RETURNING (one statement per table and
batch), so seeding takes seconds; the few things with rules of their own (the
question set, tokens) go through the services. Bulk inserts write no history rows:
the history the load test checks afterwards is only what the run itself wrote.

``seed()`` returns the fixture the locustfile reads: accounts, tokens and the ids
each kind of user works on.
"""

from __future__ import annotations

import math
import random
from datetime import timedelta
from typing import Any

from sqlalchemy import insert
from werkzeug.security import generate_password_hash

from qa_audit import dates
from qa_audit.actions.models import (
    Action,
    ActionPriority,
    ActionStatus,
    ActionUpdate,
    UpdateKind,
)
from qa_audit.admin.models import Service
from qa_audit.audits.models import Audit, AuditStatus, AuditType, audit_auditors
from qa_audit.audits.question_sets import create_question_set
from qa_audit.auth.models import Role, User
from qa_audit.auth.services import create_token
from qa_audit.extensions import db
from qa_audit.findings.models import DEFAULT_THEMES, Finding, FindingKind
from qa_audit.plans.models import ImprovementPlan, PlanPriority
from qa_audit.recording.models import Answer, AnswerValue, Judgement, SampledCase
from qa_audit.types import utcnow

PASSWORD = "Load-test: kettle lantern meadow 47"
EMAIL_DOMAIN = "loadtest.example.gov.uk"
GRID_PAGE_SIZE = 50  # qa_audit.recording.views.GRID_PAGE_SIZE
AUDITORS_PER_SAMPLE = 3

COUNTS = {
    "qa_leads": 8,
    "auditors": 42,
    "heads_of_service": 12,
    "viewers": 4,
    "integrations": 4,
    "programme_audits": 300,
    "findings_per_completed_audit": 4,
    "recording_audits": 21,
    "plans": 6,
    "actions_per_plan": 250,
    "actions_from_findings": 500,
}

SERVICE_NAMES = [
    "Multi-Agency Safeguarding Hub", "Initial Response Team", "Assessment Team North", "Assessment Team South",
    "Child Protection and Court", "Children in Care", "Care Leavers", "Fostering", "Disabled Children's Team",
    "Early Help Locality East", "Early Help Locality West", "Domestic Abuse Hub",
]
QUESTIONS = [
    "Was the threshold for the contact applied correctly?",
    "Were checks made with the agencies involved?",
    "Was the child's voice recorded?",
    "Was a strategy meeting held within timescale?",
    "Did the police and health attend the strategy meeting?",
    "Were medical investigations undertaken where indicated?",
    "Was there evidence of management oversight?",
    "Was the plan shared with the family?",
]
PRIORITIES = ["Front door decisions", "Workforce and supervision", "Voice of the child", "Multi-agency working"]
ACTION_TITLES = [
    "Re-audit threshold decisions at the front door",
    "Refresh supervision guidance for team managers",
    "Record the child's voice in every assessment",
    "Agree police attendance at strategy meetings",
    "Train social workers on chronologies",
    "Review step-down to early help",
    "Publish the escalation protocol",
    "Check management oversight on open cases",
]
SUMMARIES = [
    "Thresholds were applied consistently and decisions were recorded with reasons.",
    "Management oversight was not evident on a third of the cases sampled.",
    "The child's voice was clearly recorded in direct work.",
    "Police did not attend two of the five strategy meetings observed.",
    "Supervision records did not show reflective discussion.",
    "Chronologies were up to date and used in planning.",
]


def seed(*, duration_s: int = 120, seed_value: int = 7) -> dict[str, Any]:
    """Fill an empty, migrated database; return the fixture. Needs an app context."""
    rng = random.Random(seed_value)
    today = dates.today()
    now = utcnow()
    password_hash = generate_password_hash(PASSWORD)  # the production method (scrypt)

    # People ----------------------------------------------------------------------
    def users(role: Role, prefix: str, title: str, count: int) -> list[int]:
        rows = [
            {
                "email": f"{prefix}{n}@{EMAIL_DOMAIN}",
                "name": f"{title} {n}",
                "role": role,
                "active": True,
                "password_hash": password_hash,
                "failed_logins": 0,
            }
            for n in range(1, count + 1)
        ]
        return _insert(User, rows)

    admin_ids = users(Role.ADMIN, "admin", "Load test admin", 1)
    qa_lead_ids = users(Role.QA_LEAD, "qa-lead", "QA lead", COUNTS["qa_leads"])
    auditor_ids = users(Role.AUDITOR, "auditor", "Auditor", COUNTS["auditors"])
    hos_ids = users(Role.HEAD_OF_SERVICE, "head-of-service", "Head of service", COUNTS["heads_of_service"])
    users(Role.VIEWER, "viewer", "Board member", COUNTS["viewers"])
    integration_ids = users(Role.QA_LEAD, "integration", "Reporting integration", COUNTS["integrations"])
    email_of = {}
    for prefix, ids in (("qa-lead", qa_lead_ids), ("auditor", auditor_ids), ("head-of-service", hos_ids)):
        for n, user_id in enumerate(ids, start=1):
            email_of[user_id] = f"{prefix}{n}@{EMAIL_DOMAIN}"

    service_ids = _insert(
        Service,
        [{"name": name, "head_of_service_id": hos_ids[i % len(hos_ids)], "active": True} for i, name in enumerate(SERVICE_NAMES)],
    )
    db.session.commit()

    question_set = create_question_set("Front door decisions (load test)", QUESTIONS)
    question_set_id = question_set.id
    question_ids = [q.id for q in question_set.questions]

    # The programme: past and future audits, completed ones with findings ----------------
    types = [AuditType.TARGETED_VISIT, AuditType.DIP_SAMPLE, AuditType.FOCUS_GROUP, AuditType.STRATEGY_MEETING_AUDIT]
    programme = []
    for n in range(COUNTS["programme_audits"]):
        scheduled = today + timedelta(days=rng.randint(-540, 240))
        kind = types[n % 4]
        status = AuditStatus.COMPLETED if scheduled < today - timedelta(days=30) else AuditStatus.PLANNED
        if status is AuditStatus.PLANNED and rng.random() < 0.05:
            status = AuditStatus.CANCELLED
        programme.append(
            {
                "type": kind,
                "title": f"{kind.label} {n + 1}: {SERVICE_NAMES[n % len(SERVICE_NAMES)]}",
                "purpose": "To check the quality of practice and the difference it makes to children.",
                "service_id": service_ids[n % len(service_ids)],
                "scheduled_for": scheduled,
                "lead_auditor_id": rng.choice(auditor_ids),
                "question_set_id": question_set_id if kind is AuditType.DIP_SAMPLE else None,
                "status": status,
                "cancellation_reason": "Postponed: the team moved office." if status is AuditStatus.CANCELLED else None,
                "started_at": now - timedelta(days=(today - scheduled).days) if status is AuditStatus.COMPLETED else None,
                "completed_at": now - timedelta(days=(today - scheduled).days - 7) if status is AuditStatus.COMPLETED else None,
            }
        )
    programme_ids = _insert(Audit, programme)
    completed = [(audit_id, row) for audit_id, row in zip(programme_ids, programme) if row["status"] is AuditStatus.COMPLETED]
    _insert_plain(audit_auditors, [{"audit_id": a, "user_id": u} for a, row in zip(programme_ids, programme) for u in _others(rng, auditor_ids, row["lead_auditor_id"], 2)])

    finding_rows = []
    for audit_id, row in completed:
        for k in range(COUNTS["findings_per_completed_audit"]):
            finding_rows.append(_finding(rng, audit_id, row["lead_auditor_id"], k))
    completed_finding_ids = _insert(Finding, finding_rows)

    # Audits being recorded now --------------------------------------------------------
    # Findings: targeted visits, focus groups and strategy meeting audits, each with a lead
    # and two auditors, and two findings the three of them may all edit.
    recording = []
    recording_team = []
    for n in range(COUNTS["recording_audits"]):
        kind = [AuditType.TARGETED_VISIT, AuditType.FOCUS_GROUP, AuditType.STRATEGY_MEETING_AUDIT][n % 3]
        team = [auditor_ids[(n * 2 + k) % len(auditor_ids)] for k in range(3)]
        recording_team.append(team)
        recording.append(_in_progress(kind, f"{kind.label} (in progress) {n + 1}", service_ids[n % len(service_ids)], team[0], today, now))
    recording_ids = _insert(Audit, recording)
    _insert_plain(audit_auditors, [{"audit_id": a, "user_id": u} for a, team in zip(recording_ids, recording_team) for u in team[1:]])
    shared = [_finding(rng, audit_id, team[0], k) for audit_id, team in zip(recording_ids, recording_team) for k in range(2)]
    shared_ids = _insert(Finding, shared)
    shared_by_audit: dict[int, list[int]] = {}
    for finding_id, row in zip(shared_ids, shared):
        shared_by_audit.setdefault(row["audit_id"], []).append(finding_id)

    # Dip samples: each auditor has cases of their own to answer (no two auditors answer
    # the same case), on a grid three auditors save at once.
    cases_each = max(15, math.ceil(duration_s / 6))
    sample_count = math.ceil(len(auditor_ids) / AUDITORS_PER_SAMPLE)
    samples = []
    sample_team = []
    for n in range(sample_count):
        team = auditor_ids[n * AUDITORS_PER_SAMPLE:(n + 1) * AUDITORS_PER_SAMPLE]
        sample_team.append(team)
        samples.append(_in_progress(AuditType.DIP_SAMPLE, f"Dip sample (in progress) {n + 1}", service_ids[n % len(service_ids)], team[0], today, now, question_set_id))
    sample_ids = _insert(Audit, samples)
    _insert_plain(audit_auditors, [{"audit_id": a, "user_id": u} for a, team in zip(sample_ids, sample_team) for u in team[1:]])
    case_rows, case_owner = [], []
    for audit_id, team in zip(sample_ids, sample_team):
        # Interleaved, as cases are drawn: each page of the grid has everyone's cases.
        for number in range(cases_each):
            for position, user_id in enumerate(team):
                case_rows.append({"audit_id": audit_id, "case_reference": f"LT{user_id:03d}-{number + 1:03d}"})
                case_owner.append(user_id)
    case_ids = _insert(SampledCase, case_rows)
    grid_cases: dict[int, list[dict[str, int]]] = {}
    position_in_audit: dict[int, int] = {}
    for case_id, row, owner in zip(case_ids, case_rows, case_owner):
        position = position_in_audit.get(row["audit_id"], 0)
        position_in_audit[row["audit_id"]] = position + 1
        grid_cases.setdefault(owner, []).append({"audit_id": row["audit_id"], "case_id": case_id, "page": position // GRID_PAGE_SIZE + 1})
    # A few cases answered already, as on any real grid.
    answered = [case_id for case_id in case_ids if rng.random() < 0.1]
    answered_set = set(answered)
    _insert(Answer, [{"sampled_case_id": c, "question_id": q, "value": rng.choice(list(AnswerValue))} for c in answered for q in question_ids])
    for owner, cases in grid_cases.items():
        grid_cases[owner] = [case for case in cases if case["case_id"] not in answered_set]

    # A dip sample the case system feeds through the API.
    feed_id = _insert(Audit, [_in_progress(AuditType.DIP_SAMPLE, "Dip sample fed by the case system", service_ids[0], auditor_ids[0], today, now, question_set_id)])[0]

    # Improvement plans and actions ------------------------------------------------------
    plan_rows = [
        {
            "title": f"{SERVICE_NAMES[i]} improvement plan {today.year}/{(today.year + 1) % 100:02d}",
            "owner_id": hos_ids[i],
            "service_id": service_ids[i],
            "board": "Practice and Development Board",
            "starts_on": today - timedelta(days=200),
            "ends_on": today + timedelta(days=165),
        }
        for i in range(COUNTS["plans"])
    ]
    plan_ids = _insert(ImprovementPlan, plan_rows)
    priority_rows = [{"plan_id": p, "title": t, "position": k + 1} for p in plan_ids for k, t in enumerate(PRIORITIES)]
    priority_ids = _insert(PlanPriority, priority_rows)
    priorities_of = {p: priority_ids[i * len(PRIORITIES):(i + 1) * len(PRIORITIES)] for i, p in enumerate(plan_ids)}

    action_rows = []
    for i, plan_id in enumerate(plan_ids):
        # In the charge of two heads of service: the plan's owner, and the head of the
        # service each action is for. Both may sign off the same completed action.
        for n in range(COUNTS["actions_per_plan"]):
            action_rows.append(_action(rng, today, now, auditor_ids, hos_ids, plan_priority_id=rng.choice(priorities_of[plan_id]), service_id=service_ids[(i + 1) % len(service_ids)], created_by=qa_lead_ids[0]))
    service_of_audit = {audit_id: row["service_id"] for audit_id, row in completed}
    service_of_finding = {f: service_of_audit[row["audit_id"]] for f, row in zip(completed_finding_ids, finding_rows)}
    for n in range(COUNTS["actions_from_findings"]):
        finding_id = rng.choice(completed_finding_ids)
        action_rows.append(_action(rng, today, now, auditor_ids, hos_ids, finding_id=finding_id, service_id=service_of_finding[finding_id], created_by=qa_lead_ids[0]))
    action_ids = _insert(Action, action_rows)

    update_rows = []
    for action_id, row in zip(action_ids, action_rows):
        status = row["status"]
        if status is ActionStatus.NOT_STARTED:
            continue
        for k in range(rng.randint(1, 3)):
            update_rows.append(
                {"action_id": action_id, "kind": UpdateKind.PROGRESS, "note": f"Progress note {k + 1}: work under way with the team managers.", "status": ActionStatus.IN_PROGRESS if k == 0 else None, "author_id": row["owner_id"], "created_at": now - timedelta(days=60 - k * 10)}
            )
        if status in (ActionStatus.COMPLETED, ActionStatus.VERIFIED):
            update_rows.append({"action_id": action_id, "kind": UpdateKind.PROGRESS, "note": "Done.", "status": ActionStatus.COMPLETED, "evidence": "Minutes of the team meeting, 3 March.", "author_id": row["owner_id"], "created_at": now - timedelta(days=15)})
        if status is ActionStatus.VERIFIED:
            update_rows.append({"action_id": action_id, "kind": UpdateKind.VERIFIED, "note": "Signed off.", "status": ActionStatus.VERIFIED, "author_id": row["verified_by_id"], "created_at": now - timedelta(days=5)})
        if status is ActionStatus.CANCELLED:
            update_rows.append({"action_id": action_id, "kind": UpdateKind.CANCELLED, "note": row["cancellation_reason"], "status": ActionStatus.CANCELLED, "author_id": hos_ids[0], "created_at": now - timedelta(days=5)})
    _insert(ActionUpdate, [{"evidence": None, **r} for r in update_rows])
    db.session.commit()

    # Tokens for the integrations (through the service: only a hash is stored).
    tokens = []
    for user_id in integration_ids:
        plain, _row = create_token(db.session.get(User, user_id), "Load test: reporting integration")
        tokens.append(plain)

    open_actions_of: dict[int, list[int]] = {}
    for action_id, row in zip(action_ids, action_rows):
        if row["status"] in (ActionStatus.NOT_STARTED, ActionStatus.IN_PROGRESS) and row["owner_id"] in auditor_ids:
            open_actions_of.setdefault(row["owner_id"], []).append(action_id)
    plan_actions = [a for a, row in zip(action_ids, action_rows) if row["plan_priority_id"] and row["status"] in (ActionStatus.NOT_STARTED, ActionStatus.IN_PROGRESS, ActionStatus.COMPLETED)]

    return {
        "password": PASSWORD,
        "question_ids": question_ids,
        "qa_leads": [{"email": email_of[u], "id": u} for u in qa_lead_ids],
        "auditors": [
            {
                "email": email_of[u],
                "id": u,
                "recording_audits": [
                    {"audit_id": a, "shared_findings": shared_by_audit[a]} for a, team in zip(recording_ids, recording_team) if u in team
                ],
                "grid_cases": grid_cases.get(u, []),
                "open_actions": open_actions_of.get(u, []),
            }
            for u in auditor_ids
        ],
        "heads_of_service": [{"email": email_of[u], "id": u, "plans": [p for p, row in zip(plan_ids, plan_rows) if row["owner_id"] == u]} for u in hos_ids],
        "tokens": tokens,
        "plans": plan_ids,
        "completed_audits": [a for a, _row in completed][:60],
        "api_actions": plan_actions,
        "feed_audit_id": feed_id,
        "admin_id": admin_ids[0],
    }


def _insert(model, rows: list[dict[str, Any]]) -> list[int]:
    """Bulk INSERT ... RETURNING id, the ids in the order of the rows."""
    if not rows:
        return []
    ids: list[int] = []
    for start in range(0, len(rows), 2000):
        batch = rows[start:start + 2000]
        ids.extend(db.session.scalars(insert(model).returning(model.id, sort_by_parameter_order=True), batch).all())
    return ids


def _insert_plain(table, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), 2000):
        batch = rows[start:start + 2000]
        if batch:
            db.session.execute(table.insert(), batch)


def _others(rng: random.Random, ids: list[int], lead: int, count: int) -> list[int]:
    return rng.sample([i for i in ids if i != lead], count)


def _in_progress(kind: AuditType, title: str, service_id: int, lead: int, today, now, question_set_id: int | None = None) -> dict[str, Any]:
    return {
        "type": kind,
        "title": title,
        "purpose": "Recording now: the load test's auditors work on it.",
        "service_id": service_id,
        "scheduled_for": today - timedelta(days=3),
        "lead_auditor_id": lead,
        "question_set_id": question_set_id,
        "status": AuditStatus.IN_PROGRESS,
        "started_at": now - timedelta(days=3),
    }


def _finding(rng: random.Random, audit_id: int, recorded_by: int, k: int) -> dict[str, Any]:
    return {
        "audit_id": audit_id,
        "kind": [FindingKind.STRENGTH, FindingKind.AREA_FOR_IMPROVEMENT][k % 2],
        "theme": rng.choice(DEFAULT_THEMES)[0],
        "judgement": rng.choice([None, Judgement.GOOD, Judgement.REQUIRES_IMPROVEMENT]),
        "summary": rng.choice(SUMMARIES),
        "evidence": "Cases LT-1042, LT-2210 and the supervision file.",
        "recorded_by_id": recorded_by,
    }


def _action(rng, today, now, auditor_ids, hos_ids, *, service_id, created_by, plan_priority_id=None, finding_id=None) -> dict[str, Any]:
    status = rng.choices(
        [ActionStatus.NOT_STARTED, ActionStatus.IN_PROGRESS, ActionStatus.COMPLETED, ActionStatus.VERIFIED, ActionStatus.CANCELLED],
        weights=[30, 35, 10, 20, 5],
    )[0]
    verifier = rng.choice(hos_ids)
    return {
        "title": rng.choice(ACTION_TITLES),
        "owner_id": rng.choice(auditor_ids),
        "due_date": today + timedelta(days=rng.randint(-90, 180)),
        "priority": rng.choice(list(ActionPriority)),
        "status": status,
        "plan_priority_id": plan_priority_id,
        "finding_id": finding_id,
        "service_id": service_id,
        "created_by_id": created_by,
        "approved_by": "Practice and Development Board",
        "completed_at": now - timedelta(days=15) if status in (ActionStatus.COMPLETED, ActionStatus.VERIFIED) else None,
        "verified_at": now - timedelta(days=5) if status is ActionStatus.VERIFIED else None,
        "verified_by_id": verifier if status is ActionStatus.VERIFIED else None,
        "cancellation_reason": "Superseded by the new front door model." if status is ActionStatus.CANCELLED else None,
    }
