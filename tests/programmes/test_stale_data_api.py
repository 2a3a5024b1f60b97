"""Stale data is not current data: a latest value older than the configured number of days is
reported stale with its date and passes nothing; a windowed sum with no snapshot in its window is
"no data", not 0; every metric figure of an eligibility read says how fresh it is."""

import csv
import io
from datetime import date, timedelta

from sqlalchemy import insert

from agency.metrics.models import MetricSnapshot

AS_OF = date(2026, 6, 30)


def _read(client, headers, creator, program):
    rows = client.get(f"/api/v1/creators/{creator.id}/eligibility?as_of={AS_OF}", headers=headers).json
    answer = next(r for r in rows if r["program"]["id"] == program.id)
    return answer, {c["metric"]: c for c in answer["criteria"] if c["kind"] == "metric"}


def _snapshots(session, account, last_day: date, days: int = 20):
    session.execute(
        insert(MetricSnapshot),
        [
            {"account_id": account.id, "day": last_day - timedelta(days=i), "followers": 5_000, "views": 1_000}
            for i in range(days)
        ],
    )
    session.commit()


def test_an_old_value_is_stale_with_its_date_and_an_empty_window_is_no_data(
    app, client, session, analyst, auth_for, make_creator, fund, monkeypatch
):
    headers = auth_for(analyst)
    fresh = make_creator(date_of_birth=date(1990, 1, 1))
    _snapshots(session, fresh.accounts[0], AS_OF - timedelta(days=1))
    answer, metrics = _read(client, headers, fresh, fund)
    assert answer["eligible"] is True
    assert metrics["followers"]["value_day"] == (AS_OF - timedelta(days=1)).isoformat()
    assert metrics["followers"]["stale"] is False and metrics["views"]["value_day"] is not None

    old = make_creator(date_of_birth=date(1990, 1, 1))
    last = AS_OF - timedelta(days=10)  # older than the default 7 days
    _snapshots(session, old.accounts[0], last)
    answer, metrics = _read(client, headers, old, fund)
    assert answer["eligible"] is False  # 5,000 followers, but ten days old: it passes nothing
    followers = metrics["followers"]
    assert followers["passed"] is False and followers["stale"] is True
    assert followers["actual"] == 5_000 and followers["value_day"] == last.isoformat()
    assert followers["reason"] == f"stale: the last value is from {last.isoformat()}"
    views = metrics["views"]  # a 7-day sum with no snapshot in the window
    assert views["passed"] is False and views["actual"] is None and views["actual"] != 0
    assert views["reason"] == "no tiktok views reported in the last 7 days"

    monkeypatch.setattr(app.config["AGENCY"], "stale_metric_days", 14)  # the threshold is configuration
    _answer, metrics = _read(client, headers, old, fund)
    assert metrics["followers"]["stale"] is False and metrics["followers"]["passed"] is True


def test_the_roster_export_names_the_account_and_says_what_is_stale(
    client, session, admin, analyst, auth_for, make_creator, fund
):
    creator = make_creator(date_of_birth=date(1990, 1, 1))
    last = date.today() - timedelta(days=10)
    _snapshots(session, creator.accounts[0], last)
    assert client.post("/api/v1/eligibility/recompute", json={}, headers=auth_for(admin)).status_code == 200
    export = client.get(f"/api/v1/eligibility?format=csv&program={fund.code}", headers=auth_for(analyst))
    (row,) = [
        r for r in csv.DictReader(io.StringIO(export.get_data(as_text=True))) if r["creator_id"] == str(creator.id)
    ]
    assert row["eligible"] == "False" and row["account"] == f"tiktok @{creator.accounts[0].handle}"
    failing = row["failing_criteria"].split("; ")
    assert failing == [
        f"tiktok followers >= 1,000 (stale: the last value is from {last.isoformat()})",
        "tiktok views (sum over 7 days) >= 500 (no tiktok views reported in the last 7 days)",
    ]
