"""Rules for the services (teams) audited."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from qa_audit.admin.models import Service
from qa_audit.auth.models import Role, User
from qa_audit.errors import Conflict, InvalidInput
from qa_audit.extensions import db
from qa_audit.validation import check_text

NAME_MAX = 200
DESCRIPTION_MAX = 2000


def _check(name: str, description: str | None, head_of_service_id: int | None, *, service: Service | None = None):
    errors: dict[str, list[str]] = {}
    name = check_text(errors, "name", name, label="Name", max_length=NAME_MAX, required=True, missing_message="Enter the name of the service") or ""
    check_text(errors, "description", description, label="Description", max_length=DESCRIPTION_MAX, multiline=True)
    if name and "name" not in errors:
        # The same name, or the same in other case (SQLite's lower() folds only ASCII, so
        # the exact name is asked for too: the unique index would refuse it with a 500).
        same = select(Service.id).where(or_(Service.name == name, func.lower(Service.name) == name.lower()))
        if service is not None:
            same = same.where(Service.id != service.id)
        if db.session.scalar(same.limit(1)) is not None:
            errors["name"] = ["A service with this name already exists"]
    if description and len(description) > DESCRIPTION_MAX:
        errors["description"] = [f"Description must be {DESCRIPTION_MAX} characters or fewer"]
    if head_of_service_id is not None:
        head = db.session.get(User, head_of_service_id)
        if head is None or not head.active:
            errors["head_of_service_id"] = ["Select an active user as head of service"]
        elif head.role not in (Role.HEAD_OF_SERVICE, Role.QA_LEAD, Role.ADMIN):
            errors["head_of_service_id"] = ["The head of service must have the head of service role"]
    if errors:
        raise InvalidInput(errors)
    return name


def create_service(name: str, head_of_service_id: int | None = None, description: str | None = None) -> Service:
    name = _check(name, description, head_of_service_id)
    service = Service(name=name, head_of_service_id=head_of_service_id, description=description or None, active=True)
    db.session.add(service)
    _commit_name()
    return service


def _commit_name() -> None:
    """Commit; two people saving the same new name at the same moment: the unique
    index decides, and the loser gets the same message as _check gives."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise InvalidInput(name="A service with this name already exists") from None


def update_service(
    service: Service,
    *,
    name: str,
    head_of_service_id: int | None,
    description: str | None,
    active: bool,
    version: int | None = None,
) -> Service:
    if version is not None and version != service.version:
        raise Conflict("Someone else changed this service while you were editing it. Check their changes, then save again.")
    name = _check(name, description, head_of_service_id, service=service)
    service.name = name
    service.head_of_service_id = head_of_service_id
    service.description = description or None
    service.active = active
    _commit_name()
    return service


def list_services(*, include_inactive: bool = True) -> list[Service]:
    query = select(Service).order_by(Service.name)
    if not include_inactive:
        query = query.where(Service.active.is_(True))
    return list(db.session.scalars(query))


def heads_of_service() -> list[User]:
    return list(
        db.session.scalars(
            select(User).where(User.active.is_(True), User.role == Role.HEAD_OF_SERVICE).order_by(User.name)
        )
    )
