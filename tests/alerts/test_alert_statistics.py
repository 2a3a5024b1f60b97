"""An alert evaluation that opens alerts in bulk refreshes the planner statistics of the alerts it
wrote (PostgreSQL)."""

from datetime import date

import pytest

from agency.alerts.models import Alert
from agency.alerts.service import PLANNED_COLUMNS, AlertSettings, evaluate_alerts
from tests.alerts.test_alerts import _overdue_deliverable
from tests.statistics import analysed_columns, assert_freshly_analysed, forget_statistics

pytestmark = pytest.mark.usefixtures("db")
ALERTS = Alert.__table__
TODAY = date(2026, 6, 30)


def test_the_first_alerts_opened_are_analysed(session, manager, make_creator):
    creators = [make_creator(manager=manager, status="paused") for _ in range(3)]
    for creator in creators:  # paused: no stale-metrics alert beside the overdue deliverable
        _overdue_deliverable(session, creator, today=TODAY)
    connection = session.connection()
    forget_statistics(connection, ALERTS)
    # One creator per chunk: the statistics count what every chunk of the run opened.
    result = evaluate_alerts(
        db_session=session,
        settings=AlertSettings(today=TODAY),
        creator_ids=[creator.id for creator in creators],
        chunk_size=1,
    )
    assert (result.opened, result.chunks) == (3, 3)
    assert_freshly_analysed(connection, ALERTS, PLANNED_COLUMNS)
    assert {"subject", "message", "payload"}.isdisjoint(analysed_columns(connection, ALERTS))
