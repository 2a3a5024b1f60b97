"""Job functions. Each opens nothing itself: `run_job` (the RQ entry point) opens a session, calls
the service, commits; `execute_job` does the work inside a given session. Nothing else here."""
from __future__ import annotations

import time
import traceback
from datetime import date
from decimal import Decimal

import structlog
from sqlalchemy import delete

from agency.db import utcnow
from agency.models import JobRecord, JobStatus, RunStatus, ScheduledRun
from agency.metrics import JOB_SECONDS

log = structlog.get_logger(__name__)


def _refresh_all(session, config, arguments, record) -> dict:
    """The hourly refresh: eligibility, diversification, then alerts (and immediate emails)."""
    eligibility = recompute_eligibility_job(session, config, arguments, record)
    diversification = recompute_diversification_job(session, config, arguments, record)
    alerts = evaluate_alerts_job(session, config, arguments, record)
    return {"eligibility": eligibility, "diversification": diversification, "alerts": alerts,
            "rows_changed": eligibility["inserted"] + eligibility["updated"] + diversification["written"]
            + alerts["opened"] + alerts["resolved"]}


def recompute_eligibility_job(session, config, arguments, record) -> dict:
    from agency.services.eligibility import recompute_eligibility

    as_of = date.fromisoformat(arguments["as_of"]) if arguments.get("as_of") else None
    return recompute_eligibility(db_session=session, creator_ids=arguments.get("creator_ids"), as_of=as_of,
                                 margin=Decimal(config.near_threshold_margin),
                                 progress=progress_reporter(session, record)).as_dict()


def progress_reporter(session, record):
    """The callback execute_job attached to the record: records (done, total)."""
    return getattr(record, "report_progress", None) if record is not None else None


def recompute_diversification_job(session, config, arguments, record) -> dict:
    from agency.services.diversification import RiskThresholds, recompute_diversification

    return recompute_diversification(db_session=session, base_currency=config.base_currency,
                                     window_days=config.diversification_window_days,
                                     thresholds=RiskThresholds.from_config(config),
                                     creator_ids=arguments.get("creator_ids")).as_dict()


def evaluate_alerts_job(session, config, arguments, record) -> dict:
    from agency.services.alerts import AlertSettings, evaluate_alerts
    from agency.services.notifications import queue_immediate

    settings = AlertSettings(today=utcnow().date(), hhi_high=Decimal(config.risk_hhi_high),
                             platform_high=Decimal(config.risk_platform_high))
    result = evaluate_alerts(db_session=session, settings=settings)
    emails = queue_immediate(db_session=session, alert_ids=result.opened_ids, public_url=config.public_url)
    return result.as_dict() | {"immediate_emails": emails, "rows_changed": result.opened + result.resolved}


def queue_digests_job(session, config, arguments, record) -> dict:
    from agency.services.notifications import queue_due_digests

    queued = queue_due_digests(db_session=session, now=utcnow(), public_url=config.public_url,
                               force=bool(arguments.get("force")))
    return {"digests_queued": queued, "rows_changed": queued}


def send_emails_job(session, config, arguments, record) -> dict:
    from workers.mailer import send_pending

    # The sender commits per message (attempt first, then sent), so it uses its own sessions.
    return send_pending(session.get_bind(), config)


def cleanup_job(session, config, arguments, record) -> dict:
    """Forget finished job records and scheduled runs older than `days` (default 30)."""
    from datetime import timedelta

    cutoff = utcnow() - timedelta(days=int(arguments.get("days", 30)))
    jobs = session.execute(delete(JobRecord).where(JobRecord.status.in_([JobStatus.finished, JobStatus.failed]),
                                                   JobRecord.enqueued_at < cutoff)).rowcount
    runs = session.execute(delete(ScheduledRun).where(ScheduledRun.started_at < cutoff)).rowcount
    return {"job_records_deleted": jobs, "scheduled_runs_deleted": runs, "rows_changed": jobs + runs}


def requeue_job(session, config, arguments, record) -> dict:
    """The sweep: push jobs recorded while Redis was down, and jobs whose worker died."""
    from workers.queues import recover_abandoned, requeue_unpushed

    pushed = requeue_unpushed(session, config)
    recovered = recover_abandoned(session, config, int(arguments.get("stale_after_seconds", 600)))
    return {"requeued": pushed, "recovered": len(recovered), "rows_changed": pushed + len(recovered)}


JOBS = {
    "refresh_all": _refresh_all,
    "recompute_eligibility": recompute_eligibility_job,
    "recompute_diversification": recompute_diversification_job,
    "evaluate_alerts": evaluate_alerts_job,
    "queue_digests": queue_digests_job,
    "send_emails": send_emails_job,
    "cleanup": cleanup_job,
    "requeue_unpushed": requeue_job,
}


def execute_job(session, config, record: JobRecord, *, mark_started: bool = True, progress_engine=None) -> JobRecord:
    """Run a recorded job inside `session` and record its outcome (the caller commits).

    `run_job` marks the job started in a transaction of its own and passes `progress_engine`:
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
    run = session.get(ScheduledRun, record.arguments.get("scheduled_run_id")) if record.arguments.get(
        "scheduled_run_id") else None
    try:
        with session.begin_nested():
            result = JOBS[record.name](session, config, record.arguments, record)
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


def run_job(job_id: str) -> dict | None:
    """RQ entry point: open a session, run the recorded job, commit. A rerun after a crash is safe:
    every job converges (recomputes write only changes; emails carry stable Message-IDs)."""
    from agency.config import Config

    config = Config.from_env()
    database = _database(config)
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
        with database.session_scope() as session:  # keep the failure visible after the rollback
            record = session.get(JobRecord, job_id)
            if record is not None:
                record.status, record.ended_at = JobStatus.failed, utcnow()
                record.error = traceback.format_exc()[-4000:]
        raise


_DATABASES: dict[str, object] = {}


def _database(config):
    from agency.db import Database

    if config.database_url not in _DATABASES:
        _DATABASES[config.database_url] = Database(config.database_url)
    return _DATABASES[config.database_url]
