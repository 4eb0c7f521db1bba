import pytest

pytestmark = pytest.mark.django_db


def test_token_from_username_and_password_authenticates_as_bearer(client, alice):
    response = client.post(
        "/api/auth/token",
        {"username": "alice", "password": "correct-horse-battery"},
        content_type="application/json",
    )
    assert response.status_code == 200
    token = response.json()["token"]
    me = client.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert me.status_code == 200
    assert me.json() == {"id": alice.id, "username": "alice"}


def test_wrong_password_gets_no_token(client, alice):
    response = client.post(
        "/api/auth/token",
        {"username": "alice", "password": "guess"},
        content_type="application/json",
    )
    assert response.status_code == 401
    assert "wrong username or password" in response.json()["error"]


def test_api_without_credentials_is_401_not_a_redirect(client):
    response = client.get("/api/me")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_revoked_token_stops_working(client, alice):
    token = client.post(
        "/api/auth/token",
        {"username": "alice", "password": "correct-horse-battery"},
        content_type="application/json",
    ).json()["token"]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert client.delete("/api/auth/token/revoke", **auth).status_code == 204
    assert client.get("/api/me", **auth).status_code == 401


def test_session_signed_in_browser_can_use_the_api(client, alice):
    client.force_login(alice)
    assert client.get("/api/me").json()["username"] == "alice"


def test_openapi_schema_documents_the_api(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/auth/token" in schema["paths"]
    assert "/api/me" in schema["paths"]
