from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import select

from agency.alerts.mailer import MAX_ATTEMPTS, send_pending
from agency.alerts.models import OutboxMessage, OutboxStatus
from agency.alerts.notifications import queue_due_digests
from agency.alerts.service import AlertSettings, evaluate_alerts
from agency.core.database import utcnow
from tests.alerts.test_alerts import TODAY, _overdue_deliverable


def _alerts_for(session, manager, make_creator, count=2):
    for _ in range(count):
        _overdue_deliverable(session, make_creator(manager=manager, status="paused"))
    evaluate_alerts(db_session=session, settings=AlertSettings(today=TODAY))
    session.commit()


def test_digest_is_sent_once_grouped_by_creator_with_links(
    session, db, manager, make_creator, mail_config, smtp_server
):
    _, mailbox = smtp_server
    _alerts_for(session, manager, make_creator)
    now = datetime.now(UTC)
    assert queue_due_digests(db_session=session, now=now, public_url="https://agency.example", force=True) == 1
    assert queue_due_digests(db_session=session, now=now, public_url="https://agency.example", force=True) == 0
    session.commit()
    assert send_pending(session.get_bind(), mail_config)["sent"] == 1
    assert send_pending(session.get_bind(), mail_config)["sent"] == 0  # nothing twice
    assert len(mailbox.messages) == 1
    email = mailbox.messages[0]
    assert email["To"] == manager.email and email["Message-ID"].startswith("<digest-")
    text = email.get_body(("plain",)).get_content()
    html = email.get_body(("html",)).get_content()
    assert text.count("== Creator") == 2 and "[HIGH]" in text
    assert "https://agency.example/creators/" in html and "https://agency.example/alerts/" in text


def test_failed_sends_back_off_then_go_dead(session, manager, make_creator, app):
    _alerts_for(session, manager, make_creator, count=1)
    queue_due_digests(db_session=session, now=utcnow(), public_url="http://ui", force=True)
    session.commit()
    config = app.config["AGENCY"]

    def refuse(_config, _email):
        raise ConnectionRefusedError("SMTP down")

    assert send_pending(session.get_bind(), config, send=refuse)["failed"] == 1
    message = session.scalars(select(OutboxMessage)).one()
    session.refresh(message)
    assert message.status is OutboxStatus.pending and message.next_attempt_at > utcnow()
    for attempt in range(2, MAX_ATTEMPTS + 1):
        with time_machine.travel(utcnow() + timedelta(hours=attempt), tick=False):
            send_pending(session.get_bind(), config, send=refuse)
    session.refresh(message)
    assert message.status is OutboxStatus.dead and message.attempts == MAX_ATTEMPTS
    assert "SMTP down" in message.last_error


def test_a_send_interrupted_before_marking_is_retried_with_the_same_message_id(
    session, manager, make_creator, mail_config, smtp_server
):
    _, mailbox = smtp_server
    _alerts_for(session, manager, make_creator, count=1)
    queue_due_digests(db_session=session, now=utcnow(), public_url="http://ui", force=True)
    session.commit()
    message = session.scalars(select(OutboxMessage)).one()
    # A worker recorded its attempt and died: the row is left "sending".
    message.status, message.attempts, message.last_attempt_at = OutboxStatus.sending, 1, utcnow()
    session.commit()
    assert send_pending(session.get_bind(), mail_config)["sent"] == 0  # not yet: it may still be in flight
    with time_machine.travel(utcnow() + timedelta(minutes=11), tick=False):
        assert send_pending(session.get_bind(), mail_config)["sent"] == 1
    assert mailbox.messages[0]["Message-ID"] == message.message_id


