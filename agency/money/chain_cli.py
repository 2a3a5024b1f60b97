"""`agency ledger export --from --to [--output FILE]` and `agency ledger trial-balance`."""

from __future__ import annotations

from datetime import datetime

import click
from flask import current_app
from flask.cli import with_appcontext

from agency.core.extensions import get_db
from agency.money.ledger import export_journal_csv, trial_balance


@click.group("ledger")
def ledger() -> None:
    """The money chain's ledger."""


@ledger.command("export")
@click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), required=True, help="First day (YYYY-MM-DD).")
@click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), required=True, help="Last day (YYYY-MM-DD).")
@click.option("--output", "-o", type=click.File("w", encoding="utf-8"), default="-", help="CSV file (default: stdout).")
@with_appcontext
def export_command(date_from: datetime, date_to: datetime, output) -> None:
    """The journal of a period as CSV for the accountant (one row per line, spreadsheet-safe)."""
    if date_to < date_from:
        raise click.BadParameter("--to is before --from")
    with get_db().session_scope() as session:
        output.write(
            export_journal_csv(
                session,
                date_from=date_from.date(),
                date_to=date_to.date(),
                base_currency=current_app.config["AGENCY"].base_currency,
            )
        )


@ledger.command("trial-balance")
@with_appcontext
def trial_balance_command() -> None:
    """Every account's debits, credits and balance; the balances sum to zero."""
    with get_db().session_scope() as session:
        for row in trial_balance(session, base_currency=current_app.config["AGENCY"].base_currency):
            click.echo(
                f"{row['code']}  {row['name'][:40]:<40} {row['debit']:>14} {row['credit']:>14} {row['balance']:>14}"
            )


commands = [ledger]
