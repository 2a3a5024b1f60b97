"""Invoices to brands and credit notes: created from a deal when it moves to `invoiced`, numbered
without gaps per year when issued, posted to the ledger; never edited once issued (a credit note
corrects them)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from agency.core.audit.service import Actor, record_audit, snapshot
from agency.core.config import Config
from agency.core.database import conflict_insert
from agency.core.errors import Conflict, InvalidInput, NotFound
from agency.currencies.service import RateBook, format_money
from agency.deals.models import Deal, DealStage
from agency.deals.service import transition_deal
from agency.money.agreements import terms_for_deal
from agency.money.chain_models import Invoice, InvoiceCounter, InvoiceKind, InvoiceLine, InvoiceStatus
from agency.money.invoice_pdf import store_invoice_pdf
from agency.money.ledger import (
    COMMISSION_INCOME,
    CREATOR_PAYABLES,
    MANAGER_PAYABLES,
    RECEIVABLES,
    VAT_PAYABLE,
    Posting,
    cr,
    dr,
    post,
    quantize_money,
)
from agency.roster.models import Creator
from agency.roster.service import require_creator_write

PAYMENT_TERMS = (30, 45, 60, 90)
HUNDRED = Decimal("100")
RATE_PLACES = Decimal("0.00000001")
OPEN_STATUSES = (InvoiceStatus.issued, InvoiceStatus.partially_paid)


@dataclass
class MoneySettings:
    """What the money chain needs from the app's configuration."""

    base_currency: str
    default_commission: Decimal
    # Render and store each invoice's PDF when it is issued (bulk tests and benchmarks skip it).
    render_pdf: bool = True

    @classmethod
    def from_config(cls, config) -> MoneySettings:
        return cls(config.base_currency, Decimal(config.default_commission_percent))


def invoices_query(
    *,
    status: list[str] | None = None,
    creator_id: int | None = None,
    brand_id: int | None = None,
    deal_id: int | None = None,
    manager_id: int | None = None,
    kind: str | None = None,
) -> Select:
    stmt = select(Invoice)
    if status:
        stmt = stmt.where(Invoice.status.in_([InvoiceStatus(s) for s in status]))
    if creator_id is not None:
        stmt = stmt.where(Invoice.creator_id == creator_id)
    if brand_id is not None:
        stmt = stmt.where(Invoice.brand_id == brand_id)
    if deal_id is not None:
        stmt = stmt.where(Invoice.deal_id == deal_id)
    if kind is not None:
        stmt = stmt.where(Invoice.kind == InvoiceKind(kind))
    if manager_id is not None:
        stmt = stmt.where(Invoice.creator_id.in_(select(Creator.id).where(Creator.manager_id == manager_id)))
    return stmt.order_by(Invoice.issued_on.desc().nulls_first(), Invoice.id.desc())


def get_invoice(*, db_session: Session, invoice_id: int) -> Invoice:
    invoice = db_session.get(Invoice, invoice_id)
    if invoice is None:
        raise NotFound(f"Invoice {invoice_id} not found.")
    return invoice


def rate_to_base(db_session: Session, currency: str, on: date, base_currency: str) -> Decimal:
    rate = RateBook(db_session, base_currency, {currency}).rate(currency, on)
    if rate is None:
        raise InvalidInput(
            f"No exchange rate from {currency} to {base_currency} on or before {on}.",
            {"currency": [f"add a rate for {currency}/{base_currency} first"]},
        )
    return rate.quantize(RATE_PLACES)


