"""Loading the demo again replaces the demo agency: nothing of the creators it removes stays
behind, their eligibility answers included (they have no foreign key to cascade from)."""

from datetime import date

import pytest
from sqlalchemy import func, select

from agency.demo.loader import load_demo, reset_demo
from agency.programmes.eligibility import recompute_eligibility
from agency.programmes.models import EligibilityEvaluation
from agency.roster.models import Creator

pytestmark = pytest.mark.usefixtures("db")
TODAY = date(2026, 1, 1)


def _evaluations(session) -> tuple[int, int]:
    """(evaluations, evaluations of a creator that no longer exists)."""
    total = session.scalar(select(func.count()).select_from(EligibilityEvaluation))
    orphans = session.scalar(
        select(func.count())
        .select_from(EligibilityEvaluation)
        .where(~EligibilityEvaluation.creator_id.in_(select(Creator.id)))
    )
    return total, orphans


def test_reloading_the_demo_leaves_no_evaluation_of_the_creators_it_removed(session):
    load_demo(db_session=session, creators=6, days=30, seed=3, today=TODAY)
    recompute_eligibility(db_session=session, as_of=TODAY)
    first, _ = _evaluations(session)
    assert first > 0

    reset_demo(session)
    assert _evaluations(session) == (0, 0)

    load_demo(db_session=session, creators=6, days=30, seed=3, today=TODAY)
    recompute_eligibility(db_session=session, as_of=TODAY)
    assert _evaluations(session) == (first, 0)
