"""A small but realistic council for the API fuzzer: a user and a token of each role,
services, question sets, audits of every type in every status (a targeted visit with
its parts, a follow-up visit), findings, sampled cases with answers, details, plans
with priorities, and actions in every status with their timelines.

Everything is made through the services, as the application makes it, so the records
are in states the application can reach (and the history is written).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select

from qa_audit.actions import services as action_rules
from qa_audit.actions.models import Action
from qa_audit.admin import services as service_rules
from qa_audit.admin.models import Service
from qa_audit.audits import services as audit_rules
from qa_audit.audits import question_sets as question_set_rules
from qa_audit.audits.models import Audit, QuestionSet
from qa_audit.auth import services as auth_rules
from qa_audit.extensions import db
from qa_audit.findings import services as finding_rules
from qa_audit.findings.models import Finding
from qa_audit.plans import services as plan_rules
from qa_audit.plans.models import ImprovementPlan, PlanPriority
from qa_audit.recording import services as recording_rules
from qa_audit.recording.models import SampledCase

ROLES = ("admin", "qa_lead", "auditor", "head_of_service", "viewer")
PASSWORD = "correct-horse-battery-staple"


@dataclass
class World:
    """What the seed made: each role's bearer token and user, and the ids of each kind
    of record (the fuzzer sends these as well as ids that do not exist)."""

    tokens: dict[str, str] = field(default_factory=dict)
    users: dict[str, object] = field(default_factory=dict)
    ids: dict[str, list[int]] = field(default_factory=dict)


def _ids(model) -> list[int]:
    return list(db.session.scalars(select(model.id).order_by(model.id)))


def seed() -> World:
    world = World()
    for role in ROLES:
        user = auth_rules.create_user(f"fuzz.{role}@example.gov.uk", f"Fuzz {role.replace('_', ' ').title()}", role, PASSWORD)
        token, _ = auth_rules.create_token(user, "fuzzing")
        world.tokens[role] = token
        world.users[role] = user
    qa_lead, auditor, head = world.users["qa_lead"], world.users["auditor"], world.users["head_of_service"]
    second_auditor = auth_rules.create_user("fuzz.auditor2@example.gov.uk", "Second Auditor", "auditor", PASSWORD)
    second_head = auth_rules.create_user("fuzz.head2@example.gov.uk", "Second Head", "head_of_service", PASSWORD)
    team_manager = auth_rules.create_user("fuzz.manager@example.gov.uk", "Team Manager", "viewer", PASSWORD)

    mash = service_rules.create_service("Multi-Agency Safeguarding Hub", head.id, "The front door")
    irt = service_rules.create_service("Initial Response Team", second_head.id)
    service_rules.create_service("Early Help Hub")

    front_door = question_set_rules.create_question_set(
        "Front door decisions",
        ["Was the threshold applied correctly?", "Was the child's voice recorded?", "Were checks with partners made?"],
        "Questions for contacts and referrals",
    )
    strategy = question_set_rules.create_question_set("Strategy meetings", ["Was health invited?", "Was the meeting within timescale?"])
    retired = question_set_rules.create_question_set("Old set", ["An old question?"])
    question_set_rules.retire_question_set(retired)

    def schedule(type_: str, title: str, service, lead=auditor, **fields):
        return audit_rules.schedule_audit(
            {"type": type_, "title": title, "service_id": service.id, "scheduled_for": dt.date(2026, 10, 1), "lead_auditor_id": lead.id, **fields}
        )

    def move(audit, *statuses, reason=None):
        for status in statuses:
            audit_rules.change_status(audit, status, qa_lead, reason=reason)

    # A completed targeted visit with its parts, and what it found.
    visit = schedule("targeted_visit", "MASH targeted visit", mash, auditor_ids=[second_auditor.id], agencies=["social_care", "police", "health"], purpose="Thresholds at the front door")
    dip = schedule("dip_sample", "MASH dip sample", mash, parent_id=visit.id, question_set_id=front_door.id)
    focus = schedule("focus_group", "MASH social workers", mash, parent_id=visit.id)
    meetings = schedule("strategy_meeting_audit", "MASH strategy meetings", mash, parent_id=visit.id, agencies=["police", "health"])
    move(visit, "in_progress")
    move(dip, "in_progress")
    move(focus, "in_progress")
    move(meetings, "in_progress")
    questions = [q.id for q in front_door.questions]
    for n, values in enumerate([("met", "met", "not_applicable"), ("partially_met", "not_met", "met")], start=1):
        recording_rules.add_case(dip, auditor, f"CASE-{n:04d}", dict(zip(map(str, questions), values)), "Sampled at random")
    recording_rules.save_details(focus, auditor, {"participants_count": 8, "participant_roles": "Social workers", "themes": "Supervision, workload"})
    recording_rules.save_details(
        meetings,
        auditor,
        {"meeting_date": dt.date(2026, 9, 20), "agencies_invited": ["police", "health"], "agencies_attended": ["police"], "within_timescale": True, "chairing_quality": "good", "agency_contributions": {"police": "good"}},
    )
    findings = [
        finding_rules.record_finding(visit, {"kind": "area_for_improvement", "summary": "Thresholds applied inconsistently", "theme": "thresholds_and_decision_making", "judgement": "requires_improvement"}, auditor),
        finding_rules.record_finding(dip, {"kind": "strength", "summary": "The child's voice is recorded well", "theme": "voice_of_the_child"}, auditor),
        finding_rules.record_finding(focus, {"kind": "area_for_improvement", "summary": "Supervision is not regular", "theme": "supervision", "evidence": "Six of eight said so"}, auditor),
    ]
    for audit in (dip, focus, meetings, visit):
        move(audit, "completed")

    # A follow-up visit in progress, with a dip sample part way through.
    follow_up = schedule("targeted_visit", "MASH follow-up visit", mash, follow_up_of_id=visit.id, auditor_ids=[second_auditor.id])
    partial = schedule("dip_sample", "Follow-up dip sample", mash, parent_id=follow_up.id, question_set_id=front_door.id, auditor_ids=[second_auditor.id])
    move(follow_up, "in_progress")
    move(partial, "in_progress")
    recording_rules.add_case(partial, auditor, "CASE-0101", {str(questions[0]): "met"})
    findings.append(finding_rules.record_finding(follow_up, {"kind": "concern", "summary": "A referral waited ten days"}, auditor))

    # Audits in the other states, some led by someone else.
    schedule("dip_sample", "IRT dip sample", irt, lead=second_auditor, question_set_id=strategy.id)
    schedule("focus_group", "IRT focus group", irt, auditor_ids=[auditor.id])
    in_progress_meetings = schedule("strategy_meeting_audit", "IRT strategy meetings", irt, lead=second_auditor)
    move(in_progress_meetings, "in_progress")
    cancelled = schedule("targeted_visit", "Cancelled visit", irt)
    move(cancelled, "cancelled", reason="The team was restructured")
    reopened = schedule("focus_group", "Reopened focus group", irt)
    move(reopened, "in_progress")
    recording_rules.save_details(reopened, auditor, {"participants_count": 3, "participant_roles": "Team managers", "themes": "Workload"})
    move(reopened, "completed")
    move(reopened, "in_progress", reason="A participant's view was missed")

    # Plans, priorities and actions in every status.
    plan = plan_rules.create_plan({"title": "Front door improvement plan", "owner_id": head.id, "board": "Strategic MASH Board", "starts_on": dt.date(2026, 4, 1), "ends_on": dt.date(2027, 3, 31)}, qa_lead)
    priorities = [plan_rules.add_priority(plan, {"title": title}, qa_lead) for title in ("Thresholds", "Workforce")]
    other_plan = plan_rules.create_plan({"title": "IRT plan", "owner_id": second_head.id, "starts_on": dt.date(2025, 4, 1), "ends_on": dt.date(2026, 3, 31)}, qa_lead)
    plan_rules.add_priority(other_plan, {"title": "Timeliness"}, qa_lead)
    plan_rules.create_plan({"title": "An empty plan", "owner_id": head.id, "starts_on": dt.date(2026, 4, 1), "ends_on": dt.date(2027, 3, 31)}, qa_lead)

    def raise_(title, owner, due, **fields):
        return action_rules.raise_action({"title": title, "owner_id": owner.id, "due_date": due, **fields}, qa_lead)

    today = dt.date.today()
    not_started = raise_("Refresh threshold training", team_manager, today + dt.timedelta(days=60), finding_id=findings[0].id, plan_priority_id=priorities[0].id)
    overdue = raise_("Audit threshold decisions monthly", auditor, today - dt.timedelta(days=10), finding_id=findings[0].id, priority="high")
    due_soon = raise_("Set supervision dates", head, today + dt.timedelta(days=5), finding_id=findings[2].id, plan_priority_id=priorities[1].id)
    completed = raise_("Publish the supervision policy", auditor, today + dt.timedelta(days=30), plan_priority_id=priorities[1].id, priority="low")
    verified = raise_("Recruit two team managers", team_manager, today - dt.timedelta(days=40), plan_priority_id=priorities[1].id)
    cancelled_action = raise_("Buy a new case system", second_head, today + dt.timedelta(days=90), plan_priority_id=priorities[0].id)
    raise_("Review referral waiting times", second_head, today + dt.timedelta(days=20), finding_id=findings[3].id)
    action_rules.post_update(overdue, {"note": "Two audits done"}, auditor)
    action_rules.post_update(due_soon, {"note": "Dates set for half the team", "status": "in_progress"}, head)
    action_rules.post_update(completed, {"note": "Published", "status": "completed", "evidence": "On the intranet"}, auditor)
    action_rules.post_update(verified, {"note": "Both in post", "status": "completed", "evidence": "Start dates confirmed"}, team_manager)
    action_rules.verify_action(verified, qa_lead, "Checked with HR")
    action_rules.cancel_action(cancelled_action, qa_lead, "No budget this year")
    sent_back = raise_("Weekly huddles", auditor, today + dt.timedelta(days=8), plan_priority_id=priorities[0].id)
    action_rules.post_update(sent_back, {"note": "Started", "status": "completed", "evidence": "Diary"}, auditor)
    action_rules.send_back(sent_back, head, "Minutes are missing")
    assert not_started.status.value == "not_started"

    world.ids = {
        "audit": _ids(Audit),
        "action": _ids(Action),
        "plan": _ids(ImprovementPlan),
        "priority": _ids(PlanPriority),
        "question_set": _ids(QuestionSet),
        "question": [q.id for qs in db.session.scalars(select(QuestionSet)) for q in qs.questions],
        "finding": _ids(Finding),
        "case": _ids(SampledCase),
        "service": _ids(Service),
        "user": [u.id for u in world.users.values()] + [second_auditor.id, second_head.id, team_manager.id],
    }
    return world
