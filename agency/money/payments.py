"""Payments received from brands: recorded one by one or imported from a bank export (idempotent
on the bank reference), then allocated to one or several invoices, partially or in full, in any
currency at the dated rates. What is not allocated stays the brand's credit.

Posting: a payment is Dr cash / Cr brand credits (its value on the day received); an allocation
is Dr brand credits / Cr receivables (the invoice's carrying value), the difference to exchange
gains and losses. An invoice paid in full moves its deal to `paid` (which records its revenue).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from agency.core.audit.service import Actor, record_audit, snapshot
from agency.core.database import add_unique
from agency.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from agency.core.users.models import Role
from agency.currencies.service import fits_minor_unit, format_money, is_currency, minor_unit, money_quantum
from agency.deals.models import Brand, DealStage
from agency.deals.service import transition_deal
from agency.money.chain_models import (
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    JournalLine,
    Payment,
    PaymentAllocation,
)
from agency.money.invoices import OPEN_STATUSES, MoneySettings, clearing_base, rate_to_base
from agency.money.ledger import (
    BRAND_CREDITS,
    CASH,
    FX_GAINS_LOSSES,
    RECEIVABLES,
    Posting,
    cr,
    dr,
    exact,
    post,
    quantize_money,
)
from agency.roster.service import require_creator_write

MAX_AMOUNT = Decimal("999999999999.99")
BANK_COLUMNS = ("date", "amount", "currency", "bank_reference", "brand_id", "payer", "invoice_number")
MAX_IMPORT_ROWS = 10_000


def payments_query(*, brand_id: int | None = None, unallocated_only: bool = False) -> Select:
    stmt = select(Payment)
    if brand_id is not None:
        stmt = stmt.where(Payment.brand_id == brand_id)
    if unallocated_only:
        stmt = stmt.where(Payment.amount_allocated < Payment.amount)
    return stmt.order_by(Payment.received_on.desc(), Payment.id.desc())


def get_payment(*, db_session: Session, payment_id: int) -> Payment:
    payment = db_session.get(Payment, payment_id)
    if payment is None:
        raise NotFound(f"Payment {payment_id} not found.")
    return payment


def _require_staff_writer(actor: Actor) -> None:
    if actor.user is None:
        return
    if actor.user.role not in (Role.admin, Role.manager):
        raise Forbidden("Recording payments needs the role admin or manager.")


def record_payment(*, db_session: Session, actor: Actor, data: dict, settings: MoneySettings, today: date) -> Payment:
    """Record money received (422 for a bad amount, currency, date or brand; 409 for a bank
    reference already recorded)."""
    _require_staff_writer(actor)
    errors = {}
    amount = data["amount"]
    if not is_currency(data.get("currency")):
        errors["currency"] = ["unknown ISO 4217 currency code"]
    elif amount <= 0 or amount > MAX_AMOUNT or not fits_minor_unit(amount, data["currency"]):
        places = minor_unit(data["currency"])
        errors["amount"] = [f"must be more than 0, with at most {places} decimals ({data['currency'].upper()})"]
    if data["received_on"] > today:
        errors["received_on"] = ["is in the future"]
    brand = db_session.get(Brand, data["brand_id"])
    if brand is None:
        errors["brand_id"] = [f"no brand with id {data['brand_id']}"]
    if errors:
        raise InvalidInput("The payment is invalid; see `errors`.", errors)
    currency = data["currency"].upper()
    clash = db_session.scalar(select(Payment.id).where(Payment.bank_reference == data["bank_reference"]))
    if clash is not None:
        raise Conflict(f"Payment {clash} already has this bank reference.", {"bank_reference": ["already recorded"]})
    rate = rate_to_base(db_session, currency, data["received_on"], settings.base_currency)
    payment = Payment(
        brand_id=brand.id,
        received_on=data["received_on"],
        amount=amount,
        currency=currency,
        rate_to_base=rate,
        amount_base=quantize_money(amount * rate, settings.base_currency),
        bank_reference=data["bank_reference"],
        payer=data.get("payer", "")[:200],
        notes=data.get("notes", ""),
    )
    # The same bank reference posted twice at once: both find it free above, the second insert loses.
    add_unique(
        db_session,
        payment,
        Conflict(
            "A payment with this bank reference already exists: it was recorded at the same time.",
            {"bank_reference": ["already recorded"]},
        ),
    )
    post(
        db_session,
        Posting(
            posted_on=payment.received_on,
            kind="payment_received",
            event_key=f"payment:{payment.id}",
            description=f"Payment from {brand.name} ({payment.bank_reference})",
            base_currency=settings.base_currency,
            reference=payment.bank_reference,
            actor_label=actor.label,
            lines=[
                dr(CASH, payment.amount_base, currency=currency, amount_currency=amount, brand_id=brand.id),
                cr(BRAND_CREDITS, payment.amount_base, currency=currency, amount_currency=-amount, brand_id=brand.id),
            ],
        ),
    )
    record_audit(
        db_session=db_session,
        actor=actor,
        action="payment.record",
        entity_type="payment",
        entity_id=payment.id,
        after=snapshot(payment),
    )
    return payment


def allocate_payment(
    *,
    db_session: Session,
    actor: Actor,
    payment: Payment,
    allocations: list[dict],
    settings: MoneySettings,
    today: date,
) -> list[PaymentAllocation]:
    """Allocate parts of a payment to invoices of its brand: `amount` in each invoice's currency,
    at most what it still owes and, converted on the day received, what the payment has left."""
    _require_staff_writer(actor)
    if not allocations:
        raise InvalidInput("Nothing to allocate.", {"allocations": ["at least one"]})
    # Allocations of one payment, or to one invoice, made at once are applied in turn, each on
    # the amounts the one before left: the payment's row, then its invoices' in id order (one
    # order for every request, so two never wait on each other).
    db_session.execute(select(Payment.id).where(Payment.id == payment.id).with_for_update())
    db_session.refresh(payment)
    invoice_ids = sorted({item["invoice_id"] for item in allocations})
    db_session.execute(select(Invoice.id).where(Invoice.id.in_(invoice_ids)).order_by(Invoice.id).with_for_update())
    db_session.scalars(
        select(Invoice).where(Invoice.id.in_(invoice_ids)).execution_options(populate_existing=True)
    ).all()
    created = []
    for index, item in enumerate(allocations):
        invoice = db_session.get(Invoice, item["invoice_id"])
        where = f"allocations.{index}"
        if invoice is None or invoice.kind is not InvoiceKind.invoice:
            raise InvalidInput("Unknown invoice.", {f"{where}.invoice_id": [f"no invoice {item['invoice_id']}"]})
        if actor.user is not None:
            require_creator_write(actor.user, invoice.creator)
        if invoice.brand_id != payment.brand_id:
            raise InvalidInput("The invoice is another brand's.", {f"{where}.invoice_id": ["another brand's invoice"]})
        if invoice.status not in OPEN_STATUSES:
            raise Conflict(f"Invoice {invoice.number or invoice.id} is {invoice.status.value}.", {where: ["not open"]})
        created.append(_allocate_one(db_session, actor, payment, invoice, item["amount"], settings, today, where))
    return created


def _allocate_one(db_session, actor, payment, invoice, amount: Decimal, settings, today, where) -> PaymentAllocation:
    if amount <= 0 or amount != quantize_money(amount, invoice.currency) or amount > invoice.outstanding:
        owed = format_money(invoice.outstanding, invoice.currency)
        raise InvalidInput(
            f"Allocate more than 0 and at most {owed} {invoice.currency} to {invoice.number}.",
            {f"{where}.amount": [f"at most {owed}"]},
        )
    if invoice.currency == payment.currency:
        payment_amount = amount
    else:
        invoice_rate = rate_to_base(db_session, invoice.currency, payment.received_on, settings.base_currency)
        payment_amount = quantize_money(amount * invoice_rate / payment.rate_to_base, payment.currency)
    if payment_amount > payment.unallocated:
        left = f"{format_money(payment.unallocated, payment.currency)} {payment.currency}"
        raise InvalidInput(
            f"The payment has {left} left to allocate.", {f"{where}.amount": [f"the payment has {left} left"]}
        )
    # Values telescope: allocating a payment in parts takes exactly its value; settling an
    # invoice in parts clears exactly the receivable posted when it was issued.
    used = payment.amount_allocated
    credit_used = quantize_money((used + payment_amount) * payment.rate_to_base, settings.base_currency)
    credit_used -= quantize_money(used * payment.rate_to_base, settings.base_currency)
    settled = invoice.amount_paid + invoice.amount_credited
    cleared = clearing_base(invoice, settled, amount, settings.base_currency)
    allocation = PaymentAllocation(
        payment=payment, invoice_id=invoice.id, allocated_on=today, amount=amount, payment_amount=payment_amount
    )
    db_session.add(allocation)
    payment.amount_allocated += payment_amount
    invoice_before = snapshot(invoice)
    invoice.amount_paid += amount
    invoice.status = InvoiceStatus.paid if invoice.outstanding == 0 else InvoiceStatus.partially_paid
    db_session.flush()
    tags = {"brand_id": payment.brand_id, "invoice_id": invoice.id, "creator_id": invoice.creator_id}
    post(
        db_session,
        Posting(
            # Dated when both the money and the invoice existed, whenever it was matched.
            posted_on=max(payment.received_on, invoice.issued_on),
            kind="payment_allocated",
            event_key=f"allocation:{allocation.id}",
            description=f"{payment.bank_reference} allocated to {invoice.number}",
            base_currency=settings.base_currency,
            reference=invoice.number or "",
            actor_label=actor.label,
            lines=[
                dr(
                    BRAND_CREDITS,
                    credit_used,
                    currency=payment.currency,
                    amount_currency=payment_amount,
                    brand_id=payment.brand_id,
                ),  # fmt: skip
                cr(RECEIVABLES, cleared, currency=invoice.currency, amount_currency=-amount, **tags),
                cr(FX_GAINS_LOSSES, credit_used - cleared, memo="exchange difference", **tags),
            ],
        ),
    )
    record_audit(
        db_session=db_session,
        actor=actor,
        action="payment.allocate",
        entity_type="invoice",
        entity_id=invoice.id,
        before=invoice_before,
        after=snapshot(invoice) | {"payment_id": payment.id, "allocation_id": allocation.id},
    )
    if invoice.status is InvoiceStatus.paid and invoice.deal.stage is DealStage.invoiced:
        # The deal is paid on the day the money came in; its revenue is recorded once (money/revenue.py).
        deal_actor = actor if actor.user is not None else Actor.system("payment")
        transition_deal(
            db_session=db_session, actor=deal_actor, deal=invoice.deal, to_stage=DealStage.paid,
            today=payment.received_on, note=f"Invoice {invoice.number} paid",
        )  # fmt: skip
    return allocation


# --- bank export import -----------------------------------------------------------------------


@dataclass
class BankImportReport:
    rows: int = 0
    inserted: int = 0
    unchanged: int = 0
    allocated: int = 0
    errors: list[dict] = field(default_factory=list)

    def add_error(self, line: int, column: str, reason: str) -> None:
        self.errors.append({"line": line, "field": column, "reason": reason})


def _parse_row(line: int, raw: dict, report: BankImportReport) -> dict | None:
    row, ok = {}, True
    try:
        row["received_on"] = date.fromisoformat((raw.get("date") or "").strip())
    except ValueError:
        report.add_error(line, "date", "must be a date as YYYY-MM-DD")
        ok = False
    try:
        row["amount"] = Decimal((raw.get("amount") or "").strip())
        if not row["amount"].is_finite():
            raise InvalidOperation
    except InvalidOperation:
        report.add_error(line, "amount", "must be a decimal amount such as 1250.00")
        ok = False
    row["currency"] = (raw.get("currency") or "").strip().upper()
    row["bank_reference"] = (raw.get("bank_reference") or "").strip()
    if not row["bank_reference"] or len(row["bank_reference"]) > 120:
        report.add_error(line, "bank_reference", "is required (at most 120 characters)")
        ok = False
    try:
        row["brand_id"] = int((raw.get("brand_id") or "").strip())
    except ValueError:
        report.add_error(line, "brand_id", "must be a whole number")
        ok = False
    row["payer"] = (raw.get("payer") or "").strip()[:200]
    row["invoice_number"] = (raw.get("invoice_number") or "").strip()
    return row if ok else None


def import_bank_export(
    *, db_session: Session, actor: Actor, stream, settings: MoneySettings, today: date
) -> BankImportReport:
    """Import a bank export (CSV with date, amount, currency, bank_reference, brand_id[, payer,
    invoice_number]). A bank reference already recorded is left as it is, so importing the same
    file twice changes nothing; a row naming an invoice number is allocated to it (up to what it
    owes). All or nothing: any bad row rejects the file (422 with every row's errors)."""
    _require_staff_writer(actor)
    report = BankImportReport()
    text = stream.read()
    if isinstance(text, bytes):
        text = text.decode("utf-8-sig", errors="replace")
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in BANK_COLUMNS[:5] if c not in (reader.fieldnames or [])]
    if missing:
        raise InvalidInput("The bank export misses columns.", {"columns": [f"missing: {', '.join(missing)}"]})
    parsed = []
    seen = set()
    for line, raw in enumerate(reader, start=2):
        report.rows += 1
        if report.rows > MAX_IMPORT_ROWS:
            raise InvalidInput("Too many rows.", {"file": [f"at most {MAX_IMPORT_ROWS} rows"]})
        row = _parse_row(line, raw, report)
        if row is None:
            continue
        if row["bank_reference"] in seen:
            report.add_error(line, "bank_reference", "appears twice in this file")
            continue
        seen.add(row["bank_reference"])
        parsed.append((line, row))
    known = set(
        db_session.scalars(select(Payment.bank_reference).where(Payment.bank_reference.in_(seen))) if seen else []
    )
    for line, row in parsed:
        if row["bank_reference"] in known:
            report.unchanged += 1
            continue
        invoice_number = row.pop("invoice_number")
        try:
            with db_session.begin_nested():
                payment = record_payment(db_session=db_session, actor=actor, data=row, settings=settings, today=today)
                if invoice_number:
                    invoice = db_session.scalar(select(Invoice).where(Invoice.number == invoice_number))
                    if invoice is None:
                        raise InvalidInput("Unknown invoice.", {"invoice_number": [f"no invoice {invoice_number}"]})
                    amount = amount_payment_covers(db_session, payment, invoice, settings)
                    if amount > 0 and invoice.status in OPEN_STATUSES:
                        allocate_payment(
                            db_session=db_session, actor=actor, payment=payment,
                            allocations=[{"invoice_id": invoice.id, "amount": amount}], settings=settings, today=today,
                        )  # fmt: skip
                        report.allocated += 1
            report.inserted += 1
        except (InvalidInput, Conflict, Forbidden) as exc:
            for column, reasons in (exc.errors or {"row": [exc.message]}).items():
                report.add_error(line, column.split(".")[-1], "; ".join(map(str, reasons)))
    if report.errors:
        raise BankImportRejected(report)
    return report


