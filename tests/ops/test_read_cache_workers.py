"""The read caches across processes, with real commits: what one worker (or any SQL session)
commits, every other worker's next request sees, though each keeps its own cache."""
from __future__ import annotations

from sqlalchemy import delete, text

from agency.db import Database
from agency.models import AuditEntry, Creator
from tests.conftest import PASSWORD
from tests.ops.conftest import make_app


def test_each_worker_sees_the_others_commits_at_once(database_url, committed_admin):
    worker_a, worker_b = make_app(database_url), make_app(database_url)
    a, b = worker_a.test_client(), worker_b.test_client()
    token = a.post("/api/v1/auth/tokens", json={"email": committed_admin, "password": PASSWORD}).json["token"]
    headers = {"Authorization": f"Bearer {token}"}
    created = a.post("/api/v1/creators", headers=headers,
                     json={"display_name": "Seen everywhere", "country": "FR", "niche": "travel"})
    assert created.status_code == 201
    creator_id = created.json["id"]
    try:
        for client in (a, b, a, b):  # the second round is served from each worker's cache
            assert client.get(f"/api/v1/creators/{creator_id}", headers=headers).json["version"] == 1
            assert any(c["id"] == creator_id for c in client.get("/api/v1/creators", headers=headers).json)

        edited = a.patch(f"/api/v1/creators/{creator_id}", headers=headers, json={"notes": "from A", "version": 1})
        assert edited.status_code == 200
        assert b.get(f"/api/v1/creators/{creator_id}", headers=headers).json["notes"] == "from A"

        # A change from outside the API (a job, an operator's SQL) is seen too.
        with worker_a.extensions["agency_db"].engine.begin() as conn:
            conn.execute(text("UPDATE creators SET notes = 'from SQL' WHERE id = :id"), {"id": creator_id})
        for client in (a, b):
            assert client.get(f"/api/v1/creators/{creator_id}", headers=headers).json["notes"] == "from SQL"

        # Revoking the token through worker A locks it out of worker B's cache as well.
        assert b.get("/api/v1/users/me", headers=headers).status_code == 200
        assert a.delete("/api/v1/auth/tokens/current", headers=headers).status_code == 204
        assert b.get("/api/v1/users/me", headers=headers).status_code == 401
        assert b.get("/api/v1/creators", headers=headers).status_code == 401
    finally:
        with worker_a.extensions["agency_db"].session_scope() as s:
            s.execute(delete(AuditEntry).where(AuditEntry.entity_id == creator_id))
            s.execute(delete(Creator).where(Creator.id == creator_id))
        for worker in (worker_a, worker_b):
            worker.extensions["agency_db"].dispose()


def test_an_uncommitted_change_is_not_served_and_a_rolled_back_one_never_is(database_url, committed_admin):
    worker = make_app(database_url)
    client = worker.test_client()
    token = client.post("/api/v1/auth/tokens", json={"email": committed_admin, "password": PASSWORD}).json["token"]
    headers = {"Authorization": f"Bearer {token}"}
    created = client.post("/api/v1/creators", headers=headers,
                          json={"display_name": "Before", "country": "FR", "niche": "travel"})
    creator_id = created.json["id"]
    engine = worker.extensions["agency_db"].engine
    try:
        with engine.connect() as conn:
            transaction = conn.begin()
            conn.execute(text("UPDATE creators SET display_name = 'Not yet' WHERE id = :id"), {"id": creator_id})
            # In flight: readers see the committed state, and must not keep it once this commits.
            assert client.get(f"/api/v1/creators/{creator_id}", headers=headers).json["display_name"] == "Before"
            transaction.commit()
        assert client.get(f"/api/v1/creators/{creator_id}", headers=headers).json["display_name"] == "Not yet"

        with engine.connect() as conn:
            transaction = conn.begin()
            conn.execute(text("UPDATE creators SET display_name = 'Never' WHERE id = :id"), {"id": creator_id})
            transaction.rollback()
        assert client.get(f"/api/v1/creators/{creator_id}", headers=headers).json["display_name"] == "Not yet"
    finally:
        with worker.extensions["agency_db"].session_scope() as s:
            s.execute(delete(AuditEntry).where(AuditEntry.entity_id == creator_id))
            s.execute(delete(Creator).where(Creator.id == creator_id))
        worker.extensions["agency_db"].dispose()


def test_the_revision_follows_commits_and_survives_a_lost_prepared_statement(database_url, committed_admin):
    database = Database(database_url, pool_size=1, max_overflow=0)

    def stored() -> int:
        with database.engine.connect() as conn:
            return conn.execute(text("SELECT revision FROM cache_revision WHERE id = 1")).scalar()

    try:
        before = database.read_cache_revision()
        assert before == stored()
        with database.engine.begin() as conn:
            conn.execute(text("UPDATE users SET full_name = full_name WHERE email = :e"), {"e": committed_admin})
        after_commit = database.read_cache_revision()
        assert after_commit == stored() and after_commit > before
        # Something (a pooler, an operator) drops the connection's prepared statements: the read
        # reports "unknown" once, so caches are skipped rather than trusted, then prepares again.
        pooled = database.engine.raw_connection()
        pooled.driver_connection.execute("DEALLOCATE ALL")
        pooled.commit()
        pooled.close()
        assert database.read_cache_revision() is None
        assert database.read_cache_revision() == stored()
    finally:
        database.dispose()
