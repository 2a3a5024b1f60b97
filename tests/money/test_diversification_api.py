"""The income mix: off-platform income counts as a source, never as a platform; the effective
number of sources beside the HHI; alerts that say so; re-runs that write nothing."""

import csv
import io
from datetime import date, timedelta

from sqlalchemy import func, insert, select

from agency.alerts.models import Alert, AlertKind
from agency.alerts.service import AlertSettings, evaluate_alerts
from agency.money.diversification import MixSettings, compute_mix, recompute_diversification
from agency.money.models import DiversificationSnapshot, RevenueRecord

TODAY = date.today()


def _income(session, creator, *entries, today=TODAY):
    session.execute(
        insert(RevenueRecord),
        [
            {
                "creator_id": creator.id,
                "earned_on": today - timedelta(days=2),
                "source": source,
                "platform": platform,
                "amount": amount,
                "currency": "EUR",
                "external_ref": f"{creator.id}-{n}",
                "notes": "",
                "version": 1,
            }
            for n, (source, platform, amount) in enumerate(entries)
        ],
    )
    session.commit()


def test_off_platform_income_counts_in_sources_and_never_as_a_platform(
    client, session, manager, make_creator, auth_for
):
    creator = make_creator(manager=manager, niche="fashion")
    _income(session, creator, ("merch", None, "800.00"), ("creator_rewards", "tiktok", "200.00"))
    mix = client.get(f"/api/v1/creators/{creator.id}/diversification", headers=auth_for(manager)).json
    assert mix["total"] == "1000.00" and mix["platform_total"] == "200.00"
    assert mix["by_source"] == {
        "creator_rewards": {"amount": "200.00", "share": "0.2000"},
        "merch": {"amount": "800.00", "share": "0.8000"},
    }
    # Platform shares are shares of platform income; merch is no platform ("none" appears nowhere).
    assert mix["by_platform"] == {"tiktok": {"amount": "200.00", "share": "1.0000"}}
    assert mix["top_platform"] == "tiktok" and mix["tiktok_share"] == "1.0000"
    assert mix["hhi"] == "0.6800" and mix["effective_sources"] == "1.47" and mix["risk_level"] == "high"
    assert "none" not in {key.lower() for key in mix["by_platform"]} and mix["top_platform"] != "none"


def test_income_with_no_platform_at_all_has_no_platform_and_no_dependency(
    client, session, manager, make_creator, auth_for
):
    creator = make_creator(manager=manager, niche="cooking")
    _income(session, creator, ("merch", None, "500.00"), ("courses", None, "500.00"))
    mix = client.get(f"/api/v1/creators/{creator.id}/diversification", headers=auth_for(manager)).json
    assert mix["by_platform"] == {} and mix["top_platform"] is None and mix["platform_total"] == "0.00"
    assert mix["hhi"] == "0.5000" and mix["effective_sources"] == "2.00"
    settings = MixSettings(base_currency="EUR")
    recompute_diversification(db_session=session, settings=settings, creator_ids=[creator.id])
    evaluate_alerts(db_session=session, settings=AlertSettings(today=TODAY))
    alerts = session.scalars(select(Alert).where(Alert.creator_id == creator.id)).all()
    assert {a.kind for a in alerts} == {AlertKind.concentration_risk}  # no platform dependency
    assert all("none" not in (a.subject + a.message).lower() for a in alerts)
    assert "worth 2.00 equal sources" in alerts[0].message


def test_the_roster_export_shows_the_effective_number_of_sources_beside_the_hhi(
    client, session, manager, make_creator, auth_for
):
    creator = make_creator(manager=manager, niche="cooking")
    _income(
        session, creator, ("merch", None, "500.00"), ("courses", None, "300.00"), ("live_gifts", "tiktok", "200.00")
    )
    recompute_diversification(db_session=session, settings=MixSettings(base_currency="EUR"), creator_ids=[creator.id])
    session.commit()
    export = client.get("/api/v1/diversification?format=csv", headers=auth_for(manager))
    header, *rows = list(csv.reader(io.StringIO(export.get_data(as_text=True))))
    # A finance person reads the HHI with the number of equal sources it is worth, and the platform
    # shares with the platform income they are shares of; amounts carry the currency's decimals.
    assert header[header.index("hhi") + 1] == "effective_sources"
    row = dict(zip(header, rows[0], strict=True))
    assert row["hhi"] == "0.3800" and row["effective_sources"] == "2.63"
    assert row["total"] == "1000.00" and row["platform_total"] == "200.00"
    assert row["top_platform"] == "tiktok" and row["top_platform_share"] == "1.0000"


