# ruff: noqa: F811  (the programmes fixtures are imported, then requested by name)
"""One bad item never stops a batch: a failure planted for one creator (or manager) in each batch
is recorded against that item, visible in the job's API answer, the jobs page and `agency jobs
status`, and every other item is done.

The failure is planted with a PostgreSQL trigger that refuses the bad item's row, so the real
statements of the batch fail as they would on bad data."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select, text

from agency.alerts.models import Alert, OutboxMessage
from agency.alerts.service import AlertSettings, evaluate_alerts
from agency.core.jobs.models import JobRecord, JobStatus
from agency.core.jobs.service import enqueue
from agency.money.models import DiversificationSnapshot
from agency.programmes.freshness import request_refresh
from agency.programmes.models import EligibilityEvaluation
from tests.alerts.test_alerts import _overdue_deliverable
from tests.factories import PASSWORD
from tests.money.test_diversification_api import _income
from tests.programmes.conftest import TODAY, add_days, fund  # noqa: F401  (fixtures)


@pytest.fixture()
def plant_failure(session):
    if session.get_bind().dialect.name != "postgresql":
        pytest.fail("these tests plant failures with PostgreSQL triggers")

    def _plant(table: str, column: str, value: int) -> None:
        session.execute(
            text(
                f"CREATE FUNCTION planted_{table}() RETURNS trigger AS $$ BEGIN "
                f"IF NEW.{column} = {int(value)} THEN RAISE EXCEPTION 'planted failure for {column} %', NEW.{column}; "
                "END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
            )
        )
        session.execute(
            text(
                f"CREATE TRIGGER planted_{table} BEFORE INSERT OR UPDATE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION planted_{table}()"
            )
        )
        session.commit()

    return _plant


@pytest.fixture()
def small_chunks(app):
    config = app.config["AGENCY"]
    saved = config.recompute_chunk_size
    config.recompute_chunk_size = 4
    yield config
    config.recompute_chunk_size = saved


def _job(session, config, name, arguments=None) -> JobRecord:
    record = enqueue(session, config, name, arguments or {})
    session.commit()
    return session.get(JobRecord, record.id)


def _visible_everywhere(app, client, session, admin, record, item: str) -> None:
    """The failed item is named in the API's job, on the jobs page and by `agency jobs status`."""
    token = client.post("/api/v1/auth/tokens", json={"email": admin.email, "password": PASSWORD}).json["token"]
    job = client.get(f"/api/v1/jobs/{record.id}", headers={"Authorization": f"Bearer {token}"}).json
    assert item in job["error"] and job["status"] == "finished"
    assert any(
        item == f"creator_id={f.get('creator_id')}" or item == f"user_id={f.get('user_id')}"
        for f in job["result"]["failed_items"]
    )
    csrf_page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', csrf_page).group(1)
    client.post("/login", data={"email": admin.email, "password": PASSWORD, "csrf_token": csrf})
    page = client.get("/admin/jobs").get_data(as_text=True)
    assert item in page
    status = app.test_cli_runner().invoke(args=["jobs", "status"])
    assert status.exit_code == 0 and f"partly failed {record.id}" in status.output and item in status.output


def test_eligibility_one_failing_creator_among_good_ones(
    app,
    client,
    session,
    admin,
    fund,
    make_creator,
    add_days,
    plant_failure,
    small_chunks,
):
    creators = [make_creator(date_of_birth=TODAY.replace(year=1990)) for _ in range(7)]
    for creator in creators:
        add_days(creator.accounts[0], start_followers=2000, per_day=5)
    bad = creators[2]
    plant_failure("eligibility_evaluations", "creator_id", bad.id)
    record = _job(session, small_chunks, "recompute_eligibility", {"as_of": TODAY.isoformat()})
    evaluated = set(session.scalars(select(EligibilityEvaluation.creator_id)))
    assert evaluated == {c.id for c in creators} - {bad.id}  # every good creator, even in the bad one's chunk
    assert [f["creator_id"] for f in record.result["failed_items"]] == [bad.id]
    assert "planted failure" in record.result["failed_items"][0]["error"]
    _visible_everywhere(app, client, session, admin, record, f"creator_id={bad.id}")


