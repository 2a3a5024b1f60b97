"""A metric nobody reported for a day is unknown, and the eligibility rules read around it: `latest`
is the most recent reported value of that metric (with its day, which the stale rule applies to),
and a trend is fitted to, and counts, only the days where the metric has a value. The stored
evaluation and the "as of" answer are the same document."""

import math
from datetime import date, timedelta

from sqlalchemy import insert

from agency.metrics.models import MetricSnapshot


def _latest(metric: str, minimum: int) -> dict:
    return {"kind": "metric", "platform": "tiktok", "metric": metric, "aggregate": "latest", "min": minimum}


def _record(session, account, days: dict[int, dict]) -> None:
    """Snapshots of `account`, by days before today; followers every day, other metrics as given
    (a metric left out of a day is unreported)."""
    today = date.today()
    session.execute(
        insert(MetricSnapshot),
        [
            {"account_id": account.id, "day": today - timedelta(days=back), "followers": 100} | m
            for back, m in days.items()
        ],
    )
    session.commit()


def _answers(client, headers, creator, code: str) -> dict:
    """The metric criteria of the programme's stored evaluation, by metric and aggregate, after
    checking that the "as of" answer for today is the same document."""
    stored = client.get(f"/api/v1/creators/{creator.id}/eligibility", headers=headers).json
    fresh = client.get(f"/api/v1/creators/{creator.id}/eligibility?as_of={date.today()}", headers=headers).json
    (row,) = [r for r in stored if r["program"]["code"] == code]
    (fresh_row,) = [r for r in fresh if r["program"]["code"] == code]
    assert fresh_row["criteria"] == row["criteria"] and fresh_row["eligible"] == row["eligible"]
    return {(c["metric"], c["aggregate"]): c for c in row["criteria"]}


def test_latest_reads_the_most_recent_reported_value_of_each_metric_with_its_day(
    client, session, admin, analyst, auth_for, make_creator, make_program
):
    make_program(
        "latest_mix",
        "Latest mix",
        [_latest("views", 1_000), _latest("likes", 50), _latest("shares", 5), _latest("comments", 1)],
    )
    creator = make_creator()
    days = {}
    for back in range(1, 13):
        day = {}
        if back >= 3:  # views unreported yesterday and the day before
            day["views"] = 2_000 - 10 * back
        if back >= 2:  # likes unreported yesterday
            day["likes"] = 80 - back
        if back >= 10:  # shares last reported ten days ago: older than the 7 days that count
            day["shares"] = 9
        days[back] = day  # comments never reported
    _record(session, creator.accounts[0], days)
    ids = {"creator_ids": [creator.id]}
    assert client.post("/api/v1/eligibility/recompute", json=ids, headers=auth_for(admin)).status_code == 200

    criteria = _answers(client, auth_for(analyst), creator, "latest_mix")
    today = date.today()
    views = criteria[("views", "latest")]
    assert views["passed"] is True and views["actual"] == 1_970
    assert views["value_day"] == (today - timedelta(days=3)).isoformat() and views["stale"] is False
    likes = criteria[("likes", "latest")]
    assert likes["passed"] is True and likes["actual"] == 78
    assert likes["value_day"] == (today - timedelta(days=2)).isoformat()
    shares = criteria[("shares", "latest")]
    ten_days_ago = (today - timedelta(days=10)).isoformat()
    assert shares["passed"] is False and shares["stale"] is True and shares["actual"] == 9
    assert shares["value_day"] == ten_days_ago and shares["reason"] == f"stale: the last value is from {ten_days_ago}"
    comments = criteria[("comments", "latest")]
    assert comments["passed"] is False and comments["actual"] is None and comments["value_day"] is None
    assert comments["reason"] == "no tiktok comments reported"


# Views reported on ten of the last fourteen days (none three, six, nine and twelve days ago).
GAPPY = {1: 2_900, 2: 2_840, 4: 2_560, 5: 2_520, 7: 2_280, 8: 2_240, 10: 1_960, 11: 1_900, 13: 1_730, 14: 1_570}


def _least_squares_slope(points: dict[int, int]) -> float:
    """The slope per day of the least-squares line through (-days back, value)."""
    xs, ys = [-back for back in points], list(points.values())
    n = len(xs)
    sx, sy = sum(xs), sum(ys)
    sxy, sxx = sum(x * y for x, y in zip(xs, ys)), sum(x * x for x in xs)
    return (n * sxy - sx * sy) / (n * sxx - sx * sx)


