"""What the rules read, computed in SQL for a chunk of creators: the "base" table.

One row per creator and platform account (a creator with no account on a platform the rules read
gets one row with no account, so that criteria can say "no TikTok account"): the creator's own
facts (country, birth date, standing, parental agreement), and the account's metric features: the
latest reported value of each metric the rules read and its day, windowed sums and averages with
the last day with data in the window, the least-squares trend of each metric over the last
`trend_days` days (fitted to the days the metric was reported), and for windowed sums and
averages the number of days until the trailing sum or average crosses each threshold the rules
use, given the days that will leave the window.

Every rule version of a recompute reads this one table (eligibility_rules.py), so each snapshot
is read once per chunk whatever the number of programmes. Snapshots are read through the primary
key (account, day) over the chunk's accounts: as one index range when the chunk's account ids are
dense (the usual case, accounts being created with their creator), else account by account
(LATERAL, PostgreSQL). Either way no plan can turn into a scan of every snapshot, whatever the
table statistics say.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Float,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    and_,
    case,
    cast,
    func,
    insert,
    literal,
    not_,
    null,
    or_,
    select,
    true,
)
from sqlalchemy.sql.elements import ColumnElement

from agency.core.database import temporary, temporary_table
from agency.core.portable_sql import ceiling, day_number, greatest, regr_intercept, regr_slope
from agency.metrics.models import MetricSnapshot
from agency.programmes.rules import iter_metric_criteria
from agency.roster.chunks import Chunk
from agency.roster.models import Creator, PlatformAccount

SNAPSHOT = MetricSnapshot.__table__
ACCOUNT = PlatformAccount.__table__
CREATOR = Creator.__table__
# Platform name of the base rows of rules that read no account (age, country, standing only).
NO_PLATFORM = ""
# A chunk's accounts are read as one index range when the range holds at most this many ids
# per account of the chunk.
DENSE_RANGE_FACTOR = 4


@dataclass(frozen=True)
class EngineSettings:
    """What the engine needs to know beyond the rules (configuration, see README)."""

    margin: Decimal = Decimal("0.90")  # "near" a threshold from this fraction of it
    stale_days: int = 7  # a latest value older than this does not count
    trend_days: int = 28  # forecasts fit a line to at most this many past days
    min_history_days: int = 7  # ... and need at least this many days with a value of the metric
    horizon_days: int = 365  # no forecast further out than this

    @classmethod
    def from_config(cls, config) -> EngineSettings:
        return cls(margin=Decimal(config.near_threshold_margin), stale_days=config.stale_metric_days)


def feature_name(criterion: dict) -> str:
    """The base-table column a metric criterion reads, e.g. `views_sum_30`."""
    if criterion["aggregate"] == "latest":
        return f"{criterion['metric']}_latest"
    return f"{criterion['metric']}_{criterion['aggregate']}_{criterion['window_days']}"


def eta_column(name: str, threshold) -> str:
    """The base-table column holding days until `name` crosses `threshold`."""
    return f"{name}_eta_{re.sub(r'[^0-9]', '_', str(Decimal(str(threshold)).normalize()))}"


@dataclass
class FeatureNeed:
    metric: str
    aggregate: str
    window: int | None
    thresholds: set = field(default_factory=set)

    @property
    def name(self) -> str:
        return feature_name({"metric": self.metric, "aggregate": self.aggregate, "window_days": self.window})


@dataclass
class FeaturePlan:
    """Which features each platform's accounts need, for a set of rule versions."""

    by_platform: dict[str, dict[str, FeatureNeed]] = field(default_factory=dict)

    @classmethod
    def for_rules(cls, rule_criteria: list[list[dict]]) -> FeaturePlan:
        plan = cls()
        for criteria in rule_criteria:
            for c in iter_metric_criteria(criteria):
                needs = plan.by_platform.setdefault(c["platform"], {})
                need = needs.setdefault(feature_name(c), FeatureNeed(c["metric"], c["aggregate"], c.get("window_days")))
                need.thresholds.add(Decimal(str(c["min"])))
            for c in _account_criteria(criteria):
                plan.by_platform.setdefault(c["platform"], {})
            if not referenced_platforms(criteria):
                plan.by_platform.setdefault(NO_PLATFORM, {})
        return plan

    def feature_columns(self) -> list[Column]:
        out: dict[str, Column] = {}
        for needs in self.by_platform.values():
            for need in needs.values():
                out.setdefault(need.name, Column(need.name, Numeric))
                out.setdefault(f"{need.name}_day", Column(f"{need.name}_day", Date))
                for suffix in ("slope", "level"):
                    out.setdefault(f"{need.metric}_{suffix}", Column(f"{need.metric}_{suffix}", Float))
                out.setdefault(f"{need.metric}_history", Column(f"{need.metric}_history", Integer))
                if need.aggregate != "latest":
                    out.setdefault(f"{need.name}_first", Column(f"{need.name}_first", Date))
                    for threshold in need.thresholds:
                        column = eta_column(need.name, threshold)
                        out.setdefault(column, Column(column, Integer))
                if need.aggregate == "avg":
                    out.setdefault(f"{need.name}_count", Column(f"{need.name}_count", Integer))
        return [out[key] for key in sorted(out)]


