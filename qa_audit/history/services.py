"""Reading the history: entries for one record, or filtered for the API."""

from __future__ import annotations

from sqlalchemy import func, select

from qa_audit.extensions import db
from qa_audit.history.models import HistoryEntry

# API.md's entity names; a later model adds its own by naming __history_entity__.
ENTITY_LABELS = {
    "audit": "Audit",
    "finding": "Finding",
    "action": "Action",
    "action_update": "Action update",
    "plan": "Improvement plan",
    "plan_priority": "Plan priority",
    "service": "Service",
    "user": "User",
    "api_token": "API token",
    "question_set": "Question set",
    "question": "Question",
    "sampled_case": "Sampled case",
    "audit_series": "Audit series",
    "answer": "Answer",
    "audit_details": "Audit details",
    "theme": "Theme",
    "concern_alert": "Concern alert",
    "evidence_file": "Evidence file",
    "measure": "Measure",
    "measure_value": "Measure value",
    "progress_review": "Progress review",
}


def entries_query(entity: str | None = None, entity_id: int | None = None):
    query = select(HistoryEntry)
    if entity:
        query = query.where(HistoryEntry.entity == entity)
    if entity_id is not None:
        query = query.where(HistoryEntry.entity_id == entity_id)
    return query


def page_of_entries(entity: str | None, entity_id: int | None, *, page: int, page_size: int, newest_first: bool = True):
    query = entries_query(entity, entity_id)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    order = HistoryEntry.id.desc() if newest_first else HistoryEntry.id
    items = db.session.scalars(query.order_by(order).limit(page_size).offset((page - 1) * page_size)).all()
    return items, total