def next_number(db_session: Session, series: str, year: int) -> str:
    """The next number of a series and year, gapless: the counter row is created if missing (a
    concurrent creation does nothing) and then locked FOR UPDATE until the transaction ends."""
    db_session.execute(
        conflict_insert(db_session.get_bind().dialect.name, InvoiceCounter)
        .values(series=series, year=year, last_number=0)
        .on_conflict_do_nothing(index_elements=["series", "year"])
    )
    counter = db_session.scalar(
        select(InvoiceCounter)
        .where(InvoiceCounter.series == series, InvoiceCounter.year == year)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    counter.last_number += 1
    db_session.flush()
    return f"{series}-{year}-{counter.last_number:05d}"


def split_commission(commission: Decimal, splits: list[dict], currency: str) -> list[tuple[dict, Decimal]]:
    """Each share rounded; the agency (or else the first share) takes the rounding remainder, so
    the parts add up to the commission exactly."""
    parts = [(s, quantize_money(commission * Decimal(s["share"]) / HUNDRED, currency)) for s in splits]
    remainder = commission - sum((amount for _, amount in parts), Decimal(0))
    if remainder:
        index = next((i for i, (s, _) in enumerate(parts) if s["role"] == "agency"), 0)
        parts[index] = (parts[index][0], parts[index][1] + remainder)
    return parts


def create_invoice_for_deal(
    db_session: Session, deal: Deal, settings: MoneySettings, *, overrides: dict | None = None
) -> Invoice:
    """A draft invoice for a deal: the fee as its line, the deliverables listed as included, the
    commission and splits of the deal's terms frozen on it."""
    existing = db_session.scalar(
        select(Invoice.id).where(
            Invoice.deal_id == deal.id, Invoice.kind == InvoiceKind.invoice, Invoice.status != InvoiceStatus.void
        )
    )
    if existing is not None:
        raise Conflict(f"Deal {deal.id} already has invoice {existing}.", {"deal_id": ["already invoiced"]})
    terms = terms_for_deal(db_session, deal, default_commission=settings.default_commission)
    # The deal carries the commission its invoice freezes (its revenue record copies it when paid).
    deal.commission_percent = terms.commission_percent
    overrides = overrides or {}
    terms_days = overrides.get("payment_terms_days", terms.payment_terms_days)
    if terms_days not in PAYMENT_TERMS:
        raise InvalidInput("Payment terms are net 30, 45, 60 or 90.", {"payment_terms_days": ["30, 45, 60 or 90"]})
    vat_rate = Decimal(overrides.get("vat_rate", terms.vat_rate))
    reverse_charge = overrides.get("reverse_charge", terms.reverse_charge)
    if reverse_charge and vat_rate:
        raise InvalidInput("A reverse-charge invoice carries no VAT.", {"vat_rate": ["must be 0 with reverse charge"]})
    subtotal = deal.fee_amount
    vat = quantize_money(subtotal * vat_rate / HUNDRED, deal.fee_currency)
    invoice = Invoice(
        kind=InvoiceKind.invoice,
        deal_id=deal.id,
        creator_id=deal.creator_id,
        brand_id=deal.brand_id,
        status=InvoiceStatus.draft,
        currency=deal.fee_currency,
        payment_terms_days=terms_days,
        subtotal=subtotal,
        vat_rate=vat_rate,
        vat_amount=vat,
        total=subtotal + vat,
        reverse_charge=reverse_charge,
        commission_percent=terms.commission_percent,
        splits=terms.splits,
        notes=overrides.get("notes", ""),
    )
    lines = [InvoiceLine(position=1, description=f"{deal.title} ({deal.creator.display_name})", amount=subtotal)]
    for position, deliverable in enumerate(deal.deliverables, start=2):
        due = f", due {deliverable.due_date.isoformat()}" if deliverable.due_date else ""
        lines.append(
            InvoiceLine(
                position=position,
                description=f"Included: {deliverable.kind.value} on {deliverable.platform.value}{due}",
                amount=Decimal("0.00"),
            )
        )
    invoice.lines = lines
    db_session.add(invoice)
    db_session.flush()
    return invoice


def _sale_lines(
    invoice: Invoice, *, total: Decimal, total_base: Decimal, vat: Decimal, rate: Decimal, sign: int, base: str
):
    """The lines of an invoice (sign 1) or a credit note (sign -1) for `total` of it (invoice
    currency) worth `total_base` (base currency `base`): receivable against VAT, creator payable
    and commission shares, each rounded to the minor unit of the currency it is in."""
    currency = invoice.currency
    vat_base = quantize_money(vat * rate, base)
    net_base = total_base - vat_base
    commission = quantize_money(net_base * invoice.commission_percent / HUNDRED, base)
    tags = {"creator_id": invoice.creator_id, "invoice_id": invoice.credited_invoice_id or invoice.id}
    lines = [
        dr(
            RECEIVABLES,
            sign * total_base,
            currency=currency,
            amount_currency=sign * total,
            brand_id=invoice.brand_id,
            **tags,
        ),  # fmt: skip
        cr(VAT_PAYABLE, sign * vat_base, currency=currency, amount_currency=-sign * vat, **tags),
        cr(CREATOR_PAYABLES, sign * (net_base - commission), memo="creator's share", **tags),
    ]
    for split, amount in split_commission(commission, invoice.splits, base):
        account = COMMISSION_INCOME if split["role"] == "agency" else MANAGER_PAYABLES
        payee = None if split["role"] == "agency" else split["payee"]
        lines.append(cr(account, sign * amount, payee=payee, memo=f"commission {split['role']}", **tags))
    return lines


def issue_invoice(
    *, db_session: Session, actor: Actor, invoice: Invoice, issued_on: date, settings: MoneySettings
) -> Invoice:
    """Number it, date it, freeze its rate, post it: Dr receivables / Cr VAT, creator payables,
    commission income and the manager or referrer shares."""
    if actor.user is not None:
        require_creator_write(actor.user, invoice.creator)
    if invoice.status is not InvoiceStatus.draft:
        raise Conflict(f"Invoice {invoice.id} is {invoice.status.value}, not a draft.", {"status": ["not a draft"]})
    before = snapshot(invoice)
    invoice.rate_to_base = rate_to_base(db_session, invoice.currency, issued_on, settings.base_currency)
    series = "INV" if invoice.kind is InvoiceKind.invoice else "CN"
    invoice.number = next_number(db_session, series, issued_on.year)
    invoice.issued_on = issued_on
    invoice.due_on = issued_on + timedelta(days=invoice.payment_terms_days)
    invoice.status = InvoiceStatus.issued
    db_session.flush()
    total_base = settled_base(invoice, invoice.total, settings.base_currency)
    post(
        db_session,
        Posting(
            posted_on=issued_on,
            kind="invoice_issued",
            event_key=f"invoice-issued:{invoice.id}",
            description=f"Invoice {invoice.number} to {invoice.brand.name}: {invoice.deal.title}",
            base_currency=settings.base_currency,
            reference=invoice.number,
            actor_label=actor.label,
            lines=_sale_lines(
                invoice,
                total=invoice.total,
                total_base=total_base,
                vat=invoice.vat_amount,
                rate=invoice.rate_to_base,
                sign=1,
                base=settings.base_currency,
            ),  # fmt: skip
        ),
    )
    record_audit(
        db_session=db_session,
        actor=actor,
        action="invoice.issue",
        entity_type="invoice",
        entity_id=invoice.id,
        before=before,
        after=snapshot(invoice),
    )
    if settings.render_pdf:
        store_invoice_pdf(db_session, invoice)
    if actor.user is not None:
        deal_invoiced(db_session=db_session, actor=actor, invoice=invoice)
    return invoice


def settled_base(invoice: Invoice, settled: Decimal, base_currency: str) -> Decimal:
    """The carrying value (base currency) of the first `settled` of an invoice: settling amounts
    one after another clears exactly the receivable posted at issue."""
    return quantize_money(settled * invoice.rate_to_base, base_currency)


def clearing_base(invoice: Invoice, settled: Decimal, amount: Decimal, base_currency: str) -> Decimal:
    """The carrying value of settling `amount` more of an invoice of which `settled` is settled."""
    return settled_base(invoice, settled + amount, base_currency) - settled_base(invoice, settled, base_currency)


def create_invoice(
    *, db_session: Session, actor: Actor, deal: Deal, data: dict, settings: MoneySettings, today: date
) -> Invoice:
    """An invoice from a deal (API): a draft, issued at once unless `draft` is asked for; issuing
    moves a delivered deal to `invoiced`."""
    require_creator_write(actor.user, deal.creator)
    data = dict(data)
    as_draft = data.pop("draft", False)
    issued_on = data.pop("issued_on", None) or today
    if issued_on > today:
        raise InvalidInput("An invoice cannot be issued on a future day.", {"issued_on": ["is in the future"]})
    invoice = create_invoice_for_deal(db_session, deal, settings, overrides=data)
    record_audit(
        db_session=db_session,
        actor=actor,
        action="invoice.create",
        entity_type="invoice",
        entity_id=invoice.id,
        after=snapshot(invoice),
    )
    if not as_draft:
        issue_invoice(db_session=db_session, actor=actor, invoice=invoice, issued_on=issued_on, settings=settings)
    return invoice


def deal_invoiced(*, db_session: Session, actor: Actor, invoice: Invoice) -> None:
    """An issued invoice moves its delivered deal to `invoiced` (dated the issue day)."""
    if invoice.kind is InvoiceKind.invoice and invoice.deal.stage is DealStage.delivered:
        transition_deal(
            db_session=db_session, actor=actor, deal=invoice.deal, to_stage=DealStage.invoiced,
            today=invoice.issued_on, note=f"Invoice {invoice.number} issued",
        )  # fmt: skip


def void_invoice(*, db_session: Session, actor: Actor, invoice: Invoice, settings: MoneySettings, today: date):
    """A draft is voided; an issued invoice nothing was paid on is cancelled by a credit note of its
    whole total (the number stays used: numbering has no gaps)."""
    require_creator_write(actor.user, invoice.creator)
    if invoice.kind is not InvoiceKind.invoice:
        raise Conflict("A credit note cannot be voided.", {"kind": ["credit note"]})
    if invoice.status is InvoiceStatus.draft:
        before = snapshot(invoice)
        invoice.status = InvoiceStatus.void
        db_session.flush()
        record_audit(
            db_session=db_session, actor=actor, action="invoice.void", entity_type="invoice", entity_id=invoice.id,
            before=before, after=snapshot(invoice),
        )  # fmt: skip
        return invoice
    if invoice.status is not InvoiceStatus.issued or invoice.amount_paid or invoice.amount_credited:
        raise Conflict(
            "Only a draft or an issued invoice with nothing paid or credited can be voided; use a credit note.",
            {"status": [invoice.status.value]},
        )
    issue_credit_note(
        db_session=db_session, actor=actor, invoice=invoice, amount=invoice.total, reason="Invoice voided",
        settings=settings, today=today,
    )  # fmt: skip
    return invoice


def issue_credit_note(
    *,
    db_session: Session,
    actor: Actor,
    invoice: Invoice,
    amount: Decimal,
    reason: str,
    settings: MoneySettings,
    today: date,
) -> Invoice:
    """Credit `amount` (VAT included, invoice currency, at most what is outstanding) of an issued
    invoice: a numbered credit note whose entry reverses that share of the invoice's entry."""
    require_creator_write(actor.user, invoice.creator)
    if invoice.kind is not InvoiceKind.invoice or invoice.status not in OPEN_STATUSES:
        raise Conflict(f"Invoice {invoice.id} is {invoice.status.value}: nothing to credit.", {"status": ["not open"]})
    if amount <= 0 or amount > invoice.outstanding or amount != quantize_money(amount, invoice.currency):
        outstanding = format_money(invoice.outstanding, invoice.currency)
        raise InvalidInput(
            f"A credit note is for more than 0 and at most {outstanding} {invoice.currency}.",
            {"amount": [f"at most {outstanding}"]},
        )
    factor = Decimal(1) + invoice.vat_rate / HUNDRED
    subtotal = quantize_money(amount / factor, invoice.currency)
    note = Invoice(
        kind=InvoiceKind.credit_note,
        deal_id=invoice.deal_id,
        creator_id=invoice.creator_id,
        brand_id=invoice.brand_id,
        credited_invoice_id=invoice.id,
        status=InvoiceStatus.draft,
        currency=invoice.currency,
        payment_terms_days=invoice.payment_terms_days,
        subtotal=subtotal,
        vat_rate=invoice.vat_rate,
        vat_amount=amount - subtotal,
        total=amount,
        reverse_charge=invoice.reverse_charge,
        rate_to_base=invoice.rate_to_base,
        commission_percent=invoice.commission_percent,
        splits=invoice.splits,
        notes=reason[:2000],
        lines=[InvoiceLine(position=1, description=f"Credit on {invoice.number}: {reason}"[:300], amount=subtotal)],
    )
    db_session.add(note)
    note.number = next_number(db_session, "CN", today.year)
    note.issued_on = today
    note.status = InvoiceStatus.paid  # a credit note settles itself against its invoice
    before = snapshot(invoice)
    settled = invoice.amount_paid + invoice.amount_credited
    total_base = clearing_base(invoice, settled, amount, settings.base_currency)
    invoice.amount_credited += amount
    _settle_status(invoice)
    db_session.flush()
    post(
        db_session,
        Posting(
            posted_on=today,
            kind="credit_note",
            event_key=f"credit-note:{note.id}",
            description=f"Credit note {note.number} on {invoice.number}: {reason}",
            base_currency=settings.base_currency,
            reference=note.number,
            actor_label=actor.label,
            lines=_sale_lines(
                note,
                total=amount,
                total_base=total_base,
                vat=note.vat_amount,
                rate=invoice.rate_to_base,
                sign=-1,
                base=settings.base_currency,
            ),
        ),
    )
    record_audit(
        db_session=db_session, actor=actor, action="invoice.credit", entity_type="invoice", entity_id=invoice.id,
        before=before, after=snapshot(invoice) | {"credit_note": note.number},
    )  # fmt: skip
    if settings.render_pdf:
        store_invoice_pdf(db_session, note)
    return note


def _settle_status(invoice: Invoice) -> None:
    if invoice.outstanding > 0:
        invoice.status = InvoiceStatus.partially_paid if invoice.amount_paid else InvoiceStatus.issued
    elif invoice.amount_paid:
        invoice.status = InvoiceStatus.paid
    else:
        invoice.status = InvoiceStatus.void


# The settings the deal-stage receiver uses: set by the app factory from its configuration (as the
# password-hashing profile is), since a signal's receiver is handed no configuration. Until then,
# the configuration's defaults (the one place a default commission is written).
_settings = MoneySettings.from_config(Config())


def use_money_settings(config) -> None:
    global _settings
    _settings = MoneySettings.from_config(config)


def current_money_settings() -> MoneySettings:
    """The money settings of the running app (for services called without them)."""
    return _settings


def invoice_deal_on_transition(deal: Deal, *, db_session: Session, to_stage: DealStage, **_details) -> None:
    """Receiver of `deal_stage_changed`: a deal moving to `invoiced` gets its invoice issued,
    dated the day it was invoiced, unless it already has one (a draft issued through the API)."""
    if to_stage is not DealStage.invoiced:
        return
    has_one = db_session.scalar(
        select(Invoice.id).where(
            Invoice.deal_id == deal.id, Invoice.kind == InvoiceKind.invoice, Invoice.status != InvoiceStatus.void
        )
    )
    if has_one is not None:
        return
    invoice = create_invoice_for_deal(db_session, deal, _settings)
    # No exchange rate yet for the deal's currency: the invoice waits as a draft (nothing was
    # numbered or posted), to be issued once the rate is known.
    with contextlib.suppress(InvalidInput):
        issue_invoice(
            db_session=db_session,
            actor=Actor.system("deal-invoiced"),
            invoice=invoice,
            issued_on=deal.invoiced_on,
            settings=_settings,
        )