def _account_criteria(criteria: list[dict]):
    for c in criteria:
        if c["kind"] == "account_type":
            yield c
        elif c["kind"] == "any_of":
            yield from _account_criteria(c["criteria"])


def referenced_platforms(criteria: list[dict]) -> list[str]:
    """Platforms whose accounts a rule reads, in first-mention order."""
    seen: list[str] = []
    for c in criteria:
        if c["kind"] in ("metric", "account_type") and c["platform"] not in seen:
            seen.append(c["platform"])
        elif c["kind"] == "any_of":
            seen += [p for p in referenced_platforms(c["criteria"]) if p not in seen]
    return seen


def base_table(plan: FeaturePlan) -> Table:
    """The temporary base table of a recompute (created once, emptied for each chunk). Named
    after its columns; temporary tables are private to their connection, so the name never meets
    another recompute's."""
    features = plan.feature_columns()
    shape = hashlib.sha1(",".join(f"{c.name}:{c.type!r}" for c in features).encode()).hexdigest()[:10]
    name = f"eligibility_base_{shape}"

    def build() -> Table:
        table = Table(
            name,
            MetaData(),
            Column("row_id", Integer, primary_key=True, autoincrement=True),
            Column("creator_id", Integer, nullable=False),
            Column("platform", String(24), nullable=False),
            Column("account_id", Integer),
            Column("account_type", String(24)),
            Column("country", String(2)),
            Column("date_of_birth", Date),
            Column("guideline_standing", String(24)),
            Column("parental_agreement_on_file", Boolean),
            *features,
            prefixes=["TEMPORARY"],
        )
        Index(f"{name}_platform_creator", table.c.platform, table.c.creator_id)
        Index(f"{name}_account", table.c.account_id)
        return table

    return temporary_table(name, build)


def windows_table(plan: FeaturePlan, base: Table) -> Table:
    """The temporary table of each account's windowed aggregates (filled before the base rows,
    so that joining them is a join of two small tables, never a subquery run per row)."""
    names = set()
    for needs in plan.by_platform.values():
        for need in needs.values():
            names.add(f"{need.metric}_slope")
            names.add(f"{need.metric}_level")
            names.add(f"{need.metric}_history")
            if need.aggregate != "latest":
                names.update((need.name, f"{need.name}_day", f"{need.name}_first"))
            if need.aggregate == "avg":
                names.add(f"{need.name}_count")
    return temporary(
        f"{base.name}_windows",
        lambda: [Column("account_id", Integer, primary_key=True), *[Column(n, base.c[n].type) for n in sorted(names)]],
    )


def crossing_statements(plan: FeaturePlan, base: Table, as_of: date, settings: EngineSettings) -> list:
    """The statements filling the crossing days of every windowed feature of the base table (the
    same for every chunk: a recompute builds them once)."""
    return [
        statement
        for platform, needs in sorted(plan.by_platform.items())
        for need in needs.values()
        if need.aggregate != "latest"
        for statement in _crossing_updates(base, platform, need, as_of, settings)
    ]


