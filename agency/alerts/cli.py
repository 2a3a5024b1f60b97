"""`agency alerts evaluate` and `agency digests send`."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from agency.core.extensions import get_db
from agency.core.jobs.service import run_job_now


@click.group("alerts")
def alerts() -> None:
    """Alerts."""


@alerts.command("evaluate")
@with_appcontext
def alerts_evaluate() -> None:
    """Evaluate every alert kind now (opens new, resolves cleared) and queue immediate emails."""
    _run_job_now("evaluate_alerts", {})


@click.group("digests")
def digests() -> None:
    """Account-manager digests."""


@digests.command("send")
@click.option("--now", "now_", is_flag=True, required=True, help="Every manager's pending digest, regardless of hour.")
@with_appcontext
def digests_send(now_: bool) -> None:
    """Queue every manager's pending digest now and send the outbox."""
    _run_job_now("queue_digests", {"force": True})
    _run_job_now("send_emails", {})


def _run_job_now(name: str, arguments: dict) -> None:
    with get_db().session_scope() as session:
        result = run_job_now(session, current_app.config["AGENCY"], name, arguments)
    click.echo(f"{name}: " + " ".join(f"{k}={v}" for k, v in result.items()))


commands = [alerts, digests]