class BankImportRejected(InvalidInput):
    def __init__(self, report: BankImportReport):
        super().__init__(f"{len(report.errors)} row(s) rejected; nothing was imported.", {"rows": report.errors})
        self.report = report


def amount_payment_covers(db_session: Session, payment: Payment, invoice: Invoice, settings: MoneySettings) -> Decimal:
    """How much of the invoice (its currency) the payment pays: all it owes, or what the payment is worth."""
    if invoice.currency == payment.currency:
        return min(invoice.outstanding, payment.unallocated)
    invoice_rate = rate_to_base(db_session, invoice.currency, payment.received_on, settings.base_currency)
    worth = quantize_money(payment.unallocated * payment.rate_to_base / invoice_rate, invoice.currency)
    amount = min(invoice.outstanding, worth)
    # The conversion back may round up by a cent: stay within what the payment has.
    while amount > 0 and quantize_money(amount * invoice_rate / payment.rate_to_base, payment.currency) > (
        payment.unallocated
    ):
        amount -= money_quantum(invoice.currency)
    return amount


def brand_credit(db_session: Session, brand_id: int) -> Decimal:
    """A brand's unallocated payments (base currency), from the ledger, at the columns' scale."""
    stmt = select(func.coalesce(func.sum(JournalLine.credit - JournalLine.debit), 0)).where(
        JournalLine.account_code == BRAND_CREDITS, JournalLine.brand_id == brand_id
    )
    return exact(db_session.scalar(stmt))