def fill_base(
    connection,
    plan: FeaturePlan,
    base: Table,
    windows: Table,
    chunk: Chunk,
    as_of: date,
    settings: EngineSettings,
    crossings: list,
) -> None:
    """Fill the (empty) base and windows tables for the chunk: the windowed aggregates of each
    platform's accounts, then the base rows, then the crossings (`crossing_statements`)."""
    dialect = connection.dialect.name
    for platform, needs in sorted(plan.by_platform.items()):
        if not needs:
            continue
        account_range = _account_range(connection, platform, chunk) if dialect == "postgresql" else None
        statement = _window_values(
            platform,
            chunk,
            [n for n in needs.values() if n.aggregate != "latest"],
            sorted({n.metric for n in needs.values()}),
            as_of,
            settings,
            dialect,
            account_range,
        )
        connection.execute(insert(windows).from_select(list(statement.selected_columns.keys()), statement))
    if dialect == "postgresql":
        connection.exec_driver_sql(f'ANALYZE "{windows.name}" (account_id)')
    for platform, needs in sorted(plan.by_platform.items()):
        connection.execute(
            insert(base).from_select(
                [c.name for c in base.c if c.name != "row_id"],
                _platform_rows(platform, needs, base, windows, chunk, as_of, dialect),
            )
        )
    if dialect == "postgresql":
        connection.exec_driver_sql(f'ANALYZE "{base.name}" (creator_id, platform, account_id)')
    for statement in crossings:
        connection.execute(statement)


def _account_range(connection, platform: str, chunk: Chunk) -> tuple[int, int] | None:
    """(lowest, highest) account id of the chunk's accounts on `platform` when dense, else None."""
    low, high, count = connection.execute(
        select(func.min(ACCOUNT.c.id), func.max(ACCOUNT.c.id), func.count()).where(
            chunk.condition(ACCOUNT.c.creator_id), ACCOUNT.c.platform == platform
        )
    ).one()
    if not count or high - low + 1 > DENSE_RANGE_FACTOR * count + 100:
        return None
    return low, high


def _platform_rows(
    platform: str, needs: dict[str, FeatureNeed], base: Table, windows: Table, chunk: Chunk, as_of: date, dialect: str
):
    creators = CREATOR
    if platform == NO_PLATFORM:
        accounts = None
        source = creators
    else:
        accounts = ACCOUNT.alias("account")
        # The chunk's condition on the accounts too: the planner then reads the chunk's accounts
        # through the (creator, platform) index rather than every account of the platform.
        source = creators.outerjoin(
            accounts,
            and_(
                accounts.c.creator_id == creators.c.id,
                accounts.c.platform == platform,
                chunk.condition(accounts.c.creator_id),
            ),
        )
    values: dict[str, ColumnElement] = {
        "creator_id": creators.c.id,
        "platform": literal(platform),
        "account_id": accounts.c.id if accounts is not None else null(),
        "account_type": accounts.c.account_type if accounts is not None else null(),
        "country": creators.c.country,
        "date_of_birth": creators.c.date_of_birth,
        "guideline_standing": creators.c.guideline_standing,
        "parental_agreement_on_file": creators.c.parental_agreement_on_file,
    }
    latest_needs = [n for n in needs.values() if n.aggregate == "latest"]
    if latest_needs:
        latest = _latest_values(accounts, chunk, platform, sorted({n.metric for n in latest_needs}), as_of, dialect)
        for joined in latest.sources:
            source = source.outerjoin(
                joined, true() if dialect == "postgresql" else joined.c.account_id == accounts.c.id
            )
        for need in latest_needs:
            values[need.name], values[f"{need.name}_day"] = latest.columns[need.metric]
    if needs:
        source = source.outerjoin(windows, windows.c.account_id == accounts.c.id)
        for column in windows.c:
            if column.name != "account_id" and any(
                column.name.startswith(f"{n.metric}_") or column.name.startswith(n.name) for n in needs.values()
            ):
                values[column.name] = column
    columns = [values.get(c.name, cast(null(), c.type)).label(c.name) for c in base.c if c.name != "row_id"]
    return select(*columns).select_from(source).where(chunk.condition(creators.c.id), creators.c.archived_at.is_(None))


@dataclass
class _Latest:
    """What the base rows join to read the latest values: the joined selects (LATERALs on
    PostgreSQL, joined with no condition; subqueries with an `account_id` elsewhere), and each
    metric's value and day."""

    sources: list = field(default_factory=list)
    columns: dict[str, tuple[ColumnElement, ColumnElement]] = field(default_factory=dict)


