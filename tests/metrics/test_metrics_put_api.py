"""One day of an account's metrics through the API: an update keeps what it does not send, and a
metric nobody reported is unknown (null), never a made-up 0."""

from datetime import date, timedelta

from sqlalchemy import select

from agency.metrics.models import MetricSnapshot

DAY = (date.today() - timedelta(days=2)).isoformat()


def _put(client, headers, account_id, body, day=DAY):
    return client.put(f"/api/v1/accounts/{account_id}/metrics/{day}", json=body, headers=headers)


def _stored(session, account_id, day=DAY) -> MetricSnapshot:
    session.expire_all()
    return session.scalar(
        select(MetricSnapshot).where(
            MetricSnapshot.account_id == account_id, MetricSnapshot.day == date.fromisoformat(day)
        )
    )


def test_updating_one_number_keeps_the_others(client, session, manager, make_creator, auth_for):
    account = make_creator(manager=manager).accounts[0]
    headers = auth_for(manager)
    full = {"followers": 1200, "views": 5000, "likes": 300, "comments": 40, "shares": 7, "live_hours": "2.50"}
    assert _put(client, headers, account.id, full).status_code == 200

    response = _put(client, headers, account.id, {"followers": 1250})
    assert response.status_code == 200, response.json
    assert (response.json["followers"], response.json["views"], response.json["likes"]) == (1250, 5000, 300)
    stored = _stored(session, account.id)
    assert (stored.followers, stored.views, stored.likes, stored.comments, stored.shares) == (1250, 5000, 300, 40, 7)
    assert str(stored.live_hours) == "2.50"

    # An existing day can be corrected without restating followers.
    response = _put(client, headers, account.id, {"views": 5100})
    assert response.status_code == 200, response.json
    stored = _stored(session, account.id)
    assert (stored.followers, stored.views, stored.likes) == (1250, 5100, 300)

    # A metric reported by mistake can be set back to unknown; followers cannot.
    assert _put(client, headers, account.id, {"shares": None}).json["shares"] is None
    assert _put(client, headers, account.id, {"followers": None}).status_code == 422
    assert _stored(session, account.id).followers == 1250


def test_a_new_day_leaves_unreported_metrics_unknown(client, session, manager, make_creator, auth_for):
    account = make_creator(manager=manager).accounts[0]
    response = _put(client, auth_for(manager), account.id, {"followers": 900, "views": 40})
    assert response.status_code == 200, response.json
    assert response.json["likes"] is None and response.json["watch_hours"] is None
    stored = _stored(session, account.id)
    assert (stored.followers, stored.views, stored.likes, stored.live_hours) == (900, 40, None, None)


def test_a_new_day_needs_followers(client, session, manager, make_creator, auth_for):
    account = make_creator(manager=manager).accounts[0]
    response = _put(client, auth_for(manager), account.id, {"views": 40})
    assert response.status_code == 422
    assert response.json["errors"] == {"followers": ["is required for a day with no snapshot yet"]}
    assert _stored(session, account.id) is None


def test_an_unknown_metric_does_not_drag_an_average_down(client, admin, make_creator, auth_for, make_program):
    """A day that reported followers only must not count as a day with 0 views: a 7-day average
    of views over days reported at 1,000 stays 1,000 and passes a 1,000 threshold."""
    criterion = {"kind": "metric", "platform": "tiktok", "metric": "views", "aggregate": "avg", "window_days": 7}
    program = make_program("avg_views_test", "Average views test", [criterion | {"min": 1000}])
    headers = auth_for(admin)
    account = make_creator(manager=admin).accounts[0]
    today = date.today()
    for back in range(1, 4):
        day = (today - timedelta(days=back)).isoformat()
        assert _put(client, headers, account.id, {"followers": 100, "views": 1000}, day=day).status_code == 200
    assert _put(client, headers, account.id, {"followers": 101}, day=today.isoformat()).status_code == 200
    rows = client.get(f"/api/v1/creators/{account.creator_id}/eligibility", headers=headers).json
    verdict = next(r for r in rows if r["program"]["id"] == program.id)
    assert verdict["eligible"] is True, verdict
