"""Revenue diversification: how concentrated is each creator's income, and what to do about it.

One set-based query sums every creator's revenue in the base currency by source and platform,
for the trailing window and the window before it; the shares, the Herfindahl-Hirschman index
(sum of squared source shares, 0..1), the risk level and a suggestion follow per creator.
Snapshots are dated and written only when something changed.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import Column, Date, MetaData, Numeric, String, Table, and_, case, func, literal, select
from sqlalchemy.orm import Session

from agency.core.database import bulk_insert
from agency.currencies.models import FxRate
from agency.money.models import DiversificationSnapshot, RevenueRecord, RiskLevel
from agency.roster.models import Creator, Niche

SHARE = Decimal("0.0001")
CENT = Decimal("0.01")
NICHE_SUGGESTIONS = {
    Niche.fashion: ("merch", "Launch a clothing or accessories line under the creator's brand."),
    Niche.cooking: ("courses", "Sell online cooking courses or an e-book of recipes."),
    Niche.beauty: ("courses", "Offer make-up tutorials or paid training sessions."),
    Niche.fitness: ("coaching", "Offer coaching or paid training programmes."),
    Niche.education: ("courses", "Package the best lessons as an online course or e-book."),
    Niche.gaming: ("merch", "Add merchandise and stream on Twitch or YouTube as well."),
    Niche.music: ("merch", "Sell merchandise and grow streaming income."),
    Niche.tech: ("affiliate", "Add affiliate links to the products the creator reviews."),
    Niche.travel: ("affiliate", "Use affiliate links for bookings and gear."),
}
GENERIC = (
    "Grow YouTube and Instagram audiences, add affiliate links, and keep the Creator "
    "Marketplace profile current to attract brand deals."
)


@dataclass(frozen=True)
class RiskThresholds:
    hhi_high: Decimal = Decimal("0.50")
    hhi_medium: Decimal = Decimal("0.30")
    platform_high: Decimal = Decimal("0.70")
    platform_medium: Decimal = Decimal("0.50")

    @classmethod
    def from_config(cls, config) -> RiskThresholds:
        return cls(
            Decimal(config.risk_hhi_high),
            Decimal(config.risk_hhi_medium),
            Decimal(config.risk_platform_high),
            Decimal(config.risk_platform_medium),
        )


def daily_rates_table(db_session: Session, base_currency: str, in_scope):
    """A temporary, indexed and analysed table of the rate in force for each distinct (currency,
    day) of the records in scope (direct pair, then inverse; NULL when none), looked up once per
    currency and day. Joining records to it is one index probe per record whatever the planner
    knows: as an inlined CTE it was re-scanned for every record on tables not yet analysed."""
    record = RevenueRecord.__table__
    fx = FxRate.__table__
    pairs = (
        select(record.c.currency, record.c.earned_on)
        .where(in_scope, record.c.currency != base_currency)
        .distinct()
        .subquery("pairs")
    )
    direct = (
        select(fx.c.rate)
        .where(fx.c.base == pairs.c.currency, fx.c.quote == base_currency, fx.c.day <= pairs.c.earned_on)
        .order_by(fx.c.day.desc())
        .limit(1)
        .scalar_subquery()
    )
    inverse = (
        select(fx.c.rate)
        .where(fx.c.base == base_currency, fx.c.quote == pairs.c.currency, fx.c.day <= pairs.c.earned_on)
        .order_by(fx.c.day.desc())
        .limit(1)
        .scalar_subquery()
    )
    table = Table(
        f"daily_rates_{uuid.uuid4().hex[:10]}",
        MetaData(),
        Column("currency", String(3), primary_key=True),
        Column("earned_on", Date, primary_key=True),
        Column("rate", Numeric(30, 12)),
        prefixes=["TEMPORARY"],
    )
    connection = db_session.connection()
    table.create(connection)
    connection.execute(
        table.insert().from_select(
            ["currency", "earned_on", "rate"],
            select(pairs.c.currency, pairs.c.earned_on, func.coalesce(direct, literal(Decimal(1)) / inverse)),
        )
    )
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f'ANALYZE "{table.name}"')
    return table


def revenue_mix_query(as_of: date, window_days: int, base_currency: str, rates, creator_ids: list[int] | None = None):
    """(creator, window, source, platform) -> base-currency total and unconverted count."""
    record = RevenueRecord.__table__
    in_scope = revenue_scope(as_of, window_days, creator_ids)
    rate = case((record.c.currency == base_currency, literal(Decimal(1))), else_=rates.c.rate)
    amount = record.c.amount * rate
    current_start = as_of - timedelta(days=window_days - 1)
    window = case((record.c.earned_on >= current_start, literal("current")), else_=literal("previous"))
    return (
        select(
            record.c.creator_id,
            window.label("window"),
            record.c.source,
            record.c.platform,
            func.sum(amount).label("total"),
            func.count().filter(amount.is_(None)).label("unconverted"),
        )
        .select_from(
            record.outerjoin(
                rates, and_(rates.c.currency == record.c.currency, rates.c.earned_on == record.c.earned_on)
            )
        )
        .where(in_scope)
        .group_by(record.c.creator_id, window, record.c.source, record.c.platform)
    )


def revenue_scope(as_of: date, window_days: int, creator_ids: list[int] | None = None):
    """Records of the current window and the one before it."""
    record = RevenueRecord.__table__
    previous_start = as_of - timedelta(days=2 * window_days - 1)
    in_scope = and_(record.c.archived_at.is_(None), record.c.earned_on >= previous_start, record.c.earned_on <= as_of)
    if creator_ids is not None:
        in_scope = and_(in_scope, record.c.creator_id.in_(creator_ids))
    return in_scope


def _shares(totals: dict[str, Decimal]) -> tuple[dict[str, Decimal], Decimal]:
    positive = {k: v for k, v in totals.items() if v > 0}
    whole = sum(positive.values(), Decimal(0))
    if whole <= 0:
        return {}, Decimal(0)
    return {k: v / whole for k, v in positive.items()}, whole


def hhi_of(totals: dict[str, Decimal]) -> Decimal:
    shares, _ = _shares(totals)
    return sum((s * s for s in shares.values()), Decimal(0)).quantize(SHARE)


def risk_level(total: Decimal, hhi: Decimal, top_platform_share: Decimal, thresholds: RiskThresholds) -> RiskLevel:
    if total <= 0:
        return RiskLevel.no_data
    if hhi >= thresholds.hhi_high or top_platform_share >= thresholds.platform_high:
        return RiskLevel.high
    if hhi >= thresholds.hhi_medium or top_platform_share >= thresholds.platform_medium:
        return RiskLevel.medium
    return RiskLevel.low


def suggestion_for(
    niche: Niche, by_source: dict[str, Decimal], by_platform: dict[str, Decimal], level: RiskLevel
) -> str:
    if level in (RiskLevel.no_data, RiskLevel.low):
        return ""
    tips = []
    niche_tip = NICHE_SUGGESTIONS.get(niche)
    if niche_tip and by_source.get(niche_tip[0], Decimal(0)) <= 0:
        tips.append(niche_tip[1])
    if by_platform.get("youtube", Decimal(0)) <= 0 or by_platform.get("instagram", Decimal(0)) <= 0:
        tips.append(GENERIC)
    elif by_source.get("affiliate", Decimal(0)) <= 0:
        tips.append("Add affiliate links: they earn without depending on one platform's programme.")
    return " ".join(tips) or "Keep building the smaller sources so no single one dominates."


def compute_mix(
    db_session: Session,
    *,
    as_of: date,
    window_days: int,
    base_currency: str,
    thresholds: RiskThresholds,
    creator_ids: list[int] | None = None,
) -> dict[int, dict]:
    """The current analysis for each creator (every non-archived creator, no_data included)."""
    creators = select(Creator.id, Creator.niche).where(Creator.archived_at.is_(None))
    if creator_ids is not None:
        creators = creators.where(Creator.id.in_(creator_ids))
    niches = dict(db_session.execute(creators).all())
    sums = defaultdict(
        lambda: {
            "current": defaultdict(lambda: defaultdict(Decimal)),
            "previous": defaultdict(lambda: defaultdict(Decimal)),
            "unconverted": 0,
        }
    )
    scoped_ids = list(niches) if creator_ids else None
    rates = daily_rates_table(db_session, base_currency, revenue_scope(as_of, window_days, scoped_ids))
    try:
        rows = db_session.execute(revenue_mix_query(as_of, window_days, base_currency, rates, scoped_ids)).all()
    finally:
        rates.drop(db_session.connection())
    for row in rows:
        if row.creator_id not in niches:
            continue
        entry = sums[row.creator_id]
        if row.window == "current":
            entry["unconverted"] += row.unconverted
        if row.total is not None:
            platform = row.platform.value if hasattr(row.platform, "value") else (row.platform or "none")
            source = row.source.value if hasattr(row.source, "value") else row.source
            entry[row.window]["source"][source] += Decimal(row.total)
            entry[row.window]["platform"][platform] += Decimal(row.total)
    out = {}
    for creator_id, niche in niches.items():
        entry = sums.get(creator_id)
        current = entry["current"] if entry else {}
        by_source = {k: v.quantize(CENT) for k, v in current.get("source", {}).items()}
        by_platform = {k: v.quantize(CENT) for k, v in current.get("platform", {}).items()}
        source_shares, total = _shares(by_source)
        platform_shares, _ = _shares(by_platform)
        previous = entry["previous"] if entry else {}
        previous_sources = {k: v for k, v in previous.get("source", {}).items()}
        _, previous_total = _shares(previous_sources)
        hhi = hhi_of(by_source)
        top_source = max(source_shares, key=source_shares.get) if source_shares else None
        top_platform = max(platform_shares, key=platform_shares.get) if platform_shares else None
        top_platform_share = platform_shares.get(top_platform, Decimal(0)).quantize(SHARE)
        level = risk_level(total, hhi, top_platform_share, thresholds)
        niche = Niche(niche)
        out[creator_id] = {
            "creator_id": creator_id,
            "as_of": as_of,
            "window_days": window_days,
            "currency": base_currency,
            "total": total.quantize(CENT),
            "previous_total": previous_total.quantize(CENT),
            "by_source": {
                k: {"amount": str(v), "share": str(source_shares.get(k, Decimal(0)).quantize(SHARE))}
                for k, v in sorted(by_source.items())
            },
            "by_platform": {
                k: {"amount": str(v), "share": str(platform_shares.get(k, Decimal(0)).quantize(SHARE))}
                for k, v in sorted(by_platform.items())
            },
            "top_source": top_source,
            "top_source_share": source_shares.get(top_source, Decimal(0)).quantize(SHARE),
            "top_platform": top_platform,
            "top_platform_share": top_platform_share,
            "tiktok_share": platform_shares.get("tiktok", Decimal(0)).quantize(SHARE),
            "hhi": hhi,
            "previous_hhi": hhi_of(previous_sources) if previous_total > 0 else None,
            "risk_level": level,
            "suggestion": suggestion_for(niche, by_source, by_platform, level),
            "unconverted_records": entry["unconverted"] if entry else 0,
        }
    return out


_COMPARED = (
    "window_days",
    "currency",
    "total",
    "previous_total",
    "by_source",
    "by_platform",
    "top_source",
    "top_source_share",
    "top_platform",
    "top_platform_share",
    "tiktok_share",
    "hhi",
    "previous_hhi",
    "risk_level",
    "suggestion",
    "unconverted_records",
)


def _fingerprint(values: dict) -> str:
    return json.dumps([str(values[k].value if hasattr(values[k], "value") else values[k]) for k in _COMPARED])


@dataclass
class DiversificationResult:
    as_of: date
    creators: int = 0
    written: int = 0
    unchanged: int = 0
    risk_counts: dict | None = None

    def as_dict(self) -> dict:
        return {
            "as_of": self.as_of.isoformat(),
            "creators": self.creators,
            "written": self.written,
            "unchanged": self.unchanged,
            "risk_counts": self.risk_counts or {},
        }


def latest_snapshots_query(creator_ids: list[int] | None = None):
    latest = (
        select(DiversificationSnapshot.creator_id, func.max(DiversificationSnapshot.as_of).label("as_of"))
        .group_by(DiversificationSnapshot.creator_id)
        .subquery()
    )
    stmt = select(DiversificationSnapshot).join(
        latest,
        and_(
            latest.c.creator_id == DiversificationSnapshot.creator_id, latest.c.as_of == DiversificationSnapshot.as_of
        ),
    )
    if creator_ids is not None:
        stmt = stmt.where(DiversificationSnapshot.creator_id.in_(creator_ids))
    return stmt


def recompute_diversification(
    *,
    db_session: Session,
    base_currency: str,
    as_of: date | None = None,
    window_days: int = 90,
    thresholds: RiskThresholds = RiskThresholds(),
    creator_ids: list[int] | None = None,
) -> DiversificationResult:
    """Analyse the roster (or some creators) and store a dated snapshot where something changed."""
    as_of = as_of or date.today()
    result = DiversificationResult(as_of=as_of)
    fresh = compute_mix(
        db_session,
        as_of=as_of,
        window_days=window_days,
        base_currency=base_currency,
        thresholds=thresholds,
        creator_ids=creator_ids,
    )
    latest = {s.creator_id: s for s in db_session.scalars(latest_snapshots_query(creator_ids))}
    new_rows, same_day = [], []
    counts: dict[str, int] = defaultdict(int)
    for creator_id, values in fresh.items():
        counts[values["risk_level"].value] += 1
        old = latest.get(creator_id)
        if old is not None and _fingerprint({k: getattr(old, k) for k in _COMPARED}) == _fingerprint(values):
            result.unchanged += 1
            continue
        (same_day if old is not None and old.as_of == as_of else new_rows).append(values)
    bulk_insert(db_session.connection(), DiversificationSnapshot.__table__, new_rows)
    for values in same_day:
        snapshot = latest[values["creator_id"]]
        for key in _COMPARED:
            setattr(snapshot, key, values[key])
    db_session.flush()
    result.creators, result.written, result.risk_counts = len(fresh), len(new_rows) + len(same_day), dict(counts)
    return result
