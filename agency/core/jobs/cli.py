"""`agency jobs status` and `agency jobs requeue`."""

from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import with_appcontext
from redis.exceptions import RedisError
from rq import Queue, Worker
from rq.registry import FailedJobRegistry
from sqlalchemy import func, select

from agency.core.extensions import get_db
from agency.core.jobs.models import JobRecord, JobStatus
from agency.core.jobs.service import enqueue, queue_depths, redis_connection, run_here


@click.group("jobs")
def jobs() -> None:
    """Background jobs."""


@jobs.command("status")
@with_appcontext
def jobs_status() -> None:
    """Queues, workers and failed jobs."""
    config = current_app.config["AGENCY"]
    if config.redis_url:
        connection = redis_connection(config.redis_url)
        for name, depth in queue_depths(config.redis_url).items():
            failed = FailedJobRegistry(name, connection=connection).count
            click.echo(f"queue {name:<14} waiting={depth} failed={failed}")
        for w in Worker.all(connection=connection):
            click.echo(
                f"worker {w.name} state={w.get_state()} queues={','.join(w.queue_names())} "
                f"last_heartbeat={w.last_heartbeat}"
            )
    else:
        click.echo("REDIS_URL not set: jobs run in-process.")
    with get_db().session_scope() as session:
        for status, count in session.execute(select(JobRecord.status, func.count()).group_by(JobRecord.status)):
            click.echo(f"jobs {status.value:<9} {count}")
        for record in session.scalars(
            select(JobRecord).where(JobRecord.status == JobStatus.failed).order_by(JobRecord.ended_at.desc()).limit(10)
        ):
            last_line = (record.error or "").strip().splitlines()[-1:] or [""]
            click.echo(f"failed {record.id} {record.name} at {record.ended_at:%Y-%m-%d %H:%M}: {last_line[0]}")
        # Jobs that finished with some of their items (creators, digests...) failed, each named.
        for record in session.scalars(
            select(JobRecord)
            .where(JobRecord.status == JobStatus.finished, JobRecord.error.is_not(None))
            .order_by(JobRecord.ended_at.desc())
            .limit(10)
        ):
            click.echo(f"partly failed {record.id} {record.name} at {record.ended_at:%Y-%m-%d %H:%M}:")
            for line in (record.error or "").splitlines()[1:]:
                click.echo(f"  {line}")


@jobs.command("requeue")
@click.argument("job_ids", nargs=-1)
@click.option("--all-failed", is_flag=True, help="Requeue every failed job.")
@with_appcontext
def jobs_requeue(job_ids: tuple[str, ...], all_failed: bool) -> None:
    """Run failed jobs again (by id, or --all-failed)."""
    config = current_app.config["AGENCY"]
    with get_db().session_scope() as session:
        stmt = select(JobRecord).where(JobRecord.status == JobStatus.failed)
        if not all_failed:
            if not job_ids:
                raise click.UsageError("Give job ids or --all-failed.")
            stmt = stmt.where(JobRecord.id.in_(job_ids))
        for record in session.scalars(stmt).all():
            retry = enqueue(session, config, record.name, record.arguments, queue=record.queue)
            click.echo(f"requeued {record.id} as {retry.id}")


def run_as_chunk_jobs(name: str, arguments: dict, *, wait: bool = True, poll_seconds: float = 1.0) -> dict:
    """A recompute command with Redis: run the job `name` here, which splits the roster into
    chunk jobs on its queue (shared by any number of workers), then, with `wait`, follow its
    progress (chunks done / total) until the last chunk is done. Returns the job's result;
    a job that failed (a chunk failed for good) exits with its error."""
    job_id, queue = start_chunk_jobs(name, arguments)
    if not wait:
        click.echo(f"  chunks queued on {queue!r}; follow with `agency jobs status`")
        return {}
    return follow_chunk_jobs(name, job_id, queue, poll_seconds=poll_seconds)


def start_chunk_jobs(name: str, arguments: dict) -> tuple[str, str]:
    """Run the job `name` here: it records itself and queues its chunk jobs. Returns the job's id
    and the queue its chunks wait on."""
    config = current_app.config["AGENCY"]
    with get_db().session_scope() as session:
        record = run_here(session, config, name, arguments)
        job_id, queue = record.id, record.queue
    click.echo(f"{name}: job {job_id}")
    return job_id, queue


def follow_chunk_jobs(name: str, job_id: str, queue: str, *, poll_seconds: float = 1.0) -> dict:
    """Show a chunked job's progress until its last chunk is done; its result, or its error."""
    config = current_app.config["AGENCY"]
    database = get_db()
    try:
        listening = Worker.all(queue=Queue(queue, connection=redis_connection(config.redis_url)))
    except RedisError:
        click.echo("  Redis is unreachable: the chunks are recorded and pushed when it is back", err=True)
    else:
        if not listening:
            click.echo(f"  no worker listens on {queue!r} yet: the chunks wait for one (agency worker)", err=True)
    shown = None
    while True:
        with database.session_scope() as session:
            record = session.get(JobRecord, job_id)
            status, done, total = record.status, record.progress_done, record.progress_total
            result, error = record.result, record.error
        if (status, done, total) != shown:
            click.echo(f"  {name} {status.value}: chunks {done or 0}/{total or 0}")
            shown = (status, done, total)
        if status in (JobStatus.finished, JobStatus.failed):
            break
        time.sleep(poll_seconds)
    if status is JobStatus.failed:
        raise click.ClickException(f"{name} failed: {''.join((error or '').strip().splitlines()[-1:])}")
    return result or {}


commands = [jobs]
