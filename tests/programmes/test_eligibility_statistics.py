"""Eligibility recomputes refresh the planner statistics of the evaluations and changes they wrote
(PostgreSQL), for the columns queries filter, join and sort on: the result documents and digests,
which nothing filters on and which cost the most to sample, are left out on purpose."""

from datetime import date, timedelta

import pytest
from sqlalchemy import insert

from agency.metrics.models import MetricSnapshot
from agency.programmes.eligibility import STATISTICS_COLUMNS, recompute_chunk, recompute_eligibility
from agency.programmes.models import EligibilityChange, EligibilityEvaluation
from agency.roster.chunks import Chunk
from tests.programmes.conftest import TODAY
from tests.statistics import analysed_columns, assert_freshly_analysed, forget_statistics

pytestmark = pytest.mark.usefixtures("db")
EVALUATIONS = EligibilityEvaluation.__table__
CHANGES = EligibilityChange.__table__


def _creators(make_creator, add_days, count=3):
    creators = [make_creator(date_of_birth=date(1990, 1, 1)) for _ in range(count)]
    for creator in creators:
        add_days(creator.accounts[0], start_followers=500, per_day=15)  # 935 followers today: not yet
    return creators


def test_the_first_recompute_analyses_the_evaluations_it_wrote_but_not_their_documents(
    session, fund, make_creator, add_days
):
    creators = _creators(make_creator, add_days)
    connection = session.connection()
    forget_statistics(connection, EVALUATIONS, CHANGES)
    result = recompute_eligibility(db_session=session, creator_ids=[c.id for c in creators], as_of=TODAY)
    assert result.inserted == 3
    assert_freshly_analysed(connection, EVALUATIONS, STATISTICS_COLUMNS[EVALUATIONS.name])
    assert {"details", "digest"}.isdisjoint(analysed_columns(connection, EVALUATIONS))


def test_a_recompute_that_records_changes_analyses_them_but_not_the_changed_criteria(
    session, fund, make_creator, add_days
):
    creators = _creators(make_creator, add_days)
    recompute_eligibility(db_session=session, creator_ids=[c.id for c in creators], as_of=TODAY)
    tomorrow = TODAY + timedelta(days=1)
    session.execute(
        insert(MetricSnapshot),
        [{"account_id": c.accounts[0].id, "day": tomorrow, "followers": 1200, "views": 100} for c in creators],
    )
    connection = session.connection()
    forget_statistics(connection, EVALUATIONS, CHANGES)
    result = recompute_eligibility(db_session=session, creator_ids=[c.id for c in creators], as_of=tomorrow)
    assert result.transitions == 3  # all three gained the programme
    assert_freshly_analysed(connection, CHANGES, STATISTICS_COLUMNS[CHANGES.name])
    assert "changed_criteria" not in analysed_columns(connection, CHANGES)


def test_a_chunk_recompute_analyses_the_evaluations_it_wrote(session, fund, make_creator, add_days):
    creators = _creators(make_creator, add_days)
    connection = session.connection()
    forget_statistics(connection, EVALUATIONS, CHANGES)
    result = recompute_chunk(session, Chunk(creator_ids=tuple(c.id for c in creators)), TODAY)
    assert result.inserted == 3
    assert_freshly_analysed(connection, EVALUATIONS, STATISTICS_COLUMNS[EVALUATIONS.name])
    assert {"details", "digest"}.isdisjoint(analysed_columns(connection, EVALUATIONS))
