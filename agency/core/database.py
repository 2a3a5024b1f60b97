"""Engine, session factory and the declarative base.

The web app opens one session per request (`get_session()`); the request wrapper commits it
when the response is a success and rolls it back otherwise, so views and services never commit.
Jobs and CLI commands use `Database.session_scope()` which does the same around a block.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import orjson
from sqlalchemy import JSON, DateTime, Enum, MetaData, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.schema import SchemaItem
from sqlalchemy.types import TypeDecorator

from agency.core.errors import Conflict

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """A timezone-aware timestamp stored as UTC (`timestamptz` on PostgreSQL). SQLite has no
    time zones, so values read back from it are marked UTC here."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given; use an aware UTC datetime")
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


# JSON documents compared in SQL: JSONB on PostgreSQL (it has equality), JSON text on SQLite.
JSONDocument = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


def str_enum(cls, name: str) -> Enum:
    """A Python enum stored as a short string with a CHECK constraint (portable, and adding a
    value is a small migration rather than an ALTER TYPE)."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        length=24,
        create_constraint=True,
        values_callable=lambda members: [m.value for m in members],
    )


def utcnow() -> datetime:
    return datetime.now(UTC)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # pragma: no cover - exercised via sqlite runs
        # Let SQLAlchemy manage transactions (pysqlite's own handling breaks SAVEPOINT).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # pragma: no cover - exercised via sqlite runs
        conn.exec_driver_sql("BEGIN")


def make_engine(url: str, **kwargs) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    # A connection the server closed (restart, killed backend) is replaced when taken from the pool.
    kwargs.setdefault("pool_pre_ping", True)
    # JSON columns (documents, a roster page's account lists) parsed by orjson: about five times
    # faster than the standard library for the same values.
    kwargs.setdefault("json_deserializer", orjson.loads)
    # Every statement is planned for the values it is run with: psycopg would otherwise prepare a
    # statement run five times on a connection, and PostgreSQL may then settle on one generic plan
    # for every later run, which estimates a batch chunk's range of creator ids without its bounds
    # (at one row: at 100,000 creators an alert evaluation's anti-join became a nested loop that
    # took 16 s per chunk instead of milliseconds). Planning each run costs little beside a batch
    # statement, and a web request's statements are small.
    kwargs.setdefault("connect_args", {"prepare_threshold": None})
    return create_engine(url, **kwargs)


def is_unique_violation(exc: IntegrityError) -> bool:
    """Whether the database refused a write because a unique constraint holds the same key."""
    return getattr(exc.orig, "sqlstate", None) == "23505" or "UNIQUE constraint failed" in str(exc.orig)


def add_unique(db_session: Session, instance, conflict: Conflict) -> None:
    """Add and insert `instance`, whose unique key was checked free just before: when another
    transaction took that key in the meantime (two requests at once), raise `conflict` (a 409
    saying which key) and leave the session usable, its earlier work in place.

    What the session already holds is flushed first, outside the savepoint (SQLAlchemy flushes
    pending objects when a savepoint begins), so only this insert is undone when it loses."""
    db_session.flush()
    try:
        with db_session.begin_nested():
            db_session.add(instance)
    except IntegrityError as exc:
        if not is_unique_violation(exc):
            raise
        raise conflict from exc


class Database:
    """Holds the engine and the session factory for one configured database."""

    def __init__(self, url: str, **engine_kwargs) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.session_factory = sessionmaker(bind=self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def bind_to(self, connection) -> None:
        """Tests: make every session join an outer transaction on `connection` and use
        savepoints for its own commits, so the test can roll everything back."""
        self.session_factory = sessionmaker(
            bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )

    @contextmanager
    def session_scope(self) -> Iterator[Session]:
        session = self.session_factory()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()


def conflict_insert(dialect_name: str, table):
    """An INSERT into `table` that can say ON CONFLICT: PostgreSQL's or SQLite's, by the name of
    the dialect the statement will run on (the two databases the product runs on)."""
    return (postgresql.insert if dialect_name == "postgresql" else sqlite.insert)(table)


def bulk_insert(connection, table, rows: list[dict]) -> None:
    """Insert many rows at once: COPY on PostgreSQL (an order of magnitude faster than executemany
    for large batches), a Core executemany elsewhere. Missing keys take the column's default."""
    if not rows:
        return
    if connection.dialect.name != "postgresql":
        connection.execute(table.insert(), rows)
        return

    names = list(rows[0])
    json_columns = {name for name in names if isinstance(table.c[name].type, JSON)}
    cursor = connection.connection.driver_connection.cursor()
    with cursor.copy(f'COPY "{table.name}" ({", ".join(names)}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(
                [
                    json.dumps(row[n])
                    if n in json_columns
                    else row[n].value
                    if isinstance(row[n], enum.Enum)
                    else row[n]
                    for n in names
                ]
            )


