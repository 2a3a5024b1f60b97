"""Background-work commands: `agency worker`, `scheduler`, `jobs`, `alerts`, `digests`."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from agency.cli import main


@main.command()
@click.option("--queues", default="recompute,imports,notifications,default", show_default=True,
              help="Comma-separated queues to serve, in priority order.")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@with_appcontext
def worker(queues: str, burst: bool) -> None:
    """Run an RQ worker (with RQ's scheduler for retries). Needs REDIS_URL."""
    from rq import Worker

    from workers.queues import QUEUES, redis_connection

    config = current_app.config["AGENCY"]
    if not config.redis_url:
        raise click.ClickException("REDIS_URL is not set: without Redis, jobs run in-process and need no worker.")
    names = [q.strip() for q in queues.split(",") if q.strip()]
    unknown = sorted(set(names) - set(QUEUES))
    if unknown:
        raise click.ClickException(f"Unknown queue(s): {', '.join(unknown)}; known: {', '.join(QUEUES)}.")
    Worker(names, connection=redis_connection(config.redis_url)).work(with_scheduler=True, burst=burst)


@main.command()
@click.option("--once", is_flag=True, help="Start what is due now, then exit.")
@with_appcontext
def scheduler(once: bool) -> None:
    """Start periodic jobs when due (safe to run twice: each period runs once)."""
    from agency.db import utcnow
    from agency.extensions import get_db
    from workers.schedule import run_due, run_forever

    config = current_app.config["AGENCY"]
    if once:
        click.echo(" ".join(run_due(get_db(), config, utcnow())) or "nothing due")
        return
    run_forever(get_db(), config)


@main.group()
def jobs() -> None:
    """Background jobs."""


@jobs.command("status")
@with_appcontext
def jobs_status() -> None:
    """Queues, workers and failed jobs."""
    from sqlalchemy import func, select

    from agency.extensions import get_db
    from agency.models import JobRecord, JobStatus

    config = current_app.config["AGENCY"]
    if config.redis_url:
        from rq import Worker
        from rq.registry import FailedJobRegistry

        from workers.queues import queue_depths, redis_connection

        connection = redis_connection(config.redis_url)
        for name, depth in queue_depths(config.redis_url).items():
            failed = FailedJobRegistry(name, connection=connection).count
            click.echo(f"queue {name:<14} waiting={depth} failed={failed}")
        for w in Worker.all(connection=connection):
            click.echo(f"worker {w.name} state={w.get_state()} queues={','.join(w.queue_names())} "
                       f"last_heartbeat={w.last_heartbeat}")
    else:
        click.echo("REDIS_URL not set: jobs run in-process.")
    with get_db().session_scope() as session:
        for status, count in session.execute(select(JobRecord.status, func.count()).group_by(JobRecord.status)):
            click.echo(f"jobs {status.value:<9} {count}")
        for record in session.scalars(select(JobRecord).where(JobRecord.status == JobStatus.failed)
                                      .order_by(JobRecord.ended_at.desc()).limit(10)):
            last_line = (record.error or "").strip().splitlines()[-1:] or [""]
            click.echo(f"failed {record.id} {record.name} at {record.ended_at:%Y-%m-%d %H:%M}: {last_line[0]}")


@jobs.command("requeue")
@click.argument("job_ids", nargs=-1)
@click.option("--all-failed", is_flag=True, help="Requeue every failed job.")
@with_appcontext
def jobs_requeue(job_ids: tuple[str, ...], all_failed: bool) -> None:
    """Run failed jobs again (by id, or --all-failed)."""
    from sqlalchemy import select

    from agency.extensions import get_db
    from agency.models import JobRecord, JobStatus
    from workers.queues import enqueue

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


@main.group()
def alerts() -> None:
    """Alerts."""


@alerts.command("evaluate")
@with_appcontext
def alerts_evaluate() -> None:
    """Evaluate every alert kind now (opens new, resolves cleared) and queue immediate emails."""
    _run_job_now("evaluate_alerts", {})


@main.group()
def digests() -> None:
    """Account-manager digests."""


@digests.command("send")
@click.option("--now", "now_", is_flag=True, required=True, help="Every manager's pending digest, regardless of hour.")
@with_appcontext
def digests_send(now_: bool) -> None:
    """Queue every manager's pending digest now and send the outbox."""
    _run_job_now("queue_digests", {"force": True})
    _run_job_now("send_emails", {})


def _run_job_now(name: str, arguments: dict) -> None:
    from agency.extensions import get_db
    from workers.jobs import JOBS

    config = current_app.config["AGENCY"]
    with get_db().session_scope() as session:
        result = JOBS[name](session, config, arguments, None)
    click.echo(f"{name}: " + " ".join(f"{k}={v}" for k, v in result.items()))
