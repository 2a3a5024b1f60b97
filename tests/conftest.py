"""Test fixtures: a real database (PostgreSQL by default, SQLite when TEST_DATABASE_URL says so),
one database per xdist worker, and one rolled-back transaction per test."""

from __future__ import annotations

import hashlib
import os
from datetime import date, timedelta
from pathlib import Path

import pytest
from alembic import command
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from agency import create_app
from agency.core.cli import alembic_config
from agency.core.config import Config, normalise_database_url
from agency.core.extensions import limiter
from agency.core.users.models import CreatorLogin, Role
from agency.core.users.service import issue_token, use_password_profile
from agency.programmes.models import Program, RuleVersion
from tests import factories

DEFAULT_TEST_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DEFAULT_TEST_REDIS_URL = "redis://127.0.0.1:6379/0"

# Property tests draw the same examples on every run, so a run is repeatable on any machine;
# HYPOTHESIS_PROFILE=explore draws fresh random examples to hunt for new counterexamples (a failure
# prints the blob that reproduces it).
hypothesis_settings.register_profile("repeatable", derandomize=True, database=None, print_blob=True)
hypothesis_settings.register_profile("explore", print_blob=True)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


def pytest_configure(config):
    # Cheap argon2 parameters for every password the tests hash (apps built here say so too).
    use_password_profile("cheapest")


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
    """TEST_REDIS_URL with a database number per xdist worker: the URL's own number plus 1, 2, ...
    (modulo Redis's 16), so parallel tests flushing their database never touch each other's, and
    two checkouts given different base numbers never share one."""
    base = os.environ.get("TEST_REDIS_URL", DEFAULT_TEST_REDIS_URL)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return base
    root, _, number = base.rstrip("/").rpartition("/")
    if not number.isdigit():
        root, number = base.rstrip("/"), "0"
    return f"{root}/{(int(number) + 1 + int(worker[2:])) % 16}"


@pytest.fixture(scope="session")
def app(database_url):
    config = Config.from_env(
        {},
        password_hash_profile="cheapest",
        database_url=database_url,
        testing=True,
        secret_key="test-secret",
        log_json=False,
        log_level="WARNING",
    )
    app = create_app(config)
    yield app
    app.extensions["agency_db"].dispose()


@pytest.fixture()
def db(app):
    """The app's Database with every session joined to one transaction rolled back after the test."""
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
def factory_session(session):
    """The factories write through the test's session (committed into the rolled-back transaction)."""
    factories.bind_session(session)
    yield session
    factories.bind_session(None)


@pytest.fixture()
def make_user(factory_session):
    """A staff account with the password PASSWORD."""

    def _make(role: Role | str = Role.manager, **fields):
        return factories.UserFactory(role=Role(role), **fields)

    return _make


@pytest.fixture()
def auth_for(session):
    """Authorization headers for a user (a real token issued through the service)."""

    def _headers(user) -> dict:
        token, _ = issue_token(db_session=session, user=user, ttl=timedelta(hours=1))
        session.commit()
        return {"Authorization": f"Bearer {token}"}

    return _headers


@pytest.fixture()
def make_creator(factory_session):
    """A creator on the roster with one account per platform given: the test's n-th creator is
    "Creator n" with handles "creator_n_<platform>"."""
    counter = iter(range(1, 10_000))

    def _make(manager=None, accounts=("tiktok",), **fields):
        n = next(counter)
        fields.setdefault("display_name", f"Creator {n}")
        creator = factories.CreatorFactory(manager_id=manager.id if manager else None, **fields)
        for platform in accounts:
            factories.PlatformAccountFactory(creator=creator, platform=platform, handle=f"creator_{n}_{platform}")
        return creator

    return _make


@pytest.fixture()
def make_portal_user(make_user, factory_session):
    """A creator-role user signed up for `creator`'s portal (as an accepted invitation leaves it)."""

    def _make(creator, **fields):
        user = make_user(Role.creator, **fields)
        factory_session.add(CreatorLogin(user_id=user.id, creator_id=creator.id))
        factory_session.commit()
        return user

    return _make


@pytest.fixture()
def make_program(session):
    """A programme with one rule version (version 1, in force since 1 January 2020) holding
    `criteria`, committed."""

    def _make(code: str, name: str, criteria: list[dict], *, platform: str = "tiktok", source_note: str = "test"):
        program = Program(code=code, name=name, platform=platform)
        session.add(program)
        session.flush()
        session.add(
            RuleVersion(
                program_id=program.id,
                version=1,
                effective_from=date(2020, 1, 1),
                source_note=source_note,
                criteria=criteria,
            )
        )
        session.commit()
        return program

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
        path = Path(item.fspath)
        if path.is_relative_to(root / "web"):
            item.add_marker(pytest.mark.browser)
        if path.name.endswith("_api.py"):
            item.add_marker(pytest.mark.api)
