"""Diversification benchmark: the project's roster-wide recompute against a hand-written SQL floor.

    .venv/bin/python bench/diversification.py --creators 100000 --records 1000000

Generates creators with revenue records in mixed currencies (EUR, USD, GBP, JPY with dated
rates), then times (a) `recompute_diversification` for the whole roster (shares by source and
platform, HHI, risk, suggestion, change-only snapshot writes) and (b) one SQL statement that
computes the same source shares and HHI per creator. Prints both and the ratio.
"""

from __future__ import annotations

import argparse
import random
import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from agency.core.database import make_engine
from agency.money.diversification import recompute_diversification
from bench.common import scratch_database, timed  # noqa: E402

AS_OF = date(2026, 6, 30)
WINDOW = 90
SOURCES = ["creator_rewards", "live_gifts", "brand_deal", "affiliate", "merch", "courses", "platform_ads"]
PLATFORMS = ["tiktok", "tiktok", "youtube", "instagram", None]
RATES = {"USD": Decimal("0.92"), "GBP": Decimal("1.17"), "JPY": Decimal("0.0061")}

FLOOR_SQL = """
WITH converted AS (
    SELECT r.creator_id, r.source, r.amount * CASE WHEN r.currency = 'EUR' THEN 1 ELSE (
        SELECT f.rate FROM fx_rates f WHERE f.base = r.currency AND f.quote = 'EUR' AND f.day <= r.earned_on
        ORDER BY f.day DESC LIMIT 1) END AS amount
    FROM revenue_records r
    WHERE r.archived_at IS NULL AND r.earned_on > :as_of - :window AND r.earned_on <= :as_of
), by_source AS (
    SELECT creator_id, source, SUM(amount) AS amount FROM converted GROUP BY creator_id, source
), totals AS (
    SELECT creator_id, SUM(amount) AS total FROM by_source WHERE amount > 0 GROUP BY creator_id
)
SELECT s.creator_id, t.total, SUM((s.amount / t.total) ^ 2) AS hhi, MAX(s.amount / t.total) AS top_share
FROM by_source s JOIN totals t USING (creator_id) WHERE s.amount > 0 GROUP BY s.creator_id, t.total
"""


def generate(url: str, creators: int, records: int, seed: int = 2) -> None:
    rng = random.Random(seed)
    engine = create_engine(url)
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        with cur.copy(
            "COPY creators (id, display_name, legal_name, country, niche, languages, status, "
            "guideline_standing, parental_agreement_on_file, notes, version) FROM STDIN"
        ) as copy:
            for i in range(1, creators + 1):
                copy.write_row(
                    (
                        i,
                        f"Creator {i}",
                        "",
                        "FR",
                        rng.choice(["fashion", "cooking", "gaming", "tech"]),
                        "[]",
                        "active",
                        "good",
                        False,
                        "",
                        1,
                    )
                )
        with cur.copy("COPY fx_rates (day, base, quote, rate, source) FROM STDIN") as copy:
            for currency, rate in RATES.items():
                for d in range(200):
                    copy.write_row(
                        (
                            AS_OF - timedelta(days=d),
                            currency,
                            "EUR",
                            (rate * Decimal(str(1 + rng.uniform(-0.02, 0.02)))).quantize(Decimal("0.00000001")),
                            "bench",
                        )
                    )
        with cur.copy(
            "COPY revenue_records (creator_id, earned_on, source, platform, amount, currency, is_refund, "
            "external_ref, notes, version) FROM STDIN"
        ) as copy:
            for n in range(records):
                creator = rng.randint(1, creators)
                copy.write_row(
                    (
                        creator,
                        AS_OF - timedelta(days=rng.randint(0, 2 * WINDOW)),
                        rng.choice(SOURCES),
                        rng.choice(PLATFORMS),
                        Decimal(rng.randint(100, 500_000)) / 100,
                        rng.choice(["EUR", "EUR", "USD", "GBP", "JPY"]),
                        False,
                        f"b{n}",
                        "",
                        1,
                    )
                )
        cur.execute("SELECT setval('creators_id_seq', %s)", (creators,))
        cur.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creators", type=int, default=100_000)
    parser.add_argument("--records", type=int, default=1_000_000)
    args = parser.parse_args()

    print(f"diversification benchmark: {args.creators:,} creators, {args.records:,} revenue records")
    url = scratch_database("agency_bench_diversification")
    results: dict[str, float] = {}
    with timed("generate (COPY)", results):
        generate(url, args.creators, args.records)
    engine = make_engine(url)
    with timed("(a) project recompute, whole roster", results), Session(engine) as session:
        first = recompute_diversification(db_session=session, base_currency="EUR", as_of=AS_OF, window_days=WINDOW)
        session.commit()
    with timed("(b) floor: one SQL statement (shares + HHI)", results), engine.connect() as conn:
        rows = conn.execute(text(FLOOR_SQL), {"as_of": AS_OF, "window": WINDOW}).all()
    with timed("(a') recompute of the unchanged roster", results), Session(engine) as session:
        again = recompute_diversification(db_session=session, base_currency="EUR", as_of=AS_OF, window_days=WINDOW)
        session.commit()
    print(
        f"  creators analysed {first.creators:,} (floor rows {len(rows):,}); snapshots written {first.written:,}, "
        f"unchanged re-run wrote {again.written:,}; risk {first.risk_counts}"
    )
    a, b = results["(a) project recompute, whole roster"], results["(b) floor: one SQL statement (shares + HHI)"]
    print(f"  ratio recompute / floor: {a / b:.2f}x")
    engine.dispose()


if __name__ == "__main__":
    main()
