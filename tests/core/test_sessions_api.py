"""Sessions that end: a server-side session per signed-in device behind the UI's cookies, remember-me
tokens that are random, stored hashed and rotated on use, the sessions page and API, and password
changes and resets that end the other sessions."""

import re
from datetime import timedelta

from sqlalchemy import select, text, update

from agency.core.audit.models import AuditEntry
from agency.core.database import utcnow
from agency.core.jobs.tasks import cleanup_job
from agency.core.users.models import ApiToken, Role, User, UserSession
from agency.core.users.service import verify_password
from tests.factories import PASSWORD

NEW_PASSWORD = "a-brand-new-secret-42"


def _csrf(client, path="/login"):
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page) or re.search(
        r'name="csrf-token" content="([^"]+)"', page
    )
    return match.group(1)


def _sign_in(client, user, password=PASSWORD, remember=False, agent="Browser A"):
    data = {"email": user.email, "password": password, "csrf_token": _csrf(client)}
    if remember:
        data["remember"] = "on"
    return client.post("/login", data=data, headers={"User-Agent": agent})


def _signed_in(client) -> bool:
    return client.get("/").status_code == 200


def _sessions(session, user) -> list[UserSession]:
    session.expire_all()
    return list(session.scalars(select(UserSession).where(UserSession.user_id == user.id).order_by(UserSession.id)))


def _open(session, user) -> list[UserSession]:
    return [s for s in _sessions(session, user) if s.revoked_at is None]


def test_a_copied_session_cookie_stops_working_once_its_owner_signs_out(app, client, session, manager):
    assert _sign_in(client, manager).status_code == 302
    copied = client.get_cookie("session").value
    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert _signed_in(thief)
    assert thief.get("/api/v1/users/me").status_code == 200
    client.post("/logout", data={"csrf_token": _csrf(client, "/")})
    assert not _signed_in(client)
    replay = thief.get("/creators")
    assert replay.status_code == 302 and "/login" in replay.headers["Location"]
    assert thief.get("/api/v1/users/me").status_code == 401
    (record,) = _sessions(session, manager)
    assert record.revoked_at is not None


def test_the_cookies_carry_a_session_secret_never_the_user_id(app, client, session, manager):
    _sign_in(client, manager)
    forged = app.test_client()
    with forged.session_transaction() as flask_session:
        flask_session["_user_id"] = str(manager.id)  # what the cookie held before server-side sessions
        flask_session["_fresh"] = True
    assert not _signed_in(forged)
    (record,) = _sessions(session, manager)
    with forged.session_transaction() as flask_session:
        flask_session["_user_id"] = f"{record.id}.not-the-secret"
    assert not _signed_in(forged)


def test_remember_me_token_is_random_stored_hashed_rotated_on_use_and_the_old_one_refused(
    app, client, session, manager
):
    _sign_in(client, manager, remember=True)
    remember = client.get_cookie("remember_token").value
    assert str(manager.id) != remember.split("|")[0]
    raw = remember.split("|")[0]  # flask-login signs the value: "<token>|<signature>"
    session_id, _, secret = raw.partition(".")
    (record,) = _sessions(session, manager)
    assert record.remember and int(session_id) == record.id and len(secret) >= 40
    # Nowhere in the table: only its SHA-256 digest is kept.
    dump = " ".join(str(v) for row in session.execute(text("SELECT * FROM user_sessions")) for v in row)
    assert secret not in dump

    # The browser restarts: only the remember-me cookie is left; it restores the session...
    restarted = app.test_client()
    restarted.set_cookie("remember_token", remember)
    assert _signed_in(restarted)
    rotated = restarted.get_cookie("remember_token").value
    assert rotated != remember
    assert len(_open(session, manager)) == 1  # the same device, a new secret
    # ...and the cookie just used is worthless to whoever copied it.
    thief = app.test_client()
    thief.set_cookie("remember_token", remember)
    assert not _signed_in(thief)
    # The new one works, and is itself replaced on use.
    again = app.test_client()
    again.set_cookie("remember_token", rotated)
    assert _signed_in(again)
    assert again.get_cookie("remember_token").value != rotated
    entries = session.scalars(select(AuditEntry.action).where(AuditEntry.actor_id == manager.id)).all()
    assert "session.login" in entries


def test_signing_out_ends_the_remember_me_token_too(app, client, manager):
    _sign_in(client, manager, remember=True)
    remember = client.get_cookie("remember_token").value
    client.post("/logout", data={"csrf_token": _csrf(client, "/")})
    assert client.get_cookie("remember_token") is None
    replay = app.test_client()
    replay.set_cookie("remember_token", remember)
    assert not _signed_in(replay)


