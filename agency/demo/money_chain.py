"""The demo's money chain, written through the services (so the ledger is exactly what real use
would post): agreements with commission splits for a few of manager1's creators, and their deals
invoiced in every state (draft, issued and overdue, partially paid, paid, credited, void),
payments (one overpaid: the rest is held as the brand's credit), and a paid payout batch."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from agency.core.audit.service import Actor
from agency.core.users.models import User
from agency.deals.models import Brand, Deal, DealSource, DealStage
from agency.money.agreements import save_agreement
from agency.money.chain_models import (
    Agreement,
    CommissionSplit,
    DealTerms,
    Invoice,
    InvoiceCounter,
    InvoiceLine,
    JournalEntry,
    JournalLine,
    Payment,
    PaymentAllocation,
    PayoutBatch,
    PayoutItem,
)
from agency.money.invoices import MoneySettings, create_invoice, issue_credit_note, void_invoice
from agency.money.payments import allocate_payment, record_payment
from agency.money.payouts import approve_batch, create_batch, mark_batch_paid
from agency.roster.models import Creator

SETTINGS = MoneySettings("EUR", Decimal("20.00"))


def reset_demo_money_chain(session: Session) -> None:
    """The chain's rows go first: they refer to deals, brands and creators."""
    for model in (JournalLine, JournalEntry, PaymentAllocation, Payment, InvoiceLine, PayoutItem, PayoutBatch):
        session.execute(delete(model))
    session.execute(delete(Invoice).where(Invoice.credited_invoice_id.is_not(None)))
    for model in (Invoice, InvoiceCounter, CommissionSplit, DealTerms, Agreement):
        session.execute(delete(model))


def _deal(session: Session, creator_id: int, brand: Brand, title: str, fee: str, currency: str = "EUR") -> Deal:
    deal = Deal(
        creator_id=creator_id, brand_id=brand.id, title=title, source=DealSource.direct,
        fee_amount=Decimal(fee), fee_currency=currency, stage=DealStage.delivered, commission_percent=Decimal("20.00"),
    )  # fmt: skip
    session.add(deal)
    session.flush()
    return deal


def load_demo_money_chain(*, db_session: Session, admin: User, manager: User, today: date) -> dict:
    creators = list(
        db_session.scalars(
            select(Creator.id)
            .where(Creator.manager_id == manager.id, Creator.archived_at.is_(None))
            .order_by(Creator.id)
        )
    )[:3]
    brands = list(db_session.scalars(select(Brand).order_by(Brand.id)))[:3]
    if len(creators) < 3 or len(brands) < 3:
        return {"invoices": 0}
    boss, staff = Actor(user=admin), Actor(user=manager)
    for n, creator_id in enumerate(creators):
        splits = [{"role": "agency", "share_percent": Decimal("70")},
                  {"role": "primary_manager", "user_id": manager.id, "share_percent": Decimal("20")},
                  {"role": "referrer", "referrer_name": "Studio Nord", "share_percent": Decimal("10")}]  # fmt: skip
        save_agreement(
            db_session=db_session,
            actor=staff,
            default_commission=SETTINGS.default_commission,
            data={
                "creator_id": creator_id,
                "starts_on": today - timedelta(days=400),
                "ends_on": today + timedelta(days=40 + 200 * n),  # the first one is due for renewal
                "territories": ["FR", "BE", "CH"],
                "commission_rates": {"brand_deal": "20.00", "affiliate": "10.00", "creator_rewards": "0.00"},
                "payout_currency": "EUR" if n else "CHF",
                "splits": splits if n < 2 else [],
            },
        )

    def invoice(creator_id, brand, title, fee, days_ago, currency="EUR", **extra):
        deal = _deal(db_session, creator_id, brand, title, fee, currency)
        return create_invoice(
            db_session=db_session, actor=staff, deal=deal, settings=SETTINGS, today=today,
            data={"issued_on": today - timedelta(days=days_ago)} | extra,
        )  # fmt: skip

    def pay(brand, amount, days_ago, ref, currency="EUR", allocations=()):
        payment = record_payment(
            db_session=db_session, actor=staff, settings=SETTINGS, today=today,
            data={"brand_id": brand.id, "received_on": today - timedelta(days=days_ago), "amount": Decimal(amount),
                  "currency": currency, "bank_reference": ref, "payer": brand.name},
        )  # fmt: skip
        if allocations:
            allocate_payment(
                db_session=db_session, actor=staff, payment=payment, settings=SETTINGS, today=today,
                allocations=[{"invoice_id": i.id, "amount": Decimal(a)} for i, a in allocations],
            )  # fmt: skip
        return payment

    a, b, c = creators
    paid = invoice(a, brands[0], "Autumn capsule: 3 videos", "4800.00", 70)
    pay(brands[0], "4800.00", 40, "DEMO-BANK-0001", allocations=[(paid, "4800.00")])
    partly = invoice(b, brands[1], "Live launch night", "2500.00", 50, vat_rate=Decimal("20"))
    pay(brands[1], "1000.00", 10, "DEMO-BANK-0002", allocations=[(partly, "1000.00")])
    invoice(c, brands[2], "Recipe series", "1800.00", 75, payment_terms_days=45)  # issued, over 30 days late
    invoice(a, brands[1], "Story takeover", "900.00", 5, reverse_charge=True)  # issued, not yet due
    credited = invoice(b, brands[0], "Unboxing", "1200.00", 35)
    issue_credit_note(
        db_session=db_session, actor=staff, invoice=credited, amount=Decimal("300.00"), reason="One story dropped",
        settings=SETTINGS, today=today - timedelta(days=20),
    )  # fmt: skip
    pay(brands[0], "1000.00", 12, "DEMO-BANK-0003", allocations=[(credited, "900.00")])  # 100 left as credit
    voided = invoice(c, brands[1], "Cancelled shoot", "700.00", 15)
    void_invoice(
        db_session=db_session, actor=staff, invoice=voided, settings=SETTINGS, today=today - timedelta(days=14)
    )
    invoice(c, brands[2], "Podcast mention", "650.00", 0, draft=True)
    batch = create_batch(db_session=db_session, actor=staff, creator_ids=[a], settings=SETTINGS)
    approve_batch(db_session=db_session, actor=boss, batch=batch)
    mark_batch_paid(
        db_session=db_session, actor=boss, batch=batch, paid_on=today - timedelta(days=30), reference="DEMO-SEPA-01",
        settings=SETTINGS, today=today,
    )  # fmt: skip
    return {
        "invoices": db_session.query(Invoice).count(),
        "payments": db_session.query(Payment).count(),
        "journal_entries": db_session.query(JournalEntry).count(),
    }
