"""Eligibility benchmark: the product's recompute against a hand-written SQL floor, in the same run.

    .venv/bin/python bench/eligibility.py --creators 100000 --days 30 [--redis redis://127.0.0.1:6379/0]

Loads a roster with COPY (bench/loader.py) into its own database (`bench_<creators>`), seeds the
shipped programmes, and measures:

1. On the freshly loaded, never-analysed data: `agency recompute eligibility` (the CLI, in a child
   process under `/usr/bin/time -v`, for its peak RSS) and the floor statement.
2. After ANALYZE: the floor (one statement computing, for every creator and every rule version in
   force, the per-account features, every criterion's pass flag and actual value, the verdict,
   near-threshold and a followers forecast, keeping one account per platform, and writing them
   into a table with one INSERT .. ON CONFLICT DO UPDATE .. WHERE IS DISTINCT FROM); the product's
   full recompute from empty tables; the same SELECT without the write (the read-only floor); the
   product's recompute of the unchanged roster and the rows it wrote (counted in the database).
3. With `--redis`: a full recompute fanned out by the product's job (`recompute_eligibility`,
   one `recompute_eligibility_chunk` job per chunk on the `recompute` queue) and run by 1, then 2,
   burst worker processes (`agency worker --burst --queues recompute` under `/usr/bin/time -v`):
   wall time and the peak RSS of each worker (its forked work horses included). With
   `--never-analysed-only` (large rosters), step 2 is skipped and the worker runs follow step 1.

Prints every time, the ratios and the peak RSS; asserts nothing about time. `--keep` keeps the
database (dropped otherwise).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
import uuid
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rq import Queue  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

import agency.registry  # noqa: E402,F401  (registers the job functions)
from agency.core.config import Config  # noqa: E402
from agency.core.database import Database  # noqa: E402
from agency.core.jobs.models import JobRecord, JobStatus  # noqa: E402
from agency.core.jobs.service import execute_job, redis_connection  # noqa: E402
from agency.programmes.catalogue import seed_catalogue  # noqa: E402
from agency.programmes.eligibility import recompute_eligibility  # noqa: E402
from agency.programmes.features import EngineSettings  # noqa: E402
from bench.common import drop_database, peak_kb, run_child  # noqa: E402
from bench.loader import analyse, load, never_analysed, release_autovacuum  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
AGENCY = str(ROOT / ".venv" / "bin" / "agency")
MARGIN = 0.9
STALE_DAYS = 7
TREND_DAYS = 28
HORIZON_DAYS = EngineSettings().horizon_days  # the product's furthest forecast

# --- the floor --------------------------------------------------------------------------------


def _metric_criteria(criteria: list[dict]):
    for criterion in criteria:
        if criterion["kind"] == "metric":
            yield criterion
        elif criterion["kind"] == "any_of":
            yield from _metric_criteria(criterion["criteria"])


def _feature(criterion: dict) -> str:
    if criterion["aggregate"] == "latest":
        return f"{criterion['metric']}_latest"
    return f"{criterion['metric']}_{criterion['aggregate']}_{criterion['window_days']}"


def _quoted(values) -> str:
    return ", ".join("'" + str(v).replace("'", "''") + "'" for v in values)


def _criterion_sql(criterion: dict) -> tuple[str, str, str]:
    """(pass, actual, near) SQL of one criterion over creator `c` and account features `f`."""
    kind = criterion["kind"]
    if kind == "metric":
        feature = _feature(criterion)
        actual = f"f.{feature}"
        passed = f"{actual} >= {criterion['min']}"
        if criterion["aggregate"] == "latest":
            passed += f" AND f.{criterion['metric']}_day > :as_of - {STALE_DAYS}"
        return passed, actual, f"{actual} >= {MARGIN * criterion['min']}"
    if kind == "age":
        by_country = criterion.get("by_country") or {}
        minimum = "CASE c.country " + " ".join(f"WHEN '{k}' THEN {v}" for k, v in by_country.items())
        minimum = f"{minimum} ELSE {criterion['min']} END" if by_country else str(criterion["min"])
        age = "date_part('year', age(:as_of, c.date_of_birth))"
        passed = f"{age} >= {minimum}"
        if criterion.get("parental_agreement_suffices"):
            passed = f"({passed} OR c.parental_agreement_on_file)"
        return passed, age, "false"
    if kind == "country":
        return f"c.country IN ({_quoted(criterion['in'])})", "NULL", "false"
    if kind == "account_type":
        return f"f.account_type IN ({_quoted(criterion['in'])})", "NULL", "false"
    if kind == "standing":
        return "c.guideline_standing::text = 'good'", "NULL", "false"
    if kind == "any_of":
        parts = [_criterion_sql(c) for c in criterion["criteria"]]
        return (
            "(" + " OR ".join(f"COALESCE({p}, false)" for p, _, _ in parts) + ")",
            "NULL",
            "(" + " OR ".join(f"COALESCE({n}, false)" for _, _, n in parts) + ")",
        )
    raise ValueError(f"unknown criterion kind {kind}")


def rule_targets(conn, as_of: date) -> list[dict]:
    """Rule versions in force, with the countries each applies to (a scoped version claims its
    countries, the newest unscoped version covers the others)."""
    rows = conn.execute(
        text(
            "SELECT r.id, r.program_id, p.platform::text AS platform, r.criteria, r.country_scope "
            "FROM rule_versions r JOIN programs p ON p.id = r.program_id "
            "WHERE r.effective_from <= :as_of AND (r.effective_to IS NULL OR r.effective_to > :as_of) "
            "ORDER BY r.program_id, r.version DESC"
        ),
        {"as_of": as_of},
    ).mappings()
    by_program: dict[int, list] = {}
    for row in rows:
        by_program.setdefault(row["program_id"], []).append(row)
    targets = []
    for versions in by_program.values():
        claimed: list[str] = []
        for rule in versions:
            if rule["country_scope"]:
                countries = [c for c in rule["country_scope"] if c not in claimed]
                claimed += countries
                targets.append(dict(rule) | {"scope": f"c.country IN ({_quoted(countries)})"})
        unscoped = next((r for r in versions if not r["country_scope"]), None)
        if unscoped is not None:
            scope = f"c.country NOT IN ({_quoted(claimed)})" if claimed else "true"
            targets.append(dict(unscoped) | {"scope": scope})
    return targets


def floor_select(targets: list[dict]) -> str:
    """One SELECT: every creator x rule version in force, one account per platform (eligible first,
    then the most criteria passed), with every criterion's flag and actual value."""
    metrics = {}
    for target in targets:
        for criterion in _metric_criteria(target["criteria"]):
            metrics[_feature(criterion)] = criterion
    horizon = max([c.get("window_days", 0) for c in metrics.values()] + [STALE_DAYS, TREND_DAYS])
    columns = []
    for name, criterion in sorted(metrics.items()):
        metric = criterion["metric"]
        if criterion["aggregate"] == "latest":
            columns += [
                f"(array_agg(s.{metric} ORDER BY s.day DESC))[1] AS {name}",
                f"max(s.day) AS {metric}_day",
                f"regr_slope(s.{metric}, s.day - :as_of) FILTER (WHERE s.day > :as_of - {TREND_DAYS}) "
                f"AS {metric}_slope",
            ]
        else:
            columns.append(
                f"COALESCE(sum(s.{metric}) FILTER (WHERE s.day > :as_of - {criterion['window_days']}), 0) AS {name}"
            )
    features = (
        "SELECT a.id AS account_id, a.creator_id, a.platform::text AS platform, a.account_type::text AS account_type, "
        + ", ".join(columns)
        + " FROM platform_accounts a LEFT JOIN metric_snapshots s ON s.account_id = a.id "
        f"AND s.day <= :as_of AND s.day > :as_of - {horizon} GROUP BY a.id"
    )
    selects = []
    for target in targets:
        parts = [_criterion_sql(c) for c in target["criteria"]]
        passes = [f"COALESCE({p}, false)" for p, _, _ in parts]
        eligible = " AND ".join(passes)
        near = " AND ".join(f"({p} OR COALESCE({n}, false))" for p, (_, _, n) in zip(passes, parts))
        etas = []
        for criterion in target["criteria"]:
            if criterion["kind"] == "metric" and criterion["aggregate"] == "latest":
                m, feature = criterion["metric"], _feature(criterion)
                # As the product: no forecast beyond the horizon (a slope near zero would give a
                # day count past any date, and out of an integer's range).
                days = f"ceil(({criterion['min']} - f.{feature}) / f.{m}_slope)"
                etas.append(
                    f"CASE WHEN f.{m}_slope > 0 AND f.{feature} < {criterion['min']} "
                    f"THEN CASE WHEN {days} <= {HORIZON_DAYS} THEN :as_of + {days}::int END END"
                )
        eta = f"LEAST({', '.join(etas)})" if etas else "NULL::date"
        selects.append(
            f"SELECT c.id AS creator_id, {target['program_id']} AS program_id, {target['id']} AS rule_version_id, "
            f"f.account_id, ({eligible}) AS eligible, NOT ({eligible}) AND {near} AS near, "
            f"CASE WHEN NOT ({eligible}) THEN {eta} END AS eta, "
            f"ARRAY[{', '.join(passes)}] AS passes, "
            f"ARRAY[{', '.join(f'({a})::numeric' for _, a, _ in parts)}] AS actuals, "
            f"({' + '.join(f'({p})::int' for p in passes)}) AS passed "
            f"FROM creators c LEFT JOIN features f ON f.creator_id = c.id AND f.platform = '{target['platform']}' "
            f"WHERE c.archived_at IS NULL AND {target['scope']}"
        )
    return (
        f"WITH features AS MATERIALIZED ({features}), candidates AS ({' UNION ALL '.join(selects)}) "
        "SELECT DISTINCT ON (creator_id, program_id) creator_id, program_id, rule_version_id, account_id, "
        "eligible, near, eta, passes, actuals FROM candidates "
        "ORDER BY creator_id, program_id, eligible DESC, passed DESC, account_id"
    )


