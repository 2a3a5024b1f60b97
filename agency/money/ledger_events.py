"""Money events outside the invoice chain: a platform's payout of a creator's revenue (posted when
the revenue is recorded), a manager's or referrer's commission paid out, and the unpaid
remainder of an issued invoice written off. Each posts one balanced entry through `ledger.post`
and is audited."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import String, and_, cast, exists, func, literal, or_, select
from sqlalchemy.orm import Session

from agency.core.audit.service import Actor, record_audit, snapshot
from agency.core.errors import Conflict, InvalidInput
from agency.currencies.service import minor_unit, round_money
from agency.money.agreements import _split_dict, agreement_in_force
from agency.money.chain_models import (
    Agreement,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    JournalEntry,
    JournalLine,
    LedgerAccount,
)
from agency.money.invoices import HUNDRED, OPEN_STATUSES, MoneySettings, clearing_base, rate_to_base, split_commission
from agency.money.ledger import (
    BAD_DEBTS,
    CASH,
    COMMISSION_INCOME,
    CREATOR_PAYABLES,
    MANAGER_PAYABLES,
    RECEIVABLES,
    Posting,
    cr,
    dr,
    exact,
    post,
    quantize_money,
    reverse_entry,
)
from agency.money.models import RevenueRecord, RevenueSource
from agency.roster.models import Creator
from agency.roster.service import require_creator_write

ZERO = Decimal("0.00")
# The income a platform pays out (to the agency's account for a represented creator).
PLATFORM_SOURCES = (
    RevenueSource.creator_rewards, RevenueSource.creator_fund, RevenueSource.live_gifts,
    RevenueSource.video_gifts, RevenueSource.subscriptions, RevenueSource.platform_ads,
)  # fmt: skip


# --- platform payout received ----------------------------------------------------------------------
# A platform pays a represented creator's revenue to the agency. The revenue record is the one
# source of that event: recording it (API, UI or import) posts the entry, once per record (the
# event key `platform-payout:<record id>` is unique), and its refund record posts the reverse.
# The explicit endpoint posts a record whose posting waited (no exchange rate yet), or records
# the revenue itself and lets the posting follow: the same key, so the money never posts twice.


def platform_payout_key(record_id: int) -> str:
    return f"platform-payout:{record_id}"


def platform_payout_entry(db_session: Session, record_id: int) -> JournalEntry | None:
    return db_session.scalar(select(JournalEntry).where(JournalEntry.event_key == platform_payout_key(record_id)))


def is_platform_payout(record: RevenueRecord) -> bool:
    return record.source in PLATFORM_SOURCES


def post_platform_payout(
    *, db_session: Session, actor: Actor, record: RevenueRecord, settings: MoneySettings
) -> JournalEntry:
    """A platform's payout of a represented creator's revenue record, received by the agency:
    Dr 1000 cash / Cr 2100 the creator's share, Cr 4000 and 2200 the commission at the agreement's
    rate for that source (its default rate when the source has none), split as the agreement says.
    A refund record posts the same lines reversed. Once per record (409 the second time)."""
    if actor.user is not None:
        require_creator_write(actor.user, db_session.get(Creator, record.creator_id))
    if record.archived_at is not None:
        raise Conflict(f"Revenue record {record.id} is deleted.", {"revenue_record_id": ["deleted"]})
    if not is_platform_payout(record):
        raise InvalidInput(
            f"{RevenueSource(record.source).value} is not a platform payout.",
            {"revenue_record_id": [f"source must be one of {', '.join(s.value for s in PLATFORM_SOURCES)}"]},
        )
    agreement = agreement_in_force(db_session, record.creator_id, record.earned_on)
    if agreement is None:
        raise Conflict(
            f"Creator {record.creator_id} has no representation agreement on {record.earned_on}.",
            {"revenue_record_id": ["no agreement in force"]},
        )
    source = RevenueSource(record.source)
    rate = agreement.commission_rates.get(source.value)
    percent = Decimal(rate) if rate is not None else agreement.default_commission_percent
    base = settings.base_currency
    amount = quantize_money(Decimal(record.amount), record.currency)
    fx = Decimal(1) if record.currency == base else rate_to_base(db_session, record.currency, record.earned_on, base)
    amount_base = quantize_money(amount * fx, base)
    commission = quantize_money(amount_base * percent / HUNDRED, base)
    tags = {"creator_id": record.creator_id}
    lines = [
        dr(CASH, amount_base, currency=record.currency, amount_currency=amount, memo=source.value, **tags),
        cr(CREATOR_PAYABLES, amount_base - commission, memo="creator's share", **tags),
    ]
    splits = [_split_dict(s) for s in agreement.splits] or [{"role": "agency", "payee": "agency", "share": "100"}]
    for split, part in split_commission(commission, splits, base):
        account = COMMISSION_INCOME if split["role"] == "agency" else MANAGER_PAYABLES
        payee = None if split["role"] == "agency" else split["payee"]
        lines.append(cr(account, part, payee=payee, memo=f"commission {split['role']}", **tags))
    entry = post(
        db_session,
        Posting(
            posted_on=record.earned_on,
            kind="platform_payout",
            event_key=platform_payout_key(record.id),
            description=f"{'Refund of ' if record.is_refund else ''}{source.value} payout, revenue {record.id}",
            base_currency=base,
            reference=(record.external_ref or "")[:120],
            actor_label=actor.label,
            lines=lines,
        ),
    )
    record_audit(
        db_session=db_session, actor=actor, action="platform_payout.posted", entity_type="revenue_record",
        entity_id=record.id, before=None, after={"entry": entry.id, "amount": str(amount), "commission": str(percent)},
    )  # fmt: skip
    return entry


@dataclass
class PayoutPostings:
    """What recording platform revenue did to the ledger."""

    posted: int = 0
    # No agreement in force on the record's day: the platform paid the creator, not the agency.
    not_represented: int = 0
    # No exchange rate yet: the record waits; POST /ledger/platform-payouts posts it later.
    waiting: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"posted": self.posted, "not_represented": self.not_represented, "waiting": self.waiting}


def post_recorded_platform_payouts(
    *, db_session: Session, actor: Actor, records: list[RevenueRecord], settings: MoneySettings
) -> PayoutPostings:
    """The automatic path: each new platform-payout record (or refund) of a represented creator
    posts its entry, unless already posted. A record that cannot post (no exchange rate) is
    counted as waiting and the others go on; the revenue stays recorded."""
    result = PayoutPostings()
    for record in records:
        if not is_platform_payout(record) or record.archived_at is not None:
            continue
        if agreement_in_force(db_session, record.creator_id, record.earned_on) is None:
            result.not_represented += 1
            continue
        if platform_payout_entry(db_session, record.id) is not None:
            continue
        try:
            with db_session.begin_nested():
                post_platform_payout(db_session=db_session, actor=actor, record=record, settings=settings)
            result.posted += 1
        except (InvalidInput, Conflict) as exc:
            result.waiting.append({"revenue_record_id": record.id, "reason": exc.message})
    return result


def unposted_platform_payout():
    """In a query of revenue records: a live platform-payout record with no posting."""
    key = literal("platform-payout:").concat(cast(RevenueRecord.id, String))
    return and_(
        RevenueRecord.source.in_(PLATFORM_SOURCES),
        RevenueRecord.archived_at.is_(None),
        ~exists().where(JournalEntry.event_key == key),
    )


def represented_on_its_day():
    """In a query of revenue records: the creator had an agreement in force on the record's day."""
    return exists().where(
        Agreement.creator_id == RevenueRecord.creator_id,
        Agreement.archived_at.is_(None),
        Agreement.starts_on <= RevenueRecord.earned_on,
        or_(Agreement.ends_on.is_(None), Agreement.ends_on >= RevenueRecord.earned_on),
    )


