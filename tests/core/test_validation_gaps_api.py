"""Validation gaps closed: test currencies, archived creators, dates out of range, integers taken
from floats or booleans in JSON lines."""

from __future__ import annotations

import json

from agency.core.database import utcnow


def test_test_currencies_are_refused_everywhere(client, admin, manager, make_creator, auth_for):
    creator = make_creator(manager=manager)
    for code in ("XXX", "XTS", "xts"):
        one = client.post(
            "/api/v1/revenue",
            json={
                "creator_id": creator.id,
                "date": "2026-01-03",
                "source": "merch",
                "amount": "5.00",
                "currency": code,
            },
            headers=auth_for(manager),
        )
        assert one.status_code == 422, code
        body = f"creator_id,date,source,amount,currency\n{creator.id},2026-01-03,merch,5.00,{code}\n"
        imported = client.post("/api/v1/revenue/import", data=body, content_type="text/csv", headers=auth_for(manager))
        assert imported.status_code == 422 and imported.json["errors"]["rows"][0]["field"] == "currency"
        rate = client.post(
            "/api/v1/fx-rates",
            json={"day": "2026-01-03", "base": code, "quote": "EUR", "rate": "1.5"},
            headers=auth_for(admin),
        )
        assert rate.status_code == 422, code


def test_base_equal_to_quote_is_refused_in_the_api_and_the_import(client, admin, auth_for):
    one = client.post(
        "/api/v1/fx-rates",
        json={"day": "2026-01-03", "base": "EUR", "quote": "eur", "rate": "1"},
        headers=auth_for(admin),
    )
    assert one.status_code == 422
    body = "day,base,quote,rate\n2026-01-03,USD,USD,1\n"
    imported = client.post("/api/v1/fx-rates/import", data=body, content_type="text/csv", headers=auth_for(admin))
    assert imported.status_code == 422


def test_money_and_metrics_are_refused_for_archived_creators(client, session, manager, make_creator, auth_for):
    creator = make_creator(manager=manager)
    account_id = creator.accounts[0].id
    creator.archived_at = utcnow()
    session.commit()
    headers = auth_for(manager)
    one = client.post(
        "/api/v1/revenue",
        json={"creator_id": creator.id, "date": "2026-01-03", "source": "merch", "amount": "5.00", "currency": "EUR"},
        headers=headers,
    )
    assert one.status_code == 422 and "creator_id" in one.json["errors"]
    body = f"creator_id,date,source,amount,currency\n{creator.id},2026-01-03,merch,5.00,EUR\n"
    imported = client.post("/api/v1/revenue/import", data=body, content_type="text/csv", headers=headers)
    assert imported.status_code == 422 and "archived" in imported.json["errors"]["rows"][0]["reason"]
    day = client.put(f"/api/v1/accounts/{account_id}/metrics/2026-01-03", json={"followers": 5}, headers=headers)
    assert day.status_code == 422
    metrics = f"account_id,day,followers\n{account_id},2026-01-03,5\n"
    imported = client.post("/api/v1/metrics/import", data=metrics, content_type="text/csv", headers=headers)
    assert imported.status_code == 422 and "archived" in imported.json["errors"]["rows"][0]["reason"]


def test_dates_out_of_range_are_refused(client, manager, make_creator, auth_for):
    creator = make_creator(manager=manager)
    one = client.post(
        "/api/v1/revenue",
        json={"creator_id": creator.id, "date": "0001-01-01", "source": "merch", "amount": "5.00", "currency": "EUR"},
        headers=auth_for(manager),
    )
    assert one.status_code == 422
    body = f"creator_id,date,source,amount,currency\n{creator.id},1899-12-31,merch,5.00,EUR\n"
    imported = client.post("/api/v1/revenue/import", data=body, content_type="text/csv", headers=auth_for(manager))
    assert imported.status_code == 422 and imported.json["errors"]["rows"][0]["field"] == "date"


def test_json_lines_integers_are_never_taken_from_floats_or_booleans(client, manager, make_creator, auth_for):
    creator = make_creator(manager=manager)
    account_id = creator.accounts[0].id
    for value in (10.0, True, "1e3"):
        line = json.dumps({"account_id": account_id, "day": "2026-01-03", "followers": value}) + "\n"
        response = client.post(
            "/api/v1/metrics/import", data=line, content_type="application/x-ndjson", headers=auth_for(manager)
        )
        assert response.status_code == 422, value
        assert response.json["errors"]["rows"][0]["field"] == "followers"
    line = json.dumps({"account_id": float(account_id), "day": "2026-01-03", "followers": 5}) + "\n"
    response = client.post(
        "/api/v1/metrics/import", data=line, content_type="application/x-ndjson", headers=auth_for(manager)
    )
    assert response.status_code == 422 and response.json["errors"]["rows"][0]["field"] == "account_id"
