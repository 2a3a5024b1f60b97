import pytest
import redis

from agency.core.jobs.models import JobRecord, JobStatus


@pytest.fixture()
def with_redis(app, redis_url):
    config = app.config["AGENCY"]
    redis.Redis.from_url(redis_url).flushdb()
    config.redis_url = redis_url
    yield config
    config.redis_url = ""
    redis.Redis.from_url(redis_url).flushdb()


def test_big_recompute_is_a_job_with_a_location(client, admin, auth_for, with_redis):
    headers = auth_for(admin)
    response = client.post("/api/v1/eligibility/recompute", json={}, headers=headers)
    assert response.status_code == 202
    location = response.headers["Location"]
    job = client.get(location, headers=headers).json
    assert job["status"] == "queued" and job["name"] == "recompute_eligibility" and job["queue"] == "recompute"
    assert job["progress"] == {"done": 0, "total": None}
    ready = client.get("/readyz").json
    assert ready["checks"]["redis"] == "ok" and "worker" in ready["checks"]["workers"]


def test_small_recompute_answers_at_once(client, admin, auth_for, with_redis, make_creator):
    creator = make_creator()
    response = client.post("/api/v1/eligibility/recompute", json={"creator_ids": [creator.id]}, headers=auth_for(admin))
    assert response.status_code == 200 and "evaluated" in response.json


def test_failed_jobs_can_be_retried_by_admins(client, session, admin, manager, auth_for):
    session.add(
        JobRecord(
            id="00000000-0000-0000-0000-000000000001",
            name="cleanup",
            queue="default",
            status=JobStatus.failed,
            arguments={},
            error="boom",
        )
    )
    session.commit()
    url = "/api/v1/jobs/00000000-0000-0000-0000-000000000001/retry"
    assert client.post(url, headers=auth_for(manager)).status_code == 403
    retried = client.post(url, headers=auth_for(admin))
    assert retried.status_code == 202 and retried.json["status"] == "finished"  # no Redis: ran in-process
    assert client.post("/api/v1/jobs/nope/retry", headers=auth_for(admin)).status_code == 404
    runs = client.get("/api/v1/jobs/runs", headers=auth_for(admin))
    assert runs.status_code == 200
