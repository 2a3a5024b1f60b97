"""Programmes end by date and history stays (issue 15, item 5): a published rule version takes
only an end date; a programme closes from a day; `as_of` in the future is refused the same way
by every endpoint that takes it."""

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import insert, select

from agency.core.audit.models import AuditEntry
from agency.core.fields import FUTURE_AS_OF, latest_today
from agency.metrics.models import MetricSnapshot
from agency.programmes.eligibility import rules_in_force as rule_versions_in_force
from agency.programmes.models import Program, RuleVersion
from tests.factories import PASSWORD

TODAY = date.today()


@pytest.fixture()
def gifts(session):
    """A programme with two versions: v1 from 2020, v2 (country-scoped) from 2024."""
    program = Program(code="end_test_gifts", name="End Test Gifts", platform="tiktok")
    session.add(program)
    session.flush()
    follower_rule = {"kind": "metric", "platform": "tiktok", "metric": "followers", "aggregate": "latest", "min": 100}
    session.add_all(
        [
            RuleVersion(program_id=program.id, version=1, effective_from=date(2020, 1, 1), criteria=[follower_rule]),
            RuleVersion(
                program_id=program.id,
                version=2,
                effective_from=date(2024, 1, 1),
                country_scope=["US"],
                criteria=[follower_rule],
            ),
        ]
    )
    session.commit()
    return program


def _rules(client, program, headers):
    return {r["version"]: r for r in client.get(f"/api/v1/programs/{program.id}/rules", headers=headers).json}


def test_an_admin_sets_the_end_of_a_published_version_and_nothing_else(client, session, gifts, admin, auth_for):
    headers = auth_for(admin)
    v1 = _rules(client, gifts, headers)[1]
    path = f"/api/v1/programs/{gifts.id}/rules/{v1['id']}"
    ended = client.patch(path, json={"effective_to": "2023-12-16"}, headers=headers)
    assert ended.status_code == 200 and ended.json["effective_to"] == "2023-12-16"
    assert ended.json["criteria"] == v1["criteria"]
    audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "rule.end")).all()
    assert [(a.entity_id, a.before["effective_to"], a.after["effective_to"]) for a in audit] == [
        (v1["id"], None, "2023-12-16")
    ]
    # Criteria, the start, the scope: a published version refuses them, with the shared error shape.
    for body in (
        {"effective_to": "2024-01-01", "criteria": [{"kind": "age", "min": 21}]},
        {"effective_from": "2019-01-01"},
        {"country_scope": ["FR"]},
    ):
        refused = client.patch(path, json=body, headers=headers)
        assert refused.status_code == 422 and refused.json["code"] == 422, body
        assert "Unknown field" in str(refused.json["errors"])
    before_start = client.patch(path, json={"effective_to": "2020-01-01"}, headers=headers)
    assert before_start.status_code == 422 and "effective_to" in before_start.json["errors"]
    assert _rules(client, gifts, headers)[1]["effective_to"] == "2023-12-16"  # refusals changed nothing
    reopened = client.patch(path, json={"effective_to": None}, headers=headers)
    assert reopened.status_code == 200 and reopened.json["effective_to"] is None


def test_only_admins_end_versions_and_unknown_ones_are_404(client, gifts, admin, manager, analyst, auth_for):
    rules = _rules(client, gifts, auth_for(admin))
    path = f"/api/v1/programs/{gifts.id}/rules/{rules[1]['id']}"
    for user in (manager, analyst):
        assert client.patch(path, json={"effective_to": "2023-01-01"}, headers=auth_for(user)).status_code == 403
    missing = client.patch(f"/api/v1/programs/{gifts.id}/rules/999999", json={"effective_to": "2023-01-01"})
    assert missing.status_code == 401  # no token: authentication first
    headers = auth_for(admin)
    assert (
        client.patch(
            f"/api/v1/programs/{gifts.id}/rules/999999", json={"effective_to": None}, headers=headers
        ).status_code
        == 404
    )
    assert client.get(f"/api/v1/programs/{gifts.id}/rules/{rules[2]['id']}", headers=headers).status_code == 200
    assert client.get(f"/api/v1/programs/{gifts.id + 1000}/rules/{rules[2]['id']}", headers=headers).status_code == 404