def test_diversification_one_failing_creator_among_good_ones(
    app, client, session, admin, make_creator, plant_failure, small_chunks
):
    creators = [make_creator() for _ in range(6)]
    for creator in creators:
        _income(session, creator, ("merch", None, "800.00"), ("creator_rewards", "tiktok", "200.00"))
    bad = creators[4]
    plant_failure("diversification_snapshots", "creator_id", bad.id)
    record = _job(session, small_chunks, "recompute_diversification")
    analysed = set(session.scalars(select(DiversificationSnapshot.creator_id)))
    assert analysed == {c.id for c in creators} - {bad.id}
    assert [f["creator_id"] for f in record.result["failed_items"]] == [bad.id]
    _visible_everywhere(app, client, session, admin, record, f"creator_id={bad.id}")


def test_alert_evaluation_one_failing_creator_among_good_ones(
    app, client, session, admin, manager, make_creator, plant_failure, small_chunks
):
    creators = [make_creator(manager=manager, status="paused") for _ in range(5)]
    for creator in creators:
        _overdue_deliverable(session, creator)
    bad = creators[1]
    plant_failure("alerts", "creator_id", bad.id)
    record = _job(session, small_chunks, "evaluate_alerts")
    alerted = set(session.scalars(select(Alert.creator_id)))
    assert alerted == {c.id for c in creators} - {bad.id}
    assert [f["creator_id"] for f in record.result["failed_items"]] == [bad.id]
    assert record.result["opened"] == 4
    _visible_everywhere(app, client, session, admin, record, f"creator_id={bad.id}")


def test_digests_one_failing_manager_among_good_ones(
    app, client, session, admin, make_user, make_creator, plant_failure
):
    managers = [make_user("manager") for _ in range(4)]
    for manager in managers:
        _overdue_deliverable(session, make_creator(manager=manager, status="paused"))
    evaluate_alerts(db_session=session, settings=AlertSettings(today=date.today()))  # no immediate emails
    session.commit()
    bad = managers[0]
    plant_failure("email_outbox", "user_id", bad.id)
    record = _job(session, app.config["AGENCY"], "queue_digests", {"force": True})
    mailed = set(session.scalars(select(OutboxMessage.user_id)))
    assert mailed == {m.id for m in managers[1:]}
    assert record.result["digests_queued"] == 3
    assert [f["user_id"] for f in record.result["failed_items"]] == [bad.id]
    # The bad manager's alerts are still waiting for a digest (nothing marked as mailed).
    waiting = session.scalar(select(func.count()).select_from(Alert).where(Alert.notified_at.is_(None)))
    assert waiting == 1
    _visible_everywhere(app, client, session, admin, record, f"user_id={bad.id}")


def test_refresh_after_writes_one_failing_creator_among_good_ones(
    session,
    fund,
    make_creator,
    add_days,
    plant_failure,
    app,
):
    creators = [make_creator(date_of_birth=TODAY.replace(year=1990)) for _ in range(5)]
    for creator in creators:
        add_days(creator.accounts[0], start_followers=2000, per_day=5)
    bad = creators[3]
    plant_failure("eligibility_evaluations", "creator_id", bad.id)
    request_refresh(db_session=session, creator_ids=[c.id for c in creators])
    session.commit()
    record = _job(session, app.config["AGENCY"], "refresh_requested_evaluations")
    assert record.status is JobStatus.finished
    assert [f["creator_id"] for f in record.result["failed_items"]] == [bad.id]
    assert set(session.scalars(select(EligibilityEvaluation.creator_id))) == {c.id for c in creators} - {bad.id}
