"""The money chain's tables: representation agreements, the ledger (chart of accounts, journal
entries and their lines), invoices and credit notes, payments received and their allocations,
and creator payout batches.

Every amount the agency invoices, receives, keeps and pays out is posted once to the ledger, in
the agency's base currency, with the original currency and amount kept beside it on each line.
Journal entries and lines are never updated or deleted: a correction is a reversing entry.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, object_session, relationship

from agency.core.database import Base, JSONDocument, str_enum
from agency.currencies.service import round_money
from agency.deals.models import Brand, Deal
from agency.roster.models import Creator

# Base-currency amounts on the ledger; original-currency amounts beside them. Three decimals hold
# every currency's minor unit (JPY none, EUR two, BHD, KWD and TND three); amounts are rounded to
# their own currency's unit before they are stored, and up to 14 integer digits stay as before.
MONEY = Numeric(17, 3)
RATE = Numeric(18, 8)
PERCENT = Numeric(7, 4)


class AccountKind(str, enum.Enum):
    asset = "asset"
    liability = "liability"
    income = "income"
    expense = "expense"


class LedgerAccount(Base):
    """The chart of accounts (a small fixed list, ledger.ACCOUNTS, written by the first posting)."""

    __tablename__ = "ledger_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[AccountKind] = mapped_column(str_enum(AccountKind, "account_kind"))


class JournalEntry(Base):
    """One balanced money event. Immutable: `reverses_id` marks a correction of an earlier entry."""

    __tablename__ = "journal_entries"
    __table_args__ = (
        # An event posts once: e.g. "invoice-issued:12", "payment:7", "payout-item:3".
        UniqueConstraint("event_key"),
        Index("ix_journal_entries_posted_on", "posted_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    posted_on: Mapped[date]
    kind: Mapped[str] = mapped_column(String(32))
    event_key: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(String(500))
    reference: Mapped[str] = mapped_column(String(120), default="")
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id", ondelete="RESTRICT"))
    actor_label: Mapped[str] = mapped_column(String(254), default="system")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    lines: Mapped[list[JournalLine]] = relationship(order_by="JournalLine.id", back_populates="entry")


class JournalLine(Base):
    __tablename__ = "journal_lines"
    __table_args__ = (
        CheckConstraint("debit >= 0 AND credit >= 0 AND (debit = 0 OR credit = 0)", name="one_side"),
        Index("ix_journal_lines_account_creator", "account_code", "creator_id"),
        Index("ix_journal_lines_invoice", "invoice_id"),
        Index("ix_journal_lines_entry", "entry_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id", ondelete="RESTRICT"))
    account_code: Mapped[str] = mapped_column(ForeignKey("ledger_accounts.code", ondelete="RESTRICT"))
    # Denormalised from the entry: balances and statements by date read one table.
    posted_on: Mapped[date]
    debit: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))
    credit: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))
    # The original currency and signed amount (debit positive) the base amount came from.
    currency: Mapped[str] = mapped_column(String(3))
    amount_currency: Mapped[Decimal] = mapped_column(MONEY)
    creator_id: Mapped[int | None] = mapped_column(ForeignKey("creators.id", ondelete="RESTRICT"))
    brand_id: Mapped[int | None] = mapped_column(ForeignKey("brands.id", ondelete="RESTRICT"), index=True)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id", ondelete="RESTRICT"))
    # Who a commission share is owed to: "user:<id>" for a manager, or an outside referrer's name.
    payee: Mapped[str | None] = mapped_column(String(200))
    memo: Mapped[str] = mapped_column(String(300), default="")

    entry: Mapped[JournalEntry] = relationship(back_populates="lines")


# --- representation agreements --------------------------------------------------------------


class SplitRole(str, enum.Enum):
    agency = "agency"
    primary_manager = "primary_manager"
    secondary_manager = "secondary_manager"
    referrer = "referrer"


class Agreement(Base):
    __tablename__ = "agreements"
    __table_args__ = (Index("ix_agreements_creator_dates", "creator_id", "starts_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id", ondelete="RESTRICT"))
    starts_on: Mapped[date]
    ends_on: Mapped[date | None]
    exclusive: Mapped[bool] = mapped_column(default=True)
    # ISO 3166-1 alpha-2 codes; empty means worldwide.
    territories: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    # {"brand_deal": "20.00", "creator_rewards": "0.00", ...}: percent by income source.
    commission_rates: Mapped[dict] = mapped_column(JSONDocument, default=dict)
    # Given, or DEFAULT_COMMISSION_PERCENT from configuration when the agreement was made.
    default_commission_percent: Mapped[Decimal] = mapped_column(PERCENT)
    # The currency the creator is paid in (statements show it beside the base currency).
    payout_currency: Mapped[str] = mapped_column(String(3))
    renewal_notice_days: Mapped[int] = mapped_column(default=60)
    notes: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
    archived_at: Mapped[datetime | None]

    creator: Mapped[Creator] = relationship(lazy="joined")
    splits: Mapped[list[CommissionSplit]] = relationship(
        order_by="CommissionSplit.id", cascade="all, delete-orphan", lazy="selectin"
    )

    __mapper_args__ = {"version_id_col": version}


class CommissionSplit(Base):
    """A share of the agency's commission: the agency itself, a manager or an outside referrer.
    The shares of one agreement (or one deal's override) sum to 100 %."""

    __tablename__ = "commission_splits"

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int | None] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"), index=True)
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"), index=True)
    role: Mapped[SplitRole] = mapped_column(str_enum(SplitRole, "split_role"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    referrer_name: Mapped[str] = mapped_column(String(200), default="")
    share_percent: Mapped[Decimal] = mapped_column(PERCENT)


class DealTerms(Base):
    """A deal's own commission terms, overriding the agreement's (one row per deal)."""

    __tablename__ = "deal_money_terms"

    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"), unique=True)
    contract_date: Mapped[date | None]
    # Superseded by deals.commission_override and deals.commission_percent (migration 0021 moved
    # the overrides there); left empty.
    commission_percent: Mapped[Decimal | None] = mapped_column(PERCENT)
    # Payment terms of the brand's invoice (net days).
    payment_terms_days: Mapped[int] = mapped_column(default=30)
    vat_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0.00"))
    reverse_charge: Mapped[bool] = mapped_column(default=False)


# --- invoices -------------------------------------------------------------------------------


class InvoiceKind(str, enum.Enum):
    invoice = "invoice"
    credit_note = "credit_note"


class InvoiceStatus(str, enum.Enum):
    draft = "draft"
    issued = "issued"
    partially_paid = "partially_paid"
    paid = "paid"
    void = "void"


class InvoiceCounter(Base):
    """The last number given per year and series; locked FOR UPDATE while a number is taken,
    so numbers are gapless even under concurrency (the number is taken in the issuing
    transaction: a rolled-back issue gives its number back)."""

    __tablename__ = "invoice_counters"
    __table_args__ = (UniqueConstraint("series", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    series: Mapped[str] = mapped_column(String(4))
    year: Mapped[int]
    last_number: Mapped[int] = mapped_column(default=0)


class Invoice(Base):
    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("number"),
        Index("ix_invoices_status_due", "status", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[InvoiceKind] = mapped_column(str_enum(InvoiceKind, "invoice_kind"), default=InvoiceKind.invoice)
    # "INV-2026-00001" or "CN-2026-00001"; none while a draft.
    number: Mapped[str | None] = mapped_column(String(20))
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="RESTRICT"), index=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id", ondelete="RESTRICT"), index=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="RESTRICT"), index=True)
    credited_invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id", ondelete="RESTRICT"))
    status: Mapped[InvoiceStatus] = mapped_column(str_enum(InvoiceStatus, "invoice_status"), default="draft")
    currency: Mapped[str] = mapped_column(String(3))
    issued_on: Mapped[date | None]
    due_on: Mapped[date | None]
    payment_terms_days: Mapped[int] = mapped_column(default=30)
    subtotal: Mapped[Decimal] = mapped_column(MONEY)
    vat_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0.00"))
    vat_amount: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))
    total: Mapped[Decimal] = mapped_column(MONEY)
    amount_paid: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))
    amount_credited: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))
    reverse_charge: Mapped[bool] = mapped_column(default=False)
    # The base-currency rate on the issue day (1 base = rate quote is stored inverted: here
    # 1 invoice currency = rate base), the carrying value of the receivable.
    rate_to_base: Mapped[Decimal | None] = mapped_column(RATE)
    # The commission terms frozen at issue: percent and the splits [{role, payee, share}].
    commission_percent: Mapped[Decimal] = mapped_column(PERCENT)
    splits: Mapped[list[dict]] = mapped_column(JSONDocument, default=list)
    notes: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())

    deal: Mapped[Deal] = relationship(lazy="joined")
    brand: Mapped[Brand] = relationship(lazy="joined")
    creator: Mapped[Creator] = relationship(lazy="joined")
    lines: Mapped[list[InvoiceLine]] = relationship(
        order_by="InvoiceLine.position", cascade="all, delete-orphan", lazy="selectin", back_populates="invoice"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def outstanding(self) -> Decimal:
        return self.total - self.amount_paid - self.amount_credited

    @property
    def amount_written_off(self) -> Decimal:
        """What was written off as a bad debt (invoice currency), read from the ledger."""
        session = object_session(self)
        if session is None or self.id is None:
            return round_money(Decimal(0), self.currency)
        written = session.scalar(
            select(func.coalesce(func.sum(JournalLine.amount_currency), 0)).where(
                JournalLine.invoice_id == self.id, JournalLine.account_code == "6900"
            )
        )
        return round_money(Decimal(str(written)), self.currency)


class InvoiceLine(Base):
    __tablename__ = "invoice_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    description: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[int] = mapped_column(default=1)
    amount: Mapped[Decimal] = mapped_column(MONEY)

    invoice: Mapped[Invoice] = relationship(back_populates="lines")


class InvoiceDocument(Base):
    """The PDF of an invoice or credit note as it was issued (rendered once, never again)."""

    __tablename__ = "invoice_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"), unique=True)
    filename: Mapped[str] = mapped_column(String(60))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