def test_closing_a_programme_ends_the_versions_in_force_that_day_and_keeps_the_past(
    client, session, gifts, admin, auth_for
):
    headers = auth_for(admin)
    v1_id = _rules(client, gifts, headers)[1]["id"]
    client.patch(f"/api/v1/programs/{gifts.id}/rules/{v1_id}", json={"effective_to": "2022-06-01"}, headers=headers)
    closed = client.post(f"/api/v1/programs/{gifts.id}/close", json={"effective_to": "2025-03-01"}, headers=headers)
    assert closed.status_code == 200
    by_version = {r["version"]: r for r in closed.json["rules"]}
    assert by_version[1]["effective_to"] == "2022-06-01"  # already ended: its date stays
    assert by_version[2]["effective_to"] == "2025-03-01"
    in_force = rule_versions_in_force(session, date(2024, 6, 1))
    assert [r.version for r in in_force[gifts.id]] == [2]
    assert gifts.id not in rule_versions_in_force(session, date(2025, 3, 1))
    assert [r.version for r in rule_versions_in_force(session, date(2021, 1, 1))[gifts.id]] == [1]
    # A version starting on or after the closing day would reopen the programme: refused.
    too_early = client.post(f"/api/v1/programs/{gifts.id}/close", json={"effective_to": "2021-01-01"}, headers=headers)
    assert too_early.status_code == 409 and "version 2" in too_early.json["message"]
    assert client.post(f"/api/v1/programs/{gifts.id}/close", json={}, headers=headers).status_code == 422


def test_switching_a_programme_off_closes_it_from_today_without_touching_the_past(
    client, session, gifts, admin, auth_for
):
    headers = auth_for(admin)
    off = client.patch(f"/api/v1/programs/{gifts.id}", json={"is_active": False}, headers=headers)
    assert off.status_code == 200 and off.json["is_active"] is False
    assert {r["effective_to"] for r in off.json["rules"]} == {TODAY.isoformat()}
    # The versions still answer for every day they were in force (what the engine reads by date).
    yesterday = rule_versions_in_force(session, TODAY - timedelta(days=1))
    assert sorted(r.version for r in yesterday[gifts.id]) == [1, 2]
    assert gifts.id not in rule_versions_in_force(session, TODAY)


def test_an_ended_version_still_answers_for_the_days_it_was_in_force(
    client, session, gifts, admin, make_creator, auth_for
):
    creator = make_creator(date_of_birth=date(1990, 1, 1))
    session.execute(
        insert(MetricSnapshot),
        [{"account_id": creator.accounts[0].id, "day": TODAY - timedelta(days=n), "followers": 500} for n in range(60)],
    )
    session.commit()
    headers = auth_for(admin)
    v1_id = _rules(client, gifts, headers)[1]["id"]
    end = TODAY - timedelta(days=10)
    client.patch(f"/api/v1/programs/{gifts.id}/rules/{v1_id}", json={"effective_to": end.isoformat()}, headers=headers)

    def answer(day):
        rows = client.get(f"/api/v1/creators/{creator.id}/eligibility?as_of={day.isoformat()}", headers=headers).json
        return next((r for r in rows if r["program"]["code"] == gifts.code), None)

    before = answer(end - timedelta(days=1))
    assert before is not None and before["eligible"] is True and before["rule_version_id"] == v1_id
    assert answer(end) is None  # from the end day on, the (FR) creator has no version in force


def test_switching_off_refreshes_at_once_history_says_ended_and_the_past_still_answers(
    client, session, gifts, admin, make_creator, auth_for
):
    creator = make_creator(date_of_birth=date(1990, 1, 1))
    session.execute(
        insert(MetricSnapshot),
        [{"account_id": creator.accounts[0].id, "day": TODAY - timedelta(days=n), "followers": 500} for n in range(10)],
    )
    session.commit()
    headers = auth_for(admin)
    client.post("/api/v1/eligibility/recompute", json={"creator_ids": [creator.id]}, headers=headers)

    def current():
        rows = client.get(f"/api/v1/creators/{creator.id}/eligibility", headers=headers).json
        return {r["program"]["code"]: r["eligible"] for r in rows}

    assert current()[gifts.code] is True
    assert client.patch(f"/api/v1/programs/{gifts.id}", json={"is_active": False}, headers=headers).status_code == 200
    assert gifts.code not in current()  # refreshed by the switch itself, no recompute asked
    history = client.get(f"/api/v1/creators/{creator.id}/eligibility/history", headers=headers).json
    ended = [h for h in history if h["change"] == "ended"]
    assert len(ended) == 1 and ended[0]["program_id"] == gifts.id and ended[0]["effective_on"] == TODAY.isoformat()
    yesterday = (TODAY - timedelta(days=1)).isoformat()
    rows = client.get(f"/api/v1/creators/{creator.id}/eligibility?as_of={yesterday}", headers=headers).json
    assert {r["program"]["code"]: r["eligible"] for r in rows}[gifts.code] is True


