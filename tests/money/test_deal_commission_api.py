"""One commission per deal: the rate of the representation agreement in force on its contract
date, unless the deal overrides it (stored, and shown in the API and on the deal's page)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from tests.money.test_money_pages_api import _login

TODAY = date.today()


@pytest.fixture()
def brand(client, manager, auth_for):
    response = client.post("/api/v1/brands", json={"name": "One Commission"}, headers=auth_for(manager))
    assert response.status_code == 201, response.json
    return response.json


def _agreement(client, headers, creator, manager, starts_on, rate, ends_on=None):
    body = {"creator_id": creator.id, "starts_on": starts_on.isoformat(), "payout_currency": "EUR",
            "commission_rates": {"brand_deal": rate},
            "splits": [{"role": "agency", "share_percent": "80"},
                       {"role": "primary_manager", "user_id": manager.id, "share_percent": "20"}]}  # fmt: skip
    if ends_on:
        body["ends_on"] = ends_on.isoformat()
    response = client.post("/api/v1/agreements", json=body, headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def _deal(client, headers, creator, brand, **extra):
    body = {"creator_id": creator.id, "brand_id": brand["id"], "title": "Launch", "source": "direct",
            "fee_amount": "1000.00", "fee_currency": "EUR"} | extra  # fmt: skip
    response = client.post("/api/v1/deals", json=body, headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def _terms(client, headers, deal_id):
    response = client.get(f"/api/v1/deals/{deal_id}/money-terms", headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def test_a_deal_takes_its_agreements_commission_unless_it_overrides_it(client, manager, make_creator, auth_for, brand):
    creator = make_creator(manager=manager)
    headers = auth_for(manager)
    agreement = _agreement(client, headers, creator, manager, TODAY - timedelta(days=30), "25.00")
    follows = _deal(client, headers, creator, brand)
    assert Decimal(follows["commission_percent"]) == Decimal("25") and follows["commission_override"] is False
    terms = _terms(client, headers, follows["id"])
    assert terms["commission_source"] == "agreement" and terms["agreement_id"] == agreement["id"]
    assert terms["splits_source"] == "agreement" and Decimal(terms["commission_percent"]) == Decimal("25")
    own = _deal(client, headers, creator, brand, commission_percent="15.00")
    assert own["commission_override"] is True
    assert _terms(client, headers, own["id"])["commission_source"] == "deal"
    # The agreement changes: the deal that follows it follows, the override stays.
    changed = client.patch(
        f"/api/v1/agreements/{agreement['id']}",
        json={"version": agreement["version"], "commission_rates": {"brand_deal": "30.00"}},
        headers=headers,
    )
    assert changed.status_code == 200, changed.json
    assert Decimal(client.get(f"/api/v1/deals/{follows['id']}", headers=headers).json["commission_percent"]) == 30
    assert Decimal(client.get(f"/api/v1/deals/{own['id']}", headers=headers).json["commission_percent"]) == 15
    # Invoiced, each invoice freezes the commission that applies.
    for deal, expected in ((follows, "30.00"), (own, "15.00")):
        for stage in ["negotiating", "contracted", "in_progress", "delivered", "invoiced"]:
            moved = client.post(f"/api/v1/deals/{deal['id']}/transitions", json={"to_stage": stage}, headers=headers)
            assert moved.status_code == 200, moved.json
        invoice = client.get(f"/api/v1/invoices?deal_id={deal['id']}", headers=headers).json[0]
        assert Decimal(invoice["commission_percent"]) == Decimal(expected)
        assert Decimal(client.get(f"/api/v1/deals/{deal['id']}", headers=headers).json["commission_percent"]) == (
            Decimal(expected)
        )


def test_the_override_is_set_and_given_back(client, manager, make_creator, auth_for, brand):
    creator = make_creator(manager=manager)
    headers = auth_for(manager)
    _agreement(client, headers, creator, manager, TODAY - timedelta(days=30), "25.00")
    deal = _deal(client, headers, creator, brand)
    # Through the deal: a different commission is an override; commission_override false gives it back.
    patched = client.patch(
        f"/api/v1/deals/{deal['id']}", json={"commission_percent": "10.00", "version": deal["version"]},
        headers=headers,
    )  # fmt: skip
    assert patched.status_code == 200 and patched.json["commission_override"] is True
    back = client.patch(
        f"/api/v1/deals/{deal['id']}", json={"commission_override": False, "version": patched.json["version"]},
        headers=headers,
    )  # fmt: skip
    assert back.status_code == 200 and back.json["commission_override"] is False
    assert Decimal(back.json["commission_percent"]) == Decimal("25")
    # Through the money terms: a percent overrides, null gives it back.
    url = f"/api/v1/deals/{deal['id']}/money-terms"
    put = client.put(url, json={"commission_percent": "12.50"}, headers=headers)
    assert put.status_code == 200 and put.json["commission_source"] == "deal"
    shown = client.get(f"/api/v1/deals/{deal['id']}", headers=headers).json
    assert shown["commission_override"] is True and Decimal(shown["commission_percent"]) == Decimal("12.5")
    put = client.put(url, json={"commission_percent": None}, headers=headers)
    assert put.status_code == 200 and put.json["commission_source"] == "agreement"
    assert Decimal(put.json["commission_percent"]) == Decimal("25")


def test_the_agreement_in_force_on_the_contract_date_applies(client, manager, make_creator, auth_for, brand):
    creator = make_creator(manager=manager)
    headers = auth_for(manager)
    old = _agreement(
        client, headers, creator, manager, TODAY - timedelta(days=400), "18.00", ends_on=TODAY - timedelta(days=101)
    )
    _agreement(client, headers, creator, manager, TODAY - timedelta(days=100), "22.00")
    deal = _deal(client, headers, creator, brand)
    assert Decimal(deal["commission_percent"]) == Decimal("22")
    signed = client.put(
        f"/api/v1/deals/{deal['id']}/money-terms",
        json={"contract_date": (TODAY - timedelta(days=200)).isoformat()},
        headers=headers,
    )
    assert signed.status_code == 200, signed.json
    assert signed.json["agreement_id"] == old["id"] and Decimal(signed.json["commission_percent"]) == Decimal("18")
    assert Decimal(client.get(f"/api/v1/deals/{deal['id']}", headers=headers).json["commission_percent"]) == 18
    # No agreement at all: the configured default.
    alone = _deal(client, headers, make_creator(manager=manager), brand)
    terms = _terms(client, headers, alone["id"])
    assert terms["commission_source"] == "default" and terms["splits_source"] == "default"


def test_the_deal_page_says_which_commission_applies(client, manager, make_creator, auth_for, brand):
    creator = make_creator(manager=manager)
    headers = auth_for(manager)
    _agreement(client, headers, creator, manager, TODAY - timedelta(days=30), "25.00")
    follows = _deal(client, headers, creator, brand)
    own = _deal(client, headers, creator, brand, commission_percent="15.00")
    _login(client, manager)
    follows_page = client.get(f"/deals/{follows['id']}").get_data(as_text=True)
    assert "25.00 %" in follows_page and "agreement" in follows_page.split('id="commission-source"')[1][:120]
    own_page = client.get(f"/deals/{own['id']}").get_data(as_text=True)
    assert "15.00 %" in own_page and "set on this deal" in own_page


def test_an_agreement_without_a_default_rate_takes_the_configured_commission(
    app, client, manager, make_creator, auth_for, monkeypatch
):
    monkeypatch.setattr(app.config["AGENCY"], "default_commission_percent", "17.50")
    headers = auth_for(manager)
    creator = make_creator(manager=manager)
    body = {"creator_id": creator.id, "starts_on": TODAY.isoformat(), "payout_currency": "EUR",
            "splits": [{"role": "agency", "share_percent": "100"}]}  # fmt: skip
    response = client.post("/api/v1/agreements", json=body, headers=headers)
    assert response.status_code == 201, response.json
    # Configuration is the only place a default percentage is written.
    assert response.json["default_commission_percent"] == "17.50"
    brand = client.post("/api/v1/brands", json={"name": "Configured"}, headers=headers).json
    deal = _deal(client, headers, creator, brand)
    assert Decimal(_terms(client, headers, deal["id"])["commission_percent"]) == Decimal("17.50")
    # Given, the agreement's own rate is kept.
    other = make_creator(manager=manager)
    body |= {"creator_id": other.id, "default_commission_percent": "12.00"}
    given = client.post("/api/v1/agreements", json=body, headers=headers)
    assert given.status_code == 201 and given.json["default_commission_percent"] == "12.00"
