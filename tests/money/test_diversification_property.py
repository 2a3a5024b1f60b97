"""The income mix computed in SQL agrees with an independent Python reading of the rules
(hypothesis): records in several currencies (a direct rate, an inverse one, none at all), refunds,
records outside both windows, and income with no platform (merch, courses, coaching), which counts
as a source and never as a platform.
"""

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select

from agency.currencies.models import FxRate
from agency.money.diversification import MixSettings, RiskThresholds, recompute_diversification
from agency.money.models import DiversificationSnapshot, RevenueRecord
from agency.roster.models import Creator

AS_OF = date(2026, 6, 30)
WINDOW = 30
THRESHOLDS = RiskThresholds()
# EUR is the base; USD has a direct rate, GBP only the inverse pair (EUR->GBP 0.8, so 1.25), CHF none.
RATES = {"EUR": Decimal(1), "USD": Decimal("0.91234567"), "GBP": Decimal("1.25"), "CHF": None}
SOURCES_ON_PLATFORMS = ["creator_rewards", "live_gifts", "brand_deal", "affiliate"]
SOURCES_OFF_PLATFORM = ["merch", "courses", "coaching", "affiliate"]

record = st.one_of(
    st.tuples(st.sampled_from(SOURCES_ON_PLATFORMS), st.sampled_from(["tiktok", "youtube", "instagram"])),
    st.tuples(st.sampled_from(SOURCES_OFF_PLATFORM), st.none()),
).flatmap(
    lambda key: st.fixed_dictionaries(
        {
            "source": st.just(key[0]),
            "platform": st.just(key[1]),
            "amount": st.integers(-5000, 100000).map(lambda cents: Decimal(cents) / 100),
            "currency": st.sampled_from(list(RATES)),
            # days back from AS_OF: the current window, the previous one, before both, and after AS_OF
            "offset": st.integers(-3, 2 * WINDOW + 5),
        }
    )
)


def _q(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _positive_sums(records, key):
    sums: dict[str, Decimal] = {}
    for r in records:
        sums[key(r)] = sums.get(key(r), Decimal(0)) + r["base"]
    return {k: v for k, v in sums.items() if v > 0}


def _top(sums):
    return min(sums.items(), key=lambda item: (-item[1], item[0])) if sums else (None, Decimal(0))


def python_reading(records):
    """The mix as DOMAIN.md and the README state it, one record at a time."""
    current, previous, unconverted = [], [], 0
    for r in records:
        day = AS_OF - timedelta(days=r["offset"])
        in_current = AS_OF - timedelta(days=WINDOW - 1) <= day <= AS_OF
        in_previous = AS_OF - timedelta(days=2 * WINDOW - 1) <= day < AS_OF - timedelta(days=WINDOW - 1)
        rate = RATES[r["currency"]]
        if rate is None:
            unconverted += in_current
            continue
        converted = dict(r, base=r["amount"] * rate)
        (current if in_current else previous if in_previous else []).append(converted)
    sources = _positive_sums(current, lambda r: r["source"])
    platforms = _positive_sums([r for r in current if r["platform"]], lambda r: r["platform"])
    total, platform_total = sum(sources.values(), Decimal(0)), sum(platforms.values(), Decimal(0))
    hhi = sum(((v / total) ** 2 for v in sources.values()), Decimal(0)) if total else Decimal(0)
    top_source, top_source_amount = _top(sources)
    top_platform, top_platform_amount = _top(platforms)
    top_platform_share = _q(top_platform_amount / platform_total, 4) if platform_total else Decimal(0)
    if total <= 0:
        level = "no_data"
    elif _q(hhi, 4) >= THRESHOLDS.hhi_high or top_platform_share >= THRESHOLDS.platform_high:
        level = "high"
    elif _q(hhi, 4) >= THRESHOLDS.hhi_medium or top_platform_share >= THRESHOLDS.platform_medium:
        level = "medium"
    else:
        level = "low"

    def entries(sums, whole):
        return {k: {"amount": str(_q(v, 2)), "share": str(_q(v / whole, 4))} for k, v in sums.items()}

    return {
        "total": _q(total, 2),
        "platform_total": _q(platform_total, 2),
        "previous_total": _q(sum(_positive_sums(previous, lambda r: r["source"]).values(), Decimal(0)), 2),
        "by_source": entries(sources, total),
        "by_platform": entries(platforms, platform_total),
        "top_source": top_source,
        "top_source_share": _q(top_source_amount / total, 4) if total else Decimal(0),
        "top_platform": top_platform,
        "top_platform_share": top_platform_share,
        "tiktok_share": _q(platforms.get("tiktok", Decimal(0)) / platform_total, 4) if platform_total else Decimal(0),
        "hhi": _q(hhi, 4),
        "effective_sources": _q(1 / hhi, 2) if hhi else None,
        "risk_level": level,
        "unconverted_records": unconverted,
    }


def stored_reading(snapshot: DiversificationSnapshot) -> dict:
    return {name: getattr(snapshot, name) for name in python_reading([])} | {"risk_level": snapshot.risk_level.value}


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(creators=st.lists(st.lists(record, max_size=8), min_size=1, max_size=4))
def test_sql_mix_matches_an_independent_reading(session, creators):
    nested = session.begin_nested()
    try:
        session.execute(
            insert(FxRate),
            [
                {"day": date(2020, 1, 1), "base": "USD", "quote": "EUR", "rate": RATES["USD"]},
                {"day": date(2020, 1, 1), "base": "EUR", "quote": "GBP", "rate": Decimal("0.8")},
            ],
        )
        ids = []
        for records in creators:
            creator = Creator(display_name="Generated", country="FR", niche="other")
            session.add(creator)
            session.flush()
            ids.append(creator.id)
            if records:
                session.execute(
                    insert(RevenueRecord),
                    [
                        {
                            "creator_id": creator.id,
                            "earned_on": AS_OF - timedelta(days=r["offset"]),
                            "source": r["source"],
                            "platform": r["platform"],
                            "amount": r["amount"],
                            "currency": r["currency"],
                            "is_refund": r["amount"] < 0,
                            "external_ref": f"gen-{creator.id}-{n}",
                            "notes": "",
                            "version": 1,
                        }
                        for n, r in enumerate(records)
                    ],
                )
        recompute_diversification(
            db_session=session,
            settings=MixSettings(base_currency="EUR", window_days=WINDOW, thresholds=THRESHOLDS),
            as_of=AS_OF,
            creator_ids=ids,
            chunk_size=3,
        )
        stored = {s.creator_id: s for s in session.scalars(select(DiversificationSnapshot))}
        assert set(stored) == set(ids)
        for creator_id, records in zip(ids, creators):
            expected = python_reading(records)
            assert stored_reading(stored[creator_id]) == expected, records
            assert "none" not in {key.lower() for key in stored[creator_id].by_platform}
    finally:
        nested.rollback()
