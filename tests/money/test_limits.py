"""Sums never outgrow their columns: amounts that each pass validation, summed over a window (and
converted at the highest accepted rate), are analysed and stored exactly (PostgreSQL)."""

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from agency.currencies.models import FxRate
from agency.money.models import DiversificationSnapshot

HEADER = "creator_id,date,source,platform,amount,currency,external_ref\n"
MAX_AMOUNT = Decimal("999999999999.99")
MAX_RATE = Decimal("9999999999.99999999")
MAX_YEN = Decimal("999999999999")  # the yen has no minor unit


def test_a_window_of_maximal_amounts_at_the_highest_rate_is_analysed_and_stored(
    client, session, manager, admin, make_creator, auth_for
):
    creator, other = make_creator(manager=manager), make_creator(manager=manager)
    day = date.today() - timedelta(days=3)
    session.add(FxRate(day=day - timedelta(days=1), base="JPY", quote="EUR", rate=MAX_RATE, source="test"))
    session.commit()
    rows = [f"{creator.id},{day},affiliate,instagram,{MAX_AMOUNT},EUR,max-{n}\n" for n in range(300)]
    rows += [f"{creator.id},{day},merch,,{MAX_YEN},JPY,max-jpy-{n}\n" for n in range(5)]
    rows += [f"{other.id},{day},merch,,100.00,EUR,small-1\n"]
    imported = client.post(
        "/api/v1/revenue/import", data=HEADER + "".join(rows), content_type="text/csv", headers=auth_for(manager)
    )
    assert imported.status_code == 200, imported.json
    assert imported.json["inserted"] == 306

    euros = MAX_AMOUNT * 300
    yen_in_euros = (MAX_YEN * MAX_RATE).quantize(Decimal("0.01")) * 5
    live = client.get(f"/api/v1/creators/{creator.id}/diversification", headers=auth_for(manager))
    assert live.status_code == 200, live.json
    assert Decimal(live.json["total"]) == euros + yen_in_euros

    recomputed = client.post("/api/v1/diversification/recompute", json={}, headers=auth_for(admin))
    assert recomputed.status_code == 200, recomputed.json
    assert recomputed.json["failed_items"] == []
    stored = {s.creator_id: s for s in session.scalars(select(DiversificationSnapshot))}
    assert stored[creator.id].total == euros + yen_in_euros
    assert stored[creator.id].by_source["affiliate"]["amount"] == str(euros)
    assert stored[other.id].total == Decimal("100.00")
