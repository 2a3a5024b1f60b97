import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import delete, event, select

from agency.alerts import notifications
from agency.alerts.models import Alert, AlertStatus, NotificationPreference, OutboxMessage
from agency.alerts.notifications import ImmediateEmails, queue_immediate
from agency.alerts.service import AlertSettings, evaluate_alerts
from agency.core.users.models import User
from agency.deals.models import Brand, Deal, Deliverable, DeliverableStatus
from agency.money.models import DiversificationSnapshot
from agency.roster.models import Creator

TODAY = date.today()


def _overdue_deliverable(session, creator, days_late=2, today=TODAY):
    brand = Brand(name=f"Brand {creator.id}")
    session.add(brand)
    session.flush()
    deal = Deal(
        creator_id=creator.id,
        brand_id=brand.id,
        title="Launch",
        source="direct",
        fee_amount="100.00",
        fee_currency="EUR",
        commission_percent="20.00",
        stage="in_progress",
    )
    session.add(deal)
    session.flush()
    deliverable = Deliverable(
        deal_id=deal.id, kind="video", platform="tiktok", due_date=today - timedelta(days=days_late)
    )
    session.add(deliverable)
    session.commit()
    session.expire_all()  # reload enums as enums (the session keeps objects across commits)
    return deliverable


def _evaluate(session):
    result = evaluate_alerts(db_session=session, settings=AlertSettings(today=TODAY))
    session.commit()
    return result


def test_one_open_alert_per_condition_auto_resolve_and_reopen(session, manager, make_creator):
    creator = make_creator(manager=manager, status="paused")  # paused: no stale-metrics alert
    deliverable = _overdue_deliverable(session, creator)
    first = _evaluate(session)
    assert first.opened == 1
    alert = session.scalars(select(Alert)).one()
    assert alert.kind.value == "deliverable_overdue" and alert.severity.value == "high"
    assert _evaluate(session).opened == 0  # however often it runs
    deliverable.status = DeliverableStatus.published
    deliverable.published_url = "https://www.tiktok.com/@x/video/1"
    session.commit()
    cleared = _evaluate(session)
    assert cleared.resolved == 1
    session.refresh(alert)
    assert alert.status is AlertStatus.resolved and alert.resolved_by_id is None
    deliverable.status = DeliverableStatus.in_progress  # the problem is back: a new alert, the old stays resolved
    session.commit()
    assert _evaluate(session).opened == 1
    assert len(session.scalars(select(Alert)).all()) == 2


def test_a_run_that_keeps_clears_and_opens_alerts_counts_each_once(session, manager, make_creator):
    """In one chunk: an alert whose condition holds stays open, one whose condition cleared is
    resolved, a new condition opens one; the run reports each once, and what stays open."""
    kept, cleared, new = (make_creator(manager=manager, status="paused") for _ in range(3))
    kept_deliverable = _overdue_deliverable(session, kept)
    cleared_deliverable = _overdue_deliverable(session, cleared)
    assert (_evaluate(session).opened, _evaluate(session).opened) == (2, 0)
    cleared_deliverable.status = DeliverableStatus.cancelled
    _overdue_deliverable(session, new)
    run = _evaluate(session)
    assert (run.opened, run.resolved, run.still_open) == (1, 1, 2)
    open_alerts = session.execute(
        select(Alert.creator_id, Alert.payload).where(Alert.status != AlertStatus.resolved).order_by(Alert.creator_id)
    ).all()
    assert [creator_id for creator_id, _payload in open_alerts] == [kept.id, new.id]
    assert open_alerts[0].payload["deliverable_id"] == kept_deliverable.id
    unchanged = _evaluate(session)
    assert (unchanged.opened, unchanged.resolved, unchanged.still_open) == (0, 0, 2)


def test_an_acknowledged_alert_stays_its_conditions_open_alert_chunk_by_chunk(session, manager, make_creator):
    """The open alerts a chunk matches its conditions with are its own creators' open or
    acknowledged ones: acknowledging keeps the alert (nothing reopened or resolved), another
    chunk's open alert of the same kind does not hide a condition, and a resolved one does not
    either."""
    first_creator = make_creator(manager=manager, status="paused")
    second_creator = make_creator(manager=manager, status="paused")
    for creator in (first_creator, second_creator):
        _overdue_deliverable(session, creator)
    assert evaluate_alerts(db_session=session, settings=AlertSettings(today=TODAY), chunk_size=1).opened == 2
    session.commit()
    first, second = session.scalars(select(Alert).order_by(Alert.creator_id)).all()
    first.status = AlertStatus.acknowledged
    second.status, second.resolved_at = AlertStatus.resolved, datetime.now(UTC)  # by hand: the condition holds
    session.commit()
    again = evaluate_alerts(db_session=session, settings=AlertSettings(today=TODAY), chunk_size=1)
    session.commit()
    assert (again.opened, again.resolved, again.still_open) == (1, 0, 2)
    statuses = session.execute(select(Alert.creator_id, Alert.status).order_by(Alert.id)).all()
    assert statuses == [
        (first_creator.id, AlertStatus.acknowledged),
        (second_creator.id, AlertStatus.resolved),
        (second_creator.id, AlertStatus.open),
    ]


