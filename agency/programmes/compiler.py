"""Compile rule criteria into one set-based SQL evaluation for many creators at once.

`metric_features_query` aggregates each creator's snapshots into the features the rules read
(latest value, windowed sums and averages, best account per platform); `criterion_sql` turns a
criterion into a boolean SQL expression over those features and the creator's columns.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import (
    Select,
    and_,
    case,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.sql.elements import ColumnElement

from agency.metrics.models import MetricSnapshot
from agency.programmes.forecasts import TREND_DAYS, WEEK
from agency.programmes.rules import STANDING_ORDER, feature_key, iter_metric_criteria
from agency.roster.models import Creator, PlatformAccount


def years_before(day: date, years: int) -> date:
    """The same calendar day `years` earlier (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def needed_features(criteria: list[dict]) -> dict[str, dict]:
    return {feature_key(c): c for c in iter_metric_criteria(criteria)}


def trend_keys(criterion: dict) -> tuple[str, str]:
    base = f"{criterion['platform']}_{criterion['metric']}"
    return f"trend_early_{base}", f"trend_recent_{base}"


def metric_features_query(
    features: dict[str, dict], as_of: date, with_trends: bool = False, creator_ids: list[int] | None = None
) -> Select:
    """One row per creator with an account, one column per feature (NULL when there is no data).
    With `with_trends`, also the weekly averages the forecasts compare (see forecasts.py)."""
    snapshot = MetricSnapshot.__table__
    account = PlatformAccount.__table__
    latest = {k: c for k, c in features.items() if c["aggregate"] == "latest"}
    windowed = {k: c for k, c in features.items() if c["aggregate"] != "latest"}

    columns = []
    joins = account
    if latest:
        last_day = (
            select(snapshot.c.account_id, func.max(snapshot.c.day).label("day"))
            .where(snapshot.c.day <= as_of)
            .group_by(snapshot.c.account_id)
            .subquery("last_day")
        )
        latest_row = (
            select(snapshot)
            .join(last_day, and_(snapshot.c.account_id == last_day.c.account_id, snapshot.c.day == last_day.c.day))
            .subquery("latest_row")
        )
        joins = joins.outerjoin(latest_row, latest_row.c.account_id == account.c.id)
        for key, c in latest.items():
            columns.append(func.max(case((account.c.platform == c["platform"], latest_row.c[c["metric"]]))).label(key))
    trend_metrics = {}
    if with_trends:
        for c in features.values():
            trend_metrics[trend_keys(c)] = c
    if windowed or trend_metrics:
        longest = max([c["window_days"] for c in windowed.values()] + ([TREND_DAYS] if trend_metrics else []))
        window_columns = []
        for key, c in windowed.items():
            start = as_of - timedelta(days=c["window_days"] - 1)
            in_window = case((snapshot.c.day >= start, snapshot.c[c["metric"]]))
            agg = func.sum(in_window) if c["aggregate"] == "sum" else func.avg(in_window)
            window_columns.append(agg.label(key))
        for (early_key, recent_key), c in trend_metrics.items():
            value = snapshot.c[c["metric"]]
            window_columns.append(
                func.avg(case((snapshot.c.day <= as_of - timedelta(days=TREND_DAYS - WEEK), value))).label(early_key)
            )
            window_columns.append(
                func.avg(case((snapshot.c.day > as_of - timedelta(days=WEEK), value))).label(recent_key)
            )
        window = (
            select(snapshot.c.account_id, *window_columns)
            .where(snapshot.c.day <= as_of, snapshot.c.day >= as_of - timedelta(days=longest - 1))
            .group_by(snapshot.c.account_id)
            .subquery("window")
        )
        joins = joins.outerjoin(window, window.c.account_id == account.c.id)
        for key, c in windowed.items():
            # Sums over an account with no snapshot in the window are 0, not unknown.
            value = window.c[key] if c["aggregate"] == "avg" else func.coalesce(window.c[key], 0)
            columns.append(func.max(case((account.c.platform == c["platform"], value))).label(key))
        for keys, c in trend_metrics.items():
            for key in keys:
                columns.append(func.max(case((account.c.platform == c["platform"], window.c[key]))).label(key))
    stmt = select(account.c.creator_id, *columns).select_from(joins).group_by(account.c.creator_id)
    if creator_ids is not None:
        stmt = stmt.where(account.c.creator_id.in_(creator_ids))
    return stmt


def criterion_sql(criterion: dict, features, as_of: date) -> ColumnElement[bool]:
    """A boolean SQL expression: does the creator row (joined with `features`) pass?"""
    creator = Creator.__table__
    kind = criterion["kind"]
    if kind == "metric":
        value = features.c[feature_key(criterion)]
        return and_(value.is_not(None), value >= criterion["min"])
    if kind == "age":
        default_cutoff = years_before(as_of, criterion["min"])
        by_country = criterion.get("by_country") or {}
        if by_country:
            cutoff = case(
                *[
                    (creator.c.country == code, literal(years_before(as_of, max(years, criterion["min"]))))
                    for code, years in sorted(by_country.items())
                ],
                else_=literal(default_cutoff),
            )
        else:
            cutoff = literal(default_cutoff)
        old_enough = and_(creator.c.date_of_birth.is_not(None), creator.c.date_of_birth <= cutoff)
        if criterion.get("parental_agreement_suffices"):
            return or_(old_enough, creator.c.parental_agreement_on_file == true())
        return old_enough
    if kind == "country":
        return creator.c.country.in_(criterion["in"])
    if kind == "standing":
        floor = STANDING_ORDER[criterion["at_least"]]
        return creator.c.guideline_standing.in_([s for s, rank in STANDING_ORDER.items() if rank >= floor])
    if kind == "account_type":
        account = PlatformAccount.__table__
        return exists().where(
            account.c.creator_id == creator.c.id,
            account.c.platform == criterion["platform"],
            account.c.account_type.in_(criterion["in"]),
        )
    if kind == "any_of":
        return or_(false(), *[criterion_sql(c, features, as_of) for c in criterion["criteria"]])
    raise ValueError(f"unknown criterion kind {kind!r}")


def flatten(criteria: list[dict], prefix: str = "c") -> list[tuple[str, dict]]:
    """(column name, criterion) for every criterion, nested ones included: c0, c2_1, ..."""
    out = []
    for index, criterion in enumerate(criteria):
        name = f"{prefix}{index}"
        out.append((name, criterion))
        if criterion["kind"] == "any_of":
            out.extend(flatten(criterion["criteria"], f"{name}_"))
    return out


def evaluation_query(
    criteria: list[dict],
    as_of: date,
    creator_filter: ColumnElement[bool] | None,
    with_trends: bool = False,
    features=None,
) -> Select:
    """One row per creator: the creator's facts, each feature, each criterion's pass flag and the
    overall result (`eligible`)."""
    creator = Creator.__table__
    # `features`: a table of precomputed features shared by several rules (see eligibility.evaluate),
    # or, by default, this rule's own features as a subquery.
    if features is None:
        features = metric_features_query(needed_features(criteria), as_of, with_trends).subquery("features")
    flags = [(name, criterion_sql(c, features, as_of)) for name, c in flatten(criteria)]
    # SQL booleans may be NULL when data is missing; a missing value fails the criterion.
    flag_columns = [case((expr, true()), else_=false()).label(name) for name, expr in flags]
    top_level = [expr for name, expr in flags if "_" not in name]
    eligible = case((and_(true(), *top_level), true()), else_=false()).label("eligible")
    feature_columns = [features.c[k] for k in needed_features(criteria)]
    if with_trends:
        feature_columns += [features.c[k] for c in needed_features(criteria).values() for k in trend_keys(c)]
    stmt = (
        select(
            creator.c.id.label("creator_id"),
            creator.c.country,
            creator.c.date_of_birth,
            creator.c.parental_agreement_on_file,
            creator.c.guideline_standing,
            *feature_columns,
            *flag_columns,
            eligible,
        )
        .select_from(creator.outerjoin(features, features.c.creator_id == creator.c.id))
        .where(creator.c.archived_at.is_(None))
    )
    if creator_filter is not None:
        stmt = stmt.where(creator_filter)
    return stmt.order_by(creator.c.id)
