"""An alert evaluation that opens alerts in bulk refreshes the planner statistics of the alerts it
wrote (PostgreSQL)."""

from datetime import date, timedelta

import pytest

from agency.alerts.models import Alert
from agency.alerts.service import PLANNED_COLUMNS, AlertSettings, evaluate_alerts
from agency.deals.models import Brand, Deal, Deliverable
from tests.statistics import analysed_columns, assert_freshly_analysed, forget_statistics

pytestmark = pytest.mark.usefixtures("db")
ALERTS = Alert.__table__
TODAY = date(2026, 6, 30)


def _overdue_deliverable(session, creator) -> None:
    brand = Brand(name=f"Brand {creator.id}")
    session.add(brand)
    session.flush()
    deal = Deal(
        creator_id=creator.id,
        brand_id=brand.id,
        title="Launch",
        source="direct",
        fee_amount="100.00",
        fee_currency="EUR",
        commission_percent="20.00",
        stage="in_progress",
    )
    session.add(deal)
    session.flush()
    session.add(Deliverable(deal_id=deal.id, kind="video", platform="tiktok", due_date=TODAY - timedelta(days=2)))
    session.flush()


def test_the_first_alerts_opened_are_analysed(session, manager, make_creator):
    for _ in range(3):
        _overdue_deliverable(session, make_creator(manager=manager, status="paused"))  # paused: no stale metrics
    connection = session.connection()
    forget_statistics(connection, ALERTS)
    result = evaluate_alerts(db_session=session, settings=AlertSettings(today=TODAY))
    assert result.opened == 3
    assert_freshly_analysed(connection, ALERTS, PLANNED_COLUMNS)
    assert {"subject", "message", "payload"}.isdisjoint(analysed_columns(connection, ALERTS))
