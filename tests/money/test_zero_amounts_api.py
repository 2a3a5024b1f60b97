"""Zero amounts are refused where they mean nothing: a revenue record, a refund, a deal's fee."""

from sqlalchemy import func, select

from agency.money.models import RevenueRecord

HEADER = "creator_id,date,source,platform,amount,currency,external_ref\n"


def test_a_revenue_record_or_refund_of_zero_is_refused(client, session, manager, make_creator, auth_for):
    creator = make_creator(manager=manager)
    headers = auth_for(manager)
    body = {"creator_id": creator.id, "date": "2026-01-05", "source": "merch", "currency": "EUR"}
    for amount, refund in (("0", False), ("0.00", False), ("-0.00", True), ("0", True)):
        response = client.post("/api/v1/revenue", json=body | {"amount": amount, "refund": refund}, headers=headers)
        assert response.status_code == 422, (amount, refund)
        assert "zero" in response.json["errors"]["amount"][0]
    made = client.post("/api/v1/revenue", json=body | {"amount": "12.00"}, headers=headers)
    assert made.status_code == 201
    edit = client.patch(
        f"/api/v1/revenue/{made.json['id']}", json={"amount": "0.00", "version": made.json["version"]}, headers=headers
    )
    assert edit.status_code == 422
    imported = client.post(
        "/api/v1/revenue/import?mode=partial",
        data=HEADER + f"{creator.id},2026-01-06,merch,,0.00,EUR,z1\n{creator.id},2026-01-06,merch,,3.00,EUR,z2\n",
        content_type="text/csv",
        headers=headers,
    )
    assert imported.status_code == 200 and imported.json["inserted"] == 1
    assert [e["field"] for e in imported.json["errors"]] == ["amount"]
    assert session.scalar(select(func.count(RevenueRecord.id))) == 2
    assert session.scalar(select(func.count(RevenueRecord.id)).where(RevenueRecord.amount == 0)) == 0


def test_a_deal_fee_of_zero_is_refused(client, manager, make_creator, auth_for):
    headers = auth_for(manager)
    brand = client.post("/api/v1/brands", json={"name": "Zero Co"}, headers=headers).json
    body = {
        "creator_id": make_creator(manager=manager).id,
        "brand_id": brand["id"],
        "title": "Seeding",
        "source": "direct",
        "fee_amount": "0.00",
        "fee_currency": "EUR",
    }
    refused = client.post("/api/v1/deals", json=body, headers=headers)
    assert refused.status_code == 422 and "fee_amount" in refused.json["errors"]["json"]
    deal = client.post("/api/v1/deals", json=body | {"fee_amount": "10.00"}, headers=headers).json
    edit = client.patch(
        f"/api/v1/deals/{deal['id']}", json={"fee_amount": "0", "version": deal["version"]}, headers=headers
    )
    assert edit.status_code == 422
    assert client.get(f"/api/v1/deals/{deal['id']}", headers=headers).json["fee_amount"] == "10.00"
