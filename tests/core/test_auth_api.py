from datetime import UTC, datetime, timedelta

import time_machine

from agency.core.users.models import ApiToken
from tests.factories import PASSWORD


def _login(client, email, password=PASSWORD):
    return client.post("/api/v1/auth/tokens", json={"email": email, "password": password})


def test_token_is_shown_once_and_stored_hashed(client, session, manager):
    response = _login(client, manager.email)
    assert response.status_code == 201
    token = response.json["token"]
    stored = session.query(ApiToken).filter_by(user_id=manager.id).one()
    assert token not in (stored.token_hash, stored.prefix)
    me = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json["email"] == manager.email
    assert "password" not in me.json and "password_hash" not in me.json


def test_wrong_password_and_unknown_email_get_the_same_answer(client, manager):
    wrong = _login(client, manager.email, "not-the-password-1")
    unknown = _login(client, "nobody@test.example", "whatever-password-1")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json["message"] == unknown.json["message"]


def test_revoked_token_stops_working(client, manager):
    token = _login(client, manager.email).json["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.delete("/api/v1/auth/tokens/current", headers=headers).status_code == 204
    assert client.get("/api/v1/users/me", headers=headers).status_code == 401


def test_token_expires(client, manager):
    response = client.post(
        "/api/v1/auth/tokens", json={"email": manager.email, "password": PASSWORD, "expires_in_hours": 1}
    )
    headers = {"Authorization": f"Bearer {response.json['token']}"}
    assert client.get("/api/v1/users/me", headers=headers).status_code == 200
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=2), tick=False):
        assert client.get("/api/v1/users/me", headers=headers).status_code == 401


def test_requests_without_a_token_are_refused(client):
    response = client.get("/api/v1/creators")
    assert response.status_code == 401
    assert response.json["code"] == 401 and response.json["status"] == "Unauthorized"


def test_login_attempts_are_rate_limited(client, manager):
    codes = [_login(client, manager.email, "wrong-password-123").status_code for _ in range(12)]
    assert codes[:10] == [401] * 10
    limited = _login(client, manager.email)
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0
    assert limited.json["code"] == 429


def test_inactive_users_cannot_get_tokens(client, session, manager):
    manager.is_active = False
    session.commit()
    assert _login(client, manager.email).status_code == 401
