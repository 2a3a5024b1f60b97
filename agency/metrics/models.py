"""Daily metric snapshots: one row per platform account per day."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, ForeignKey, Numeric, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from agency.core.database import Base

# Metric columns a snapshot carries; imports and the eligibility engine share this list.
METRIC_FIELDS = (
    "followers",
    "views",
    "likes",
    "comments",
    "shares",
    "videos",
    "qualified_videos",
    "live_hours",
    "watch_hours",
    "shorts_views",
)


class MetricSnapshot(Base):
    __tablename__ = "metric_snapshots"
    __table_args__ = (UniqueConstraint("account_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("platform_accounts.id", ondelete="CASCADE"))
    # Read by its (account, day) key: one account's days, or a chunk's accounts' days.
    day: Mapped[date]
    followers: Mapped[int] = mapped_column(BigInteger)
    views: Mapped[int] = mapped_column(BigInteger, default=0)
    likes: Mapped[int] = mapped_column(BigInteger, default=0)
    comments: Mapped[int] = mapped_column(BigInteger, default=0)
    shares: Mapped[int] = mapped_column(BigInteger, default=0)
    videos: Mapped[int] = mapped_column(default=0)
    qualified_videos: Mapped[int] = mapped_column(default=0)
    live_hours: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=0)
    watch_hours: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=0)
    shorts_views: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
