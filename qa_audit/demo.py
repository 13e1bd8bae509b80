"""The demo council, drawn from the situations in shared/seeds (FACTS.md).

People's names are invented; no child is named anywhere (a sampled case is a case
reference). After the accounts and services, everything goes through the services,
as the demo user who would have done it, so the rules hold and the history names
them: the QA lead schedules; each audit's auditors start it, record on it and
complete it. Then the start and completion times (and when findings and cases were
recorded) are set to the dates the reports give, and the history shows that too.

Loading is idempotent: each record is found by its natural key before it is made,
and what is recorded on an audit is recorded when the audit is made. The one
exception is an audit an earlier version of the demo completed with nothing on it:
a QA lead reopens it once, and its auditors add what the report found (or, for the
November 2019 follow-up, judge the progress made on the August visit's actions).

Improvement plans: the 2019 inspection's local area improvement plan with its impact
measures, the actions raised by the August 2019 visit (judged by the November one),
the 2021 visit's action plan, and this financial year's annual improvement plan with
actions in every state. Each action's story (progress, completion with evidence,
sign-off, sending back, cancelling) goes through the actions service as the person
who did it; then its times are set to the dates the story gives. In this year's plan
those dates are counted from today, so some actions are always overdue, some due
soon and some later, whatever day the demo is loaded.

Mail: a concern alerts people by email. While the demo loads, mail goes to the
outbox folder, never to a mail server: the demo's addresses are not real.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import exists, select

from qa_audit import demo_content as content
from qa_audit.dates import add_months
from qa_audit.actions import follow_up as follow_up_rules
from qa_audit.actions import services as action_rules
from qa_audit.actions.models import DONE, Action, ActionStatus, ActionUpdate
from qa_audit.admin.models import Service
from qa_audit.audits import services as audit_rules
from qa_audit.audits import question_sets as question_set_rules
from qa_audit.audits import series as series_rules
from qa_audit.audits.models import Audit, AuditSeries, AuditStatus, QuestionSet
from qa_audit.auth import services as account_rules
from qa_audit.auth.models import Role, User
from qa_audit.extensions import db
from qa_audit.findings import services as finding_rules
from qa_audit.findings.models import Finding, FindingKind
from qa_audit.history.tracking import acting_as
from qa_audit.plans import services as plan_rules
from qa_audit.plans.models import ImprovementPlan, Measure, PlanPriority
from qa_audit.recording import services as recording_rules
from qa_audit.recording.models import AuditDetails, SampledCase
from qa_audit.types import utcnow

DEMO_PASSWORD = "demo-council-2026"
DOMAIN = "demo.qa-audit.test"
LONDON = ZoneInfo("Europe/London")
REOPEN_REASON = "Reopened to record the findings of the written report, which were not on the system."
JUDGE_REOPEN_REASON = "Reopened to record the progress judged on the August visit's actions, which was not on the system."
# The time of day each step of an action's story is dated.
STEP_TIMES = {"raised": (16, 30), "progress": (10, 15), "completed": (15, 40), "verified": (11, 5), "sent_back": (14, 20), "cancelled": (12, 10)}

USERS = [
    ("admin", "Sam Okafor", Role.ADMIN),
    ("qa.lead", "Priya Chandran", Role.QA_LEAD),
    ("qa.officer", "Tom Hallam", Role.QA_LEAD),
    ("auditor", "Grace Mensah", Role.AUDITOR),
    ("senior.practitioner", "Lewis Barker", Role.AUDITOR),
    ("team.manager", "Hannah Price", Role.AUDITOR),
    ("hos.fieldwork", "Martin Doyle", Role.HEAD_OF_SERVICE),
    ("hos.front.door", "Aisha Rahman", Role.HEAD_OF_SERVICE),
    ("director", "Helen Carter", Role.HEAD_OF_SERVICE),
    ("board.member", "Derek Lowe", Role.VIEWER),
    ("dfe.adviser", "Ruth Ellison", Role.VIEWER),
]

# (name, description, head of service's login)
SERVICES = [
    ("Multi-Agency Safeguarding Hub (MASH)", "The front door: contacts and referrals from partners, with police, health and early help co-located.", "hos.front.door"),
    ("Initial Response Team", "Assessments and child protection enquiries after referral.", "hos.front.door"),
    ("Reception Service", "Reception teams taking new referrals into assessment.", "hos.front.door"),
    ("Domestic Abuse Hub", "Domestic abuse triage of police notifications.", "hos.front.door"),
    ("Locality 1", "Locality social work team (the 'trailblazer' locality).", "hos.fieldwork"),
    ("Locality 2", "Locality social work team.", "hos.fieldwork"),
    ("Children in Care", "Social work for children in care.", "hos.fieldwork"),
    ("Child Protection", "Child protection conferences and plans.", "hos.fieldwork"),
    ("Early Help", "Early help assessments and family support.", "director"),
    ("Workforce Development", "Recruitment, the ASYE programme and the Principal Social Worker.", "director"),
]

ANSWER_VALUES = ("met", "partially_met", "not_met", "not_applicable")


def _user(login: str, name: str, role: Role) -> tuple[User, bool]:
    email = f"{login}@{DOMAIN}"
    user = db.session.scalar(select(User).where(User.email == email))
    if user is not None:
        return user, False
    return account_rules.create_user(email, name, role, DEMO_PASSWORD), True


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    """A moment on a council date (London time), as the UTC timestamps are stored."""
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON).astimezone(timezone.utc)


def _board_meeting(day: date) -> date:
    """Boards meet on the third Tuesday of the month: the last meeting on or before ``day``."""

    def third_tuesday(year: int, month: int) -> date:
        first = date(year, month, 1)
        return first + timedelta(days=(1 - first.weekday()) % 7 + 14)

    meeting = third_tuesday(day.year, day.month)
    if meeting > day:
        meeting = third_tuesday(day.year - (day.month == 1), day.month - 1 or 12)
    return meeting


def _question_sets() -> dict:
    sets = {}
    for title, description, questions in content.QUESTION_SETS:
        existing = db.session.scalar(select(QuestionSet).where(QuestionSet.title == title, QuestionSet.superseded.is_(False)))
        sets[title] = existing or question_set_rules.create_question_set(title, questions, description)
    return sets


@contextlib.contextmanager
def _mail_to_outbox():
    config = current_app.config
    saved = config.get("MAIL_SERVER")
    config["MAIL_SERVER"] = None
    try:
        yield
    finally:
        config["MAIL_SERVER"] = saved


@dataclass
class Work:
    """What is done on one audit: the status it is left in, and what is recorded."""
    status: str = "planned"  # planned, in_progress or completed
    details: dict | None = None
    findings: list[dict] = field(default_factory=list)
    cases: int = 0  # sampled cases (dip samples)
    answered: int | None = None  # in progress: how many cases are fully answered; the rest in part
    references: list[str] = field(default_factory=list)  # cases that must be in the sample
    completed_on: date | None = None  # the report's date (two days after the audit unless given)
    before_completing: Callable | None = None  # (audit, auditor): more recording, e.g. a follow-up's judgements

    @property
    def records(self) -> bool:
        return bool(self.details or self.findings or self.cases)


class _Loader:
    def __init__(self, users: dict[str, User], services: dict[str, Service]):
        self.users = users
        self.services = services
        self.qa_lead = users["qa.lead"]
        self.today = audit_rules.today()
        self.year_start = date(self.today.year if self.today.month >= 4 else self.today.year - 1, 4, 1)
        self.agreed_on = _board_meeting(self.year_start - timedelta(days=1))  # this year's plan, at the March board
        with acting_as(self.qa_lead.id):
            self.sets = _question_sets()
        self.created = 0
        self.plans_made = 0
        self.actions_made = 0
        self.priorities_2019: dict[str, PlanPriority] = {}

    # Making audits and working on them ----------------------------------------------

    def audit(self, title: str, work: Work | None = None, **data):
        """The audit with this title and date, made (as the QA lead) if it is new;
        then ``work`` done on it. Returns (audit, made now)."""
        found = db.session.scalar(select(Audit).where(Audit.title == title, Audit.scheduled_for == data["scheduled_for"]))
        made = found is None
        if made:
            with acting_as(self.qa_lead.id):
                found = audit_rules.schedule_audit({"title": title, **data})
            self.created += 1
        self.carry_out(found, work, made=made)
        return found, made

    def carry_out(self, audit, work: Work | None, *, made: bool) -> None:
        if work is None or work.status == "planned":
            return
        if not made:
            # Left alone, unless an earlier demo started or completed it and recorded nothing on it.
            started = audit.status in (AuditStatus.IN_PROGRESS, AuditStatus.COMPLETED)
            if not (started and work.records) or _has_records(audit):
                return
            if audit.status is AuditStatus.COMPLETED:
                with acting_as(self.qa_lead.id):
                    audit_rules.change_status(audit, AuditStatus.IN_PROGRESS, self.qa_lead, reason=REOPEN_REASON)
        by = audit.lead_auditor
        with acting_as(by.id):
            if audit.status is AuditStatus.PLANNED:
                audit_rules.change_status(audit, AuditStatus.IN_PROGRESS, by)
            if work.details:
                recording_rules.save_details(audit, by, work.details)
            if work.cases and audit.question_set is not None:
                self.sample(audit, by, work)
            for data in work.findings:
                finding_rules.record_finding(audit, data, by)
            if work.before_completing is not None:
                work.before_completing(audit, by)
            if work.status == "completed":
                audit_rules.change_status(audit, AuditStatus.COMPLETED, by)
            self.backdate(audit, work)

    def sample(self, audit, by: User, work: Work) -> None:
        """Sampled cases with answers that give a plausible compliance: mostly met,
        some partly or not met, a few not applicable; notes where it was not met."""
        rng = random.Random(f"{audit.title}|{audit.scheduled_for.isoformat()}")
        pattern = content.ANSWER_PATTERNS.get(audit.question_set.title, {})
        questions = list(audit.question_set.questions)
        references = list(work.references)
        while len(references) < work.cases:
            reference = f"CS-{rng.randint(100000, 199999)}"
            if reference not in references:
                references.append(reference)
        used_notes: set[str] = set()
        for number, reference in enumerate(references):
            fully = work.answered is None or number < work.answered
            asked = questions if fully else questions[: len(questions) // 2]
            answers, notes = {}, {}
            for question in asked:
                spec = pattern.get(question.position, {})
                value = rng.choices(ANSWER_VALUES, weights=spec.get("weights", content.DEFAULT_WEIGHTS))[0]
                answers[question.id] = value
                note = spec.get(value)
                if note and note not in used_notes:
                    used_notes.add(note)
                    notes[question.id] = note
            case_note = content.CASE_NOTES[number // 3 % len(content.CASE_NOTES)] if number % 3 == 1 else None
            sampled = recording_rules.add_case(audit, by, reference, answers, case_note)
            for question_id, note in notes.items():
                recording_rules.answer(sampled, by, question_id, answers[question_id], note)

    def backdate(self, audit, work: Work) -> None:
        """Times as the reports give them, never in the future. A concern stays
        as recorded: its alerts went out when it was."""
        now = utcnow()
        start = min(_at(audit.scheduled_for, 9, 30), now)
        audit.started_at = start
        if audit.status is AuditStatus.COMPLETED:
            done = work.completed_on or audit.scheduled_for + timedelta(days=2)
            audit.completed_at = max(start, min(_at(done, 16, 30), now))
        moment = start
        records = list(db.session.scalars(select(SampledCase).where(SampledCase.audit_id == audit.id).order_by(SampledCase.id)))
        records += db.session.scalars(
            select(Finding).where(Finding.audit_id == audit.id, Finding.kind != FindingKind.CONCERN).order_by(Finding.id)
        )
        for record in records:
            moment = min(moment + timedelta(minutes=12), now)
            record.created_at = moment
        db.session.commit()

    # What the seeds describe ------------------------------------------------------------

    def visits_2019(self) -> None:
        """The MASH visits of 2019 (000): August, then November following it up."""
        users, services = self.users, self.services
        mash = services["Multi-Agency Safeguarding Hub (MASH)"]
        team = [users["qa.lead"].id, users["hos.fieldwork"].id]
        august, _ = self.audit(
            "Targeted visit to the MASH",
            Work("completed", findings=content.AUGUST_2019_FINDINGS, completed_on=date(2019, 8, 23)),
            type="targeted_visit", service_id=mash.id, scheduled_for=date(2019, 8, 12),
            lead_auditor_id=users["director"].id, auditor_ids=team,
            agencies=["social_care", "police", "health"], purpose="Assurance of decision-making after contact and referral.",
        )
        self.august_actions(august)
        november, november_made = self.audit(
            "Follow-up targeted visit to the MASH",
            type="targeted_visit", service_id=mash.id, scheduled_for=date(2019, 11, 12),
            lead_auditor_id=users["director"].id, auditor_ids=team,
            agencies=["social_care", "police", "health", "education"], follow_up_of_id=august.id,
            purpose=(
                "Assurance of decision-making after contact and referral; progress on the actions raised in August; "
                "impact of the inspection improvement plan on front-line staff. The DfE regional improvement adviser attended."
            ),
        )
        parts = content.NOVEMBER_2019_PARTS
        for title, kind, service, agencies in [
            ("Focus group: MASH social workers", "focus_group", mash, ["social_care"]),
            ("Focus group: Domestic Abuse Hub", "focus_group", services["Domestic Abuse Hub"], ["social_care", "police"]),
            ("Observed child protection strategy meeting", "strategy_meeting_audit", mash, ["social_care", "police", "health", "education"]),
        ]:
            self.audit(
                title, Work("completed", details=parts[title]["details"], findings=parts[title]["findings"], completed_on=date(2019, 11, 12)),
                type=kind, service_id=service.id, scheduled_for=date(2019, 11, 12), lead_auditor_id=users["qa.lead"].id,
                parent_id=november.id, agencies=agencies,
            )
        referrals = parts["Audit of referrals (contacts)"]
        self.audit(
            "Audit of referrals (contacts)",
            Work("completed", cases=referrals["cases"], findings=referrals["findings"], completed_on=date(2019, 11, 14)),
            type="dip_sample", service_id=mash.id, scheduled_for=date(2019, 11, 12),
            lead_auditor_id=users["qa.officer"].id, parent_id=november.id,
            question_set_id=self.sets["Contacts and decision-making"].id,
        )
        reported_on = date(2019, 11, 19)
        self.carry_out(
            november,
            Work("completed", findings=content.NOVEMBER_2019_FINDINGS, completed_on=reported_on, before_completing=self.judge_progress),
            made=november_made,
        )
        self.judge_follow_up(november, reported_on)

    def visit_2021(self) -> None:
        """The multi-agency partnership visit of 22 November 2021 (004) and its six methods."""
        users, services = self.users, self.services
        visit = content.VISIT_2021
        day = visit["on"]
        irt = services["Initial Response Team"]
        all_four = ["social_care", "police", "health", "education"]
        parent, parent_made = self.audit(
            visit["title"],
            type="targeted_visit", service_id=irt.id, scheduled_for=day, lead_auditor_id=users["director"].id,
            auditor_ids=[users["qa.lead"].id, users["qa.officer"].id, users["hos.fieldwork"].id],
            agencies=all_four, purpose=visit["purpose"],
        )
        part = {"scheduled_for": day, "parent_id": parent.id, "agencies": all_four}
        done = {"completed_on": day}
        group = content.FOCUS_GROUP_2021
        self.audit(
            group["title"], Work("completed", details=group["details"], findings=group["findings"], **done),
            type="focus_group", service_id=irt.id, lead_auditor_id=users["qa.officer"].id, **part,
        )
        tracking = content.CONTACT_AUDIT_2021
        self.audit(
            tracking["title"], Work("completed", cases=tracking["cases"], findings=tracking["findings"], **done),
            type="dip_sample", service_id=services["Multi-Agency Safeguarding Hub (MASH)"].id, lead_auditor_id=users["qa.lead"].id,
            auditor_ids=[users["qa.officer"].id], question_set_id=self.sets[tracking["question_set"]].id, **part,
        )
        for number, (meeting_on, invited, attended, in_time, chairing, contributions, recorded) in enumerate(content.STRATEGY_MEETINGS_2021):
            details = {
                "meeting_date": meeting_on, "agencies_invited": invited, "agencies_attended": attended, "within_timescale": in_time,
                "chairing_quality": chairing, "agency_contributions": contributions, "decision_recorded": recorded,
            }
            self.audit(
                f"Strategy meeting audit: meeting of {meeting_on.day} {meeting_on:%B %Y}",
                Work("completed", details=details, findings=[content.STRATEGY_FINDING_2021] if number == 0 else [], **done),
                type="strategy_meeting_audit", service_id=irt.id, lead_auditor_id=users["hos.fieldwork"].id, **part,
            )
        interviews = content.INTERVIEWS_2021
        self.audit(
            interviews["title"], Work("completed", details=interviews["details"], findings=interviews["findings"], **done),
            type="focus_group", service_id=irt.id, lead_auditor_id=users["director"].id, **part,
        )
        self.carry_out(parent, Work("completed", completed_on=visit["completed_on"]), made=parent_made)
        self.visit_2021_actions(parent)

    def dip_samples_2021(self) -> None:
        """The dip samples reported early in 2022 (004)."""
        for sample in content.DIP_SAMPLES_2021:
            self.audit(
                sample["title"],
                Work("completed", cases=sample["cases"], findings=sample["findings"], completed_on=sample["completed_on"]),
                type="dip_sample", service_id=self.services[sample["service"]].id, scheduled_for=sample["on"],
                lead_auditor_id=self.users[sample["lead"]].id, question_set_id=self.sets[sample["question_set"]].id,
            )

    def this_year(self) -> None:
        """This financial year's programme: series for the recurring work, one-off
        audits, strategy meeting audits through the year, and a concern."""
        users, services, sets, today, year_start = self.users, self.services, self.sets, self.today, self.year_start
        mash = services["Multi-Agency Safeguarding Hub (MASH)"]

        def series(title: str, work_for, **data) -> None:
            existing = db.session.scalar(select(AuditSeries).where(AuditSeries.title == title))
            made = existing is None
            if made:
                with acting_as(self.qa_lead.id):
                    existing = series_rules.create_series({"title": title, **data})
                self.created += len(existing.audits)
            past = [item for item in existing.audits if item.scheduled_for <= today]
            for item in existing.audits:
                self.carry_out(item, work_for(item, past), made=made)

        def quarterly(item, past) -> Work:
            if item.scheduled_for < today - timedelta(days=14):
                return Work("completed")
            return Work("in_progress") if item.scheduled_for <= today else Work()

        def monthly(item, past) -> Work:
            # The latest one that is due is being done now; the ones before it are done.
            if item not in past:
                return Work()
            if item is past[-1]:
                return Work("in_progress", cases=6, answered=3)
            return Work("completed", cases=8)

        series(
            "Targeted visit to the MASH", quarterly, type="targeted_visit", service_id=mash.id, frequency="quarterly",
            starts_on=year_start + timedelta(days=40), occurrences=4, lead_auditor_id=users["director"].id,
            agencies=["social_care", "police", "health", "education"],
            purpose="Quarterly assurance visit to the front door, following up the previous visit's actions.",
        )
        series(
            "Locality strategy meetings: multi-agency attendance", monthly, type="dip_sample", service_id=services["Locality 1"].id,
            frequency="monthly", starts_on=year_start + timedelta(days=20), ends_on=year_start.replace(year=year_start.year + 1) - timedelta(days=1),
            lead_auditor_id=users["senior.practitioner"].id, question_set_id=sets["Locality strategy meetings: multi-agency attendance"].id,
        )

        def done(day: date, **work) -> Work:
            return Work("completed", **work) if day < today - timedelta(days=30) else Work()

        def strategy(index: int, day: date, **more) -> dict:
            details = content.strategy_meeting(index, day - timedelta(days=3), **more)
            return {"details": details, "findings": content.strategy_meeting_findings(details)}

        one_offs = [
            ("Younger children: medical investigations", "dip_sample", "Initial Response Team", 75, "auditor", [],
             "Younger children: medical investigations", lambda day: done(day, cases=9)),
            ("Focus group: supervision and workload in Reception Teams", "focus_group", "Reception Service", 100, "team.manager", ["social_care"],
             None, lambda day: done(day, **content.RECEPTION_FOCUS_GROUP)),
            ("Strategy meetings for children over six months", "strategy_meeting_audit", "Child Protection", 130, "qa.officer",
             ["social_care", "police", "health"], None, lambda day: done(day, **strategy(2, day, school_age=False))),
            ("Child protection enquiries lasting over 10 days", "dip_sample", "Child Protection", 190, "auditor", [],
             "Child protection enquiries lasting over 10 days", lambda day: done(day, cases=8)),
            ("Focus group: ASYE social workers", "focus_group", "Workforce Development", 230, "qa.lead", ["social_care"],
             None, lambda day: done(day, **content.ASYE_FOCUS_GROUP)),
            ("Multi-agency strategy meeting audit: Domestic Abuse Hub", "strategy_meeting_audit", "Domestic Abuse Hub", 280, "senior.practitioner",
             ["social_care", "police", "health", "education"], None, lambda day: done(day, **strategy(7, day))),
        ]
        for title, kind, service_name, offset, lead, agencies, set_title, work in one_offs:
            day = year_start + timedelta(days=offset)
            self.audit(
                title, work(day), type=kind, service_id=services[service_name].id, scheduled_for=day, lead_auditor_id=users[lead].id,
                agencies=agencies, question_set_id=sets[set_title].id if set_title else None,
            )

        # A strategy meeting audit every four weeks, so attendance by agency has figures.
        leads = ["senior.practitioner", "team.manager", "auditor", "qa.officer"]
        for index in range(13):
            day = year_start + timedelta(days=10 + 28 * index)
            service_name = content.STRATEGY_MEETING_SERVICES[index % len(content.STRATEGY_MEETING_SERVICES)]
            if day <= today - timedelta(days=7):
                work = Work("completed", completed_on=day + timedelta(days=1), **strategy(index, day))
            else:
                work = Work("in_progress") if day <= today else Work()
            self.audit(
                f"Strategy meeting audit: {service_name}", work, type="strategy_meeting_audit", service_id=services[service_name].id,
                scheduled_for=day, lead_auditor_id=users[leads[index % len(leads)]].id,
                agencies=["social_care", "police", "health", "education"],
            )
        self.concern()

    def concern(self) -> None:
        """Children on plans for 2 years or more, tracked through the year (004): in
        progress, with a concern that alerted the QA leads and the head of service.
        The QA lead has acknowledged it; the head of service has not yet."""
        title = "Children on child protection plans for 2 years or more: tracking"
        set_title = "Children on child protection plans for 2 years or more"
        audit, made = self.audit(
            title,
            Work("in_progress", cases=6, answered=4, references=["CS-104871"], findings=[content.CONCERN]),
            type="dip_sample", service_id=self.services["Child Protection"].id, scheduled_for=self.year_start,
            lead_auditor_id=self.users["team.manager"].id, auditor_ids=[self.users["qa.officer"].id],
            question_set_id=self.sets[set_title].id,
            purpose="Every child on a child protection plan for 2 years or more, checked before the head of service's tracking meetings.",
        )
        if not made:
            return
        concern = db.session.scalar(select(Finding).where(Finding.audit_id == audit.id, Finding.kind == FindingKind.CONCERN))
        for alert in concern.alerts:
            if alert.user_id == self.qa_lead.id:
                with acting_as(self.qa_lead.id):
                    finding_rules.acknowledge(alert, self.qa_lead)


    # Improvement plans and their actions --------------------------------------------------

    def latest(self) -> datetime:
        """Nothing is dated after now, nor after the end of the council's today."""
        return min(utcnow(), _at(self.today, 23, 59))

    def day(self, value) -> date:
        """A story's date: as given, or (this year's plan) a number of days from today."""
        return value if isinstance(value, date) else self.today + timedelta(days=value)

    def plan(self, spec: dict) -> dict[str, PlanPriority]:
        """The plan with this title, made by its owner if it is new, with its priorities
        in order and its measures; returns the priorities by title."""
        owner = self.users[spec["owner"]]
        plan = db.session.scalar(select(ImprovementPlan).where(ImprovementPlan.title == spec["title"]))
        with acting_as(owner.id):
            if plan is None:
                service = self.services[spec["service"]].id if spec.get("service") else None
                plan = plan_rules.create_plan(
                    {"title": spec["title"], "description": spec["description"], "owner_id": owner.id, "service_id": service,
                     "board": spec["board"], "starts_on": spec["starts_on"], "ends_on": spec["ends_on"]},
                    owner,
                )
                plan.created_at = min(_at(spec["created_on"], 17), self.latest())
                db.session.commit()
                self.plans_made += 1
            priorities = {priority.title: priority for priority in plan.priorities}
            for title in spec["priorities"]:
                if title not in priorities:
                    priorities[title] = plan_rules.add_priority(plan, {"title": title}, owner)
        recorder = self.users[spec["recorded_by"]]
        for title, measures in spec["measures"].items():
            for item in measures:
                self.measure(priorities[title], item, recorder)
        return priorities

    def month_ends(self) -> list[date]:
        """The last day of each month of this financial year that has ended before today."""
        ends = []
        for months in range(1, 13):
            end = add_months(self.year_start, months) - timedelta(days=1)
            if end >= self.today:
                break
            ends.append(end)
        return ends

    def measure(self, priority: PlanPriority, spec: dict, recorder: User) -> None:
        """A measure with its values, recorded a few days after each is measured. Values
        are recorded when the measure is made, never added to later."""
        if db.session.scalar(select(Measure.id).where(Measure.priority_id == priority.id, Measure.title == spec["title"])):
            return
        values = spec["values"]
        if values and not isinstance(values[0], tuple):  # this year's: one a month
            values = [(end, value, None) for end, value in zip(self.month_ends(), values)]
        with acting_as(recorder.id):
            measure = plan_rules.add_measure(
                priority,
                {"title": spec["title"], "unit": spec["unit"], "baseline": spec["baseline"], "target": spec["target"],
                 "baseline_on": spec["baseline_on"] or self.year_start - timedelta(days=1)},
                recorder,
            )
            rows = [plan_rules.record_measure_value(measure, {"measured_on": on, "value": value, "note": note}, recorder) for on, value, note in values]
            for row in rows:
                row.recorded_at = min(_at(row.measured_on + timedelta(days=6), 9, 40), self.latest())
            db.session.commit()

    def action(self, spec: dict, priority: PlanPriority, *, raised_by: User, board: str, approved_on: date, finding: Finding | None = None) -> Action:
        """The action with this title under this priority, raised (as approved by the
        board) if it is new, and its story told through the service; then its times."""
        found = db.session.scalar(select(Action).where(Action.plan_priority_id == priority.id, Action.title == spec["title"]))
        if found is not None:
            return found
        owner = self.users[spec["owner"]]
        due = self.day(spec["due"])
        if not isinstance(spec["due"], date):
            due = max(due, approved_on + timedelta(days=7))
            if spec["due"] < 0:
                due = min(due, self.today - timedelta(days=1))
        with acting_as(raised_by.id):
            action = action_rules.raise_action(
                {"title": spec["title"], "owner_id": owner.id, "due_date": due, "priority": spec["level"], "plan_priority_id": priority.id,
                 "finding_id": finding.id if finding else None, "approved_by": board, "approved_on": approved_on},
                raised_by,
            )
        self.actions_made += 1
        raised_at = min(_at(approved_on, *STEP_TIMES["raised"]), self.latest())
        moment, stamps, completed_at, verified_at = raised_at, [], None, None
        for step in spec["story"]:
            kind = step["step"]
            by = self.users[step["by"]] if "by" in step else owner
            day = min(max(self.day(step["on"]), approved_on), self.today)
            moment = min(max(_at(day, *STEP_TIMES[kind]), moment + timedelta(minutes=10)), self.latest())
            with acting_as(by.id):
                if kind in ("progress", "completed"):
                    status = "completed" if kind == "completed" else None
                    update = action_rules.post_update(action, {"note": step["note"], "evidence": step["evidence"], "status": status}, by)
                else:
                    if kind == "verified":
                        action_rules.verify_action(action, by, step["note"])
                    elif kind == "sent_back":
                        action_rules.send_back(action, by, step["note"])
                    else:
                        action_rules.cancel_action(action, by, step["note"])
                    latest = select(ActionUpdate).where(ActionUpdate.action_id == action.id).order_by(ActionUpdate.id.desc()).limit(1)
                    update = db.session.scalars(latest).one()
            stamps.append((update, moment))
            completed_at = moment if kind == "completed" else completed_at
            verified_at = moment if kind == "verified" else verified_at
        with acting_as(raised_by.id):
            action.created_at = raised_at
            for update, at in stamps:
                update.created_at = at
            if action.status in DONE:
                action.completed_at = completed_at
            if action.status is ActionStatus.VERIFIED:
                action.verified_at = verified_at
            db.session.commit()
        return action

    def plan_2019(self) -> None:
        """The joint targeted area inspection's local area improvement plan (000 §4.2)."""
        spec = content.JTAI_PLAN
        self.priorities_2019 = self.plan(spec)
        owner = self.users[spec["owner"]]
        for item in spec["actions"]:
            self.action(item, self.priorities_2019[item["priority"]], raised_by=owner, board=spec["board"], approved_on=spec["approved_on"])

    def august_actions(self, august: Audit) -> None:
        """The August 2019 visit's findings turned into actions by the QA lead, under the
        inspection plan's priorities."""
        findings = {finding.summary: finding for finding in db.session.scalars(select(Finding).where(Finding.audit_id == august.id))}
        for item in content.AUGUST_2019_ACTIONS:
            self.action(
                item, self.priorities_2019[item["priority"]], raised_by=self.qa_lead, board=content.MASH_BOARD,
                approved_on=content.AUGUST_2019_ACTIONS_APPROVED_ON, finding=findings[item["finding"]],
            )

    def judge_progress(self, audit: Audit, by: User) -> None:
        """The follow-up visit's judgement of each August action not yet judged, dated the day of the visit."""
        judged = follow_up_rules.reviews_of(audit)
        earlier = {action.title: action for action in follow_up_rules.earlier_actions(audit)}
        moment = _at(audit.scheduled_for, 15, 30)
        for item in content.AUGUST_2019_ACTIONS:
            action = earlier.get(item["title"])
            if action is None or action.id in judged:
                continue
            judgement, note = item["judgement"]
            review = follow_up_rules.judge_progress(audit, action, {"judgement": judgement, "note": note}, by)
            moment += timedelta(minutes=12)
            review.recorded_at = min(moment, self.latest())
            db.session.commit()

    def judge_follow_up(self, audit: Audit, reported_on: date) -> None:
        """An earlier demo completed the follow-up before the August actions existed: a
        QA lead reopens it once, and its lead auditor judges their progress."""
        judged = follow_up_rules.reviews_of(audit)
        if audit.status is not AuditStatus.COMPLETED or all(a.id in judged for a in follow_up_rules.earlier_actions(audit)):
            return
        with acting_as(self.qa_lead.id):
            audit_rules.change_status(audit, AuditStatus.IN_PROGRESS, self.qa_lead, reason=JUDGE_REOPEN_REASON)
        by = audit.lead_auditor
        with acting_as(by.id):
            self.judge_progress(audit, by)
            audit_rules.change_status(audit, AuditStatus.COMPLETED, by)
            self.backdate(audit, Work("completed", completed_on=reported_on))

    def visit_2021_actions(self, visit: Audit) -> None:
        """The 2021 visit's two areas for improvement, in the action plan the Practice and
        Development Board approved (004)."""
        spec = content.VISIT_2021_PLAN
        priorities = self.plan(spec)
        parts = select(Audit.id).where(Audit.parent_id == visit.id)
        for item in spec["actions"]:
            finding = db.session.scalars(select(Finding).where(Finding.audit_id.in_(parts), Finding.summary == item["finding"])).one()
            self.action(item, priorities[item["priority"]], raised_by=self.qa_lead, board=spec["board"], approved_on=spec["approved_on"], finding=finding)

    def annual_plan(self) -> None:
        """This financial year's annual improvement plan, agreed at the board in March;
        actions raised at the board's monthly meetings since."""
        spec = content.ANNUAL_PLAN
        year = self.year_start.year
        spec = {
            **spec, "title": f"Annual improvement plan {year}/{(year + 1) % 100:02d}", "starts_on": self.year_start,
            "ends_on": date(year + 1, 3, 31), "created_on": self.agreed_on,
        }
        priorities = self.plan(spec)
        owner = self.users[spec["owner"]]
        for item in spec["actions"]:
            approved_on = _board_meeting(max(self.today + timedelta(days=item["raised"]), self.agreed_on))
            self.action(item, priorities[item["priority"]], raised_by=owner, board=spec["board"], approved_on=approved_on)


def _has_records(audit) -> bool:
    return bool(
        db.session.scalar(
            select(
                exists().where(Finding.audit_id == audit.id)
                | exists().where(SampledCase.audit_id == audit.id)
                | exists().where(AuditDetails.audit_id == audit.id)
            )
        )
    )


def load() -> str:
    with _mail_to_outbox():
        users = {}
        created_users = 0
        for login, name, role in USERS:
            users[login], created = _user(login, name, role)
            created_users += created
        created_services = 0
        with acting_as(users["admin"].id):
            for name, description, head in SERVICES:
                if db.session.scalar(select(Service.id).where(Service.name == name)) is None:
                    db.session.add(Service(name=name, description=description, head_of_service_id=users[head].id, active=True))
                    created_services += 1
            db.session.commit()
        services = {service.name: service for service in db.session.scalars(select(Service))}
        loader = _Loader(users, services)
        loader.plan_2019()
        loader.visits_2019()
        loader.visit_2021()
        loader.dip_samples_2021()
        loader.this_year()
        loader.annual_plan()
    return (
        f"Demo data: {created_users} users, {created_services} services and {loader.created} audits added; "
        f"{loader.plans_made} improvement plans and {loader.actions_made} actions added."
    )
