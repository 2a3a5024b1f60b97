import socket
import threading
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller


class Mailbox:
    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def smtp_server():
    """A real SMTP server (aiosmtpd) on a free local port, capturing every message."""
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller, mailbox
    controller.stop()


@pytest.fixture()
def mail_config(app, smtp_server):
    controller, _ = smtp_server
    config = app.config["AGENCY"]
    saved = (config.smtp_host, config.smtp_port)
    config.smtp_host, config.smtp_port = "127.0.0.1", controller.port
    yield config
    config.smtp_host, config.smtp_port = saved
