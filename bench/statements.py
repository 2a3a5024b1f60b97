"""Where a recompute's time goes: every SQL statement of one chunk, timed from the client.

    .venv/bin/python bench/statements.py --database bench_100000 [--first-id 1 --last-id 5000]

Against a database a benchmark kept (`--keep`), recomputes one chunk of creators three ways and
lists the statements by total time (grouped by their first words), with the time spent in Python
between statements: eligibility from no stored evaluations (the chunk's rows deleted first, in a
transaction rolled back at the end), eligibility unchanged, and the income mix as stored, then
unchanged.
Nothing is left changed: each run is rolled back.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from agency.core.config import Config  # noqa: E402
from agency.core.database import Database  # noqa: E402
from agency.money.diversification import MixSettings  # noqa: E402
from agency.money.diversification import recompute_chunk as mix_chunk  # noqa: E402
from agency.programmes.eligibility import recompute_chunk  # noqa: E402
from agency.roster.chunks import Chunk  # noqa: E402
from bench.common import BASE_URL  # noqa: E402


def shape(statement: str) -> str:
    words = re.sub(r"\s+", " ", statement).strip()
    words = re.sub(r"eligibility_base_[0-9a-f]+", "eligibility_base_*", words)
    words = re.sub(r"(daily_rates|diversification_fresh|alert_conditions)_[0-9a-f]+", r"\1_*", words)
    return words[:110]


def profile(database: Database, label: str, work, prepare=None) -> None:
    timings: dict[str, list[float]] = defaultdict(list)
    started: dict[int, float] = {}

    def before(conn, cursor, statement, parameters, context, executemany):
        started[id(cursor)] = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany):
        timings[shape(statement)].append(time.perf_counter() - started.pop(id(cursor)))

    session = database.session_factory()
    if prepare is not None:
        prepare(session)
    event.listen(database.engine, "before_cursor_execute", before)
    event.listen(database.engine, "after_cursor_execute", after)
    t0 = time.perf_counter()
    try:
        work(session)
        total = time.perf_counter() - t0
    finally:
        session.rollback()
        session.close()
        event.remove(database.engine, "before_cursor_execute", before)
        event.remove(database.engine, "after_cursor_execute", after)
    in_sql = sum(sum(v) for v in timings.values())
    print(f"{label}: {total:.2f} s, of which SQL {in_sql:.2f} s, Python {total - in_sql:.2f} s")
    for statement, values in sorted(timings.items(), key=lambda kv: -sum(kv[1]))[:12]:
        print(f"  {sum(values):7.2f} s  x{len(values):<4} {statement}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--first-id", type=int, default=1)
    parser.add_argument("--last-id", type=int, default=5000)
    parser.add_argument("--as-of", type=date.fromisoformat, default=date.today())
    args = parser.parse_args()
    url = make_url(BASE_URL).set(database=args.database).render_as_string(hide_password=False)
    config = Config.from_env({}, database_url=url, secret_key="bench")
    database = Database(url)
    chunk = Chunk(first_id=args.first_id, last_id=args.last_id)

    def from_empty(session):
        session.execute(
            text("DELETE FROM eligibility_evaluations WHERE creator_id BETWEEN :a AND :b"),
            {"a": chunk.first_id, "b": chunk.last_id},
        )
        recompute_chunk(session, chunk, args.as_of)

    profile(database, f"eligibility, creators {chunk.first_id}-{chunk.last_id}, nothing stored", from_empty)
    profile(database, "eligibility, unchanged", lambda s: recompute_chunk(s, chunk, args.as_of))
    settings = MixSettings.from_config(config)
    profile(database, "income mix, as stored", lambda s: mix_chunk(s, chunk, args.as_of, settings))
    profile(
        database,
        "income mix, unchanged (after one run in the same transaction)",
        lambda s: mix_chunk(s, chunk, args.as_of, settings),
        prepare=lambda s: mix_chunk(s, chunk, args.as_of, settings),
    )
    database.dispose()


if __name__ == "__main__":
    main()
