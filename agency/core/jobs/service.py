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
from sqlalchemy import event, func, select
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
        if record.parent_id is not None and config.redis_url is None:
            report_to_parent(session, record)  # in-process: the chunk's failure is final
        raise
    if record.status is JobStatus.started:  # (a job that fanned out is waiting, or finalised)
        record.status, record.result, record.ended_at = JobStatus.finished, result, utcnow()
        record.error = items_failed_error(result)
    if run is not None:
        rows = result.get("rows_changed") if record.status is JobStatus.finished else None
        _finish_run(
            run,
            RunStatus.succeeded,
            started,
            rows,
            (record.error or "ok")
            if record.status is JobStatus.finished
            else f"{record.status.value}: {record.progress_total or 0} chunks",
        )
    if record.parent_id is not None:
        report_to_parent(session, record)
    JOB_SECONDS.labels(job=record.name, outcome="finished").observe(time.monotonic() - started)
    logger.info("job_finished", duration_ms=int((time.monotonic() - started) * 1000))
    return record


# --- jobs split into chunks ---------------------------------------------------------------------


def fan_out(session: Session, config, record: JobRecord | None, chunk_job: str, chunks: list[dict]) -> dict:
    """Split the job `record` into one `chunk_job` per entry of `chunks` (their arguments).

    With Redis the chunks are queued (after the caller commits) for any number of workers, each
    in its own transaction; the job waits and finishes when its last chunk does (see
    `report_to_parent`), showing chunks done / total as its progress. Without Redis, or without
    a record (a CLI command), the chunks run here one after another, each in a savepoint: a
    failing chunk is recorded against its own record and the others go on. Returns the job's
    result so far (the whole result when the chunks ran here)."""
    if record is None:
        results = [JOBS[chunk_job].function(session, config, arguments, None) for arguments in chunks]
        return combine_results(results, failed=[])
    record.progress_done, record.progress_total = 0, len(chunks)
    if config.redis_url:
        record.status = JobStatus.waiting
    for arguments in chunks:
        try:
            enqueue(session, config, chunk_job, arguments, parent_id=record.id)
        except Exception:  # in-process: recorded on the chunk's record (execute_job), go on
            log.warning("chunk_failed", job_id=record.id, job=chunk_job)
    if not config.redis_url or not chunks:
        _finalise(session, record)
        return record.result
    return {"chunks": len(chunks), "waiting": True}


def combine_results(results: list[dict], failed: list[dict]) -> dict:
    """A job's result from its chunks' results: numbers are added up, the rest kept from the
    first chunk that has it; failed chunks are listed with their error."""
    combined: dict = {}
    for result in results:
        for key, value in (result or {}).items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                combined[key] = combined.get(key, 0) + value
            else:
                combined.setdefault(key, value)
    combined["failed_items"] = [item for result in results for item in (result or {}).get("failed_items") or []]
    combined["chunks"] = len(results) + len(failed)
    combined["failed_chunks"] = failed
    return combined


def report_to_parent(session: Session, chunk: JobRecord) -> None:
    """A chunk is done (finished, or failed for good): update its parent's progress, and
    finish the parent when every chunk is done. Chunks run concurrently: the parent's row is
    locked while it is updated, so the last one to finish sees every other as done."""
    parent = session.get(JobRecord, chunk.parent_id, with_for_update=True, populate_existing=True)
    if parent is None:
        return
    done = session.scalar(
        select(func.count()).where(
            JobRecord.parent_id == parent.id, JobRecord.status.in_([JobStatus.finished, JobStatus.failed])
        )
    )
    parent.progress_done = done
    if done >= (parent.progress_total or 0) and parent.status is JobStatus.waiting:
        _finalise(session, parent)


