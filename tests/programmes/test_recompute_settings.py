"""A recompute's session settings hold in every chunk (PostgreSQL): `agency recompute
eligibility` commits after each chunk, and a commit ends the transaction its `SET LOCAL` settings
belonged to. Without them a later chunk's statements over a large never-analysed roster are
estimated dear enough for the planner to compile them to machine code (JIT, with inlining and
optimisation), seconds per chunk."""

from datetime import date

import pytest

from agency.programmes import eligibility
from agency.programmes.eligibility import recompute_eligibility
from tests.programmes.conftest import TODAY

pytestmark = pytest.mark.usefixtures("db")


def test_every_chunk_runs_without_jit_and_with_the_recompute_work_mem(
    session, fund, make_creator, add_days, monkeypatch
):
    creators = []
    for _ in range(3):
        creator = make_creator(date_of_birth=date(1990, 1, 1))
        add_days(creator.accounts[0], start_followers=500, per_day=15)
        creators.append(creator)

    seen = []
    fill_base = eligibility.fill_base

    def recording(connection, *args, **kwargs):
        seen.append(
            (connection.exec_driver_sql("SHOW jit").scalar(), connection.exec_driver_sql("SHOW work_mem").scalar())
        )
        return fill_base(connection, *args, **kwargs)

    def commit():
        # What a real commit does to the next chunk's transaction (the test's own transaction
        # stays open around the whole test): the server's settings are back.
        session.commit()
        session.connection().exec_driver_sql("SET LOCAL jit = on")
        session.connection().exec_driver_sql("SET LOCAL work_mem = '4MB'")

    monkeypatch.setattr(eligibility, "fill_base", recording)
    result = recompute_eligibility(
        db_session=session, creator_ids=[c.id for c in creators], as_of=TODAY, chunk_size=1, commit=commit
    )
    assert result.chunks == 3
    assert seen == [("off", "64MB")] * 3
