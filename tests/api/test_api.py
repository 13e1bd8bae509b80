import pytest

from qa_audit.extensions import db


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_me(client, api_as):
    headers, user = api_as("qa_lead")
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 200
    assert response.json == {"id": user.id, "email": user.email, "name": user.name, "role": "qa_lead"}


@pytest.mark.parametrize("header", [None, "Bearer nonsense", "Basic abc", "Bearer "])
def test_missing_or_bad_token_is_401(client, header):
    headers = {"Authorization": header} if header else {}
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert "message" in response.json


def test_session_cookie_does_not_authorise_the_api(login_as):
    client = login_as("admin")
    assert client.get("/api/v1/me").status_code == 401


def test_revoked_token_is_401(client, api_as):
    from qa_audit.auth import services
    from qa_audit.auth.models import ApiToken

    headers, user = api_as("auditor")
    services.revoke_token(db.session.scalars(db.select(ApiToken)).one())
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_users_list_filters_and_paginates(client, api_as, make_user):
    headers, _ = api_as("viewer")
    for _ in range(3):
        make_user("auditor")
    make_user("auditor", active=False)
    response = client.get("/api/v1/users?role=auditor&page_size=2", headers=headers)
    assert response.status_code == 200
    body = response.json
    assert body["total"] == 3 and body["page"] == 1 and body["page_size"] == 2 and len(body["items"]) == 2
    assert set(body["items"][0]) == {"id", "email", "name", "role"}
    assert client.get("/api/v1/users?page_size=500", headers=headers).json["page_size"] == 200
    bad = client.get("/api/v1/users?role=wizard", headers=headers)
    assert bad.status_code == 422 and "role" in bad.json["errors"]


def test_create_and_list_services(client, api_as, make_user):
    headers, _ = api_as("qa_lead")
    head = make_user("head_of_service")
    response = client.post("/api/v1/services", json={"name": "MASH", "head_of_service_id": head.id}, headers=headers)
    assert response.status_code == 201
    created = response.json
    assert created["name"] == "MASH" and created["head_of_service_id"] == head.id
    assert isinstance(created["id"], int) and created["version"] == 1
    listing = client.get("/api/v1/services", headers=headers).json
    assert listing["total"] == 1 and listing["items"][0]["id"] == created["id"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "bad\x00name"}, "name"),
        ({"name": "ok", "head_of_service_id": 99999}, "head_of_service_id"),
        ({"name": "ok", "head_of_service_id": "abc"}, "head_of_service_id"),
    ],
)
def test_create_service_bad_input_is_422_by_field(client, api_as, body, field):
    headers, _ = api_as("admin")
    response = client.post("/api/v1/services", json=body, headers=headers)
    assert response.status_code == 422
    assert field in response.json["errors"]


def test_duplicate_service_name_is_422(client, api_as, make_service):
    headers, _ = api_as("admin")
    make_service("Early Help")
    response = client.post("/api/v1/services", json={"name": "Early Help"}, headers=headers)
    assert response.status_code == 422 and "name" in response.json["errors"]


def test_body_that_is_not_json_is_400(client, api_as):
    headers, _ = api_as("admin")
    response = client.post("/api/v1/services", data="name=MASH", headers={**headers, "Content-Type": "application/json"})
    assert response.status_code == 400
    response = client.post("/api/v1/services", data="{not json", headers=headers)
    assert response.status_code == 400


def test_role_check_comes_before_validation(client, api_as):
    headers, _ = api_as("auditor")
    assert client.post("/api/v1/services", json={}, headers=headers).status_code == 403


def test_unknown_api_path_is_json_404(client, api_as):
    headers, _ = api_as("auditor")
    response = client.get("/api/v1/nothing-here", headers=headers)
    assert response.status_code == 404


def test_openapi_is_generated_and_public(client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/services" in spec["paths"] and "/api/v1/me" in spec["paths"]
    assert "post" in spec["paths"]["/api/v1/services"]
    assert "requestBody" in spec["paths"]["/api/v1/services"]["post"]


def test_api_is_rate_limited_per_token(app, client, api_as):
    app.config["API_RATE_LIMIT"] = "3 per minute"
    headers, _ = api_as("viewer")
    other, _ = api_as("viewer")
    statuses = [client.get("/api/v1/me", headers=headers).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert client.get("/api/v1/me", headers=other).status_code == 200


@pytest.mark.parametrize(
    "body",
    ['{"name": ' + "9" * 5000 + "}", "[" * 50000 + "]" * 50000],
)
def test_json_python_cannot_hold_is_400_not_500(client, api_as, body):
    headers, _ = api_as("admin")
    response = client.post("/api/v1/services", data=body, headers={**headers, "Content-Type": "application/json"})
    assert response.status_code == 400


@pytest.mark.parametrize("value", [10**20, 2**31, 1.5, "1"])
def test_head_of_service_id_must_be_a_real_id(client, api_as, value):
    headers, _ = api_as("admin")
    response = client.post("/api/v1/services", json={"name": "X", "head_of_service_id": value}, headers=headers)
    assert response.status_code == 422 and "head_of_service_id" in response.json["errors"]


def test_rate_limit_is_not_reset_by_spelling_the_header_differently(app, client, api_as):
    app.config["API_RATE_LIMIT"] = "2 per minute"
    headers, _ = api_as("viewer")
    token = headers["Authorization"].split(" ", 1)[1]
    assert [client.get("/api/v1/me", headers=headers).status_code for _ in range(2)] == [200, 200]
    for variant in (f"bearer {token}", f"Bearer  {token}", f"Bearer {token} "):
        assert client.get("/api/v1/me", headers={"Authorization": variant}).status_code == 429