def _latest_values(accounts, chunk: Chunk, platform: str, metrics: list[str], as_of: date, dialect: str) -> _Latest:
    """Each account's most recent reported value of each metric on or before `as_of`, and its day.

    A metric every snapshot carries (followers) is read from the newest snapshot, one read for all
    of them. A metric that may be unreported (NULL) on a day is read from the newest snapshot
    that reports it, each such metric on its own: on one day views may be reported and likes not."""
    required = [m for m in metrics if not SNAPSHOT.c[m].nullable]
    groups = ([("latest", required)] if required else []) + [(f"latest_{m}", [m]) for m in metrics if m not in required]
    out = _Latest()
    if dialect == "postgresql":
        for name, group in groups:
            reported = [SNAPSHOT.c[m].is_not(None) for m in group if SNAPSHOT.c[m].nullable]
            lateral = (
                select(SNAPSHOT.c.day, *[SNAPSHOT.c[m] for m in group])
                .where(SNAPSHOT.c.account_id == accounts.c.id, SNAPSHOT.c.day <= as_of, *reported)
                .order_by(SNAPSHOT.c.day.desc())
                .limit(1)
                .lateral(name)
            )
            out.sources.append(lateral)
            out.columns |= {m: (lateral.c[m], lateral.c.day) for m in group}
        return out
    # SQLite: each group's newest day in one pass over the chunk's snapshots, then the snapshot of
    # that day through the (account, day) key.
    owners = ACCOUNT.alias("latest_owner")
    days = {
        name: func.max(
            SNAPSHOT.c.day if name == "latest" else case((SNAPSHOT.c[group[0]].is_not(None), SNAPSHOT.c.day))
        ).label(f"{name}_day")
        for name, group in groups
    }
    newest = (
        select(SNAPSHOT.c.account_id, *days.values())
        .select_from(SNAPSHOT.join(owners, owners.c.id == SNAPSHOT.c.account_id))
        .where(SNAPSHOT.c.day <= as_of, chunk.condition(owners.c.creator_id), owners.c.platform == platform)
        .group_by(SNAPSHOT.c.account_id)
        .subquery("newest")
    )
    joined, columns = newest, [newest.c.account_id]
    for name, group in groups:
        snapshot = SNAPSHOT.alias(f"{name}_snapshot")
        day = newest.c[f"{name}_day"]
        joined = joined.outerjoin(snapshot, and_(snapshot.c.account_id == newest.c.account_id, snapshot.c.day == day))
        columns += [day, *[snapshot.c[m] for m in group]]
    latest = select(*columns).select_from(joined).subquery("latest")
    out.sources.append(latest)
    for name, group in groups:
        out.columns |= {m: (latest.c[m], latest.c[f"{name}_day"]) for m in group}
    return out