def test_platform_dependency_speaks_of_platform_income(session, manager, make_creator):
    creator = make_creator(manager=manager, niche="gaming")
    _income(
        session, creator, ("merch", None, "400.00"), ("courses", None, "300.00"), ("live_gifts", "tiktok", "300.00")
    )
    recompute_diversification(db_session=session, settings=MixSettings(base_currency="EUR"), creator_ids=[creator.id])
    evaluate_alerts(db_session=session, settings=AlertSettings(today=TODAY))
    alert = session.scalars(select(Alert).where(Alert.kind == AlertKind.platform_dependency)).one()
    assert alert.subject.endswith("depends on tiktok")
    assert "100% of" in alert.message and "platform income (300.00 of 1000.00 EUR in all)" in alert.message


def test_recompute_in_chunks_equals_one_pass_and_an_unchanged_rerun_writes_nothing(session, manager, make_creator):
    creators = [make_creator(manager=manager) for _ in range(5)]
    for n, creator in enumerate(creators):
        _income(session, creator, ("affiliate", "instagram", f"{100 + n}.00"), ("merch", None, "50.00"))
    settings = MixSettings(base_currency="EUR")
    ids = [c.id for c in creators]
    first = recompute_diversification(db_session=session, settings=settings, creator_ids=ids, chunk_size=2)
    assert (first.chunks, first.written) == (3, 5)
    stored = dict(session.execute(select(DiversificationSnapshot.creator_id, DiversificationSnapshot.digest)).all())
    again = recompute_diversification(db_session=session, settings=settings, creator_ids=ids)
    assert (again.chunks, again.written, again.unchanged) == (1, 0, 5)
    assert (
        dict(session.execute(select(DiversificationSnapshot.creator_id, DiversificationSnapshot.digest)).all())
        == stored
    )
    assert session.scalar(select(func.count()).select_from(DiversificationSnapshot)) == 5
    # Alert evaluation: a second run over unchanged data opens and resolves nothing.
    evaluate_alerts(db_session=session, settings=AlertSettings(today=TODAY), chunk_size=2)
    rerun = evaluate_alerts(db_session=session, settings=AlertSettings(today=TODAY), chunk_size=2)
    assert (rerun.opened, rerun.resolved) == (0, 0)


def test_the_live_mix_and_recomputes_one_after_another_in_one_transaction_agree(session, manager, make_creator):
    """The recompute and the live answer use the same temporary tables (one definition per
    process): each run leaves none behind, so runs can follow each other on one connection."""
    creators = [make_creator(manager=manager) for _ in range(3)]
    for n, creator in enumerate(creators):
        _income(session, creator, ("creator_rewards", "tiktok", f"{300 + n}.00"), ("courses", None, "100.00"))
    settings = MixSettings(base_currency="EUR")
    ids = [c.id for c in creators]
    live = compute_mix(session, as_of=TODAY, settings=settings, creator_ids=ids)
    first = recompute_diversification(db_session=session, settings=settings, creator_ids=ids, chunk_size=2)
    again = recompute_diversification(db_session=session, settings=settings, creator_ids=ids, chunk_size=2)
    assert (first.chunks, first.written, again.written, again.unchanged) == (2, 3, 0, 3)
    assert compute_mix(session, as_of=TODAY, settings=settings, creator_ids=ids) == live
    stored = {s.creator_id: s for s in session.scalars(select(DiversificationSnapshot))}
    for creator_id, values in live.items():
        assert (stored[creator_id].hhi, stored[creator_id].risk_level, stored[creator_id].suggestion) == (
            values["hhi"],
            values["risk_level"],
            values["suggestion"],
        )
