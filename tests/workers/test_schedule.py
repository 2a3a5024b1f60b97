import threading
from datetime import UTC, datetime, time

from sqlalchemy import create_engine, select, text

from agency.core.database import Database
from agency.core.jobs.models import JobRecord, JobStatus, ScheduledRun
from agency.core.jobs.service import JOBS
from workers.scheduler import SCHEDULE, Periodic, run_due


def test_periods():
    hourly = Periodic("x", "cleanup", "default", every_minutes=60)
    quarter = Periodic("x", "cleanup", "default", every_minutes=15)
    daily = Periodic("x", "cleanup", "default", daily_at=time(3, 0))
    now = datetime(2026, 11, 25, 14, 47, tzinfo=UTC)
    assert hourly.period(now) == "2026-11-25T14:00"
    assert quarter.period(now) == "2026-11-25T14:45"
    assert daily.period(now) == "2026-11-25"
    assert daily.period(datetime(2026, 11, 25, 2, 59, tzinfo=UTC)) == "2026-11-24"
    half_past = Periodic("x", "cleanup", "default", every_minutes=60, offset_minutes=30)
    assert half_past.period(now) == "2026-11-25T14:30"
    assert half_past.period(datetime(2026, 11, 25, 14, 29, tzinfo=UTC)) == "2026-11-25T13:30"
    assert half_past.period(datetime(2026, 11, 25, 0, 10, tzinfo=UTC)) == "2026-11-24T23:30"


def test_the_hourly_refresh_runs_its_stages_as_separate_jobs_alerts_after_the_recomputes():
    by_name = {p.name: p for p in SCHEDULE}
    assert {
        "refresh_eligibility",
        "refresh_diversification",
        "refresh_alerts",
        "digests",
        "send_emails",
        "cleanup",
        "stale_metrics_check",
    } <= set(by_name)
    assert by_name["refresh_eligibility"].job == "recompute_eligibility"
    assert by_name["refresh_diversification"].job == "recompute_diversification"
    assert by_name["refresh_alerts"].job == "evaluate_alerts"
    assert by_name["refresh_alerts"].offset_minutes > by_name["refresh_eligibility"].offset_minutes


def test_each_period_runs_once_and_is_recorded(app, db, session):
    config = app.config["AGENCY"]
    schedule = (Periodic("cleanup", "cleanup", "default", daily_at=time(3, 0)),)
    now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    assert run_due(db, config, now, schedule) == ["cleanup"]
    assert run_due(db, config, now, schedule) == []  # same period: nothing
    run = session.scalars(select(ScheduledRun)).one()
    assert run.period == "2026-11-25" and run.status.value == "succeeded" and run.duration_ms is not None
    job = session.get(JobRecord, run.job_id)
    assert job.status is JobStatus.finished and "job_records_deleted" in job.result
    # After downtime the missed period runs once, at the next start.
    later = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    assert run_due(db, config, later, schedule) == ["cleanup"]
    assert run_due(db, config, later, schedule) == []


def test_two_schedulers_at_once_run_each_period_once(app, database_url):
    """Real concurrency: two schedulers with their own connections race for the same periods."""
    config = app.config["AGENCY"]
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM scheduled_runs WHERE job_name = 'race'"))
    schedule = (Periodic("race", "cleanup", "default", every_minutes=5),)
    databases = [Database(database_url), Database(database_url)]
    barrier = threading.Barrier(2)
    started: list[list[str]] = [[], []]

    def scheduler(index):
        for minute in range(0, 30, 1):
            now = datetime(2026, 11, 25, 10, minute, tzinfo=UTC)
            barrier.wait()
            started[index].extend(run_due(databases[index], config, now, schedule))

    threads = [threading.Thread(target=scheduler, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with engine.begin() as conn:
        runs = conn.execute(select(ScheduledRun.period).where(ScheduledRun.job_name == "race")).scalars().all()
        conn.execute(
            text("DELETE FROM job_records WHERE id IN (SELECT job_id FROM scheduled_runs WHERE job_name = 'race')")
        )
        conn.execute(text("DELETE FROM scheduled_runs WHERE job_name = 'race'"))
    assert len(runs) == len(set(runs)) == 6  # 10:00, 10:05 ... 10:25, once each
    assert len(started[0]) + len(started[1]) == 6
    for database in databases:
        database.dispose()
    engine.dispose()


def test_every_scheduled_job_is_registered_on_its_queue():
    # Job functions live with their domain and register by name; the schedule names them as data.
    for periodic in SCHEDULE:
        assert periodic.job in JOBS, periodic.job
        assert JOBS[periodic.job].queue == periodic.queue, periodic.job
