"""Revenue imports and diversification recomputes refresh the planner statistics of the rows they
wrote (PostgreSQL): the first bulk write into a new database is followed by an ANALYZE."""

import io
from datetime import date

import pytest

from agency.money.diversification import PLANNED_COLUMNS, MixSettings, recompute_diversification
from agency.money.models import DiversificationSnapshot, RevenueRecord
from agency.money.revenue import import_revenue
from tests.money.test_diversification_api import _income
from tests.statistics import analysed_columns, assert_freshly_analysed, forget_statistics

pytestmark = pytest.mark.usefixtures("db")
RECORDS = RevenueRecord.__table__
SNAPSHOTS = DiversificationSnapshot.__table__
TODAY = date(2026, 2, 1)


def test_the_first_revenue_import_analyses_the_records_it_wrote(session, manager, make_creator):
    creator = make_creator(manager=manager)
    connection = session.connection()
    forget_statistics(connection, RECORDS)
    body = "creator_id,date,source,platform,amount,currency,external_ref\n" + "".join(
        f"{creator.id},2026-01-{day:02d},merch,,{day}.00,EUR,stats-{day}\n" for day in range(1, 6)
    )
    report = import_revenue(db_session=session, stream=io.BytesIO(body.encode()), fmt="csv", today=TODAY)
    assert report.inserted == 5, report.as_dict()
    assert_freshly_analysed(connection, RECORDS)


def test_the_first_diversification_recompute_analyses_the_snapshots_it_wrote(session, manager, make_creator):
    creators = [make_creator(manager=manager) for _ in range(3)]
    for creator in creators:
        _income(session, creator, ("merch", None, "100.00"), ("creator_rewards", "tiktok", "100.00"), today=TODAY)
    connection = session.connection()
    forget_statistics(connection, SNAPSHOTS)
    result = recompute_diversification(
        db_session=session, settings=MixSettings(base_currency="EUR"), as_of=TODAY, creator_ids=[c.id for c in creators]
    )
    assert result.written == 3
    assert_freshly_analysed(connection, SNAPSHOTS, PLANNED_COLUMNS)
    # The documents and texts nobody filters on are left out: sampling them costs the most.
    assert {"by_source", "by_platform", "suggestion", "digest"}.isdisjoint(analysed_columns(connection, SNAPSHOTS))
