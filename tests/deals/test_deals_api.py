from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from agency.money.models import RevenueRecord


@pytest.fixture()
def brand(client, manager, auth_for):
    response = client.post(
        "/api/v1/brands",
        json={"name": "Maison Test", "industry": "beauty", "contacts": [{"name": "Ana", "email": "ana@brand.example"}]},
        headers=auth_for(manager),
    )
    assert response.status_code == 201, response.json
    return response.json


def _deal(client, headers, creator, brand, **extra):
    body = {
        "creator_id": creator.id,
        "brand_id": brand["id"],
        "title": "Spring launch",
        "source": "direct",
        "fee_amount": "1250.00",
        "fee_currency": "eur",
        "commission_percent": "20",
    } | extra
    response = client.post("/api/v1/deals", json=body, headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def test_deal_walks_the_pipeline_and_paid_records_revenue_once(client, session, manager, make_creator, auth_for, brand):
    creator = make_creator(manager=manager)
    headers = auth_for(manager)
    deal = _deal(client, headers, creator, brand)
    assert deal["stage"] == "lead" and deal["fee_amount"] == "1250.00" and deal["fee_currency"] == "EUR"
    assert deal["allowed_transitions"] == ["negotiating", "cancelled", "lost"]
    for stage in ["negotiating", "contracted", "in_progress", "delivered", "invoiced", "paid"]:
        response = client.post(f"/api/v1/deals/{deal['id']}/transitions", json={"to_stage": stage}, headers=headers)
        assert response.status_code == 200, response.json
    body = response.json
    assert body["paid_on"] == date.today().isoformat() and body["allowed_transitions"] == []
    records = session.scalars(select(RevenueRecord).where(RevenueRecord.deal_id == deal["id"])).all()
    assert len(records) == 1 and records[0].amount == Decimal("1250.00") and records[0].source.value == "brand_deal"
    again = client.post(f"/api/v1/deals/{deal['id']}/transitions", json={"to_stage": "paid"}, headers=headers)
    assert again.status_code == 409
    assert len(session.scalars(select(RevenueRecord).where(RevenueRecord.deal_id == deal["id"])).all()) == 1
    history = client.get(f"/api/v1/deals/{deal['id']}/transitions", headers=headers).json
    assert [h["to_stage"] for h in history][-1] == "paid" and history[0]["actor_label"] == manager.email


def test_illegal_jump_is_409_naming_allowed_targets(client, manager, make_creator, auth_for, brand):
    deal = _deal(client, auth_for(manager), make_creator(manager=manager), brand)
    response = client.post(
        f"/api/v1/deals/{deal['id']}/transitions", json={"to_stage": "paid"}, headers=auth_for(manager)
    )
    assert response.status_code == 409
    assert response.json["errors"]["allowed"] == ["negotiating", "cancelled", "lost"]
    assert "lead to paid" in response.json["message"]
    lost = client.post(f"/api/v1/deals/{deal['id']}/transitions", json={"to_stage": "lost"}, headers=auth_for(manager))
    assert lost.status_code == 200
    assert (
        client.post(
            f"/api/v1/deals/{deal['id']}/transitions", json={"to_stage": "negotiating"}, headers=auth_for(manager)
        ).status_code
        == 409
    )


def test_deal_validation_and_ownership(client, manager, make_user, make_creator, auth_for, brand, analyst):
    mine = make_creator(manager=manager)
    theirs = make_creator(manager=make_user("manager"))
    headers = auth_for(manager)
    bad = client.post(
        "/api/v1/deals",
        json={
            "creator_id": mine.id,
            "brand_id": brand["id"],
            "title": "x",
            "source": "direct",
            "fee_amount": "12.345",
            "fee_currency": "ZZZ",
        },
        headers=headers,
    )
    assert bad.status_code == 422
    unknown_currency = client.post(
        "/api/v1/deals",
        json={
            "creator_id": mine.id,
            "brand_id": brand["id"],
            "title": "x",
            "source": "direct",
            "fee_amount": "10",
            "fee_currency": "ZZZ",
        },
        headers=headers,
    )
    assert unknown_currency.status_code == 422 and "fee_currency" in unknown_currency.json["errors"]
    foreign = client.post(
        "/api/v1/deals",
        json={
            "creator_id": theirs.id,
            "brand_id": brand["id"],
            "title": "x",
            "source": "direct",
            "fee_amount": "10",
            "fee_currency": "EUR",
        },
        headers=headers,
    )
    assert foreign.status_code == 403
    deal = _deal(client, headers, mine, brand)
    assert (
        client.post(
            f"/api/v1/deals/{deal['id']}/transitions", json={"to_stage": "negotiating"}, headers=auth_for(analyst)
        ).status_code
        == 403
    )
    stale = client.patch(f"/api/v1/deals/{deal['id']}", json={"title": "new", "version": 5}, headers=headers)
    assert stale.status_code == 409


def test_deliverables_filters_and_pipeline_summary(client, session, admin, manager, make_creator, auth_for, brand):
    creator = make_creator(manager=manager)
    headers = auth_for(manager)
    deal = _deal(client, headers, creator, brand)
    usd = _deal(client, headers, creator, brand, fee_amount="100.00", fee_currency="USD", title="US deal")
    added = client.post(
        f"/api/v1/deals/{deal['id']}/deliverables",
        json={"kind": "video", "platform": "tiktok", "due_date": "2026-01-10"},
        headers=headers,
    )
    assert added.status_code == 201
    published = client.patch(
        f"/api/v1/deals/{deal['id']}/deliverables/{added.json['id']}",
        json={"status": "published", "version": added.json["version"]},
        headers=headers,
    )
    assert published.status_code == 422  # needs the URL
    due = client.get("/api/v1/deals?due_before=2026-02-01", headers=headers).json
    assert [d["id"] for d in due] == [deal["id"]]
    client.post(
        "/api/v1/fx-rates",
        json={"day": "2020-01-01", "base": "USD", "quote": "EUR", "rate": "0.9"},
        headers=auth_for(admin),
    )
    summary = client.get("/api/v1/deals/pipeline", headers=headers).json
    lead = next(s for s in summary["stages"] if s["stage"] == "lead")
    assert lead["count"] == 2 and lead["value"] == "1340.00" and lead["unconverted"] == 0
    assert usd["fee_currency"] == "USD"


def test_brands_are_archived_not_deleted(client, manager, auth_for, brand, analyst):
    headers = auth_for(manager)
    assert client.post("/api/v1/brands", json={"name": "Maison Test"}, headers=headers).status_code == 409
    assert client.delete(f"/api/v1/brands/{brand['id']}", headers=headers).status_code == 204
    assert client.get("/api/v1/brands", headers=headers).json == []
    assert client.get(f"/api/v1/brands/{brand['id']}", headers=headers).json["archived_at"] is not None
    assert client.post("/api/v1/brands", json={"name": "Other"}, headers=auth_for(analyst)).status_code == 403
