def test_errors_share_one_json_shape(client, analyst, auth_for):
    headers = auth_for(analyst)
    for response, code in [
        (client.get("/api/v1/creators/999999", headers=headers), 404),
        (client.get("/api/v1/no-such-thing", headers=headers), 404),
        (client.put("/api/v1/creators", headers=headers), 405),
    ]:
        assert response.status_code == code
        assert set(response.json) >= {"code", "status", "message"}
        assert response.json["code"] == code


def test_malformed_json_is_a_400_not_a_500(client, manager, auth_for):
    response = client.post(
        "/api/v1/creators", data="{not json", content_type="application/json", headers=auth_for(manager)
    )
    assert response.status_code == 400
    assert response.json["message"] == "The request body is not valid JSON."


def test_wrong_content_type_is_415(client, manager, auth_for):
    response = client.post(
        "/api/v1/creators",
        data="display_name=x",
        content_type="application/x-www-form-urlencoded",
        headers=auth_for(manager),
    )
    assert response.status_code == 415
    assert response.json["code"] == 415


def test_too_large_body_is_413(client, app, manager, auth_for):
    headers = auth_for(manager)
    limit = app.config["MAX_CONTENT_LENGTH"]
    response = client.post(
        "/api/v1/creators", data=b"x" * (limit + 1), content_type="application/json", headers=headers
    )
    assert response.status_code == 413
    assert response.json["code"] == 413


def test_ui_errors_are_html(client):
    response = client.get("/no-such-page", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert response.mimetype == "text/html"


def test_health_and_readiness(client):
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["checks"]["database"] == "ok"


def test_readiness_names_a_failed_redis(app, client):
    config = app.config["AGENCY"]
    original = config.redis_url
    config.redis_url = "redis://127.0.0.1:1/0"  # nothing listens there
    try:
        response = client.get("/readyz")
    finally:
        config.redis_url = original
    assert response.status_code == 503
    assert response.json["failed"] == ["redis"]


def test_openapi_document_lists_the_roster(client):
    spec = client.get("/api/openapi.json").json
    assert "/api/v1/creators/{creator_id}" in spec["paths"]
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
