import pytest
from sqlalchemy import select

from qa_audit.admin.models import Service
from qa_audit.extensions import db
from qa_audit.history.models import HistoryEntry
from qa_audit.history.tracking import acting_as


def _entries(entity, entity_id):
    return db.session.scalars(
        select(HistoryEntry).where(HistoryEntry.entity == entity, HistoryEntry.entity_id == entity_id).order_by(HistoryEntry.id)
    ).all()


def test_insert_update_delete_are_recorded_with_before_and_after(app, make_user):
    head_id = make_user("head_of_service").id
    with acting_as(head_id):
        service = Service(name="Reception Service", active=True)
        db.session.add(service)
        db.session.commit()
        service.name = "Reception Teams"
        service.head_of_service_id = head_id
        db.session.commit()
        service_id = service.id
        db.session.delete(service)
        db.session.commit()

    create, update, delete = _entries("service", service_id)
    assert create.event == "create" and create.changes["name"] == [None, "Reception Service"]
    assert update.event == "update"
    assert update.changes == {"name": ["Reception Service", "Reception Teams"], "head_of_service_id": [None, head_id]}
    assert delete.event == "delete" and delete.changes["name"] == ["Reception Teams", None]
    assert {e.user_id for e in (create, update, delete)} == {head_id}


def test_an_unchanged_save_writes_no_history(app, make_service):
    service = make_service("Early Help")
    service.name = "Early Help"
    db.session.commit()
    assert [e.event for e in _entries("service", service.id)] == ["create"]


def test_history_is_append_only(app, make_service):
    make_service()
    entry = db.session.scalars(select(HistoryEntry)).first()
    entry.event = "tampered"
    with pytest.raises(PermissionError):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.scalars(select(HistoryEntry)).first())
    with pytest.raises(PermissionError):
        db.session.commit()
    db.session.rollback()


def test_history_page_for_readers_only(login_as, make_service):
    service = make_service("Children in Care")
    for role in ("admin", "qa_lead", "head_of_service"):
        page = login_as(role).get(f"/history/service/{service.id}")
        assert page.status_code == 200
        assert "Children in Care" in page.get_data(as_text=True)
    for role in ("auditor", "viewer"):
        assert login_as(role).get(f"/history/service/{service.id}").status_code == 403


def test_history_page_unknown_record_or_entity_is_404(login_as):
    client = login_as("qa_lead")
    assert client.get("/history/service/999").status_code == 404
    assert client.get("/history/spaceship/1").status_code == 404
