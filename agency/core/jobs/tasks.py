"""Housekeeping jobs: forget old records, push jobs Redis never received, recover abandoned ones."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete

from agency.core.database import utcnow
from agency.core.jobs.models import JobRecord, JobStatus, ScheduledRun
from agency.core.jobs.service import job, recover_abandoned, requeue_unpushed
from agency.core.users.service import forget_ended_sessions


@job("cleanup", queue="default")
def cleanup_job(session, config, arguments, record) -> dict:
    """Forget finished job records, scheduled runs and sign-in sessions that ended more than `days`
    ago (default 30)."""
    cutoff = utcnow() - timedelta(days=int(arguments.get("days", 30)))
    jobs = session.execute(
        delete(JobRecord).where(
            JobRecord.status.in_([JobStatus.finished, JobStatus.failed]), JobRecord.enqueued_at < cutoff
        )
    ).rowcount
    runs = session.execute(delete(ScheduledRun).where(ScheduledRun.started_at < cutoff)).rowcount
    sessions = forget_ended_sessions(db_session=session, before=cutoff)
    return {
        "job_records_deleted": jobs,
        "scheduled_runs_deleted": runs,
        "sessions_deleted": sessions,
        "rows_changed": jobs + runs + sessions,
    }


@job("requeue_unpushed", queue="default")
def requeue_job(session, config, arguments, record) -> dict:
    """The sweep: push jobs recorded while Redis was down, and jobs whose worker died."""
    pushed = requeue_unpushed(session, config)
    recovered = recover_abandoned(session, config, int(arguments.get("stale_after_seconds", 600)))
    return {"requeued": pushed, "recovered": len(recovered), "rows_changed": pushed + len(recovered)}
