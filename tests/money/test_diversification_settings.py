"""The income mix's session settings hold in every chunk (PostgreSQL, whose JIT this is about):
a recompute that commits after each chunk starts each one in a new transaction."""

from datetime import date, timedelta

from sqlalchemy import insert

from agency.money import diversification
from agency.money.diversification import MixSettings, recompute_diversification
from agency.money.models import RevenueRecord


def _income(session, creator, amount):
    session.execute(
        insert(RevenueRecord),
        {
            "creator_id": creator.id,
            "earned_on": date.today() - timedelta(days=2),
            "source": "affiliate",
            "platform": "instagram",
            "amount": amount,
            "currency": "EUR",
            "external_ref": f"{creator.id}-0",
            "notes": "",
            "version": 1,
        },
    )
    session.commit()


def test_every_chunk_of_a_recompute_that_commits_after_each_runs_without_jit(
    session, manager, make_creator, monkeypatch
):
    """A commit ends the transaction a chunk's SET LOCAL belonged to: each chunk sets it again (on
    a large never-analysed roster the planner would otherwise compile its statements to machine
    code, seconds per chunk)."""
    creators = [make_creator(manager=manager) for _ in range(3)]
    for creator in creators:
        _income(session, creator, "100.00")
    seen = []
    records_table = diversification.records_table

    def recording(db_session, *args, **kwargs):
        seen.append(db_session.connection().exec_driver_sql("SHOW jit").scalar())
        return records_table(db_session, *args, **kwargs)

    def commit():
        # What a real commit does to the next chunk (the test's own transaction stays open).
        session.commit()
        session.connection().exec_driver_sql("SET LOCAL jit = on")

    monkeypatch.setattr(diversification, "records_table", recording)
    result = recompute_diversification(
        db_session=session,
        settings=MixSettings(base_currency="EUR"),
        creator_ids=[c.id for c in creators],
        chunk_size=1,
        commit=commit,
    )
    assert (result.chunks, result.written) == (3, 3)
    assert seen == ["off"] * 3