FLOOR_TABLE = """
CREATE TABLE IF NOT EXISTS floor_eligibility (
    creator_id int, program_id int, rule_version_id int, account_id int, eligible boolean, near boolean,
    eta date, passes boolean[], actuals numeric[], PRIMARY KEY (creator_id, program_id))
"""
FLOOR_COLUMNS = ("rule_version_id", "account_id", "eligible", "near", "eta", "passes", "actuals")


def floor_write(select_sql: str) -> str:
    assignments = ", ".join(f"{c} = EXCLUDED.{c}" for c in FLOOR_COLUMNS)
    distinct = " OR ".join(f"floor_eligibility.{c} IS DISTINCT FROM EXCLUDED.{c}" for c in FLOOR_COLUMNS)
    return (
        f"INSERT INTO floor_eligibility (creator_id, program_id, {', '.join(FLOOR_COLUMNS)}) {select_sql} "
        f"ON CONFLICT (creator_id, program_id) DO UPDATE SET {assignments} WHERE {distinct}"
    )


def floor_read_only(select_sql: str) -> str:
    """The same SELECT without the write: every column consumed by an aggregate, nothing stored."""
    return (
        "SELECT count(*), count(*) FILTER (WHERE eligible), count(*) FILTER (WHERE near), max(eta), "
        f"sum(account_id), sum(cardinality(passes)), max(actuals), sum(rule_version_id) FROM ({select_sql}) floor"
    )