def test_acknowledge_resolve_bulk_and_rbac(client, session, manager, make_user, make_creator, auth_for, analyst):
    creator = make_creator(manager=manager, status="paused")
    _overdue_deliverable(session, creator)
    other = make_creator(manager=make_user("manager"), status="paused")
    _overdue_deliverable(session, other)
    _evaluate(session)
    headers = auth_for(manager)
    mine = client.get("/api/v1/alerts?mine=true", headers=headers).json
    assert [a["creator_id"] for a in mine] == [creator.id]
    alert_id = mine[0]["id"]
    assert client.post(f"/api/v1/alerts/{alert_id}/acknowledge", headers=auth_for(analyst)).status_code == 403
    theirs = client.get(f"/api/v1/alerts?creator_id={other.id}", headers=headers).json[0]["id"]
    assert client.post(f"/api/v1/alerts/{theirs}/acknowledge", headers=headers).status_code == 403
    ack = client.post(f"/api/v1/alerts/{alert_id}/acknowledge", headers=headers)
    assert ack.status_code == 200 and ack.json["status"] == "acknowledged"
    bulk = client.post("/api/v1/alerts/bulk", json={"ids": [alert_id], "action": "resolve"}, headers=headers)
    assert bulk.status_code == 200 and bulk.json[0]["status"] == "resolved"
    assert client.get("/api/v1/alerts?mine=true", headers=headers).json == []
    resolved = client.get("/api/v1/alerts?mine=true&status=resolved", headers=headers).json
    assert resolved[0]["resolved_automatically"] is False


def test_preferences_and_immediate_emails(client, session, manager, make_creator, auth_for):
    headers = auth_for(manager)
    prefs = client.get("/api/v1/users/me/notification-preferences", headers=headers).json
    assert prefs["digest_hour"] == 8 and prefs["immediate_severities"] == ["high"]
    assert (
        client.put("/api/v1/users/me/notification-preferences", json={"digest_hour": 24}, headers=headers).status_code
        == 422
    )
    creator = make_creator(manager=manager, status="paused")
    _overdue_deliverable(session, creator)
    result = _evaluate(session)
    assert queue_immediate(db_session=session, alert_ids=result.opened_ids, public_url="http://ui") == 1
    assert queue_immediate(db_session=session, alert_ids=result.opened_ids, public_url="http://ui") == 0
    message = session.scalars(select(OutboxMessage)).one()
    assert message.recipient == manager.email and "http://ui/creators/" in message.body_text
    client.put(
        "/api/v1/users/me/notification-preferences", json={"muted_kinds": ["deliverable_overdue"]}, headers=headers
    )
    other = make_creator(manager=manager, status="paused")
    _overdue_deliverable(session, other)
    second = _evaluate(session)
    assert queue_immediate(db_session=session, alert_ids=second.opened_ids, public_url="http://ui") == 0


def _snapshot(session, creator, as_of, hhi, share):
    session.add(
        DiversificationSnapshot(
            creator_id=creator.id,
            as_of=as_of,
            window_days=90,
            currency="EUR",
            total="1000.00",
            previous_total="0",
            platform_total="1000.00",
            by_source={},
            by_platform={},
            top_source="brand_deals",
            top_source_share=share,
            top_platform="tiktok",
            top_platform_share=share,
            tiktok_share=share,
            hhi=hhi,
            effective_sources="1.20",
            risk_level="high" if Decimal(hhi) >= Decimal("0.5") else "low",
        )
    )


def _alerts(session):
    return sorted(
        (a.kind.value, a.creator_id, a.dedup_key, a.subject, a.message, json.dumps(a.payload, sort_keys=True))
        for a in session.scalars(select(Alert).where(Alert.status != AlertStatus.resolved))
    )


