"""The words of the alerts worded in SQL (eligibility gained or lost, eligible but not activated,
income concentration, platform dependency), exactly, on PostgreSQL and SQLite: every figure, the fallbacks, a
suggestion left empty and a number of equal sources left unknown."""

from datetime import date, timedelta

from sqlalchemy import select

from agency.alerts.models import Alert, AlertKind, OutboxMessage
from agency.alerts.notifications import ImmediateEmails
from agency.alerts.service import AlertSettings, evaluate_alerts
from agency.money.models import DiversificationSnapshot
from agency.programmes.models import EligibilityChange, EligibilityEvaluation, Program

TODAY = date.today()


def _snapshot(session, creator, **values):
    fields = {
        "creator_id": creator.id,
        "as_of": TODAY - timedelta(days=1),
        "window_days": 90,
        "currency": "EUR",
        "total": "1234.5",
        "previous_total": "0",
        "platform_total": "987.654",
        "by_source": {},
        "by_platform": {},
        "top_source": "brand_deals",
        "top_source_share": "0.5799",
        "top_platform": "youtube",
        "top_platform_share": "1.0000",
        "tiktok_share": "0",
        "hhi": "0.5012",
        "effective_sources": "1.99",
        "risk_level": "high",
        "suggestion": "Add merchandise.",
    }
    session.add(DiversificationSnapshot(**(fields | values)))


def _program(session, code, name, path):
    program = Program(code=code, name=name, platform="tiktok", activation_path=path)
    session.add(program)
    session.flush()
    return program


def _eligible(session, creator, program):
    session.add(
        EligibilityEvaluation(
            creator_id=creator.id,
            program_id=program.id,
            rule_version_id=1,
            eligible=True,
            details=[],
            as_of=TODAY,
        )
    )


def _words(session, creator):
    return {
        (a.kind.value, a.dedup_key.split(":", 2)[2]): (a.subject, a.message, a.payload)
        for a in session.scalars(select(Alert).where(Alert.creator_id == creator.id))
        if a.kind.value != "metrics_stale"
    }


def test_alerts_worded_in_sql_say_exactly_what_they_said(session, manager, make_creator):
    ada = make_creator(manager=manager, display_name="Ada O'Neil", status="paused")
    bo = make_creator(manager=manager, display_name="Bo", status="paused")
    fund = _program(session, "fund_w", "Creator Fund", "Settings > Creator tools > Fund")
    gifts = _program(session, "gifts_w", "Live Gifts", "")
    _eligible(session, ada, fund)
    _eligible(session, ada, gifts)
    _snapshot(session, ada)
    # Nothing suggested and no number of equal sources: no trailing space, no "worth".
    _snapshot(
        session,
        bo,
        suggestion="",
        effective_sources=None,
        top_source="live_gifts",
        top_source_share="0.9",
        hhi="0.81",
        top_platform="tiktok",
        top_platform_share="0.7049",
        window_days=30,
    )
    session.commit()
    result = evaluate_alerts(
        db_session=session, settings=AlertSettings(today=TODAY), emails=ImmediateEmails(session, "http://ui")
    )
    session.commit()
    assert not result.failed_items
    assert _words(session, ada) == {
        ("eligible_not_activated", f"program:{fund.id}"): (
            "Ada O'Neil is eligible for Creator Fund but has not activated it",
            "Ada O'Neil qualifies for Creator Fund but it is not active: money left on the table. "
            "Activate it in the app: Settings > Creator tools > Fund.",
            {"program_id": fund.id},
        ),
        ("eligible_not_activated", f"program:{gifts.id}"): (
            "Ada O'Neil is eligible for Live Gifts but has not activated it",
            "Ada O'Neil qualifies for Live Gifts but it is not active: money left on the table. "
            "Activate it in the app: see the programme page.",
            {"program_id": gifts.id},
        ),
        ("concentration_risk", "sources"): (
            "Ada O'Neil depends on one income source",
            "57% of Ada O'Neil's income over 90 days comes from brand deals (HHI 0.5012, worth 1.99 equal "
            "sources). Add merchandise.",
            {"hhi": "0.5012", "effective_sources": "1.99", "top_source": "brand_deals"},
        ),
        ("platform_dependency", "platform:youtube"): (
            "Ada O'Neil depends on youtube",
            "100% of Ada O'Neil's platform income (987.65 of 1234.50 EUR in all) comes from youtube. Add merchandise.",
            {"platform": "youtube", "share": "1.0000"},
        ),
    }
    assert _words(session, bo) == {
        ("concentration_risk", "sources"): (
            "Bo depends on one income source",
            "90% of Bo's income over 30 days comes from live gifts (HHI 0.8100).",
            {"hhi": "0.8100", "effective_sources": None, "top_source": "live_gifts"},
        ),
        ("platform_dependency", "platform:tiktok"): (
            "Bo depends on tiktok",
            "70% of Bo's platform income (987.65 of 1234.50 EUR in all) comes from tiktok.",
            {"platform": "tiktok", "share": "0.7049"},
        ),
    }
    # Medium alerts: no immediate email by default; with medium wanted, one each, worded the same.
    assert session.scalars(select(OutboxMessage)).all() == []