ENDPOINTS = [
    ("GET", "/api/v1/creators/{cid}/eligibility?as_of={day}", None, "query"),
    ("GET", "/api/v1/creators/{cid}/diversification?as_of={day}", None, "query"),
    ("POST", "/api/v1/eligibility/recompute", {"as_of": "{day}"}, "json"),
    ("POST", "/api/v1/diversification/recompute", {"as_of": "{day}"}, "json"),
    ("GET", "/api/v1/ledger/accounts?as_of={day}", None, "query"),
    ("GET", "/api/v1/aging?as_of={day}", None, "query"),
]


def test_a_future_as_of_is_refused_the_same_way_everywhere(client, manager, make_creator, auth_for):
    creator = make_creator(manager=manager)
    headers = auth_for(manager)
    future = (latest_today() + timedelta(days=1)).isoformat()
    answers = []
    for method, path, body, location in ENDPOINTS:
        json_body = {k: v.format(day=future) for k, v in body.items()} if body else None
        response = client.open(path.format(cid=creator.id, day=future), method=method, json=json_body, headers=headers)
        assert response.status_code == 422, path
        answers.append((response.json["code"], response.json["errors"][location]["as_of"]))
    assert answers == [(422, [FUTURE_AS_OF])] * len(ENDPOINTS)
    # Today (wherever it already is today) is accepted by each of them.
    today = latest_today().isoformat()
    for method, path, body, _location in ENDPOINTS:
        json_body = {k: v.format(day=today) for k, v in body.items()} if body else None
        response = client.open(path.format(cid=creator.id, day=today), method=method, json=json_body, headers=headers)
        assert response.status_code == 200, (path, response.json)


def _page_login(client, user):
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    return re.search(r'name="csrf-token" content="([^"]+)"', client.get("/").get_data(as_text=True)).group(1)


def test_the_aging_page_refuses_a_future_as_of_like_the_api(client, manager):
    _page_login(client, manager)
    future = (latest_today() + timedelta(days=1)).isoformat()
    refused = client.get(f"/money/aging?as_of={future}")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert 'id="f-as_of-error"' in page and FUTURE_AS_OF in page and 'aria-invalid="true"' in page
    assert client.get("/money/aging?as_of=not-a-day").status_code == 422
    today = latest_today().isoformat()
    for query in (f"?as_of={today}", "?as_of=", ""):
        assert client.get(f"/money/aging{query}").status_code == 200, query


def test_the_programme_page_ends_versions_and_closes_programmes(client, session, gifts, admin, manager):
    v1, v2 = sorted(gifts.rules, key=lambda r: r.version)
    csrf = _page_login(client, admin)
    end = f"/admin/programs/{gifts.id}/rules/{v1.id}/end"
    refused = client.post(end, data={"csrf_token": csrf, "effective_to": "2019-06-01"})
    assert refused.status_code == 422
    assert f'id="rule-{v1.id}-error"' in refused.get_data(as_text=True) and "can only end after" in refused.get_data(
        as_text=True
    )
    assert client.post(end, data={"csrf_token": csrf, "effective_to": "2023-12-16"}).status_code == 302
    session.refresh(v1)
    assert v1.effective_to == date(2023, 12, 16)
    page = client.get("/admin/programs").get_data(as_text=True)
    assert 'value="2023-12-16"' in page and "last in force the day before" in page
    close = f"/admin/programs/{gifts.id}/close"
    conflict = client.post(close, data={"csrf_token": csrf, "effective_to": "2023-06-01"})
    assert conflict.status_code == 422 and "version 2" in conflict.get_data(as_text=True)
    assert client.post(close, data={"csrf_token": csrf, "effective_to": "2025-01-01"}).status_code == 302
    session.refresh(v2)
    assert v2.effective_to == date(2025, 1, 1)
    client.post("/logout", data={"csrf_token": csrf})
    csrf = _page_login(client, manager)
    assert client.post(end, data={"csrf_token": csrf, "effective_to": "2024-01-01"}).status_code == 403
