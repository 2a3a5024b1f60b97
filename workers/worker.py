"""The RQ worker: `run_job(job_id)`, the callable RQ runs, and the `agency worker` command."""

from __future__ import annotations

import traceback

import click
import structlog
from flask import current_app
from flask.cli import with_appcontext
from rq import Worker, get_current_job

import agency.registry  # noqa: F401  (every domain's job functions register themselves)
from agency.core.config import Config
from agency.core.database import Database, utcnow
from agency.core.jobs.models import JobRecord, JobStatus
from agency.core.jobs.service import QUEUES, execute_job, redis_connection, report_to_parent

log = structlog.get_logger(__name__)


def run_job(job_id: str) -> dict | None:
    """RQ entry point: open a session, run the recorded job by its name, commit. A rerun after a
    crash is safe: every job converges (recomputes write only changes; emails carry stable
    Message-IDs)."""
    config = Config.from_env()
    database = Database(config.database_url)
    try:
        with database.session_scope() as session:  # visible at once: started, one more attempt
            record = session.get(JobRecord, job_id)
            if record is None:
                log.warning("job_record_missing", job_id=job_id)
                return None
            if record.status is JobStatus.finished:
                return record.result  # a retry of work that already completed
            record.status, record.started_at, record.attempts = JobStatus.started, utcnow(), record.attempts + 1
        try:
            with database.session_scope() as session:
                record = session.get(JobRecord, job_id)
                execute_job(session, config, record, mark_started=False, progress_engine=database.engine)
                return record.result
        except Exception:
            current = get_current_job()
            # RQ retries with back-off (see push_to_redis); only the last failure is final. A
            # chunk that failed for good is reported to its parent, which goes on without it.
            final = current is None or not current.retries_left
            with database.session_scope() as session:  # keep the failure visible after the rollback
                record = session.get(JobRecord, job_id)
                if record is not None:
                    record.status = JobStatus.failed if final else JobStatus.queued
                    record.ended_at = utcnow()
                    record.error = traceback.format_exc()[-4000:]
                    if final and record.parent_id is not None:
                        report_to_parent(session, record)
            raise
    finally:
        database.dispose()


@click.command("worker")
@click.option(
    "--queues", default=",".join(QUEUES), show_default=True, help="Comma-separated queues to serve, in priority order."
)
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@with_appcontext
def worker_command(queues: str, burst: bool) -> None:
    """Run an RQ worker (with RQ's scheduler for retries). Needs REDIS_URL."""
    config = current_app.config["AGENCY"]
    if not config.redis_url:
        raise click.ClickException("REDIS_URL is not set: without Redis, jobs run in-process and need no worker.")
    names = [q.strip() for q in queues.split(",") if q.strip()]
    unknown = sorted(set(names) - set(QUEUES))
    if unknown:
        raise click.ClickException(f"Unknown queue(s): {', '.join(unknown)}; known: {', '.join(QUEUES)}.")
    Worker(names, connection=redis_connection(config.redis_url)).work(with_scheduler=True, burst=burst)