# --- measuring --------------------------------------------------------------------------------


def run_cli(url: str, as_of: date) -> tuple[float, int, str]:
    """The product's recompute in a child process under `/usr/bin/time -v`, exactly as `agency
    recompute eligibility` runs it (chunk by chunk, a commit after each): (seconds measured
    inside the child, without its start-up; peak RSS kB; the result)."""
    return run_child(__file__, url, as_of.isoformat(), env={"DATABASE_URL": url, "REDIS_URL": ""})


def child(url: str, as_of: date) -> None:
    """What `agency recompute eligibility` does (agency/programmes/cli.py), timed from inside."""
    config = Config.from_env({}, database_url=url, secret_key="bench")
    database = Database(url)
    started = time.perf_counter()
    with database.session_scope() as session:
        result = recompute_eligibility(
            db_session=session, as_of=as_of, settings=EngineSettings.from_config(config), commit=session.commit
        )
    elapsed = time.perf_counter() - started
    database.dispose()
    summary = " ".join(f"{k}={v}" for k, v in result.as_dict().items())
    print(f"{elapsed:.3f} {summary}")


def written_since(conn, since, evaluations_before: int, changes_before: int) -> dict:
    """Rows the recompute wrote, read from the tables: evaluations updated or inserted (computed_at
    after `since`), evaluations removed, history rows added."""
    updated = conn.execute(
        text("SELECT count(*) FROM eligibility_evaluations WHERE computed_at >= :since"), {"since": since}
    ).scalar()
    evaluations = conn.execute(text("SELECT count(*) FROM eligibility_evaluations")).scalar()
    changes = conn.execute(text("SELECT count(*) FROM eligibility_changes")).scalar()
    return {
        "evaluations written": updated,
        "evaluations removed": max(0, evaluations_before - evaluations),
        "history rows added": changes - changes_before,
    }