def test_a_session_expires_server_side(app, client, session, manager):
    _sign_in(client, manager)
    assert _signed_in(client)
    session.execute(update(UserSession).values(expires_at=utcnow() - timedelta(minutes=1)))
    session.commit()
    assert not _signed_in(client)


def test_the_sessions_page_lists_devices_and_revoking_one_ends_only_that_device(app, session, manager):
    laptop, phone, tablet = app.test_client(), app.test_client(), app.test_client()
    _sign_in(laptop, manager, agent="Laptop Firefox")
    _sign_in(phone, manager, agent="Phone Safari", remember=True)
    _sign_in(tablet, manager, agent="Tablet Chrome")
    page = laptop.get("/account/sessions").get_data(as_text=True)
    assert "Laptop Firefox" in page and "Phone Safari" in page and "Tablet Chrome" in page
    assert re.search(r"Laptop Firefox <strong>\(this device\)</strong>", page)
    phone_session = next(s for s in _open(session, manager) if s.user_agent == "Phone Safari")
    token = _csrf(laptop, "/account/sessions")
    assert laptop.post(f"/account/sessions/{phone_session.id}/revoke").status_code == 400  # no CSRF token
    response = laptop.post(f"/account/sessions/{phone_session.id}/revoke", data={"csrf_token": token})
    assert response.status_code == 302
    assert not _signed_in(phone)
    remembered = app.test_client()
    remembered.set_cookie("remember_token", phone.get_cookie("remember_token").value)
    assert not _signed_in(remembered)
    assert _signed_in(laptop) and _signed_in(tablet)
    assert {s.user_agent for s in _open(session, manager)} == {"Laptop Firefox", "Tablet Chrome"}


def test_sign_out_everywhere_else_keeps_this_device(app, session, manager):
    here, there = app.test_client(), app.test_client()
    _sign_in(here, manager, agent="Here")
    _sign_in(there, manager, agent="There")
    response = here.post("/account/sessions/revoke-others", data={"csrf_token": _csrf(here, "/account/sessions")})
    assert response.status_code == 302
    assert _signed_in(here) and not _signed_in(there)
    assert [s.user_agent for s in _open(session, manager)] == ["Here"]


def test_no_one_ends_another_users_session(app, session, manager, make_user):
    other = make_user(Role.manager)
    mine, theirs = app.test_client(), app.test_client()
    _sign_in(mine, manager)
    _sign_in(theirs, other)
    (their_session,) = _open(session, other)
    token = _csrf(mine, "/account/sessions")
    assert mine.post(f"/account/sessions/{their_session.id}/revoke", data={"csrf_token": token}).status_code == 404
    assert (
        mine.delete(f"/api/v1/users/me/sessions/{their_session.id}", headers={"X-CSRFToken": token}).status_code == 404
    )
    listed = mine.get("/api/v1/users/me/sessions").json
    assert their_session.id not in {s["id"] for s in listed}
    assert _signed_in(theirs)


def test_password_change_in_the_ui_ends_other_sessions_and_keeps_this_one(app, session, manager, auth_for):
    here, there, remembered = app.test_client(), app.test_client(), app.test_client()
    _sign_in(here, manager)
    _sign_in(there, manager)
    _sign_in(remembered, manager, remember=True)
    remember_cookie = remembered.get_cookie("remember_token").value
    headers = auth_for(manager)
    token = _csrf(here, "/account/password")
    wrong = here.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": "not-my-password-1",
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        },
    )
    assert wrong.status_code == 422 and "not your current password" in wrong.get_data(as_text=True)
    weak = here.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": PASSWORD,
            "new_password": "short",
            "new_password_again": "short",
        },
    )
    assert weak.status_code == 422 and "at least 12 characters" in weak.get_data(as_text=True)
    assert _signed_in(there)
    response = here.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    assert _signed_in(here)
    assert not _signed_in(there)
    replay = app.test_client()
    replay.set_cookie("remember_token", remember_cookie)
    assert not _signed_in(replay)
    # The API token stays (the page says so).
    assert app.test_client().get("/api/v1/users/me", headers=headers).status_code == 200
    session.expire_all()
    assert verify_password(session.get(User, manager.id).password_hash, NEW_PASSWORD)
    assert _sign_in(app.test_client(), manager, password=PASSWORD).status_code == 401
    assert _sign_in(app.test_client(), manager, password=NEW_PASSWORD).status_code == 302
    audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "user.password_change")).one()
    assert audit.entity_id == manager.id and NEW_PASSWORD not in str(audit.after)