def unposted_platform_records(db_session: Session, *, limit: int = 50) -> list[RevenueRecord]:
    """Platform-payout records with no posting (not represented that day, or waiting for a rate),
    newest first."""
    return list(
        db_session.scalars(
            select(RevenueRecord).where(unposted_platform_payout()).order_by(RevenueRecord.id.desc()).limit(limit)
        )
    )


def reverse_platform_payout(
    *, db_session: Session, actor: Actor, record: RevenueRecord, settings: MoneySettings, today: date
) -> JournalEntry | None:
    """A deleted platform-payout record takes its posting back: a reversing entry (none when
    nothing was posted, or it is already reversed)."""
    entry = platform_payout_entry(db_session, record.id)
    if entry is None:
        return None
    if db_session.scalar(select(JournalEntry.id).where(JournalEntry.reverses_id == entry.id)) is not None:
        return None
    return reverse_entry(
        db_session, entry, posted_on=today, reason=f"revenue record {record.id} deleted",
        base_currency=settings.base_currency, actor_label=actor.label,
    )  # fmt: skip


# --- manager and referrer commission paid --------------------------------------------------------


def commission_payable_balances(db_session: Session) -> dict[str, Decimal]:
    """What the agency owes each manager ("user:<id>") and referrer: the credit balance of 2200."""
    stmt = (
        select(JournalLine.payee, func.sum(JournalLine.credit - JournalLine.debit))
        .where(JournalLine.account_code == MANAGER_PAYABLES, JournalLine.payee.is_not(None))
        .group_by(JournalLine.payee)
        .order_by(JournalLine.payee)
    )
    return {payee: exact(balance) for payee, balance in db_session.execute(stmt)}


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
    base = settings.base_currency
    if amount <= 0 or amount != quantize_money(amount, base):
        places = f"at most {minor_unit(base)} decimals ({base})"
        raise InvalidInput(f"Pay more than 0, with {places}.", {"amount": [f"more than 0, {places}"]})
    # Payouts of commission are serialised on the payables account row (PostgreSQL), so two at once
    # cannot both spend the same balance.
    db_session.execute(select(LedgerAccount.id).where(LedgerAccount.code == MANAGER_PAYABLES).with_for_update())
    owed = round_money(commission_payable_balances(db_session).get(payee, ZERO), base)
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
    base = clearing_base(invoice, settled, remainder, settings.base_currency)
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
