"""The API document tells the truth: what an endpoint answers (content types, strings or numbers,
handle shapes) is what the document says, and a date outside the range the product holds is a 422."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest

from agency.demo.loader import load_demo
from agency.roster.models import PlatformAccount


def _documented_200(client, path: str) -> dict:
    return client.get("/api/openapi.json").json["paths"][path]["get"]["responses"]["200"]["content"]


@pytest.mark.parametrize("path", ["/api/v1/diversification", "/api/v1/eligibility"])
def test_a_csv_export_is_documented_beside_json(client, admin, auth_for, path):
    answer = client.get(f"{path}?format=csv", headers=auth_for(admin))
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert set(_documented_200(client, path)) == {"application/json", "text/csv"}


def test_the_statement_documents_its_three_forms(client):
    content = _documented_200(client, "/api/v1/creators/{creator_id}/statements/{month}")
    assert set(content) == {"application/json", "text/csv", "text/html"}


@pytest.mark.parametrize("month", ["0000-01", "0001-12", "9999-12", "1899-12"])
def test_a_month_far_from_now_is_refused(client, admin, auth_for, make_creator, month):
    creator = make_creator(manager=admin)
    answer = client.get(f"/api/v1/creators/{creator.id}/account-statement?month={month}", headers=auth_for(admin))
    assert answer.status_code == 422, answer.get_data(as_text=True)
    assert "month" in answer.json["errors"]["query"]


@pytest.mark.parametrize("day", ["0001-01-01", "1899-12-31", "9999-12-31"])
def test_a_date_outside_the_held_range_is_refused_in_bodies_and_queries(client, admin, auth_for, make_creator, day):
    creator = make_creator(manager=admin)
    headers = auth_for(admin)
    strike = client.post(
        f"/api/v1/creators/{creator.id}/strikes", json={"occurred_on": day, "platform": "tiktok"}, headers=headers
    )
    assert strike.status_code == 422 and "occurred_on" in strike.json["errors"]["json"]
    mix = client.get(f"/api/v1/creators/{creator.id}/diversification?as_of={day}", headers=headers)
    assert mix.status_code == 422 and "as_of" in mix.json["errors"]["query"]


def test_a_date_inside_the_range_is_still_taken(client, admin, auth_for, make_creator):
    creator = make_creator(manager=admin)
    strike = client.post(
        f"/api/v1/creators/{creator.id}/strikes",
        json={"occurred_on": "1900-01-01", "platform": "tiktok"},
        headers=auth_for(admin),
    )
    assert strike.status_code == 201, strike.json


def test_snapshot_hours_are_decimal_strings_as_documented(client, admin, auth_for, make_creator):
    account = make_creator(manager=admin).accounts[0]
    day = (date.today() - timedelta(days=1)).isoformat()
    headers = auth_for(admin)
    put = client.put(
        f"/api/v1/accounts/{account.id}/metrics/{day}", json={"followers": 10, "live_hours": 1.5}, headers=headers
    )
    assert put.status_code == 200, put.json
    documented = client.get("/api/openapi.json").json["components"]["schemas"]["Snapshot"]["properties"]
    for name in ("live_hours", "watch_hours"):
        assert documented[name]["type"] == "string" and documented[name]["nullable"] is True
    assert re.fullmatch(documented["live_hours"]["pattern"], put.json["live_hours"])
    assert put.json["watch_hours"] is None  # not reported: unknown, as documented (nullable)
    assert Decimal(put.json["live_hours"]) == Decimal("1.5")


def test_an_archived_creators_mix_is_a_conflict_not_a_server_error(client, admin, auth_for, make_creator):
    creator = make_creator(manager=admin)
    headers = auth_for(admin)
    assert client.delete(f"/api/v1/creators/{creator.id}", headers=headers).status_code in (200, 204)
    answer = client.get(f"/api/v1/creators/{creator.id}/diversification", headers=headers)
    assert answer.status_code == 409


def test_every_demo_handle_matches_the_documented_pattern(client, session, admin, auth_for):
    load_demo(db_session=session, creators=40, days=30, seed=5, today=date.today())
    session.commit()
    pattern = client.get("/api/openapi.json").json["components"]["schemas"]["Account"]["properties"]["handle"][
        "pattern"
    ]
    handles = session.query(PlatformAccount.handle).all()
    assert len(handles) > 40
    assert [h for (h,) in handles if not re.fullmatch(pattern, h)] == []


def test_deal_terms_with_splits_read_back_as_documented(client, admin, auth_for, make_creator):
    headers = auth_for(admin)
    creator = make_creator(manager=admin)
    brand = client.post("/api/v1/brands", json={"name": "Maison Doc", "industry": "beauty"}, headers=headers).json
    body = {"creator_id": creator.id, "brand_id": brand["id"], "title": "Launch", "source": "direct"}
    deal = client.post(
        "/api/v1/deals",
        json=body | {"fee_amount": "1000.00", "fee_currency": "EUR", "commission_percent": "20"},
        headers=headers,
    ).json
    splits = [
        {"role": "agency", "share_percent": "90"},
        {"role": "referrer", "referrer_name": "Ana", "share_percent": "10"},
    ]
    put = client.put(f"/api/v1/deals/{deal['id']}/money-terms", json={"splits": splits}, headers=headers)
    assert put.status_code == 200, put.get_data(as_text=True)
    got = client.get(f"/api/v1/deals/{deal['id']}/money-terms", headers=headers)
    assert got.status_code == 200
    assert sorted(s["role"] for s in got.json["splits"]) == ["agency", "referrer"]
