"""Who may do what: role checks and ownership checks, in one place.

HTML views, the API and templates all ask these functions, so a rule is written once.
"""

from __future__ import annotations

from functools import wraps
from typing import Callable

from flask import abort, request
from flask_login import current_user

from qa_audit.auth.models import Role, User

ADMIN = Role.ADMIN
QA_LEAD = Role.QA_LEAD
AUDITOR = Role.AUDITOR
HEAD_OF_SERVICE = Role.HEAD_OF_SERVICE
VIEWER = Role.VIEWER

MANAGERS = (ADMIN, QA_LEAD)
HISTORY_READERS = (ADMIN, QA_LEAD, HEAD_OF_SERVICE)


def public(view: Callable) -> Callable:
    """Mark a view as reachable without signing in (the allow-list is tested)."""
    view.is_public = True
    return view


# Endpoints of other libraries' views that need no sign-in: assets, and the
# OpenAPI description (API.md).
PUBLIC_ENDPOINTS = frozenset({"static", "api-docs.openapi_json"})


def is_public(endpoint: str | None, view: Callable | None) -> bool:
    return endpoint in PUBLIC_ENDPOINTS or bool(getattr(view, "is_public", False))


def roles_required(*roles: Role) -> Callable:
    """Anonymous users go to sign in (or get 401 from the API); other roles get 403."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                abort(401)
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = roles
        return wrapped

    return decorator


def _has(user, *roles: Role) -> bool:
    return bool(user and user.is_authenticated and user.role in roles)


def can_manage_users(user: User) -> bool:
    return _has(user, ADMIN)


def can_manage_services(user: User) -> bool:
    return _has(user, ADMIN, QA_LEAD)


def can_view_history(user: User) -> bool:
    return _has(user, *HISTORY_READERS)


def can_manage_token(user: User, token) -> bool:
    return bool(user and user.is_authenticated and token.user_id == user.id)


def can_schedule_audits(user: User) -> bool:
    return _has(user, *MANAGERS)


def can_manage_question_sets(user: User) -> bool:
    return _has(user, *MANAGERS)


def can_change_audit_status(user: User, audit, new_status) -> bool:
    """QA leads (and admins) make any legal change; the audit's own auditors may
    start it and complete it."""
    from qa_audit.audits.models import AuditStatus

    if _has(user, *MANAGERS):
        return True
    if not (user and user.is_authenticated and audit.takes_part(user)):
        return False
    # Starting and completing are theirs to ask for (an illegal one is then a
    # conflict, 409); cancelling and reopening (completed → in progress) never are.
    if new_status is AuditStatus.COMPLETED:
        return True
    return new_status is AuditStatus.IN_PROGRESS and audit.status is not AuditStatus.COMPLETED


def can_view_audit(user: User, audit) -> bool:
    """Every signed-in user may see every audit and what hangs off it (its findings,
    their evidence files, its report): viewers (board members, partner agencies,
    inspectors on site) read them. Ask this, rather than assume it, so that a later
    narrowing is made in one place."""
    return bool(user and user.is_authenticated)


def can_record_on(user: User, audit) -> bool:
    """Findings, cases and details are recorded by the audit's own auditors, or a QA lead."""
    if _has(user, *MANAGERS):
        return True
    return bool(user and user.is_authenticated and audit.takes_part(user))


# Actions and improvement plans ---------------------------------------------------------

ACTION_MANAGERS = (ADMIN, QA_LEAD, HEAD_OF_SERVICE)


def can_raise_actions(user: User) -> bool:
    return _has(user, *ACTION_MANAGERS)


def can_create_plans(user: User) -> bool:
    return _has(user, *ACTION_MANAGERS)


def can_manage_plan(user: User, plan) -> bool:
    """Priorities and measures belong to the plan's owner (and QA leads, admins)."""
    if _has(user, *MANAGERS):
        return True
    return bool(user and user.is_authenticated and plan.owner_id == user.id)


def can_edit_action(user: User, action) -> bool:
    """Admins and QA leads; the owner of the plan it sits in; the head of the service it is for."""
    if _has(user, *MANAGERS):
        return True
    if not (user and user.is_authenticated):
        return False
    plan = action.plan_priority.plan if action.plan_priority is not None else None
    if plan is not None and plan.owner_id == user.id:
        return True
    service = action.service
    return service is not None and service.head_of_service_id == user.id


def can_post_update(user: User, action) -> bool:
    """Anyone can own an action; its owner may always post progress on it."""
    if _has(user, *ACTION_MANAGERS):
        return True
    return bool(user and user.is_authenticated and action.owner_id == user.id)


def can_verify_action(user: User, action) -> bool:
    """Signing off is someone else's job: never the action's own owner."""
    return _has(user, *ACTION_MANAGERS) and action.owner_id != user.id


def can_cancel_action(user: User, action=None) -> bool:
    return _has(user, *ACTION_MANAGERS)


def wants_json() -> bool:
    return request.path.startswith("/api/")


# Exposed to every template as ``can``.
TEMPLATE_CHECKS = {
    "manage_users": can_manage_users,
    "manage_services": can_manage_services,
    "view_history": can_view_history,
    "schedule_audits": can_schedule_audits,
    "manage_question_sets": can_manage_question_sets,
    "raise_actions": can_raise_actions,
    "create_plans": can_create_plans,
    "manage_plan": can_manage_plan,
    "edit_action": can_edit_action,
    "post_update": can_post_update,
    "verify_action": can_verify_action,
    "cancel_action": can_cancel_action,
}
