"""Money events posted by hand: a manager's or referrer's commission paid out, and the unpaid
remainder of an issued invoice written off. Each posts one balanced entry through `ledger.post`
and is audited."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agency.core.audit.service import Actor, record_audit, snapshot
from agency.core.errors import Conflict, InvalidInput
from agency.money.chain_models import Invoice, InvoiceKind, InvoiceStatus, JournalEntry, JournalLine, LedgerAccount
from agency.money.invoices import OPEN_STATUSES, MoneySettings, settled_base
from agency.money.ledger import (
    BAD_DEBTS,
    CASH,
    MANAGER_PAYABLES,
    RECEIVABLES,
    Posting,
    cents,
    cr,
    dr,
    post,
    quantize_money,
)

ZERO = Decimal("0.00")


# --- manager and referrer commission paid --------------------------------------------------------


def commission_payable_balances(db_session: Session) -> dict[str, Decimal]:
    """What the agency owes each manager ("user:<id>") and referrer: the credit balance of 2200."""
    stmt = (
        select(JournalLine.payee, func.sum(JournalLine.credit - JournalLine.debit))
        .where(JournalLine.account_code == MANAGER_PAYABLES, JournalLine.payee.is_not(None))
        .group_by(JournalLine.payee)
        .order_by(JournalLine.payee)
    )
    return {payee: cents(balance) for payee, balance in db_session.execute(stmt)}


def pay_commission(
    *,
    db_session: Session,
    actor: Actor,
    payee: str,
    amount: Decimal,
    paid_on: date,
    reference: str,
    settings: MoneySettings,
) -> JournalEntry:
    """Pay `amount` (base currency) of a payee's commission: Dr 2200 / Cr 1000. Refuses (409) more
    than the payee is owed, and the same payee and reference twice."""
    if amount <= 0 or amount != quantize_money(amount, settings.base_currency):
        raise InvalidInput("Pay more than 0, in cents.", {"amount": ["more than 0, in cents"]})
    # Payouts of commission are serialised on the payables account row (PostgreSQL), so two at once
    # cannot both spend the same balance.
    db_session.execute(select(LedgerAccount.id).where(LedgerAccount.code == MANAGER_PAYABLES).with_for_update())
    owed = commission_payable_balances(db_session).get(payee, ZERO)
    if amount > owed:
        raise Conflict(f"{payee} is owed {owed} {settings.base_currency}.", {"amount": [f"at most {owed}"]})
    digest = hashlib.sha256(f"{payee}\n{reference}".encode()).hexdigest()[:40]
    entry = post(
        db_session,
        Posting(
            posted_on=paid_on,
            kind="commission_payout",
            event_key=f"commission-payout:{digest}",
            description=f"Commission paid to {payee}",
            base_currency=settings.base_currency,
            reference=reference,
            actor_label=actor.label,
            lines=[
                dr(MANAGER_PAYABLES, amount, payee=payee, memo="commission paid"),
                cr(CASH, amount, payee=payee, memo="commission paid"),
            ],
        ),
    )
    record_audit(
        db_session=db_session, actor=actor, action="commission.paid", entity_type="journal_entry", entity_id=entry.id,
        before=None, after={"payee": payee, "amount": str(amount), "reference": reference, "paid_on": str(paid_on)},
    )  # fmt: skip
    return entry


# --- invoice write-off ------------------------------------------------------------------------------


def write_off_invoice(
    *, db_session: Session, actor: Actor, invoice: Invoice, reason: str, settings: MoneySettings, today: date
) -> Invoice:
    """Write off what is left unpaid on an issued invoice: Dr 6900 bad debts / Cr 1200 at the
    receivable's carrying value. The invoice is settled (status `paid`, nothing outstanding): the
    written-off amount counts with `amount_credited` and is shown as `amount_written_off`."""
    if invoice.kind is not InvoiceKind.invoice or invoice.status not in OPEN_STATUSES:
        status = invoice.status.value
        raise Conflict(f"Invoice {invoice.id} is {status}: nothing to write off.", {"status": ["not open"]})
    remainder = invoice.outstanding
    before = snapshot(invoice)
    settled = invoice.amount_paid + invoice.amount_credited
    base = settled_base(invoice, settled + remainder) - settled_base(invoice, settled)
    invoice.amount_credited += remainder
    invoice.status = InvoiceStatus.paid
    db_session.flush()
    tags = {"creator_id": invoice.creator_id, "brand_id": invoice.brand_id, "invoice_id": invoice.id,
            "currency": invoice.currency}  # fmt: skip
    post(
        db_session,
        Posting(
            posted_on=today,
            kind="write_off",
            event_key=f"write-off:{invoice.id}",
            description=f"Write-off of {invoice.number}: {reason}",
            base_currency=settings.base_currency,
            reference=invoice.number or "",
            actor_label=actor.label,
            lines=[
                dr(BAD_DEBTS, base, amount_currency=remainder, memo="written off", **tags),
                cr(RECEIVABLES, base, amount_currency=-remainder, memo="written off", **tags),
            ],
        ),
    )
    record_audit(
        db_session=db_session, actor=actor, action="invoice.write_off", entity_type="invoice", entity_id=invoice.id,
        before=before, after=snapshot(invoice) | {"written_off": str(remainder), "reason": reason},
    )  # fmt: skip
    return invoice