def test_digest_waits_for_the_managers_local_hour(session, make_user, make_creator):
    tokyo = make_user("manager", timezone="Asia/Tokyo")
    paris = make_user("manager", timezone="Europe/Paris")
    for manager in (tokyo, paris):
        _overdue_deliverable(session, make_creator(manager=manager, status="paused"))
    evaluate_alerts(db_session=session, settings=AlertSettings(today=TODAY))
    # 23:30 UTC is 08:30 next day in Tokyo and 00:30 in Paris: only Tokyo's digest is due.
    late = datetime(2026, 3, 10, 23, 30, tzinfo=UTC)
    assert queue_due_digests(db_session=session, now=late, public_url="http://ui") == 1
    recipients = [m.recipient for m in session.scalars(select(OutboxMessage))]
    assert recipients == [tokyo.email]
    assert "2026-03-11" in session.scalars(select(OutboxMessage)).one().message_id
    morning = datetime(2026, 3, 11, 7, 5, tzinfo=UTC)  # 08:05 in Paris (UTC+1)
    assert queue_due_digests(db_session=session, now=morning, public_url="http://ui") == 1


def test_digests_send_now_command(app, db, session, manager, make_creator, mail_config, smtp_server):
    _, mailbox = smtp_server
    _alerts_for(session, manager, make_creator, count=1)
    result = app.test_cli_runner().invoke(args=["digests", "send", "--now"])
    assert result.exit_code == 0, result.output
    assert "digests_queued=1" in result.output and "sent=1" in result.output
    assert len(mailbox.messages) == 1


def _outbox(session, user, n, **fields):
    message = OutboxMessage(
        user_id=user.id,
        kind="immediate",
        message_id=f"<test-{n}@agency>",
        recipient=user.email,
        subject=f"Message {n}",
        body_text="text",
        body_html="<p>html</p>",
        alert_ids=[],
    )
    for name, value in fields.items():
        setattr(message, name, value)
    session.add(message)
    session.flush()
    return message


def test_an_email_that_cannot_be_built_fails_alone_and_never_blocks_the_ones_after_it(
    session, manager, mail_config, smtp_server
):
    _, mailbox = smtp_server
    # Claimed first (lowest id): a recipient that cannot be a header.
    poison = _outbox(session, manager, 0, recipient="someone@example.com\nBcc: all@example.com")
    good = [_outbox(session, manager, n) for n in (1, 2, 3)]
    session.commit()
    counts = send_pending(session.get_bind(), mail_config)
    assert counts["sent"] == 3 and counts["failed"] == 1
    assert sorted(m["Message-ID"] for m in mailbox.messages) == sorted(m.message_id for m in good)
    session.refresh(poison)
    assert poison.status is OutboxStatus.pending and poison.next_attempt_at > utcnow()
    assert "ValueError" in poison.last_error
    for attempt in range(2, MAX_ATTEMPTS + 1):  # retried with back-off, then parked
        with time_machine.travel(utcnow() + timedelta(hours=attempt), tick=False):
            send_pending(session.get_bind(), mail_config)
    session.refresh(poison)
    assert poison.status is OutboxStatus.dead and poison.attempts == MAX_ATTEMPTS
    assert len(mailbox.messages) == 3


def test_a_name_with_a_line_break_is_mailed_on_one_subject_line(session, manager, mail_config, smtp_server):
    _, mailbox = smtp_server
    _outbox(session, manager, 1, subject="[HIGH] Deliverable overdue for Eve\r\nBcc: all@example.com")
    session.commit()
    assert send_pending(session.get_bind(), mail_config)["sent"] == 1
    email = mailbox.messages[0]
    assert email["Subject"] == "[HIGH] Deliverable overdue for Eve Bcc: all@example.com"
    assert email["Bcc"] is None


def test_many_messages_after_a_failing_one_all_leave_in_one_pass(session, manager, mail_config, smtp_server):
    _, mailbox = smtp_server
    _outbox(session, manager, 0, recipient="bad\n@example.com")
    for n in range(1, 46):  # more than one claimed batch
        _outbox(session, manager, n)
    session.commit()
    assert send_pending(session.get_bind(), mail_config)["sent"] == 45
    assert len(mailbox.messages) == 45
