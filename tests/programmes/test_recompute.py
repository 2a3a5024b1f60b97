from datetime import date, timedelta

from sqlalchemy import func, insert, inspect, select

from agency.core.database import utcnow
from agency.metrics.models import MetricSnapshot
from agency.programmes.catalogue import seed_catalogue
from agency.programmes.eligibility import explain_creator, recompute_eligibility
from agency.programmes.explanation import explain_many
from agency.programmes.models import EligibilityChange, EligibilityEvaluation, RuleVersion
from tests.programmes.conftest import TODAY


def _document(session, ev) -> list[dict]:
    return explain_many(session, [(ev.rule_version_id, ev.details)])[0]


def _adult(make_creator, **kw):
    return make_creator(date_of_birth=date(1990, 1, 1), **kw)


def test_gaps_near_threshold_and_eta(session, fund, make_creator, add_days):
    creator = _adult(make_creator)
    add_days(creator.accounts[0], start_followers=500, per_day=15)  # 935 today, +15/day
    recompute_eligibility(db_session=session, as_of=TODAY)
    ev = session.scalar(select(EligibilityEvaluation).where(EligibilityEvaluation.creator_id == creator.id))
    assert ev.eligible is False
    followers = next(d for d in _document(session, ev) if d.get("metric") == "followers")
    assert followers["actual"] == 935 and followers["threshold"] == 1000 and followers["gap"] == 65
    assert followers["near"] is True
    # 65 more at ~15 a day: about 5 days.
    assert followers["eta"] == (TODAY + timedelta(days=5)).isoformat()
    assert ev.near_threshold is True and ev.eta == TODAY + timedelta(days=5)


def test_no_eta_when_flat_or_falling(session, fund, make_creator, add_days):
    creator = _adult(make_creator)
    add_days(creator.accounts[0], start_followers=900, per_day=-2)
    recompute_eligibility(db_session=session, as_of=TODAY)
    ev = session.scalar(select(EligibilityEvaluation).where(EligibilityEvaluation.creator_id == creator.id))
    followers = next(d for d in _document(session, ev) if d.get("metric") == "followers")
    assert followers["eta"] is None and ev.eta is None


def test_minor_fails_age_with_their_birthday_as_eta(session, fund, make_creator, add_days):
    creator = make_creator(date_of_birth=date(2010, 8, 15))
    add_days(creator.accounts[0], start_followers=5000, per_day=10)
    recompute_eligibility(db_session=session, as_of=TODAY)
    ev = session.scalar(select(EligibilityEvaluation).where(EligibilityEvaluation.creator_id == creator.id))
    age = next(d for d in _document(session, ev) if d["kind"] == "age")
    assert age["passed"] is False and age["actual"] == 15 and age["eta"] == "2028-08-15"


def test_recompute_writes_only_changes_and_records_transitions(session, fund, make_creator, add_days):
    winner = _adult(make_creator)
    add_days(winner.accounts[0], start_followers=2000, per_day=5)
    loser = _adult(make_creator)
    add_days(loser.accounts[0], start_followers=100, per_day=1)

    first = recompute_eligibility(db_session=session, as_of=TODAY)
    assert (first.inserted, first.updated, first.transitions) == (2, 0, 0)
    again = recompute_eligibility(db_session=session, as_of=TODAY)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)

    loser.guideline_standing = "warning"  # irrelevant to this rule: nothing changes
    session.commit()
    assert recompute_eligibility(db_session=session, as_of=TODAY).updated == 0

    winner.date_of_birth = date(2012, 1, 1)  # now a minor: loses the programme
    session.commit()
    result = recompute_eligibility(db_session=session, as_of=TODAY)
    assert result.lost == [(winner.id, fund.id)] and result.updated == 1
    change = session.scalars(select(EligibilityChange).where(EligibilityChange.change == "lost")).one()
    assert change.creator_id == winner.id
    assert [c["label"] for c in change.changed_criteria] == ["age >= 18"]


