"""Creators on the roster, their platform accounts and guideline strikes."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, func, select, text
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from agency.core.database import Base
from agency.core.database import str_enum as _enum
from agency.core.portable_sql import json_list, json_object
from agency.core.users.models import User


class CreatorStatus(str, enum.Enum):
    prospect = "prospect"
    active = "active"
    paused = "paused"
    offboarded = "offboarded"


class Niche(str, enum.Enum):
    fashion = "fashion"
    beauty = "beauty"
    cooking = "cooking"
    gaming = "gaming"
    fitness = "fitness"
    education = "education"
    music = "music"
    comedy = "comedy"
    tech = "tech"
    travel = "travel"
    other = "other"


class Standing(str, enum.Enum):
    good = "good"
    warning = "warning"
    restricted = "restricted"


class Platform(str, enum.Enum):
    tiktok = "tiktok"
    youtube = "youtube"
    instagram = "instagram"
    twitch = "twitch"
    x = "x"
    blog = "blog"
    podcast = "podcast"
    other = "other"


class AccountType(str, enum.Enum):
    personal = "personal"
    business = "business"


# Roster reads list creators that are not archived, filtered and sorted: one partial index per
# sortable column (with id, the tie-break), so a page is read in index order and a filter's count
# is an index-only scan; on PostgreSQL the sort indexes also carry the filter columns (INCLUDE),
# so a filtered page is found in the index alone, without visiting the rows the filter skips.
# Search matches names with trigram indexes (PostgreSQL), whose expressions keep a finer
# histogram for the planner's estimates. Migrations 0007, 0019 and 0023.
ACTIVE_ROSTER = text("archived_at IS NULL")
ROSTER_SORT_COLUMNS = ("display_name", "country", "niche", "status", "created_at", "updated_at", "date_of_birth")
ROSTER_FILTER_COLUMNS = ("country", "status", "niche", "manager_id")


def _roster_indexes() -> tuple[Index, ...]:
    sorts = tuple(
        Index(
            f"ix_creators_roster_{name}",
            name,
            "id",
            postgresql_where=ACTIVE_ROSTER,
            sqlite_where=ACTIVE_ROSTER,
            postgresql_include=[column for column in ROSTER_FILTER_COLUMNS if column != name],
        )
        for name in ROSTER_SORT_COLUMNS
    )
    mine = Index(
        "ix_creators_roster_manager_id",
        "manager_id",
        "display_name",
        "id",
        postgresql_where=ACTIVE_ROSTER,
        sqlite_where=ACTIVE_ROSTER,
    )
    # Every filter of the roster in one index: a filtered count (country and status, say) is an
    # index-only scan rather than a visit of every matching row (migration 0019).
    filters = Index(
        "ix_creators_roster_filters",
        "country",
        "status",
        "niche",
        "manager_id",
        postgresql_where=ACTIVE_ROSTER,
        sqlite_where=ACTIVE_ROSTER,
    )
    search = tuple(
        Index(
            f"ix_creators_{name}_trgm",
            func.lower(text(name)).label(name),
            postgresql_using="gin",
            postgresql_ops={name: "gin_trgm_ops"},
        )
        for name in ("display_name", "legal_name")
    )
    return (*sorts, mine, filters, *search)


class Creator(Base):
    __tablename__ = "creators"
    __table_args__ = _roster_indexes()

    id: Mapped[int] = mapped_column(primary_key=True)
    display_name: Mapped[str] = mapped_column(String(120), index=True)
    legal_name: Mapped[str] = mapped_column(String(200), default="")
    date_of_birth: Mapped[date | None]
    country: Mapped[str] = mapped_column(String(2), index=True)
    niche: Mapped[Niche] = mapped_column(_enum(Niche, "niche"), index=True)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    status: Mapped[CreatorStatus] = mapped_column(
        _enum(CreatorStatus, "creator_status"), index=True, default=CreatorStatus.prospect
    )
    guideline_standing: Mapped[Standing] = mapped_column(_enum(Standing, "standing"), default=Standing.good)
    parental_agreement_on_file: Mapped[bool] = mapped_column(default=False)
    notes: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
    archived_at: Mapped[datetime | None]

    manager: Mapped[User | None] = relationship(lazy="joined")
    accounts: Mapped[list[PlatformAccount]] = relationship(
        back_populates="creator", order_by="PlatformAccount.id", cascade="all, delete-orphan"
    )
    strikes: Mapped[list[GuidelineStrike]] = relationship(
        back_populates="creator", order_by="GuidelineStrike.occurred_on", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}

    def age_on(self, day: date) -> int | None:
        return age_on(self.date_of_birth, day)


def age_on(date_of_birth: date | None, day: date) -> int | None:
    """Whole years from a date of birth to `day` (None when the date of birth is unknown)."""
    if date_of_birth is None:
        return None
    return day.year - date_of_birth.year - ((day.month, day.day) < (date_of_birth.month, date_of_birth.day))


class PlatformAccount(Base):
    __tablename__ = "platform_accounts"
    __table_args__ = (
        UniqueConstraint("platform", "handle"),
        # A creator's accounts on a platform: what the eligibility engine joins by.
        Index("ix_platform_accounts_creator_platform", "creator_id", "platform"),
        # The roster search on handles (PostgreSQL; migration 0007).
        Index(
            "ix_platform_accounts_handle_trgm",
            func.lower(text("handle")).label("handle"),
            postgresql_using="gin",
            postgresql_ops={"handle": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id", ondelete="CASCADE"))
    platform: Mapped[Platform] = mapped_column(_enum(Platform, "platform"))
    # Stored without the leading "@" and in lower case, so imports can match by handle.
    handle: Mapped[str] = mapped_column(String(100))
    account_type: Mapped[AccountType] = mapped_column(_enum(AccountType, "account_type"), default=AccountType.personal)
    # Bumped by every edit (an edit made on a stale read is a 409); bulk loads that leave it out get 1.
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    creator: Mapped[Creator] = relationship(back_populates="accounts")

    __mapper_args__ = {"version_id_col": version}


class GuidelineStrike(Base):
    """A dated community-guidelines strike on one of the creator's accounts."""

    __tablename__ = "guideline_strikes"

    id: Mapped[int] = mapped_column(primary_key=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id", ondelete="CASCADE"), index=True)
    occurred_on: Mapped[date]
    platform: Mapped[Platform | None] = mapped_column(_enum(Platform, "platform"))
    reason: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    creator: Mapped[Creator] = relationship(back_populates="strikes")


# How many strikes a creator has: a correlated count, deferred so that it is computed only where a
# query asks for it (`undefer`), for the rows that query returns.
Creator.strikes_count = column_property(
    select(func.count(GuidelineStrike.id))
    .where(GuidelineStrike.creator_id == Creator.id)
    .correlate_except(GuidelineStrike)
    .scalar_subquery(),
    deferred=True,
)


def _account_refs():
    accounts = (
        select(PlatformAccount.id, PlatformAccount.platform, PlatformAccount.handle)
        .where(PlatformAccount.creator_id == Creator.id)
        .order_by(PlatformAccount.id)
        .correlate(Creator)
        .subquery("refs")
    )
    ref = json_object("id", accounts.c.id, "platform", accounts.c.platform, "handle", accounts.c.handle)
    return select(json_list(ref, accounts.c.id)).correlate(Creator).scalar_subquery()


# A creator's accounts as a roster row shows them: a JSON list of {id, platform, handle} in id
# order, built by the database in the row's own statement (no account objects to load for a list
# of creators). Deferred like the strike count; read-only (a new account shows on the next read).
Creator.account_refs = column_property(_account_refs(), deferred=True)
