from sqlalchemy import select

from qa_audit.admin.models import Service
from qa_audit.extensions import db


def test_qa_lead_adds_and_edits_a_service(login_as, make_user):
    qa_lead = login_as("qa_lead")
    head = make_user("head_of_service", name="Aisha Rahman")
    page = qa_lead.get("/admin/services/new").get_data(as_text=True)
    assert "Aisha Rahman" in page
    response = qa_lead.post_form(
        "/admin/services/new", {"name": "Multi-Agency Safeguarding Hub (MASH)", "head_of_service_id": str(head.id)}
    )
    assert response.status_code == 302
    service = db.session.scalar(select(Service))
    assert service.head_of_service_id == head.id
    listing = qa_lead.get("/admin/services").get_data(as_text=True)
    assert "Multi-Agency Safeguarding Hub (MASH)" in listing and "Aisha Rahman" in listing

    response = qa_lead.post_form(
        f"/admin/services/{service.id}",
        {"name": "MASH", "head_of_service_id": "", "version": str(service.version), "active": "y"},
    )
    assert response.status_code == 302
    db.session.refresh(service)
    assert service.name == "MASH" and service.head_of_service_id is None and service.active


def test_service_bad_input(login_as, make_service, make_user):
    qa_lead = login_as("qa_lead")
    make_service("Early Help")
    viewer = make_user("viewer")
    for data, message in [
        ({"name": ""}, "Enter the name of the service"),
        ({"name": "early help"}, "A service with this name already exists"),
        ({"name": "y" * 201}, "Name must be 200 characters or fewer"),
        ({"name": "New", "head_of_service_id": str(viewer.id)}, "Not a valid choice"),
    ]:
        response = qa_lead.post_form("/admin/services/new", data)
        assert response.status_code == 200
        assert message in response.get_data(as_text=True), data


def test_stale_edit_is_a_conflict_and_keeps_the_input(login_as, make_service):
    qa_lead = login_as("qa_lead")
    service = make_service("Locality 1")
    stale_version = str(service.version)
    qa_lead.post_form(f"/admin/services/{service.id}", {"name": "Locality One", "version": stale_version, "active": "y"})
    response = qa_lead.post_form(
        f"/admin/services/{service.id}", {"name": "Locality 1 (trailblazer)", "version": stale_version, "active": "y"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Someone else changed this service" in page
    assert 'value="Locality 1 (trailblazer)"' in page
    db.session.refresh(service)
    assert service.name == "Locality One"


def test_auditor_cannot_manage_services(login_as):
    assert login_as("auditor").get("/admin/services").status_code == 403
