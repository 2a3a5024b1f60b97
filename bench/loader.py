"""A roster for benchmarks, loaded with PostgreSQL COPY (psycopg's copy API) into a database of its own.

    .venv/bin/python bench/loader.py --creators 100000 --days 30 --database bench_100k

`load(...)` drops and creates the database, migrates it, creates the monthly partitions of the
metric snapshots the days need, then copies in: managers, N creators (ages 14 to 40, eight
countries, a few in poor standing, some minors with a parental agreement), their accounts (every
creator on TikTok, 60% on YouTube, 10% with a second TikTok account, 5% on Instagram), one
snapshot per account and day for `days` days ending on `as_of`, exchange rates, revenue records
(platform income and off-platform income such as merch, courses and coaching, in four currencies,
a few refunds), and a deal with an overdue deliverable for one creator in thirteen.

The data is left exactly as a bulk import leaves it: never analysed, with autovacuum switched off
on the loaded tables (so the first benchmark run sees the planner's never-analysed state however
long it takes; `release_autovacuum` gives autovacuum back).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text  # noqa: E402

from agency.core.users.service import hash_password  # noqa: E402
from agency.metrics.partitions import ensure_partitions  # noqa: E402
from bench.common import scratch_database  # noqa: E402

COUNTRIES = ["US", "GB", "DE", "FR", "JP", "KR", "BR", "ES"]
NICHES = ["fashion", "cooking", "gaming", "tech", "other"]
PLATFORM_SOURCES = [
    ("creator_rewards", "tiktok"),
    ("live_gifts", "tiktok"),
    ("platform_ads", "youtube"),
    ("brand_deal", "instagram"),
    ("affiliate", "tiktok"),
]
OFF_PLATFORM_SOURCES = ["merch", "courses", "coaching", "brand_deal"]
RATES = {"USD": Decimal("0.92"), "GBP": Decimal("1.17"), "JPY": Decimal("0.0061")}
CURRENCIES = ["EUR", "EUR", "USD", "GBP", "JPY"]
LOADED_TABLES = (
    "users",
    "creators",
    "platform_accounts",
    "metric_snapshots",
    "fx_rates",
    "revenue_records",
    "brands",
    "deals",
    "deliverables",
)


def _month(day: date) -> date:
    return day.replace(day=1)


def _leaf_tables(cur) -> list[str]:
    """The loaded tables, with the partitions of the metric snapshots in place of their parent."""
    cur.execute("SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = 'metric_snapshots'::regclass")
    partitions = [row[0] for row in cur.fetchall()]
    return [t for t in LOADED_TABLES if t != "metric_snapshots" or not partitions] + partitions


def load(
    name: str,
    creators: int,
    days: int = 30,
    as_of: date | None = None,
    records_per_creator: int = 10,
    seed: int = 1,
) -> tuple[str, dict]:
    """Create database `name` with the roster; returns its URL and row counts."""
    as_of = as_of or date.today()
    url = scratch_database(name)
    rng = random.Random(seed)
    first_day = as_of - timedelta(days=days - 1)
    revenue_days = max(days, 180)
    counts: dict[str, int] = {}
    engine = create_engine(url)
    with engine.begin() as conn:
        months = (as_of.year - first_day.year) * 12 + as_of.month - first_day.month
        ensure_partitions(conn, _month(first_day), months_ahead=months + 1)
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        for table in _leaf_tables(cur):
            cur.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")
        managers = max(1, creators // 100)
        password = hash_password("bench-password-123")
        with cur.copy("COPY users (id, email, full_name, password_hash, role, timezone, is_active) FROM STDIN") as copy:
            for m in range(1, managers + 1):
                copy.write_row((m, f"m{m}@bench.example", f"Manager {m}", password, "manager", "UTC", True))
        counts["managers"] = managers

        accounts: list[tuple[int, int, str]] = []  # (account id, creator id, platform)
        with cur.copy(
            "COPY creators (id, display_name, legal_name, date_of_birth, country, niche, languages, manager_id, "
            "status, guideline_standing, parental_agreement_on_file, notes, version) FROM STDIN"
        ) as copy:
            for i in range(1, creators + 1):
                dob = as_of - timedelta(days=rng.randint(14 * 365, 40 * 365))
                standing = "good" if rng.random() > 0.03 else "warning"
                copy.write_row(
                    (
                        i,
                        f"Creator {i}",
                        "",
                        dob,
                        rng.choice(COUNTRIES),
                        rng.choice(NICHES),
                        "[]",
                        rng.randint(1, managers),
                        "active",
                        standing,
                        rng.random() < 0.3,
                        "",
                        1,
                    )
                )
        counts["creators"] = creators
        with cur.copy("COPY platform_accounts (id, creator_id, platform, handle, account_type) FROM STDIN") as copy:
            for i in range(1, creators + 1):
                platforms = ["tiktok"]
                if rng.random() < 0.6:
                    platforms.append("youtube")
                if rng.random() < 0.1:
                    platforms.append("tiktok")
                if rng.random() < 0.05:
                    platforms.append("instagram")
                for n, platform in enumerate(platforms):
                    account_id = len(accounts) + 1
                    accounts.append((account_id, i, platform))
                    kind = "personal" if rng.random() < 0.85 else "business"
                    copy.write_row((account_id, i, platform, f"c{i}_{n}", kind))
        counts["accounts"] = len(accounts)

        snapshots = 0
        with cur.copy(
            "COPY metric_snapshots (account_id, day, followers, views, likes, comments, shares, videos, "
            "qualified_videos, live_hours, watch_hours, shorts_views) FROM STDIN"
        ) as copy:
            day_list = [first_day + timedelta(days=d) for d in range(days)]
            for account_id, _creator, platform in accounts:
                followers = int(rng.lognormvariate(8.5, 1.3))
                growth = rng.randint(-20, 150)
                daily_views = max(1, followers // rng.randint(1, 8))
                for day in day_list:
                    followers = max(0, followers + growth + rng.randint(-30, 30))
                    videos = 1 if rng.random() < 0.3 else 0
                    youtube = platform == "youtube"
                    watch, shorts, qualified = (followers // 50, daily_views, 0) if youtube else (0, 0, videos)
                    row = (account_id, day, followers, daily_views, 0, 0, 0, videos, qualified, 0, watch, shorts)
                    copy.write_row(row)
                    snapshots += 1
        counts["snapshots"] = snapshots

        with cur.copy("COPY fx_rates (day, base, quote, rate, source) FROM STDIN") as copy:
            for currency, rate in RATES.items():
                for d in range(revenue_days + 10):
                    jitter = Decimal(str(1 + rng.uniform(-0.02, 0.02)))
                    copy.write_row(
                        (as_of - timedelta(days=d), currency, "EUR", (rate * jitter).quantize(Decimal("1E-8")), "bench")
                    )
        records = 0
        with cur.copy(
            "COPY revenue_records (creator_id, earned_on, source, platform, amount, currency, is_refund, "
            "external_ref, notes, version) FROM STDIN"
        ) as copy:
            for i in range(1, creators + 1):
                for _ in range(rng.randint(0, 2 * records_per_creator)):
                    records += 1
                    if rng.random() < 0.7:
                        source, platform = rng.choice(PLATFORM_SOURCES)
                    else:
                        source, platform = rng.choice(OFF_PLATFORM_SOURCES), None
                    refund = rng.random() < 0.02
                    amount = Decimal(rng.randint(100, 500_000)) / 100
                    copy.write_row(
                        (
                            i,
                            as_of - timedelta(days=rng.randint(0, revenue_days)),
                            source,
                            platform,
                            -amount if refund else amount,
                            rng.choice(CURRENCIES),
                            refund,
                            f"b{records}",
                            "",
                            1,
                        )
                    )
        counts["revenue_records"] = records

        cur.execute(
            "INSERT INTO brands (id, name, industry, website, contacts, notes, version) "
            "VALUES (1, 'Brand', '', '', '[]', '', 1)"
        )
        deals = 0
        with cur.copy(
            "COPY deals (id, creator_id, brand_id, title, source, fee_amount, fee_currency, "
            "commission_percent, stage, notes, version) FROM STDIN"
        ) as copy:
            for i in range(1, creators + 1, 13):
                deals += 1
                copy.write_row((i, i, 1, "Deal", "direct", "100.00", "EUR", "20.00", "in_progress", "", 1))
        with cur.copy(
            "COPY deliverables (deal_id, kind, platform, due_date, status, published_url, notes) FROM STDIN"
        ) as copy:
            for i in range(1, creators + 1, 13):
                copy.write_row((i, "video", "tiktok", as_of - timedelta(days=2), "planned", "", ""))
        counts["deals"] = deals
        for table in ("users", "creators", "platform_accounts", "deals", "brands"):
            cur.execute(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))")
        raw.commit()
    finally:
        raw.close()
        engine.dispose()
    return url, counts


def release_autovacuum(url: str) -> None:
    """Give autovacuum back the tables `load` took it from."""
    engine = create_engine(url)
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        for table in _leaf_tables(cur):
            cur.execute(f"ALTER TABLE {table} RESET (autovacuum_enabled)")
        raw.commit()
    finally:
        raw.close()
        engine.dispose()


def first_touch(url: str) -> float:
    """Read every loaded table once (untimed, no statistics gathered): the first reader of rows
    just written by COPY sets their hint bits and writes those pages back, a one-off cost that
    would otherwise fall on whichever run comes first, product or floor. Returns the seconds."""
    engine = create_engine(url)
    started = time.perf_counter()
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        for table in _leaf_tables(cur):
            cur.execute(f"SELECT count(*) FROM {table}")
        raw.commit()
    finally:
        raw.close()
        engine.dispose()
    return time.perf_counter() - started


def analyse(url: str) -> float:
    """ANALYZE the whole database; returns the seconds it took."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    started = time.perf_counter()
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()
    return time.perf_counter() - started


def never_analysed(url: str) -> list[str]:
    """Loaded tables the planner has no statistics for (reltuples < 0 means never analysed)."""
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT relname FROM pg_class WHERE relname = ANY(:names) AND reltuples < 0 ORDER BY relname"),
            {"names": list(LOADED_TABLES) + ["metric_snapshots_default"]},
        ).scalars()
        names = list(rows)
    engine.dispose()
    return names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creators", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--as-of", type=date.fromisoformat, default=None)
    parser.add_argument("--database", default=None, help="database name (default bench_<creators>)")
    args = parser.parse_args()
    name = args.database or f"bench_{args.creators}"
    started = time.perf_counter()
    url, counts = load(name, args.creators, args.days, args.as_of)
    print(f"loaded {name} in {time.perf_counter() - started:.1f} s: {counts}")
    print(url)


if __name__ == "__main__":
    main()
