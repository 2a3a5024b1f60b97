"""Alembic environment: the schema is `agency.core.database.Base.metadata`, holding every domain's
tables (agency/registry.py imports them all); the URL comes from the caller (`agency db ...` sets
it) or from DATABASE_URL."""

from __future__ import annotations

from alembic import context

import agency.registry  # noqa: F401  (imports every domain's models: their tables join the metadata)
from agency.core.config import Config
from agency.core.database import Base, make_engine
from agency.metrics.models import PARTITION_NAME

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return config.attributes.get("database_url") or Config.from_env().database_url


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url())
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def include_name(name, type_, _parent_names) -> bool:
    """Comparisons with the models skip the monthly partitions of metric snapshots."""
    return not (type_ == "table" and name and PARTITION_NAME.match(name))


def _run(connection) -> None:
    # Batch mode lets the same revisions ALTER tables on SQLite.
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
