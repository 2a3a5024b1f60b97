"""Access logs, Prometheus metrics and optional Sentry.

Application metrics (core/prometheus.py: job durations, alerts opened, emails sent or failed) are
incremented where the work happens; `/metrics` exposes them with the
per-endpoint request latency from prometheus-flask-exporter, and the queue depth read from Redis
at scrape time.
"""

from __future__ import annotations

import hmac
import time

import structlog
from flask import Flask, Response, abort, g, request
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_flask_exporter import PrometheusMetrics
from sqlalchemy import inspect

from agency.core.jobs.service import queue_depths
from agency.core.prometheus import QUEUE_DEPTH

log = structlog.get_logger("agency.access")


def init_observability(app: Flask) -> None:
    config = app.config["AGENCY"]
    _init_sentry(config)

    @app.before_request
    def _start_timer():
        g.request_started = time.perf_counter()

    @app.after_request
    def _access_log(response):
        started = g.get("request_started")
        if started is not None and request.path not in ("/healthz", "/metrics"):
            # The API's user, or the one flask-login loaded for a page: never loaded here.
            user = g.get("current_user") or g.get("_login_user")
            # Never the query string's secrets or any header: method, path, status, timing, who.
            log.info(
                "request",
                method=request.method,
                path=request.path,
                status=response.status_code,
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
                user_id=_user_id(user),
            )
        return response

    if not config.metrics_enabled:
        return
    registry = CollectorRegistry()  # per app, so tests can build several apps in one process
    PrometheusMetrics(app, registry=registry, path=None, group_by="endpoint", defaults_prefix="agency")

    @app.get("/metrics")
    def metrics():
        if config.metrics_token:
            sent = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
            if not hmac.compare_digest(sent, config.metrics_token):
                abort(401, description="Metrics need the METRICS_TOKEN bearer token.")
        elif not config.metrics_open:
            abort(401, description="Metrics need a METRICS_TOKEN (or METRICS_OPEN=true on a private network).")
        if config.redis_url:
            _read_queue_depths(config.redis_url)
        return Response(generate_latest(registry) + generate_latest(REGISTRY), mimetype=CONTENT_TYPE_LATEST)


def _user_id(user) -> int | None:
    """The user's id from the session's identity map, never from the database: after a failed
    write the session cannot query until rolled back, and the access line must still be written."""
    if user is None:
        return None
    state = inspect(user, raiseerr=False)
    if state is not None and state.identity:
        return state.identity[0]
    return None


def _read_queue_depths(redis_url: str) -> None:
    try:
        for queue, depth in queue_depths(redis_url).items():
            QUEUE_DEPTH.labels(queue=queue).set(depth)
    except Exception:  # Redis down: /readyz says so; metrics keep their last value
        pass


def _init_sentry(config) -> None:
    if not config.sentry_dsn:
        return
    try:
        import sentry_sdk  # noqa: PLC0415  (an optional extra, imported only when configured)
        from sentry_sdk.integrations.flask import FlaskIntegration  # noqa: PLC0415
    except ImportError:
        structlog.get_logger(__name__).warning("sentry_dsn_set_but_sentry_sdk_missing")
        return
    sentry_sdk.init(dsn=config.sentry_dsn, integrations=[FlaskIntegration()], send_default_pii=False)