def _window_values(
    platform: str,
    chunk: Chunk,
    needs: list[FeatureNeed],
    trend_metrics: list[str],
    as_of: date,
    settings: EngineSettings,
    dialect: str,
    account_range,
):
    """A select of each account's windowed sums and averages with the last day with data in each
    window, and the least-squares line through each metric's last `trend_days` days (slope per
    day, and the fitted value today) when the metric was reported on at least `min_history_days`
    of them."""
    longest = max([n.window for n in needs] + [settings.trend_days])
    trend_start = as_of - timedelta(days=settings.trend_days - 1)
    in_trend = SNAPSHOT.c.day >= trend_start
    # The least-squares line through the days of the trend where the metric was reported (days
    # outside the trend have no x, days the metric was not reported no y: both are left out):
    # PostgreSQL's regr_slope and regr_intercept aggregates, spelled out in sums on SQLite
    # (portable_sql). A metric every snapshot carries (followers) has the days with a snapshot.
    x = case((in_trend, cast(day_number(SNAPSHOT.c.day) - day_number(literal(as_of)), Float)))
    snapshot_days = func.count(x)
    columns = []
    for metric in trend_metrics:
        y = cast(SNAPSHOT.c[metric], Float)
        n = func.count(case((in_trend, SNAPSHOT.c[metric]))) if SNAPSHOT.c[metric].nullable else snapshot_days
        enough = n >= settings.min_history_days
        columns += [
            case((enough, regr_slope(y, x))).label(f"{metric}_slope"),
            case((enough, regr_intercept(y, x))).label(f"{metric}_level"),  # the fitted value today (x = 0)
            n.label(f"{metric}_history"),  # days with a value the line is fitted to
        ]
    for need in needs:
        in_window = SNAPSHOT.c.day >= as_of - timedelta(days=need.window - 1)
        value = case((in_window, SNAPSHOT.c[need.metric]))
        aggregate = func.sum(value) if need.aggregate == "sum" else func.avg(cast(value, Numeric))
        columns += [
            aggregate.label(need.name),
            func.max(case((value.is_not(None), SNAPSHOT.c.day))).label(f"{need.name}_day"),
            # The first day of the window with a snapshot: where the crossings' segments begin.
            func.min(case((in_window, SNAPSHOT.c.day))).label(f"{need.name}_first"),
        ]
        if need.aggregate == "avg":  # the days the average is over: those with a value
            columns.append(func.count(value).label(f"{need.name}_count"))
    in_range = and_(SNAPSHOT.c.day <= as_of, SNAPSHOT.c.day >= as_of - timedelta(days=longest - 1))
    owners = ACCOUNT.alias("owner")
    chunk_accounts = and_(chunk.condition(owners.c.creator_id), owners.c.platform == platform)
    if dialect == "postgresql" and account_range is None:
        # Sparse account ids: account by account through the (account, day) key.
        per_account = select(*columns).where(in_range, SNAPSHOT.c.account_id == owners.c.id).lateral("windows")
        return (
            select(owners.c.id.label("account_id"), *per_account.c)
            .select_from(owners.join(per_account, true()))
            .where(chunk_accounts)
        )
    # The chunk's accounts in id order (a subquery with an ORDER BY is planned on its own): each
    # account's snapshots, joined to them account by account, come out grouped by account, so the
    # aggregate needs no sort of them. (The planner expects far fewer snapshot rows than a chunk
    # has, 164,610 at 5,000 creators, so with the accounts joined as a table it sorted them all:
    # an eighth of the statement.)
    ordered = select(owners.c.id).where(chunk_accounts).order_by(owners.c.id).subquery("chunk_accounts")
    scan = (
        select(SNAPSHOT.c.account_id, *columns)
        .select_from(SNAPSHOT.join(ordered, ordered.c.id == SNAPSHOT.c.account_id))
        .where(in_range)
    )
    if account_range is not None:
        # Dense account ids: one range of the (account, day) key, read in key order.
        scan = scan.where(SNAPSHOT.c.account_id.between(*account_range))
    return scan.group_by(SNAPSHOT.c.account_id)