def test_admin_reset_in_the_ui_ends_every_session_and_api_token(app, session, admin, manager, auth_for):
    browser, remembered = app.test_client(), app.test_client()
    _sign_in(browser, manager)
    _sign_in(remembered, manager, remember=True)
    remember_cookie = remembered.get_cookie("remember_token").value
    headers = auth_for(manager)
    desk = app.test_client()
    _sign_in(desk, admin)
    token = _csrf(desk, "/admin/users")
    assert f"/admin/users/{manager.id}/password" in desk.get("/admin/users").get_data(as_text=True)
    response = desk.post(
        f"/admin/users/{manager.id}/password", data={"csrf_token": token, "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert "signed out" in desk.get("/admin/users").get_data(as_text=True)
    assert not _signed_in(browser) and not _signed_in(remembered)
    replay = app.test_client()
    replay.set_cookie("remember_token", remember_cookie)
    assert not _signed_in(replay)
    assert app.test_client().get("/api/v1/users/me", headers=headers).status_code == 401
    assert _open(session, manager) == []
    assert _signed_in(desk)
    assert _sign_in(app.test_client(), manager, password=NEW_PASSWORD).status_code == 302
    audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "user.password_reset")).one()
    assert audit.actor_id == admin.id and audit.entity_id == manager.id


def test_a_weak_reset_is_refused_and_changes_nothing(app, session, admin, manager):
    browser = app.test_client()
    _sign_in(browser, manager)
    desk = app.test_client()
    _sign_in(desk, admin)
    response = desk.post(
        f"/admin/users/{manager.id}/password", data={"csrf_token": _csrf(desk, "/admin/users"), "new_password": "abc"}
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f"The password of {manager.email} is unchanged" in html and "at least 12 characters" in html
    assert _signed_in(browser)
    session.expire_all()
    assert verify_password(session.get(User, manager.id).password_hash, PASSWORD)


def test_a_manager_cannot_reset_someone_elses_password(app, session, manager, make_user):
    other = make_user(Role.analyst)
    browser = app.test_client()
    _sign_in(browser, other)
    desk = app.test_client()
    _sign_in(desk, manager)
    token = _csrf(desk, "/")
    assert (
        desk.post(
            f"/admin/users/{other.id}/password", data={"csrf_token": token, "new_password": NEW_PASSWORD}
        ).status_code
        == 403
    )
    assert _signed_in(browser)
    session.expire_all()
    assert verify_password(session.get(User, other.id).password_hash, PASSWORD)


# The API ---------------------------------------------------------------------------------------


def test_api_lists_my_sessions_marks_the_current_one_and_revokes_one(app, client, session, manager, auth_for):
    _sign_in(client, manager, agent="Laptop")
    other = app.test_client()
    _sign_in(other, manager, agent="Phone")
    listed = client.get("/api/v1/users/me/sessions")
    assert listed.status_code == 200
    by_agent = {s["user_agent"]: s for s in listed.json}
    assert by_agent["Laptop"]["current"] is True and by_agent["Phone"]["current"] is False
    assert {"id", "created_at", "last_seen_at", "expires_at", "remember", "ip_address"} <= set(by_agent["Laptop"])
    assert not any("token" in key or "hash" in key for key in by_agent["Laptop"])
    headers = auth_for(manager)
    via_token = app.test_client().get("/api/v1/users/me/sessions", headers=headers).json
    assert {s["current"] for s in via_token} == {False}
    # A cookie-authenticated write needs the CSRF token.
    assert client.delete(f"/api/v1/users/me/sessions/{by_agent['Phone']['id']}").status_code == 400
    deleted = app.test_client().delete(f"/api/v1/users/me/sessions/{by_agent['Phone']['id']}", headers=headers)
    assert deleted.status_code == 204
    assert not _signed_in(other) and _signed_in(client)
    again = app.test_client().delete(f"/api/v1/users/me/sessions/{by_agent['Phone']['id']}", headers=headers)
    assert again.status_code == 404


def test_an_admin_sees_a_users_devices_and_signs_them_out_everywhere(app, session, admin, manager, auth_for):
    laptop, phone = app.test_client(), app.test_client()
    _sign_in(laptop, manager, agent="Laptop")
    _sign_in(phone, manager, agent="Phone", remember=True)
    manager_token = auth_for(manager)
    headers = auth_for(admin)
    listed = app.test_client().get(f"/api/v1/users/{manager.id}/sessions", headers=headers)
    assert listed.status_code == 200
    assert sorted(s["user_agent"] for s in listed.json) == ["Laptop", "Phone"]
    assert not any("token" in key or "hash" in key for row in listed.json for key in row)
    # Managers cannot look at someone else's devices, nor end them.
    assert app.test_client().get(f"/api/v1/users/{admin.id}/sessions", headers=manager_token).status_code == 403
    assert app.test_client().delete(f"/api/v1/users/{admin.id}/sessions", headers=manager_token).status_code == 403
    ended = app.test_client().delete(f"/api/v1/users/{manager.id}/sessions", headers=headers)
    assert ended.status_code == 200 and ended.json == {"sessions_ended": 2}
    assert not _signed_in(laptop) and not _signed_in(phone)
    # Their password and API tokens are unchanged: only a reset ends those.
    assert app.test_client().get("/api/v1/users/me", headers=manager_token).status_code == 200
    assert _sign_in(app.test_client(), manager).status_code == 302
    assert app.test_client().get(f"/api/v1/users/{manager.id}/sessions", headers=headers).json != []
    audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "session.revoke")).one()
    assert audit.actor_id == admin.id and audit.entity_id == manager.id and audit.after == {"sessions_ended": 2}
    assert app.test_client().get("/api/v1/users/999999/sessions", headers=headers).status_code == 404


