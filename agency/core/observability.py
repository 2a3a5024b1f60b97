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
from flask_login import current_user
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_flask_exporter import PrometheusMetrics

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
            user = g.get("current_user")
            if user is None:
                user = current_user if getattr(current_user, "is_authenticated", False) else None
            # Never the query string's secrets or any header: method, path, status, timing, who.
            log.info(
                "request",
                method=request.method,
                path=request.path,
                status=response.status_code,
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
                user_id=getattr(user, "id", None),
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
