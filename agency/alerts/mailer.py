"""The outbox sender: claim, record the attempt, send over SMTP, mark sent.

Claiming uses FOR UPDATE SKIP LOCKED on PostgreSQL, so several workers never take the same
message. The attempt is committed before sending; a message left in `sending` by a killed worker
is retried after `STUCK_AFTER` with the same Message-ID (the one at-least-once edge). Failures
back off (1, 2, 4... minutes) and end `dead` after `MAX_ATTEMPTS`, visible in the outbox. A
claimed batch is sent over one SMTP connection, each email still marked sent (or failed) on its
own as soon as the server answered.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate

import structlog
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from agency.alerts.models import OutboxMessage, OutboxStatus
from agency.alerts.notifications import retry_delay
from agency.core.database import utcnow
from agency.core.prometheus import EMAILS
from agency.money.invoice_pdf import get_invoice_pdf

MAX_ATTEMPTS = 5
STUCK_AFTER = timedelta(minutes=10)
BATCH = 20
log = structlog.get_logger(__name__)


def header_text(value: str) -> str:
    """A header value on one line: line breaks and other control characters become spaces (a
    creator, brand or deliverable name may hold them, and a header must never be split)."""
    return " ".join(_CONTROL.sub(" ", value or "").split())


_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]")


def build_email(message: OutboxMessage, sender: str, files: list[tuple[str, bytes]] = ()) -> EmailMessage:
    """The email of an outbox row, with its attached PDFs (`files`: name and content). Raises
    (ValueError...) when it cannot be built, for instance a recipient that is not an address: the
    sender then records that like any failed send."""
    email = EmailMessage()
    email["From"], email["To"], email["Subject"] = sender, message.recipient, header_text(message.subject)
    email["Message-ID"] = message.message_id
    email["Date"] = formatdate(localtime=False)
    email.set_content(message.body_text)
    email.add_alternative(message.body_html, subtype="html")
    for filename, content in files:
        email.add_attachment(content, maintype="application", subtype="pdf", filename=header_text(filename))
    return email


class AttachmentMissing(LookupError):
    """An attachment the message names cannot be found (the message fails, the others go on)."""


def attachment_files(bind, message: OutboxMessage) -> list[tuple[str, bytes]]:
    """The files an outbox row attaches, read when it is sent: an invoice's PDF as issued."""
    files = []
    with Session(bind) as session:
        for item in message.attachments or []:
            document = None
            if item.get("kind") == "invoice_pdf":
                document = get_invoice_pdf(session, int(item.get("invoice_id", 0)))
            if document is None:
                raise AttachmentMissing(f"no stored document for attachment {item}")
            files.append((document.filename, document.content))
    return files


def smtp_connect(config) -> smtplib.SMTP:
    """An SMTP connection to the configured server, secured and logged in as configured."""
    if not config.smtp_host:
        raise RuntimeError("SMTP_HOST is not set")
    factory = smtplib.SMTP_SSL if config.smtp_use_ssl else smtplib.SMTP
    kwargs = {"context": ssl.create_default_context()} if config.smtp_use_ssl else {}
    smtp = factory(config.smtp_host, config.smtp_port, timeout=30, **kwargs)
    try:
        if config.smtp_use_tls and not config.smtp_use_ssl:
            smtp.starttls(context=ssl.create_default_context())
        if config.smtp_username:
            smtp.login(config.smtp_username, config.smtp_password)
    except BaseException:
        smtp.close()
        raise
    return smtp


