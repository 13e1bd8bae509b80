"""The service navigation: which links each role sees."""

from __future__ import annotations

from flask import url_for

from qa_audit.auth.permissions import can_manage_question_sets, can_manage_services, can_manage_users

# (label, endpoint, shown to this user?, endpoints that mark it current)
_ITEMS = [
    ("Home", "main.home", lambda user: True, ("main.home",)),
    ("Programme", "audits.show_programme", lambda user: True, ("audits.show_programme", "audits.show_calendar", "audits.schedule_audit", "audits.show_audit", "audits.edit_audit", "audits.schedule_series", "audits.show_series", "audits.edit_series")),
    ("My audits", "audits.my_audits", lambda user: True, ("audits.my_audits", "audits.calendar_feed")),
    ("My actions", "actions.my_actions", lambda user: True, ("actions.my_actions",)),
    ("Actions", "actions.list_actions", lambda user: True, ("actions.list_actions", "actions.actions_for_sign_off", "actions.show_action", "actions.raise_action_from_finding", "actions.raise_action_under_priority", "actions.edit_action", "actions.post_update", "actions.verify_action", "actions.send_back_action", "actions.cancel_action")),
    ("Plans", "plans.list_plans", lambda user: True, ("plans.list_plans", "plans.create_plan", "plans.show_plan", "plans.edit_plan", "plans.list_priorities", "plans.add_priority", "plans.rename_priority", "plans.add_measure", "plans.record_measure_value")),
    ("Question sets", "audits.list_question_sets", can_manage_question_sets, ("audits.list_question_sets", "audits.new_question_set", "audits.show_question_set", "audits.edit_question_set")),
    ("Services", "admin.list_services", can_manage_services, ("admin.list_services", "admin.add_service", "admin.edit_service")),
    ("Users", "admin.list_users", can_manage_users, ("admin.list_users", "admin.add_user", "admin.edit_user", "admin.reset_password")),
    ("API tokens", "auth.list_tokens", lambda user: True, ("auth.list_tokens",)),
]


def navigation_for(user, endpoint: str | None) -> list[dict]:
    if not user or not user.is_authenticated:
        return []
    return [
        {"text": label, "href": url_for(target), "active": endpoint in current, "current": endpoint == target}
        for label, target, shown, current in _ITEMS
        if shown(user)
    ]