def test_chunked_evaluation_opens_what_one_pass_opens_from_each_creators_latest_snapshot(
    session, manager, make_creator
):
    creators = [make_creator(manager=manager, status="paused") for _ in range(5)]
    for creator in creators:
        _overdue_deliverable(session, creator)
    # Concentrated income once, diversified since: no alert; and the other way round: an alert
    # worded from the latest snapshot.
    _snapshot(session, creators[1], TODAY - timedelta(days=10), "0.9000", "0.9500")
    _snapshot(session, creators[1], TODAY - timedelta(days=1), "0.2000", "0.3000")
    _snapshot(session, creators[3], TODAY - timedelta(days=10), "0.2000", "0.3000")
    _snapshot(session, creators[3], TODAY - timedelta(days=1), "0.8100", "0.9000")
    session.commit()
    chunked = evaluate_alerts(db_session=session, settings=AlertSettings(today=TODAY), chunk_size=2)
    session.commit()
    assert chunked.chunks >= 3 and chunked.opened == 7 and not chunked.failed_items
    by_chunks = _alerts(session)
    concentration = [a for a in by_chunks if a[0] in ("concentration_risk", "platform_dependency")]
    assert [(kind, creator_id) for kind, creator_id, *_ in concentration] == [
        ("concentration_risk", creators[3].id),
        ("platform_dependency", creators[3].id),
    ]
    assert "90% of" in concentration[0][4] and "(HHI 0.8100" in concentration[0][4]
    # Unchanged: nothing opened, resolved or rewritten, whatever the chunks.
    again = evaluate_alerts(db_session=session, settings=AlertSettings(today=TODAY), chunk_size=3)
    session.commit()
    assert (again.opened, again.resolved, again.still_open) == (0, 0, 7)
    assert _alerts(session) == by_chunks
    # One pass over the same data opens the same alerts, worded the same.
    session.execute(delete(Alert))
    session.commit()
    assert evaluate_alerts(db_session=session, settings=AlertSettings(today=TODAY)).opened == 7
    session.commit()
    assert _alerts(session) == by_chunks


def test_each_chunk_alerts_its_own_active_creators_only(session, manager, make_creator):
    """Chunk by chunk (one creator each here), a kind joins the chunk's creators: an archived or
    offboarded creator opens nothing, a stale active creator's alert names that creator, and an
    unchanged re-run by other chunks opens and resolves nothing."""
    kept = make_creator(manager=manager, display_name="Kept Creator", status="active")
    archived = make_creator(manager=manager, display_name="Archived Creator", archived_at=datetime.now(UTC))
    gone = make_creator(manager=manager, display_name="Gone Creator", status="offboarded")
    for creator in (kept, archived, gone):
        _overdue_deliverable(session, creator)
    first = evaluate_alerts(db_session=session, settings=AlertSettings(today=TODAY), chunk_size=1)
    session.commit()
    assert first.chunks == 3 and not first.failed_items
    alerts = session.scalars(select(Alert).order_by(Alert.kind)).all()
    assert {(a.kind.value, a.creator_id) for a in alerts} == {
        ("deliverable_overdue", kept.id),
        ("metrics_stale", kept.id),  # an active creator whose account has no metrics yet
    }
    assert all("Kept Creator" in a.subject for a in alerts)
    again = evaluate_alerts(db_session=session, settings=AlertSettings(today=TODAY), chunk_size=2)
    assert (again.opened, again.resolved, again.still_open) == (0, 0, 2)


def test_evaluation_writes_each_alert_once_with_the_emails_a_manager_wants_at_once(
    session, manager, make_creator, make_user
):
    """An evaluation with `ImmediateEmails` writes the alerts a manager wants at once already
    stamped as notified (no update of the alerts afterwards) and queues exactly their emails, the
    ones `queue_immediate` writes for the same alerts; a severity the manager does not want at
    once and a creator whose manager is inactive are stamped and mailed by nobody."""
    mailed = make_creator(manager=manager, display_name="Mailed Creator", status="paused")
    gone_manager = make_user("manager", is_active=False)
    unmanaged = make_creator(manager=gone_manager, display_name="Unmanaged Creator", status="paused")
    soon = make_creator(manager=manager, display_name="Soon Creator", status="paused")
    for creator in (mailed, unmanaged):
        _overdue_deliverable(session, creator)  # high severity
    _overdue_deliverable(session, soon, days_late=-1)  # due soon: medium, not wanted at once
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(session.get_bind(), "before_cursor_execute", listener)
    try:
        emails = ImmediateEmails(session, "http://ui")
        result = evaluate_alerts(db_session=session, settings=AlertSettings(today=TODAY), emails=emails, chunk_size=1)
        session.commit()
    finally:
        event.remove(session.get_bind(), "before_cursor_execute", listener)
    assert result.opened == 3 and emails.queued == 1
    assert not [s for s in statements if s.lstrip().startswith("UPDATE alerts SET notified_at")]
    alerts = {(a.creator_id, a.kind.value): a for a in session.scalars(select(Alert))}
    stamped = alerts[(mailed.id, "deliverable_overdue")]
    assert stamped.notified_at == stamped.opened_at
    assert [a for a in alerts.values() if a.notified_at is not None] == [stamped]
    message = session.scalars(select(OutboxMessage)).one()
    assert message.alert_ids == [stamped.id] and message.message_id == f"<alert-{stamped.id}@agency>"
    assert message.recipient == manager.email and f"http://ui/alerts/{stamped.id}" in message.body_text
    # The same alert through queue_immediate gives the same email.
    session.execute(delete(OutboxMessage))
    stamped.notified_at = None
    session.commit()
    assert queue_immediate(db_session=session, alert_ids=[stamped.id], public_url="http://ui") == 1
    again = session.scalars(select(OutboxMessage)).one()
    assert (again.subject, again.body_text, again.body_html) == (message.subject, message.body_text, message.body_html)


