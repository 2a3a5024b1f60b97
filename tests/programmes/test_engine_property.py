"""The set-based SQL evaluation and the per-creator explanation agree, on generated creators,
metrics and rules (hypothesis)."""

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert

from agency.metrics.models import MetricSnapshot
from agency.programmes.compiler import evaluation_query, flatten
from agency.programmes.eligibility import CreatorFacts, explain_all
from agency.programmes.rules import feature_key, iter_metric_criteria, validate_criteria
from agency.roster.models import Creator, PlatformAccount

AS_OF = date(2026, 6, 30)
PLATFORMS = ["tiktok", "youtube"]
METRICS = ["followers", "views", "qualified_videos", "watch_hours"]

metric_criterion = st.builds(
    lambda platform, metric, aggregate, window, minimum: {
        "kind": "metric",
        "platform": platform,
        "metric": metric,
        "aggregate": aggregate,
        "min": minimum,
        **({"window_days": window} if aggregate != "latest" else {}),
    },
    st.sampled_from(PLATFORMS),
    st.sampled_from(METRICS),
    st.sampled_from(["latest", "sum", "avg"]),
    st.integers(1, 20),
    st.integers(0, 400),
)
simple_criterion = st.one_of(
    metric_criterion,
    st.builds(
        lambda m, s, kr: {"kind": "age", "min": m, "parental_agreement_suffices": s, "by_country": kr},
        st.integers(13, 21),
        st.booleans(),
        st.sampled_from([{}, {"KR": 19}, {"FR": 21}]),
    ),
    st.builds(
        lambda codes: {"kind": "country", "in": codes},
        st.lists(st.sampled_from(["FR", "US", "KR", "BR"]), min_size=1, max_size=3, unique=True),
    ),
    st.builds(lambda s: {"kind": "standing", "at_least": s}, st.sampled_from(["good", "warning", "restricted"])),
    st.builds(
        lambda p, t: {"kind": "account_type", "platform": p, "in": t},
        st.sampled_from(PLATFORMS),
        st.sampled_from([["personal"], ["business"], ["personal", "business"]]),
    ),
)
criteria_strategy = st.lists(
    st.one_of(
        simple_criterion,
        st.builds(lambda cs: {"kind": "any_of", "criteria": cs}, st.lists(simple_criterion, min_size=2, max_size=3)),
    ),
    min_size=1,
    max_size=5,
)

account_strategy = st.fixed_dictionaries(
    {
        "platform": st.sampled_from(PLATFORMS),
        "account_type": st.sampled_from(["personal", "business"]),
        # day offsets back from AS_OF (some after it, which must be ignored) -> metric values
        "snapshots": st.dictionaries(
            st.integers(-3, 25),
            st.fixed_dictionaries(
                {
                    "followers": st.integers(0, 500),
                    "views": st.integers(0, 100),
                    "qualified_videos": st.integers(0, 3),
                    "watch_hours": st.decimals(0, 50, places=2),
                }
            ),
            max_size=12,
        ),
    }
)
creator_strategy = st.fixed_dictionaries(
    {
        "country": st.sampled_from(["FR", "US", "KR", "BR"]),
        "age_days": st.one_of(st.none(), st.integers(12 * 365, 25 * 365)),
        "parental": st.booleans(),
        "standing": st.sampled_from(["good", "warning", "restricted"]),
        "accounts": st.lists(account_strategy, max_size=3),
    }
)


def python_features(accounts: list[dict], criteria: list[dict]) -> dict:
    """The features computed in plain Python, independently of the SQL."""
    out = {}
    for c in iter_metric_criteria(criteria):
        values = []
        for account in accounts:
            if account["platform"] != c["platform"]:
                continue
            days = {
                AS_OF - timedelta(days=offset): m
                for offset, m in account["snapshots"].items()
                if AS_OF - timedelta(days=offset) <= AS_OF
            }
            if c["aggregate"] == "latest":
                if days:
                    values.append(days[max(days)][c["metric"]])
            else:
                start = AS_OF - timedelta(days=c["window_days"] - 1)
                window = [m[c["metric"]] for d, m in days.items() if d >= start]
                if c["aggregate"] == "sum":
                    values.append(sum(window, 0))
                elif window:
                    values.append(Decimal(sum(window, 0)) / len(window))
        out[feature_key(c)] = max(values) if values else None
    return out


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(creators=st.lists(creator_strategy, min_size=1, max_size=4), raw_criteria=criteria_strategy)
def test_sql_evaluation_matches_the_explanation(session, raw_criteria, creators):
    criteria = validate_criteria(raw_criteria)
    nested = session.begin_nested()
    try:
        ids = []
        for spec in creators:
            creator = Creator(
                display_name="Generated",
                country=spec["country"],
                niche="other",
                date_of_birth=AS_OF - timedelta(days=spec["age_days"]) if spec["age_days"] else None,
                parental_agreement_on_file=spec["parental"],
                guideline_standing=spec["standing"],
            )
            session.add(creator)
            session.flush()
            ids.append(creator.id)
            for index, account in enumerate(spec["accounts"]):
                row = PlatformAccount(
                    creator_id=creator.id,
                    platform=account["platform"],
                    handle=f"gen_{creator.id}_{index}",
                    account_type=account["account_type"],
                )
                session.add(row)
                session.flush()
                if account["snapshots"]:
                    session.execute(
                        insert(MetricSnapshot),
                        [
                            {
                                "account_id": row.id,
                                "day": AS_OF - timedelta(days=offset),
                                "followers": m["followers"],
                                "views": m["views"],
                                "qualified_videos": m["qualified_videos"],
                                "watch_hours": m["watch_hours"],
                            }
                            for offset, m in account["snapshots"].items()
                        ],
                    )
        rows = {
            r["creator_id"]: r
            for r in session.execute(evaluation_query(criteria, AS_OF, Creator.__table__.c.id.in_(ids))).mappings()
        }
        assert set(rows) == set(ids)
        for creator_id, spec in zip(ids, creators):
            facts = CreatorFacts(
                country=spec["country"],
                date_of_birth=AS_OF - timedelta(days=spec["age_days"]) if spec["age_days"] else None,
                parental_agreement_on_file=spec["parental"],
                guideline_standing=spec["standing"],
                account_types=_types(spec["accounts"]),
                features=python_features(spec["accounts"], criteria),
            )
            eligible, _near, details = explain_all(criteria, facts, AS_OF)
            row = rows[creator_id]
            assert bool(row["eligible"]) == eligible, (criteria, spec, details)
            python_flags = _flatten_details(details)
            sql_flags = [bool(row[name]) for name, _ in flatten(criteria)]
            assert sql_flags == python_flags, (criteria, spec, details)
    finally:
        nested.rollback()


def _types(accounts):
    out = defaultdict(set)
    for account in accounts:
        out[account["platform"]].add(account["account_type"])
    return out


def _flatten_details(details):
    flags = []
    for detail in details:
        flags.append(detail["passed"])
        if detail["kind"] == "any_of":
            flags.extend(_flatten_details(detail["criteria"]))
    return flags
