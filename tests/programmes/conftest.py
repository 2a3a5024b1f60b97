from datetime import date, timedelta

import pytest
from sqlalchemy import insert

from agency.metrics.models import MetricSnapshot
from agency.programmes.models import Program, RuleVersion

TODAY = date(2026, 6, 30)


@pytest.fixture()
def make_program(session):
    """A programme with one rule version (version 1, in force since 1 January 2020) holding
    `criteria`, committed."""

    def _make(code: str, name: str, criteria: list[dict], *, platform: str = "tiktok", source_note: str = "test"):
        program = Program(code=code, name=name, platform=platform)
        session.add(program)
        session.flush()
        session.add(
            RuleVersion(
                program_id=program.id,
                version=1,
                effective_from=date(2020, 1, 1),
                source_note=source_note,
                criteria=criteria,
            )
        )
        session.commit()
        return program

    return _make


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
