"""CPU time of the income-mix recompute against its read-only floor, on a kept benchmark database.

    .venv/bin/python bench/diversification.py --creators 10000 --database bench_mix_cpu --keep
    .venv/bin/python bench/diversification_cpu.py --database bench_mix_cpu --runs 3 [--empty] [--code DIR]

On a machine shared with other work a recompute's round trips wait for the CPU once each and the
floor's one statement once, so wall-clock ratios swing with the load. This reports what the work
costs instead: the CPU time of the PostgreSQL backend serving the connection (read from
`/proc/<pid>/stat`, so PostgreSQL must run on this machine) plus the recomputing process's own,
for the product's recompute of the whole roster (chunk by chunk, a commit after each, as `agency
recompute diversification` runs it), and the backend's CPU time for the floor's SELECT
(`bench/diversification.py`, read only). `--empty` empties the snapshots before each recompute
(a first write); otherwise the snapshots are current and nothing is written. `--code DIR` imports
the `agency` package from DIR (an export of another commit) to measure that code the same way.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The child imports the package from `--code` (passed on as its fourth argument), the parent from here.
sys.path.insert(0, sys.argv[4] if sys.argv[1:2] == ["--child"] else str(ROOT))

import psycopg  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.orm import configure_mappers  # noqa: E402

from agency.core.config import Config  # noqa: E402
from agency.core.database import Database  # noqa: E402
from agency.money.diversification import MixSettings, recompute_diversification  # noqa: E402
from bench.common import cpu_seconds, read_only  # noqa: E402
from bench.diversification import COLUMNS, FLOOR_SELECT  # noqa: E402


def child(url: str, empty: bool) -> None:
    config = Config.from_env({}, database_url=url, secret_key="bench")
    database = Database(url)
    configure_mappers()
    with database.session_scope() as session:
        if empty:
            session.execute(text("TRUNCATE diversification_snapshots"))
            session.commit()
        pid = session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
        server, own, started = cpu_seconds(pid), time.process_time(), time.perf_counter()
        result = recompute_diversification(
            db_session=session,
            settings=MixSettings.from_config(config, 90),
            as_of=date.today(),
            chunk_size=config.recompute_chunk_size,
            commit=session.commit,
        )
        wall = time.perf_counter() - started
        server, own = cpu_seconds(pid) - server, time.process_time() - own
    database.dispose()
    print(f"{wall:.3f} {server:.2f} {own:.3f} {result.written}")


def floor_cpu(url: str) -> tuple[float, float]:
    sql = read_only(FLOOR_SELECT, ["creator_id", *COLUMNS]).replace(":as_of", "%(as_of)s::date")
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        for setting in ("jit = off", "enable_nestloop = off", "work_mem = '256MB'"):  # as floor_statement
            conn.execute(f"SET {setting}")
        server, started = cpu_seconds(pid), time.perf_counter()
        conn.execute(sql.replace(":window", "%(window)s"), {"as_of": date.today(), "window": 90}).fetchall()
        return time.perf_counter() - started, cpu_seconds(pid) - server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--empty", action="store_true", help="empty the snapshots before each recompute")
    parser.add_argument("--code", default=str(ROOT), help="import the agency package from this directory")
    args = parser.parse_args()
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{args.database}"
    for run in range(1, args.runs + 1):
        command = [sys.executable, __file__, "--child", url, "empty" if args.empty else "current", args.code]
        wall, server, own, written = subprocess.run(command, capture_output=True, text=True, check=True).stdout.split()
        floor_wall, floor_server = floor_cpu(url)
        print(
            f"run {run}: recompute wall {float(wall):.2f} s, CPU {float(server):.2f} s server + {float(own):.2f} s "
            f"own ({written} written); floor wall {floor_wall:.2f} s, CPU {floor_server:.2f} s server; "
            f"CPU ratio {(float(server) + float(own)) / floor_server:.2f}x",
            flush=True,
        )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], sys.argv[3] == "empty")
    else:
        main()
