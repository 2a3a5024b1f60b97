"""The estimated crossing date of a windowed average: the day the trailing average over the window
reaches its threshold if the fitted daily level holds, each future day entering the window at that
level while the oldest days leave it; a day the metric was not reported is not part of the
average, then or now. The stored evaluation and the "as of" answer are the same document."""

from datetime import date, timedelta

from sqlalchemy import insert

from agency.metrics.models import MetricSnapshot

# Views on each of the last 14 days, 40 more every day: the fitted line is exact, 1,100 today.
VIEWS = {back: 1_100 - 40 * back for back in range(1, 15)}


def _record(session, account, views: dict[int, int | None]) -> None:
    today = date.today()
    session.execute(
        insert(MetricSnapshot),
        [
            {"account_id": account.id, "day": today - timedelta(days=back), "followers": 100, "views": value}
            for back, value in views.items()
        ],
    )
    session.commit()


def _average_criterion(client, headers, creator) -> dict:
    stored = client.get(f"/api/v1/creators/{creator.id}/eligibility", headers=headers).json
    fresh = client.get(f"/api/v1/creators/{creator.id}/eligibility?as_of={date.today()}", headers=headers).json
    (row,) = [r for r in stored if r["program"]["code"] == "views_avg"]
    (fresh_row,) = [r for r in fresh if r["program"]["code"] == "views_avg"]
    assert fresh_row["criteria"] == row["criteria"]
    (criterion,) = row["criteria"]
    return criterion


def test_an_average_crosses_when_the_days_entering_the_window_lift_it_over_the_threshold(
    client, session, admin, analyst, auth_for, make_creator, make_program
):
    average = {"kind": "metric", "platform": "tiktok", "metric": "views", "aggregate": "avg", "window_days": 7}
    make_program("views_avg", "Average views", [average | {"min": 1_002}])
    steady, gappy = make_creator(), make_creator()
    _record(session, steady.accounts[0], VIEWS)
    _record(session, gappy.accounts[0], VIEWS | {3: None})  # views not reported three days ago
    ids = {"creator_ids": [steady.id, gappy.id]}
    assert client.post("/api/v1/eligibility/recompute", json=ids, headers=auth_for(admin)).status_code == 200
    today, headers = date.today(), auth_for(analyst)

    # The window (today and the six days before, today not reported yet): 1,060 ... 860, an
    # average of 960. Tomorrow 860 leaves and 1,100 enters: 6,000 over 6 days, 1,000, short of
    # 1,002; the day after, 900 leaves and 1,100 enters again: 6,200 over 6 days, 1,033.
    criterion = _average_criterion(client, headers, steady)
    assert criterion["passed"] is False and criterion["actual"] == 960
    assert criterion["eta"] == (today + timedelta(days=2)).isoformat()

    # Without the unreported day: 4,780 over 5 days, 956. Tomorrow 860 leaves and 1,100 enters:
    # 5,020 over 5 days, 1,004, over the threshold already.
    criterion = _average_criterion(client, headers, gappy)
    assert criterion["passed"] is False and criterion["actual"] == 956
    assert criterion["eta"] == (today + timedelta(days=1)).isoformat()
