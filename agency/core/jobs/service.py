"""Background jobs: the registry of job functions, recording and running them, and their hand-over
to RQ.

Domains declare job functions in their `tasks.py` with `@job(name, queue=...)`; a job function
takes `(session, config, arguments, record)` and returns a JSON-ready dict. `enqueue` records a
`JobRecord` and then either runs the job at once, in-process, in the caller's session (no
REDIS_URL: the embedded demo and the tests need no Redis), or hands RQ the job's id after the
caller commits. RQ runs `workers.worker.run_job`, named by string so this package never imports
`workers`. If Redis is down the record stays `in_redis=False` and the scheduler's sweep pushes it
when Redis is back, so no work is lost.
"""

from __future__ import annotations

import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, timedelta

import redis
import structlog
from redis.exceptions import RedisError
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.job import JobStatus as RQStatus
from sqlalchemy import event, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from agency.core.audit.service import record_audit
from agency.core.database import utcnow
from agency.core.errors import Conflict
from agency.core.jobs.models import JobRecord, JobStatus, RunStatus, ScheduledRun
from agency.core.prometheus import JOB_SECONDS
from agency.core.users.models import Role
from agency.core.users.service import require_role

QUEUES = ("recompute", "imports", "notifications", "default")
# The callable RQ imports and runs with the job's id.
RQ_ENTRY_POINT = "workers.worker.run_job"
log = structlog.get_logger(__name__)


# --- the registry -------------------------------------------------------------------------------

JobFunction = Callable[..., dict]


@dataclass(frozen=True)
class JobDefinition:
    name: str
    queue: str
    function: JobFunction


JOBS: dict[str, JobDefinition] = {}


def job(name: str, *, queue: str = "default"):
    """Register a job function under `name`, run on `queue` (see QUEUES)."""
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}")

    def register(function: JobFunction) -> JobFunction:
        known = JOBS.get(name)
        if known is not None and known.function is not function:
            raise ValueError(f"job {name!r} is already registered by {known.function.__module__}")
        JOBS[name] = JobDefinition(name, queue, function)
        return function

    return register


def run_job_now(session: Session, config, name: str, arguments: dict | None = None) -> dict:
    """Call a registered job function directly, without a record (CLI commands)."""
    return JOBS[name].function(session, config, arguments or {}, None)


def progress_reporter(record):
    """The callback `execute_job` attached to the record (records (done, total)), if any."""
    return getattr(record, "report_progress", None) if record is not None else None


# --- running a recorded job ---------------------------------------------------------------------


def execute_job(session, config, record: JobRecord, *, mark_started: bool = True, progress_engine=None) -> JobRecord:
    """Run a recorded job inside `session` and record its outcome (the caller commits).

    The worker marks the job started in a transaction of its own and passes `progress_engine`:
    progress is then written in short separate transactions, visible while the job runs (the
    job's own transaction must not touch the record until it ends, or the two would wait on
    each other's row lock)."""
    logger = log.bind(job_id=record.id, job=record.name)
    if mark_started:
        record.status, record.started_at, record.attempts = JobStatus.started, utcnow(), record.attempts + 1

    def report_progress(done: int, total: int) -> None:
        if progress_engine is None:
            record.progress_done, record.progress_total = done, total
            return
        table = JobRecord.__table__
        with progress_engine.begin() as conn:
            conn.execute(table.update().where(table.c.id == record.id).values(progress_done=done, progress_total=total))

    record.report_progress = report_progress
    started = time.monotonic()
    run_id = record.arguments.get("scheduled_run_id")
    run = session.get(ScheduledRun, run_id) if run_id else None
    try:
        with session.begin_nested():
            result = JOBS[record.name].function(session, config, record.arguments, record)
    except Exception as exc:  # recorded, then re-raised for RQ's retry
        record.status, record.error, record.ended_at = JobStatus.failed, traceback.format_exc()[-4000:], utcnow()
        if run is not None:
            _finish_run(run, RunStatus.failed, started, None, f"{type(exc).__name__}: {exc}")
        logger.error("job_failed", error=str(exc))
        JOB_SECONDS.labels(job=record.name, outcome="failed").observe(time.monotonic() - started)
        raise
    record.status, record.result, record.ended_at, record.error = JobStatus.finished, result, utcnow(), None
    if run is not None:
        _finish_run(run, RunStatus.succeeded, started, result.get("rows_changed"), "ok")
    JOB_SECONDS.labels(job=record.name, outcome="finished").observe(time.monotonic() - started)
    logger.info("job_finished", duration_ms=int((time.monotonic() - started) * 1000))
    return record


def _finish_run(run: ScheduledRun, status: RunStatus, started: float, rows, outcome: str) -> None:
    run.status, run.finished_at = status, utcnow()
    run.duration_ms, run.rows_changed, run.outcome = int((time.monotonic() - started) * 1000), rows, outcome[:2000]


# --- queues -------------------------------------------------------------------------------------


def redis_connection(url: str):
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)


