"""Diversification benchmark: the product's income-mix recompute against a hand-written SQL floor.

    .venv/bin/python bench/diversification.py --creators 100000

Loads a roster with COPY (bench/loader.py: about ten revenue records per creator over 180 days,
platform and off-platform income, four currencies with daily rates, a few refunds) into its own
database, then measures, first on the freshly loaded never-analysed data and then after ANALYZE:

- the product's recompute of the whole roster (`recompute_diversification`, as `agency recompute
  diversification` runs it, in a child process under `/usr/bin/time -v` for its peak RSS);
- the floor: one statement resolving the exchange rates, summing each creator's income by source
  and by platform over the window and the one before, computing shares, HHI (current and
  previous), top source and platform with their shares, the TikTok share, the effective number of
  sources and the risk level, and writing one row per creator (INSERT .. ON CONFLICT DO UPDATE ..
  WHERE IS DISTINCT FROM);
- the same SELECT without the write (read-only floor), and the product's re-run of the unchanged
  roster with the snapshots it wrote (counted in the table).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.orm import configure_mappers  # noqa: E402

from agency.core.config import Config  # noqa: E402
from agency.core.database import Database  # noqa: E402
from agency.money.diversification import MixSettings, recompute_diversification  # noqa: E402
from bench.common import drop_database, floor_statement, line, ratio_text, read_only, rss_text, run_child, seconds_text  # noqa: E402
from bench.loader import analyse, first_touch, load, never_analysed, release_autovacuum  # noqa: E402

BASE = "EUR"
WINDOW = 90

FLOOR_TABLE = """
CREATE TABLE IF NOT EXISTS floor_mix (
    creator_id int PRIMARY KEY, total numeric(20, 2), previous_total numeric(20, 2), platform_total numeric(20, 2),
    by_source jsonb, by_platform jsonb, top_source text, top_source_share numeric(6, 4), top_platform text,
    top_platform_share numeric(6, 4), tiktok_share numeric(6, 4), hhi numeric(6, 4), previous_hhi numeric(6, 4),
    effective_sources numeric(8, 2), risk_level text, unconverted_records int)
