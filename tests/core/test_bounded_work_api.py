"""One request cannot hold a worker: uploads are parsed in time linear in their size, with caps on
columns, line length and nesting; deeply nested JSON is a 422, a body over the limit a 413."""

from __future__ import annotations

import time

import pytest

IMPORTS = ["/api/v1/revenue/import", "/api/v1/metrics/import"]
HEADERS = {
    "/api/v1/revenue/import": "creator_id,date,source,amount,currency\n",
    "/api/v1/metrics/import": "platform,handle,day,followers\n",
}


@pytest.mark.parametrize("path", IMPORTS)
def test_a_very_wide_header_is_refused_at_once(client, manager, auth_for, path):
    header = ",".join(["creator_id"] * 200_000) + "\n"  # ~2 MB of duplicated columns
    started = time.monotonic()
    response = client.post(path, data=header, content_type="text/csv", headers=auth_for(manager))
    assert response.status_code == 422
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("path", IMPORTS)
def test_too_many_columns_are_refused(client, manager, auth_for, path):
    header = ",".join(f"c{n}" for n in range(5000)) + "\n"
    response = client.post(path, data=header, content_type="text/csv", headers=auth_for(manager))
    assert response.status_code == 422
    assert "too_many_columns" in response.json["errors"]["header"], response.json


def test_duplicated_columns_are_still_named(client, manager, auth_for):
    body = "creator_id,date,source,amount,currency,amount\n"
    response = client.post("/api/v1/revenue/import", data=body, content_type="text/csv", headers=auth_for(manager))
    assert response.status_code == 422
    assert response.json["errors"]["header"]["duplicated_columns"] == ["amount"]


@pytest.mark.parametrize("path", IMPORTS)
def test_a_line_longer_than_the_cap_is_refused(client, manager, auth_for, path):
    body = HEADERS[path] + "1,2026-01-01,merch," + "9" * 200_000 + ",EUR\n"
    response = client.post(path, data=body, content_type="text/csv", headers=auth_for(manager))
    assert response.status_code == 422
    assert "longer than" in response.json["message"]


@pytest.mark.parametrize("path", IMPORTS)
def test_deeply_nested_json_lines_are_row_errors_never_a_crash(client, manager, auth_for, path):
    deep = "[" * 30_000 + "]" * 30_000
    day = "date" if "revenue" in path else "day"
    nested = '{"' + day + '": {"a": [1, 2]}}'
    body = "\n".join([deep, '{"' + day + '": ' + "[" * 5000 + "]" * 5000 + "}", nested]) + "\n"
    response = client.post(path, data=body, content_type="application/x-ndjson", headers=auth_for(manager))
    assert response.status_code == 422, response.json
    rows = response.json["errors"]["rows"]
    assert [row["line"] for row in rows[:3]] == [1, 2, 3]
    assert rows[2]["field"] == day and "plain value" in rows[2]["reason"]


def test_a_deeply_nested_json_body_is_a_422(client, manager, auth_for):
    body = '{"display_name": ' + "[" * 100_000 + "]" * 100_000 + "}"
    response = client.post("/api/v1/creators", data=body, content_type="application/json", headers=auth_for(manager))
    assert response.status_code == 422


def test_a_body_over_the_limit_is_refused(app, client, manager, auth_for):
    limit = app.config["MAX_CONTENT_LENGTH"]
    assert limit and limit <= 50 * 1024 * 1024
    body = b"creator_id,date,source,amount,currency\n" + b"x" * limit
    response = client.post("/api/v1/revenue/import", data=body, content_type="text/csv", headers=auth_for(manager))
    assert response.status_code == 413
