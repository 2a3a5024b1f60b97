"""Revenue diversification: how concentrated is each creator's income, and what to do about it.

Per creator over a trailing window (and the window before it, for the trend), in the base
currency: revenue by source and by platform, the top source and its share, the top platform and
its share, the TikTok share, the Herfindahl-Hirschman index (sum of squared source shares, 0..1)
and the effective number of income sources (1 / HHI), a risk level and a suggestion from the
guide matched to the creator's niche.

Income with no platform (merch, courses, coaching, consulting, e-books) counts in the source
shares and the HHI, never as a platform: platform shares, the TikTok share and the platform risk
use platform income only.

Everything is computed in SQL, chunk by chunk of creators: the chunk's revenue records are read
once into a temporary table, exchange rates are resolved into a small indexed table (one lookup
per currency and day of those records), one statement sums and shares each creator's income, and
one grades it. A snapshot is dated and written only when its digest differs from the creator's
latest one, so re-running on unchanged revenue writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    and_,
    case,
    cast,
    exists,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from agency.core.database import JSONDocument, batch_settings, refresh_statistics, temporary
from agency.core.portable_sql import as_document, decimal_text, digest, json_object, json_object_agg
from agency.currencies.models import FxRate
from agency.currencies.service import minor_unit, round_money_sql
from agency.money.models import DiversificationSnapshot, RevenueRecord, RiskLevel
from agency.roster.chunks import CHUNK_SIZE, Chunk, chunks_of, run_isolated
from agency.roster.models import Creator, Niche

RECORD = RevenueRecord.__table__
# Shares and the HHI: exact decimals, rounded half-up once at the end. Wide enough for any sum of
# accepted amounts (each at most MAX_AMOUNT, converted at a rate below 10^10, so under 10^22 a
# record): sums of them never overflow an intermediate value or a stored total.
EXACT = Numeric(60, 20)
# The sources and platforms whose presence the suggestions look at.
DIVERSIFYING_SOURCES = ("merch", "courses", "coaching", "affiliate")
DIVERSIFYING_PLATFORMS = ("youtube", "instagram")
TOTAL = Numeric(38, 3)
SNAPSHOT = DiversificationSnapshot.__table__
CREATOR = Creator.__table__
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
AFFILIATE = "Add affiliate links: they earn without depending on one platform's programme."
KEEP_GOING = "Keep building the smaller sources so no single one dominates."
# The snapshot columns queries filter, join and sort on: the statistics a bulk write refreshes.
PLANNED_COLUMNS = (
    "creator_id",
    "as_of",
    "risk_level",
    "hhi",
    "top_platform",
    "top_platform_share",
    "top_source",
    "total",
)
# What a snapshot holds beyond its creator and day, in the order its digest reads them.
VALUES = (
    "window_days",
    "currency",
    "total",
    "previous_total",
    "platform_total",
    "by_source",
    "by_platform",
    "top_source",
    "top_source_share",
    "top_platform",
    "top_platform_share",
    "tiktok_share",
    "hhi",
    "previous_hhi",
    "effective_sources",
    "risk_level",
    "suggestion",
    "unconverted_records",
)


@dataclass(frozen=True)
class RiskThresholds:
    """Risk bands of a revenue mix (see the README for where the defaults come from)."""

    hhi_high: Decimal = Decimal("0.50")
    hhi_medium: Decimal = Decimal("0.25")
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


@dataclass(frozen=True)
class MixSettings:
    base_currency: str
    window_days: int = 90
    thresholds: RiskThresholds = RiskThresholds()

    @classmethod
    def from_config(cls, config, window_days: int | None = None) -> MixSettings:
        return cls(
            config.base_currency, window_days or config.diversification_window_days, RiskThresholds.from_config(config)
        )


# --- exchange rates, resolved first -------------------------------------------------------------


def records_table(db_session: Session, as_of: date, window_days: int, creators: Chunk) -> Table:
    """A temporary table of the creators' revenue records in scope (the current window and the
    one before it): the only read of `revenue_records`, one range of its (creator, day) index.
    Everything after it reads this table, which has no filter for the planner to misjudge: on a
    `revenue_records` never analysed, the range conditions are estimated at a row or two, and the
    records were joined to their rates with one index probe per record (twice the time of the
    hash join their real number calls for)."""
    table = temporary(
        "mix_records",
        lambda: [
            Column("creator_id", Integer, nullable=False),
            Column("source", String(24), nullable=False),
            Column("platform", String(24)),
            Column("currency", String(3), nullable=False),
            Column("earned_on", Date, nullable=False),
            Column("amount", RECORD.c.amount.type, nullable=False),
        ],
    )
    connection = db_session.connection()
    table.create(connection)
    names = [c.name for c in table.c]
    connection.execute(
        table.insert().from_select(
            names, select(*[RECORD.c[name] for name in names]).where(revenue_scope(as_of, window_days, creators))
        )
    )
    return table


def daily_rates_table(db_session: Session, base_currency: str, records: Table) -> Table:
    """A temporary, indexed and analysed table of the rate in force for each distinct (currency,
    day) of the records (direct pair, then inverse; NULL when none), looked up once per currency
    and day. Joining records to it is one index probe per record whatever the planner knows (as
    an inlined CTE it was re-scanned for every record on tables not yet analysed)."""
    fx = FxRate.__table__
    pairs = (
        select(records.c.currency, records.c.earned_on)
        .where(records.c.currency != base_currency)
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
    table = temporary(
        "mix_daily_rates",
        lambda: [
            Column("currency", String(3), primary_key=True),
            Column("earned_on", Date, primary_key=True),
            Column("rate", Numeric(30, 12)),
        ],
    )
    connection = db_session.connection()
    table.create(connection)
    connection.execute(
        table.insert().from_select(
            ["currency", "earned_on", "rate"],
            select(pairs.c.currency, pairs.c.earned_on, func.coalesce(direct, literal(Decimal(1)) / inverse)),
        )
    )
    refresh_statistics(connection, [table])
    return table


def revenue_scope(as_of: date, window_days: int, creators: Chunk):
    """Records of the current window and the one before it, for the creators."""
    previous_start = as_of - timedelta(days=2 * window_days - 1)
    return and_(
        RECORD.c.archived_at.is_(None),
        RECORD.c.earned_on >= previous_start,
        RECORD.c.earned_on <= as_of,
        creators.condition(RECORD.c.creator_id),
    )


# --- the mix, in one statement per chunk --------------------------------------------------------


def mix_select(creators: Chunk, as_of: date, settings: MixSettings, records: Table, rates: Table):
    """One row per (non-archived) creator of `creators`: every value a snapshot holds, and its
    digest, in one statement (the per-creator aggregate as a materialised CTE)."""
    per_creator = (
        per_creator_select(as_of, settings, records, rates)
        # Computed once, then joined to the creators: on tables never analysed the planner takes
        # the chunk for one creator and would otherwise recompute the whole aggregate for each
        # creator it joins. (A chunk of a recompute goes further: see `_per_creator_table`.)
        .cte("per_creator")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    return mix_from(per_creator, creators, as_of, settings)


def per_creator_select(as_of: date, settings: MixSettings, records: Table, rates: Table):
    """Each creator's (with revenue in `records`) totals, shares, HHI and the sources they have."""
    window_days, base = settings.window_days, settings.base_currency
    current_start = as_of - timedelta(days=window_days - 1)
    rate = case((records.c.currency == base, literal(Decimal(1))), else_=rates.c.rate)
    converted = (
        select(
            records.c.creator_id,
            records.c.source,
            records.c.platform,
            (records.c.amount * rate).label("amount"),
            (records.c.earned_on >= current_start).label("current"),
        )
        .select_from(
            records.outerjoin(
                rates, and_(rates.c.currency == records.c.currency, rates.c.earned_on == records.c.earned_on)
            )
        )
        # Read once (the records and their rates), then summed by source and by platform.
        .cte("converted")
    )
    r = converted.c

    def positive(amount):
        return case((amount > 0, amount), else_=0)

    def per_key(is_source: bool, key, *where):
        # A key's income over the window (and the one before), counted only when positive: a
        # source whose refunds exceed its income counts as nothing. (PostgreSQL computes the same
        # aggregate once however many times an expression names it.)
        return (
            select(
                r.creator_id,
                literal(is_source).label("is_source"),
                cast(key, String(32)).label("key"),
                positive(func.coalesce(func.sum(r.amount).filter(r.current), 0)).label("positive"),
                positive(func.coalesce(func.sum(r.amount).filter(~r.current), 0)).label("previous_positive"),
                func.count().filter(and_(r.current, r.amount.is_(None))).label("unconverted"),
            )
            .where(*where)
            .group_by(r.creator_id, key)
        )

    # Sources over all income; platforms over platform income only. (The kind is a boolean: every
    # aggregate below tests it for every row, and a text comparison there cost a few percent.)
    keys = union_all(per_key(True, r.source), per_key(False, r.platform, r.platform.is_not(None))).subquery("keyed")
    k = keys.c
    by_kind = {"partition_by": [k.creator_id, k.is_source]}
    shared = select(
        k.creator_id,
        k.is_source,
        k.key,
        k.unconverted,
        k.positive,
        (cast(k.positive, EXACT) / func.nullif(cast(func.sum(k.positive).over(**by_kind), EXACT), 0)).label("share"),
        (
            cast(k.previous_positive, EXACT)
            / func.nullif(cast(func.sum(k.previous_positive).over(**by_kind), EXACT), 0)
        ).label("previous_share"),
        k.previous_positive,
        func.row_number().over(**by_kind, order_by=[k.positive.desc(), k.key]).label("rank"),
    ).subquery("shared")
    s = shared.c
    is_source, is_platform = s.is_source, ~s.is_source

    # Aggregates with a FILTER: a row of the other kind never reaches them.
    def total(value, kind_filter):
        return func.coalesce(func.sum(value).filter(kind_filter), 0)

    def entries(kind_filter):
        return json_object_agg(
            s.key,
            json_object(
                "amount",
                decimal_text(round_money_sql(s.positive, base), minor_unit(base)),
                "share",
                decimal_text(s.share, 4),
            ),
        ).filter(and_(kind_filter, s.positive > 0))

    def has(kind_filter, key: str):
        return func.count().filter(and_(kind_filter, s.key == key, s.positive > 0)) > 0

    return select(
        s.creator_id,
        total(s.positive, is_source).label("total"),
        total(s.previous_positive, is_source).label("previous_total"),
        total(s.positive, is_platform).label("platform_total"),
        entries(is_source).label("by_source"),
        entries(is_platform).label("by_platform"),
        func.max(s.key).filter(and_(is_source, s.rank == 1, s.positive > 0)).label("top_source"),
        func.max(s.share).filter(and_(is_source, s.rank == 1)).label("top_source_share"),
        func.max(s.key).filter(and_(is_platform, s.rank == 1, s.positive > 0)).label("top_platform"),
        func.max(s.share).filter(and_(is_platform, s.rank == 1)).label("top_platform_share"),
        func.max(s.share).filter(and_(is_platform, s.key == "tiktok")).label("tiktok_share"),
        func.sum(s.share * s.share).filter(is_source).label("hhi"),
        func.sum(s.previous_share * s.previous_share).filter(is_source).label("previous_hhi"),
        total(s.unconverted, is_source).label("unconverted_records"),
        *[has(is_source, source).label(f"has_{source}") for source in DIVERSIFYING_SOURCES],
        *[has(is_platform, platform).label(f"has_{platform}") for platform in DIVERSIFYING_PLATFORMS],
    ).group_by(s.creator_id)


