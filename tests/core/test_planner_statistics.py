"""Bulk writes refresh the planner statistics of what they wrote (PostgreSQL): a table never
analysed is analysed after its first bulk write, a small write into a known table is not worth
an ANALYZE, a large one is, and a column list limits the sampled columns."""

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, Text, insert, select, text

from agency.core.database import ANALYZE_MIN_ROWS, refresh_statistics
from tests.statistics import analysed_columns, assert_freshly_analysed, row_estimate

pytestmark = pytest.mark.usefixtures("db")


@pytest.fixture()
def probe(session):
    """A table created in the test's transaction: never analysed, gone after the rollback."""
    table = Table(
        "planner_probe", MetaData(), Column("id", Integer, primary_key=True), Column("kind", Text), Column("body", Text)
    )
    connection = session.connection()
    assert connection.dialect.name == "postgresql"  # this file runs on PostgreSQL (not an *_api.py file)
    table.create(connection)
    return table


def _write(connection, table, rows: int) -> int:
    start = connection.execute(select(text("coalesce(max(id), 0)")).select_from(table)).scalar_one()
    connection.execute(
        insert(table), [{"id": start + n, "kind": f"k{n % 3}", "body": "x" * 50} for n in range(1, rows + 1)]
    )
    return rows


def test_the_first_bulk_write_into_a_never_analysed_table_is_analysed(session, probe):
    connection = session.connection()
    assert row_estimate(connection, probe) == -1
    written = _write(connection, probe, 5)
    assert refresh_statistics(connection, [probe], written) == ["planner_probe"]
    assert_freshly_analysed(connection, probe)


def test_a_small_write_into_a_known_table_keeps_its_statistics_and_a_large_one_refreshes_them(session, probe):
    connection = session.connection()
    refresh_statistics(connection, [probe], _write(connection, probe, 5))
    assert row_estimate(connection, probe) == 5
    assert refresh_statistics(connection, [probe], _write(connection, probe, 5)) == []
    assert row_estimate(connection, probe) == 5  # not worth an ANALYZE
    assert refresh_statistics(connection, [probe], _write(connection, probe, ANALYZE_MIN_ROWS)) == ["planner_probe"]
    assert row_estimate(connection, probe) == 10 + ANALYZE_MIN_ROWS


def test_without_a_row_count_every_table_is_analysed(session, probe):
    connection = session.connection()
    refresh_statistics(connection, [probe], _write(connection, probe, 5))
    _write(connection, probe, 2)
    assert refresh_statistics(connection, [probe]) == ["planner_probe"]
    assert_freshly_analysed(connection, probe)


def test_a_column_list_limits_the_sampled_columns_but_the_row_count_is_refreshed(session, probe):
    connection = session.connection()
    written = _write(connection, probe, 5)
    refresh_statistics(connection, [probe], written, {"planner_probe": ["id", "kind"]})
    assert_freshly_analysed(connection, probe, columns={"id", "kind"})
    assert "body" not in analysed_columns(connection, probe)
