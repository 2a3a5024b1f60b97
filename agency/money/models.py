"""Revenue records from every source, exchange rates, and diversification snapshots."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from agency.core.database import Base, JSONDocument, str_enum
from agency.roster.models import Platform


class RevenueSource(str, enum.Enum):
    creator_rewards = "creator_rewards"
    creator_fund = "creator_fund"
    live_gifts = "live_gifts"
    video_gifts = "video_gifts"
    subscriptions = "subscriptions"
    brand_deal = "brand_deal"
    affiliate = "affiliate"
    merch = "merch"
    courses = "courses"
    coaching = "coaching"
    platform_ads = "platform_ads"
    other = "other"


class Adjustment(str, enum.Enum):
    """A correction of an invoiced deal's money, dated when it was made: a credit adds to what the
    deal earned, a refund gives part of it back (a negative amount)."""

    credit = "credit"
    refund = "refund"


class RiskLevel(str, enum.Enum):
    no_data = "no_data"
    low = "low"
    medium = "medium"
    high = "high"


class RevenueRecord(Base):
    __tablename__ = "revenue_records"
    # The same export imported twice adds nothing: (source, external_ref) is unique.
    __table_args__ = (
        UniqueConstraint("source", "external_ref"),
        Index("ix_revenue_records_creator_earned", "creator_id", "earned_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id", ondelete="RESTRICT"))
    earned_on: Mapped[date]
    source: Mapped[RevenueSource] = mapped_column(str_enum(RevenueSource, "revenue_source"))
    platform: Mapped[Platform | None] = mapped_column(str_enum(Platform, "platform"))
    # Scale 3: the currencies with the finest minor unit (BHD, KWD) need three decimals.
    amount: Mapped[Decimal] = mapped_column(Numeric(15, 3))
    currency: Mapped[str] = mapped_column(String(3))
    # Negative amounts are allowed only on explicit refunds.
    is_refund: Mapped[bool] = mapped_column(default=False)
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id", ondelete="SET NULL"), index=True)
    # The deal's commission when the record was made: a statement reads it from here, so no later
    # change can alter a past month (and a deal's money is locked once invoiced anyway).
    commission_percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    # Set on the corrections of an invoiced deal (see Adjustment); None on ordinary income.
    adjustment: Mapped[Adjustment | None] = mapped_column(str_enum(Adjustment, "adjustment"))
    external_ref: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
    archived_at: Mapped[datetime | None]

    __mapper_args__ = {"version_id_col": version}


class DiversificationSnapshot(Base):
    """A creator's revenue mix over a trailing window; a new row only when something changed."""

    __tablename__ = "diversification_snapshots"
    __table_args__ = (UniqueConstraint("creator_id", "as_of"),)
    # The shares and the HHI are bounded by construction (0..1); the totals hold any sum of
    # accepted amounts (each under 10^22 once converted) over any window: 36 digits before the
    # point would take 10^14 records of the largest amount.

    id: Mapped[int] = mapped_column(primary_key=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id", ondelete="CASCADE"), index=True)
    as_of: Mapped[date]
    window_days: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    total: Mapped[Decimal] = mapped_column(Numeric(38, 3))
    previous_total: Mapped[Decimal] = mapped_column(Numeric(38, 3))
    # Income with a platform (total minus merch, courses, coaching... which have none).
    platform_total: Mapped[Decimal] = mapped_column(Numeric(38, 3), default=0)
    by_source: Mapped[dict] = mapped_column(JSONDocument)
    by_platform: Mapped[dict] = mapped_column(JSONDocument)
    top_source: Mapped[str | None] = mapped_column(String(32))
    top_source_share: Mapped[Decimal] = mapped_column(Numeric(6, 4))
    top_platform: Mapped[str | None] = mapped_column(String(32))
    top_platform_share: Mapped[Decimal] = mapped_column(Numeric(6, 4))
    tiktok_share: Mapped[Decimal] = mapped_column(Numeric(6, 4))
    hhi: Mapped[Decimal] = mapped_column(Numeric(6, 4))
    previous_hhi: Mapped[Decimal | None] = mapped_column(Numeric(6, 4))
    # 1 / HHI: how many equally large sources the mix is worth.
    effective_sources: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    risk_level: Mapped[RiskLevel] = mapped_column(str_enum(RiskLevel, "risk_level"), index=True)
    suggestion: Mapped[str] = mapped_column(Text, default="")
    # Records left out because no exchange rate was known for their currency and date.
    unconverted_records: Mapped[int] = mapped_column(default=0)
    # A digest of the values above: a recompute writes a snapshot only when it differs.
    digest: Mapped[str | None] = mapped_column(Text)
    computed_at: Mapped[datetime] = mapped_column(server_default=func.now())
