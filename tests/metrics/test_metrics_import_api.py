from datetime import date, timedelta

from sqlalchemy import func, select

from agency.metrics.models import MetricSnapshot

HEADER = "platform,handle,day,followers,views,likes\n"


def _post(client, headers, body, mode="all", content_type="text/csv"):
    return client.post(f"/api/v1/metrics/import?mode={mode}", data=body, content_type=content_type, headers=headers)


def _count(session):
    return session.scalar(select(func.count(MetricSnapshot.id)))


def test_csv_import_is_idempotent(client, session, manager, make_creator, auth_for):
    creator = make_creator(manager=manager)
    handle = creator.accounts[0].handle
    body = HEADER + f"tiktok,@{handle.upper()},2026-01-01,100,10,1\ntiktok,{handle},2026-01-02,120,12,2\n"
    headers = auth_for(manager)
    first = _post(client, headers, body)
    assert first.status_code == 200, first.json
    assert (first.json["inserted"], first.json["updated"], first.json["unchanged"]) == (2, 0, 0)
    assert first.json["affected_creator_ids"] == [creator.id]
    second = _post(client, headers, body)
    assert (second.json["inserted"], second.json["updated"], second.json["unchanged"]) == (0, 0, 2)
    assert _count(session) == 2
    changed = _post(client, headers, HEADER + f"tiktok,{handle},2026-01-02,130,12,2\n")
    assert changed.json["updated"] == 1
    snap = session.scalar(select(MetricSnapshot).where(MetricSnapshot.day == date(2026, 1, 2)))
    assert snap.followers == 130


def test_bad_rows_reject_the_whole_file_with_a_report(client, session, manager, make_creator, auth_for):
    creator = make_creator(manager=manager)
    handle = creator.accounts[0].handle
    future = (date.today() + timedelta(days=10)).isoformat()
    body = (
        HEADER
        + f"tiktok,{handle},2026-01-01,100,10,1\n"  # line 2: fine
        + f"tiktok,{handle},2026-01-02,-5,10,1\n"  # line 3: negative
        + f"tiktok,{handle},{future},100,10,1\n"  # line 4: future
        + "tiktok,nobody_here,2026-01-01,100,10,1\n"  # line 5: unknown account
        + f"tiktok,{handle},2026-01-01,101,10,1\n"  # line 6: duplicate of line 2
        + f"tiktok,{handle},not-a-date,1,1,1\n"  # line 7: bad date
        + f"tiktok,{handle},2026-01-03,1\n"
    )  # line 8: too few fields
    response = _post(client, auth_for(manager), body)
    assert response.status_code == 422
    errors = {(e["line"], e["field"]) for e in response.json["errors"]["rows"]}
    assert errors == {(3, "followers"), (4, "day"), (5, "handle"), (6, "day"), (7, "day"), (8, "row")}
    assert "duplicate of line 2" in str(response.json["errors"]["rows"])
    assert response.json["report"]["committed"] is False
    assert _count(session) == 0


def test_partial_mode_imports_the_good_rows(client, session, manager, make_creator, auth_for):
    creator = make_creator(manager=manager)
    handle = creator.accounts[0].handle
    body = HEADER + f"tiktok,{handle},2026-01-01,100,10,1\ntiktok,{handle},2026-01-02,abc,10,1\n"
    response = _post(client, auth_for(manager), body, mode="partial")
    assert response.status_code == 200
    assert response.json["inserted"] == 1 and response.json["rejected"] == 1
    assert response.json["errors"][0] == {"line": 3, "field": "followers", "reason": "must be a whole number"}
    assert _count(session) == 1


def test_json_lines_by_account_id(client, session, manager, make_creator, auth_for):
    account = make_creator(manager=manager).accounts[0]
    body = (
        f'{{"account_id": {account.id}, "day": "2026-01-01", "followers": 5, "watch_hours": "1.25"}}\n'
        f'{{"account_id": {account.id}, "day": "2026-01-02", "followers": 6}}\n'
    )
    response = _post(client, auth_for(manager), body, content_type="application/x-ndjson")
    assert response.status_code == 200, response.json
    assert response.json["inserted"] == 2


def test_unusable_header_and_malformed_csv(client, manager, auth_for):
    headers = auth_for(manager)
    unknown = _post(client, headers, "platform,handle,day,followers,password\n")
    assert unknown.status_code == 422
    assert unknown.json["errors"]["header"]["unknown_columns"] == ["password"]
    malformed = _post(client, headers, 'platform,handle,day,followers\n"tiktok,x,2026-01-01,1\n')
    assert malformed.status_code == 422
    assert "Malformed CSV" in malformed.json["message"]
    wrong_type = _post(client, headers, "a,b", content_type="application/pdf")
    assert wrong_type.status_code == 415


def test_managers_cannot_import_for_other_creators(client, session, manager, make_user, make_creator, auth_for):
    other = make_creator(manager=make_user("manager"))
    body = HEADER + f"tiktok,{other.accounts[0].handle},2026-01-01,100,10,1\n"
    response = _post(client, auth_for(manager), body)
    assert response.status_code == 403
    assert _count(session) == 0


def test_put_one_snapshot_and_read_it_back(client, manager, make_creator, auth_for, analyst):
    account = make_creator(manager=manager).accounts[0]
    day = (date.today() - timedelta(days=1)).isoformat()
    url = f"/api/v1/accounts/{account.id}/metrics/{day}"
    created = client.put(url, json={"followers": 8150, "views": 300, "live_hours": 1.5}, headers=auth_for(manager))
    assert created.status_code == 200, created.json
    updated = client.put(url, json={"followers": 8200}, headers=auth_for(manager))
    assert updated.json["followers"] == 8200 and updated.json["views"] == 300  # kept, not zeroed
    series = client.get(f"/api/v1/accounts/{account.id}/metrics?days=7", headers=auth_for(analyst)).json
    assert [s["followers"] for s in series] == [8200]
    new_day = f"/api/v1/accounts/{account.id}/metrics/{date.today() - timedelta(days=2)}"
    assert client.put(new_day, json={"views": 3}, headers=auth_for(manager)).status_code == 422
    assert client.put(url, json={"followers": -1}, headers=auth_for(manager)).status_code == 422
    assert (
        client.put(
            f"/api/v1/accounts/{account.id}/metrics/2999-01-01", json={"followers": 1}, headers=auth_for(manager)
        ).status_code
        == 422
    )
    assert client.put(url, json={"followers": 1}, headers=auth_for(analyst)).status_code == 403


def test_a_new_day_without_a_column_leaves_that_metric_unknown(client, session, manager, make_creator, auth_for):
    creator = make_creator(manager=manager)
    handle = creator.accounts[0].handle
    response = _post(client, auth_for(manager), f"platform,handle,day,followers\ntiktok,{handle},2026-01-05,77\n")
    assert response.status_code == 200, response.json
    snap = session.scalar(select(MetricSnapshot).where(MetricSnapshot.day == date(2026, 1, 5)))
    assert (snap.followers, snap.views, snap.watch_hours) == (77, None, None)
