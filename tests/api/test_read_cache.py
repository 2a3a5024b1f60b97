"""The read caches (token checks, roster pages) never serve anything stale: whatever changes what
an answer depends on, through the API or behind its back, is seen by the very next request."""
from datetime import datetime, timedelta, timezone

import time_machine
from prometheus_client import REGISTRY
from sqlalchemy import text

from agency.db import utcnow
from agency.models import GuidelineStrike, PlatformAccount, Role
from agency.read_cache import RevisionCache


def _hits(cache: str) -> float:
    return REGISTRY.get_sample_value("agency_read_cache_total", {"cache": cache, "result": "hit"}) or 0.0


def _names(response) -> list[str]:
    return [c["display_name"] for c in response.json]


def test_repeated_reads_are_served_from_the_caches(client, analyst, auth_for, make_creator):
    creator = make_creator()
    headers = auth_for(analyst)
    roster_hits, token_hits = _hits("roster"), _hits("token")
    first = client.get("/api/v1/creators", headers=headers)
    again = client.get("/api/v1/creators", headers=headers)
    assert again.status_code == 200 and again.json == first.json
    assert again.headers["X-Pagination"] == first.headers["X-Pagination"]
    assert client.get(f"/api/v1/creators/{creator.id}", headers=headers).json == first.json[0]
    assert _hits("roster") == roster_hits + 1
    assert _hits("token") >= token_hits + 2


def test_an_api_edit_is_seen_by_the_next_read(client, manager, auth_for, make_creator):
    creator = make_creator(manager=manager)
    headers = auth_for(manager)
    assert client.get(f"/api/v1/creators/{creator.id}", headers=headers).json["version"] == 1
    client.get("/api/v1/creators", headers=headers)
    edited = client.patch(f"/api/v1/creators/{creator.id}", json={"notes": "new", "version": 1}, headers=headers)
    assert edited.status_code == 200
    detail = client.get(f"/api/v1/creators/{creator.id}", headers=headers).json
    assert detail["version"] == 2 and detail["notes"] == "new"
    assert client.get("/api/v1/creators", headers=headers).json[0]["notes"] == "new"


def test_changes_behind_the_api_are_seen_by_the_next_read(client, session, manager, analyst, auth_for,
                                                           make_creator):
    creator = make_creator(manager=manager, accounts=("tiktok",))
    headers = auth_for(analyst)

    def read():
        listed = client.get("/api/v1/creators", headers=headers).json[0]
        assert client.get(f"/api/v1/creators/{creator.id}", headers=headers).json == listed
        return listed

    read()
    session.execute(text("UPDATE creators SET display_name = 'Renamed by a job' WHERE id = :id"), {"id": creator.id})
    session.commit()
    assert read()["display_name"] == "Renamed by a job"

    session.add(PlatformAccount(creator_id=creator.id, platform="youtube", handle="renamed_yt"))
    session.commit()
    assert [a["platform"] for a in read()["accounts"]] == ["tiktok", "youtube"]

    session.add(GuidelineStrike(creator_id=creator.id, occurred_on=utcnow().date(), reason="spam"))
    session.commit()
    assert read()["strikes_count"] == 1

    manager.full_name = "Manager With A New Name"
    session.commit()
    assert read()["manager"]["full_name"] == "Manager With A New Name"

    session.execute(text("DELETE FROM platform_accounts WHERE creator_id = :id"), {"id": creator.id})
    session.commit()
    assert read()["accounts"] == []


def test_a_revoked_token_is_refused_at_once(client, analyst, auth_for):
    headers = auth_for(analyst)
    assert client.get("/api/v1/users/me", headers=headers).status_code == 200
    assert client.get("/api/v1/users/me", headers=headers).status_code == 200  # now cached
    assert client.delete("/api/v1/auth/tokens/current", headers=headers).status_code == 204
    assert client.get("/api/v1/users/me", headers=headers).status_code == 401
    assert client.get("/api/v1/creators", headers=headers).status_code == 401


def test_a_deactivated_user_is_refused_at_once(client, session, analyst, auth_for):
    headers = auth_for(analyst)
    assert client.get("/api/v1/creators", headers=headers).status_code == 200
    analyst.is_active = False
    session.commit()
    assert client.get("/api/v1/creators", headers=headers).status_code == 401


def test_a_role_change_applies_to_the_next_request(client, session, make_user, auth_for):
    admin = make_user(Role.admin)
    headers = auth_for(admin)
    assert client.get("/api/v1/audit", headers=headers).status_code == 200
    admin.role = Role.analyst
    session.commit()
    assert client.get("/api/v1/audit", headers=headers).status_code == 403
    assert client.get("/api/v1/users/me", headers=headers).json["role"] == "analyst"


