"""`agency demo load --days N` accepts any N from 1: a short history gives a small demo, not a crash."""

import pytest
from sqlalchemy import func, select

from agency.deals.models import Deal
from agency.demo.loader import load_demo
from agency.metrics.models import MetricSnapshot
from agency.roster.models import Creator

pytestmark = pytest.mark.usefixtures("db")


@pytest.mark.parametrize("days", [1, 10])
def test_a_demo_with_a_short_history_loads(session, days):
    load_demo(db_session=session, creators=3, days=days, seed=3, reset=True)
    session.flush()
    assert session.scalar(select(func.count(Creator.id))) >= 3
    assert session.scalar(select(func.count(func.distinct(MetricSnapshot.day)))) == days
    assert session.scalar(select(func.count(Deal.id))) > 0
