"""Two identical revenue imports at once (two web workers, committed for real): the money is
written once, and each report counts what that import really wrote."""

from __future__ import annotations

import io
import threading
from datetime import date

from sqlalchemy import delete, func, select

from agency.money.models import RevenueRecord
from agency.money.revenue import import_revenue
from agency.programmes.models import EligibilityEvaluation
from agency.roster.models import Creator


def test_two_identical_imports_racing_write_once_and_report_what_they_wrote(app, database_url):
    if database_url.startswith("sqlite"):
        raise AssertionError("this race needs PostgreSQL")
    database = app.extensions["agency_db"]
    with database.session_scope() as s:
        creator = Creator(display_name="Race", country="FR", niche="cooking", languages=["fr"])
        s.add(creator)
        s.flush()
        creator_id = creator.id
    body = "creator_id,date,source,platform,amount,currency\n" + "".join(
        f"{creator_id},2026-01-{day:02d},merch,,{day}.00,EUR\n" for day in range(1, 21)
    )
    reports = {}
    first = database.session_factory()
    try:
        # The first import stages and inserts, and holds its transaction open...
        reports["first"] = import_revenue(
            db_session=first, stream=io.BytesIO(body.encode()), fmt="csv", today=date(2026, 2, 1)
        )

        def second_import():
            with database.session_scope() as second:
                reports["second"] = import_revenue(
                    db_session=second, stream=io.BytesIO(body.encode()), fmt="csv", today=date(2026, 2, 1)
                )

        # ...while the second one runs: it waits on the first's rows, then skips them.
        racer = threading.Thread(target=second_import)
        racer.start()
        racer.join(timeout=2)
        waited = racer.is_alive()  # on the first import's uncommitted rows
        first.commit()
        racer.join(timeout=30)
        assert waited and not racer.is_alive()
        assert reports["first"].inserted == 20
        assert reports["second"].inserted == 0 and reports["second"].unchanged == 20
        with database.session_scope() as s:
            assert s.scalar(select(func.count()).where(RevenueRecord.creator_id == creator_id)) == 20
    finally:
        first.rollback()
        first.close()
        with database.session_scope() as s:
            s.execute(delete(RevenueRecord).where(RevenueRecord.creator_id == creator_id))
            s.execute(delete(EligibilityEvaluation).where(EligibilityEvaluation.creator_id == creator_id))
            s.execute(delete(Creator).where(Creator.id == creator_id))