def test_a_cached_token_still_expires(client, analyst, auth_for):
    headers = auth_for(analyst)  # issued for one hour
    assert client.get("/api/v1/users/me", headers=headers).status_code == 200
    later = datetime.now(timezone.utc) + timedelta(minutes=30)
    with time_machine.travel(later, tick=False):
        assert client.get("/api/v1/users/me", headers=headers).status_code == 200
    with time_machine.travel(later + timedelta(hours=1), tick=False):
        assert client.get("/api/v1/users/me", headers=headers).status_code == 401


def test_last_use_is_still_recorded_for_cached_tokens(client, session, analyst, auth_for):
    from agency.models import ApiToken

    headers = auth_for(analyst)
    client.get("/api/v1/users/me", headers=headers)
    token = session.query(ApiToken).filter_by(user_id=analyst.id).one()
    first_use = token.last_used_at
    assert first_use is not None
    with time_machine.travel(datetime.now(timezone.utc) + timedelta(minutes=5), tick=False):
        assert client.get("/api/v1/users/me", headers=headers).status_code == 200
    session.expire_all()
    assert token.last_used_at > first_use + timedelta(minutes=4)


def test_ages_follow_the_calendar(client, analyst, auth_for, make_creator):
    today = datetime.now(timezone.utc).date()
    born = today.replace(year=today.year - 20) + timedelta(days=1)  # turns 20 tomorrow
    creator = make_creator(date_of_birth=born)
    headers = auth_for(analyst)
    assert client.get(f"/api/v1/creators/{creator.id}", headers=headers).json["age"] == 19
    with time_machine.travel(datetime.now(timezone.utc) + timedelta(days=1), tick=False):
        headers = auth_for(analyst)  # the first token has expired by then
        assert client.get(f"/api/v1/creators/{creator.id}", headers=headers).json["age"] == 20


def test_revision_cache_keeps_recent_entries_for_their_revision_only():
    cache = RevisionCache("test", max_entries=2)
    cache.put("a", 1, "A")
    cache.put("b", 1, "B")
    assert cache.get("a", 1) == "A"
    assert cache.get("a", 2) is None  # built before the change
    cache.put("c", 1, "C")  # evicts the least recently used: b
    assert cache.get("b", 1) is None and cache.get("c", 1) == "C" and cache.get("a", 1) == "A"
    assert cache.get("a", None) is None  # no readable revision: no cache
    cache.put("d", None, "D")
    assert len(cache) == 2


def test_mine_is_per_manager_even_when_cached(client, make_user, analyst, auth_for, make_creator):
    first, second = make_user(Role.manager), make_user(Role.manager)
    ours, theirs = make_creator(manager=first), make_creator(manager=second)
    everyone = client.get("/api/v1/creators", headers=auth_for(analyst)).json
    assert client.get("/api/v1/creators", headers=auth_for(first)).json == everyone  # same roster for all roles
    for manager, creator in ((first, ours), (second, theirs), (first, ours)):
        mine = client.get("/api/v1/creators?mine=true", headers=auth_for(manager)).json
        assert [c["id"] for c in mine] == [creator.id]


def test_the_user_of_a_cached_token_check_is_the_databases_own(client, admin, make_user, auth_for):
    """A cached check builds the user without a query; reads that go on to use the database
    see that same user, and writes still check the token against the database."""
    make_user(role=Role.manager)
    headers = auth_for(admin)
    token_hits = _hits("token")
    listed = [client.get("/api/v1/users", headers=headers) for _ in range(2)]
    me = client.get("/api/v1/users/me", headers=headers)
    assert _hits("token") >= token_hits + 2
    assert listed[0].json == listed[1].json
    assert [u for u in listed[1].json if u["id"] == admin.id] == [me.json]
    assert me.json["email"] == admin.email and me.json["role"] == "admin"
    created = client.post("/api/v1/creators", headers=headers,
                          json={"display_name": "After cached reads", "country": "FR", "niche": "travel"})
    assert created.status_code == 201
    audit = client.get("/api/v1/audit", headers=headers, query_string={"entity": "creator"}).json
    assert any(entry["actor_id"] == admin.id for entry in audit)


def test_a_user_built_from_the_cache_joins_the_request_session_when_it_opens(app, db, analyst):
    from sqlalchemy import inspect

    from agency.extensions import adopt_into_request_session, get_session
    from agency.models import User
    from agency.services.auth import detached_user

    columns = {attr.key: getattr(analyst, attr.key) for attr in inspect(User).column_attrs}
    with app.test_request_context("/"):
        user = adopt_into_request_session(detached_user(columns))
        assert inspect(user).detached  # no session opened yet
        request_session = get_session()
        assert user in request_session and not request_session.dirty
        assert request_session.get(User, analyst.id) is user
        # A second copy of the same row: the session's own instance is the one to use.
        assert adopt_into_request_session(detached_user(columns)) is user
        assert user.email == analyst.email and user.role is analyst.role
