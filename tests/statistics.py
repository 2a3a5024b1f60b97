"""Planner statistics as PostgreSQL keeps them, for tests of the bulk writes that refresh them.

ANALYZE writes a table's row estimate (`pg_class.reltuples`) in place, outside any transaction:
an analysis run by an earlier test survives that test's rollback. `forget_statistics` puts a
table back as a freshly migrated database has it (never analysed: no estimate, no column
statistics), inside the test's transaction, so it is rolled back with the test too."""

from __future__ import annotations

from sqlalchemy import text


def _name(table) -> str:
    return getattr(table, "name", table)


def forget_statistics(connection, *tables) -> None:
    """Make tables look never analysed: reltuples -1 (PostgreSQL 14+) and no pg_statistic rows."""
    for table in tables:
        oid = {"name": _name(table)}
        connection.execute(text("UPDATE pg_class SET reltuples = -1 WHERE oid = to_regclass(:name)"), oid)
        connection.execute(text("DELETE FROM pg_statistic WHERE starelid = to_regclass(:name)"), oid)
        assert row_estimate(connection, table) == -1 and analysed_columns(connection, table) == set()


def row_estimate(connection, table) -> float:
    """The planner's row count of a table: -1 until ANALYZE (or VACUUM) has seen it."""
    return connection.execute(
        text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:name)"), {"name": _name(table)}
    ).scalar_one()


def row_count(connection, table) -> int:
    return connection.execute(text(f'SELECT count(*) FROM "{_name(table)}"')).scalar_one()


def analysed_columns(connection, table) -> set[str]:
    """The columns that have planner statistics (pg_stats is transactional, unlike reltuples)."""
    return set(
        connection.execute(
            text("SELECT attname FROM pg_stats WHERE schemaname = current_schema() AND tablename = :name"),
            {"name": _name(table)},
        ).scalars()
    )


def assert_freshly_analysed(connection, table, columns=None) -> None:
    """The table's estimate is its real row count and its columns (or just `columns`) have
    statistics: what an ANALYZE run after the write leaves, and nothing else does."""
    count = row_count(connection, table)
    assert count > 0, f"{_name(table)} was not written"
    assert row_estimate(connection, table) == count, f"{_name(table)} was not analysed after the write"
    if columns is None:
        columns = {c.name for c in table.columns}
    assert set(columns) <= analysed_columns(connection, table)
