"""The double-entry ledger: the chart of accounts, `post` (the one way to write a journal entry,
refusing an unbalanced one), reversing entries, and balances read from the journal lines.

Amounts on the ledger are in the agency's base currency; each line keeps the currency and signed
amount it came from. Entries are never changed: a correction is `reverse_entry`.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from agency.core.database import conflict_insert
from agency.core.errors import Conflict, InvalidInput, NotFound
from agency.currencies.service import MAX_MINOR_UNIT, format_money, round_money
from agency.money.chain_models import AccountKind, JournalEntry, JournalLine, LedgerAccount

ZERO = Decimal("0.00")
# Decimals the money columns hold: the largest minor unit (BHD, KWD, TND).
MAX_SCALE = MAX_MINOR_UNIT

# The chart of accounts: code -> (name, kind). The migration seeds these rows.
RECEIVABLES = "1200"
CASH = "1000"
CREATOR_PAYABLES = "2100"
MANAGER_PAYABLES = "2200"
BRAND_CREDITS = "2300"
VAT_PAYABLE = "2400"
COMMISSION_INCOME = "4000"
BAD_DEBTS = "6900"
FX_GAINS_LOSSES = "7000"
ACCOUNTS = {
    CASH: ("Cash at bank", AccountKind.asset),
    RECEIVABLES: ("Receivables from brands", AccountKind.asset),
    CREATOR_PAYABLES: ("Creator payables", AccountKind.liability),
    MANAGER_PAYABLES: ("Manager and referrer commission payables", AccountKind.liability),
    BRAND_CREDITS: ("Brand credits (unallocated payments)", AccountKind.liability),
    VAT_PAYABLE: ("VAT payable", AccountKind.liability),
    COMMISSION_INCOME: ("Agency commission income", AccountKind.income),
    BAD_DEBTS: ("Bad debts (invoices written off)", AccountKind.expense),
    FX_GAINS_LOSSES: ("Exchange gains and losses", AccountKind.income),
}


def exact(value, currency: str | None = None) -> Decimal:
    """A sum read from SQL as an exact amount (SQLite sums NUMERIC columns as floats): in the
    currency's minor unit, or without one at the columns' scale (the sum of stored amounts is
    exact at that scale)."""
    amount = Decimal(str(value or 0))
    if currency is None:
        return amount.quantize(Decimal(1).scaleb(-MAX_SCALE), rounding=ROUND_HALF_UP)
    return round_money(amount, currency)


def quantize_money(amount: Decimal, currency: str) -> Decimal:
    """The one rounding of the money chain: half-up to the currency's minor unit (EUR cents, whole
    yen, thousandths of a dinar), from the CLDR data `currencies.round_money` reads."""
    return round_money(amount, currency)


@dataclass
class Line:
    """One side of an entry: a positive `amount` in base currency on the debit or credit side."""

    account: str
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    currency: str | None = None
    amount_currency: Decimal | None = None
    creator_id: int | None = None
    brand_id: int | None = None
    invoice_id: int | None = None
    payee: str | None = None
    memo: str = ""


def dr(account: str, amount: Decimal, **kwargs) -> Line:
    return Line(account, debit=amount, **kwargs) if amount >= 0 else Line(account, credit=-amount, **kwargs)


def cr(account: str, amount: Decimal, **kwargs) -> Line:
    return Line(account, credit=amount, **kwargs) if amount >= 0 else Line(account, debit=-amount, **kwargs)


@dataclass
class Posting:
    posted_on: date
    kind: str
    event_key: str
    description: str
    base_currency: str
    lines: list[Line] = field(default_factory=list)
    reference: str = ""
    reverses_id: int | None = None
    actor_label: str = "system"


def post(db_session: Session, posting: Posting) -> JournalEntry:
    """Write one journal entry. Refuses (422) an entry whose debits and credits differ, a line with
    more decimals than the base currency's minor unit, an unknown account, or no lines; refuses
    (409) an event already posted."""
    lines = [line for line in posting.lines if line.debit or line.credit]
    if not lines:
        raise InvalidInput("A journal entry needs at least one non-zero line.", {"lines": ["empty"]})
    for line in lines:
        if line.account not in ACCOUNTS:
            raise InvalidInput(f"Unknown account {line.account}.", {"lines": [f"unknown account {line.account}"]})
        for amount in (line.debit, line.credit):
            if amount < 0 or amount != quantize_money(amount, posting.base_currency):
                raise InvalidInput(
                    f"Ledger amounts are positive and in the minor unit of {posting.base_currency}.",
                    {"lines": [str(amount)]},
                )
    debits = sum((line.debit for line in lines), ZERO)
    credits = sum((line.credit for line in lines), ZERO)
    if debits != credits:
        raise InvalidInput(
            f"Unbalanced entry: debits {debits} != credits {credits}.",
            {"lines": [f"debits {debits}, credits {credits}"]},
        )
    ensure_accounts(db_session)
    entry = JournalEntry(
        posted_on=posting.posted_on,
        kind=posting.kind,
        event_key=posting.event_key,
        description=posting.description[:500],
        reference=posting.reference[:120],
        reverses_id=posting.reverses_id,
        actor_label=posting.actor_label,
    )
    try:
        with db_session.begin_nested():
            db_session.add(entry)
            db_session.flush()
    except IntegrityError:
        raise Conflict(f"The event {posting.event_key} is already posted.", {"event_key": ["already posted"]})
    db_session.add_all(
        JournalLine(
            entry_id=entry.id,
            account_code=line.account,
            posted_on=posting.posted_on,
            debit=line.debit,
            credit=line.credit,
            currency=line.currency or posting.base_currency,
            amount_currency=line.amount_currency if line.amount_currency is not None else line.debit - line.credit,
            creator_id=line.creator_id,
            brand_id=line.brand_id,
            invoice_id=line.invoice_id,
            payee=line.payee,
            memo=line.memo[:300],
        )
        for line in lines
    )
    db_session.flush()
    return entry


def get_entry(*, db_session: Session, entry_id: int) -> JournalEntry:
    entry = db_session.get(JournalEntry, entry_id)
    if entry is None:
        raise NotFound(f"Journal entry {entry_id} not found.")
    return entry


def reverse_entry(
    db_session: Session, entry: JournalEntry, *, posted_on: date, reason: str, base_currency: str, actor_label: str
) -> JournalEntry:
    """The correction of an entry: the same lines with debit and credit swapped, dated `posted_on`."""
    return post(
        db_session,
        Posting(
            posted_on=posted_on,
            kind="reversal",
            event_key=f"reversal:{entry.id}",
            description=f"Reversal of entry {entry.id}: {reason}"[:500],
            base_currency=base_currency,
            reference=entry.reference,
            reverses_id=entry.id,
            actor_label=actor_label,
            lines=[
                Line(
                    line.account_code,
                    debit=line.credit,
                    credit=line.debit,
                    currency=line.currency,
                    amount_currency=-line.amount_currency,
                    creator_id=line.creator_id,
                    brand_id=line.brand_id,
                    invoice_id=line.invoice_id,
                    payee=line.payee,
                    memo=line.memo,
                )
                for line in entry.lines
            ],
        ),
    )


def ensure_accounts(db_session: Session) -> None:
    """The chart of accounts is in the database: written by the first posting (so a new database
    stays empty until money moves, and a backup restores into it), concurrent first postings
    both succeeding."""
    known = set(db_session.scalars(select(LedgerAccount.code)))
    missing = [{"code": c, "name": n, "kind": k.value} for c, (n, k) in ACCOUNTS.items() if c not in known]
    if missing:
        statement = conflict_insert(db_session.get_bind().dialect.name, LedgerAccount)
        db_session.execute(statement.values(missing).on_conflict_do_nothing(index_elements=["code"]))


# --- reading the ledger -----------------------------------------------------------------------


def signed_balance():
    """Debit minus credit: positive for assets and expenses, negative for liabilities and income."""
    return func.coalesce(func.sum(JournalLine.debit - JournalLine.credit), 0)


def trial_balance(db_session: Session, *, on: date | None = None, base_currency: str | None = None) -> list[dict]:
    """Per account: total debits, credits and the balance (debit - credit) up to `on`."""
    stmt = (
        select(
            LedgerAccount.code,
            LedgerAccount.name,
            LedgerAccount.kind,
            func.coalesce(func.sum(JournalLine.debit), 0),
            func.coalesce(func.sum(JournalLine.credit), 0),
        )
        .outerjoin(
            JournalLine,
            (JournalLine.account_code == LedgerAccount.code)
            & ((JournalLine.posted_on <= on) if on is not None else True),
        )
        .group_by(LedgerAccount.code, LedgerAccount.name, LedgerAccount.kind)
        .order_by(LedgerAccount.code)
    )
    return [
        {
            "code": code,
            "name": name,
            "kind": kind.value,
            "debit": exact(debit, base_currency),
            "credit": exact(credit, base_currency),
            "balance": exact(debit, base_currency) - exact(credit, base_currency),
        }
        for code, name, kind, debit, credit in db_session.execute(stmt)
    ]


def creator_payable_balances(
    db_session: Session, *, base_currency: str | None = None, creator_ids: list[int] | None = None
) -> dict[int, Decimal]:
    """What the agency owes each creator (credit balance of creator payables), from the ledger."""
    stmt = (
        select(JournalLine.creator_id, func.sum(JournalLine.credit - JournalLine.debit))
        .where(JournalLine.account_code == CREATOR_PAYABLES)
        .group_by(JournalLine.creator_id)
    )
    if creator_ids is not None:
        stmt = stmt.where(JournalLine.creator_id.in_(creator_ids))
    return {creator_id: exact(balance, base_currency) for creator_id, balance in db_session.execute(stmt)}


def journal_query(*, date_from: date | None = None, date_to: date | None = None) -> Select:
    stmt = select(JournalEntry).order_by(JournalEntry.posted_on, JournalEntry.id)
    if date_from is not None:
        stmt = stmt.where(JournalEntry.posted_on >= date_from)
    if date_to is not None:
        stmt = stmt.where(JournalEntry.posted_on <= date_to)
    return stmt


# --- export for the accountant ----------------------------------------------------------------

EXPORT_COLUMNS = ("date", "entry", "account_code", "account_name", "description", "debit", "credit", "currency",
                  "amount_currency", "reference")  # fmt: skip


def spreadsheet_safe(value) -> str:
    """A cell a spreadsheet will not run as a formula (=, +, -, @, tab, CR lead a formula)."""
    text = "" if value is None else str(value)
    if text and text[0] in "=+-@\t\r" and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    return True


def export_journal_csv(db_session: Session, *, date_from: date, date_to: date, base_currency: str) -> str:
    """The journal of a period, one row per line, in the columns accounting packages import."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    stmt = (
        select(JournalLine, JournalEntry, LedgerAccount.name)
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .join(LedgerAccount, LedgerAccount.code == JournalLine.account_code)
        .where(JournalLine.posted_on >= date_from, JournalLine.posted_on <= date_to)
        .order_by(JournalLine.posted_on, JournalLine.entry_id, JournalLine.id)
    )
    for line, entry, account_name in db_session.execute(stmt):
        description = entry.description + (f" - {line.memo}" if line.memo else "")
        writer.writerow(
            [
                line.posted_on.isoformat(),
                entry.id,
                line.account_code,
                spreadsheet_safe(account_name),
                spreadsheet_safe(description),
                format_money(line.debit, base_currency),
                format_money(line.credit, base_currency),
                base_currency,
                f"{format_money(line.amount_currency, line.currency)} {line.currency}",
                spreadsheet_safe(entry.reference),
            ]
        )
    return out.getvalue()


def unbalanced_entries(db_session: Session) -> list[int]:
    """Entries whose lines do not balance (none, ever: a check for tests and the health page)."""
    stmt = (
        select(JournalLine.entry_id)
        .group_by(JournalLine.entry_id)
        .having(func.round(func.sum(JournalLine.debit - JournalLine.credit), MAX_SCALE) != 0)
    )
    return list(db_session.scalars(stmt))


def account_balance(db_session: Session, code: str, *, base_currency: str | None = None, **where) -> Decimal:
    stmt = select(signed_balance()).where(JournalLine.account_code == code)
    for key, value in where.items():
        stmt = stmt.where(getattr(JournalLine, key) == value)
    return exact(db_session.scalar(stmt), base_currency)