def push_to_redis(redis_url: str, job_id: str, queue: str) -> bool:
    """Hand a recorded job to RQ (retried by RQ on failure). False when Redis is unreachable."""
    try:
        Queue(queue, connection=redis_connection(redis_url)).enqueue(
            RQ_ENTRY_POINT,
            job_id,
            job_id=job_id,
            retry=Retry(max=3, interval=[10, 60, 300]),
            job_timeout=3600,
            result_ttl=86400,
            failure_ttl=7 * 86400,
        )
    except RedisError as exc:
        log.warning("redis_unavailable_job_kept_for_later", job_id=job_id, error=type(exc).__name__)
        return False
    return True


def enqueue(
    session: Session,
    config,
    name: str,
    arguments: dict | None = None,
    *,
    queue: str | None = None,
    dedup_key: str | None = None,
    requested_by_id: int | None = None,
) -> JobRecord:
    """Record a job and run it (no Redis) or queue it (Redis, after the caller commits)."""
    if name not in JOBS:
        raise ValueError(f"unknown job {name!r}")
    queue = queue or JOBS[name].queue
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}")
    if dedup_key:
        waiting = session.scalar(
            select(JobRecord).where(JobRecord.dedup_key == dedup_key, JobRecord.status == JobStatus.queued)
        )
        if waiting is not None:
            return waiting  # the same work is already waiting to run
    record = JobRecord(
        id=str(uuid.uuid4()),
        name=name,
        queue=queue,
        arguments=arguments or {},
        dedup_key=dedup_key,
        requested_by_id=requested_by_id,
        status=JobStatus.queued,
    )
    session.add(record)
    session.flush()
    if not config.redis_url:
        execute_job(session, config, record)
        return record

    @event.listens_for(session, "after_commit", once=True)
    def _push(_session):
        if push_to_redis(config.redis_url, record.id, queue):
            _mark_in_redis(session, record.id)

    return record


def retry_job(session: Session, config, record: JobRecord, actor) -> JobRecord:
    """Run a failed job again as a new job with the same arguments (admins); the old record stays."""
    require_role(actor.user, Role.admin)
    if record.status is not JobStatus.failed:
        raise Conflict(f"Only failed jobs can be retried; this one is {record.status.value}.")
    retry = enqueue(session, config, record.name, record.arguments, queue=record.queue, requested_by_id=actor.user.id)
    record_audit(
        db_session=session,
        actor=actor,
        action="job.retry",
        entity_type="job",
        entity_id=None,
        after={"job_id": record.id, "retry_id": retry.id},
    )
    return retry


def _mark_in_redis(session: Session, job_id: str) -> None:
    # After commit the session is between transactions; a short one records the hand-over.
    statement = JobRecord.__table__.update().where(JobRecord.__table__.c.id == job_id).values(in_redis=True)
    bind = session.get_bind()
    if isinstance(bind, Connection):  # a session joined to an outer transaction (tests)
        bind.execute(statement)
        return
    with bind.begin() as conn:
        conn.execute(statement)


def requeue_unpushed(session: Session, config) -> int:
    """Push recorded jobs that never reached Redis (it was down when they were created)."""
    if not config.redis_url:
        return 0
    pushed = 0
    for record in session.scalars(
        select(JobRecord).where(JobRecord.status == JobStatus.queued, JobRecord.in_redis.is_(False)).limit(500)
    ):
        if not push_to_redis(config.redis_url, record.id, record.queue):
            break
        record.in_redis = True
        pushed += 1
    return pushed


def queue_depths(redis_url: str) -> dict[str, int]:
    connection = redis_connection(redis_url)
    return {name: Queue(name, connection=connection).count for name in QUEUES}


def recover_abandoned(session: Session, config, stale_after_seconds: int = 600) -> list[str]:
    """Push again jobs whose worker died mid-run (SIGKILL, lost node): RQ still lists them as
    started but their heartbeat stopped. Their database work was one transaction that never
    committed, so running them again converges."""
    if not config.redis_url:
        return []
    connection = redis_connection(config.redis_url)
    recovered = []
    for record in session.scalars(
        select(JobRecord).where(
            JobRecord.status.in_([JobStatus.queued, JobStatus.started]), JobRecord.in_redis.is_(True)
        )
    ).all():
        try:
            rq_job = Job.fetch(record.id, connection=connection)
            status = rq_job.get_status()
        except NoSuchJobError:
            rq_job, status = None, None
        heartbeat = rq_job.last_heartbeat if rq_job is not None else None
        if heartbeat is not None and heartbeat.tzinfo is None:
            heartbeat = heartbeat.replace(tzinfo=UTC)
        dead = (
            status is None
            or status in (RQStatus.FAILED, RQStatus.STOPPED, RQStatus.CANCELED)
            or (
                status == RQStatus.STARTED
                and (heartbeat is None or utcnow() - heartbeat > timedelta(seconds=stale_after_seconds))
            )
        )
        if dead and push_to_redis(config.redis_url, record.id, record.queue):
            recovered.append(record.id)
    return recovered
