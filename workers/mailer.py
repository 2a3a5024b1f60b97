"""An optional dedicated sender: `agency mailer` sends the email outbox in a loop.

The scheduler already queues a `send_emails` job every five minutes; run this process when mail
should leave within seconds instead. Several senders may run at once (claims skip locked rows).
"""

from __future__ import annotations

import time

import click
import structlog
from flask import current_app
from flask.cli import with_appcontext

from agency.alerts.mailer import send_pending
from agency.core.extensions import get_db

log = structlog.get_logger(__name__)


def run_forever(bind, config, tick_seconds: float) -> None:  # pragma: no cover - a loop
    log.info("mailer_started", tick_seconds=tick_seconds)
    while True:
        try:
            counts = send_pending(bind, config)
            if counts.get("sent") or counts.get("failed") or counts.get("dead"):
                log.info("mailer_tick", **counts)
        except Exception:
            log.exception("mailer_tick_failed")
        time.sleep(tick_seconds)


@click.command("mailer")
@click.option("--once", is_flag=True, help="Send what is due now, then exit.")
@click.option("--every", "tick_seconds", default=10.0, show_default=True, help="Seconds between passes.")
@with_appcontext
def mailer_command(once: bool, tick_seconds: float) -> None:
    """Send the email outbox continuously (SMTP_HOST must be set)."""
    config = current_app.config["AGENCY"]
    if not config.smtp_host:
        raise click.ClickException("SMTP_HOST is not set: there is nowhere to send mail.")
    if once:
        click.echo(" ".join(f"{k}={v}" for k, v in send_pending(get_db().engine, config).items()))
        return
    run_forever(get_db().engine, config, tick_seconds)
