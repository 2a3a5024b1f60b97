"""The agency's books follow its calendar (AGENCY_TIMEZONE): a write made without a date is dated
the agency's today, not the server's UTC day nor a day ahead of it."""

from datetime import UTC, date, datetime

import pytest
import time_machine

from agency.core.config import Config

STAGES = ["negotiating", "contracted", "in_progress", "delivered", "invoiced"]


@pytest.fixture()
def agency_timezone(app, monkeypatch):
    def use(name: str) -> None:
        monkeypatch.setattr(app.config["AGENCY"], "agency_timezone", name)

    return use


def _invoice_a_deal(client, headers, creator) -> dict:
    brand = client.post("/api/v1/brands", json={"name": f"Day brand {creator.id}"}, headers=headers).json
    deal = client.post(
        "/api/v1/deals",
        json={
            "creator_id": creator.id,
            "brand_id": brand["id"],
            "title": "Launch",
            "source": "direct",
            "fee_amount": "1000.00",
            "fee_currency": "EUR",
        },
        headers=headers,
    ).json
    for stage in STAGES:
        moved = client.post(f"/api/v1/deals/{deal['id']}/transitions", json={"to_stage": stage}, headers=headers)
        assert moved.status_code == 200, moved.json
    (invoice,) = client.get(f"/api/v1/invoices?deal_id={deal['id']}", headers=headers).json
    return invoice


@pytest.mark.parametrize(
    ("zone", "instant", "day"),
    [
        # 23:30 in London's winter is already the next day in Paris.
        ("Europe/Paris", datetime(2026, 11, 30, 23, 30, tzinfo=UTC), date(2026, 12, 1)),
        ("UTC", datetime(2026, 11, 30, 23, 30, tzinfo=UTC), date(2026, 11, 30)),
        # 05:00 UTC is still the evening before in Los Angeles.
        ("America/Los_Angeles", datetime(2026, 11, 30, 5, 0, tzinfo=UTC), date(2026, 11, 29)),
    ],
)
def test_an_invoice_and_the_aging_report_are_dated_the_agencys_day(
    client, manager, make_creator, auth_for, agency_timezone, zone, instant, day
):
    agency_timezone(zone)
    creator = make_creator(manager=manager)
    with time_machine.travel(instant, tick=False):
        headers = auth_for(manager)
        invoice = _invoice_a_deal(client, headers, creator)
        aging = client.get("/api/v1/aging", headers=headers).json
    assert invoice["issued_on"] == day.isoformat()
    assert aging["as_of"] == day.isoformat()


def test_an_unknown_time_zone_is_refused_when_the_app_starts():
    with pytest.raises(ValueError, match="AGENCY_TIMEZONE='Mars/Olympus' is not a time zone name"):
        Config.from_env({"AGENCY_TIMEZONE": "Mars/Olympus", "SECRET_KEY": "x"})
