"""Queues by concern, and `enqueue`: record the job in the database, then hand it to RQ.

With no REDIS_URL the job runs at once, in-process, in the caller's session, through the same
job function (the embedded demo and the tests need no Redis). With Redis, the record is
committed first and pushed after the commit; if Redis is down the record stays `in_redis=False`
and the scheduler's sweep pushes it when Redis is back, so no work is lost.
"""
from __future__ import annotations

import uuid

import structlog
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from agency.models import JobRecord, JobStatus

QUEUES = ("recompute", "imports", "notifications", "default")
log = structlog.get_logger(__name__)


def redis_connection(url: str):
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)


def push_to_redis(redis_url: str, job_id: str, queue: str) -> bool:
    """Hand a recorded job to RQ (retried by RQ on failure). False when Redis is unreachable."""
    from redis.exceptions import RedisError
    from rq import Queue, Retry

    try:
        Queue(queue, connection=redis_connection(redis_url)).enqueue(
            "workers.jobs.run_job", job_id, job_id=job_id, retry=Retry(max=3, interval=[10, 60, 300]),
            job_timeout=3600, result_ttl=86400, failure_ttl=7 * 86400)
    except RedisError as exc:
        log.warning("redis_unavailable_job_kept_for_later", job_id=job_id, error=type(exc).__name__)
        return False
    return True


def enqueue(session: Session, config, name: str, arguments: dict | None = None, *, queue: str = "default",
            dedup_key: str | None = None, requested_by_id: int | None = None) -> JobRecord:
    """Record a job and run it (no Redis) or queue it (Redis, after the caller commits)."""
    from workers.jobs import execute_job

    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}")
    if dedup_key:
        waiting = session.scalar(select(JobRecord).where(JobRecord.dedup_key == dedup_key,
                                                         JobRecord.status == JobStatus.queued))
        if waiting is not None:
            return waiting  # the same work is already waiting to run
    record = JobRecord(id=str(uuid.uuid4()), name=name, queue=queue, arguments=arguments or {}, dedup_key=dedup_key,
                       requested_by_id=requested_by_id, status=JobStatus.queued)
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


def _mark_in_redis(session: Session, job_id: str) -> None:
    # After commit the session is between transactions; a short one records the hand-over.
    from sqlalchemy.engine import Connection

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
    for record in session.scalars(select(JobRecord).where(JobRecord.status == JobStatus.queued,
                                                          JobRecord.in_redis.is_(False)).limit(500)):
        if not push_to_redis(config.redis_url, record.id, record.queue):
            break
        record.in_redis = True
        pushed += 1
    return pushed


def queue_depths(redis_url: str) -> dict[str, int]:
    from rq import Queue

    connection = redis_connection(redis_url)
    return {name: Queue(name, connection=connection).count for name in QUEUES}


def recover_abandoned(session: Session, config, stale_after_seconds: int = 600) -> list[str]:
    """Push again jobs whose worker died mid-run (SIGKILL, lost node): RQ still lists them as
    started but their heartbeat stopped. Their database work was one transaction that never
    committed, so running them again converges."""
    from datetime import timedelta

    from rq.exceptions import NoSuchJobError
    from rq.job import Job, JobStatus as RQStatus

    from agency.db import utcnow

    if not config.redis_url:
        return []
    connection = redis_connection(config.redis_url)
    recovered = []
    for record in session.scalars(select(JobRecord).where(JobRecord.status.in_([JobStatus.queued, JobStatus.started]),
                                                          JobRecord.in_redis.is_(True))).all():
        try:
            job = Job.fetch(record.id, connection=connection)
            status = job.get_status()
        except NoSuchJobError:
            job, status = None, None
        heartbeat = job.last_heartbeat if job is not None else None
        if heartbeat is not None and heartbeat.tzinfo is None:
            from datetime import timezone

            heartbeat = heartbeat.replace(tzinfo=timezone.utc)
        dead = status is None or status in (RQStatus.FAILED, RQStatus.STOPPED, RQStatus.CANCELED) or (
            status == RQStatus.STARTED and (heartbeat is None or utcnow() - heartbeat > timedelta(seconds=stale_after_seconds)))
        if dead and push_to_redis(config.redis_url, record.id, record.queue):
            recovered.append(record.id)
    return recovered
