"""Real Redis, real RQ workers in subprocesses, a real database they can see (committed data)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from alembic import command
from rq.job import Job
from sqlalchemy import func, select, text

from agency.core.cli import alembic_config
from agency.core.config import Config
from agency.core.database import Database
from agency.core.jobs.models import JobRecord, JobStatus
from agency.core.jobs.service import enqueue, recover_abandoned, requeue_unpushed
from agency.demo.loader import load_demo
from agency.programmes.models import EligibilityEvaluation
from tests.conftest import _create_database, _drop_database, _worker_id

pytestmark = pytest.mark.slow
AGENCY = str(Path(sys.executable).parent / "agency")


@pytest.fixture(scope="module")
def rq_env(base_database_url, redis_url):

    name = f"agency_rq_{_worker_id()}"
    url = _create_database(base_database_url, name)
    command.upgrade(alembic_config(url), "head")
    redis.Redis.from_url(redis_url).flushdb()
    database = Database(url)
    with database.session_scope() as session:
        load_demo(db_session=session, creators=1500, days=60, seed=11)  # big enough to kill mid-job
    config = Config.from_env(
        {}, password_hash_profile="cheapest", database_url=url, redis_url=redis_url, secret_key="x", log_json=False
    )
    env = os.environ | {"DATABASE_URL": url, "REDIS_URL": redis_url, "SECRET_KEY": "x", "LOG_JSON": "false"}
    yield database, config, env
    database.dispose()
    redis.Redis.from_url(redis_url).flushdb()
    _drop_database(base_database_url, name)


def _wait(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _waiting_on_lock(database) -> bool:
    with database.engine.connect() as conn:
        return bool(
            conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()"
                )
            )
        )


def _status(database, job_id):
    with database.session_scope() as session:
        return session.get(JobRecord, job_id).status


def test_a_worker_runs_a_queued_job(rq_env):
    database, config, env = rq_env
    with database.session_scope() as session:
        job_id = enqueue(session, config, "recompute_eligibility", {}, queue="recompute").id
    assert _wait(lambda: _status(database, job_id) is JobStatus.queued)
    with database.session_scope() as session:
        assert session.get(JobRecord, job_id).in_redis is True
    subprocess.run(
        [AGENCY, "worker", "--burst", "--queues", "recompute"], env=env, check=True, timeout=120, capture_output=True
    )
    with database.session_scope() as session:
        record = session.get(JobRecord, job_id)
        assert record.status is JobStatus.finished and record.result["evaluated"] > 0
        assert record.progress_done == record.progress_total > 0  # rule versions evaluated / in force
        assert session.scalar(select(func.count(EligibilityEvaluation.id))) == record.result["evaluated"]


def test_jobs_recorded_while_redis_is_down_are_pushed_when_it_returns(rq_env):
    database, config, env = rq_env
    down = Config.from_env(
        {},
        password_hash_profile="cheapest",
        database_url=config.database_url,
        redis_url="redis://127.0.0.1:1/0",
        secret_key="x",
    )
    with database.session_scope() as session:
        job_id = enqueue(session, down, "recompute_diversification", {}, queue="recompute").id
    with database.session_scope() as session:
        record = session.get(JobRecord, job_id)
        assert record.status is JobStatus.queued and record.in_redis is False  # recorded, not lost
        assert requeue_unpushed(session, config) == 1
    subprocess.run(
        [AGENCY, "worker", "--burst", "--queues", "recompute"], env=env, check=True, timeout=120, capture_output=True
    )
    assert _status(database, job_id) is JobStatus.finished


def test_a_worker_killed_mid_job_leaves_nothing_half_done_and_the_rerun_converges(rq_env):
    database, config, env = rq_env
    with database.session_scope() as session:
        before = session.scalar(select(func.count(EligibilityEvaluation.id)))
        session.execute(EligibilityEvaluation.__table__.delete())
    with database.session_scope() as session:
        job_id = enqueue(session, config, "refresh_all", {}, queue="recompute").id
    # Hold a lock the job needs, so it is reliably mid-way (started, blocked) when the worker dies.
    blocker = database.engine.connect()
    blocking = blocker.begin()
    blocker.execute(text("LOCK TABLE eligibility_evaluations IN ACCESS EXCLUSIVE MODE"))
    worker = subprocess.Popen(
        [AGENCY, "worker", "--queues", "recompute"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    connection = redis.Redis.from_url(config.redis_url)
    try:
        assert _wait(lambda: Job.fetch(job_id, connection=connection).get_status() == "started")
        assert _wait(lambda: _waiting_on_lock(database))
        # The worker and the forked "work horse" running the job (RQ gives it its own session),
        # as when a node dies.
        for pid in [*_children(worker.pid), worker.pid]:
            os.kill(pid, signal.SIGKILL)
        worker.wait()
    finally:
        blocking.rollback()
        blocker.close()
    with database.session_scope() as session:
        # The job's work is one transaction: nothing of it was committed.
        assert session.scalar(select(func.count(EligibilityEvaluation.id))) == 0
        assert session.get(JobRecord, job_id).status is JobStatus.started  # visible as started, then killed
        assert recover_abandoned(session, config, stale_after_seconds=0) == [job_id]
    subprocess.run(
        [AGENCY, "worker", "--burst", "--queues", "recompute"], env=env, check=True, timeout=180, capture_output=True
    )
    with database.session_scope() as session:
        record = session.get(JobRecord, job_id)
        assert record.status is JobStatus.finished, record.error
        assert session.scalar(select(func.count(EligibilityEvaluation.id))) == before
