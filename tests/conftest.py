"""Test fixtures: a real database (PostgreSQL by default, SQLite when TEST_DATABASE_URL says so),
one database per xdist worker, and one rolled-back transaction per test."""
from __future__ import annotations

import hashlib
import os
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from agency import create_app
from agency.cli import alembic_config
from agency.config import Config, normalise_database_url
from agency.models import Role

DEFAULT_TEST_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DEFAULT_TEST_REDIS_URL = "redis://127.0.0.1:6379/0"
PASSWORD = "correct-horse-battery-9"


def _worker_id() -> str:
    """Unique per checkout and xdist worker, so two checkouts on one machine never share a database."""
    checkout = hashlib.sha1(str(Path(__file__).resolve().parent).encode()).hexdigest()[:6]
    return f"{checkout}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"


def _create_database(base_url: str, name: str) -> str:
    url = make_url(base_url)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def _drop_database(base_url: str, name: str) -> None:
    admin = create_engine(make_url(base_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def base_database_url() -> str:
    return normalise_database_url(os.environ.get("TEST_DATABASE_URL", DEFAULT_TEST_DATABASE_URL))


@pytest.fixture(scope="session")
def database_url(base_database_url, tmp_path_factory) -> str:
    """A fresh database for this test worker, migrated to head with Alembic."""
    from alembic import command

    if base_database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        name = None
    else:
        name = f"agency_test_{_worker_id()}"
        url = _create_database(base_database_url, name)
    command.upgrade(alembic_config(url), "head")
    yield url
    if name:
        _drop_database(base_database_url, name)


@pytest.fixture(scope="session")
def redis_url() -> str:
    """TEST_REDIS_URL with a database number per xdist worker (1, 2, ...), so parallel tests
    flushing their database never touch each other's."""
    base = os.environ.get("TEST_REDIS_URL", DEFAULT_TEST_REDIS_URL)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return base
    root = base.rsplit("/", 1)[0] if base.rsplit("/", 1)[-1].isdigit() else base.rstrip("/")
    return f"{root}/{1 + int(worker[2:]) % 15}"


@pytest.fixture(scope="session")
def app(database_url):
    config = Config.from_env({}, database_url=database_url, testing=True, secret_key="test-secret",
                             log_json=False, log_level="WARNING")
    app = create_app(config)
    yield app
    app.extensions["agency_db"].dispose()


@pytest.fixture()
def db(app):
    """The app's Database with every session joined to one transaction rolled back after the test."""
    from agency.extensions import limiter

    database = app.extensions["agency_db"]
    original_factory = database.session_factory
    connection = database.engine.connect()
    transaction = connection.begin()
    database.bind_to(connection)
    limiter.reset()
    yield database
    database.session_factory = original_factory
    transaction.rollback()
    connection.close()


@pytest.fixture()
def session(db):
    s = db.session_factory()
    yield s
    s.close()


@pytest.fixture()
def client(app, db):
    return app.test_client()


@pytest.fixture()
def make_user(session):
    from agency.services.auth import create_user

    counter = iter(range(1, 10_000))

    def _make(role: Role | str = Role.manager, email: str | None = None, **kwargs):
        role = Role(role)
        user = create_user(db_session=session, email=email or f"{role.value}{next(counter)}@test.example",
                           password=PASSWORD, role=role, **kwargs)
        session.commit()
        return user

    return _make


@pytest.fixture()
def auth_for(session):
    """Authorization headers for a user (a real token issued through the service)."""
    from agency.services.auth import issue_token

    def _headers(user) -> dict:
        token, _ = issue_token(db_session=session, user=user, ttl=timedelta(hours=1))
        session.commit()
        return {"Authorization": f"Bearer {token}"}

    return _headers


@pytest.fixture()
def make_creator(session):
    from agency.models import Creator, PlatformAccount

    counter = iter(range(1, 10_000))

    def _make(manager=None, accounts=("tiktok",), **fields):
        n = next(counter)
        values = {"display_name": f"Creator {n}", "country": "FR", "niche": "cooking", "languages": ["fr"],
                  "manager_id": manager.id if manager else None} | fields
        creator = Creator(**values)
        session.add(creator)
        for platform in accounts:
            session.add(PlatformAccount(creator=creator, platform=platform, handle=f"creator_{n}_{platform}"))
        session.commit()
        return creator

    return _make


@pytest.fixture()
def admin(make_user):
    return make_user(Role.admin)


@pytest.fixture()
def manager(make_user):
    return make_user(Role.manager)


@pytest.fixture()
def analyst(make_user):
    return make_user(Role.analyst)


def pytest_collection_modifyitems(config, items):
    root = Path(__file__).parent
    for item in items:
        if Path(item.fspath).is_relative_to(root / "web"):
            item.add_marker(pytest.mark.browser)