def test_an_evaluation_mails_at_once_what_each_managers_preferences_ask_for(session, make_creator, make_user):
    """Through an evaluation, each manager's own preferences decide what is stamped and mailed at
    once: a manager with email off gets nothing, one who muted the kind gets nothing, one who
    asked for medium alerts at once gets the deliverable due soon as well as the overdue one."""
    quiet, muting, eager = (make_user("manager") for _ in range(3))
    session.add_all(
        [
            NotificationPreference(user_id=quiet.id, email_enabled=False, immediate_severities=["high"]),
            NotificationPreference(user_id=muting.id, muted_kinds=["deliverable_overdue"]),
            NotificationPreference(user_id=eager.id, immediate_severities=["high", "medium"]),
        ]
    )
    session.commit()
    for manager in (quiet, muting, eager):
        overdue = make_creator(manager=manager, status="paused")
        _overdue_deliverable(session, overdue)  # high
        due = make_creator(manager=manager, status="paused")
        _overdue_deliverable(session, due, days_late=-1)  # due soon: medium
    emails = ImmediateEmails(session, "http://ui")
    result = evaluate_alerts(db_session=session, settings=AlertSettings(today=TODAY), emails=emails)
    session.commit()
    assert result.opened == 6
    stamped = session.execute(
        select(Alert.kind, User.email)
        .join(Creator, Creator.id == Alert.creator_id)
        .join(User, User.id == Creator.manager_id)
        .where(Alert.notified_at.is_not(None))
        .order_by(Alert.kind)
    ).all()
    assert [tuple(row) for row in stamped] == [("deliverable_due", eager.email), ("deliverable_overdue", eager.email)]
    message = session.scalars(select(OutboxMessage)).one()
    assert message.recipient == eager.email and len(message.alert_ids) == 2


def test_the_alerts_a_run_opens_for_a_manager_go_out_in_one_email_not_one_each(
    session, manager, make_creator, make_user, monkeypatch
):
    """A run that opens several high alerts for one manager's creators, in any of its chunks,
    sends that manager one email listing them all (at the highest severity, saying how many and about how many
    creators); another manager with one alert gets the one-alert email; a list longer than
    `IMMEDIATE_ALERTS` is split, not cut, and no alert is in two emails."""
    mine_creators = [make_creator(manager=manager, display_name=n, status="paused") for n in ("Ben", "Ada", "Dan")]
    other_manager = make_user("manager")
    alone = make_creator(manager=other_manager, display_name="Cleo", status="paused")
    for creator in (*mine_creators, alone):
        _overdue_deliverable(session, creator)
    emails = ImmediateEmails(session, "http://ui")
    # One creator per chunk: a manager's alerts of the whole run go out together all the same.
    result = evaluate_alerts(db_session=session, settings=AlertSettings(today=TODAY), emails=emails, chunk_size=1)
    session.commit()
    assert result.opened == 4 and emails.queued == 2 and result.chunks == 4
    mine = session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == manager.email)).one()
    ids = sorted(
        a.id for a in session.scalars(select(Alert).where(Alert.creator_id.in_([c.id for c in mine_creators])))
    )
    assert mine.alert_ids == ids and mine.message_id == f"<alerts-{ids[0]}-3@agency>"
    assert mine.subject == "[HIGH] 3 new alerts about 3 creators"
    assert "3 new alerts need your attention:" in mine.body_text
    assert all(f"http://ui/alerts/{alert_id}" in mine.body_text for alert_id in ids)
    assert mine.body_text.index("== Ada") < mine.body_text.index("== Ben") < mine.body_text.index("== Dan")
    theirs = session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == other_manager.email)).one()
    assert theirs.subject.startswith("[HIGH] Cleo: video for 'Launch' is overdue") and len(theirs.alert_ids) == 1

    # Split, not cut: two at most per email here.
    monkeypatch.setattr(notifications, "IMMEDIATE_ALERTS", 2)
    session.execute(delete(OutboxMessage))
    for alert in session.scalars(select(Alert)):
        alert.notified_at = None
    session.commit()
    assert queue_immediate(db_session=session, alert_ids=ids, public_url="http://ui") == 2
    split = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [m.alert_ids for m in split] == [ids[:2], ids[2:]]
    assert split[0].subject == "[HIGH] 2 new alerts about 2 creators"
    assert split[1].message_id == f"<alert-{ids[2]}@agency>"


