"""The Alembic revisions produce exactly the models' schema, and can go down and up again."""

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from agency.core.cli import alembic_config
from agency.core.database import Base
from agency.metrics.models import PARTITION_NAME
from tests.conftest import _create_database, _drop_database, _worker_id


@pytest.fixture()
def scratch_database_url(base_database_url, tmp_path):
    if base_database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    name = f"agency_migrations_{_worker_id()}"
    yield _create_database(base_database_url, name)
    _drop_database(base_database_url, name)


def _drift(url: str) -> list:
    engine = create_engine(url)
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                # The monthly partitions of metric snapshots are not models of their own.
                "include_name": lambda name, type_, _parents: not (type_ == "table" and PARTITION_NAME.match(name)),
            },
        )
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    return diff


def test_migrations_match_models_and_round_trip(scratch_database_url):
    cfg = alembic_config(scratch_database_url)
    command.upgrade(cfg, "head")
    assert _drift(scratch_database_url) == []

    command.downgrade(cfg, "base")
    engine = create_engine(scratch_database_url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()

    command.upgrade(cfg, "head")
    assert _drift(scratch_database_url) == []
