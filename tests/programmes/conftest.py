from datetime import date, timedelta

import pytest
from sqlalchemy import insert

from agency.metrics.models import MetricSnapshot

TODAY = date(2026, 6, 30)


@pytest.fixture()
def fund(make_program):
    """A small programme: 18+, 1,000 tiktok followers, 500 views over 7 days."""
    return make_program(
        "test_fund",
        "Test Fund",
        [
            {"kind": "age", "min": 18},
            {"kind": "metric", "platform": "tiktok", "metric": "followers", "aggregate": "latest", "min": 1000},
            {
                "kind": "metric",
                "platform": "tiktok",
                "metric": "views",
                "aggregate": "sum",
                "window_days": 7,
                "min": 500,
            },
        ],
    )


@pytest.fixture()
def add_days(session):
    def _add(account, start_followers: int, per_day: int, days: int = 30, views: int = 100, end: date = TODAY):
        rows = [
            {
                "account_id": account.id,
                "day": end - timedelta(days=days - 1 - i),
                "followers": start_followers + per_day * i,
                "views": views,
            }
            for i in range(days)
        ]
        session.execute(insert(MetricSnapshot), rows)
        session.commit()

    return _add
