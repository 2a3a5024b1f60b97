"""Monthly partitions of the metric snapshots (PostgreSQL): created ahead, fed from the default
partition, read with pruning, detached for retention."""

from datetime import date

import pytest
from sqlalchemy import func, insert, select, text

from agency.metrics.models import MetricSnapshot
from agency.metrics.partitions import detach_before, ensure_partitions, is_partitioned, list_partitions

pytestmark = pytest.mark.usefixtures("db")


@pytest.fixture()
def postgres(session):
    assert is_partitioned(session.connection())  # this file runs on PostgreSQL (not an *_api.py file)
    return session


def _names(session):
    return [p.name for p in list_partitions(session.connection())]


def test_the_coming_months_get_their_partitions_ahead_of_time(postgres):
    session = postgres
    result = ensure_partitions(session.connection(), date(2031, 11, 15), months_ahead=3)
    names = _names(session)
    assert {
        "metric_snapshots_2031_11",
        "metric_snapshots_2031_12",
        "metric_snapshots_2032_01",
        "metric_snapshots_2032_02",
    } <= set(names)
    assert names[-1] == "metric_snapshots_default"
    assert ensure_partitions(session.connection(), date(2031, 11, 15), months_ahead=3)["created"] == []
    assert len(result["created"]) == 4


def test_old_history_waits_in_the_default_partition_then_gets_a_month_of_its_own(postgres, make_creator):
    session = postgres
    account = make_creator().accounts[0]
    session.execute(
        insert(MetricSnapshot),
        [{"account_id": account.id, "day": date(2011, 3, d), "followers": d} for d in (1, 15, 31)],
    )
    session.flush()
    in_default = session.scalar(text("SELECT count(*) FROM metric_snapshots_default WHERE day < '2012-01-01'"))
    assert in_default == 3
    result = ensure_partitions(session.connection(), date(2031, 11, 15), months_ahead=0)
    assert "metric_snapshots_2011_03" in result["created"] and result["moved_rows"] == 3
    assert session.scalar(text("SELECT count(*) FROM metric_snapshots_2011_03")) == 3
    assert session.scalar(text("SELECT count(*) FROM metric_snapshots_default WHERE day < '2012-01-01'")) == 0
    # Still one table to every query, and the (account, day) key still holds across partitions.
    assert (
        session.scalar(select(func.sum(MetricSnapshot.followers)).where(MetricSnapshot.account_id == account.id)) == 47
    )


def test_a_window_of_days_reads_only_its_months(postgres):
    session = postgres
    ensure_partitions(session.connection(), date(2031, 11, 15), months_ahead=1)
    plan = "\n".join(
        session.execute(
            text("EXPLAIN SELECT sum(views) FROM metric_snapshots WHERE day BETWEEN '2031-11-02' AND '2031-11-30'")
        ).scalars()
    )
    assert "metric_snapshots_2031_11" in plan and "metric_snapshots_2031_12" not in plan
    assert "metric_snapshots_default" not in plan


def test_old_months_are_detached_for_retention_and_stay_as_tables(postgres, make_creator):
    session = postgres
    account = make_creator().accounts[0]
    session.execute(insert(MetricSnapshot), [{"account_id": account.id, "day": date(2012, 5, 4), "followers": 9}])
    ensure_partitions(session.connection(), date(2031, 11, 15), months_ahead=0)
    detached = detach_before(session.connection(), date(2012, 6, 1))
    assert "metric_snapshots_2012_05" in detached
    assert "metric_snapshots_2012_05" not in _names(session)
    assert session.scalar(select(func.count()).where(MetricSnapshot.day == date(2012, 5, 4))) == 0
    assert session.scalar(text("SELECT count(*) FROM metric_snapshots_2012_05")) == 1
