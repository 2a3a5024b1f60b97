"""A creator's account statement for a month, read from the ledger: opening balance, earned
(their gross share of what was invoiced, less credit notes), commission, paid out, closing
balance, in the base currency and, at the month-end rate, in the creator's payout currency."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from agency.currencies.service import RateBook
from agency.money.agreements import agreement_in_force
from agency.money.chain_models import JournalEntry, JournalLine
from agency.money.ledger import COMMISSION_INCOME, CREATOR_PAYABLES, MANAGER_PAYABLES, exact, quantize_money
from agency.money.statements import month_bounds

ZERO = Decimal("0.00")
SALE_KINDS = ("invoice_issued", "credit_note", "reversal")


@dataclass
class CreatorStatement:
    creator_id: int
    month: str
    currency: str
    opening: Decimal = ZERO
    earned: Decimal = ZERO
    commission: Decimal = ZERO
    paid_out: Decimal = ZERO
    closing: Decimal = ZERO
    payout_currency: str | None = None
    rate: Decimal | None = None
    in_payout_currency: dict | None = None
    lines: list[dict] = field(default_factory=list)


def _sums(db_session: Session, creator_ids: list[int] | None, first: date, last: date):
    """Per creator: opening payable, then for the month the payable credits from sales, their
    commission, and payouts; one grouped query over the ledger lines."""
    line = JournalLine
    in_month = (line.posted_on >= first) & (line.posted_on <= last)
    payable = line.account_code == CREATOR_PAYABLES
    commission_account = line.account_code.in_([COMMISSION_INCOME, MANAGER_PAYABLES])
    is_payout = JournalEntry.kind == "creator_payout"
    movement = line.credit - line.debit
    stmt = (
        select(
            line.creator_id,
            func.sum(case((payable & (line.posted_on < first), movement), else_=0)),
            func.sum(case((payable & in_month & ~is_payout, movement), else_=0)),
            func.sum(case((commission_account & in_month, movement), else_=0)),
            func.sum(case((payable & in_month & is_payout, line.debit - line.credit), else_=0)),
        )
        .join(JournalEntry, JournalEntry.id == line.entry_id)
        .where(line.creator_id.is_not(None), line.posted_on <= last)
        .group_by(line.creator_id)
    )
    if creator_ids is not None:
        stmt = stmt.where(line.creator_id.in_(creator_ids))
    return db_session.execute(stmt).all()


def month_statements(
    db_session: Session, *, month: str, base_currency: str, creator_ids: list[int] | None = None
) -> dict[int, CreatorStatement]:
    """Every creator's statement for a month (or those listed), in the base currency."""
    first, last = month_bounds(month)
    statements = {}
    for creator_id, opening, net, commission, paid_out in _sums(db_session, creator_ids, first, last):
        opening, net, commission, paid_out = (exact(v, base_currency) for v in (opening, net, commission, paid_out))
        statements[creator_id] = CreatorStatement(
            creator_id=creator_id,
            month=month,
            currency=base_currency,
            opening=opening,
            earned=net + commission,
            commission=commission,
            paid_out=paid_out,
            closing=opening + net - paid_out,
        )
    return statements


def creator_statement(db_session: Session, *, creator_id: int, month: str, base_currency: str) -> CreatorStatement:
    """One creator's month, with its ledger lines and the figures in their payout currency."""
    first, last = month_bounds(month)
    statement = month_statements(db_session, month=month, base_currency=base_currency, creator_ids=[creator_id]).get(
        creator_id, CreatorStatement(creator_id=creator_id, month=month, currency=base_currency)
    )
    rows = db_session.execute(
        select(JournalLine, JournalEntry)
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(
            JournalLine.creator_id == creator_id,
            JournalLine.account_code == CREATOR_PAYABLES,
            JournalLine.posted_on >= first,
            JournalLine.posted_on <= last,
        )
        .order_by(JournalLine.posted_on, JournalLine.id)
    ).all()
    statement.lines = [
        {
            "date": line.posted_on,
            "entry_id": entry.id,
            "kind": entry.kind,
            "description": entry.description,
            "reference": entry.reference,
            "amount": line.credit - line.debit,
        }
        for line, entry in rows
    ]
    agreement = agreement_in_force(db_session, creator_id, last) or agreement_in_force(db_session, creator_id, first)
    if agreement is not None:
        statement.payout_currency = agreement.payout_currency
        if agreement.payout_currency == base_currency:
            statement.rate = Decimal(1)
        else:
            rate = RateBook(db_session, base_currency, {agreement.payout_currency}).rate(
                agreement.payout_currency, last
            )
            statement.rate = (Decimal(1) / rate).quantize(Decimal("0.00000001")) if rate else None
        if statement.rate is not None:
            statement.in_payout_currency = {
                key: quantize_money(getattr(statement, key) * statement.rate, agreement.payout_currency)
                for key in ("opening", "earned", "commission", "paid_out", "closing")
            }
    return statement