def run_workers(url: str, redis_url: str, as_of: date, workers: int) -> dict:
    """A full recompute (from empty evaluations) through the product's fan-out, run by `workers`
    burst worker processes."""
    config = Config.from_env({}, database_url=url, redis_url=redis_url, secret_key="bench")
    Queue("recompute", connection=redis_connection(redis_url)).empty()
    database = Database(url)
    with database.session_scope() as session:
        session.execute(text("TRUNCATE eligibility_evaluations, eligibility_changes"))
    with database.session_scope() as session:
        arguments = {"as_of": as_of.isoformat()}
        parent = JobRecord(id=str(uuid.uuid4()), name="recompute_eligibility", queue="recompute", arguments=arguments)
        session.add(parent)
        session.flush()
        execute_job(session, config, parent)  # the job fans out: one chunk job per id range, pushed on commit
        parent_id = parent.id
    env = os.environ | {"DATABASE_URL": url, "REDIS_URL": redis_url}
    command = ["/usr/bin/time", "-v", AGENCY, "worker", "--burst", "--queues", "recompute"]
    started = time.perf_counter()
    processes = [
        subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for _ in range(workers)
    ]
    peaks = [peak_kb(p.communicate()[1]) for p in processes]
    elapsed = time.perf_counter() - started
    with database.session_scope() as session:
        record = session.get(JobRecord, parent_id)
        status, done, total = record.status, record.progress_done, record.progress_total
        evaluations = session.execute(text("SELECT count(*) FROM eligibility_evaluations")).scalar()
    database.dispose()
    return {
        "seconds": elapsed,
        "peaks_kb": peaks,
        "finished": status is JobStatus.finished,
        "chunks": f"{done}/{total}",
        "evaluations": evaluations,
    }


