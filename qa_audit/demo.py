"""The demo council, drawn from the situations in shared/seeds (FACTS.md).

People's names are invented; no child is named anywhere. Loading is idempotent:
each record is found by its natural key before it is created.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select

from qa_audit.admin.models import Service
from qa_audit.auth import services as account_rules
from qa_audit.auth.models import Role, User
from qa_audit.extensions import db

DEMO_PASSWORD = "demo-council-2026"
DOMAIN = "demo.qa-audit.test"

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


def _user(login: str, name: str, role: Role) -> tuple[User, bool]:
    email = f"{login}@{DOMAIN}"
    user = db.session.scalar(select(User).where(User.email == email))
    if user is not None:
        return user, False
    return account_rules.create_user(email, name, role, DEMO_PASSWORD), True


QUESTION_SETS = [
    (
        "Younger children: medical investigations",
        "Dip sample of children under two referred with injuries (seeds: dip samples, early 2022).",
        [
            "Was a child protection medical arranged when the threshold was met?",
            "Was the medical investigation undertaken within the expected timescale?",
            "Did the strategy discussion consider the medical findings?",
            "Is the outcome of the medical recorded on the child's file?",
        ],
    ),
    (
        "Locality strategy meetings: multi-agency attendance",
        "Were the right agencies at the strategy meeting, and did they contribute?",
        [
            "Was the strategy meeting held within timescale?",
            "Did police attend?",
            "Did health attend?",
            "Did education attend?",
            "Were decisions and actions recorded?",
        ],
    ),
    (
        "Repeated contacts from friends or family",
        "Contacts made by friends or family, especially repeated ones.",
        [
            "Was the contact screened within 24 hours?",
            "Was the history of previous contacts considered?",
            "Was the threshold decision proportionate?",
        ],
    ),
]


def _question_sets() -> dict:
    from qa_audit.audits import services as audit_rules
    from qa_audit.audits.models import QuestionSet

    sets = {}
    for title, description, questions in QUESTION_SETS:
        existing = db.session.scalar(select(QuestionSet).where(QuestionSet.title == title, QuestionSet.superseded.is_(False)))
        sets[title] = existing or audit_rules.create_question_set(title, questions, description)
    return sets


def _programme(users: dict[str, User], services: dict[str, Service]) -> int:
    """This financial year's programme plus the 2019 MASH visits the seeds describe."""
    from datetime import date, timedelta

    from qa_audit.audits import services as audit_rules
    from qa_audit.audits.models import Audit, AuditSeries, AuditStatus

    today = audit_rules.today()
    year_start = date(today.year if today.month >= 4 else today.year - 1, 4, 1)
    sets = _question_sets()
    mash = services["Multi-Agency Safeguarding Hub (MASH)"]
    created = 0

    def audit(title: str, **data) -> Audit:
        nonlocal created
        found = db.session.scalar(select(Audit).where(Audit.title == title, Audit.scheduled_for == data["scheduled_for"]))
        if found:
            return found
        status = data.pop("status", "planned")
        made = audit_rules.schedule_audit({"title": title, **data})
        created += 1
        _settle(made, status)
        return made

    def _settle(made: Audit, status: str) -> None:
        if status in ("in_progress", "completed"):
            made.status = AuditStatus.IN_PROGRESS
            made.started_at = datetime.combine(made.scheduled_for, datetime.min.time(), tzinfo=timezone.utc)
        if status == "completed":
            made.status = AuditStatus.COMPLETED
            made.completed_at = made.started_at + timedelta(days=7)
        db.session.commit()

    # The MASH visits of 2019 (000): August, then November following it up.
    august = audit(
        "Targeted visit to the MASH",
        type="targeted_visit", service_id=mash.id, scheduled_for=date(2019, 8, 12),
        lead_auditor_id=users["director"].id, auditor_ids=[users["qa.lead"].id, users["hos.fieldwork"].id],
        agencies=["social_care", "police", "health"], purpose="Assurance of decision-making after contact and referral.",
        status="completed",
    )
    november = audit(
        "Follow-up targeted visit to the MASH",
        type="targeted_visit", service_id=mash.id, scheduled_for=date(2019, 11, 12),
        lead_auditor_id=users["director"].id, auditor_ids=[users["qa.lead"].id, users["hos.fieldwork"].id],
        agencies=["social_care", "police", "health", "education"], follow_up_of_id=august.id,
        purpose=(
            "Assurance of decision-making after contact and referral; progress on the actions raised in August; "
            "impact of the inspection improvement plan on front-line staff. The DfE regional improvement adviser attended."
        ),
        status="completed",
    )
    for title, kind, service, agencies in [
        ("Focus group: MASH social workers", "focus_group", mash, ["social_care"]),
        ("Focus group: Domestic Abuse Hub", "focus_group", services["Domestic Abuse Hub"], ["social_care", "police"]),
        ("Observed child protection strategy meeting", "strategy_meeting_audit", mash, ["social_care", "police", "health", "education"]),
    ]:
        audit(title, type=kind, service_id=service.id, scheduled_for=date(2019, 11, 12), lead_auditor_id=users["qa.lead"].id,
              parent_id=november.id, agencies=agencies, status="completed")
    audit("Audit of referrals (contacts)", type="dip_sample", service_id=mash.id, scheduled_for=date(2019, 11, 12),
          lead_auditor_id=users["qa.officer"].id, parent_id=november.id, status="completed",
          question_set_id=sets["Repeated contacts from friends or family"].id)

    # This year's programme: series for the recurring work.
    def series(title: str, **data) -> None:
        nonlocal created
        if db.session.scalar(select(AuditSeries.id).where(AuditSeries.title == title)) is None:
            made = audit_rules.create_series({"title": title, **data})
            created += len(made.audits)
            for item in made.audits:
                if item.scheduled_for < today - timedelta(days=14):
                    _settle(item, "completed")
                elif item.scheduled_for <= today:
                    _settle(item, "in_progress")

    series(
        "Targeted visit to the MASH", type="targeted_visit", service_id=mash.id, frequency="quarterly",
        starts_on=year_start + timedelta(days=40), occurrences=4, lead_auditor_id=users["director"].id,
        agencies=["social_care", "police", "health", "education"],
        purpose="Quarterly assurance visit to the front door, following up the previous visit's actions.",
    )
    series(
        "Locality strategy meetings: multi-agency attendance", type="dip_sample", service_id=services["Locality 1"].id,
        frequency="monthly", starts_on=year_start + timedelta(days=20), ends_on=year_start.replace(year=year_start.year + 1) - timedelta(days=1),
        lead_auditor_id=users["senior.practitioner"].id, question_set_id=sets["Locality strategy meetings: multi-agency attendance"].id,
    )
    one_offs = [
        ("Younger children: medical investigations", "dip_sample", "Initial Response Team", 75, "auditor", [], sets["Younger children: medical investigations"].id),
        ("Focus group: supervision and workload in Reception Teams", "focus_group", "Reception Service", 100, "team.manager", ["social_care"], None),
        ("Strategy meetings for children over six months", "strategy_meeting_audit", "Child Protection", 130, "qa.officer", ["social_care", "police", "health"], None),
        ("Child protection enquiries lasting over 10 days", "dip_sample", "Child Protection", 190, "auditor", [], sets["Repeated contacts from friends or family"].id),
        ("Focus group: ASYE social workers", "focus_group", "Workforce Development", 230, "qa.lead", ["social_care"], None),
        ("Multi-agency strategy meeting audit: Domestic Abuse Hub", "strategy_meeting_audit", "Domestic Abuse Hub", 280, "senior.practitioner", ["social_care", "police", "health", "education"], None),
    ]
    for title, kind, service_name, offset, lead, agencies, question_set_id in one_offs:
        day = year_start + timedelta(days=offset)
        status = "planned"
        if day < today - timedelta(days=30) and kind != "strategy_meeting_audit":
            status = "completed"
        audit(title, type=kind, service_id=services[service_name].id, scheduled_for=day, lead_auditor_id=users[lead].id,
              agencies=agencies, question_set_id=question_set_id, status=status)
    return created


def load() -> str:
    users = {}
    created_users = 0
    for login, name, role in USERS:
        users[login], created = _user(login, name, role)
        created_users += created
    created_services = 0
    for name, description, head in SERVICES:
        if db.session.scalar(select(Service.id).where(Service.name == name)) is None:
            db.session.add(Service(name=name, description=description, head_of_service_id=users[head].id, active=True))
            created_services += 1
    db.session.commit()
    services = {service.name: service for service in db.session.scalars(select(Service))}
    created_audits = _programme(users, services)
    return f"Demo data: {created_users} users, {created_services} services and {created_audits} audits added."
