"""The words of the alerts worded in SQL (every kind but near-threshold, whose explanation is worded
in Python), exactly, on PostgreSQL and SQLite: every figure, the fallbacks, a suggestion left empty
and a number of equal sources left unknown."""

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from agency.alerts.models import Alert, AlertKind, OutboxMessage
from agency.alerts.notifications import ImmediateEmails
from agency.alerts.service import AlertSettings, evaluate_alerts
from agency.deals.models import Brand, Deal, Deliverable
from agency.metrics.models import MetricSnapshot
from agency.money.chain_models import Agreement, Invoice
from agency.money.models import DiversificationSnapshot
from agency.programmes.models import EligibilityChange, EligibilityEvaluation, Program
from agency.roster.models import GuidelineStrike, PlatformAccount

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


def _words(session, creator, stale=False):
    return {
        (a.kind.value, a.dedup_key.split(":", 2)[2]): (a.subject, a.message, a.payload)
        for a in session.scalars(select(Alert).where(Alert.creator_id == creator.id))
        if stale or a.kind.value != "metrics_stale"
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


def test_deal_money_strike_and_stale_metrics_alerts_say_exactly_what_they_said(session, manager, make_creator):
    """Every fact in its place: the deliverable due and overdue, the unpaid deal (its fee in its
    currency's minor unit), the invoice reminder (what is still owed, the step), the renewal, the
    strike without a reason, and an account never measured beside one measured long ago."""
    dee = make_creator(manager=manager, display_name="Dee O'Hara", accounts=(), status="paused")
    dee.guideline_standing = "warning"
    brand = Brand(name="Acme & Co")
    session.add(brand)
    session.flush()

    def deal(title, **fields):
        made = Deal(
            creator_id=dee.id,
            brand_id=brand.id,
            title=title,
            source="direct",
            fee_amount=fields.pop("fee_amount", "100.00"),
            fee_currency=fields.pop("fee_currency", "EUR"),
            commission_percent="20.00",
            stage=fields.pop("stage", "in_progress"),
            **fields,
        )
        session.add(made)
        session.flush()
        return made

    launch = deal("Launch")
    late = Deliverable(deal_id=launch.id, kind="video", platform="tiktok", due_date=date(2026, 3, 5))
    soon = Deliverable(deal_id=launch.id, kind="story", platform="instagram", due_date=TODAY + timedelta(days=2))
    unpaid = deal(
        "Spring", stage="invoiced", invoiced_on=TODAY - timedelta(days=45), fee_amount="1500", fee_currency="JPY"
    )
    invoiced = deal("Summer", stage="invoiced", invoiced_on=TODAY - timedelta(days=20))
    invoice = Invoice(
        number="INV-2026-00042",
        deal_id=invoiced.id,
        creator_id=dee.id,
        brand_id=brand.id,
        status="partially_paid",
        currency="EUR",
        issued_on=TODAY - timedelta(days=20),
        due_on=TODAY - timedelta(days=15),
        subtotal=Decimal("1000.00"),
        total=Decimal("1210.00"),
        amount_paid=Decimal("200.00"),
        amount_credited=Decimal("10.50"),
        commission_percent=Decimal("20.00"),
    )
    ends_on = TODAY + timedelta(days=30)
    agreement = Agreement(
        creator_id=dee.id,
        starts_on=date(2025, 1, 1),
        ends_on=ends_on,
        default_commission_percent=Decimal("20.00"),
        payout_currency="EUR",
    )
    strike = GuidelineStrike(creator_id=dee.id, occurred_on=TODAY - timedelta(days=2), reason="")
    session.add_all([late, soon, invoice, agreement, strike])
    # Stale metrics are about active creators' accounts.
    eve = make_creator(manager=manager, display_name="Eve", accounts=("tiktok", "youtube"), status="active")
    session.flush()
    accounts = {a.platform.value: a for a in session.scalars(select(PlatformAccount).filter_by(creator_id=eve.id))}
    session.add(MetricSnapshot(account_id=accounts["youtube"].id, day=date(2026, 1, 9), followers=10))
    session.commit()

    evaluate_alerts(db_session=session, settings=AlertSettings(today=TODAY))
    session.commit()
    day = ends_on.strftime("%d %b %Y")
    assert _words(session, dee) == {
        ("deliverable_overdue", f"deliverable:{late.id}"): (
            "Dee O'Hara: video for 'Launch' is overdue",
            "The tiktok video for 'Launch' was due on 05 Mar 2026.",
            {"deal_id": launch.id, "deliverable_id": late.id, "due_date": "2026-03-05"},
        ),
        ("deliverable_due", f"deliverable:{soon.id}"): (
            "Dee O'Hara: story for 'Launch' is due soon",
            f"The instagram story for 'Launch' is due on {soon.due_date.strftime('%d %b %Y')}.",
            {"deal_id": launch.id, "deliverable_id": soon.id, "due_date": soon.due_date.isoformat()},
        ),
        ("invoice_overdue", f"deal:{unpaid.id}"): (
            "Invoice for 'Spring' (Dee O'Hara) is unpaid",
            f"'Spring' with Acme & Co was invoiced on {unpaid.invoiced_on.strftime('%d %b %Y')} (1500 JPY) "
            "and is still unpaid.",
            {"deal_id": unpaid.id},
        ),
        ("invoice_reminder", f"invoice:{invoice.id}:14"): (
            "Chase invoice INV-2026-00042 (Acme & Co): 14 days past due",
            f"Invoice INV-2026-00042 to Acme & Co for Dee O'Hara was due on "
            f"{invoice.due_on.strftime('%d %b %Y')}; 999.50 EUR is still owed, 14 days later. "
            f"Open it at /money/invoices/{invoice.id} to print it or record the payment.",
            {"invoice_id": invoice.id, "step_days": 14, "due_on": invoice.due_on.isoformat()},
        ),
        ("agreement_renewal", f"agreement:{agreement.id}"): (
            f"Dee O'Hara's representation agreement ends on {day}",
            f"The representation agreement with Dee O'Hara ends on {day}: agree a renewal (or its end) before then.",
            {"agreement_id": agreement.id, "ends_on": ends_on.isoformat()},
        ),
        ("guideline_strike", f"strike:{strike.id}"): (
            "Dee O'Hara received a community-guidelines strike",
            f"Strike on {strike.occurred_on.strftime('%d %b %Y')}: no reason recorded. Standing is now warning; "
            "monetisation programmes may be at risk.",
            {"strike_id": strike.id},
        ),
    }
    stale = {key: words for (kind, key), words in _words(session, eve, stale=True).items() if kind == "metrics_stale"}
    tiktok, youtube = accounts["tiktok"], accounts["youtube"]
    assert stale == {
        f"account:{tiktok.id}": (
            "No recent metrics for Eve on tiktok",
            f"@{tiktok.handle} on tiktok has no metrics yet.",
            {"account_id": tiktok.id, "last_day": None},
        ),
        f"account:{youtube.id}": (
            "No recent metrics for Eve on youtube",
            f"The last youtube snapshot for @{youtube.handle} is from 09 Jan 2026.",
            {"account_id": youtube.id, "last_day": "2026-01-09"},
        ),
    }
