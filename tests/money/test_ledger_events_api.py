"""Money events posted by an admin through the API: commission paid to a manager or referrer,
and the unpaid remainder of an invoice written off; each read back from the ledger."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from agency.core.audit.models import AuditEntry
from agency.money.chain_models import JournalEntry
from tests.money.test_money_chain_api import TODAY, assert_books_balance, balances, deal_at


@pytest.fixture()
def brand(client, manager, auth_for):
    response = client.post("/api/v1/brands", json={"name": "Maison Events"}, headers=auth_for(manager))
    assert response.status_code == 201, response.json
    return response.json


def _agreement(client, headers, creator, manager):
    response = client.post(
        "/api/v1/agreements",
        json={
            "creator_id": creator.id,
            "starts_on": (TODAY - timedelta(days=30)).isoformat(),
            "commission_rates": {"brand_deal": "25.00"},
            "payout_currency": "EUR",
            "splits": [
                {"role": "agency", "share_percent": "60"},
                {"role": "primary_manager", "user_id": manager.id, "share_percent": "30"},
                {"role": "referrer", "referrer_name": "Studio Nord", "share_percent": "10"},
            ],
        },
        headers=headers,
    )
    assert response.status_code == 201, response.json


def test_commission_paid_to_a_manager_and_a_referrer(client, session, admin, manager, make_creator, auth_for, brand):
    creator = make_creator(manager=manager)
    headers = auth_for(manager)
    _agreement(client, headers, creator, manager)
    deal_at(client, headers, creator, brand, stage="invoiced")  # commission 250: manager 75, referrer 25
    owed = client.get("/api/v1/ledger/commission-payables", headers=headers).json
    assert owed == [{"payee": "Studio Nord", "balance": "25.00"}, {"payee": f"user:{manager.id}", "balance": "75.00"}]
    payee = f"user:{manager.id}"
    body = {"payee": payee, "amount": "50.00", "paid_on": TODAY.isoformat(), "reference": "COM-1"}
    assert client.post("/api/v1/ledger/commission-payouts", json=body, headers=headers).status_code == 403
    paid = client.post("/api/v1/ledger/commission-payouts", json=body, headers=auth_for(admin))
    assert paid.status_code == 201, paid.json
    assert {(line["account_code"], line["debit"], line["credit"]) for line in paid.json["lines"]} == {
        ("2200", "50.00", "0.00"),
        ("1000", "0.00", "50.00"),
    }
    assert paid.json["reference"] == "COM-1"
    # The same payment recorded twice, more than is owed, or nothing: refused.
    again = client.post("/api/v1/ledger/commission-payouts", json=body, headers=auth_for(admin))
    assert again.status_code == 409
    too_much = client.post(
        "/api/v1/ledger/commission-payouts",
        json=body | {"amount": "25.01", "reference": "COM-2"},
        headers=auth_for(admin),
    )
    assert too_much.status_code == 409
    stranger = client.post(
        "/api/v1/ledger/commission-payouts",
        json=body | {"payee": "Nobody", "reference": "COM-3"},
        headers=auth_for(admin),
    )
    assert stranger.status_code == 409
    bad = client.post("/api/v1/ledger/commission-payouts", json=body | {"amount": "0.001"}, headers=auth_for(admin))
    assert bad.status_code == 422 and "amount" in bad.json["errors"]["json"]
    rest = client.post(
        "/api/v1/ledger/commission-payouts",
        json={"payee": "Studio Nord", "amount": "25.00", "paid_on": TODAY.isoformat(), "reference": "COM-4"},
        headers=auth_for(admin),
    )
    assert rest.status_code == 201
    owed = client.get("/api/v1/ledger/commission-payables", headers=headers).json
    assert owed == [{"payee": "Studio Nord", "balance": "0.00"}, {"payee": payee, "balance": "25.00"}]
    books = balances(session)
    assert books["2200"] == Decimal("-25.00") and books["1000"] == Decimal("-75.00")
    assert session.scalar(select(AuditEntry).where(AuditEntry.action == "commission.paid")) is not None
    assert_books_balance(session)


def test_unpaid_remainder_written_off(client, session, admin, manager, make_creator, auth_for, brand):
    creator = make_creator(manager=manager)
    headers = auth_for(manager)
    deal = deal_at(client, headers, creator, brand, stage="invoiced")
    invoice = client.get(f"/api/v1/invoices?deal_id={deal['id']}", headers=headers).json[0]
    payment = client.post(
        "/api/v1/payments",
        json={"brand_id": brand["id"], "received_on": TODAY.isoformat(), "amount": "400.00", "currency": "EUR",
              "bank_reference": "WO-1", "allocations": [{"invoice_id": invoice["id"], "amount": "400.00"}]},
        headers=headers,
    )  # fmt: skip
    assert payment.status_code == 201, payment.json
    url = f"/api/v1/invoices/{invoice['id']}/write-off"
    assert client.post(url, json={"reason": "brand insolvent"}, headers=headers).status_code == 403
    assert client.post(url, json={}, headers=auth_for(admin)).status_code == 422
    written = client.post(url, json={"reason": "brand insolvent"}, headers=auth_for(admin))
    assert written.status_code == 200, written.json
    assert written.json["status"] == "paid" and written.json["outstanding"] == "0.00"
    assert written.json["amount_written_off"] == "600.00" and written.json["amount_paid"] == "400.00"
    entry = session.scalar(select(JournalEntry).where(JournalEntry.kind == "write_off"))
    assert {(line.account_code, line.debit, line.credit) for line in entry.lines} == {
        ("6900", Decimal("600.00"), Decimal("0.00")),
        ("1200", Decimal("0.00"), Decimal("600.00")),
    }
    books = balances(session)
    assert books["1200"] == 0 and books["6900"] == Decimal("600.00")
    assert client.post(url, json={"reason": "again"}, headers=auth_for(admin)).status_code == 409
    # Written off, it no longer takes payments and leaves the aging.
    assert client.get("/api/v1/aging", headers=headers).json["totals"]["total"] == "0.00"
    assert_books_balance(session)


def _revenue(client, headers, creator, source="creator_rewards", amount="200.00", refund=False):
    body = {"creator_id": creator.id, "date": (TODAY - timedelta(days=2)).isoformat(), "source": source,
            "amount": amount, "currency": "EUR", "refund": refund}  # fmt: skip
    response = client.post("/api/v1/revenue", json=body, headers=headers)
    assert response.status_code == 201, response.json
    return response.json["id"]


def test_platform_payout_posts_cash_creator_share_and_commission_once(
    client, session, analyst, manager, make_creator, auth_for
):
    creator = make_creator(manager=manager)
    headers = auth_for(manager)
    response = client.post(
        "/api/v1/agreements",
        json={"creator_id": creator.id, "starts_on": (TODAY - timedelta(days=30)).isoformat(),
              "commission_rates": {"creator_rewards": "10.00", "live_gifts": "0"}, "payout_currency": "EUR",
              "splits": [{"role": "agency", "share_percent": "60"},
                         {"role": "primary_manager", "user_id": manager.id, "share_percent": "30"},
                         {"role": "referrer", "referrer_name": "Studio Nord", "share_percent": "10"}]},
        headers=headers,
    )  # fmt: skip
    assert response.status_code == 201, response.json
    url = "/api/v1/ledger/platform-payouts"
    rewards = _revenue(client, headers, creator)
    assert client.post(url, json={"revenue_record_id": rewards}, headers=auth_for(analyst)).status_code == 403
    posted = client.post(url, json={"revenue_record_id": rewards}, headers=headers)
    assert posted.status_code == 201, posted.json
    # 200 received: commission 10 % = 20 (agency 12, manager 6, referrer 2), creator 180.
    lines = {(line["account_code"], line["payee"], line["debit"], line["credit"]) for line in posted.json["lines"]}
    assert lines == {
        ("1000", None, "200.00", "0.00"),
        ("2100", None, "0.00", "180.00"),
        ("4000", None, "0.00", "12.00"),
        ("2200", f"user:{manager.id}", "0.00", "6.00"),
        ("2200", "Studio Nord", "0.00", "2.00"),
    }
    assert client.post(url, json={"revenue_record_id": rewards}, headers=headers).status_code == 409
    # A source at 0 %: everything is the creator's.
    gifts = client.post(url, json={"revenue_record_id": _revenue(client, headers, creator, "live_gifts", "50.00")},
                        headers=headers)  # fmt: skip
    assert gifts.status_code == 201
    assert {(line["account_code"], line["credit"]) for line in gifts.json["lines"] if line["credit"] != "0.00"} == {
        ("2100", "50.00")
    }
    # A refund takes it back, reversed.
    refund = client.post(
        url, json={"revenue_record_id": _revenue(client, headers, creator, amount="-100.00", refund=True)},
        headers=headers,
    )  # fmt: skip
    assert refund.status_code == 201, refund.json
    books = balances(session)
    assert books["1000"] == Decimal("150.00") and books["2100"] == Decimal("-140.00")
    assert books["4000"] == Decimal("-6.00") and books["2200"] == Decimal("-4.00")
    # Not a platform's income, or a creator without an agreement: refused.
    merch = _revenue(client, headers, creator, "merch")
    assert client.post(url, json={"revenue_record_id": merch}, headers=headers).status_code == 422
    unrepresented = _revenue(client, headers, make_creator(manager=manager))
    assert client.post(url, json={"revenue_record_id": unrepresented}, headers=headers).status_code == 409
    assert client.post(url, json={"revenue_record_id": 10**9}, headers=headers).status_code == 404
    assert_books_balance(session)
