import io
import json

import structlog

from agency.core.logging import configure_logging
from tests.factories import PASSWORD


def test_logs_are_json_with_request_ids_and_never_carry_secrets(client, manager, auth_for):
    stream = io.StringIO()
    configure_logging("INFO", json=True, stream=stream)
    try:
        token = client.post("/api/v1/auth/tokens", json={"email": manager.email, "password": PASSWORD}).json["token"]
        client.get("/api/v1/creators", headers={"Authorization": f"Bearer {token}"})
        client.get("/api/v1/creators?q=x", headers={"Authorization": f"Bearer {token}", "X-Request-ID": "trace-42"})
        client.post("/api/v1/auth/tokens", json={"email": manager.email, "password": "Wrong-password-999"})
    finally:
        configure_logging("WARNING", json=False)
    output = stream.getvalue()
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]
    requests = [line for line in lines if line.get("event") == "request"]
    assert len(requests) == 4
    assert {"method", "path", "status", "duration_ms", "request_id", "timestamp"} <= set(requests[0])
    assert any(line["request_id"] == "trace-42" for line in requests)
    assert requests[1]["user_id"] == manager.id
    for secret in (PASSWORD, "Wrong-password-999", token, token[4:]):
        assert secret not in output


def test_secret_looking_fields_are_masked():
    stream = io.StringIO()
    configure_logging("INFO", json=True, stream=stream)
    try:
        structlog.get_logger("t").info("oops", password="hunter2-long", note="Bearer agy_abcdef123456")
    finally:
        configure_logging("WARNING", json=False)
    line = json.loads(stream.getvalue())
    assert line["password"] == "***" and "abcdef123456" not in line["note"]


def test_metrics_need_a_token_unless_explicitly_opened(app, client):
    config = app.config["AGENCY"]
    assert config.metrics_token == "" and config.metrics_open is False  # the defaults
    assert client.get("/metrics").status_code == 401


def test_metrics_endpoint_reports_requests_and_can_be_protected(app, client, open_metrics):
    client.get("/api/v1/creators")
    body = client.get("/metrics").get_data(as_text=True)
    assert 'agency_http_request_duration_seconds_count{endpoint="creators.Creators"' in body
    assert "agency_job_duration_seconds" in body and "agency_emails_total" in body
    config = app.config["AGENCY"]
    config.metrics_token = "scrape-secret-1"
    try:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer scrape-secret-1"}).status_code == 200
    finally:
        config.metrics_token = ""
