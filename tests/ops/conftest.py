import uuid

import pytest
from sqlalchemy import delete

from agency import create_app
from agency.core.config import Config
from agency.core.extensions import limiter
from agency.core.users.models import ApiToken, Role, User
from agency.core.users.service import create_user
from tests.factories import PASSWORD


def make_app(database_url, **settings):
    """Another app on the test database, outside the rolled-back transaction (another process)."""
    return create_app(
        Config.from_env(
            {},
            password_hash_profile="cheapest",
            database_url=database_url,
            testing=True,
            secret_key="s",
            log_json=False,
            log_level="WARNING",
            **settings,
        )
    )


@pytest.fixture()
def committed_admin(app, database_url):
    """An admin committed for real (other apps and connections must see it), removed afterwards."""
    database = app.extensions["agency_db"]
    email = f"fault-{uuid.uuid4().hex[:8]}@test.example"
    with database.session_scope() as s:
        user_id = create_user(db_session=s, email=email, password=PASSWORD, role=Role.admin).id
    yield email
    with database.session_scope() as s:
        s.execute(delete(ApiToken).where(ApiToken.user_id == user_id))
        s.execute(delete(User).where(User.id == user_id))


@pytest.fixture()
def open_metrics(app):
    """/metrics opened without a token, as on a private network (METRICS_OPEN=true)."""
    config = app.config["AGENCY"]
    config.metrics_open = True
    yield config
    config.metrics_open = False


@pytest.fixture(autouse=True)
def restore_limiter():
    """The limiter is one module-level object that each `create_app` rebinds; tests here build
    extra apps (some with a dead Redis), so put the session app's binding back afterwards."""
    saved = dict(limiter.__dict__)
    yield
    limiter.__dict__.clear()
    limiter.__dict__.update(saved)