def _crossing_updates(base: Table, platform: str, need: FeatureNeed, as_of: date, settings: EngineSettings) -> list:
    """Fill the crossing-day columns of one windowed feature, for every threshold at once.

    Days from `as_of` until the trailing sum over the window reaches a threshold if the fitted
    daily level holds: each future day adds the level while the oldest day of the window leaves
    it. Day d of the window has left it after k(d) = d - as_of + window days; between two days
    with data the sum left behind is constant, so each row gives the first k of its segment at
    which the projection suffices. The smallest over the segments (the one before the first day
    with data included) is the answer; none within the window means never, since after `window`
    days the sum is the level times the window.

    An average reaches its threshold t when the sum over the window's days with a value of
    (value - t) reaches 0: the same walk over the values less t (each future day adding the level
    less t, a day leaving with its value less t, an unreported day with nothing), so one walk
    serves both (`shifted`).

    The segment before the first day with data needs no snapshot: when the projection suffices
    there for every threshold the account can reach (the usual case for a window longer than the
    history, e.g. 365 days of watch hours over 30 days of snapshots), the days are computed from
    the base row alone. Only the other accounts read their snapshots, day by day."""
    window = need.window
    start = as_of - timedelta(days=window - 1)
    today = day_number(literal(as_of))
    average = need.aggregate == "avg"
    thresholds = sorted(need.thresholds)

    def shifted(total, level, count, threshold):
        """(the window's sum, the daily level, the target) of the walk for `threshold`: as they
        are for a sum; for an average, over the values less the threshold (`count` days)."""
        if average:
            return (total - threshold) * count, level - threshold, Decimal(0)
        return total, level, threshold

    def reachable(total, level, target) -> list:
        """Below the target, and reached within a window at the level."""
        if average:
            return [total < target, level > 0]
        return [total < target, level * window >= target]

    def walk(table, threshold):
        count = table.c[f"{need.name}_count"] if average else None
        return shifted(table.c[need.name], table.c[f"{need.metric}_level"], count, threshold)

    def wanted(table) -> ColumnElement:
        """Accounts below a threshold whose level could reach it within the window."""
        level = table.c[f"{need.metric}_level"]
        return and_(
            table.c.platform == platform,
            level > 0,
            table.c[f"{need.metric}_slope"].is_not(None),
            or_(*[and_(*reachable(*walk(table, threshold))) for threshold in thresholds]),
        )

    def before_first(table, threshold) -> ColumnElement:
        """The first day the projection suffices, counting the segment before the first day with
        data, and whether it lies in that segment."""
        total, level, target = walk(table, threshold)
        days = greatest(literal(1), ceiling((target - total) / level))
        first_k = day_number(table.c[f"{need.name}_first"]) - today + window
        return days, and_(total < target, days <= first_k - 1)

    def needs_segments(table) -> ColumnElement:
        return or_(
            *[
                and_(*reachable(*walk(table, threshold)), not_(before_first(table, threshold)[1]))
                for threshold in thresholds
            ]
        )

    direct = {}
    for threshold in thresholds:
        days, in_first_segment = before_first(base, threshold)
        direct[eta_column(need.name, threshold)] = case((and_(in_first_segment, days <= settings.horizon_days), days))
    from_base = base.update().where(wanted(base), not_(needs_segments(base))).values(direct)
    candidates = base.alias("candidate")
    # One window for the next day and the running sum (lead ignores the frame): PostgreSQL then
    # computes both in one pass over the sorted rows instead of two.
    order = {"partition_by": SNAPSHOT.c.account_id, "order_by": SNAPSHOT.c.day, "rows": (None, 0)}
    counted = []
    if average:  # the days with a value, in the window and left behind
        counted = [
            candidates.c[f"{need.name}_count"].label("count"),
            func.count(SNAPSHOT.c[need.metric]).over(**order).label("cumulative_count"),
        ]
    rows = (
        select(
            SNAPSHOT.c.account_id,
            candidates.c[need.name].label("total"),
            candidates.c[f"{need.metric}_level"].label("level"),
            (day_number(SNAPSHOT.c.day) - today + window).label("k"),
            func.coalesce(day_number(func.lead(SNAPSHOT.c.day).over(**order)) - today + window, window + 1).label(
                "next_k"
            ),
            # What has left the window by this row's day: 0 while the metric was not reported.
            func.coalesce(func.sum(SNAPSHOT.c[need.metric]).over(**order), 0).label("cumulative"),
            *counted,
        )
        .select_from(candidates.join(SNAPSHOT, SNAPSHOT.c.account_id == candidates.c.account_id))
        .where(wanted(candidates), needs_segments(candidates), SNAPSHOT.c.day >= start, SNAPSHOT.c.day <= as_of)
        .subquery("crossing_rows")
    )
    days = []
    for threshold in thresholds:
        total, level, target = shifted(rows.c.total, rows.c.level, rows.c.count if average else None, threshold)
        cumulative = rows.c.cumulative - threshold * rows.c.cumulative_count if average else rows.c.cumulative
        usable = and_(*reachable(total, level, target))
        left_behind = target - total + cumulative
        candidate = case((left_behind <= 0, rows.c.k), else_=greatest(rows.c.k, ceiling(left_behind / level)))
        # The account's own figures (the same on each of its rows).
        account_total, account_level, _ = shifted(
            func.max(rows.c.total), func.max(rows.c.level), func.max(rows.c.count) if average else None, threshold
        )
        before_first = greatest(literal(1), ceiling((target - account_total) / account_level))
        by_segment = func.min(case((and_(usable, candidate <= rows.c.next_k - 1), candidate)))
        first = case(
            (and_(account_total < target, before_first <= func.min(rows.c.k) - 1), before_first),
            else_=by_segment,
        )
        days.append(case((first <= settings.horizon_days, first)).label(eta_column(need.name, threshold)))
    crossing = select(rows.c.account_id, *days).group_by(rows.c.account_id).subquery("crossing")
    from_snapshots = (
        base.update()
        .where(base.c.account_id == crossing.c.account_id, base.c.platform == platform)
        .values({eta_column(need.name, t): crossing.c[eta_column(need.name, t)] for t in thresholds})
    )
    return [from_base, from_snapshots]
