"""Money that was invoiced or paid is locked: the deal's fee, currency and commission stay as they
were invoiced, corrections are dated adjustment records shown as such on the statement of the
month they were made, and a deal's payment is recorded once (API, UI, imports)."""

import re
from datetime import datetime

import pytest
import time_machine
from sqlalchemy import select

from agency.money.models import RevenueRecord
from tests.factories import PASSWORD

PIPELINE = ["negotiating", "contracted", "in_progress", "delivered", "invoiced", "paid"]
HEADER = "creator_id,date,source,platform,amount,currency,external_ref,deal_id\n"


@pytest.fixture()
def brand(client, manager, auth_for):
    response = client.post("/api/v1/brands", json={"name": "Maison Lock"}, headers=auth_for(manager))
    assert response.status_code == 201, response.json
    return response.json


def _open(client, headers, creator, brand, **extra):
    body = {
        "creator_id": creator.id,
        "brand_id": brand["id"],
        "title": "Winter launch",
        "source": "direct",
        "fee_amount": "1000.00",
        "fee_currency": "EUR",
        "commission_percent": "20.00",
    } | extra
    response = client.post("/api/v1/deals", json=body, headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def _move(client, headers, deal_id, until):
    for stage in PIPELINE[: PIPELINE.index(until) + 1]:
        response = client.post(f"/api/v1/deals/{deal_id}/transitions", json={"to_stage": stage}, headers=headers)
        assert response.status_code == 200, response.json
    return response.json


def _statement(client, headers, creator, month):
    response = client.get(f"/api/v1/creators/{creator.id}/statements/{month}", headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def test_an_invoiced_deal_keeps_its_money_and_other_terms_stay_editable(client, manager, make_creator, auth_for, brand):
    headers = auth_for(manager)
    deal = _open(client, headers, make_creator(manager=manager), brand)
    before = client.patch(
        f"/api/v1/deals/{deal['id']}", json={"fee_amount": "1100.00", "version": deal["version"]}, headers=headers
    )
    assert before.status_code == 200 and before.json["fee_amount"] == "1100.00"
    invoiced = _move(client, headers, deal["id"], "invoiced")
    assert invoiced["money_locked"] is True
    for change in ({"fee_amount": "1200.00"}, {"fee_currency": "USD"}, {"commission_percent": "10.00"}):
        refused = client.patch(
            f"/api/v1/deals/{deal['id']}", json=change | {"version": invoiced["version"]}, headers=headers
        )
        assert refused.status_code == 409, change
        assert "invoiced" in refused.json["message"] and refused.json["errors"]["stage"] == ["invoiced"]
        assert list(change)[0] in refused.json["errors"]
    # The same values again are not a change; the title and notes stay editable.
    same = client.patch(
        f"/api/v1/deals/{deal['id']}",
        json={
            "fee_amount": "1100.00",
            "fee_currency": "eur",
            "title": "Winter launch (signed)",
            "version": invoiced["version"],
        },
        headers=headers,
    )
    assert same.status_code == 200, same.json
    paid = client.post(f"/api/v1/deals/{deal['id']}/transitions", json={"to_stage": "paid"}, headers=headers).json
    refused = client.patch(
        f"/api/v1/deals/{deal['id']}", json={"commission_percent": "5.00", "version": paid["version"]}, headers=headers
    )
    assert refused.status_code == 409 and "paid" in refused.json["message"]


def test_corrections_are_dated_adjustments_and_a_past_statement_never_changes(
    client, session, manager, make_creator, auth_for, brand
):
    headers = auth_for(manager)
    creator = make_creator(manager=manager)
    deal = _open(client, headers, creator, brand)
    with time_machine.travel(datetime(2026, 1, 15, 12), tick=False):
        early = client.post(
            f"/api/v1/deals/{deal['id']}/adjustments",
            json={"kind": "credit", "amount": "10.00", "reason": "x"},
            headers=headers,
        )
        assert early.status_code == 409 and "not invoiced" in early.json["message"]
        paid = _move(client, headers, deal["id"], "paid")
        january = _statement(client, headers, creator, "2026-01")
    assert january["total"] == "1000.00" and january["commission"] == "200.00"
    assert [line["adjustment"] for line in january["lines"]] == [None]
    with time_machine.travel(datetime(2026, 2, 10, 12), tick=False):
        refused = client.patch(
            f"/api/v1/deals/{deal['id']}",
            json={"commission_percent": "30.00", "version": paid["version"]},
            headers=headers,
        )
        assert refused.status_code == 409
        payment = session.scalars(select(RevenueRecord).where(RevenueRecord.deal_id == deal["id"])).one()
        edit = client.patch(
            f"/api/v1/revenue/{payment.id}", json={"amount": "900.00", "version": payment.version}, headers=headers
        )
        assert edit.status_code == 409 and "adjustment" in edit.json["message"]
        too_much = client.post(
            f"/api/v1/deals/{deal['id']}/adjustments",
            json={"kind": "refund", "amount": "1000.01", "reason": "more than was paid"},
            headers=headers,
        )
        assert too_much.status_code == 422
        refund = client.post(
            f"/api/v1/deals/{deal['id']}/adjustments",
            json={"kind": "refund", "amount": "150.00", "reason": "one video was not delivered"},
            headers=headers,
        )
        assert refund.status_code == 201, refund.json
        assert refund.json["date"] == "2026-02-10" and refund.json["amount"] == "-150.00"
        assert refund.json["adjustment"] == "refund" and refund.json["refund"] is True
        credit = client.post(
            f"/api/v1/deals/{deal['id']}/adjustments",
            json={"kind": "credit", "amount": "50.00", "reason": "extra story"},
            headers=headers,
        )
        assert credit.status_code == 201 and credit.json["amount"] == "50.00"
        february = _statement(client, headers, creator, "2026-02")
        january_again = _statement(client, headers, creator, "2026-01")
        csv = client.get(f"/api/v1/creators/{creator.id}/statements/2026-02?format=csv", headers=headers)
    assert january_again == january
    assert [(line["adjustment"], line["amount"], line["commission"]) for line in february["lines"]] == [
        ("refund", "-150.00", "-30.00"),
        ("credit", "50.00", "10.00"),
    ]
    assert february["total"] == "-100.00" and february["net"] == "-80.00"
    rows = csv.get_data(as_text=True).splitlines()
    assert rows[0].split(",")[3] == "adjustment" and rows[1].split(",")[3] == "refund"
    listed = client.get(f"/api/v1/deals/{deal['id']}/adjustments", headers=headers).json
    assert [r["adjustment"] for r in listed] == [None, "refund", "credit"]


def test_the_payment_and_corrections_of_a_paid_deal_cannot_be_archived(
    client, session, manager, make_creator, auth_for, brand
):
    headers = auth_for(manager)
    creator = make_creator(manager=manager)
    deal = _open(client, headers, creator, brand)
    with time_machine.travel(datetime(2026, 1, 15, 12), tick=False):
        _move(client, headers, deal["id"], "paid")
        january = _statement(client, headers, creator, "2026-01")
    with time_machine.travel(datetime(2026, 2, 10, 12), tick=False):
        refund = client.post(
            f"/api/v1/deals/{deal['id']}/adjustments",
            json={"kind": "refund", "amount": "100.00", "reason": "late"},
            headers=headers,
        ).json
        payment = session.scalars(
            select(RevenueRecord).where(RevenueRecord.deal_id == deal["id"], RevenueRecord.adjustment.is_(None))
        ).one()
        for record_id in (payment.id, refund["id"]):
            refused = client.delete(f"/api/v1/revenue/{record_id}", headers=headers)
            assert refused.status_code == 409, record_id
            assert refused.json["errors"]["stage"] == ["paid"] and "adjustment" in refused.json["message"]
        february = _statement(client, headers, creator, "2026-02")
        # Archiving it would have let the deal be paid a second time.
        again = client.post(
            "/api/v1/revenue",
            json={"creator_id": creator.id, "date": "2026-02-10", "source": "brand_deal", "amount": "1000.00",
                  "currency": "EUR", "deal_id": deal["id"], "external_ref": "second-payment"},
            headers=headers,
        )  # fmt: skip
        assert again.status_code == 409
        assert _statement(client, headers, creator, "2026-01") == january
    assert [line["adjustment"] for line in february["lines"]] == ["refund"]


def test_a_second_payment_record_of_a_deal_is_refused_by_the_api_and_the_imports(
    client, session, manager, make_creator, auth_for, brand
):
    headers = auth_for(manager)
    creator = make_creator(manager=manager)
    paid = _open(client, headers, creator, brand)
    _move(client, headers, paid["id"], "paid")
    unpaid = _open(client, headers, creator, brand, title="Spring")
    body = {
        "creator_id": creator.id,
        "date": "2026-03-02",
        "source": "brand_deal",
        "amount": "1000.00",
        "currency": "EUR",
        "deal_id": paid["id"],
    }
    refused = client.post("/api/v1/revenue", json=body, headers=headers)
    assert refused.status_code == 409 and "already has its payment record" in refused.json["message"]
    # Other income linked to the deal, and a brand_deal record of a deal not paid yet, are fine.
    assert client.post("/api/v1/revenue", json=body | {"source": "affiliate"}, headers=headers).status_code == 201
    first = client.post("/api/v1/revenue", json=body | {"deal_id": unpaid["id"]}, headers=headers)
    assert first.status_code == 201 and first.json["commission_percent"] == "20.00"
    assert client.post("/api/v1/revenue", json=body | {"deal_id": unpaid["id"]}, headers=headers).status_code == 409
    other = _open(client, headers, creator, brand, title="Summer")
    csv = HEADER + (
        f"{creator.id},2026-03-03,brand_deal,,1000.00,EUR,imp-1,{paid['id']}\n"  # paid already: refused
        f"{creator.id},2026-03-03,merch,,20.00,EUR,imp-2,\n"
        f"{creator.id},2026-03-03,brand_deal,,700.00,EUR,imp-3,{other['id']}\n"  # its payment
        f"{creator.id},2026-03-04,brand_deal,,700.00,EUR,imp-4,{other['id']}\n"  # a second one in the same file
    )
    url = "/api/v1/revenue/import?mode={}"
    whole = client.post(url.format("all"), data=csv, content_type="text/csv", headers=headers)
    assert whole.status_code == 422
    assert {(e["line"], e["field"]) for e in whole.json["errors"]["rows"]} == {(2, "deal_id"), (5, "deal_id")}
    assert "already has its payment record" in whole.json["errors"]["rows"][0]["reason"]
    partial = client.post(url.format("partial"), data=csv, content_type="text/csv", headers=headers)
    assert partial.status_code == 200 and partial.json["inserted"] == 2 and partial.json["rejected"] == 2
    again = client.post(url.format("partial"), data=csv, content_type="text/csv", headers=headers)
    assert again.json["inserted"] == 0 and again.json["unchanged"] == 2  # its own payment is not refused
    payments = session.scalars(
        select(RevenueRecord.external_ref).where(
            RevenueRecord.deal_id == other["id"], RevenueRecord.source == "brand_deal"
        )
    ).all()
    assert payments == ["imp-3"]
    assert (
        session.scalars(select(RevenueRecord.commission_percent).where(RevenueRecord.external_ref == "imp-3")).one()
        == 20
    )


def _login(client, user):
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    return re.search(r'name="csrf-token" content="([^"]+)"', client.get("/").get_data(as_text=True)).group(1)


def test_the_pages_keep_the_lock_and_record_corrections(client, session, manager, make_creator, auth_for, brand):
    headers = auth_for(manager)
    creator = make_creator(manager=manager)
    deal = _open(client, headers, creator, brand)
    paid = _move(client, headers, deal["id"], "paid")
    csrf = _login(client, manager)
    form = client.get(f"/deals/{deal['id']}/edit").get_data(as_text=True)
    assert "locked since the invoice" in form and re.search(r'name="fee_amount"[^>]*readonly', form)
    edit = {
        "csrf_token": csrf,
        "version": paid["version"],
        "brand_id": brand["id"],
        "title": "Winter launch",
        "source": "direct",
        "fee_amount": "1500.00",
        "fee_currency": "EUR",
        "commission_percent": "20.00",
    }
    refused = client.post(f"/deals/{deal['id']}/edit", data=edit)
    assert refused.status_code == 422 and "locked once invoiced" in refused.get_data(as_text=True)
    assert client.post(f"/deals/{deal['id']}/edit", data=edit | {"fee_amount": "1000.00"}).status_code == 302
    second = client.post(
        "/revenue/new",
        data={
            "csrf_token": csrf,
            "creator_id": creator.id,
            "date": "2026-03-02",
            "source": "brand_deal",
            "amount": "1000.00",
            "currency": "EUR",
            "deal_id": deal["id"],
        },
    )
    assert second.status_code == 422 and "already has its payment record" in second.get_data(as_text=True)
    page = client.post(
        f"/deals/{deal['id']}/adjustments",
        data={"csrf_token": csrf, "kind": "refund", "amount": "100.00", "reason": "late delivery"},
    )
    assert page.status_code == 302
    shown = client.get(f"/deals/{deal['id']}/adjustments").get_data(as_text=True)
    assert "refund" in shown and "late delivery" in shown and "−€100.00" in shown
    assert (
        session.scalar(select(RevenueRecord.adjustment).where(RevenueRecord.notes == "late delivery")).value == "refund"
    )
    # The payment's own page offers an adjustment, not its archiving (which the service refuses).
    payment = session.scalars(
        select(RevenueRecord).where(RevenueRecord.deal_id == deal["id"], RevenueRecord.adjustment.is_(None))
    ).one()
    record_page = client.get(f"/revenue/{payment.id}/edit").get_data(as_text=True)
    assert "Archive this record" not in record_page and f"/deals/{deal['id']}/adjustments" in record_page
    archived = client.post(f"/revenue/{payment.id}/archive", data={"csrf_token": csrf})
    assert archived.status_code == 409 and "cannot be archived" in archived.get_data(as_text=True)


def test_the_default_commission_comes_from_configuration(
    app, client, manager, make_creator, auth_for, brand, monkeypatch
):
    monkeypatch.setattr(app.config["AGENCY"], "default_commission_percent", "17.50")
    headers = auth_for(manager)
    body = {
        "creator_id": make_creator(manager=manager).id,
        "brand_id": brand["id"],
        "title": "No commission given",
        "source": "inbound",
        "fee_amount": "300.00",
        "fee_currency": "EUR",
    }
    response = client.post("/api/v1/deals", json=body, headers=headers)
    assert response.status_code == 201 and response.json["commission_percent"] == "17.50"
