from sqlalchemy import select

from qa_audit.auth.models import Role, User
from qa_audit.extensions import db
from qa_audit.history.models import HistoryEntry
from tests.conftest import sign_in

GOOD_PASSWORD = "a-long-enough-passphrase"


def test_admin_lists_users(login_as, make_user):
    admin = login_as("admin")
    make_user("viewer", name="Derek Lowe")
    page = admin.get("/admin/users").get_data(as_text=True)
    assert "Derek Lowe" in page and "Viewer" in page
    assert '<a class="govuk-link" href="/admin/users/' in page


def test_admin_adds_a_user_who_can_sign_in(app, login_as):
    admin = login_as("admin")
    response = admin.post_form(
        "/admin/users/new",
        {"name": "Hannah Price", "email": "Hannah.Price@example.gov.uk", "role": "auditor", "password": GOOD_PASSWORD},
    )
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "hannah.price@example.gov.uk"))
    assert user.role is Role.AUDITOR and user.active
    assert sign_in(app.test_client(), "hannah.price@example.gov.uk", GOOD_PASSWORD).status_code == 302


def test_add_user_bad_input(login_as, make_user):
    admin = login_as("admin")
    taken = make_user()
    cases = [
        ({"name": "", "email": "", "role": "", "password": ""}, ["Enter a name", "Enter an email address", "Select a role", "Enter a password"]),
        ({"name": "x" * 10000, "email": "a@b.gov.uk", "role": "auditor", "password": GOOD_PASSWORD}, ["Name must be 200 characters or fewer"]),
        ({"name": "A", "email": "with space@b.gov.uk", "role": "auditor", "password": GOOD_PASSWORD}, ["Enter an email address in the correct format"]),
        ({"name": "A", "email": taken.email, "role": "auditor", "password": GOOD_PASSWORD}, ["A user with this email address already exists"]),
        ({"name": "A", "email": "a@b.gov.uk", "role": "auditor", "password": "short"}, ["Password must be 12 characters or more"]),
        ({"name": "A", "email": "a@b.gov.uk", "role": "auditor", "password": "qwerty123456"}, ["Password is too common"]),
        ({"name": "A", "email": "a@b.gov.uk", "role": "superuser", "password": GOOD_PASSWORD}, ["Not a valid choice"]),
    ]
    for data, messages in cases:
        response = admin.post_form("/admin/users/new", data)
        page = response.get_data(as_text=True)
        assert response.status_code == 200, data
        assert "<title>Error: " in page
        for message in messages:
            assert message in page, (data, message)
    assert db.session.scalar(select(User).where(User.email == "a@b.gov.uk")) is None


def test_password_of_128_characters_is_allowed(app, login_as):
    admin = login_as("admin")
    password = ("correct horse battery staple " * 5)[:128]
    assert len(password) == 128
    response = admin.post_form("/admin/users/new", {"name": "Long", "email": "long@b.gov.uk", "role": "viewer", "password": password})
    assert response.status_code == 302
    assert sign_in(app.test_client(), "long@b.gov.uk", password).status_code == 302


def test_admin_changes_role_and_history_records_it(login_as, make_user):
    admin = login_as("admin")
    user = make_user("viewer")
    response = admin.post_form(f"/admin/users/{user.id}", {"name": user.name, "role": "head_of_service"})
    assert response.status_code == 302
    db.session.refresh(user)
    assert user.role is Role.HEAD_OF_SERVICE
    entry = db.session.scalars(
        select(HistoryEntry).where(HistoryEntry.entity == "user", HistoryEntry.entity_id == user.id, HistoryEntry.event == "update")
    ).one()
    assert entry.changes == {"role": ["viewer", "head_of_service"]}
    assert entry.user_id == admin.user.id
    page = admin.get(f"/history/user/{user.id}").get_data(as_text=True)
    assert "head_of_service" in page and admin.user.name in page


def test_admin_cannot_change_own_role(login_as):
    admin = login_as("admin")
    response = admin.post_form(f"/admin/users/{admin.user.id}", {"name": "Me", "role": "viewer"})
    assert "You cannot change your own role" in response.get_data(as_text=True)


def test_deactivate_signs_the_user_out_and_revokes_tokens(app, login_as, api_as):
    admin = login_as("admin")
    headers, user = api_as("auditor")
    user_client = app.test_client()
    sign_in(user_client, user.email)
    assert user_client.get("/").status_code == 200
    admin.post_form(f"/admin/users/{user.id}/deactivate")
    db.session.refresh(user)
    assert not user.active
    assert user_client.get("/").status_code == 302
    assert app.test_client().get("/api/v1/me", headers=headers).status_code == 401
    admin.post_form(f"/admin/users/{user.id}/reactivate")
    db.session.refresh(user)
    assert user.active


def test_admin_cannot_deactivate_self(login_as):
    admin = login_as("admin")
    admin.post_form(f"/admin/users/{admin.user.id}/deactivate")
    db.session.refresh(admin.user)
    assert admin.user.active


def test_reset_password(app, login_as, make_user):
    admin = login_as("admin")
    user = make_user()
    response = admin.post_form(f"/admin/users/{user.id}/reset-password", {"password": "password1234"})
    assert "Password is too common" in response.get_data(as_text=True)
    response = admin.post_form(f"/admin/users/{user.id}/reset-password", {"password": "fresh-new-passphrase"})
    assert response.status_code == 302
    assert sign_in(app.test_client(), user.email, "fresh-new-passphrase").status_code == 302
    history = admin.get(f"/history/user/{user.id}").get_data(as_text=True)
    assert "[redacted]" in history and "pbkdf2" not in history


def test_unknown_user_is_404(login_as):
    assert login_as("admin").get("/admin/users/999").status_code == 404
