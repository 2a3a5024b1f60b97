"""Brands, brand deals, their stage transitions and deliverables."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, Numeric, String, Text, false, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from agency.core.database import Base, str_enum
from agency.roster.models import Creator, Platform


class DealSource(str, enum.Enum):
    tiktok_marketplace = "tiktok_marketplace"
    direct = "direct"
    agency_outreach = "agency_outreach"
    inbound = "inbound"


class DealStage(str, enum.Enum):
    lead = "lead"
    negotiating = "negotiating"
    contracted = "contracted"
    in_progress = "in_progress"
    delivered = "delivered"
    invoiced = "invoiced"
    paid = "paid"
    cancelled = "cancelled"
    lost = "lost"


class DeliverableKind(str, enum.Enum):
    video = "video"
    short = "short"
    live = "live"
    story = "story"
    post = "post"
    other = "other"


class DeliverableStatus(str, enum.Enum):
    planned = "planned"
    in_progress = "in_progress"
    submitted = "submitted"
    published = "published"
    cancelled = "cancelled"


class Brand(Base):
    __tablename__ = "brands"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    industry: Mapped[str] = mapped_column(String(100), default="")
    website: Mapped[str] = mapped_column(String(300), default="")
    # [{"name", "email", "phone", "role"}]
    contacts: Mapped[list[dict]] = mapped_column(JSON, default=list)
    notes: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
    archived_at: Mapped[datetime | None]

    __mapper_args__ = {"version_id_col": version}


class Deal(Base):
    __tablename__ = "deals"

    id: Mapped[int] = mapped_column(primary_key=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id", ondelete="RESTRICT"), index=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="RESTRICT"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    source: Mapped[DealSource] = mapped_column(str_enum(DealSource, "deal_source"))
    # Scale 3: the currencies with the finest minor unit (BHD, KWD) need three decimals.
    fee_amount: Mapped[Decimal] = mapped_column(Numeric(15, 3))
    fee_currency: Mapped[str] = mapped_column(String(3))
    # No default here: a deal opened without one takes DEFAULT_COMMISSION_PERCENT (configuration).
    commission_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    # True when the commission was set on the deal itself; otherwise it is the rate of the creator's
    # representation agreement in force on the deal's contract date (kept up to date by the money
    # domain), or the configured default without an agreement.
    commission_override: Mapped[bool] = mapped_column(default=False, server_default=false())
    stage: Mapped[DealStage] = mapped_column(str_enum(DealStage, "deal_stage"), default=DealStage.lead, index=True)
    start_date: Mapped[date | None]
    end_date: Mapped[date | None]
    invoiced_on: Mapped[date | None]
    paid_on: Mapped[date | None]
    notes: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
    archived_at: Mapped[datetime | None]

    creator: Mapped[Creator] = relationship(lazy="joined")
    brand: Mapped[Brand] = relationship(lazy="joined")
    deliverables: Mapped[list[Deliverable]] = relationship(
        back_populates="deal", order_by="Deliverable.due_date", cascade="all, delete-orphan"
    )
    transitions: Mapped[list[DealTransition]] = relationship(order_by="DealTransition.id", cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}


class DealTransition(Base):
    __tablename__ = "deal_transitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"), index=True)
    from_stage: Mapped[DealStage] = mapped_column(str_enum(DealStage, "from_stage"))
    to_stage: Mapped[DealStage] = mapped_column(str_enum(DealStage, "to_stage"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_label: Mapped[str] = mapped_column(String(254))
    note: Mapped[str] = mapped_column(String(1000), default="")
    occurred_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Deliverable(Base):
    __tablename__ = "deliverables"

    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"), index=True)
    kind: Mapped[DeliverableKind] = mapped_column(str_enum(DeliverableKind, "deliverable_kind"))
    platform: Mapped[Platform] = mapped_column(str_enum(Platform, "platform"))
    due_date: Mapped[date | None] = mapped_column(index=True)
    status: Mapped[DeliverableStatus] = mapped_column(
        str_enum(DeliverableStatus, "deliverable_status"), default=DeliverableStatus.planned
    )
    published_url: Mapped[str] = mapped_column(String(500), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())

    deal: Mapped[Deal] = relationship(back_populates="deliverables")

    __mapper_args__ = {"version_id_col": version}
