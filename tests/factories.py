"""Test data factories (factory_boy), in one place; the fixtures in conftest.py bind them to the
test's session. Users get a real (cheaply hashed) password so they can sign in."""

from __future__ import annotations

import factory
from factory.alchemy import SQLAlchemyModelFactory

from agency.core.users.models import Role, User
from agency.core.users.service import hash_password
from agency.roster.models import Creator, PlatformAccount

PASSWORD = "correct-horse-battery-9"
_bound = {"session": None}


def bind_session(session) -> None:
    """Make the factories write through `session` (the test's; None unbinds)."""
    _bound["session"] = session


class _Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = staticmethod(lambda: _bound["session"])
        sqlalchemy_session_persistence = "commit"


class UserFactory(_Base):
    class Meta:
        model = User

    role = Role.manager
    email = factory.LazyAttributeSequence(lambda user, n: f"{user.role.value}{n + 1}@test.example")
    full_name = ""
    timezone = "UTC"
    password_hash = factory.LazyFunction(lambda: hash_password(PASSWORD))


class CreatorFactory(_Base):
    class Meta:
        model = Creator

    display_name = factory.Sequence(lambda n: f"Creator {n + 1}")
    country = "FR"
    niche = "cooking"
    languages = factory.LazyFunction(lambda: ["fr"])
    manager_id = None


class PlatformAccountFactory(_Base):
    class Meta:
        model = PlatformAccount

    platform = "tiktok"
    handle = factory.Sequence(lambda n: f"creator_{n + 1}")
    creator = factory.SubFactory(CreatorFactory)
