import json
from datetime import date, timedelta

from sqlalchemy import insert

from agency.metrics.models import MetricSnapshot
from agency.programmes.catalogue import seed_catalogue


def _seed(session):
    seed_catalogue(db_session=session)
    session.commit()


def _grow(session, account, followers, days=40, views=5000):
    today = date.today()
    session.execute(
        insert(MetricSnapshot),
        [
            {
                "account_id": account.id,
                "day": today - timedelta(days=days - i),
                "followers": followers + 10 * i,
                "views": views,
                "qualified_videos": 1,
            }
            for i in range(days)
        ],
    )
    session.commit()


def test_creator_eligibility_explains_each_programme(client, session, manager, make_creator, auth_for):
    _seed(session)
    creator = make_creator(manager=manager, date_of_birth=date(1995, 3, 3), country="FR")
    _grow(session, creator.accounts[0], followers=9_000)
    headers = auth_for(manager)
    assert (
        client.post("/api/v1/eligibility/recompute", json={"creator_ids": [creator.id]}, headers=headers).json[
            "inserted"
        ]
        >= 7
    )
    body = client.get(f"/api/v1/creators/{creator.id}/eligibility", headers=headers).json
    by_code = {row["program"]["code"]: row for row in body}
    assert by_code["tiktok_live_gifts"]["eligible"] is True
    fund = by_code["tiktok_creator_fund"]
    assert fund["eligible"] is False
    followers = next(c for c in fund["criteria"] if c.get("metric") == "followers")
    assert followers["threshold"] == 10_000 and followers["gap"] == 10_000 - followers["actual"]
    # Growing 10 a day; 9,390 yesterday: the line fitted to the last 27 days with data (of a
    # 28-day trend) reaches 10,000 in 61 days, and the answer says so.
    assert followers["eta"] == (date.today() + timedelta(days=61)).isoformat()
    assert followers["forecast"]["method"] == "least_squares_trend"
    assert followers["forecast"]["history_days"] == 27
    # YouTube programmes fail with a reason, not a crash: there is no YouTube account.
    ypp = by_code["youtube_partner_program"]
    assert any(c.get("reason") == "no youtube account" for c in ypp["criteria"])


def test_as_of_answers_with_that_days_rules_and_metrics(client, session, analyst, make_creator, auth_for):
    _seed(session)
    creator = make_creator(date_of_birth=date(1995, 3, 3))
    _grow(session, creator.accounts[0], followers=900)  # crosses 1,000 after ~10 days
    headers = auth_for(analyst)
    early = (date.today() - timedelta(days=35)).isoformat()
    then = client.get(f"/api/v1/creators/{creator.id}/eligibility?as_of={early}", headers=headers).json
    now = client.get(f"/api/v1/creators/{creator.id}/eligibility?as_of={date.today()}", headers=headers).json
    live_then = next(r for r in then if r["program"]["code"] == "tiktok_live_gifts")
    live_now = next(r for r in now if r["program"]["code"] == "tiktok_live_gifts")
    assert live_then["eligible"] is False and live_now["eligible"] is True


def test_roster_filters_csv_and_activation(client, session, manager, make_creator, auth_for, analyst):
    _seed(session)
    creator = make_creator(manager=manager, date_of_birth=date(1990, 1, 1))
    _grow(session, creator.accounts[0], followers=5_000)
    headers = auth_for(manager)
    client.post("/api/v1/eligibility/recompute", json={}, headers=headers)
    listed = client.get(
        "/api/v1/eligibility?program=tiktok_live_gifts&eligible=true&not_activated=true", headers=headers
    ).json
    assert [r["creator_id"] for r in listed] == [creator.id]
    program_id = listed[0]["program"]["id"]
    put = client.put(
        f"/api/v1/creators/{creator.id}/activations/{program_id}", json={"status": "active"}, headers=headers
    )
    assert put.status_code == 200 and put.json["activated_on"] == date.today().isoformat()
    assert client.get("/api/v1/eligibility?program=tiktok_live_gifts&not_activated=true", headers=headers).json == []
    stale = client.put(
        f"/api/v1/creators/{creator.id}/activations/{program_id}",
        json={"status": "rejected", "version": 99},
        headers=headers,
    )
    assert stale.status_code == 409
    assert (
        client.put(
            f"/api/v1/creators/{creator.id}/activations/{program_id}",
            json={"status": "applied"},
            headers=auth_for(analyst),
        ).status_code
        == 403
    )
    csv = client.get("/api/v1/eligibility?format=csv&program=tiktok_creator_fund&page_size=1&page=3", headers=headers)
    assert csv.mimetype == "text/csv"
    lines = csv.get_data(as_text=True).splitlines()
    # The export holds every matching row whatever the page asked, and its header says so.
    rows = len(lines) - 1
    assert json.loads(csv.headers["X-Pagination"]) == {
        "total": rows,
        "total_pages": 1,
        "first_page": 1,
        "last_page": 1,
        "page": 1,
    }
    assert lines[0].startswith("creator_id,creator,program,eligible")
    assert "tiktok followers >= 10,000" in lines[1]


