"""Money-chain amounts in each currency's own minor unit: a yen invoice carries whole yen, a
Kuwaiti or Bahraini dinar payment keeps its three decimals, an agency keeping its books in yen
posts whole yen; and the books still balance."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from agency.alerts.models import Alert, AlertKind
from agency.alerts.service import AlertSettings, evaluate_alerts
from agency.currencies.models import FxRate
from agency.money.chain_models import Invoice, JournalLine, Payment
from agency.money.ledger import trial_balance, unbalanced_entries

TODAY = date.today()


@pytest.fixture()
def brand(client, manager, auth_for):
    response = client.post("/api/v1/brands", json={"name": "Minor Units Ltd"}, headers=auth_for(manager))
    assert response.status_code == 201, response.json
    return response.json


def delivered_deal(client, headers, creator, brand, fee_amount, fee_currency):
    body = {"creator_id": creator.id, "brand_id": brand["id"], "title": "Launch", "source": "direct",
            "fee_amount": fee_amount, "fee_currency": fee_currency}  # fmt: skip
    deal = client.post("/api/v1/deals", json=body, headers=headers)
    assert deal.status_code == 201, deal.json
    for stage in ["negotiating", "contracted", "in_progress", "delivered"]:
        moved = client.post(f"/api/v1/deals/{deal.json['id']}/transitions", json={"to_stage": stage}, headers=headers)
        assert moved.status_code == 200, moved.json
    return deal.json


def assert_books_balance(session):
    assert unbalanced_entries(session) == []
    assert sum(row["balance"] for row in trial_balance(session)) == 0


def pay(client, headers, brand, amount, currency, reference, allocations=()):
    return client.post(
        "/api/v1/payments",
        json={"brand_id": brand["id"], "received_on": TODAY.isoformat(), "amount": amount, "currency": currency,
              "bank_reference": reference, "allocations": list(allocations)},
        headers=headers,
    )  # fmt: skip


def test_a_yen_invoice_has_no_fractional_yen(client, session, manager, make_creator, auth_for, brand):
    session.add(FxRate(day=TODAY - timedelta(days=30), base="EUR", quote="JPY", rate=Decimal("161.37")))
    session.commit()
    creator = make_creator(manager=manager)
    headers = auth_for(manager)
    deal = delivered_deal(client, headers, creator, brand, "123457", "JPY")
    created = client.post("/api/v1/invoices", json={"deal_id": deal["id"], "vat_rate": "10"}, headers=headers)
    assert created.status_code == 201, created.json
    # 10 % of 123,457 yen is 12,345.7: the VAT is 12,346 yen, the total 135,803 yen.
    assert created.json["vat_amount"] == "12346" and created.json["total"] == "135803"
    assert created.json["subtotal"] == "123457" and created.json["lines"][0]["amount"] == "123457"
    invoice = session.get(Invoice, created.json["id"])
    for amount in (invoice.subtotal, invoice.vat_amount, invoice.total):
        assert amount == amount.to_integral_value()
    # Half a yen cannot be paid or allocated.
    assert pay(client, headers, brand, "100.5", "JPY", "JPY-HALF").status_code == 422
    part = pay(client, headers, brand, "35803", "JPY", "JPY-1", [{"invoice_id": invoice.id, "amount": "35803"}])
    assert part.status_code == 201, part.json
    assert part.json["amount"] == "35803" and part.json["allocations"][0]["amount"] == "35803"
    rest = pay(client, headers, brand, "100000", "JPY", "JPY-2")
    half = client.post(
        f"/api/v1/payments/{rest.json['id']}/allocations",
        json={"allocations": [{"invoice_id": invoice.id, "amount": "99999.5"}]},
        headers=headers,
    )
    assert half.status_code == 422
    paid = client.post(
        f"/api/v1/payments/{rest.json['id']}/allocations",
        json={"allocations": [{"invoice_id": invoice.id, "amount": "100000"}]},
        headers=headers,
    )
    assert paid.status_code == 200, paid.json
    shown = client.get(f"/api/v1/invoices/{invoice.id}", headers=headers).json
    assert shown["status"] == "paid" and shown["outstanding"] == "0" and shown["amount_paid"] == "135803"
    # The JPY side of every ledger line is whole yen; the EUR side whole cents.
    for line in session.scalars(select(JournalLine).where(JournalLine.invoice_id == invoice.id)):
        if line.currency == "JPY":
            assert line.amount_currency == line.amount_currency.to_integral_value()
        for amount in (line.debit, line.credit):
            assert amount == amount.quantize(Decimal("0.01"))
    assert_books_balance(session)


@pytest.mark.parametrize("currency", ["KWD", "BHD"])
def test_a_dinar_payment_keeps_three_decimals(client, session, manager, make_creator, auth_for, brand, currency):
    session.add(FxRate(day=TODAY - timedelta(days=30), base=currency, quote="EUR", rate=Decimal("2.9731")))
    session.commit()
    creator = make_creator(manager=manager)
    headers = auth_for(manager)
    deal = delivered_deal(client, headers, creator, brand, "1000.125", currency)
    created = client.post("/api/v1/invoices", json={"deal_id": deal["id"], "vat_rate": "5"}, headers=headers)
    assert created.status_code == 201, created.json
    # 5 % of 1,000.125 is 50.00625: 50.006, the total 1,050.131.
    assert created.json["vat_amount"] == "50.006" and created.json["total"] == "1050.131"
    assert pay(client, headers, brand, "1.2345", currency, f"{currency}-4").status_code == 422
    first = pay(client, headers, brand, "500.005", currency, f"{currency}-1",
                [{"invoice_id": created.json["id"], "amount": "500.005"}])  # fmt: skip
    assert first.status_code == 201, first.json
    assert first.json["amount"] == "500.005" and first.json["unallocated"] == "0.000"
    second = pay(client, headers, brand, "550.127", currency, f"{currency}-2",
                 [{"invoice_id": created.json["id"], "amount": "550.126"}])  # fmt: skip
    assert second.status_code == 201, second.json
    assert second.json["unallocated"] == "0.001"  # a thousandth held as the brand's credit
    assert session.get(Payment, first.json["id"]).amount == Decimal("500.005")
    shown = client.get(f"/api/v1/invoices/{created.json['id']}", headers=headers).json
    assert shown["status"] == "paid" and shown["amount_paid"] == "1050.131" and shown["outstanding"] == "0.000"
    lines = session.scalars(select(JournalLine).where(JournalLine.currency == currency)).all()
    assert Decimal("500.005") in {abs(line.amount_currency) for line in lines}
    assert_books_balance(session)


def test_an_agency_keeping_its_books_in_yen_posts_whole_yen(
    app, client, session, manager, make_creator, auth_for, brand, monkeypatch
):
    monkeypatch.setattr(app.config["AGENCY"], "base_currency", "JPY")
    session.add(FxRate(day=TODAY - timedelta(days=30), base="EUR", quote="JPY", rate=Decimal("160.5")))
    session.commit()
    creator = make_creator(manager=manager)
    headers = auth_for(manager)
    deal = delivered_deal(client, headers, creator, brand, "10.01", "EUR")
    created = client.post("/api/v1/invoices", json={"deal_id": deal["id"]}, headers=headers)
    assert created.status_code == 201, created.json
    assert created.json["total"] == "10.01"
    lines = session.scalars(select(JournalLine).where(JournalLine.invoice_id == created.json["id"])).all()
    # 10.01 EUR is 1,606.605 yen: the receivable is 1,607 yen, the commission (20 %) 321 yen.
    receivable = next(line for line in lines if line.account_code == "1200")
    assert receivable.debit == Decimal("1607") and receivable.amount_currency == Decimal("10.01")
    assert {line.account_code: line.credit for line in lines if line.credit}["4000"] == Decimal("321")
    for line in lines:
        assert line.debit == line.debit.to_integral_value() and line.credit == line.credit.to_integral_value()
    books = client.get("/api/v1/ledger/accounts", headers=headers).json
    assert next(row for row in books if row["code"] == "1200")["balance"] == "1607"
    assert_books_balance(session)


def test_a_dinar_invoice_reminder_shows_its_three_decimals(client, session, manager, make_creator, auth_for, brand):
    session.add(FxRate(day=TODAY - timedelta(days=90), base="KWD", quote="EUR", rate=Decimal("2.9731")))
    session.commit()
    creator = make_creator(manager=manager, status="active")
    headers = auth_for(manager)
    deal = delivered_deal(client, headers, creator, brand, "1000.125", "KWD")
    issued_on = TODAY - timedelta(days=40)  # due 10 days ago
    created = client.post(
        "/api/v1/invoices", json={"deal_id": deal["id"], "issued_on": issued_on.isoformat()}, headers=headers
    )
    assert created.status_code == 201, created.json
    evaluate_alerts(db_session=session, settings=AlertSettings(today=TODAY))
    session.commit()
    reminder = session.scalar(select(Alert).where(Alert.kind == AlertKind.invoice_reminder))
    assert "1000.125 KWD is still owed" in reminder.message
