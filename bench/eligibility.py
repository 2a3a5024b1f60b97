"""Eligibility benchmark: the project's full recompute against a hand-written SQL floor.

    .venv/bin/python bench/eligibility.py --creators 100000 --days 30

(a) `recompute_eligibility` over every shipped programme (10 rule versions, per-criterion details,
forecasts, change-only writes); (b) the floor: one SQL statement computing latest followers and
30-day views per creator and upserting a yes/no row for two programmes. Then the recompute of the
unchanged roster (rows written), the metrics import against PostgreSQL COPY of the same rows, and
the import's peak RSS at two file sizes (in subprocesses).
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from agency.core.database import make_engine
from agency.metrics.service import import_metrics
from agency.programmes.catalogue import seed_catalogue
from agency.programmes.eligibility import recompute_eligibility
from bench.common import scratch_database, timed  # noqa: E402

AS_OF = date(2026, 6, 30)

FLOOR_SQL = """
CREATE TABLE IF NOT EXISTS floor_eligibility (creator_id int, program text, eligible boolean,
                                              PRIMARY KEY (creator_id, program));
WITH latest AS (
    SELECT DISTINCT ON (s.account_id) a.creator_id, s.followers
    FROM metric_snapshots s JOIN platform_accounts a ON a.id = s.account_id
    WHERE s.day <= :as_of AND a.platform = 'tiktok'
    ORDER BY s.account_id, s.day DESC
), views AS (
    SELECT a.creator_id, SUM(s.views) AS views
    FROM metric_snapshots s JOIN platform_accounts a ON a.id = s.account_id
    WHERE s.day > :as_of - 30 AND s.day <= :as_of AND a.platform = 'tiktok'
    GROUP BY a.creator_id
), features AS (
    SELECT c.id, COALESCE(l.followers, 0) AS followers, COALESCE(v.views, 0) AS views
    FROM creators c LEFT JOIN latest l ON l.creator_id = c.id LEFT JOIN views v ON v.creator_id = c.id
)
INSERT INTO floor_eligibility (creator_id, program, eligible)
SELECT id, 'fund', followers >= 10000 AND views >= 100000 FROM features
UNION ALL
SELECT id, 'live', followers >= 1000 FROM features
ON CONFLICT (creator_id, program) DO UPDATE SET eligible = EXCLUDED.eligible
"""


def generate(url: str, creators: int, days: int, seed: int = 1) -> None:
    """Creators with one TikTok account each and `days` daily snapshots, loaded with COPY."""
    rng = random.Random(seed)
    engine = create_engine(url)
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        countries = ["FR", "US", "GB", "DE", "JP", "KR", "BR", "ES"]
        with cur.copy(
            "COPY creators (id, display_name, legal_name, date_of_birth, country, niche, languages, "
            "status, guideline_standing, parental_agreement_on_file, notes, version) FROM STDIN"
        ) as copy:
            for i in range(1, creators + 1):
                dob = AS_OF - timedelta(days=rng.randint(14 * 365, 40 * 365))
                copy.write_row(
                    (i, f"Creator {i}", "", dob, rng.choice(countries), "other", "[]", "active", "good", False, "", 1)
                )
        with cur.copy("COPY platform_accounts (id, creator_id, platform, handle, account_type) FROM STDIN") as copy:
            for i in range(1, creators + 1):
                copy.write_row((i, i, "tiktok", f"h{i}", "personal"))
        with cur.copy(
            "COPY metric_snapshots (account_id, day, followers, views, likes, comments, shares, videos, "
            "qualified_videos, live_hours, watch_hours, shorts_views) FROM STDIN"
        ) as copy:
            for i in range(1, creators + 1):
                followers = rng.randint(100, 30_000)
                growth = rng.randint(-20, 120)
                for d in range(days):
                    followers = max(0, followers + growth + rng.randint(-30, 30))
                    copy.write_row(
                        (
                            i,
                            AS_OF - timedelta(days=days - 1 - d),
                            followers,
                            rng.randint(0, followers // 2 + 1),
                            0,
                            0,
                            0,
                            1,
                            1,
                            0,
                            0,
                            0,
                        )
                    )
        cur.execute("SELECT setval('creators_id_seq', %s)", (creators,))
        cur.execute("SELECT setval('platform_accounts_id_seq', %s)", (creators,))
        cur.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
        engine.dispose()


def import_csv(path: Path, creators: int, start: date, days: int) -> int:
    rows = 0
    with path.open("w") as handle:
        handle.write("account_id,day,followers,views\n")
        for i in range(1, creators + 1):
            for d in range(days):
                handle.write(f"{i},{start + timedelta(days=d)},{1000 + d},{d * 3}\n")
                rows += 1
    return rows


def run_import(url: str, path: Path) -> None:
    engine = make_engine(url)
    with Session(engine) as session, path.open("rb") as handle:
        report = import_metrics(db_session=session, stream=handle, fmt="csv", today=date(2100, 1, 1))
        session.commit()
    assert report.committed, report.as_dict()
    # VmHWM, not ru_maxrss: the latter is inherited from the (large) parent across exec.
    peak = next(line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith("VmHWM"))
    print(f"peak_rss_kb={peak.split()[1]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creators", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument(
        "--import-rows",
        type=int,
        nargs=2,
        default=[10_000, 100_000],
        metavar=("SMALL", "LARGE"),
        help="rows for the two import RSS runs",
    )
    args = parser.parse_args()
    if os.environ.get("BENCH_IMPORT_ONLY"):
        run_import(os.environ["BENCH_IMPORT_ONLY"], Path(args.import_path))
        return

    print(f"eligibility benchmark: {args.creators:,} creators x {args.days} days")
    url = scratch_database("agency_bench_eligibility")
    results: dict[str, float] = {}
    with timed("generate (COPY)", results):
        generate(url, args.creators, args.days)
    engine = make_engine(url)
    with Session(engine) as session:
        seed_catalogue(db_session=session)
        session.commit()
    with timed("(a) project recompute, all programmes", results), Session(engine) as session:
        first = recompute_eligibility(db_session=session, as_of=AS_OF)
        session.commit()
    with timed("(b) floor: one SQL statement, 2 programmes", results), engine.begin() as conn:
        conn.execute(text(FLOOR_SQL.split(";")[0]))
        conn.execute(text(FLOOR_SQL.split(";", 1)[1]), {"as_of": AS_OF})
    with timed("(a') recompute of the unchanged roster", results), Session(engine) as session:
        again = recompute_eligibility(db_session=session, as_of=AS_OF)
        session.commit()
    print(
        f"  evaluations: {first.evaluated:,} (written {first.inserted:,}); unchanged re-run wrote "
        f"{again.inserted + again.updated + again.removed:,} rows"
    )
    project = results["(a) project recompute, all programmes"]
    floor = results["(b) floor: one SQL statement, 2 programmes"]
    print(f"  ratio recompute / floor: {project / floor:.2f}x (per programme: {project / 10 / (floor / 2):.2f}x)")

    # Import throughput against COPY of the same rows.
    import_days = max(1, args.import_rows[1] // args.creators) if args.creators else 1
    n_creators = min(args.creators, args.import_rows[1])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "metrics.csv"
        rows = import_csv(path, n_creators, AS_OF + timedelta(days=1), import_days)
        with (
            timed(f"metrics import of {rows:,} rows (project)", results),
            Session(engine) as session,
            path.open("rb") as fh,
        ):
            report = import_metrics(db_session=session, stream=fh, fmt="csv", today=date(2100, 1, 1))
            session.rollback()
        assert report.committed, report.as_dict()
        raw = engine.raw_connection()
        try:
            with timed(f"COPY of the same {rows:,} rows (floor)", results):
                cur = raw.cursor()
                cur.execute("CREATE TEMP TABLE copy_floor (account_id int, day date, followers bigint, views bigint)")
                with path.open() as fh, cur.copy("COPY copy_floor FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
                    while chunk := fh.read(1 << 20):
                        copy.write(chunk)
                cur.execute(
                    "INSERT INTO metric_snapshots (account_id, day, followers, views, likes, comments, "
                    "shares, videos, qualified_videos, live_hours, watch_hours, shorts_views) "
                    "SELECT account_id, day, followers, views, 0, 0, 0, 0, 0, 0, 0, 0 FROM copy_floor"
                )
            raw.rollback()
        finally:
            raw.close()
        copy_rate = rows / results[f"COPY of the same {rows:,} rows (floor)"]
        import_rate = rows / results[f"metrics import of {rows:,} rows (project)"]
        print(
            f"  import {import_rate:,.0f} rows/s vs COPY {copy_rate:,.0f} rows/s: {import_rate / copy_rate:.2f} of COPY"
        )

        for size in args.import_rows:
            size_path = Path(tmp) / f"rss_{size}.csv"
            days = max(1, size // n_creators)
            import_csv(size_path, min(n_creators, size), AS_OF + timedelta(days=40), days)
            out = subprocess.run(
                [sys.executable, __file__, "--import-path", str(size_path)],
                env=os.environ | {"BENCH_IMPORT_ONLY": url},
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            print(f"  peak RSS importing {min(n_creators, size) * days:,} rows: {int(out.split('=')[1]) / 1024:.0f} MB")
            with engine.begin() as conn:
                conn.execute(text("DELETE FROM metric_snapshots WHERE day >= :d"), {"d": AS_OF + timedelta(days=40)})
    engine.dispose()


if __name__ == "__main__":
    if "--import-path" in sys.argv:
        index = sys.argv.index("--import-path")
        path = sys.argv[index + 1]
        run_import(os.environ["BENCH_IMPORT_ONLY"], Path(path))
    else:
        main()
