from datetime import timedelta

import pytest
from sqlalchemy import select

from qa_audit.auth.models import LoginAttempt, User
from qa_audit.extensions import db
from qa_audit.types import utcnow
from tests.conftest import PASSWORD, sign_in

INVALID = "Enter a correct email address and password"
LOCKED = "This account is locked"


def test_sign_in_page_has_the_fields(client):
    page = client.get("/sign-in").get_data(as_text=True)
    assert 'name="email"' in page and 'name="password"' in page and 'name="csrf_token"' in page


def test_sign_in_and_out(client, make_user):
    user = make_user("qa_lead", name="Priya Chandran")
    response = sign_in(client, user.email)
    assert response.status_code == 302 and response.location == "/"
    assert "Hello, Priya Chandran" in client.get("/").get_data(as_text=True)
    response = client.post_form("/sign-out", {"csrf_token": client.csrf_token()})
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_sign_in_is_case_insensitive_about_email(client, make_user):
    make_user(email="Grace.Mensah@example.gov.uk")
    assert sign_in(client, "  GRACE.MENSAH@example.gov.uk ").status_code == 302


def test_sign_out_needs_post(login_as):
    client = login_as("auditor")
    assert client.get("/sign-out").status_code == 405


@pytest.mark.parametrize(
    "data, messages",
    [
        ({"email": "", "password": ""}, ["Enter your email address", "Enter your password"]),
        ({"email": "a b@example.gov.uk", "password": "x"}, ["Enter an email address in the correct format"]),
        ({"email": "x" * 400 + "@example.gov.uk", "password": "x"}, ["Email address must be 320 characters or fewer"]),
    ],
)
def test_bad_input_gets_messages_at_the_field(client, data, messages):
    response = client.post_form("/sign-in", data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<title>Error: Sign in" in page
    assert "govuk-error-summary" in page
    for message in messages:
        assert message in page


def test_wrong_password_and_unknown_email_look_the_same(client, make_user):
    user = make_user()
    wrong = client.post_form("/sign-in", {"email": user.email, "password": "not-the-password"})
    unknown = client.post_form("/sign-in", {"email": "nobody@example.gov.uk", "password": "not-the-password"})
    assert wrong.status_code == unknown.status_code == 200
    assert INVALID in wrong.get_data(as_text=True)
    assert INVALID in unknown.get_data(as_text=True)


def test_inactive_user_cannot_sign_in(client, make_user):
    user = make_user(active=False)
    response = sign_in(client, user.email)
    assert response.status_code == 200
    assert INVALID in response.get_data(as_text=True)


def test_forged_csrf_token_is_refused(client, make_user):
    user = make_user()
    response = client.post("/sign-in", data={"email": user.email, "password": PASSWORD, "csrf_token": "forged"})
    assert response.status_code == 400
    assert "Your form could not be sent" in response.get_data(as_text=True)
    response = client.post("/sign-in", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400


def test_session_is_rotated_at_sign_in(client, make_user):
    user = make_user()
    before = client.csrf_token()
    sign_in(client, user.email)
    assert client.csrf_token() != before


def test_five_failures_throttle_the_account_for_fifteen_minutes(app, client, make_user):
    user = make_user()
    for _ in range(5):
        assert client.post_form("/sign-in", {"email": user.email, "password": "wrong-password-here"}).status_code == 200
    response = sign_in(client, user.email)  # even the right password
    assert response.status_code == 429
    assert "Wait 15 minutes" in response.get_data(as_text=True)
    # Fifteen minutes later the account may try again.
    for attempt in db.session.scalars(select(LoginAttempt)):
        attempt.at = utcnow() - timedelta(minutes=16)
    db.session.commit()
    assert sign_in(client, user.email).status_code == 302


def test_five_failures_from_one_address_throttle_every_account(app, make_user):
    users = [make_user() for _ in range(6)]
    client = app.test_client()
    for user in users[:5]:
        client.post_form("/sign-in", {"email": user.email, "password": "wrong-password-here"})
    assert sign_in(client, users[5].email).status_code == 429
    other_address = app.test_client()
    response = other_address.post_form(
        "/sign-in", {"email": users[5].email, "password": PASSWORD}, environ_base={"REMOTE_ADDR": "10.1.2.3"}
    )
    assert response.status_code == 302


def test_ten_failures_in_a_row_lock_the_account_until_an_admin_unlocks_it(app, client, make_user):
    user = make_user()
    for round_ in range(2):
        for _ in range(5):
            client.post_form("/sign-in", {"email": user.email, "password": "wrong-password-here"})
        for attempt in db.session.scalars(select(LoginAttempt)):
            attempt.at = utcnow() - timedelta(minutes=16)
        db.session.commit()
    db.session.refresh(user)
    assert user.locked and user.failed_logins == 10
    response = sign_in(client, user.email)
    assert response.status_code == 200
    assert LOCKED in response.get_data(as_text=True)

    admin = app.test_client()
    sign_in(admin, make_user("admin").email)
    admin.post_form(f"/admin/users/{user.id}/unlock")
    db.session.refresh(user)
    assert not user.locked and user.failed_logins == 0
    assert sign_in(client, user.email).status_code == 302


def test_unknown_email_says_locked_after_as_many_failures(app, client):
    for _ in range(10):
        client.post_form("/sign-in", {"email": "ghost@example.gov.uk", "password": "wrong-password-here"})
        for attempt in db.session.scalars(select(LoginAttempt)):
            attempt.at = utcnow() - timedelta(minutes=16)
        db.session.commit()
    response = client.post_form("/sign-in", {"email": "ghost@example.gov.uk", "password": "wrong-password-here"})
    assert LOCKED in response.get_data(as_text=True)


def test_success_resets_the_failure_count(client, make_user):
    user = make_user()
    client.post_form("/sign-in", {"email": user.email, "password": "wrong-password-here"})
    sign_in(client, user.email)
    db.session.refresh(user)
    assert user.failed_logins == 0 and user.last_login_at is not None


def test_idle_session_ends(app, login_as):
    client = login_as("auditor")
    assert client.get("/").status_code == 200
    with client.session_transaction() as session:
        session["last_seen"] -= app.config["IDLE_TIMEOUT"].total_seconds() + 1
    response = client.get("/")
    assert response.status_code == 302 and "/sign-in" in response.location


def test_password_reset_ends_existing_sessions(app, login_as, make_user):
    from qa_audit.auth import services

    client = login_as("auditor")
    assert client.get("/").status_code == 200
    services.reset_password(db.session.get(User, client.user.id), "a-brand-new-passphrase")
    assert client.get("/").status_code == 302


def test_next_redirect_stays_on_site(client, make_user):
    user = make_user()
    client.csrf_token()
    response = client.post_form("/sign-in?next=https://evil.example/", {"email": user.email, "password": PASSWORD})
    assert response.location == "/"
    client2 = client.application.test_client()
    response = client2.post_form("/sign-in?next=/admin/services", {"email": user.email, "password": PASSWORD})
    assert response.location == "/admin/services"


def test_cookie_flags(app):
    app.config["SESSION_COOKIE_SECURE"] = True
    client = app.test_client()
    response = client.get("/sign-in", base_url="https://localhost")
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Lax" in cookie
