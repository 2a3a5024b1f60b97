"""Faults the API must ride out without a restart: killed PostgreSQL backends and a dead Redis."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, delete, text

from agency.core.audit.models import AuditEntry
from agency.core.users.models import Role
from agency.core.users.service import create_user
from agency.programmes.models import EligibilityEvaluation
from agency.roster.models import Creator
from tests.factories import PASSWORD
from tests.ops.conftest import make_app as _app

DEAD_REDIS_URL = "redis://127.0.0.1:1/8"  # nothing listens on port 1


def test_requests_succeed_after_postgres_backends_are_killed(database_url, committed_admin):
    if database_url.startswith("sqlite"):
        pytest.fail("this fault test needs PostgreSQL")
    app = _app(database_url)
    client = app.test_client()
    token = client.post("/api/v1/auth/tokens", json={"email": committed_admin, "password": PASSWORD}).json["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/creators", headers=headers).status_code == 200
    pooled = app.extensions["agency_db"].engine.pool.checkedin()
    assert pooled >= 1  # the app holds idle connections that are about to die

    killer = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with killer.connect() as conn:
        killed = conn.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            )
        ).scalar()
    killer.dispose()
    assert killed >= 1

    for _ in range(3):
        assert client.get("/api/v1/creators", headers=headers).status_code == 200
    created = client.post(
        "/api/v1/creators",
        headers=headers,
        json={"display_name": "After the restart", "country": "FR", "niche": "travel", "languages": ["fr"]},
    )
    assert created.status_code == 201
    assert client.get(f"/api/v1/creators/{created.json['id']}", headers=headers).status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.delete(f"/api/v1/creators/{created.json['id']}", headers=headers).status_code == 204
    # Archiving keeps the row: remove it (and its audit rows) so later tests start from an empty roster.
    with app.extensions["agency_db"].session_scope() as s:
        s.execute(delete(AuditEntry).where(AuditEntry.entity_id == created.json["id"]))
        s.execute(delete(EligibilityEvaluation).where(EligibilityEvaluation.creator_id == created.json["id"]))
        s.execute(delete(Creator).where(Creator.id == created.json["id"]))
    app.extensions["agency_db"].dispose()


@pytest.fixture()
def dead_redis_client(database_url):
    """An app whose REDIS_URL points at nothing, its sessions joined to a rolled-back transaction."""
    app = _app(database_url, redis_url=DEAD_REDIS_URL)
    database = app.extensions["agency_db"]
    connection = database.engine.connect()
    transaction = connection.begin()
    database.bind_to(connection)
    yield app.test_client(), app
    transaction.rollback()
    connection.close()
    database.dispose()


def test_api_works_with_a_dead_redis_except_readiness(dead_redis_client):
    client, app = dead_redis_client
    with app.app_context():
        s = app.extensions["agency_db"].session_factory()
        create_user(db_session=s, email="redis-down@test.example", password=PASSWORD, role=Role.admin)
        s.commit()
        s.close()
    login = client.post("/api/v1/auth/tokens", json={"email": "redis-down@test.example", "password": PASSWORD})
    assert login.status_code == 201  # the rate limit fell back to memory
    headers = {"Authorization": f"Bearer {login.json['token']}"}
    created = client.post(
        "/api/v1/creators",
        headers=headers,
        json={"display_name": "No Redis", "country": "FR", "niche": "travel", "languages": ["fr"]},
    )
    assert created.status_code == 201
    assert client.get("/api/v1/creators", headers=headers).status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json["failed"] == ["redis"]
    assert client.get("/healthz").status_code == 200


def test_login_rate_limit_still_applies_while_redis_is_down(dead_redis_client):
    client, app = dead_redis_client
    limit = int(app.config["AGENCY"].login_rate_limit.split()[0])
    answers = [
        client.post("/api/v1/auth/tokens", json={"email": "x@test.example", "password": "Nope-nope-123"}).status_code
        for _ in range(limit + 1)
    ]
    assert answers[:limit] == [401] * limit and answers[-1] == 429
