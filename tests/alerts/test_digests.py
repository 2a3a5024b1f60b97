"""Daily digests as managers receive them: grouped by creator then severity, only what they did
not mute and was not mailed yet, one failing manager never costing the others theirs, and the
same digests however the managers and alerts are batched."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import event, select

from agency.alerts import notifications
from agency.alerts.models import Alert, NotificationPreference, OutboxMessage
from agency.alerts.notifications import queue_due_digests

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)  # a Tuesday, 09:00 UTC


def _alert(session, creator, kind, severity, subject, message, **fields) -> Alert:
    alert = Alert(
        kind=kind,
        severity=severity,
        creator_id=creator.id,
        dedup_key=f"{kind}:{creator.id}:{subject}",
        subject=subject,
        message=message,
        payload=fields.pop("payload", {}),
        **fields,
    )
    session.add(alert)
    session.flush()
    return alert


def _digests(session) -> dict[int, OutboxMessage]:
    session.expire_all()
    return {m.user_id: m for m in session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "digest"))}


def test_a_digest_groups_a_managers_creators_by_name_then_severity_and_leaves_out_the_rest(
    session, make_user, make_creator
):
    manager = make_user("manager", full_name="Ana Lopez", timezone="UTC")
    session.add(NotificationPreference(user_id=manager.id, digest_hour=8, muted_kinds=["near_threshold"]))
    zed, bea = make_creator(manager=manager, display_name="Zed"), make_creator(manager=manager, display_name="Bea")
    stale = _alert(session, zed, "metrics_stale", "low", "Zed stale", "No data for 5 days")
    due = _alert(session, bea, "deliverable_due", "medium", "Bea due", "Video due Friday")
    strike = _alert(session, zed, "guideline_strike", "high", "Zed strike", "A strike <today>")
    invoice = _alert(session, bea, "invoice_overdue", "high", "Bea invoice", "Unpaid & late")
    muted = _alert(session, bea, "near_threshold", "low", "Bea near", "Close")
    resolved = _alert(session, bea, "deliverable_overdue", "high", "Bea gone", "Resolved", status="resolved")
    _alert(session, bea, "eligibility_gained", "medium", "Bea mailed", "Sent at once", notified_at=NOW)
    session.commit()

    failed: list[dict] = []
    assert queue_due_digests(db_session=session, now=NOW, public_url="https://ui/", failed=failed) == 1
    session.commit()
    assert failed == []
    digest = _digests(session)[manager.id]
    assert digest.message_id == f"<digest-{manager.id}-2026-03-10@agency>"
    assert digest.recipient == manager.email
    assert digest.subject == "Agency digest 10 Mar: 4 alert(s), 2 high, 1 medium, 1 low"
    assert digest.alert_ids == [stale.id, due.id, strike.id, invoice.id]
    assert digest.attachments == []
    assert digest.body_text == "\n".join(
        [
            "Hello Ana Lopez,",
            "",
            "Your daily digest for Tuesday 10 March: 4 new alert(s) (2 high, 1 medium, 1 low).",
            "",
            f"== Bea (https://ui/creators/{bea.id})",
            "  [HIGH] Bea invoice",
            "      Unpaid & late",
            f"      https://ui/alerts/{invoice.id}",
            "  [MEDIUM] Bea due",
            "      Video due Friday",
            f"      https://ui/alerts/{due.id}",
            "",
            f"== Zed (https://ui/creators/{zed.id})",
            "  [HIGH] Zed strike",
            "      A strike <today>",
            f"      https://ui/alerts/{strike.id}",
            "  [LOW] Zed stale",
            "      No data for 5 days",
            f"      https://ui/alerts/{stale.id}",
            "",
            "Change what you receive: https://ui/settings/notifications",
        ]
    )
    html = digest.body_html
    assert html.index(">Bea</a></h3>") < html.index(">Zed</a></h3>")
    assert "Unpaid &amp; late" in html and "A strike &lt;today&gt;" in html
    assert f'<a href="https://ui/alerts/{invoice.id}">Bea invoice</a>' in html

    for alert in (muted, resolved, stale, due, strike, invoice):
        session.refresh(alert)
    assert all(a.notified_at is not None for a in (stale, due, strike, invoice))  # never mailed twice
    assert muted.notified_at is None and resolved.notified_at is None
    assert queue_due_digests(db_session=session, now=NOW, public_url="https://ui/", force=True) == 0


def test_preferences_decide_who_gets_a_digest_and_managers_without_any_get_the_defaults(
    session, make_user, make_creator
):
    default = make_user("manager", timezone="UTC")  # no preferences yet: digest at 08:00, email on
    later = make_user("manager", timezone="UTC")
    off = make_user("manager", timezone="UTC")
    session.add_all(
        [
            NotificationPreference(user_id=later.id, digest_hour=10),
            NotificationPreference(user_id=off.id, email_enabled=False),
        ]
    )
    for manager in (default, later, off):
        _alert(session, make_creator(manager=manager), "metrics_stale", "low", "Stale", "No data")
    session.commit()

    assert queue_due_digests(db_session=session, now=NOW, public_url="http://ui") == 1
    session.commit()
    assert set(_digests(session)) == {default.id}
    stored = session.scalars(select(NotificationPreference).where(NotificationPreference.user_id == default.id)).one()
    assert (stored.email_enabled, stored.digest_hour, stored.immediate_severities, stored.muted_kinds) == (
        True,
        8,
        ["high"],
        [],
    )
    # At 10:00 the later manager's digest is due too; email off still gets none, even forced.
    assert queue_due_digests(db_session=session, now=NOW.replace(hour=10), public_url="http://ui") == 1
    assert queue_due_digests(db_session=session, now=NOW.replace(hour=10), public_url="http://ui", force=True) == 0
    session.commit()
    assert set(_digests(session)) == {default.id, later.id}


def test_a_manager_whose_digest_cannot_be_worded_is_recorded_and_the_others_get_theirs(
    session, make_user, make_creator
):
    managers = [make_user("manager", timezone="UTC") for _ in range(3)]
    alerts = [_alert(session, make_creator(manager=m), "invoice_reminder", "high", "Chase", "Unpaid") for m in managers]
    bad = managers[1]
    alerts[1].payload = {"invoice_id": "INV-7"}  # data the wording cannot read: not an invoice's id
    session.commit()

    failed: list[dict] = []
    assert queue_due_digests(db_session=session, now=NOW, public_url="http://ui", failed=failed) == 2
    session.commit()
    assert [f["user_id"] for f in failed] == [bad.id]
    assert failed[0]["error"].startswith("DataError")
    assert set(_digests(session)) == {managers[0].id, managers[2].id}
    session.refresh(alerts[1])
    assert alerts[1].notified_at is None  # still waiting for a digest

    alerts[1].payload = {}
    session.commit()
    failed = []
    assert queue_due_digests(db_session=session, now=NOW, public_url="http://ui", failed=failed) == 1
    session.commit()
    assert failed == [] and _digests(session)[bad.id].alert_ids == [alerts[1].id]


def test_digests_are_the_same_however_managers_and_alerts_are_batched(session, make_user, make_creator, monkeypatch):
    """Managers read two at a time and alerts three at a time: a manager with more alerts than a
    batch still gets one digest of all of them, and every other manager exactly theirs."""
    monkeypatch.setattr(notifications, "DIGEST_MANAGERS", 2)
    monkeypatch.setattr(notifications, "DIGEST_ALERTS", 3)
    expected = {}
    for count in (1, 2, 7, 0, 3, 1, 2):
        manager = make_user("manager", timezone="UTC")
        creators = [make_creator(manager=manager) for _ in range(2)]
        ids = [
            _alert(session, creators[n % 2], "metrics_stale", "low", f"Stale {n}", "No data").id for n in range(count)
        ]
        if ids:
            expected[manager.id] = ids
    session.commit()

    failed: list[dict] = []
    assert queue_due_digests(db_session=session, now=NOW, public_url="http://ui", failed=failed) == len(expected)
    session.commit()
    assert failed == []
    digests = _digests(session)
    assert {user_id: digest.alert_ids for user_id, digest in digests.items()} == expected
    for user_id, digest in digests.items():
        count = len(expected[user_id])
        assert digest.subject == f"Agency digest 10 Mar: {count} alert(s), {count} low"
    # Queued in the managers' order (the sender sends in that order).
    ordered = session.scalars(select(OutboxMessage.user_id).order_by(OutboxMessage.id)).all()
    assert ordered == sorted(expected)


def test_queueing_digests_takes_the_same_statements_for_three_managers_or_twelve(session, make_user, make_creator):
    def statements_for(managers: int) -> int:
        for _ in range(managers):
            manager = make_user("manager", timezone="UTC")
            session.add(NotificationPreference(user_id=manager.id))
            for creator in (make_creator(manager=manager), make_creator(manager=manager)):
                _alert(session, creator, "metrics_stale", "low", "Stale", "No data")
                _alert(session, creator, "guideline_strike", "high", "Strike", "A strike")
        session.commit()
        count = [0]

        def counted(*_args):
            count[0] += 1

        engine = session.get_bind()
        event.listen(engine, "before_cursor_execute", counted)
        try:
            queued = queue_due_digests(db_session=session, now=NOW, public_url="http://ui")
        finally:
            event.remove(engine, "before_cursor_execute", counted)
        session.commit()
        assert queued == managers
        return count[0]

    assert statements_for(3) == statements_for(12)
