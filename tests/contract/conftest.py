"""The contract run's own database: migrated, with the demo agency loaded (the names, handles,
amounts and dates real rosters hold), so the answers checked against the document are realistic."""

from __future__ import annotations

from datetime import date

import pytest
from alembic import command

from agency import create_app
from agency.core.cli import alembic_config
from agency.core.config import Config
from agency.demo.loader import load_demo
from tests.conftest import _create_database, _drop_database, _worker_id


@pytest.fixture(scope="session")
def database_url(base_database_url, tmp_path_factory) -> str:
    if base_database_url.startswith("sqlite"):
        url, name = f"sqlite:///{tmp_path_factory.mktemp('db') / 'contract.sqlite3'}", None
    else:
        name = f"agency_contract_{_worker_id()}"
        url = _create_database(base_database_url, name)
    command.upgrade(alembic_config(url), "head")
    app = create_app(
        Config.from_env({}, password_hash_profile="cheapest", database_url=url, secret_key="demo", log_json=False)
    )
    database = app.extensions["agency_db"]
    with database.session_scope() as session:
        load_demo(db_session=session, creators=12, days=30, seed=11, today=date.today())
    database.dispose()
    yield url
    if name:
        _drop_database(base_database_url, name)