def test_the_users_page_counts_devices_and_signs_a_user_out_everywhere(app, session, admin, manager):
    browser, other = app.test_client(), app.test_client()
    _sign_in(browser, manager)
    _sign_in(other, manager)
    desk = app.test_client()
    _sign_in(desk, admin)
    page = desk.get("/admin/users").get_data(as_text=True)
    row = next(line for line in page.split("<tr>") if manager.email in line)
    assert "<td>2<form" in row and "Sign out everywhere" in row
    response = desk.post(f"/admin/users/{manager.id}/sessions/revoke", data={"csrf_token": _csrf(desk, "/admin/users")})
    assert response.status_code == 302
    assert f"{manager.email} is signed out of 2 devices" in desk.get("/admin/users").get_data(as_text=True)
    assert not _signed_in(browser) and not _signed_in(other) and _signed_in(desk)
    assert verify_password(session.get(User, manager.id).password_hash, PASSWORD)
    # An admin signing themselves out everywhere keeps the device they are on.
    elsewhere = app.test_client()
    _sign_in(elsewhere, admin)
    desk.post(f"/admin/users/{admin.id}/sessions/revoke", data={"csrf_token": _csrf(desk, "/admin/users")})
    assert _signed_in(desk) and not _signed_in(elsewhere)


def test_api_signs_out_everywhere_else(app, client, session, manager, auth_for):
    _sign_in(client, manager, agent="Here")
    there = app.test_client()
    _sign_in(there, manager, agent="There")
    response = client.delete("/api/v1/users/me/sessions", headers={"X-CSRFToken": _csrf(client, "/")})
    assert response.status_code == 200 and response.json == {"sessions_ended": 1}
    assert _signed_in(client) and not _signed_in(there)
    # With a bearer token there is no "this device": every UI session ends.
    response = app.test_client().delete("/api/v1/users/me/sessions", headers=auth_for(manager))
    assert response.json == {"sessions_ended": 1} and not _signed_in(client)


def test_api_password_change_keeps_tokens_and_ends_ui_sessions(app, client, session, manager, auth_for):
    _sign_in(client, manager)
    headers = auth_for(manager)
    api = app.test_client()
    wrong = api.put(
        "/api/v1/users/me/password",
        json={"current_password": "nope-nope-123", "new_password": NEW_PASSWORD},
        headers=headers,
    )
    assert wrong.status_code == 422 and "current_password" in wrong.json["errors"]
    weak = api.put(
        "/api/v1/users/me/password",
        json={"current_password": PASSWORD, "new_password": "12345678901234"},
        headers=headers,
    )
    assert weak.status_code == 422 and "new_password" in weak.json["errors"]
    missing = api.put("/api/v1/users/me/password", json={"new_password": NEW_PASSWORD}, headers=headers)
    assert missing.status_code == 422
    assert _signed_in(client)
    response = api.put(
        "/api/v1/users/me/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}, headers=headers
    )
    assert response.status_code == 200 and response.json == {"sessions_ended": 1, "tokens_revoked": 0}
    assert not _signed_in(client)
    assert api.get("/api/v1/users/me", headers=headers).status_code == 200


