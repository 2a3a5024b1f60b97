"""A metrics import refreshes the planner statistics of the snapshots it wrote (PostgreSQL): the
first import into a new database is planned with the real size of the table, not a guess."""

import io
from datetime import date

import pytest

from agency.metrics.models import MetricSnapshot
from agency.metrics.service import import_metrics
from tests.statistics import assert_freshly_analysed, forget_statistics, row_estimate

pytestmark = pytest.mark.usefixtures("db")
SNAPSHOTS = MetricSnapshot.__table__


def test_the_first_metrics_import_analyses_the_snapshots_it_wrote(session, manager, make_creator):
    handle = make_creator(manager=manager).accounts[0].handle
    connection = session.connection()
    forget_statistics(connection, SNAPSHOTS)
    body = "platform,handle,day,followers,views,likes\n" + "".join(
        f"tiktok,{handle},2026-01-{day:02d},{100 + day},10,1\n" for day in range(1, 6)
    )
    report = import_metrics(db_session=session, stream=io.BytesIO(body.encode()), fmt="csv", today=date(2026, 2, 1))
    assert report.inserted == 5
    assert_freshly_analysed(connection, SNAPSHOTS)
    assert row_estimate(connection, SNAPSHOTS) == 5
