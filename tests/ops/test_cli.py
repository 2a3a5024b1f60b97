from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from agency.core.config import _local_secret_key
from agency.core.users.models import User
from agency.core.users.service import verify_password
from agency.demo.loader import load_demo, reset_demo
from agency.metrics.models import MetricSnapshot
from agency.roster.models import Creator, PlatformAccount


def test_users_create_reads_the_password_from_stdin(app, db, session):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["users", "create", "--email", "New.Admin@Example.com", "--role", "admin", "--password-stdin"],
        input="a-long-enough-passphrase-7\n",
    )
    assert result.exit_code == 0, result.output
    user = session.scalar(select(User).where(User.email == "new.admin@example.com"))
    assert user.role.value == "admin"
    assert verify_password(user.password_hash, "a-long-enough-passphrase-7")
    assert "a-long-enough-passphrase-7" not in result.output


def test_users_create_refuses_a_weak_password(app, db, session):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "--email", "weak@example.com", "--role", "analyst", "--password-stdin"],
        input="short\n",
    )
    assert result.exit_code != 0
    assert "password policy" in result.output
    assert session.scalar(select(User).where(User.email == "weak@example.com")) is None


def test_demo_load_builds_a_varied_agency(app, db, session):
    result = app.test_cli_runner().invoke(args=["demo", "load", "--creators", "40", "--days", "120"])
    assert result.exit_code == 0, result.output
    creators = session.scalars(select(Creator)).all()
    assert len(creators) == 40
    assert len({c.country for c in creators}) >= 6
    assert len({c.niche for c in creators}) == 11
    minors = [c for c in creators if c.age_on(c.created_at.date()) < 18]
    assert any(c.parental_agreement_on_file for c in minors)
    assert any(not c.parental_agreement_on_file for c in minors)
    assert session.scalar(select(func.count(func.distinct(PlatformAccount.platform)))) >= 3
    days = session.scalar(select(func.count(func.distinct(MetricSnapshot.day))))
    assert days == 120


def test_demo_is_deterministic(session):

    def fingerprint():
        return session.execute(
            select(func.count(MetricSnapshot.id), func.sum(MetricSnapshot.followers), func.sum(MetricSnapshot.views))
        ).one()

    load_demo(db_session=session, creators=10, days=30, seed=3, today=date(2026, 1, 1))
    first = fingerprint()
    reset_demo(session)
    load_demo(db_session=session, creators=10, days=30, seed=3, today=date(2026, 1, 1))
    assert fingerprint() == first


def test_without_secret_key_an_unwritable_instance_dir_is_a_clear_error():

    with pytest.raises(RuntimeError, match="set SECRET_KEY"):
        _local_secret_key(Path("/sys/agency-instance"))  # not writable, even by root
