"""Revenue answers its errors in the API's one shape, naming the fields as the client sends them
(`date`, `refund`), never the names the database uses, and keeping the message that says what to do."""

from datetime import date, timedelta

SHAPE = {"code", "status", "message", "errors"}


def _record(creator_id, **fields):
    return {
        "creator_id": creator_id,
        "source": "merch",
        "amount": "5.00",
        "currency": "EUR",
        "date": "2026-01-01",
    } | fields


def test_a_future_date_is_named_date(client, admin, make_creator, auth_for):
    headers = auth_for(admin)
    creator = make_creator(manager=admin)
    future = (date.today() + timedelta(days=30)).isoformat()
    created = client.post("/api/v1/revenue", json=_record(creator.id, date=future), headers=headers)
    assert created.status_code == 422
    assert set(created.json) == SHAPE and created.json["status"] == "Unprocessable Entity"
    assert created.json["errors"] == {"date": ["is in the future"]}

    record = client.post("/api/v1/revenue", json=_record(creator.id), headers=headers).json
    patched = client.patch(
        f"/api/v1/revenue/{record['id']}", json={"date": future, "version": record["version"]}, headers=headers
    )
    assert patched.status_code == 422
    assert patched.json["errors"] == {"date": ["is in the future"]}


def test_an_archived_creators_mix_says_why(client, admin, make_creator, auth_for):
    headers = auth_for(admin)
    creator = make_creator(manager=admin)
    assert client.delete(f"/api/v1/creators/{creator.id}", headers=headers).status_code in (200, 204)
    answer = client.get(f"/api/v1/creators/{creator.id}/diversification", headers=headers)
    assert answer.status_code == 409
    assert answer.json["message"] == "This creator is archived: restore them to see their revenue mix."
    assert answer.json["status"] == "Conflict"


def test_a_malformed_statement_month_says_how_to_address_it(client, admin, make_creator, auth_for):
    creator = make_creator(manager=admin)
    answer = client.get(f"/api/v1/creators/{creator.id}/statements/2026-13", headers=auth_for(admin))
    assert answer.status_code == 404
    assert answer.json["message"] == "Statements are addressed by month as YYYY-MM."
