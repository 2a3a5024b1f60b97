"""Jobs started from API requests: run small work now, queue big work (202 + Location)."""

from __future__ import annotations

from flask import current_app, jsonify

from agency.core.auth import current_user
from agency.core.extensions import get_session
from agency.core.jobs.service import enqueue

# Work bigger than this runs as a background job when Redis is configured (202 + Location).
SYNC_CREATOR_LIMIT = 200


def run_or_enqueue(job_name: str, arguments: dict, run_now):
    """Small work, or no Redis: run now, answer 200 with the result. Otherwise record a job and
    answer 202 with its location (GET /api/v1/jobs/{job_id})."""
    config = current_app.config["AGENCY"]
    ids = arguments.get("creator_ids")
    if not config.redis_url or (ids and len(ids) <= SYNC_CREATOR_LIMIT):
        return jsonify(run_now()), 200
    record = enqueue(get_session(), config, job_name, arguments, requested_by_id=current_user().id)
    location = f"/api/v1/jobs/{record.id}"
    return (
        jsonify({"job_id": record.id, "status": record.status.value, "location": location}),
        202,
        {"Location": location},
    )


def after_import(job_name: str, creator_ids: list[int], requested_by_id: int | None = None) -> dict | None:
    """Refresh what an import changed, for exactly the creators it touched, through the job
    `job_name`: run in-process without Redis (its result is returned), else one background job
    (identical pending requests are merged). UI pages name the requesting user themselves."""
    if not creator_ids:
        return None
    config = current_app.config["AGENCY"]
    key = (
        f"{job_name}:"
        + ",".join(map(str, creator_ids[:50]))
        + (f"+{len(creator_ids)}" if len(creator_ids) > 50 else "")
    )
    record = enqueue(
        get_session(),
        config,
        job_name,
        {"creator_ids": creator_ids},
        queue="recompute",
        dedup_key=key[:200],
        requested_by_id=requested_by_id if requested_by_id is not None else current_user().id,
    )
    if not config.redis_url:
        return record.result
    return {"job_id": record.id, "location": f"/api/v1/jobs/{record.id}"}
