"""Daily metric snapshots: one row per platform account per day."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, ForeignKey, Integer, Numeric, UniqueConstraint, func
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


# On PostgreSQL the table is partitioned by month (migration 0013, partitions.py): its partitions
# are tables of their own that the models do not list.
PARTITION_NAME = re.compile(r"^metric_snapshots_(\d{4}_\d{2}|default)$")


class MetricSnapshot(Base):
    """One account's metrics for one day. Rows are found by their (account, day) key, which is
    the ORM's identity too: on PostgreSQL the table is partitioned by day, and a key must hold
    the partitioning column, so `id` is a plain 64-bit number there."""

    __tablename__ = "metric_snapshots"
    __table_args__ = (UniqueConstraint("account_id", "day"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("platform_accounts.id", ondelete="CASCADE"))
    # Read by its (account, day) key: one account's days, or a chunk's accounts' days.
    day: Mapped[date] = mapped_column()
    followers: Mapped[int] = mapped_column(BigInteger)
    # Every other metric is NULL when it was not reported for that day: unknown, not 0 (a made-up
    # 0 would count in averages and trends). Sums and averages skip NULLs.
    views: Mapped[int | None] = mapped_column(BigInteger)
    likes: Mapped[int | None] = mapped_column(BigInteger)
    comments: Mapped[int | None] = mapped_column(BigInteger)
    shares: Mapped[int | None] = mapped_column(BigInteger)
    videos: Mapped[int | None] = mapped_column()
    qualified_videos: Mapped[int | None] = mapped_column()
    live_hours: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    watch_hours: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    shorts_views: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())

    __mapper_args__ = {"primary_key": [account_id, day]}