# --- payments -------------------------------------------------------------------------------


class Payment(Base):
    """Money received from a brand. What is not allocated to invoices stays as the brand's credit."""

    __tablename__ = "payments"
    __table_args__ = (UniqueConstraint("bank_reference"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="RESTRICT"), index=True)
    received_on: Mapped[date]
    amount: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    # 1 payment currency = rate base, on the day received.
    rate_to_base: Mapped[Decimal] = mapped_column(RATE)
    amount_base: Mapped[Decimal] = mapped_column(MONEY)
    amount_allocated: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))
    bank_reference: Mapped[str] = mapped_column(String(120))
    payer: Mapped[str] = mapped_column(String(200), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    brand: Mapped[Brand] = relationship(lazy="joined")
    allocations: Mapped[list[PaymentAllocation]] = relationship(
        order_by="PaymentAllocation.id", lazy="selectin", back_populates="payment"
    )

    @property
    def unallocated(self) -> Decimal:
        return self.amount - self.amount_allocated


class PaymentAllocation(Base):
    __tablename__ = "payment_allocations"

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id", ondelete="RESTRICT"), index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="RESTRICT"), index=True)
    allocated_on: Mapped[date]
    # In the invoice's currency, and what it took from the payment in the payment's currency.
    amount: Mapped[Decimal] = mapped_column(MONEY)
    payment_amount: Mapped[Decimal] = mapped_column(MONEY)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    invoice: Mapped[Invoice] = relationship(lazy="joined")
    payment: Mapped[Payment] = relationship(back_populates="allocations")


# --- creator payouts ------------------------------------------------------------------------


class PayoutStatus(str, enum.Enum):
    draft = "draft"
    approved = "approved"
    paid = "paid"


class PayoutBatch(Base):
    __tablename__ = "payout_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[PayoutStatus] = mapped_column(str_enum(PayoutStatus, "payout_status"), default="draft")
    currency: Mapped[str] = mapped_column(String(3))
    total: Mapped[Decimal] = mapped_column(MONEY)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime | None]
    paid_on: Mapped[date | None]
    payment_reference: Mapped[str] = mapped_column(String(120), default="")
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    items: Mapped[list[PayoutItem]] = relationship(
        order_by="PayoutItem.id", cascade="all, delete-orphan", lazy="selectin"
    )

    __mapper_args__ = {"version_id_col": version}


class PayoutItem(Base):
    __tablename__ = "payout_items"
    __table_args__ = (UniqueConstraint("batch_id", "creator_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("payout_batches.id", ondelete="CASCADE"))
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id", ondelete="RESTRICT"), index=True)
    amount: Mapped[Decimal] = mapped_column(MONEY)

    creator: Mapped[Creator] = relationship(lazy="joined")