"""
COLUMNS = [
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
    "unconverted_records",
]

FLOOR_SELECT = f"""
WITH pairs AS (
    SELECT DISTINCT currency, earned_on FROM revenue_records
    WHERE archived_at IS NULL AND earned_on > :as_of - 2 * :window AND earned_on <= :as_of AND currency <> '{BASE}'
), rates AS (
    SELECT p.currency, p.earned_on, COALESCE(
        (SELECT f.rate FROM fx_rates f WHERE f.base = p.currency AND f.quote = '{BASE}' AND f.day <= p.earned_on
         ORDER BY f.day DESC LIMIT 1),
        1 / (SELECT f.rate FROM fx_rates f WHERE f.base = '{BASE}' AND f.quote = p.currency AND f.day <= p.earned_on
             ORDER BY f.day DESC LIMIT 1)) AS rate
    FROM pairs p
), records AS (
    SELECT r.creator_id, r.source::text AS source, r.platform::text AS platform,
           r.earned_on > :as_of - :window AS current,
           r.amount * CASE WHEN r.currency = '{BASE}' THEN 1 ELSE x.rate END AS amount
    FROM revenue_records r LEFT JOIN rates x ON x.currency = r.currency AND x.earned_on = r.earned_on
    WHERE r.archived_at IS NULL AND r.earned_on > :as_of - 2 * :window AND r.earned_on <= :as_of
), keyed AS (
    SELECT creator_id, 'source' AS kind, source AS key,
           GREATEST(COALESCE(sum(amount) FILTER (WHERE current), 0), 0) AS amount,
           GREATEST(COALESCE(sum(amount) FILTER (WHERE NOT current), 0), 0) AS previous,
           count(*) FILTER (WHERE current AND amount IS NULL) AS unconverted
    FROM records GROUP BY creator_id, source
    UNION ALL
    SELECT creator_id, 'platform', platform,
           GREATEST(COALESCE(sum(amount) FILTER (WHERE current), 0), 0),
           GREATEST(COALESCE(sum(amount) FILTER (WHERE NOT current), 0), 0), 0
    FROM records WHERE platform IS NOT NULL GROUP BY creator_id, platform
), shared AS (
    SELECT *, amount / NULLIF(sum(amount) OVER w, 0) AS share,
           previous / NULLIF(sum(previous) OVER w, 0) AS previous_share,
           row_number() OVER (PARTITION BY creator_id, kind ORDER BY amount DESC, key) AS rank
    FROM keyed WINDOW w AS (PARTITION BY creator_id, kind)
), per_creator AS (
    SELECT creator_id,
           sum(amount) FILTER (WHERE kind = 'source') AS total,
           sum(previous) FILTER (WHERE kind = 'source') AS previous_total,
           sum(amount) FILTER (WHERE kind = 'platform') AS platform_total,
           jsonb_object_agg(key, jsonb_build_object('amount', round(amount, 2), 'share', round(share, 4)))
               FILTER (WHERE kind = 'source' AND amount > 0) AS by_source,
           jsonb_object_agg(key, jsonb_build_object('amount', round(amount, 2), 'share', round(share, 4)))
               FILTER (WHERE kind = 'platform' AND amount > 0) AS by_platform,
           max(key) FILTER (WHERE kind = 'source' AND rank = 1 AND amount > 0) AS top_source,
           max(share) FILTER (WHERE kind = 'source' AND rank = 1) AS top_source_share,
           max(key) FILTER (WHERE kind = 'platform' AND rank = 1 AND amount > 0) AS top_platform,
           max(share) FILTER (WHERE kind = 'platform' AND rank = 1) AS top_platform_share,
           max(share) FILTER (WHERE kind = 'platform' AND key = 'tiktok') AS tiktok_share,
           sum(share * share) FILTER (WHERE kind = 'source') AS hhi,
           sum(previous_share * previous_share) FILTER (WHERE kind = 'source') AS previous_hhi,
           sum(unconverted) FILTER (WHERE kind = 'source') AS unconverted
    FROM shared GROUP BY creator_id
)
SELECT c.id AS creator_id, round(COALESCE(m.total, 0), 2) AS total,
       round(COALESCE(m.previous_total, 0), 2) AS previous_total,
       round(COALESCE(m.platform_total, 0), 2) AS platform_total,
       COALESCE(m.by_source, '{{}}') AS by_source, COALESCE(m.by_platform, '{{}}') AS by_platform,
       m.top_source, round(COALESCE(m.top_source_share, 0), 4) AS top_source_share, m.top_platform,
       round(COALESCE(m.top_platform_share, 0), 4) AS top_platform_share,
       round(COALESCE(m.tiktok_share, 0), 4) AS tiktok_share, round(COALESCE(m.hhi, 0), 4) AS hhi,
       CASE WHEN m.previous_total > 0 THEN round(m.previous_hhi, 4) END AS previous_hhi,
       CASE WHEN m.hhi > 0 THEN round(1 / m.hhi, 2) END AS effective_sources,
       -- The level follows the HHI and share as stored and shown (four places), as the product's:
       -- a TikTok share of 0.69996 is shown as 0.7000 and is at the 70% threshold.
       CASE WHEN COALESCE(m.total, 0) <= 0 THEN 'no_data'
            WHEN round(m.hhi, 4) >= 0.5 OR round(COALESCE(m.top_platform_share, 0), 4) >= 0.7 THEN 'high'
            WHEN round(m.hhi, 4) >= 0.25 OR round(COALESCE(m.top_platform_share, 0), 4) >= 0.5 THEN 'medium'
            ELSE 'low' END AS risk_level,
       COALESCE(m.unconverted, 0)::int AS unconverted_records
