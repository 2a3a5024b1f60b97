"""Dated exchange rates."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Numeric, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from agency.core.database import Base


class FxRate(Base):
    """1 unit of `base` is worth `rate` units of `quote` from `day` until the next dated rate."""

    __tablename__ = "fx_rates"
    __table_args__ = (UniqueConstraint("base", "quote", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date]
    base: Mapped[str] = mapped_column(String(3))
    quote: Mapped[str] = mapped_column(String(3))
    rate: Mapped[Decimal] = mapped_column(Numeric(18, 8))
    source: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
