"""A write the database refuses as a conflict is a 409, and the access log still names who asked
(it never reads from the session the failed write left unusable)."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import text

from agency.core.logging import configure_logging


def test_a_conflict_from_the_database_is_a_409_and_is_logged(client, session, manager, auth_for):
    if session.get_bind().dialect.name != "postgresql":
        pytest.fail("the conflict is planted with a PostgreSQL trigger")
    session.execute(
        text(
            "CREATE FUNCTION planted_conflict() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'planted duplicate' USING ERRCODE = 'unique_violation'; END $$ LANGUAGE plpgsql"
        )
    )
    session.execute(
        text(
            "CREATE TRIGGER planted_conflict BEFORE INSERT ON creators FOR EACH ROW EXECUTE FUNCTION planted_conflict()"
        )
    )
    session.commit()
    headers = auth_for(manager)
    stream = io.StringIO()
    configure_logging("INFO", json=True, stream=stream)
    try:
        response = client.post(
            "/api/v1/creators",
            json={"display_name": "Twice", "country": "FR", "niche": "travel", "languages": ["fr"]},
            headers=headers,
        )
    finally:
        configure_logging("WARNING", json=False)
    assert response.status_code == 409
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    access = [entry for entry in lines if entry.get("event") == "request"]
    assert access and access[-1]["status"] == 409 and access[-1]["user_id"] == manager.id