class SmtpConnection:
    """One SMTP connection for a batch of emails (connecting, securing and logging in once, not
    once per email): opened by the first email, closed by `close` and by any failed email (it may
    have left the connection unusable: the next email opens a new one). A reused connection the
    server has since dropped is opened again once for the email that found it closed (should the
    server have taken that email before dropping, it arrives twice with the same Message-ID: the
    outbox's at-least-once edge)."""

    def __init__(self) -> None:
        self._smtp: smtplib.SMTP | None = None
        self._used = False

    def __call__(self, config, email: EmailMessage) -> None:
        if self._smtp is None:
            self._smtp, self._used = smtp_connect(config), False
        try:
            self._smtp.send_message(email)
        except smtplib.SMTPServerDisconnected:
            reused = self._used
            self.close()
            if not reused:
                raise
            self(config, email)
            return
        except BaseException:
            self.close()
            raise
        self._used = True

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()


def _claim(bind, limit: int) -> list[OutboxMessage]:
    """Take up to `limit` due messages and record the attempt, in one short transaction. The
    messages are returned loaded (detached): claimed, no other sender takes them before
    `STUCK_AFTER`."""
    now = utcnow()
    with Session(bind, expire_on_commit=False) as session, session.begin():
        stmt = (
            select(OutboxMessage)
            .where(
                or_(
                    (OutboxMessage.status == OutboxStatus.pending) & (OutboxMessage.next_attempt_at <= now),
                    (OutboxMessage.status == OutboxStatus.sending)
                    & (OutboxMessage.last_attempt_at < now - STUCK_AFTER),
                )
            )
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
        if bind.dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        claimed = session.scalars(stmt).all()
        for message in claimed:
            message.status, message.attempts, message.last_attempt_at = OutboxStatus.sending, message.attempts + 1, now
        return list(claimed)


def send_pending(bind, config, send=None) -> dict:
    """Send every due message; returns counts. Safe to run from several workers at once. Each
    claimed batch goes over one SMTP connection (`send`, when given, sends one email instead)."""
    counts = {"sent": 0, "failed": 0, "dead": 0}
    if send is None and not config.smtp_host:
        # Nowhere to send: leave the outbox untouched instead of burning attempts.
        log.warning("smtp_host_not_set_emails_wait")
        return counts | {"rows_changed": 0, "skipped": "SMTP_HOST is not set"}
    while messages := _claim(bind, BATCH):
        sent_before = counts["sent"]
        connection = SmtpConnection() if send is None else None
        try:
            for message in messages:
                try:
                    email = build_email(message, config.smtp_from, attachment_files(bind, message))
                    (send or connection)(config, email)
                except Exception as exc:  # unbuildable emails, SMTP errors, refused connections, timeouts
                    _record_failure(bind, message.id, exc, counts)
                    continue
                _record_sent(bind, message)
                counts["sent"] += 1
                EMAILS.labels(outcome="sent").inc()
        finally:
            if connection is not None:
                connection.close()
        if counts["sent"] == sent_before:
            break  # a whole batch failed (the server is down?): the rest waits for the next pass
    return counts | {"rows_changed": counts["sent"]}


def _record_sent(bind, message: OutboxMessage) -> None:
    """Mark a message sent (one UPDATE, committed at once); a secret's body is forgotten."""
    values = {"status": OutboxStatus.sent, "sent_at": utcnow(), "last_error": None} | message.secret_forgotten()
    with Session(bind) as session, session.begin():
        session.execute(update(OutboxMessage).where(OutboxMessage.id == message.id).values(**values))


def _record_failure(bind, message_id: int, exc: Exception, counts: dict) -> None:
    """A message that could not be built or sent waits for its back-off, then ends `dead`; the
    messages claimed after it go on."""
    with Session(bind) as session, session.begin():
        message = session.get(OutboxMessage, message_id)
        message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if message.attempts >= MAX_ATTEMPTS:
            message.status = OutboxStatus.dead
            message.forget_secret()
            counts["dead"] += 1
        else:
            message.status = OutboxStatus.pending
            message.next_attempt_at = utcnow() + retry_delay(message.attempts)
            counts["failed"] += 1
    EMAILS.labels(outcome="failed").inc()
    log.warning("email_failed", outbox_id=message_id, error=type(exc).__name__)
