"""Fresh after every write: a write to anything an evaluation reads refreshes exactly the creators
it affects, then their alerts (with the immediate email their severity asks for); a read right
after a write never shows the old verdict; history carries the day the change took effect."""

import csv
import io
from datetime import date, timedelta

import pytest
import redis
from sqlalchemy import insert, select

from agency.alerts.models import Alert, AlertKind, AlertStatus, OutboxMessage
from agency.core.jobs.models import JobRecord
from agency.metrics.models import MetricSnapshot
from agency.programmes.models import EligibilityChange, EligibilityRefresh, RuleVersion
from agency.roster.models import PlatformAccount

TODAY = date.today()
YESTERDAY = TODAY - timedelta(days=1)


@pytest.fixture()
def partner(make_program):
    """Adults in warning standing or better, with a personal TikTok account of 1,000 followers."""
    return make_program(
        "partner",
        "Partner Programme",
        [
            {"kind": "age", "min": 18},
            {"kind": "standing", "at_least": "warning"},
            {"kind": "account_type", "platform": "tiktok", "in": ["personal"]},
            {"kind": "metric", "platform": "tiktok", "metric": "followers", "aggregate": "latest", "min": 1000},
        ],
    )


@pytest.fixture()
def creator_with(session, make_creator, manager, client, admin, auth_for):
    """A creator (born 2000, one personal TikTok account) with `followers` yesterday, evaluated."""

    def _make(followers: int):
        creator = make_creator(manager=manager, date_of_birth=date(2000, 1, 1), country="FR")
        account = creator.accounts[0]
        session.execute(insert(MetricSnapshot), [{"account_id": account.id, "day": YESTERDAY, "followers": followers}])
        session.commit()
        response = client.post(
            "/api/v1/eligibility/recompute", json={"creator_ids": [creator.id]}, headers=auth_for(admin)
        )
        assert response.status_code == 200
        return creator, account

    return _make


def _verdict(client, headers, creator_id, program_id) -> dict:
    rows = client.get(f"/api/v1/creators/{creator_id}/eligibility", headers=headers).json
    return next(row for row in rows if row["program"]["id"] == program_id)


def _alerts(session, creator_id, kind):
    return session.scalars(
        select(Alert).where(Alert.creator_id == creator_id, Alert.kind == kind, Alert.status == AlertStatus.open)
    ).all()


def test_a_metric_day_makes_the_creator_eligible_at_once_with_history_and_alert(
    client, session, manager, auth_for, partner, creator_with
):
    creator, account = creator_with(900)
    headers = auth_for(manager)
    assert _verdict(client, headers, creator.id, partner.id)["eligible"] is False

    response = client.put(f"/api/v1/accounts/{account.id}/metrics/{TODAY}", json={"followers": 1500}, headers=headers)
    assert response.status_code == 200

    verdict = _verdict(client, headers, creator.id, partner.id)
    assert verdict["eligible"] is True and verdict["account_id"] == account.id and verdict["refreshing"] is False
    history = client.get(f"/api/v1/creators/{creator.id}/eligibility/history", headers=headers).json
    gained = [row for row in history if row["change"] == "gained"]
    # The day the change took effect is the metric's day, whenever the refresh ran.
    assert len(gained) == 1 and gained[0]["effective_on"] == TODAY.isoformat()
    assert [c["key"] for c in gained[0]["changed_criteria"]] == ["metric:tiktok:followers:latest"]
    (alert,) = _alerts(session, creator.id, AlertKind.eligibility_gained)
    assert "Partner Programme" in alert.subject
    assert session.scalar(select(EligibilityRefresh).where(EligibilityRefresh.creator_id == creator.id)) is None


def test_a_metric_day_that_makes_another_account_qualify_dates_the_gain_on_that_day(
    client, session, manager, admin, auth_for, partner, make_creator
):
    """One account, one verdict: a big business account and a small personal one. The day the
    personal account crosses the threshold is the day the gain took effect, though the only
    criterion whose pass flag changed (the account type) carries no day of its own."""
    creator = make_creator(manager=manager, date_of_birth=date(2000, 1, 1), country="FR")
    business = creator.accounts[0]
    business.account_type = "business"
    personal = PlatformAccount(creator_id=creator.id, platform="tiktok", handle="small_personal")
    session.add(personal)
    session.flush()
    two_days_ago = TODAY - timedelta(days=2)
    session.execute(
        insert(MetricSnapshot),
        [
            {"account_id": business.id, "day": two_days_ago, "followers": 50_000},
            {"account_id": personal.id, "day": two_days_ago, "followers": 300},
        ],
    )
    session.commit()
    assert client.post("/api/v1/eligibility/recompute", json={}, headers=auth_for(admin)).status_code == 200
    headers = auth_for(manager)
    before = _verdict(client, headers, creator.id, partner.id)
    assert before["eligible"] is False and before["account_id"] == business.id  # the closest account

    response = client.put(
        f"/api/v1/accounts/{personal.id}/metrics/{YESTERDAY}", json={"followers": 1500}, headers=headers
    )
    assert response.status_code == 200
    after = _verdict(client, headers, creator.id, partner.id)
    assert after["eligible"] is True and after["account_id"] == personal.id
    (gained,) = [row for row in client.get(f"/api/v1/creators/{creator.id}/eligibility/history", headers=headers).json
                 if row["change"] == "gained"]  # fmt: skip
    assert gained["effective_on"] == YESTERDAY.isoformat()
    assert [c["key"] for c in gained["changed_criteria"]] == ["account_type:tiktok"]


