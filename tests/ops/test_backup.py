"""`agency export` then `agency import-export` restores the demo agency with nothing lost."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import create_engine, select

from agency import create_app
from agency.core.backup import backed_up_tables, export_database, import_database
from agency.core.cli import alembic_config
from agency.core.config import Config
from agency.core.database import Base
from agency.demo.loader import load_demo
from tests.conftest import _create_database, _drop_database, _worker_id
from tests.statistics import assert_freshly_analysed, forget_statistics, row_count, row_estimate


@pytest.fixture()
def empty_database(base_database_url, tmp_path):
    """A second, freshly migrated database to restore into."""

    if base_database_url.startswith("sqlite"):
        url, name = f"sqlite:///{tmp_path / 'restore.sqlite3'}", None
    else:
        name = f"agency_restore_{_worker_id()}"
        url = _create_database(base_database_url, name)
    command.upgrade(alembic_config(url), "head")
    yield url
    if name:
        _drop_database(base_database_url, name)


def _table_contents(connection) -> dict[str, list]:
    return {
        t.name: [tuple(r) for r in connection.execute(select(t).order_by(*t.primary_key.columns))]
        for t in backed_up_tables()
    }


def test_demo_data_round_trips_through_export_and_import(db, session, empty_database, tmp_path):
    load_demo(db_session=session, creators=6, days=15, seed=3, reset=True)
    session.flush()
    connection = session.connection()
    original = _table_contents(connection)
    assert sum(map(len, original.values())) > 100
    export_database(connection=connection, directory=tmp_path / "dump")

    target = create_app(
        Config.from_env(
            {},
            password_hash_profile="cheapest",
            database_url=empty_database,
            testing=True,
            secret_key="s",
            log_json=False,
            log_level="WARNING",
        )
    )
    runner = target.test_cli_runner()
    result = runner.invoke(args=["import-export", str(tmp_path / "dump")])
    assert result.exit_code == 0, result.output
    engine = create_engine(empty_database)
    with engine.connect() as conn:
        restored = _table_contents(conn)
    assert {t: len(rows) for t, rows in restored.items()} == {t: len(rows) for t, rows in original.items()}
    assert restored == original  # Decimals, timestamps, enums and JSON all identical

    again = runner.invoke(args=["import-export", str(tmp_path / "dump")])
    assert again.exit_code != 0 and "not empty" in again.output

    # Sequences were moved past the restored ids: a new row gets a fresh id.
    result = runner.invoke(
        args=["users", "create", "--email", "new@test.example", "--role", "analyst", "--password-stdin"],
        input="a-Long-enough-passw0rd\n",
    )
    assert result.exit_code == 0, result.output
    engine.dispose()
    target.extensions["agency_db"].dispose()


def test_export_command_writes_one_file_per_table(client, app, admin, tmp_path):
    result = app.test_cli_runner().invoke(args=["export", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    files = {p.stem for p in (tmp_path / "out").glob("*.jsonl")}
    assert files == {t.name for t in backed_up_tables()} == {t.name for t in Base.metadata.sorted_tables}


def test_export_files_are_readable_by_their_owner_only_and_the_command_says_why(app, admin, tmp_path):
    result = app.test_cli_runner().invoke(args=["export", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "password hashes and personal data" in result.output
    files = list((tmp_path / "out").iterdir())
    assert files and all(path.stat().st_mode & 0o777 == 0o600 for path in files)
    assert (tmp_path / "out").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    "manifest, reason",
    [
        ("{not json", "not JSON"),
        ('{"alembic_revision": "0018"}', "needs alembic_revision and tables"),
        ('{"alembic_revision": "0018", "tables": [{"name": "pg_authid", "rows": 1}]}', "unknown table"),
        ('{"alembic_revision": "0018", "tables": [{"name": "users", "rows": 1}]}', "users.jsonl is missing"),
    ],
)
def test_a_tampered_manifest_is_a_one_line_error(app, tmp_path, manifest, reason):
    (tmp_path / "manifest.json").write_text(manifest)
    result = app.test_cli_runner().invoke(args=["import-export", str(tmp_path)])
    assert result.exit_code != 0
    assert reason in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_restore_analyses_every_table_it_filled(session, make_creator, manager, empty_database, tmp_path):
    for _ in range(3):
        make_creator(manager=manager, accounts=("tiktok", "youtube"))
    export_database(connection=session.connection(), directory=tmp_path / "dump")
    engine = create_engine(empty_database)
    try:
        with engine.connect() as connection, connection.begin():
            assert connection.dialect.name == "postgresql"  # this file runs on PostgreSQL
            tables = backed_up_tables()
            forget_statistics(connection, *tables)
            counts = import_database(connection=connection, directory=tmp_path / "dump")
            assert counts["creators"] == 3 and counts["platform_accounts"] == 6
            filled = [table for table in tables if row_count(connection, table)]
            for table in filled:
                assert_freshly_analysed(connection, table)
            # Empty tables were analysed too: the planner knows they are empty rather than guessing.
            assert all(row_estimate(connection, table) == 0 for table in tables if table not in filled)
    finally:
        engine.dispose()
