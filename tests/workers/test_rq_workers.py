"""Real Redis, real RQ workers in subprocesses, a real database they can see (committed data)."""

import os
import signal
import subprocess
import sys
import time
import uuid
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
from agency.core.jobs.service import enqueue, fan_out, recover_abandoned, requeue_unpushed
from agency.demo.loader import load_demo
from agency.programmes.eligibility import recompute_eligibility
from agency.programmes.features import EngineSettings
from agency.programmes.models import EligibilityEvaluation
from tests.conftest import _create_database, _drop_database, _worker_id

pytestmark = pytest.mark.slow
AGENCY = str(Path(sys.executable).parent / "agency")
CHUNK = 400


@pytest.fixture(scope="module")
def rq_env(base_database_url, redis_url):

    name = f"agency_rq_{_worker_id()}"
    url = _create_database(base_database_url, name)
    command.upgrade(alembic_config(url), "head")
    redis.Redis.from_url(redis_url).flushdb()
    database = Database(url)
    with database.session_scope() as session:
        load_demo(db_session=session, creators=1500, days=60, seed=11)  # big enough to kill mid-job
    # Chunks of 400 creators: a recompute of the 1,500 is four chunk jobs.
    config = Config.from_env(
        {},
        password_hash_profile="cheapest",
        database_url=url,
        redis_url=redis_url,
        secret_key="x",
        log_json=False,
        recompute_chunk_size=CHUNK,
        job_retry_delays="0,0,0",
    )
    env = os.environ | {
        "DATABASE_URL": url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "x",
        "LOG_JSON": "false",
        "RECOMPUTE_CHUNK_SIZE": str(CHUNK),
        "JOB_RETRY_DELAYS": "0,0,0",  # retried at once, so that a burst worker sees every attempt
    }
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


def _chunks(database, parent_id):
    with database.session_scope() as session:
        return session.scalars(select(JobRecord).where(JobRecord.parent_id == parent_id)).all()


def _converged(database, config) -> dict:
    """What an uninterrupted in-process recompute would still change (nothing, if converged)."""
    with database.session_scope() as session:
        return recompute_eligibility(db_session=session, settings=EngineSettings.from_config(config)).as_dict()


