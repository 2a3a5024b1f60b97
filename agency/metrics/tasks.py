"""Metric jobs: keep the monthly partitions of the snapshots ahead of time."""

from __future__ import annotations

from agency.core.database import utcnow
from agency.core.jobs.service import job
from agency.metrics.partitions import ensure_partitions


@job("ensure_metric_partitions", queue="default")
def ensure_metric_partitions_job(session, config, arguments, record) -> dict:
    result = ensure_partitions(session.connection(), utcnow().date())
    return result | {"rows_changed": len(result["created"])}
