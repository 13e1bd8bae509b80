"""The demo council, drawn from the situations in shared/seeds (FACTS.md).

People's names are invented; no child is named anywhere. Loading is idempotent:
each record is found by its natural key before it is created.
"""

from __future__ import annotations

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
    return f"Demo data: {created_users} users and {created_services} services added."
