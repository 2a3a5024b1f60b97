"""The sender sends a claimed batch over one SMTP connection, and a connection that fails or that
the server drops never costs the other emails of the batch theirs."""

from __future__ import annotations

import asyncio
import socket
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from agency.alerts.mailer import BATCH, send_pending
from agency.alerts.models import OutboxMessage, OutboxStatus
from agency.core.database import utcnow


class Server:
    """A local SMTP server counting its connections; it may refuse one recipient and may close
    the connection after each message it accepts."""

    def __init__(self, refuse: str = "", close_after_each: bool = False) -> None:
        self.refuse, self.close_after_each = refuse, close_after_each
        self.connections = 0
        self.messages = []

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == self.refuse:
            return "550 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        if self.close_after_each:
            asyncio.get_running_loop().call_soon(server.transport.close)
        return "250 OK"


@pytest.fixture()
def serve(app):
    config = app.config["AGENCY"]
    saved = (config.smtp_host, config.smtp_port)
    controllers = []

    def _serve(server: Server):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        controller = Controller(server, hostname="127.0.0.1", port=port)
        controller.start()
        controllers.append(controller)
        config.smtp_host, config.smtp_port = "127.0.0.1", port
        return config

    yield _serve
    for controller in controllers:
        controller.stop()
    config.smtp_host, config.smtp_port = saved


def _queue(session, user, count: int, **fields) -> list[OutboxMessage]:
    messages = [
        OutboxMessage(
            user_id=user.id,
            kind="immediate",
            message_id=f"<batch-{n}@agency>",
            recipient=fields.get("recipients", {}).get(n, user.email),
            subject=f"Message {n}",
            body_text=f"text {n}",
            body_html=f"<p>html {n}</p>",
            alert_ids=[],
        )
        for n in range(count)
    ]
    session.add_all(messages)
    session.commit()
    return messages


def test_a_batch_of_emails_goes_over_one_connection(session, manager, serve):
    server = Server()
    config = serve(server)
    count = BATCH * 2 + 1  # three claimed batches
    _queue(session, manager, count)
    assert send_pending(session.get_bind(), config)["sent"] == count
    assert sorted(m["Message-ID"] for m in server.messages) == sorted(f"<batch-{n}@agency>" for n in range(count))
    assert server.connections == 3
    session.expire_all()
    statuses = session.scalars(select(OutboxMessage.status)).all()
    assert set(statuses) == {OutboxStatus.sent}


def test_a_refused_recipient_fails_alone_and_the_rest_of_the_batch_is_sent(session, manager, serve):
    server = Server(refuse="nobody@example.com")
    config = serve(server)
    messages = _queue(session, manager, 5, recipients={2: "nobody@example.com"})
    counts = send_pending(session.get_bind(), config)
    assert (counts["sent"], counts["failed"]) == (4, 1)
    assert sorted(m["Message-ID"] for m in server.messages) == [f"<batch-{n}@agency>" for n in (0, 1, 3, 4)]
    refused = session.get(OutboxMessage, messages[2].id)
    session.refresh(refused)
    assert refused.status is OutboxStatus.pending and refused.next_attempt_at > utcnow()
    assert "SMTPRecipientsRefused" in refused.last_error and refused.attempts == 1


def test_a_connection_the_server_drops_is_opened_again_and_nothing_is_lost(session, manager, serve):
    server = Server(close_after_each=True)
    config = serve(server)
    _queue(session, manager, 4)
    counts = send_pending(session.get_bind(), config)
    assert (counts["sent"], counts["failed"]) == (4, 0)
    assert sorted(m["Message-ID"] for m in server.messages) == [f"<batch-{n}@agency>" for n in range(4)]
    assert server.connections == 4
