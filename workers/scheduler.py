"""Periodic jobs, declared as data, and the run guard that makes each period run once.

The `agency scheduler` command runs `run_due` every 30 seconds. `run_due(now)` computes each
definition's current period ("2026-11-25T14" for hourly work, "2026-11-25" for daily work at a
time) and inserts a `scheduled_runs` row for it; the unique
(job name, period) constraint lets exactly one scheduler win, however many run, and a period
missed while everything was down runs once at the next start. The winner enqueues the job.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as clock

import click
import structlog
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import agency.registry  # noqa: F401  (every domain's job functions register themselves)
from agency.core.database import utcnow
from agency.core.extensions import get_db
from agency.core.jobs.models import ScheduledRun
from agency.core.jobs.service import enqueue

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Periodic:
    name: str
    job: str
    queue: str
    every_minutes: int | None = None  # interval work: one run per slot of this many minutes
    daily_at: clock | None = None  # daily work (UTC): one run per day, at or after this time
    arguments: tuple = ()
    offset_minutes: int = 0  # interval work: slots start this many minutes past the hour

    def period(self, now: datetime) -> str:
        if self.daily_at is not None:
            day = now.date() if now.time() >= self.daily_at else now.date() - timedelta(days=1)
            return day.isoformat()
        shifted = now - timedelta(minutes=self.offset_minutes)
        minutes = shifted.hour * 60 + shifted.minute
        slot = minutes - minutes % self.every_minutes
        start = shifted.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(
            minutes=slot + self.offset_minutes
        )
        return f"{start:%Y-%m-%dT%H:%M}"


# The schedule. The hourly refresh runs as separate jobs, so one failing stage never cancels
# another: eligibility and diversification on the hour (each split into chunks for the workers),
# alert evaluation half an hour later, on what they wrote. Digests are checked every 15 minutes
# and go out at each manager's local digest hour (08:00 by default); see
# agency/alerts/notifications.py.
SCHEDULE = (
    Periodic("refresh_eligibility", "recompute_eligibility", "recompute", every_minutes=60),
    # Creators a write left waiting are refreshed by a job queued with the write; this catches
    # those whose job was lost (Redis down at the time) or written by a command line.
    Periodic("refresh_requested", "refresh_requested_evaluations", "recompute", every_minutes=5),
    Periodic("refresh_diversification", "recompute_diversification", "recompute", every_minutes=60),
    Periodic("refresh_alerts", "evaluate_alerts", "recompute", every_minutes=60, offset_minutes=30),
    Periodic("digests", "queue_digests", "notifications", every_minutes=15),
    Periodic("send_emails", "send_emails", "notifications", every_minutes=5),
    Periodic("requeue_unpushed", "requeue_unpushed", "default", every_minutes=5),
    Periodic("stale_metrics_check", "evaluate_alerts", "recompute", daily_at=clock(6, 0)),
    Periodic("cleanup", "cleanup", "default", daily_at=clock(3, 0)),
    Periodic("metric_partitions", "ensure_metric_partitions", "default", daily_at=clock(1, 0)),
)


def run_due(database, config, now: datetime, schedule=SCHEDULE) -> list[str]:
    """Start every definition whose current period has not run yet; returns the names started."""
    started = []
    for periodic in schedule:
        period = periodic.period(now)
        try:
            with database.session_scope() as session:
                if not _claim(session, periodic.name, period):
                    continue
                run = session.query(ScheduledRun).filter_by(job_name=periodic.name, period=period).one()
                record = enqueue(
                    session,
                    config,
                    periodic.job,
                    dict(periodic.arguments) | {"scheduled_run_id": run.id},
                    queue=periodic.queue,
                )
                run.job_id = record.id
        except Exception:
            # In-process mode the job ran inside the claim's transaction: its failure rolled the
            # claim back too, so the period is retried at the next tick.
            log.exception("scheduled_run_failed", job=periodic.name, period=period)
            continue
        started.append(periodic.name)
        log.info("scheduled_run_started", job=periodic.name, period=period)
    return started


def _claim(session: Session, name: str, period: str) -> bool:
    try:
        with session.begin_nested():
            session.add(ScheduledRun(job_name=name, period=period))
    except IntegrityError:
        return False  # another scheduler (or an earlier start) has this period
    return True


def run_forever(database, config, tick_seconds: int = 30) -> None:  # pragma: no cover - a loop
    log.info("scheduler_started", definitions=[p.name for p in SCHEDULE])
    while True:
        try:
            run_due(database, config, utcnow())
        except Exception:
            log.exception("scheduler_tick_failed")
        time.sleep(tick_seconds)


@click.command("scheduler")
@click.option("--once", is_flag=True, help="Start what is due now, then exit.")
@with_appcontext
def scheduler_command(once: bool) -> None:
    """Start periodic jobs when due (safe to run twice: each period runs once)."""
    config = current_app.config["AGENCY"]
    if once:
        click.echo(" ".join(run_due(get_db(), config, utcnow())) or "nothing due")
        return
    run_forever(get_db(), config)
