"""Liveness and readiness probes."""

from __future__ import annotations

from datetime import UTC

import redis
from flask import Blueprint, current_app, jsonify
from rq import Worker
from sqlalchemy import text

from agency.core.database import utcnow
from agency.core.extensions import get_db
from agency.core.jobs.service import redis_connection

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """The process is up; checks nothing else (a liveness probe)."""
    return jsonify(status="ok")


def check_database() -> str | None:
    try:
        with get_db().engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means "not ready"; say which
        return f"database unreachable: {type(exc).__name__}"
    return None


def check_redis() -> str | None:
    url = current_app.config["AGENCY"].redis_url
    if not url:
        return None
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping()
    except Exception as exc:
        return f"redis unreachable: {type(exc).__name__}"
    return None


def worker_heartbeats() -> str:
    """Informational: how many RQ workers are alive and how fresh their heartbeat is. It does not
    fail readiness: the web process can serve without workers (queued work waits)."""
    try:
        workers = Worker.all(connection=redis_connection(current_app.config["AGENCY"].redis_url))
    except Exception as exc:
        return f"unknown ({type(exc).__name__})"
    beats = [w.last_heartbeat for w in workers if w.last_heartbeat]
    if not beats:
        return "no live worker: queued jobs wait"
    newest = max(b if b.tzinfo else b.replace(tzinfo=UTC) for b in beats)
    return f"{len(workers)} worker(s), last heartbeat {int((utcnow() - newest).total_seconds())}s ago"


@bp.get("/readyz")
def readyz():
    """Ready to serve: the database answers and, when configured, Redis answers."""
    checks = {"database": check_database(), "redis": check_redis()}
    for extra in current_app.extensions.get("agency_readiness_checks", []):
        checks.update(extra())
    failed = {name: problem for name, problem in checks.items() if problem}
    body = {name: (problem or "ok") for name, problem in checks.items()}
    if not current_app.config["AGENCY"].redis_url:
        body["redis"] = "not configured (jobs run in-process)"
    elif not failed.get("redis"):
        body["workers"] = worker_heartbeats()
    if failed:
        return jsonify(status="unavailable", checks=body, failed=sorted(failed)), 503
    return jsonify(status="ready", checks=body)