def test_a_trend_is_fitted_to_and_counts_only_the_days_the_metric_was_reported(
    client, session, admin, analyst, auth_for, make_creator, make_program
):
    views_sum = {"kind": "metric", "platform": "tiktok", "metric": "views", "aggregate": "sum", "window_days": 30}
    make_program("views_trend", "Views trend", [_latest("views", 4_000), views_sum | {"min": 60_000}])
    gappy, sparse = make_creator(), make_creator()
    _record(
        session, gappy.accounts[0], {back: {"views": GAPPY[back]} if back in GAPPY else {} for back in range(1, 15)}
    )
    # Views on five of ten days: fewer than the seven days with a value a forecast needs.
    _record(session, sparse.accounts[0], {back: {"views": 1_000 * back} if back % 2 else {} for back in range(1, 11)})
    ids = {"creator_ids": [gappy.id, sparse.id]}
    assert client.post("/api/v1/eligibility/recompute", json=ids, headers=auth_for(admin)).status_code == 200

    criteria = _answers(client, auth_for(analyst), gappy, "views_trend")
    latest = criteria[("views", "latest")]
    slope = _least_squares_slope(GAPPY)
    assert round(slope, 2) == 101.26
    # 2,900 yesterday, 1,100 to go at about 101 a day: 11 days.
    assert latest["actual"] == 2_900 and latest["eta"] == (date.today() + timedelta(days=11)).isoformat()
    assert math.ceil((4_000 - 2_900) / slope) == 11
    assert latest["forecast"]["history_days"] == 10 and "last 10 days with data" in latest["forecast"]["description"]
    windowed = criteria[("views", "sum")]
    assert windowed["actual"] == sum(GAPPY.values()) and windowed["eta"] is not None
    assert windowed["forecast"]["history_days"] == 10

    criteria = _answers(client, auth_for(analyst), sparse, "views_trend")
    for key in [("views", "latest"), ("views", "sum")]:
        assert criteria[key]["passed"] is False and criteria[key]["eta"] is None and "forecast" not in criteria[key]
    assert criteria[("views", "latest")]["actual"] == 1_000


def test_unreported_first_days_of_a_window_leave_nothing_and_keep_their_crossing_days(
    client, session, admin, analyst, auth_for, make_creator, make_program
):
    """1,000 views over 10 days. Views unreported nine and eight days ago, then 40, 60, ... 160 a
    day: 700 so far, a line growing 20 a day, fitted at 180 today. Tomorrow the window drops the
    first unreported day and adds 180 (880); the day after it drops the second and adds 180 again:
    1,060, the first day the sum gets there."""
    window = {"kind": "metric", "platform": "tiktok", "metric": "views", "aggregate": "sum", "window_days": 10}
    make_program("views_10", "Views over 10 days", [window | {"min": 1_000}])
    creator = make_creator()
    views = {7: 40, 6: 60, 5: 80, 4: 100, 3: 120, 2: 140, 1: 160}
    _record(
        session, creator.accounts[0], {back: {"views": views[back]} if back in views else {} for back in range(1, 10)}
    )
    ids = {"creator_ids": [creator.id]}
    assert client.post("/api/v1/eligibility/recompute", json=ids, headers=auth_for(admin)).status_code == 200

    windowed = _answers(client, auth_for(analyst), creator, "views_10")[("views", "sum")]
    assert windowed["actual"] == 700 and windowed["passed"] is False
    assert windowed["eta"] == (date.today() + timedelta(days=2)).isoformat()
    assert windowed["forecast"]["history_days"] == 7


def test_a_window_whose_snapshots_never_report_the_metric_says_so_not_that_there_are_none(
    client, session, admin, analyst, auth_for, make_creator, make_program
):
    views_sum = {"kind": "metric", "platform": "tiktok", "metric": "views", "aggregate": "sum", "window_days": 7}
    make_program("quiet_views", "Quiet views", [views_sum | {"min": 500}])
    reported, silent, empty = make_creator(), make_creator(), make_creator()
    _record(session, reported.accounts[0], {back: {"views": 100} for back in range(1, 7)})
    _record(session, silent.accounts[0], {back: {} for back in range(1, 7)})  # followers only, every day
    _record(session, empty.accounts[0], {20: {"views": 900}})  # a snapshot, but outside the window
    ids = {"creator_ids": [reported.id, silent.id, empty.id]}
    assert client.post("/api/v1/eligibility/recompute", json=ids, headers=auth_for(admin)).status_code == 200

    views = _answers(client, auth_for(analyst), reported, "quiet_views")[("views", "sum")]
    assert views["passed"] is True and views["actual"] == 600 and "reason" not in views
    for creator in (silent, empty):
        views = _answers(client, auth_for(analyst), creator, "quiet_views")[("views", "sum")]
        assert views["passed"] is False and views["actual"] is None and views["value_day"] is None
        assert views["reason"] == "no tiktok views reported in the last 7 days"