def mix_from(per_creator, creators: Chunk, as_of: date, settings: MixSettings):
    """The snapshot values of the creators of `creators` from their per-creator aggregate (a CTE
    or a table with `per_creator_select`'s columns), and the digest of those values."""
    window_days, base = settings.window_days, settings.base_currency
    m = per_creator.c

    hhi = func.round(cast(func.coalesce(m.hhi, 0), EXACT), 4)
    top_platform_share = func.round(cast(func.coalesce(m.top_platform_share, 0), EXACT), 4)
    t = settings.thresholds
    no_revenue = func.coalesce(m.total, 0) <= 0
    level = case(
        (no_revenue, RiskLevel.no_data.value),
        (or_(hhi >= t.hhi_high, top_platform_share >= t.platform_high), RiskLevel.high.value),
        (or_(hhi >= t.hhi_medium, top_platform_share >= t.platform_medium), RiskLevel.medium.value),
        else_=RiskLevel.low.value,
    )
    niche_tip = case(
        *[
            (and_(CREATOR.c.niche == niche.value, ~func.coalesce(getattr(m, f"has_{source}"), False)), literal(text))
            for niche, (source, text) in NICHE_SUGGESTIONS.items()
        ],
        else_=literal(""),
    )
    platform_tip = case(
        (or_(~func.coalesce(m.has_youtube, False), ~func.coalesce(m.has_instagram, False)), literal(GENERIC)),
        (~func.coalesce(m.has_affiliate, False), literal(AFFILIATE)),
        else_=literal(""),
    )
    tips = func.trim(niche_tip + literal(" ") + platform_tip)

    def money(value):
        return cast(round_money_sql(func.coalesce(value, 0), base), TOTAL)

    def ratio(value):
        return cast(func.round(cast(func.coalesce(value, 0), EXACT), 4), Numeric(6, 4))

    values = {
        "creator_id": CREATOR.c.id,
        "as_of": literal(as_of),
        "window_days": literal(window_days),
        "currency": literal(base),
        "total": money(m.total),
        "previous_total": money(m.previous_total),
        "platform_total": money(m.platform_total),
        "by_source": func.coalesce(as_document(m.by_source), as_document(json_object())),
        "by_platform": func.coalesce(as_document(m.by_platform), as_document(json_object())),
        "top_source": m.top_source,
        "top_source_share": ratio(m.top_source_share),
        "top_platform": m.top_platform,
        "top_platform_share": ratio(top_platform_share),
        "tiktok_share": ratio(m.tiktok_share),
        "hhi": ratio(hhi),
        "previous_hhi": case((func.coalesce(m.previous_total, 0) > 0, ratio(m.previous_hhi)), else_=null()),
        "effective_sources": case(
            (hhi > 0, cast(func.round(literal(Decimal(1)) / cast(m.hhi, EXACT), 2), Numeric(8, 2))), else_=null()
        ),
        "risk_level": level,
        "suggestion": tips,  # the tips, until the risk level says whether to give them (below)
        "unconverted_records": cast(func.coalesce(m.unconverted_records, 0), Integer),
    }
    # Graded once: the digest below reads these values again, and PostgreSQL would otherwise
    # inline every expression into it and evaluate the risk level, the tips and the roundings of
    # each creator twice (a third of the statement's time).
    graded = (
        select(*[value.label(name) for name, value in values.items()])
        .select_from(CREATOR.outerjoin(per_creator, m.creator_id == CREATOR.c.id))
        .where(creators.condition(CREATOR.c.id), CREATOR.c.archived_at.is_(None))
        .cte("graded")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    g = graded.c
    suggestion = case(
        (g.risk_level.in_([RiskLevel.no_data.value, RiskLevel.low.value]), literal("")),
        (g.suggestion == "", literal(KEEP_GOING)),
        else_=g.suggestion,
    )
    inner = select(*[suggestion.label(name) if name == "suggestion" else g[name] for name in values]).subquery("mix")
    return select(inner, digest([inner.c[name] for name in VALUES], _digest_text(inner)).label("digest"))


def _digest_text(inner):
    """What SQLite compares instead of a hash of the values: the values as text."""
    return (
        func.coalesce(cast(inner.c.total, Text), "")
        + "|"
        + cast(inner.c.by_source, Text)
        + "|"
        + cast(inner.c.by_platform, Text)
        + "|"
        + func.coalesce(inner.c.suggestion, "")
        + "|"
        + inner.c.risk_level
        + "|"
        + cast(inner.c.previous_total, Text)
        + "|"
        + func.coalesce(cast(inner.c.previous_hhi, Text), "")
        + "|"
        + cast(inner.c.unconverted_records, Text)
        + "|"
        + cast(inner.c.window_days, Text)
        + "|"
        + inner.c.currency
    )


# --- recompute ----------------------------------------------------------------------------------


@dataclass
class DiversificationResult:
    as_of: date
    chunks: int = 0
    creators: int = 0
    written: int = 0
    unchanged: int = 0
    risk_counts: dict = field(default_factory=dict)
    failed_items: list[dict] = field(default_factory=list)  # creators whose analysis failed

    def add(self, other: DiversificationResult) -> None:
        self.failed_items += other.failed_items
        self.chunks += other.chunks
        self.creators += other.creators
        self.written += other.written
        self.unchanged += other.unchanged
        for level, count in other.risk_counts.items():
            self.risk_counts[level] = self.risk_counts.get(level, 0) + count

    def as_dict(self) -> dict:
        return {
            "as_of": self.as_of.isoformat(),
            "chunks": self.chunks,
            "creators": self.creators,
            "written": self.written,
            "unchanged": self.unchanged,
            "risk_counts": {getattr(level, "value", level): count for level, count in self.risk_counts.items()},
            "rows_changed": self.written,
            "failed_items": self.failed_items,
        }


def _per_creator_table(db_session: Session, as_of: date, settings: MixSettings, records: Table, rates: Table) -> Table:
    """The chunk's per-creator aggregate in a temporary table keyed by creator, analysed: joining
    the chunk's creators to it is then a hash or index join whatever the planner knew of the
    revenue tables (joined as a CTE, a chunk on never-analysed tables was planned as a nested loop
    that scanned the whole aggregate once per creator: 5,000 x 5,000 rows)."""
    table = temporary(
        "mix_per_creator",
        lambda: [
            Column("creator_id", Integer, primary_key=True),
            *[Column(name, Numeric()) for name in ("total", "previous_total", "platform_total")],
            Column("by_source", JSONDocument),
            Column("by_platform", JSONDocument),
            Column("top_source", String(32)),
            Column("top_source_share", Numeric()),
            Column("top_platform", String(32)),
            *[Column(name, Numeric()) for name in ("top_platform_share", "tiktok_share", "hhi", "previous_hhi")],
            Column("unconverted_records", Integer),
            *[Column(f"has_{key}", Boolean) for key in (*DIVERSIFYING_SOURCES, *DIVERSIFYING_PLATFORMS)],
        ],
    )
    connection = db_session.connection()
    table.create(connection)
    computed = per_creator_select(as_of, settings, records, rates).subquery("computed")
    connection.execute(
        insert(table).from_select([c.name for c in table.c], select(*[computed.c[c.name] for c in table.c]))
    )
    # The column the join reads (sampling the documents would cost more than the join).
    refresh_statistics(connection, [table], columns={table.name: ["creator_id"]})
    return table


def _fresh_table() -> Table:
    return temporary(
        "mix_fresh",
        lambda: [
            Column("creator_id", Integer, primary_key=True),
            *[Column(c.name, c.type) for c in SNAPSHOT.c if c.name in (*VALUES, "as_of", "digest")],
        ],
    )


def recompute_chunk(db_session: Session, creators: Chunk, as_of: date, settings: MixSettings) -> DiversificationResult:
    """Analyse one chunk of creators and write a snapshot where the mix changed; a creator whose
    analysis fails is reported in `failed_items` and the others are written (`run_isolated`)."""
    parts, failed = run_isolated(db_session, creators, lambda part: _recompute_part(db_session, part, as_of, settings))
    result = DiversificationResult(as_of=as_of)
    for part in parts:
        result.add(part)
    result.chunks, result.failed_items = 1, failed
    return result


def _recompute_part(db_session: Session, creators: Chunk, as_of: date, settings: MixSettings) -> DiversificationResult:
    connection = db_session.connection().execution_options(preserve_rowcount=True)
    batch_settings(connection)  # for each chunk: the recompute may commit after each one
    result = DiversificationResult(as_of=as_of, chunks=1)
    records = records_table(db_session, as_of, settings.window_days, creators)
    rates = daily_rates_table(db_session, settings.base_currency, records)
    per_creator = _per_creator_table(db_session, as_of, settings, records, rates)
    fresh = _fresh_table()
    fresh.create(connection)
    # A failing statement leaves the temporary tables to the caller's rollback (of its savepoint).
    names = [c.name for c in fresh.c]
    mix = mix_from(per_creator, creators, as_of, settings).subquery("computed")
    connection.execute(insert(fresh).from_select(names, select(*[mix.c[n] for n in names])))
    # Counted, not taken from the insert: SQLite reports no row count for an insert with a CTE.
    for level, count in connection.execute(select(fresh.c.risk_level, func.count()).group_by(fresh.c.risk_level)):
        result.risk_counts[level] = count
    result.creators = sum(result.risk_counts.values())
    # Each creator's latest snapshot, through the (creator, as_of) key.
    latest_day = select(func.max(SNAPSHOT.c.as_of)).where(SNAPSHOT.c.creator_id == fresh.c.creator_id).scalar_subquery()
    latest = SNAPSHOT.alias("latest")
    same = and_(
        latest.c.creator_id == fresh.c.creator_id,
        latest.c.as_of == latest_day,
        creators.condition(latest.c.creator_id),
    )
    unchanged = exists().where(same, latest.c.digest == fresh.c.digest)
    # The same day again (a second run today): the snapshot is replaced, not added.
    today = and_(
        SNAPSHOT.c.creator_id == fresh.c.creator_id,
        SNAPSHOT.c.as_of == as_of,
        creators.condition(SNAPSHOT.c.creator_id),
    )
    updated = connection.execute(
        SNAPSHOT.update()
        .where(today, SNAPSHOT.c.digest.is_distinct_from(fresh.c.digest))
        .values({name: fresh.c[name] for name in (*VALUES, "digest")} | {"computed_at": func.now()})
    ).rowcount
    inserted = connection.execute(
        insert(SNAPSHOT).from_select(
            ["creator_id", "as_of", *VALUES, "digest"],
            select(fresh.c.creator_id, fresh.c.as_of, *[fresh.c[n] for n in VALUES], fresh.c.digest).where(
                ~unchanged, ~exists().where(today)
            ),
        )
    ).rowcount
    result.written = updated + inserted
    result.unchanged = result.creators - result.written
    if inserted:  # a first analysis fills the snapshots in bulk: their statistics follow
        refresh_statistics(connection, [SNAPSHOT], inserted, {SNAPSHOT.name: PLANNED_COLUMNS})
    fresh.drop(connection)
    per_creator.drop(connection)
    rates.drop(connection)
    records.drop(connection)
    return result


def recompute_diversification(
    *,
    db_session: Session,
    settings: MixSettings,
    as_of: date | None = None,
    creator_ids: list[int] | None = None,
    chunk_size: int = CHUNK_SIZE,
    commit=None,
) -> DiversificationResult:
    """Analyse the roster (or some creators), chunk by chunk, storing a dated snapshot where the
    mix changed. `commit`, when given, is called after each chunk."""
    as_of = as_of or date.today()
    result = DiversificationResult(as_of=as_of)
    for creators in chunks_of(db_session, creator_ids, chunk_size):
        result.add(recompute_chunk(db_session, creators, as_of, settings))
        if commit is not None:
            commit()
    return result


def compute_mix(db_session: Session, *, as_of: date, settings: MixSettings, creator_ids: list[int]) -> dict[int, dict]:
    """The mix of some creators on any day and window, nothing written (the live answer)."""
    creators = Chunk(creator_ids=tuple(creator_ids))
    records = records_table(db_session, as_of, settings.window_days, creators)
    rates = daily_rates_table(db_session, settings.base_currency, records)
    try:
        rows = db_session.connection().execute(mix_select(creators, as_of, settings, records, rates))
        out = {}
        for row in rows:
            values = dict(row._mapping)
            values["risk_level"] = RiskLevel(values["risk_level"])
            values.pop("digest", None)
            out[values["creator_id"]] = values
        return out
    finally:
        rates.drop(db_session.connection())
        records.drop(db_session.connection())


def latest_snapshots_query(creator_ids: list[int] | None = None):
    """Each creator's latest stored snapshot (a select of DiversificationSnapshot)."""
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