def test_losing_by_an_account_change_opens_a_high_alert_and_an_immediate_email(
    client, session, manager, auth_for, partner, creator_with
):
    creator, account = creator_with(5000)
    headers = auth_for(manager)
    assert _verdict(client, headers, creator.id, partner.id)["eligible"] is True

    response = client.patch(
        f"/api/v1/creators/{creator.id}/accounts/{account.id}", json={"account_type": "business"}, headers=headers
    )
    assert response.status_code == 200
    verdict = _verdict(client, headers, creator.id, partner.id)
    assert verdict["eligible"] is False
    failing = [c["key"] for c in verdict["criteria"] if not c["passed"]]
    assert failing == ["account_type:tiktok"]
    (alert,) = _alerts(session, creator.id, AlertKind.eligibility_lost)
    assert alert.severity.value == "high"
    emails = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "immediate")).all()
    assert [e.recipient for e in emails] == [manager.email] and alert.id in emails[0].alert_ids


def test_creator_fields_and_strikes_refresh_the_verdict(client, session, manager, auth_for, partner, creator_with):
    creator, _account = creator_with(5000)
    headers = auth_for(manager)
    version = client.get(f"/api/v1/creators/{creator.id}", headers=headers).json["version"]
    minor = (TODAY - timedelta(days=16 * 365)).isoformat()
    response = client.patch(
        f"/api/v1/creators/{creator.id}", json={"date_of_birth": minor, "version": version}, headers=headers
    )
    assert response.status_code == 200
    assert _verdict(client, headers, creator.id, partner.id)["eligible"] is False

    response = client.patch(
        f"/api/v1/creators/{creator.id}",
        json={"date_of_birth": "2000-01-01", "version": response.json["version"]},
        headers=headers,
    )
    assert _verdict(client, headers, creator.id, partner.id)["eligible"] is True
    for n in range(3):  # the third strike restricts the creator
        response = client.post(
            f"/api/v1/creators/{creator.id}/strikes",
            json={"occurred_on": (TODAY - timedelta(days=n)).isoformat(), "reason": "test"},
            headers=headers,
        )
        assert response.status_code == 201
    verdict = _verdict(client, headers, creator.id, partner.id)
    assert verdict["eligible"] is False
    assert [c["key"] for c in verdict["criteria"] if not c["passed"]] == ["standing"]


def test_a_corrected_birth_date_dates_the_gain_on_the_correction_without_a_birthday_to_come(
    client, session, manager, auth_for, partner, creator_with
):
    creator, _account = creator_with(5000)
    headers = auth_for(manager)
    version = client.get(f"/api/v1/creators/{creator.id}", headers=headers).json["version"]
    minor = TODAY - timedelta(days=16 * 365)
    response = client.patch(
        f"/api/v1/creators/{creator.id}", json={"date_of_birth": minor.isoformat(), "version": version}, headers=headers
    )
    assert _verdict(client, headers, creator.id, partner.id)["eligible"] is False
    client.patch(
        f"/api/v1/creators/{creator.id}",
        json={"date_of_birth": "2000-01-01", "version": response.json["version"]},
        headers=headers,
    )
    history = client.get(f"/api/v1/creators/{creator.id}/eligibility/history", headers=headers).json
    (gained,) = [row for row in history if row["change"] == "gained"]
    # She did not turn 18 on the minor's birthday two years from now: the correction made her one.
    assert gained["effective_on"] == TODAY.isoformat()
    assert gained["changed_criteria"] == [{"key": "age", "label": "age >= 18", "passed": True, "was": False}]