def test_api_password_change_from_the_ui_keeps_the_current_session(app, client, session, manager):
    _sign_in(client, manager)
    there = app.test_client()
    _sign_in(there, manager)
    response = client.put(
        "/api/v1/users/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers={"X-CSRFToken": _csrf(client, "/")},
    )
    assert response.status_code == 200 and response.json["sessions_ended"] == 1
    assert _signed_in(client) and not _signed_in(there)


def test_api_admin_reset_ends_every_session_and_token(app, client, session, admin, manager, auth_for):
    _sign_in(client, manager)
    manager_headers = auth_for(manager)
    response = app.test_client().put(
        f"/api/v1/users/{manager.id}/password", json={"new_password": NEW_PASSWORD}, headers=auth_for(admin)
    )
    assert response.status_code == 200 and response.json == {"sessions_ended": 1, "tokens_revoked": 1}
    assert not _signed_in(client)
    assert app.test_client().get("/api/v1/users/me", headers=manager_headers).status_code == 401
    session.expire_all()
    assert (
        session.scalars(select(ApiToken).where(ApiToken.user_id == manager.id, ApiToken.revoked_at.is_(None))).all()
        == []
    )
    audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "user.password_reset")).one()
    assert audit.actor_id == admin.id and audit.after == {"sessions_ended": 1, "tokens_revoked": 1}
    weak = app.test_client().put(
        f"/api/v1/users/{manager.id}/password", json={"new_password": "weak"}, headers=auth_for(admin)
    )
    assert weak.status_code == 422
    unknown = app.test_client().put(
        "/api/v1/users/2147483000/password", json={"new_password": NEW_PASSWORD}, headers=auth_for(admin)
    )
    assert unknown.status_code == 404


def test_api_rbac_only_admins_reset_and_no_one_touches_anothers_sessions(
    app, client, session, manager, make_user, auth_for
):
    other = make_user(Role.analyst)
    _sign_in(client, other)
    (their_session,) = _open(session, other)
    for role in (Role.manager, Role.analyst):
        headers = auth_for(make_user(role))
        api = app.test_client()
        reset = api.put(f"/api/v1/users/{other.id}/password", json={"new_password": NEW_PASSWORD}, headers=headers)
        assert reset.status_code == 403
        assert their_session.id not in {s["id"] for s in api.get("/api/v1/users/me/sessions", headers=headers).json}
        assert api.delete(f"/api/v1/users/me/sessions/{their_session.id}", headers=headers).status_code == 404
    assert _signed_in(client)
    session.expire_all()
    assert verify_password(session.get(User, other.id).password_hash, PASSWORD)


def test_a_creator_manages_their_own_sessions_and_password(app, client, session, make_creator, make_portal_user):
    creator_user = make_portal_user(make_creator())
    _sign_in(client, creator_user)
    assert client.get("/account/sessions").status_code == 200
    assert client.get("/api/v1/users/me/sessions").status_code == 200
    response = client.put(
        "/api/v1/users/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers={"X-CSRFToken": _csrf(client, "/account/sessions")},
    )
    assert response.status_code == 200
    assert client.get("/admin/users").status_code == 403


def test_signing_in_again_in_the_same_browser_ends_its_previous_session(client, session, manager, analyst):
    _sign_in(client, manager)
    _sign_in(client, analyst)
    assert _open(session, manager) == [] and len(_open(session, analyst)) == 1


def test_the_cleanup_job_forgets_sessions_ended_a_month_ago(app, session, manager, analyst):
    recent, expired, revoked = (app.test_client() for _ in range(3))
    _sign_in(recent, manager)
    _sign_in(expired, manager)
    _sign_in(revoked, analyst)
    first, second = _sessions(session, manager)
    (third,) = _sessions(session, analyst)
    long_ago = utcnow() - timedelta(days=31)
    session.execute(update(UserSession).where(UserSession.id == second.id).values(expires_at=long_ago))
    session.execute(update(UserSession).where(UserSession.id == third.id).values(revoked_at=long_ago))
    session.commit()
    result = cleanup_job(session, app.config["AGENCY"], {}, None)
    session.commit()
    assert result["sessions_deleted"] == 2
    assert [s.id for s in _sessions(session, manager)] == [first.id] and _sessions(session, analyst) == []
    assert _signed_in(recent)