def _finalise(session: Session, parent: JobRecord) -> None:
    children = session.scalars(select(JobRecord).where(JobRecord.parent_id == parent.id)).all()
    failed = [
        {"job_id": c.id, "arguments": c.arguments, "error": (c.error or "").strip().splitlines()[-1:]}
        for c in children
        if c.status is JobStatus.failed
    ]
    parent.result = combine_results([c.result for c in children if c.status is JobStatus.finished], failed)
    parent.ended_at = utcnow()
    if failed:
        parent.status = JobStatus.failed
        parent.error = f"{len(failed)} of {len(children)} chunks failed; the others finished (see failed_chunks)."
    else:
        parent.status, parent.error = JobStatus.finished, items_failed_error(parent.result)
    run = session.scalar(select(ScheduledRun).where(ScheduledRun.job_id == parent.id))
    if run is not None and run.outcome.startswith("waiting"):
        run.status = RunStatus.failed if failed else RunStatus.succeeded
        run.finished_at, run.rows_changed = utcnow(), parent.result.get("rows_changed")
        run.outcome = parent.error or "ok"


def items_failed_error(result: dict | None) -> str | None:
    """The error of a job that finished with some items failed (`failed_items` in its result:
    each with the item and its error), None when every item was done."""
    failed = (result or {}).get("failed_items") or []
    if not failed:
        return None
    lines = [", ".join(f"{k}={v}" for k, v in item.items()) for item in failed[:20]]
    more = f"\n... and {len(failed) - 20} more (see failed_items)" if len(failed) > 20 else ""
    return f"{len(failed)} item(s) failed; the others were done:\n" + "\n".join(lines) + more


def _finish_run(run: ScheduledRun, status: RunStatus, started: float, rows, outcome: str) -> None:
    run.status, run.finished_at = status, utcnow()
    run.duration_ms, run.rows_changed, run.outcome = int((time.monotonic() - started) * 1000), rows, outcome[:2000]


# --- queues -------------------------------------------------------------------------------------


def redis_connection(url: str):
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)


def retry_delays(config) -> list[int]:
    """Seconds RQ waits before each new attempt of a failed job (JOB_RETRY_DELAYS): a poison job
    is retried with back-off, then parked as failed, never retried forever."""
    return [int(part) for part in str(config.job_retry_delays).split(",") if part.strip()]


def push_to_redis(config, job_id: str, queue: str) -> bool:
    """Hand a recorded job to RQ (retried by RQ on failure). False when Redis is unreachable."""
    delays = retry_delays(config)
    try:
        Queue(queue, connection=redis_connection(config.redis_url)).enqueue(
            RQ_ENTRY_POINT,
            job_id,
            job_id=job_id,
            retry=Retry(max=len(delays), interval=delays) if delays else None,
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
    parent_id: str | None = None,
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
        parent_id=parent_id,
        status=JobStatus.queued,
    )
    session.add(record)
    session.flush()
    if not config.redis_url:
        execute_job(session, config, record)
        return record

    def push():
        if push_to_redis(config, record.id, queue):
            _mark_in_redis(session, record.id)

    after_root_commit(session, push)
    return record


def run_here(session: Session, config, name: str, arguments: dict | None = None) -> JobRecord:
    """Record a job and run it in this process, in `session` (the caller commits). A job that
    fans out (see `fan_out`) queues its chunks here, pushed to Redis on commit for any number of
    workers, and its record then shows chunks done / total until the last one finishes."""
    if name not in JOBS:
        raise ValueError(f"unknown job {name!r}")
    record = JobRecord(
        id=str(uuid.uuid4()), name=name, queue=JOBS[name].queue, arguments=arguments or {}, status=JobStatus.queued
    )
    session.add(record)
    session.flush()
    return execute_job(session, config, record)


def after_root_commit(session: Session, action: Callable[[], None]) -> None:
    """Run `action` once the session's outermost transaction has committed (not when a savepoint
    inside it is released: a job pushed then could run before its record is visible), and drop
    it if that transaction rolls back."""
    if not session.info.get("after_root_commit_listening"):
        event.listen(session, "after_commit", _run_after_root_commit)
        event.listen(session, "after_soft_rollback", _drop_after_root_commit)
        session.info["after_root_commit_listening"] = True
    session.info.setdefault("after_root_commit", []).append(action)


def _run_after_root_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint was released; the transaction goes on
    for action in session.info.pop("after_root_commit", []):
        action()


def _drop_after_root_commit(session: Session, _previous_transaction) -> None:
    if not session.in_nested_transaction():
        session.info.pop("after_root_commit", None)


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
        if not push_to_redis(config, record.id, record.queue):
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
        if dead and push_to_redis(config, record.id, record.queue):
            recovered.append(record.id)
    return recovered