def test_alerts_worded_in_sql_are_mailed_at_once_to_a_manager_who_wants_them(
    client, session, manager, make_creator, auth_for
):
    client.put(
        "/api/v1/users/me/notification-preferences",
        json={"immediate_severities": ["medium"], "muted_kinds": ["platform_dependency"]},
        headers=auth_for(manager),
    )
    creator = make_creator(manager=manager, display_name="Cy", status="paused")
    _snapshot(session, creator)
    session.commit()
    emails = ImmediateEmails(session, "http://ui")
    evaluate_alerts(db_session=session, settings=AlertSettings(today=TODAY), emails=emails)
    session.commit()
    alerts = {a.kind: a for a in session.scalars(select(Alert).where(Alert.creator_id == creator.id))}
    concentration = alerts[AlertKind.concentration_risk]
    assert concentration.notified_at == concentration.opened_at  # written stamped, once
    assert alerts[AlertKind.platform_dependency].notified_at is None  # muted
    message = session.scalars(select(OutboxMessage)).one()
    assert message.alert_ids == [concentration.id] and message.recipient == manager.email
    assert message.subject == "[MEDIUM] Cy depends on one income source"
    assert concentration.message in message.body_text


def test_a_gain_and_a_loss_say_who_which_programme_the_day_and_what_changed_in_order(session, manager, make_creator):
    """Worded in SQL: the day in the messages' format, the labels of the criteria that changed in
    the order they were recorded (not sorted), and a change with none recorded says so."""
    program = _program(session, "fund", "Creator Fund", "")
    gainer = make_creator(manager=manager, display_name="Gail Ng", status="paused")
    loser = make_creator(manager=manager, display_name="Lou Ortiz", status="paused")
    criteria = [{"label": "Views in 30 days ≥ 100,000"}, {"label": "Followers ≥ 10,000"}, {"label": "Age ≥ 18"}]
    for creator, change, effective_on, changed in (
        (gainer, "gained", date(2026, 3, 5), criteria),
        (loser, "lost", date(2026, 12, 28), []),
    ):
        session.add(
            EligibilityChange(
                creator_id=creator.id,
                program_id=program.id,
                rule_version_id=1,
                change=change,
                eligible=change == "gained",
                as_of=TODAY,
                effective_on=effective_on,
                changed_criteria=changed,
            )
        )
    session.commit()
    evaluate_alerts(db_session=session, settings=AlertSettings(today=TODAY))
    session.commit()
    alerts = {a.creator_id: a for a in session.scalars(select(Alert))}
    gained, lost = alerts[gainer.id], alerts[loser.id]
    assert (gained.kind, gained.severity.value) == (AlertKind.eligibility_gained, "medium")
    assert gained.subject == "Gail Ng is now eligible for Creator Fund"
    assert gained.message == (
        "Gail Ng became eligible for Creator Fund on 05 Mar 2026 "
        "(Views in 30 days ≥ 100,000, Followers ≥ 10,000, Age ≥ 18)."
    )
    assert gained.payload == {"program_id": program.id, "effective_on": "2026-03-05"}
    assert (lost.kind, lost.severity.value) == (AlertKind.eligibility_lost, "high")
    assert lost.subject == "Lou Ortiz lost Creator Fund"
    assert lost.message == "Lou Ortiz is no longer eligible for Creator Fund on 28 Dec 2026 (rules or data changed)."
    assert lost.payload == {"program_id": program.id, "effective_on": "2026-12-28"}
