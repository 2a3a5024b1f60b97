"""Loading the demo agency refreshes the planner statistics of every table it filled (PostgreSQL):
the first pages of a new demo are planned with the tables' real sizes."""

import pytest

from agency.core.database import Base
from agency.demo.loader import load_demo
from tests.statistics import assert_freshly_analysed, forget_statistics, row_count, row_estimate

pytestmark = pytest.mark.usefixtures("db")


def test_the_demo_load_analyses_every_table_it_filled(session):
    connection = session.connection()
    tables = Base.metadata.sorted_tables
    forget_statistics(connection, *tables)
    load_demo(db_session=session, creators=6, days=15, seed=3, reset=True)
    session.flush()
    filled = [table for table in tables if row_count(connection, table)]
    assert {"creators", "platform_accounts", "metric_snapshots", "deals", "revenue_records"} <= {t.name for t in filled}
    for table in filled:
        assert_freshly_analysed(connection, table)
    # Empty tables were analysed too: the planner knows they are empty rather than guessing.
    assert all(row_estimate(connection, table) == 0 for table in tables if table not in filled)
