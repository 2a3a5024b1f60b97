"""An exchange-rate import refreshes the planner statistics of the rates it wrote (PostgreSQL)."""

import io

import pytest

from agency.currencies.models import FxRate
from agency.currencies.service import import_fx_rates
from tests.statistics import assert_freshly_analysed, forget_statistics

pytestmark = pytest.mark.usefixtures("db")
RATES = FxRate.__table__


def test_the_first_rate_import_analyses_the_rates_it_wrote(session):
    connection = session.connection()
    forget_statistics(connection, RATES)
    body = "day,base,quote,rate\n" + "".join(f"2026-01-{day:02d},EUR,USD,1.{day:02d}\n" for day in range(1, 6))
    report = import_fx_rates(db_session=session, stream=io.BytesIO(body.encode()))
    assert report.inserted == 5 and report.error_count == 0
    assert_freshly_analysed(connection, RATES)
