"""Money events outside the invoice chain through the API: platform payouts posted when their
revenue is recorded (API, endpoint, import), commission paid to a manager or referrer, and the
unpaid remainder of an invoice written off; each read back from the ledger."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from agency.core.audit.models import AuditEntry
from agency.currencies.models import FxRate
from agency.money.chain_models import JournalEntry
from agency.money.models import RevenueRecord
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
    assert bad.status_code == 422 and "amount" in bad.json["errors"]  # EUR: at most 2 decimals
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


def _revenue(client, headers, creator, source="creator_rewards", amount="200.00", refund=False, currency="EUR"):
    body = {"creator_id": creator.id, "date": (TODAY - timedelta(days=2)).isoformat(), "source": source,
            "amount": amount, "currency": currency, "refund": refund}  # fmt: skip
    response = client.post("/api/v1/revenue", json=body, headers=headers)
    assert response.status_code == 201, response.json
    return response.json["id"]


def _payout_lines(session, record_id):
    entry = session.scalar(select(JournalEntry).where(JournalEntry.event_key == f"platform-payout:{record_id}"))
    if entry is None:
        return None
    return {(line.account_code, line.payee, line.debit, line.credit) for line in entry.lines}


def _payout_entries(session, record_id) -> int:
    key = f"platform-payout:{record_id}"
    return session.scalar(select(func.count()).select_from(JournalEntry).where(JournalEntry.event_key == key))


def test_platform_revenue_recorded_posts_its_payout_once(client, session, analyst, manager, make_creator, auth_for):
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
    # Recording the platform's revenue posts it: 200 received, commission 10 % = 20 (agency 12,
    # manager 6, referrer 2), creator 180.
    rewards = _revenue(client, headers, creator)
    assert _payout_lines(session, rewards) == {
        ("1000", None, Decimal("200.00"), Decimal("0.00")),
        ("2100", None, Decimal("0.00"), Decimal("180.00")),
        ("4000", None, Decimal("0.00"), Decimal("12.00")),
        ("2200", f"user:{manager.id}", Decimal("0.00"), Decimal("6.00")),
        ("2200", "Studio Nord", Decimal("0.00"), Decimal("2.00")),
    }
    # The explicit endpoint cannot post the same money again.
    assert client.post(url, json={"revenue_record_id": rewards}, headers=headers).status_code == 409
    assert _payout_entries(session, rewards) == 1
    # The endpoint records the platform revenue and the posting follows from it, once.
    body = {"creator_id": creator.id, "date": (TODAY - timedelta(days=1)).isoformat(), "source": "live_gifts",
            "amount": "50.00", "currency": "EUR", "external_ref": "gifts-1"}  # fmt: skip
    assert client.post(url, json={"revenue": body}, headers=auth_for(analyst)).status_code == 403
    assert client.post(url, json={}, headers=headers).status_code == 422
    gifts = client.post(url, json={"revenue": body}, headers=headers)
    assert gifts.status_code == 201, gifts.json
    assert {(line["account_code"], line["credit"]) for line in gifts.json["lines"] if line["credit"] != "0.00"} == {
        ("2100", "50.00")
    }  # a source at 0 %: everything is the creator's
    gifts_id = session.scalar(select(RevenueRecord.id).where(RevenueRecord.external_ref == "gifts-1"))
    assert _payout_entries(session, gifts_id) == 1
    assert client.post(url, json={"revenue": body}, headers=headers).status_code == 409  # same external_ref
    # A refund recorded takes it back, reversed.
    refund = _revenue(client, headers, creator, amount="-100.00", refund=True)
    assert ("1000", None, Decimal("0.00"), Decimal("100.00")) in _payout_lines(session, refund)
    books = balances(session)
    assert books["1000"] == Decimal("150.00") and books["2100"] == Decimal("-140.00")
    assert books["4000"] == Decimal("-6.00") and books["2200"] == Decimal("-4.00")
    # Not a platform's income, or a creator without an agreement: nothing posted, and the
    # endpoint refuses them.
    merch = _revenue(client, headers, creator, "merch")
    assert _payout_lines(session, merch) is None
    assert client.post(url, json={"revenue_record_id": merch}, headers=headers).status_code == 422
    assert client.post(url, json={"revenue": body | {"source": "merch"}}, headers=headers).status_code == 422
    other = make_creator(manager=manager)
    unrepresented = _revenue(client, headers, other)
    assert _payout_lines(session, unrepresented) is None
    assert client.post(url, json={"revenue_record_id": unrepresented}, headers=headers).status_code == 409
    refused = client.post(url, json={"revenue": body | {"creator_id": other.id, "external_ref": "x"}}, headers=headers)
    assert refused.status_code == 409
    assert session.scalar(select(RevenueRecord.id).where(RevenueRecord.external_ref == "x")) is None
    assert client.post(url, json={"revenue_record_id": 10**9}, headers=headers).status_code == 404
    # A posted record keeps its money; deleting it reverses the posting.
    patched = client.patch(f"/api/v1/revenue/{rewards}", json={"amount": "300.00", "version": 1}, headers=headers)
    assert patched.status_code == 409, patched.json
    notes = client.patch(f"/api/v1/revenue/{rewards}", json={"notes": "ok", "version": 1}, headers=headers)
    assert notes.status_code == 200, notes.json
    assert client.delete(f"/api/v1/revenue/{rewards}", headers=headers).status_code == 204
    books = balances(session)
    assert books["1000"] == Decimal("-50.00") and books["2100"] == Decimal("40.00")
    assert_books_balance(session)


def test_platform_revenue_waits_for_its_rate_and_imports_post_once(client, session, manager, make_creator, auth_for):
    creator = make_creator(manager=manager)
    headers = auth_for(manager)
    agreement = client.post(
        "/api/v1/agreements",
        json={"creator_id": creator.id, "starts_on": (TODAY - timedelta(days=30)).isoformat(),
              "commission_rates": {"creator_rewards": "20.00"}, "payout_currency": "EUR"},
        headers=headers,
    )  # fmt: skip
    assert agreement.status_code == 201, agreement.json
    # No USD rate yet: the revenue is recorded, its posting waits.
    waiting = _revenue(client, headers, creator, currency="USD")
    assert _payout_lines(session, waiting) is None
    url = "/api/v1/ledger/platform-payouts"
    assert client.post(url, json={"revenue_record_id": waiting}, headers=headers).status_code == 422
    session.add(FxRate(day=TODAY - timedelta(days=20), base="USD", quote="EUR", rate=Decimal("0.9")))
    session.commit()
    assert client.post(url, json={"revenue_record_id": waiting}, headers=headers).status_code == 201
    assert ("1000", None, Decimal("180.00"), Decimal("0.00")) in _payout_lines(session, waiting)
    # An import posts each platform row once; importing the file again posts nothing more.
    day = (TODAY - timedelta(days=3)).isoformat()
    csv = (
        "creator_id,date,source,platform,amount,currency,external_ref,refund\n"
        f"{creator.id},{day},creator_rewards,tiktok,100.00,EUR,imp-1,\n"
        f"{creator.id},{day},subscriptions,tiktok,40.00,EUR,imp-2,\n"
        f"{creator.id},{day},creator_rewards,tiktok,-10.00,EUR,imp-3,true\n"
        f"{creator.id},{day},affiliate,,70.00,EUR,imp-4,\n"
    )
    for attempt in range(2):
        imported = client.post("/api/v1/revenue/import?mode=all", data=csv, content_type="text/csv", headers=headers)
        assert imported.status_code == 200, imported.json
        assert imported.json["ledger"]["posted"] == (3 if attempt == 0 else 0)
    kinds = session.scalars(select(JournalEntry.event_key).where(JournalEntry.kind == "platform_payout")).all()
    assert len(kinds) == len(set(kinds)) == 4
    # 180 + 100 + 40 - 10 received; creators keep 80 %.
    books = balances(session)
    assert books["1000"] == Decimal("310.00") and books["2100"] == Decimal("-248.00")
    assert_books_balance(session)