def test_a_new_rule_version_refreshes_everyone_with_its_effective_day(
    client, session, admin, manager, auth_for, partner, creator_with
):
    first, _ = creator_with(1500)
    second, _ = creator_with(5000)
    criteria = [
        {"kind": "age", "min": 18},
        {"kind": "metric", "platform": "tiktok", "metric": "followers", "aggregate": "latest", "min": 2000},
    ]
    response = client.post(
        f"/api/v1/programs/{partner.id}/rules",
        json={"effective_from": TODAY.isoformat(), "criteria": criteria, "source_note": "raised"},
        headers=auth_for(admin),
    )
    assert response.status_code == 201
    rows = client.get(f"/api/v1/eligibility?program={partner.code}", headers=auth_for(manager)).json
    verdicts = {row["creator_id"]: row["eligible"] for row in rows}
    assert verdicts == {first.id: False, second.id: True}
    lost = session.scalars(
        select(EligibilityChange).where(EligibilityChange.creator_id == first.id, EligibilityChange.change == "lost")
    ).one()
    assert lost.effective_on == TODAY  # the rule's first day


def test_an_import_refreshes_exactly_the_creators_it_touched(client, session, manager, auth_for, partner, creator_with):
    touched, touched_account = creator_with(900)
    untouched, _ = creator_with(900)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["account_id", "day", "followers"])
    writer.writerow([touched_account.id, TODAY.isoformat(), 4000])
    response = client.post(
        "/api/v1/metrics/import",
        data=out.getvalue().encode(),
        headers=auth_for(manager) | {"Content-Type": "text/csv"},
    )
    assert response.status_code == 200, response.json
    headers = auth_for(manager)
    assert _verdict(client, headers, touched.id, partner.id)["eligible"] is True
    assert _verdict(client, headers, untouched.id, partner.id)["eligible"] is False
    untouched_changes = session.scalars(
        select(EligibilityChange).where(EligibilityChange.creator_id == untouched.id)
    ).all()
    assert untouched_changes == []


@pytest.fixture()
def with_redis(app, redis_url):
    config = app.config["AGENCY"]
    redis.Redis.from_url(redis_url).flushdb()
    config.redis_url = redis_url
    yield config
    config.redis_url = ""
    redis.Redis.from_url(redis_url).flushdb()


def test_with_redis_the_write_queues_a_job_and_a_read_never_shows_the_old_verdict(
    client, session, manager, auth_for, partner, creator_with, with_redis
):
    creator, account = creator_with(900)
    headers = auth_for(manager)
    response = client.put(f"/api/v1/accounts/{account.id}/metrics/{TODAY}", json={"followers": 1500}, headers=headers)
    assert response.status_code == 200
    # The write left the creator waiting and queued one refresh job (not run: no worker here).
    assert session.get(EligibilityRefresh, creator.id) is not None
    jobs = session.scalars(select(JobRecord).where(JobRecord.name == "refresh_requested_evaluations")).all()
    assert len(jobs) == 1 and jobs[0].status.value == "queued"
    # The roster-wide read refreshes the few waiting creators itself...
    rows = client.get(f"/api/v1/eligibility?program={partner.code}", headers=headers).json
    assert [(row["creator_id"], row["eligible"], row["refreshing"]) for row in rows] == [(creator.id, True, False)]
    session.expire_all()
    assert session.get(EligibilityRefresh, creator.id) is None
    assert len(_alerts(session, creator.id, AlertKind.eligibility_gained)) == 1
    # ... and a second write while the job is still queued adds no second job.
    client.put(f"/api/v1/accounts/{account.id}/metrics/{YESTERDAY}", json={"followers": 100}, headers=headers)
    assert session.scalar(select(JobRecord).where(JobRecord.name == "refresh_requested_evaluations")) is not None
    assert len(session.scalars(select(JobRecord).where(JobRecord.name == "refresh_requested_evaluations")).all()) == 1
    assert _verdict(client, headers, creator.id, partner.id)["eligible"] is True  # today's 1,500 is the latest


def test_a_failing_refresh_never_loses_the_write(client, session, manager, auth_for, partner, creator_with):
    creator, account = creator_with(900)
    headers = auth_for(manager)
    # A rule that cannot be evaluated (written around the API's validation) breaks every refresh.
    session.execute(
        insert(RuleVersion),
        [
            {
                "program_id": partner.id,
                "version": 2,
                "effective_from": date(2021, 1, 1),
                "source_note": "broken",
                "criteria": [{"kind": "metric", "platform": "tiktok", "metric": "followers", "aggregate": "nope"}],
            }
        ],
    )
    session.commit()
    response = client.put(f"/api/v1/accounts/{account.id}/metrics/{TODAY}", json={"followers": 1500}, headers=headers)
    assert response.status_code == 200
    session.expire_all()
    assert (
        session.scalar(
            select(MetricSnapshot.followers).where(MetricSnapshot.account_id == account.id, MetricSnapshot.day == TODAY)
        )
        == 1500
    )
    assert session.get(EligibilityRefresh, creator.id) is not None  # still waiting for a refresh that can run