def line(label: str, value: str) -> None:
    print(f"  {label:<62} {value}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creators", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--database", default=None, help="default: bench_<creators>")
    parser.add_argument("--redis", default=os.environ.get("BENCH_REDIS_URL", ""), help="run the worker measurements")
    parser.add_argument("--workers", default="1,2", help="worker counts to measure (with --redis)")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument(
        "--never-analysed-only",
        action="store_true",
        help="stop after the never-analysed run (large rosters); with --redis, the worker runs follow it",
    )
    args = parser.parse_args()
    as_of = date.today()
    name = args.database or f"bench_{args.creators}"

    print(f"eligibility benchmark: {args.creators:,} creators x {args.days} days, as of {as_of}", flush=True)
    started = time.perf_counter()
    url, counts = load(name, args.creators, args.days, as_of)
    line("load (COPY), database " + name, f"{time.perf_counter() - started:8.1f} s  {counts}")
    seed_catalogue_sql(url)
    engine = create_engine(url)
    with engine.begin() as conn:
        targets = rule_targets(conn, as_of)
        conn.execute(text(FLOOR_TABLE))
    select_sql = floor_select(targets)
    line("rule versions in force", str(len(targets)))
    line("tables never analysed before the first run", ", ".join(never_analysed(url)))

    def floor(sql: str) -> tuple[float, int]:
        t0 = time.perf_counter()
        with engine.begin() as conn:
            # The floor is the best hand-tuned statement: no JIT, and hash joins whatever the
            # statistics say (a never-analysed CTE is estimated at 200 rows: nested loops).
            conn.exec_driver_sql("SET LOCAL jit = off")
            conn.exec_driver_sql("SET LOCAL enable_nestloop = off")
            conn.exec_driver_sql("SET LOCAL work_mem = '256MB'")
            rows = conn.execute(text(sql), {"as_of": as_of}).rowcount
        return time.perf_counter() - t0, rows

    print("never-analysed data:", flush=True)
    fresh_seconds, fresh_kb, output = run_cli(url, as_of)
    line("product: full recompute", f"{fresh_seconds:8.2f} s  peak RSS {fresh_kb / 1024:.0f} MB")
    line("  result", output)
    fresh_floor, rows = floor(floor_write(select_sql))
    line("floor: one statement, all rule versions, written", f"{fresh_floor:8.2f} s  ({rows:,} rows)")
    line("ratio never-analysed full / floor", f"{fresh_seconds / fresh_floor:8.2f}x")
    release_autovacuum(url)
    if args.never_analysed_only:
        measure_workers(url, args, as_of)
        _finish(engine, name, args.keep)
        return

    line("ANALYZE (whole database)", f"{analyse(url):8.2f} s")
    print("analysed data:", flush=True)
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE floor_eligibility"))
    floor_seconds, rows = floor(floor_write(select_sql))
    line("floor: full write", f"{floor_seconds:8.2f} s  ({rows:,} rows)")
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE eligibility_evaluations, eligibility_changes"))
    full_seconds, full_kb, output = run_cli(url, as_of)
    line("product: full recompute from empty tables", f"{full_seconds:8.2f} s  peak RSS {full_kb / 1024:.0f} MB")
    line("  result", output)
    read_seconds, _ = floor(floor_read_only(select_sql))
    line("floor: the same SELECT, read only", f"{read_seconds:8.2f} s")
    unchanged_floor, unchanged_floor_rows = floor(floor_write(select_sql))
    line("floor: the write again, nothing changed", f"{unchanged_floor:8.2f} s  ({unchanged_floor_rows:,} rows)")
    with engine.connect() as conn:
        since = conn.execute(text("SELECT now()")).scalar()
        evaluations = conn.execute(text("SELECT count(*) FROM eligibility_evaluations")).scalar()
        changes = conn.execute(text("SELECT count(*) FROM eligibility_changes")).scalar()
    again_seconds, again_kb, output = run_cli(url, as_of)
    line("product: recompute of the unchanged roster", f"{again_seconds:8.2f} s  peak RSS {again_kb / 1024:.0f} MB")
    line("  result", output)
    with engine.connect() as conn:
        written = written_since(conn, since, evaluations, changes)
    line("  rows written by the unchanged re-run (counted in the tables)", str(written))
    with engine.connect() as conn:
        agree = conn.execute(
            text(
                "SELECT count(*) FILTER (WHERE f.eligible = e.eligible AND f.rule_version_id = e.rule_version_id), "
                "count(*) FROM floor_eligibility f JOIN eligibility_evaluations e USING (creator_id, program_id)"
            )
        ).one()
    line("floor agrees with the product (verdict, rule version)", f"{agree[0]:,} of {agree[1]:,} evaluations")
    print("ratios:", flush=True)
    line("full recompute / floor (target <= 2x)", f"{full_seconds / floor_seconds:8.2f}x")
    line("unchanged re-run / read-only floor (target <= 1.5x, 0 rows)", f"{again_seconds / read_seconds:8.2f}x")
    line("peak RSS of the recompute process (target < 512 MB)", f"{max(full_kb, again_kb, fresh_kb) / 1024:8.0f} MB")

    measure_workers(url, args, as_of)
    _finish(engine, name, args.keep)


def measure_workers(url: str, args, as_of: date) -> None:
    """With --redis: a full recompute through the fan-out, by each number of burst workers."""
    if not args.redis:
        return
    print(f"workers (burst, queue recompute, {args.redis}):", flush=True)
    by_count = {}
    for count in [int(n) for n in args.workers.split(",")]:
        outcome = run_workers(url, args.redis, as_of, count)
        by_count[count] = outcome["seconds"]
        peaks = ", ".join(f"{kb / 1024:.0f}" for kb in outcome["peaks_kb"])
        line(
            f"{count} worker process(es), full recompute",
            f"{outcome['seconds']:8.2f} s  peak RSS per worker {peaks} MB; chunks {outcome['chunks']}, "
            f"finished {outcome['finished']}, evaluations {outcome['evaluations']:,}",
        )
    if 1 in by_count and 2 in by_count:
        line("speed-up of 2 workers over 1", f"{by_count[1] / by_count[2]:8.2f}x")


def _finish(engine, name: str, keep: bool) -> None:
    line(
        "peak RSS of this benchmark process (loader included)",
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:8.0f} MB",
    )
    engine.dispose()
    if not keep:
        drop_database(name)


def seed_catalogue_sql(url: str) -> None:
    database = Database(url)
    with database.session_scope() as session:
        seed_catalogue(db_session=session)
    database.dispose()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], date.fromisoformat(sys.argv[3]))
    else:
        main()