FROM creators c LEFT JOIN per_creator m ON m.creator_id = c.id
WHERE c.archived_at IS NULL
"""


def floor_write() -> str:
    assignments = ", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS)
    old = ", ".join(f"floor_mix.{c}" for c in COLUMNS)
    new = ", ".join(f"EXCLUDED.{c}" for c in COLUMNS)
    return (
        f"INSERT INTO floor_mix (creator_id, {', '.join(COLUMNS)}) {FLOOR_SELECT} "
        f"ON CONFLICT (creator_id) DO UPDATE SET {assignments} WHERE ({old}) IS DISTINCT FROM ({new})"
    )


def child(url: str, as_of: date) -> None:
    """What `agency recompute diversification` does (agency/money/cli.py), timed from inside."""
    config = Config.from_env({}, database_url=url, secret_key="bench")
    database = Database(url)
    # Mappers configured before the timer, as in a worker that has run a job before (a one-off
    # cost of the process, like its imports).
    configure_mappers()
    started = time.perf_counter()
    with database.session_scope() as session:
        result = recompute_diversification(
            db_session=session,
            settings=MixSettings.from_config(config, WINDOW),
            as_of=as_of,
            chunk_size=config.recompute_chunk_size,
            commit=session.commit,
        )
    elapsed = time.perf_counter() - started
    database.dispose()
    print(f"{elapsed:.3f} " + " ".join(f"{k}={v}" for k, v in result.as_dict().items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creators", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--database", default=None, help="default: bench_mix_<creators>")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument(
        "--never-analysed-timeout", type=float, default=1800, help="stop the never-analysed run after this many seconds"
    )
    args = parser.parse_args()
    as_of = date.today()
    name = args.database or f"bench_mix_{args.creators}"
    params = {"as_of": as_of, "window": WINDOW}

    print(f"diversification benchmark: {args.creators:,} creators, window {WINDOW} days, as of {as_of}", flush=True)
    started = time.perf_counter()
    url, counts = load(name, args.creators, args.days, as_of)
    line("load (COPY), database " + name, f"{time.perf_counter() - started:8.1f} s  {counts}")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(FLOOR_TABLE))
    line("first read of the loaded tables (hint bits; untimed)", f"{first_touch(url):8.1f} s")
    line("tables never analysed before the first run", ", ".join(never_analysed(url)))

    def product(timeout=None):
        return run_child(__file__, url, as_of.isoformat(), timeout=timeout)

    def snapshot_counts() -> tuple[int, object]:
        with engine.connect() as conn:
            return (
                conn.execute(text("SELECT count(*) FROM diversification_snapshots")).scalar(),
                conn.execute(text("SELECT now()")).scalar(),
            )

    print("never-analysed data:", flush=True)
    fresh, fresh_kb, output = product(args.never_analysed_timeout)
    line("product: recompute, whole roster", f"{seconds_text(fresh)}  {rss_text(fresh_kb)}")
    line("  result", output)
    fresh_floor, rows = floor_statement(engine, floor_write(), params)
    line("floor: one statement, written", f"{fresh_floor:8.2f} s  ({rows:,} rows)")
    line("ratio never-analysed recompute / floor", ratio_text(fresh, fresh_floor))
    release_autovacuum(url)

    line("ANALYZE (whole database)", f"{analyse(url):8.2f} s")
    print("analysed data:", flush=True)
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE floor_mix, diversification_snapshots"))
    floor_seconds, rows = floor_statement(engine, floor_write(), params)
    line("floor: full write", f"{floor_seconds:8.2f} s  ({rows:,} rows)")
    full, full_kb, output = product()
    line("product: recompute from an empty snapshot table", f"{full:8.2f} s  peak RSS {full_kb / 1024:.0f} MB")
    line("  result", output)
    read_seconds, _ = floor_statement(engine, read_only(FLOOR_SELECT, ["creator_id", *COLUMNS]), params)
    line("floor: the same SELECT, read only", f"{read_seconds:8.2f} s")
    again_floor, again_rows = floor_statement(engine, floor_write(), params)
    line("floor: the write again, nothing changed", f"{again_floor:8.2f} s  ({again_rows:,} rows)")
    before, since = snapshot_counts()
    again, again_kb, output = product()
    line("product: re-run, nothing changed", f"{again:8.2f} s  peak RSS {again_kb / 1024:.0f} MB")
    line("  result", output)
    with engine.connect() as conn:
        written = conn.execute(
            text("SELECT count(*) FROM diversification_snapshots WHERE computed_at >= :since"), {"since": since}
        ).scalar()
    after, _ = snapshot_counts()
    line("  snapshots written by the re-run (counted in the table)", f"{written} (rows {before:,} -> {after:,})")
    with engine.connect() as conn:
        agree = conn.execute(
            text(
                "SELECT count(*) FILTER (WHERE f.hhi = s.hhi AND f.risk_level = s.risk_level::text "
                "AND f.total = s.total), count(*) FROM floor_mix f JOIN diversification_snapshots s USING (creator_id)"
            )
        ).one()
    line("floor agrees with the product (HHI, risk level, total)", f"{agree[0]:,} of {agree[1]:,} creators")
    print("ratios:", flush=True)
    line("recompute / floor (target <= 2x)", f"{full / floor_seconds:8.2f}x")
    line("unchanged re-run / read-only floor", f"{again / read_seconds:8.2f}x")
    line("peak RSS of the recompute process", f"{max(fresh_kb, full_kb, again_kb) / 1024:8.0f} MB")
    engine.dispose()
    if not args.keep:
        drop_database(name)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], date.fromisoformat(sys.argv[3]))
    else:
        main()