def test_new_rule_version_changes_today_but_not_the_past(session, fund, make_creator, add_days):
    creator = _adult(make_creator)
    add_days(creator.accounts[0], start_followers=1500, per_day=1)
    recompute_eligibility(db_session=session, as_of=TODAY)
    assert session.scalar(select(EligibilityEvaluation.eligible)) is True

    session.add(
        RuleVersion(
            program_id=fund.id,
            version=2,
            effective_from=TODAY - timedelta(days=1),
            source_note="stricter",
            criteria=[
                {"kind": "metric", "platform": "tiktok", "metric": "followers", "aggregate": "latest", "min": 5000}
            ],
        )
    )
    session.commit()
    result = recompute_eligibility(db_session=session, as_of=TODAY)
    assert result.lost == [(creator.id, fund.id)]
    # Ten days ago the old rule was in force and the creator qualified.
    past = recompute_eligibility(db_session=session, as_of=TODAY - timedelta(days=10))
    assert past.gained == [(creator.id, fund.id)]


def test_country_scoped_version_applies_to_its_country_only(session, fund, make_creator, add_days):
    session.add(
        RuleVersion(
            program_id=fund.id,
            version=2,
            effective_from=date(2020, 1, 1),
            country_scope=["US"],
            criteria=[
                {"kind": "metric", "platform": "tiktok", "metric": "followers", "aggregate": "latest", "min": 100}
            ],
        )
    )
    session.commit()
    french = _adult(make_creator, country="FR")
    american = _adult(make_creator, country="US")
    for creator in (french, american):
        add_days(creator.accounts[0], start_followers=200, per_day=1, views=0)
    recompute_eligibility(db_session=session, as_of=TODAY)
    rows = dict(session.execute(select(EligibilityEvaluation.creator_id, EligibilityEvaluation.eligible)).all())
    assert rows == {french.id: False, american.id: True}


def test_archived_creators_drop_out(session, fund, make_creator, add_days):
    creator = _adult(make_creator)
    add_days(creator.accounts[0], start_followers=2000, per_day=1)
    recompute_eligibility(db_session=session, as_of=TODAY)
    creator.archived_at = utcnow()
    session.commit()
    result = recompute_eligibility(db_session=session, as_of=TODAY)
    assert result.removed == 1
    assert session.scalar(select(func.count()).select_from(EligibilityEvaluation)) == 0


def test_the_near_threshold_alert_says_how_its_date_was_estimated(
    client, manager, fund, make_creator, add_days, auth_for
):
    creator = _adult(make_creator, manager=manager)
    account = creator.accounts[0]  # (this test runs on the real today: writes refresh as of today)
    add_days(account, start_followers=500, per_day=15, days=29, end=date.today() - timedelta(days=1))
    headers = auth_for(manager)
    # Today's figure is a write: it refreshes her verdict, then her alerts.
    response = client.put(
        f"/api/v1/accounts/{account.id}/metrics/{date.today()}", json={"followers": 935}, headers=headers
    )
    assert response.status_code == 200
    verdict = next(
        r for r in client.get(f"/api/v1/creators/{creator.id}/eligibility", headers=headers).json
        if r["program"]["id"] == fund.id
    )  # fmt: skip
    followers = next(c for c in verdict["criteria"] if c.get("metric") == "followers")
    history_days = followers["forecast"]["history_days"]
    alerts = client.get(f"/api/v1/alerts?creator_id={creator.id}&kind=near_threshold", headers=headers).json
    (alert,) = [a for a in (alerts["items"] if isinstance(alerts, dict) else alerts) if a["kind"] == "near_threshold"]
    eta = date.fromisoformat(followers["eta"])
    assert (
        f"Estimated crossing: {eta:%d %b %Y} (least-squares trend over {history_days} days of data)."
        in alert["message"]
    )