# A bulk write at least this large (or this share of the table) refreshes the table's statistics.
ANALYZE_MIN_ROWS = 1000
ANALYZE_MIN_SHARE = 0.1


def refresh_statistics(
    connection, tables, rows_written: int | None = None, columns: dict[str, Sequence[str]] | None = None
) -> list[str]:
    """ANALYZE tables a bulk write just filled (PostgreSQL), so the next queries are planned with
    their real size. Without `rows_written` every table is analysed; with it, only tables never
    analysed or that grew by a noticeable share. `columns` (table name -> column names) limits a
    table's statistics to the columns queries filter, join and sort on (the row count is always
    refreshed): sampling large documents nobody filters on costs the most. Returns the tables
    analysed."""
    if connection.dialect.name != "postgresql":
        return []
    analysed = []
    for table in tables:
        name = getattr(table, "name", table)
        if rows_written is not None:
            known = connection.exec_driver_sql(
                "SELECT reltuples FROM pg_class WHERE oid = to_regclass(%(name)s)", {"name": name}
            ).scalar()
            never_analysed = known is None or known < 0
            if not never_analysed and rows_written < max(ANALYZE_MIN_ROWS, ANALYZE_MIN_SHARE * known):
                continue
        listed = (columns or {}).get(name)
        chosen = " (" + ", ".join(f'"{column}"' for column in listed) + ")" if listed else ""
        connection.exec_driver_sql(f'ANALYZE "{name}"{chosen}')
        analysed.append(name)
    return analysed


_DEFINITIONS: dict[str, Table] = {}


def temporary_table(name: str, build: Callable[[], Table]) -> Table:
    """One Table object per temporary table name for the life of the process. A temporary
    table's name says its shape (eligibility names its tables after their columns, the income mix
    has fixed ones), and SQLAlchemy keys its compiled statements on the Table object, so reusing
    it lets every recompute (a chunk job, a refresh after a write, the next chunk) reuse the
    statements compiled by the first instead of compiling them again. Temporary tables are private
    to their connection, so a name never meets another connection's table."""
    table = _DEFINITIONS.get(name)
    if table is None:
        if len(_DEFINITIONS) > 256:  # rule sets change rarely; never let old shapes pile up
            _DEFINITIONS.clear()
        table = _DEFINITIONS.setdefault(name, build())
    return table


def temporary(name: str, columns: Callable[[], Sequence[SchemaItem]]) -> Table:
    """A TEMPORARY table named `name` with the given columns (and constraints or indexes), one
    definition per process (see temporary_table); `columns` is called only the first time."""
    return temporary_table(name, lambda: Table(name, MetaData(), *columns(), prefixes=["TEMPORARY"]))


def empty_tables(connection, tables: Sequence[Table]) -> None:
    """Empty a batch's temporary work tables before its next chunk: one TRUNCATE on PostgreSQL,
    where a DELETE leaves the deleted rows in the table (temporary tables are never vacuumed), so
    every chunk would scan all earlier chunks' rows again (at 100,000 creators, counting an alert
    chunk's 13,000 conditions took 17 ms instead of 2); a DELETE on SQLite, which truncates a
    table deleted without a condition."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("TRUNCATE " + ", ".join(f'"{table.name}"' for table in tables))
        return
    for table in tables:
        connection.execute(table.delete())


def batch_settings(connection, work_mem: str | None = None) -> None:
    """Settings of a batch chunk's transaction (PostgreSQL; nothing on SQLite): no JIT, and more
    memory for its sorts when `work_mem` is given (e.g. '64MB').

    A chunk runs many short statements over small temporary tables; the planner deems compiling
    them to machine code (JIT) worth it once the rows it estimates to read are many (a large
    roster, never analysed), and that compilation then costs seconds per statement.

    Each chunk's statements are planned for its own ids: the engine's connections never prepare
    them (see `make_engine`).

    SET LOCAL ends with its transaction (or the savepoint it ran in, when that rolls back): a batch
    that commits after each chunk calls this at the start of every chunk."""
    if connection.dialect.name != "postgresql":
        return
    connection.exec_driver_sql("SET LOCAL jit = off")
    if work_mem is not None:
        connection.exec_driver_sql(f"SET LOCAL work_mem = '{work_mem}'")