def test_rules_are_versioned_and_validated(client, session, admin, manager, auth_for):
    _seed(session)
    headers = auth_for(admin)
    program = next(p for p in client.get("/api/v1/programs", headers=headers).json if p["code"] == "tiktok_live_gifts")
    bad = client.post(
        f"/api/v1/programs/{program['id']}/rules",
        headers=headers,
        json={
            "effective_from": "2026-01-01",
            "criteria": [
                {"kind": "age", "min": 18},
                {"kind": "metric", "metric": "fans", "platform": "tiktok", "min": -1},
            ],
        },
    )
    assert bad.status_code == 422
    assert set(bad.json["errors"]["criteria"]["1"]) == {"metric", "min"}
    good = client.post(
        f"/api/v1/programs/{program['id']}/rules",
        headers=headers,
        json={
            "effective_from": "2026-01-01",
            "source_note": "new threshold",
            "criteria": [
                {"kind": "age", "min": 18},
                {"kind": "metric", "metric": "followers", "platform": "tiktok", "min": 2000},
            ],
        },
    )
    assert good.status_code == 201 and good.json["version"] == 2
    rules = client.get(f"/api/v1/programs/{program['id']}/rules", headers=headers).json
    assert [r["version"] for r in rules] == [1, 2]
    assert rules[0]["criteria"][1]["min"] == 1000  # the old version is untouched
    forbidden = client.post(
        f"/api/v1/programs/{program['id']}/rules",
        headers=auth_for(manager),
        json={"effective_from": "2026-01-01", "criteria": [{"kind": "age", "min": 18}]},
    )
    assert forbidden.status_code == 403


def test_history_lists_transitions(client, session, admin, make_creator, auth_for):
    _seed(session)
    creator = make_creator(date_of_birth=date(1990, 1, 1))
    _grow(session, creator.accounts[0], followers=5_000)
    headers = auth_for(admin)
    client.post(
        "/api/v1/eligibility/recompute",
        json={"as_of": (date.today() - timedelta(days=60)).isoformat()},
        headers=headers,
    )
    client.post("/api/v1/eligibility/recompute", json={}, headers=headers)
    history = client.get(f"/api/v1/creators/{creator.id}/eligibility/history", headers=headers).json
    assert "gained" in {h["change"] for h in history}
    gained = next(h for h in history if h["change"] == "gained")
    assert gained["changed_criteria"]


def test_windowed_forecasts_need_seven_days_and_count_the_days_that_leave(
    client, session, manager, make_creator, auth_for, make_program
):
    """10,000 views over 30 days: a forecast once 7 days have data, the first day the trailing
    sum gets there as days come in and leave, and none when the level can never get there."""
    criterion = {"kind": "metric", "platform": "tiktok", "metric": "views", "aggregate": "sum", "window_days": 30}
    make_program("views_goal", "Views goal", [criterion | {"min": 10_000}], source_note="")
    today = date.today()
    creators = {}
    for name, days, views in [("short", 6, 500), ("enough", 8, 500), ("never", 20, 200)]:
        creator = make_creator(manager=manager)
        session.execute(
            insert(MetricSnapshot),
            [
                {"account_id": creator.accounts[0].id, "day": today - timedelta(days=d), "followers": 1, "views": views}
                for d in range(1, days + 1)
            ],
        )
        creators[name] = creator
    session.commit()
    headers = auth_for(manager)
    ids = [c.id for c in creators.values()]
    assert client.post("/api/v1/eligibility/recompute", json={"creator_ids": ids}, headers=headers).status_code == 200

    def views(name):
        rows = client.get(f"/api/v1/creators/{creators[name].id}/eligibility", headers=headers).json
        return next(r for r in rows if r["program"]["code"] == "views_goal")["criteria"][0]

    short = views("short")
    assert short["actual"] == 3000 and short["eta"] is None and "forecast" not in short
    enough = views("enough")
    # 4,000 so far; 500 a day more, and the first day that leaves (today-8) leaves after 22 days.
    assert enough["eta"] == (today + timedelta(days=12)).isoformat()
    assert enough["forecast"]["method"] == "trailing_window_crossing" and enough["forecast"]["history_days"] == 8
    assert "30-day window" in enough["forecast"]["description"]
    never = views("never")  # 200 a day can never make 10,000 in 30 days
    assert never["actual"] == 4000 and never["eta"] is None
