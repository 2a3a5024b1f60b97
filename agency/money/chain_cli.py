"""`agency ledger export --from --to [--output FILE]`, `agency ledger trial-balance`, and the money
events an operator records: `platform-payout`, `pay-commission` and `write-off`."""

from __future__ import annotations

from datetime import datetime

import click
from flask import current_app
from flask.cli import with_appcontext
from marshmallow import ValidationError
from sqlalchemy import select

from agency.core.audit.service import Actor
from agency.core.cli import import_day
from agency.core.errors import NotFound, ServiceError
from agency.core.extensions import get_db
from agency.currencies.service import format_money
from agency.money.chain_models import Invoice, InvoiceKind
from agency.money.chain_schemas import CommissionPayoutSchema, PlatformPayoutSchema, WriteOffSchema
from agency.money.invoices import MoneySettings
from agency.money.ledger import export_journal_csv, trial_balance
from agency.money.ledger_events import pay_commission, write_off_invoice
from agency.money.revenue import record_platform_payout


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


# --- money events an operator records from the command line (audited as system:cli) -----------


def _run(action):
    """Run `action(session, actor)` in one transaction; a refusal is a clear error, nothing saved."""
    try:
        with get_db().session_scope() as session:
            return action(session, Actor.system("cli"))
    except ValidationError as exc:
        raise click.ClickException(f"Invalid input: {exc.messages}") from exc
    except ServiceError as exc:
        raise click.ClickException(f"{exc.message} {exc.errors or ''}".strip()) from exc


@ledger.command("platform-payout")
@click.option("--revenue-record-id", type=int, help="Post this recorded revenue (its posting waited).")
@click.option("--creator-id", type=int, help="Or record the platform revenue of this creator...")
@click.option("--date", "day", help="...earned on this day (YYYY-MM-DD)...")
@click.option("--source", help="...from this platform source (creator_rewards, creator_fund, live_gifts, ...)...")
@click.option("--platform", default=None, help="...on this platform (optional)...")
@click.option("--amount", help="...of this amount...")
@click.option("--currency", help="...in this currency...")
@click.option("--external-ref", default=None, help="...with the platform's reference (recorded once).")
@with_appcontext
def platform_payout_command(revenue_record_id, creator_id, day, source, platform, amount, currency, external_ref):
    """Record a platform's payout of a creator's revenue (the posting follows), or post a recorded one."""
    if revenue_record_id is not None:
        payload = {"revenue_record_id": revenue_record_id}
    else:
        revenue = {"creator_id": creator_id, "date": day, "source": source, "platform": platform, "amount": amount,
                   "currency": currency, "external_ref": external_ref}  # fmt: skip
        payload = {"revenue": {k: v for k, v in revenue.items() if v is not None}}

    def action(session, actor):
        entry = record_platform_payout(
            db_session=session, actor=actor, data=PlatformPayoutSchema().load(payload), today=import_day()
        )
        return entry.id

    click.echo(f"Posted journal entry {_run(action)}.")


@ledger.command("pay-commission")
@click.option("--payee", required=True, help='"user:<id>" for a manager, or the referrer\'s name.')
@click.option("--amount", required=True, help="Base-currency amount paid (at most what is owed).")
@click.option("--paid-on", required=True, help="Day paid (YYYY-MM-DD).")
@click.option("--reference", required=True, help="Bank reference (a payee and reference are recorded once).")
@with_appcontext
def pay_commission_command(payee: str, amount: str, paid_on: str, reference: str) -> None:
    """Record commission paid to a manager or an outside referrer."""
    data = CommissionPayoutSchema().load({"payee": payee, "amount": amount, "paid_on": paid_on, "reference": reference})

    def action(session, actor):
        return pay_commission(
            db_session=session, actor=actor, payee=data["payee"], amount=data["amount"], paid_on=data["paid_on"],
            reference=data["reference"], settings=MoneySettings.from_config(current_app.config["AGENCY"]),
        ).id  # fmt: skip

    click.echo(f"Posted journal entry {_run(action)}.")


@ledger.command("write-off")
@click.option("--invoice", "number", required=True, help="The invoice number (INV-2026-00001).")
@click.option("--reason", required=True, help="Why it will not be paid.")
@with_appcontext
def write_off_command(number: str, reason: str) -> None:
    """Write off what an issued invoice still owes as a bad debt."""
    data = WriteOffSchema().load({"reason": reason})

    def action(session, actor):
        invoice = session.scalar(select(Invoice).where(Invoice.number == number, Invoice.kind == InvoiceKind.invoice))
        if invoice is None:
            raise NotFound(f"No invoice {number}.")
        write_off_invoice(
            db_session=session, actor=actor, invoice=invoice, reason=data["reason"],
            settings=MoneySettings.from_config(current_app.config["AGENCY"]), today=import_day(),
        )  # fmt: skip
        return invoice.amount_written_off, invoice.currency

    amount, currency = _run(action)
    click.echo(f"Invoice {number}: {format_money(amount, currency)} {currency} written off.")