def test_a_chunk_with_nothing_stored_stores_what_a_compared_chunk_does(session, fund, make_creator, add_days):
    """A chunk with no stored evaluation is written as computed; a chunk with some is compared
    first: both store the summary and the document of the creator's "as of" answer."""
    seed_catalogue(db_session=session)
    session.commit()
    creators = []

    def _creator():
        creator = _adult(make_creator, accounts=("tiktok", "youtube"), country="FR")
        add_days(creator.accounts[0], start_followers=9_900, per_day=40, views=5_000)
        add_days(creator.accounts[1], start_followers=900, per_day=7, views=300)
        creators.append(creator)
        return creator

    first = _creator()
    alone = recompute_eligibility(db_session=session, creator_ids=[first.id], as_of=TODAY)
    assert alone.evaluated == alone.inserted > 1
    _creator()  # in the same chunk as the first, which now has stored rows: compared
    both = recompute_eligibility(db_session=session, as_of=TODAY)
    assert (both.inserted, both.updated, both.unchanged) == (alone.evaluated, 0, alone.evaluated)

    stored = {(ev.creator_id, ev.program_id): ev for ev in session.scalars(select(EligibilityEvaluation))}
    summary = ("rule_version_id", "account_id", "eligible", "near_threshold", "eta", "details")
    for creator in creators:
        answers = explain_creator(db_session=session, creator_id=creator.id, as_of=TODAY)
        assert len(answers) == alone.evaluated
        for answer in answers:
            evaluation = stored[(creator.id, answer["program_id"])]
            assert [getattr(evaluation, name) for name in summary] == [answer[name] for name in summary]
    again = recompute_eligibility(db_session=session, as_of=TODAY)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2 * alone.evaluated)


def test_evaluations_are_keyed_by_creator_and_programme(session, fund, make_creator, add_days):
    """One stored answer per creator and programme, found by that key: no surrogate id."""
    creator = _adult(make_creator)
    add_days(creator.accounts[0], start_followers=500, per_day=15)
    recompute_eligibility(db_session=session, as_of=TODAY)
    keys = inspect(session.connection()).get_pk_constraint(EligibilityEvaluation.__tablename__)
    assert keys["constrained_columns"] == ["creator_id", "program_id"]
    assert "id" not in {c["name"] for c in inspect(session.connection()).get_columns("eligibility_evaluations")}
    ev = session.get(EligibilityEvaluation, (creator.id, fund.id))
    assert (
        ev is not None
        and ev.details == explain_creator(db_session=session, creator_id=creator.id, as_of=TODAY)[0]["details"]
    )


def _days_to_cross(views_by_day: dict, level: float, window: int, target: int) -> int | None:
    """The definition, day by day: the first future day on which the trailing sum over the window
    (the snapshots still in it plus the level for each day to come) reaches the target."""
    for ahead in range(1, window + 1):
        left = sum(v for day, v in views_by_day.items() if day >= TODAY + timedelta(days=ahead - window + 1))
        if left + level * ahead >= target:
            return ahead
    return None


def test_windowed_sum_crossing_day_before_and_after_the_first_day_with_data(session, make_creator, make_program):
    """A window longer than the history crosses in the segment before its first day with data
    (found from the account's totals alone); a window the history covers crosses where the days
    leaving it allow (found from the snapshots). Both agree with the day-by-day definition."""
    views = {"kind": "metric", "platform": "tiktok", "metric": "views", "aggregate": "sum"}
    program = make_program(
        "test_views", "Test Views", [views | {"window_days": 60, "min": 1234}, views | {"window_days": 5, "min": 520}]
    )
    creator = _adult(make_creator)
    by_day = {TODAY - timedelta(days=offset): (50 if offset >= 5 else 100) for offset in range(10)}
    session.execute(
        insert(MetricSnapshot),
        [{"account_id": creator.accounts[0].id, "day": d, "followers": 1, "views": v} for d, v in by_day.items()],
    )
    session.commit()
    # The least-squares line through the ten days, at today (x = 0).
    xs = [(d - TODAY).days for d in by_day]
    ys = list(by_day.values())
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys)) / sum((x - mean_x) ** 2 for x in xs)
    level = mean_y - slope * mean_x

    recompute_eligibility(db_session=session, as_of=TODAY)
    ev = session.get(EligibilityEvaluation, (creator.id, program.id))
    long_window, short_window = ev.details
    assert _days_to_cross(by_day, level, 60, 1234) == 5
    assert long_window[4] == (TODAY + timedelta(days=5)).isoformat()
    assert _days_to_cross(by_day, level, 5, 520) == 3
    assert short_window[4] == (TODAY + timedelta(days=3)).isoformat()