def test_a_recompute_fans_out_to_chunk_jobs_that_workers_share(rq_env):
    database, config, env = rq_env
    with database.session_scope() as session:
        job_id = enqueue(session, config, "recompute_eligibility", {}, queue="recompute").id
    assert _wait(lambda: _status(database, job_id) is JobStatus.queued)
    # Two worker processes share the chunks.
    workers = [
        subprocess.Popen(
            [AGENCY, "worker", "--burst", "--queues", "recompute"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(2)
    ]
    for worker in workers:
        worker.wait(timeout=240)
    with database.session_scope() as session:
        record = session.get(JobRecord, job_id)
        assert record.status is JobStatus.finished, record.error
        chunks = _chunks(database, job_id)
        assert len(chunks) == 4 and {c.status for c in chunks} == {JobStatus.finished}
        assert record.progress_done == record.progress_total == 4  # chunks done / total
        assert record.result["failed_chunks"] == []
        assert session.scalar(select(func.count()).select_from(EligibilityEvaluation)) == record.result["evaluated"] > 0
    assert _converged(database, config)["inserted"] == _converged(database, config)["updated"] == 0


def test_a_chunk_that_fails_is_retried_then_parked_and_the_others_finish(rq_env):
    database, config, env = rq_env
    good = [{"first_id": first, "last_id": first + CHUNK - 1, "as_of": "2026-06-30"} for first in (1, 401, 801)]
    poisoned = {"first_id": 1201, "last_id": 1600, "as_of": "not-a-date"}
    with database.session_scope() as session:
        parent = JobRecord(
            id=str(uuid.uuid4()),
            name="recompute_eligibility",
            queue="recompute",
            status=JobStatus.started,
            arguments={},
        )
        session.add(parent)
        session.flush()
        fan_out(session, config, parent, "recompute_eligibility_chunk", [good[0], poisoned, *good[1:]])
        parent_id = parent.id
    assert _status(database, parent_id) is JobStatus.waiting
    subprocess.run(
        [AGENCY, "worker", "--burst", "--queues", "recompute"], env=env, check=False, timeout=400, capture_output=True
    )
    with database.session_scope() as session:
        record = session.get(JobRecord, parent_id)
        assert record.status is JobStatus.failed and "1 of 4 chunks failed" in record.error
        assert [f["arguments"]["first_id"] for f in record.result["failed_chunks"]] == [1201]
        assert record.result["chunks"] == 4 and record.result["evaluated"] > 0  # the others did their work
        chunks = _chunks(database, parent_id)
        assert sorted(c.status.value for c in chunks) == ["failed", "finished", "finished", "finished"]
        failed = next(c for c in chunks if c.status is JobStatus.failed)
        # Retried three times (no back-off here), then parked with its error.
        assert failed.attempts == 4 and "not-a-date" in failed.error


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


def test_a_worker_killed_mid_chunk_leaves_nothing_half_done_and_the_rerun_converges(rq_env):
    database, config, env = rq_env
    with database.session_scope() as session:
        session.execute(EligibilityEvaluation.__table__.delete())
    with database.session_scope() as session:
        job_id = enqueue(session, config, "recompute_eligibility", {}, queue="recompute").id
    # Hold a lock the chunks need, so one is reliably mid-way (started, blocked) when the worker dies.
    blocker = database.engine.connect()
    blocking = blocker.begin()
    blocker.execute(text("LOCK TABLE eligibility_evaluations IN ACCESS EXCLUSIVE MODE"))
    worker = subprocess.Popen(
        [AGENCY, "worker", "--queues", "recompute"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    connection = redis.Redis.from_url(config.redis_url)
    try:
        assert _wait(lambda: _status(database, job_id) is JobStatus.waiting)
        assert _wait(lambda: any(c.status is JobStatus.started for c in _chunks(database, job_id)))
        assert _wait(lambda: _waiting_on_lock(database))
        running = next(c for c in _chunks(database, job_id) if c.status is JobStatus.started)
        assert Job.fetch(running.id, connection=connection).get_status() == "started"
        # The worker and the forked "work horse" running the chunk, as when a node dies.
        for pid in [*_children(worker.pid), worker.pid]:
            os.kill(pid, signal.SIGKILL)
        worker.wait()
    finally:
        blocking.rollback()
        blocker.close()
    with database.session_scope() as session:
        # The chunk's work is one transaction: nothing of it was committed.
        assert session.scalar(select(func.count()).select_from(EligibilityEvaluation)) == 0
        assert session.get(JobRecord, running.id).status is JobStatus.started  # visible as started, then killed
        assert session.get(JobRecord, job_id).status is JobStatus.waiting
        assert running.id in recover_abandoned(session, config, stale_after_seconds=0)
    subprocess.run(
        [AGENCY, "worker", "--burst", "--queues", "recompute"], env=env, check=True, timeout=400, capture_output=True
    )
    with database.session_scope() as session:
        record = session.get(JobRecord, job_id)
        assert record.status is JobStatus.finished, record.error
        assert record.progress_done == record.progress_total == 4
        assert session.scalar(select(func.count()).select_from(EligibilityEvaluation)) == record.result["evaluated"] > 0
    # The same result as an uninterrupted run: an in-process recompute finds nothing to change.
    again = _converged(database, config)
    assert (again["inserted"], again["updated"], again["removed"]) == (0, 0, 0)


def test_recompute_all_with_redis_fans_out_to_the_workers_and_shows_progress(rq_env):
    database, config, env = rq_env
    with database.session_scope() as session:
        session.execute(EligibilityEvaluation.__table__.delete())
    workers = [
        subprocess.Popen(
            [AGENCY, "worker", "--queues", "recompute"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        for _ in range(2)
    ]
    try:
        done = subprocess.run(
            [AGENCY, "recompute", "all"], env=env, check=True, timeout=400, capture_output=True, text=True
        )
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=60)
    lines = done.stdout.splitlines()
    parents = {line.split(":")[0]: line.split()[-1] for line in lines if ": job " in line}
    assert set(parents) == {"recompute_eligibility", "recompute_diversification"}
    for name in parents:  # progress: chunks done / total, until the last
        assert f"  {name} finished: chunks 4/4" in lines
    with database.session_scope() as session:
        # Both were queued before either finished: the workers share the two recomputes' chunks.
        eligibility = session.get(JobRecord, parents["recompute_eligibility"])
        diversification = session.get(JobRecord, parents["recompute_diversification"])
        assert diversification.enqueued_at < eligibility.ended_at
        for name, parent_id in parents.items():
            record = session.get(JobRecord, parent_id)
            assert record.status is JobStatus.finished, record.error
            chunks = _chunks(database, parent_id)
            # The chunks ran as jobs of their own (in the workers), not in the command's process.
            assert len(chunks) == 4 and {c.status for c in chunks} == {JobStatus.finished}
            assert {c.name for c in chunks} == {f"{name}_chunk"}
        evaluated = session.get(JobRecord, parents["recompute_eligibility"]).result["evaluated"]
        assert session.scalar(select(func.count()).select_from(EligibilityEvaluation)) == evaluated > 0
    assert f"evaluated={evaluated}" in done.stdout  # the combined result, printed at the end
    again = _converged(database, config)
    assert (again["inserted"], again["updated"], again["removed"]) == (0, 0, 0)
