"""Admins read the audit log through /api/v1/audit and `agency audit`; nobody else can."""

import json

from tests.roster.test_creators_api import NEW_CREATOR


def _create(client, user, auth_for, **fields):
    response = client.post("/api/v1/creators", json=NEW_CREATOR | fields, headers=auth_for(user))
    assert response.status_code == 201
    return response.json


def test_admin_reads_and_filters_the_audit_log(client, admin, manager, auth_for):
    first = _create(client, manager, auth_for)
    second = _create(client, admin, auth_for, display_name="Other", accounts=[])
    headers = auth_for(admin)
    everything = client.get("/api/v1/audit", headers=headers)
    assert everything.status_code == 200
    assert [e["entity_id"] for e in everything.json if e["entity_type"] == "creator"][:2] == [second["id"], first["id"]]
    assert "X-Pagination" in everything.headers
    mine = client.get("/api/v1/audit", query_string={"actor": manager.email}, headers=headers).json
    assert mine and {e["actor_label"] for e in mine} == {manager.email}
    one = client.get(
        "/api/v1/audit", query_string={"entity_type": "creator", "entity_id": first["id"]}, headers=headers
    ).json
    assert {e["entity_id"] for e in one} == {first["id"]}
    future = client.get("/api/v1/audit", query_string={"since": "2999-01-01T00:00:00+00:00"}, headers=headers).json
    assert future == []
    page = client.get("/api/v1/audit", query_string={"page_size": 1}, headers=headers)
    assert len(page.json) == 1 and json.loads(page.headers["X-Pagination"])["total"] >= 2


def test_audit_log_is_admin_only_and_validates_filters(client, admin, manager, analyst, auth_for):
    for user in (manager, analyst):
        assert client.get("/api/v1/audit", headers=auth_for(user)).status_code == 403
    assert client.get("/api/v1/audit").status_code == 401
    bad = client.get("/api/v1/audit", query_string={"since": "yesterday"}, headers=auth_for(admin))
    assert bad.status_code == 422


def test_audit_command_prints_a_table_or_json_lines(app, client, manager, auth_for):
    created = _create(client, manager, auth_for)
    runner = app.test_cli_runner()
    table = runner.invoke(args=["audit", "--entity", f"creator:{created['id']}"])
    assert table.exit_code == 0, table.output
    assert manager.email in table.output and f"creator:{created['id']}" in table.output
    lines = runner.invoke(args=["audit", "--actor", manager.email, "--json", "--since", "2000-01-01"])
    rows = [json.loads(line) for line in lines.output.splitlines()]
    assert rows and all(r["actor_label"] == manager.email for r in rows)
    assert runner.invoke(args=["audit", "--entity", "creator:abc"]).exit_code != 0


def test_out_of_range_ids_and_pages_are_not_server_errors(client, admin, auth_for):
    headers = auth_for(admin)
    assert client.get(f"/api/v1/creators/{2**70}", headers=headers).status_code == 404
    far = client.get("/api/v1/creators", query_string={"page": 10**20}, headers=headers)
    assert far.status_code == 200 and far.json == []