def test_immediate_emails_are_the_same_however_managers_are_batched(session, make_creator, make_user, monkeypatch):
    """The managers' emails of a run are written in batches of at most `IMMEDIATE_BATCH_ALERTS`
    alerts: three managers with two alerts each, batched three alerts at a time (one manager per
    batch), get exactly the emails they get in one batch."""
    managers = [make_user("manager") for _ in range(3)]
    for manager in managers:
        for _ in range(2):
            _overdue_deliverable(session, make_creator(manager=manager, status="paused"))

    def emails_of_a_run() -> list[tuple]:
        session.execute(delete(OutboxMessage))
        session.execute(delete(Alert))
        session.commit()
        emails = ImmediateEmails(session, "http://ui")
        evaluate_alerts(db_session=session, settings=AlertSettings(today=TODAY), emails=emails)
        session.commit()
        assert emails.queued == 3 and not emails.failed
        alerts = {a.id: (a.creator_id, a.kind.value) for a in session.scalars(select(Alert))}
        return sorted(
            (m.recipient, m.subject, [alerts[i] for i in m.alert_ids], m.body_text.count("http://ui/alerts/"))
            for m in session.scalars(select(OutboxMessage))
        )

    together = emails_of_a_run()
    assert [(recipient, len(alerts)) for recipient, _, alerts, _ in together] == sorted((m.email, 2) for m in managers)
    monkeypatch.setattr(notifications, "IMMEDIATE_BATCH_ALERTS", 3)
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(session.get_bind(), "before_cursor_execute", listener)
    try:
        assert emails_of_a_run() == together
    finally:
        event.remove(session.get_bind(), "before_cursor_execute", listener)
    # One read of the run's mailed alerts per batch: one manager each.
    assert len([s for s in statements if s.lstrip().startswith("SELECT alerts.id") and "JOIN creators" in s]) == 3


def test_a_manager_whose_immediate_emails_fail_is_reported_and_their_alerts_wait_for_the_digest(
    session, manager, make_creator, make_user, monkeypatch
):
    """Writing one manager's immediate emails fails: the other managers still get theirs, the
    evaluation stands, the failing manager is reported with the error, and their alerts are left
    unmailed, so the next digest carries them."""
    other_manager = make_user("manager")
    failing = make_creator(manager=manager, display_name="Failing Creator", status="paused")
    fine = make_creator(manager=other_manager, display_name="Fine Creator", status="paused")
    for creator in (failing, fine):
        _overdue_deliverable(session, creator)
    render = notifications._render

    def render_or_fail(user, *args):
        if user.id == manager.id:
            raise ValueError("cannot render this email")
        return render(user, *args)

    monkeypatch.setattr(notifications, "_render", render_or_fail)
    emails = ImmediateEmails(session, "http://ui")
    result = evaluate_alerts(db_session=session, settings=AlertSettings(today=TODAY), emails=emails)
    session.commit()
    assert result.opened == 2 and emails.queued == 1
    assert emails.failed == [{"user_id": manager.id, "error": "ValueError: cannot render this email"}]
    assert [m.recipient for m in session.scalars(select(OutboxMessage))] == [other_manager.email]
    alerts = {a.creator_id: a for a in session.scalars(select(Alert))}
    assert alerts[failing.id].notified_at is None and alerts[fine.id].notified_at is not None

    monkeypatch.setattr(notifications, "_render", render)
    session.execute(delete(OutboxMessage))
    session.commit()
    assert notifications.queue_due_digests(
        db_session=session, now=datetime.now(UTC), public_url="http://ui", force=True
    )
    digest = session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == manager.email)).one()
    assert digest.alert_ids == [alerts[failing.id].id]
