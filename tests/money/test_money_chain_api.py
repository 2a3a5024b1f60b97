"""The money chain through the API: a deal invoiced, paid in parts, paid out, and the creator's
statement; every step read back from the ledger."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from agency.core.audit.models import AuditEntry
from agency.currencies.models import FxRate
from agency.money.chain_models import Invoice, JournalEntry, JournalLine, Payment
from agency.money.ledger import trial_balance, unbalanced_entries
from agency.money.models import RevenueRecord

TODAY = date.today()


@pytest.fixture()
def brand(client, manager, auth_for):
    response = client.post("/api/v1/brands", json={"name": "Maison Ledger"}, headers=auth_for(manager))
    assert response.status_code == 201, response.json
    return response.json


def deal_at(client, headers, creator, brand, stage="delivered", **extra):
    body = {
        "creator_id": creator.id,
        "brand_id": brand["id"],
        "title": "Spring launch",
        "source": "direct",
        "fee_amount": "1000.00",
        "fee_currency": "EUR",
    } | extra
    deal = client.post("/api/v1/deals", json=body, headers=headers).json
    for next_stage in ["negotiating", "contracted", "in_progress", "delivered", "invoiced"]:
        response = client.post(
            f"/api/v1/deals/{deal['id']}/transitions", json={"to_stage": next_stage}, headers=headers
        )
        assert response.status_code == 200, response.json
        if next_stage == stage:
            break
    return deal


def balances(session) -> dict:
    return {row["code"]: row["balance"] for row in trial_balance(session)}


def assert_books_balance(session):
    assert unbalanced_entries(session) == []
    assert sum(balances(session).values()) == 0


def test_invoiced_deal_is_issued_with_splits_from_the_agreement_and_posted(
    client, session, manager, make_user, make_creator, auth_for, brand
):
    creator = make_creator(manager=manager)
    headers = auth_for(manager)
    agreement = client.post(
        "/api/v1/agreements",
        json={
            "creator_id": creator.id,
            "starts_on": (TODAY - timedelta(days=30)).isoformat(),
            "ends_on": (TODAY + timedelta(days=300)).isoformat(),
            "territories": ["FR", "be"],
            "commission_rates": {"brand_deal": "25.00", "creator_rewards": "0"},
            "payout_currency": "EUR",
            "splits": [
                {"role": "agency", "share_percent": "60"},
                {"role": "primary_manager", "user_id": manager.id, "share_percent": "30"},
                {"role": "referrer", "referrer_name": "Studio Nord", "share_percent": "10"},
            ],
        },
        headers=headers,
    )
    assert agreement.status_code == 201, agreement.json
    assert agreement.json["territories"] == ["FR", "BE"]
    deal = deal_at(client, headers, creator, brand, stage="invoiced")
    invoices = client.get(f"/api/v1/invoices?deal_id={deal['id']}", headers=headers).json
    assert len(invoices) == 1
    invoice = invoices[0]
    assert invoice["status"] == "issued" and invoice["number"] == f"INV-{TODAY.year}-00001"
    assert invoice["commission_percent"] == "25.00" and invoice["total"] == "1000.00"
    assert invoice["due_on"] == (TODAY + timedelta(days=30)).isoformat()
    assert [s["payee"] for s in invoice["splits"]] == ["agency", f"user:{manager.id}", "Studio Nord"]
    # 1000 invoiced: creator 750, commission 250 = agency 150 + manager 75 + referrer 25.
    books = balances(session)
    assert books["1200"] == Decimal("1000.00")
    assert books["2100"] == Decimal("-750.00")
    assert books["4000"] == Decimal("-150.00")
    assert books["2200"] == Decimal("-100.00")
    payees = dict(
        session.execute(select(JournalLine.payee, JournalLine.credit).where(JournalLine.account_code == "2200")).all()
    )
    assert payees == {f"user:{manager.id}": Decimal("75.00"), "Studio Nord": Decimal("25.00")}
    assert_books_balance(session)
    # The shares must sum to 100 %.
    bad = client.patch(
        f"/api/v1/agreements/{agreement.json['id']}",
        json={"version": agreement.json["version"], "splits": [{"role": "agency", "share_percent": "90"}]},
        headers=headers,
    )
    assert bad.status_code == 422 and "splits" in bad.json["errors"]
    overlapping = client.post(
        "/api/v1/agreements",
        json={"creator_id": creator.id, "starts_on": TODAY.isoformat(), "payout_currency": "EUR"},
        headers=headers,
    )
    assert overlapping.status_code == 409


def test_partial_then_full_payment_pays_the_deal_and_records_revenue_once(
    client, session, manager, make_creator, auth_for, brand
):
    creator = make_creator(manager=manager)
    headers = auth_for(manager)
    deal = deal_at(client, headers, creator, brand, stage="invoiced")
    invoice = client.get(f"/api/v1/invoices?deal_id={deal['id']}", headers=headers).json[0]
    first = client.post(
        "/api/v1/payments",
        json={
            "brand_id": brand["id"],
            "received_on": TODAY.isoformat(),
            "amount": "400.00",
            "currency": "EUR",
            "bank_reference": "BANK-1",
            "allocations": [{"invoice_id": invoice["id"], "amount": "400.00"}],
        },
        headers=headers,
    )
    assert first.status_code == 201, first.json
    assert client.get(f"/api/v1/invoices/{invoice['id']}", headers=headers).json["status"] == "partially_paid"
    assert client.get(f"/api/v1/deals/{deal['id']}", headers=headers).json["stage"] == "invoiced"
    # An overpayment: 700 for the 600 still owed; 100 stays as the brand's credit.
    second = client.post(
        "/api/v1/payments",
        json={
            "brand_id": brand["id"],
            "received_on": TODAY.isoformat(),
            "amount": "700.00",
            "currency": "EUR",
            "bank_reference": "BANK-2",
        },
        headers=headers,
    )
    too_much = client.post(
        f"/api/v1/payments/{second.json['id']}/allocations",
        json={"allocations": [{"invoice_id": invoice["id"], "amount": "700.00"}]},
        headers=headers,
    )
    assert too_much.status_code == 422
    paid = client.post(
        f"/api/v1/payments/{second.json['id']}/allocations",
        json={"allocations": [{"invoice_id": invoice["id"], "amount": "600.00"}]},
        headers=headers,
    )
    assert paid.status_code == 200, paid.json
    assert paid.json["unallocated"] == "100.00"
    assert client.get(f"/api/v1/invoices/{invoice['id']}", headers=headers).json["status"] == "paid"
    assert client.get(f"/api/v1/deals/{deal['id']}", headers=headers).json["stage"] == "paid"
    revenue = session.scalars(select(RevenueRecord).where(RevenueRecord.deal_id == deal["id"])).all()
    assert len(revenue) == 1 and revenue[0].amount == Decimal("1000.00")
    books = balances(session)
    assert books["1000"] == Decimal("1100.00") and books["1200"] == 0 and books["2300"] == Decimal("-100.00")
    assert_books_balance(session)
    dup = client.post(
        "/api/v1/payments",
        json={
            "brand_id": brand["id"],
            "received_on": TODAY.isoformat(),
            "amount": "1.00",
            "currency": "EUR",
            "bank_reference": "BANK-2",
        },  # fmt: skip
        headers=headers,
    )
    assert dup.status_code == 409


def test_foreign_currency_payment_books_the_exchange_difference(
    client, session, admin, manager, make_creator, auth_for, brand
):
    session.add_all(
        [
            FxRate(day=TODAY - timedelta(days=10), base="USD", quote="EUR", rate=Decimal("0.90")),
            FxRate(day=TODAY, base="USD", quote="EUR", rate=Decimal("0.95")),
        ]
    )
    session.commit()
    creator = make_creator(manager=manager)
    headers = auth_for(manager)
    deal = deal_at(client, headers, creator, brand, stage="delivered", fee_amount="1000.00", fee_currency="USD")
    created = client.post(
        "/api/v1/invoices",
        json={
            "deal_id": deal["id"],
            "issued_on": (TODAY - timedelta(days=5)).isoformat(),
            "payment_terms_days": 45,
            "vat_rate": "20",
        },  # fmt: skip
        headers=headers,
    )
    assert created.status_code == 201, created.json
    invoice = created.json
    assert invoice["total"] == "1200.00" and invoice["vat_amount"] == "200.00"
    assert client.get(f"/api/v1/deals/{deal['id']}", headers=headers).json["stage"] == "invoiced"
    # Issued at 0.90: receivable 1080.00 EUR. Paid in EUR on a day USD is worth 0.95: 1140.00 EUR.
    payment = client.post(
        "/api/v1/payments",
        json={"brand_id": brand["id"], "received_on": TODAY.isoformat(), "amount": "1140.00", "currency": "EUR",
              "bank_reference": "FX-1", "allocations": [{"invoice_id": invoice["id"], "amount": "1200.00"}]},
        headers=headers,
    )  # fmt: skip
    assert payment.status_code == 201, payment.json
    assert payment.json["unallocated"] == "0.00"
    books = balances(session)
    assert books["1200"] == 0 and books["1000"] == Decimal("1140.00") and books["7000"] == Decimal("-60.00")
    assert books["2400"] == Decimal("-180.00")  # 200 USD of VAT at 0.90
    assert_books_balance(session)
    reverse_charge = client.post(
        "/api/v1/invoices", json={"deal_id": deal["id"], "reverse_charge": True, "vat_rate": "20"}, headers=headers
    )
    assert reverse_charge.status_code in (409, 422)


def test_credit_note_instead_of_edit_and_gapless_numbers(client, session, manager, make_creator, auth_for, brand):
    creator = make_creator(manager=manager)
    headers = auth_for(manager)
    one = deal_at(client, headers, creator, brand, stage="invoiced")
    two = deal_at(client, headers, creator, brand, stage="invoiced")
    first, second = (client.get(f"/api/v1/invoices?deal_id={d['id']}", headers=headers).json[0] for d in (one, two))
    assert [first["number"], second["number"]] == [f"INV-{TODAY.year}-00001", f"INV-{TODAY.year}-00002"]
    note = client.post(
        f"/api/v1/invoices/{first['id']}/credit-notes", json={"amount": "250.00", "reason": "one video dropped"},
        headers=headers,
    )  # fmt: skip
    assert note.status_code == 201, note.json
    assert note.json["kind"] == "credit_note" and note.json["number"] == f"CN-{TODAY.year}-00001"
    after = client.get(f"/api/v1/invoices/{first['id']}", headers=headers).json
    assert after["outstanding"] == "750.00" and after["amount_credited"] == "250.00"
    pdf = client.get(f"/api/v1/invoices/{first['id']}/pdf", headers=headers)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    note_pdf = client.get(f"/api/v1/invoices/{note.json['id']}/pdf", headers=headers)
    assert note_pdf.data.startswith(b"%PDF") and note_pdf.data != pdf.data
    # The PDF is the document as issued: a later credit note does not change it.
    assert client.get(f"/api/v1/invoices/{first['id']}/pdf", headers=headers).data == pdf.data
    voided = client.post(f"/api/v1/invoices/{second['id']}/void", headers=headers)
    assert voided.status_code == 200 and voided.json["status"] == "void"
    assert balances(session)["1200"] == Decimal("750.00")
    assert balances(session)["2100"] == Decimal("-600.00")  # 80 % of 750
    too_much = client.post(
        f"/api/v1/invoices/{first['id']}/credit-notes", json={"amount": "750.01", "reason": "x"}, headers=headers
    )
    assert too_much.status_code == 422
    assert_books_balance(session)


def test_bank_export_imported_twice_changes_nothing(client, session, manager, make_creator, auth_for, brand):
    creator = make_creator(manager=manager)
    headers = auth_for(manager)
    deal = deal_at(client, headers, creator, brand, stage="invoiced")
    invoice = client.get(f"/api/v1/invoices?deal_id={deal['id']}", headers=headers).json[0]
    body = (
        "date,amount,currency,bank_reference,brand_id,payer,invoice_number\n"
        f"{TODAY.isoformat()},1000.00,EUR,STMT-77,{brand['id']},=HYPERLINK(1),{invoice['number']}\n"
        f"{TODAY.isoformat()},50.00,EUR,STMT-78,{brand['id']},Maison,\n"
    )

    def counts():
        return (
            session.scalar(select(func.count(Payment.id))),
            session.scalar(select(func.count(JournalEntry.id))),
            session.scalar(select(func.count(JournalLine.id))),
        )

    first = client.post("/api/v1/payments/import", data=body, content_type="text/csv", headers=headers)
    assert first.status_code == 200, first.json
    assert first.json["inserted"] == 2 and first.json["allocated"] == 1
    assert session.get(Invoice, invoice["id"]).status.value == "paid"
    before = counts()
    again = client.post("/api/v1/payments/import", data=body, content_type="text/csv", headers=headers)
    assert again.status_code == 200 and again.json["inserted"] == 0 and again.json["unchanged"] == 2
    assert counts() == before
    bad = client.post(
        "/api/v1/payments/import",
        data="date,amount,currency,bank_reference,brand_id\n2026-13-01,x,EUR,R9,1\n",
        content_type="text/csv",
        headers=headers,
    )
    assert bad.status_code == 422 and {e["field"] for e in bad.json["errors"]["rows"]} == {"date", "amount"}
    assert counts() == before
    assert_books_balance(session)


def test_payout_batch_approved_by_an_admin_and_statement_reconciles(
    client, session, admin, manager, analyst, make_creator, make_portal_user, auth_for, brand
):
    creator = make_creator(manager=manager)
    headers = auth_for(manager)
    client.post(
        "/api/v1/agreements",
        json={"creator_id": creator.id, "starts_on": "2020-01-01", "payout_currency": "EUR",
              "commission_rates": {"brand_deal": "20"}},
        headers=headers,
    )  # fmt: skip
    deal = deal_at(client, headers, creator, brand, stage="invoiced")
    invoice = client.get(f"/api/v1/invoices?deal_id={deal['id']}", headers=headers).json[0]
    # Nothing collected yet: nothing to pay out.
    assert client.post("/api/v1/payout-batches", json={}, headers=auth_for(admin)).status_code == 422
    client.post(
        "/api/v1/payments",
        json={"brand_id": brand["id"], "received_on": TODAY.isoformat(), "amount": "1000.00", "currency": "EUR",
              "bank_reference": "P-1", "allocations": [{"invoice_id": invoice["id"], "amount": "1000.00"}]},
        headers=headers,
    )  # fmt: skip
    payables = client.get("/api/v1/payouts/payables", headers=auth_for(analyst)).json
    assert [(p["creator_id"], p["balance"], p["available"]) for p in payables] == [(creator.id, "800.00", "800.00")]
    batch = client.post("/api/v1/payout-batches", json={"creator_ids": [creator.id]}, headers=headers)
    assert batch.status_code == 201, batch.json
    assert batch.json["total"] == "800.00"
    approval = {"version": batch.json["version"]}
    assert (
        client.post(f"/api/v1/payout-batches/{batch.json['id']}/approval", json=approval, headers=headers).status_code
        == 403
    )  # noqa: E501
    approved = client.post(
        f"/api/v1/payout-batches/{batch.json['id']}/approval", json=approval, headers=auth_for(admin)
    )
    assert approved.status_code == 200 and approved.json["status"] == "approved"
    stale = client.post(
        f"/api/v1/payout-batches/{batch.json['id']}/payment",
        json={"version": batch.json["version"], "paid_on": TODAY.isoformat(), "reference": "SEPA-1"},
        headers=auth_for(admin),
    )
    assert stale.status_code == 409
    paid = client.post(
        f"/api/v1/payout-batches/{batch.json['id']}/payment",
        json={"version": approved.json["version"], "paid_on": TODAY.isoformat(), "reference": "SEPA-1"},
        headers=auth_for(admin),
    )
    assert paid.status_code == 200 and paid.json["status"] == "paid"
    month = TODAY.strftime("%Y-%m")
    statement = client.get(f"/api/v1/creators/{creator.id}/account-statement?month={month}", headers=headers).json
    assert (statement["opening"], statement["earned"], statement["commission"]) == ("0.00", "1000.00", "200.00")
    assert (statement["paid_out"], statement["closing"]) == ("800.00", "0.00")
    assert statement["in_payout_currency"]["closing"] == "0.00"
    # The creator sees their own balance and statement, and nobody else's.
    portal = auth_for(make_portal_user(creator))
    assert client.get(f"/api/v1/creators/{creator.id}/balance", headers=portal).json["balance"] == "0.00"
    other = make_creator(manager=manager)
    assert client.get(f"/api/v1/creators/{other.id}/balance", headers=portal).status_code == 403
    assert client.get("/api/v1/invoices", headers=portal).status_code == 403
    assert session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "payout_batch.paid")) == 1
    assert_books_balance(session)


def test_rbac_aging_export_and_reversal(
    client, session, admin, manager, analyst, make_user, make_creator, auth_for, brand
):
    creator = make_creator(manager=manager)
    headers = auth_for(manager)
    deal = deal_at(client, headers, creator, brand, stage="delivered")
    issued_on = TODAY - timedelta(days=75)
    invoice = client.post(
        "/api/v1/invoices", json={"deal_id": deal["id"], "issued_on": issued_on.isoformat()}, headers=headers
    ).json
    aging = client.get("/api/v1/aging", headers=auth_for(analyst)).json
    assert aging["totals"]["31_60"] == "1000.00" and aging["totals"]["total"] == "1000.00"
    assert aging["by_brand"][0]["brand"] == "Maison Ledger" and aging["by_brand"][0]["dso_days"] == "90.0"
    assert aging["by_manager"][0]["manager_id"] == manager.id
    # Analysts read, they do not write; another manager cannot act on this creator's invoice.
    assert client.post("/api/v1/invoices", json={"deal_id": deal["id"]}, headers=auth_for(analyst)).status_code == 403
    stranger = auth_for(make_user("manager"))
    refused = client.post(
        f"/api/v1/invoices/{invoice['id']}/credit-notes", json={"amount": "1.00", "reason": "x"}, headers=stranger
    )
    assert refused.status_code == 403
    entry = session.scalar(select(JournalEntry).where(JournalEntry.kind == "invoice_issued"))
    assert (
        client.post(f"/api/v1/ledger/entries/{entry.id}/reversal", json={"reason": "x"}, headers=headers).status_code
        == 403
    )  # noqa: E501
    reversal = client.post(
        f"/api/v1/ledger/entries/{entry.id}/reversal", json={"reason": "issued by mistake"}, headers=auth_for(admin)
    )
    assert reversal.status_code == 201 and reversal.json["reverses_id"] == entry.id
    again = client.post(f"/api/v1/ledger/entries/{entry.id}/reversal", json={"reason": "x"}, headers=auth_for(admin))
    assert again.status_code == 409
    assert balances(session)["1200"] == 0
    export = client.get(
        f"/api/v1/ledger/export?from={(issued_on - timedelta(days=1)).isoformat()}&to={TODAY + timedelta(days=2)}",
        headers=auth_for(analyst),
    )
    assert export.status_code == 200 and export.mimetype == "text/csv"
    rows = export.get_data(as_text=True).splitlines()
    assert rows[0].startswith("date,entry,account_code,account_name,description,debit,credit,currency")
    assert len(rows) == 1 + 2 * 3  # receivable, creator payable, commission; and their reversal
    assert client.get("/api/v1/ledger/export", headers=auth_for(analyst)).status_code == 422
    assert_books_balance(session)
