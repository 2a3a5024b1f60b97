"""Alerts benchmark: the product's alert evaluation against a hand-written SQL floor, and digests.

    .venv/bin/python bench/alerts.py --creators 100000

Loads a roster with COPY (bench/loader.py) into its own database, then prepares what the alert
kinds read, untimed: the product's eligibility and income-mix recomputes, a gain or loss recorded
for one creator in seventeen, a recent guideline strike for one in fifty, four eligible creators in five with
the programme activated, an overdue invoice on a
third of the deals (every deal has an overdue deliverable). The loaded tables stay never analysed.

Then, on that data and again after ANALYZE: the product's evaluation of every alert kind (the
`evaluate_alerts` job as `agency alerts evaluate` runs it, immediate emails queued, in a child
process under `/usr/bin/time -v`); the floor: one statement finding every condition of the nine
kinds with the facts an alert needs, inserting the new ones and resolving the cleared ones; the
same SELECT without the writes (read-only floor); and the product's re-evaluation with nothing
changed (alerts opened and resolved, counted in the table); and what writing those alerts costs
by itself, into copies of the table with and without its indexes and foreign key. Then digests
for every manager sent to a local SMTP server (aiosmtpd): emails per second.
"""

from __future__ import annotations

import argparse
import socket
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiosmtpd.controller import Controller  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.orm import configure_mappers  # noqa: E402

import agency.registry  # noqa: E402,F401  (registers the job functions)
from agency.alerts.mailer import send_pending  # noqa: E402
from agency.alerts.notifications import queue_due_digests  # noqa: E402
from agency.core.config import Config  # noqa: E402
from agency.core.database import Database, utcnow  # noqa: E402
from agency.core.jobs.service import run_job_now  # noqa: E402
from agency.money.diversification import MixSettings, recompute_diversification  # noqa: E402
from agency.programmes.catalogue import seed_catalogue  # noqa: E402
from agency.programmes.eligibility import recompute_eligibility  # noqa: E402
from bench.common import drop_database, floor_statement, line, ratio_text, read_only, rss_text, run_child, seconds_text  # noqa: E402
from bench.loader import analyse, first_touch, load, never_analysed, release_autovacuum  # noqa: E402

FLOOR_TABLE = """
CREATE TABLE IF NOT EXISTS floor_alerts (
    dedup_key text PRIMARY KEY, kind text, severity text, creator_id int, facts jsonb,
    resolved boolean NOT NULL DEFAULT false)
"""

CONDITIONS = """
WITH active AS (
    SELECT id, display_name, status, guideline_standing FROM creators
    WHERE archived_at IS NULL AND status <> 'offboarded'
), transitions AS (
    SELECT DISTINCT ON (ch.creator_id, ch.program_id) ch.*
    FROM eligibility_changes ch WHERE ch.change IN ('gained', 'lost')
    ORDER BY ch.creator_id, ch.program_id, ch.id DESC
), snapshots AS (
    SELECT DISTINCT ON (s.creator_id) s.* FROM diversification_snapshots s ORDER BY s.creator_id, s.as_of DESC
), last_days AS (
    SELECT account_id, max(day) AS last_day FROM metric_snapshots GROUP BY account_id
), conditions AS (
    SELECT CASE WHEN t.change = 'gained' THEN 'eligibility_gained' ELSE 'eligibility_lost' END AS kind,
           CASE WHEN t.change = 'gained' THEN 'medium' ELSE 'high' END AS severity, t.creator_id,
           'program:' || t.program_id AS subject_key,
           jsonb_build_object('name', c.display_name, 'program', p.name, 'program_id', t.program_id,
                              'effective_on', t.effective_on, 'criteria', t.changed_criteria) AS facts
    FROM transitions t JOIN active c ON c.id = t.creator_id JOIN programs p ON p.id = t.program_id
    WHERE t.as_of > :today - 7
    UNION ALL
    SELECT 'near_threshold', 'low', e.creator_id, 'program:' || e.program_id,
           jsonb_build_object('name', c.display_name, 'program', p.name, 'program_id', e.program_id, 'eta', e.eta,
                              'rule_version_id', e.rule_version_id, 'results', e.details)
    FROM eligibility_evaluations e JOIN active c ON c.id = e.creator_id JOIN programs p ON p.id = e.program_id
    WHERE e.near_threshold AND NOT e.eligible
    UNION ALL
    SELECT 'eligible_not_activated', 'medium', e.creator_id, 'program:' || e.program_id,
           jsonb_build_object('name', c.display_name, 'program', p.name, 'program_id', e.program_id,
                              'path', p.activation_path)
    FROM eligibility_evaluations e JOIN active c ON c.id = e.creator_id JOIN programs p ON p.id = e.program_id
    LEFT JOIN program_activations a ON a.creator_id = e.creator_id AND a.program_id = e.program_id
    WHERE e.eligible AND (a.id IS NULL OR a.status IN ('not_applied', 'rejected'))
    UNION ALL
    SELECT 'concentration_risk', 'medium', s.creator_id, 'sources',
           jsonb_build_object('name', c.display_name, 'top_source', s.top_source, 'share', s.top_source_share,
                              'hhi', s.hhi, 'effective', s.effective_sources, 'window_days', s.window_days,
                              'suggestion', s.suggestion)
    FROM snapshots s JOIN active c ON c.id = s.creator_id
    WHERE s.risk_level <> 'no_data' AND s.hhi >= 0.5
    UNION ALL
    SELECT 'platform_dependency', 'medium', s.creator_id, 'platform:' || s.top_platform,
           jsonb_build_object('name', c.display_name, 'platform', s.top_platform, 'share', s.top_platform_share,
                              'platform_total', s.platform_total, 'total', s.total, 'currency', s.currency,
                              'suggestion', s.suggestion)
    FROM snapshots s JOIN active c ON c.id = s.creator_id
    WHERE s.risk_level <> 'no_data' AND s.top_platform IS NOT NULL AND s.top_platform_share >= 0.7
    UNION ALL
    SELECT CASE WHEN v.due_date < :today THEN 'deliverable_overdue' ELSE 'deliverable_due' END,
           CASE WHEN v.due_date < :today THEN 'high' ELSE 'medium' END, d.creator_id, 'deliverable:' || v.id,
           jsonb_build_object('name', c.display_name, 'title', d.title, 'deliverable', v.kind, 'platform', v.platform,
                              'due', v.due_date, 'deal_id', d.id, 'deliverable_id', v.id)
    FROM deliverables v JOIN deals d ON d.id = v.deal_id JOIN active c ON c.id = d.creator_id
    WHERE d.stage NOT IN ('cancelled', 'lost', 'paid') AND d.archived_at IS NULL
      AND v.status NOT IN ('published', 'cancelled') AND v.due_date <= :today + 3
    UNION ALL
    SELECT 'invoice_overdue', 'high', d.creator_id, 'deal:' || d.id,
           jsonb_build_object('name', c.display_name, 'title', d.title, 'brand', b.name, 'invoiced_on', d.invoiced_on,
                              'fee', d.fee_amount, 'currency', d.fee_currency, 'deal_id', d.id)
    FROM deals d JOIN active c ON c.id = d.creator_id JOIN brands b ON b.id = d.brand_id
    WHERE d.archived_at IS NULL AND d.stage = 'invoiced' AND d.invoiced_on < :today - 30
    UNION ALL
    SELECT 'guideline_strike', 'high', g.creator_id, 'strike:' || g.id,
           jsonb_build_object('name', c.display_name, 'occurred_on', g.occurred_on, 'reason', g.reason,
                              'standing', c.guideline_standing, 'strike_id', g.id)
    FROM guideline_strikes g JOIN active c ON c.id = g.creator_id
    WHERE g.occurred_on > :today - 30
    UNION ALL
    SELECT 'metrics_stale', 'low', a.creator_id, 'account:' || a.id,
           jsonb_build_object('name', c.display_name, 'platform', a.platform, 'handle', a.handle,
                              'last_day', l.last_day, 'account_id', a.id)
    FROM platform_accounts a JOIN active c ON c.id = a.creator_id AND c.status = 'active'
    LEFT JOIN last_days l ON l.account_id = a.id
    WHERE l.last_day IS NULL OR l.last_day < :today - 3
)
"""

FLOOR_WRITE = (
    CONDITIONS
    + """, keyed AS (
    SELECT kind || ':' || creator_id || ':' || subject_key AS dedup_key, * FROM conditions
), opened AS (
    INSERT INTO floor_alerts (dedup_key, kind, severity, creator_id, facts)
    SELECT dedup_key, kind, severity, creator_id, facts FROM keyed
    ON CONFLICT (dedup_key) DO UPDATE SET resolved = false, facts = EXCLUDED.facts WHERE floor_alerts.resolved
    RETURNING 1
), resolved AS (
    UPDATE floor_alerts f SET resolved = true
    WHERE NOT f.resolved AND NOT EXISTS (SELECT 1 FROM keyed k WHERE k.dedup_key = f.dedup_key)
    RETURNING 1
)
SELECT (SELECT count(*) FROM opened) AS opened, (SELECT count(*) FROM resolved) AS resolved
"""
)
READ_ONLY = read_only(
    CONDITIONS + "SELECT * FROM conditions", ["kind", "severity", "creator_id", "subject_key", "facts"]
)


def prepare(url: str, as_of: date) -> None:
    """What the alert kinds read, untimed (see the module's docstring)."""
    config = Config.from_env({}, database_url=url, secret_key="bench")
    database = Database(url)
    with database.session_scope() as session:
        seed_catalogue(db_session=session)
    with database.session_scope() as session:
        recompute_eligibility(db_session=session, as_of=as_of, commit=session.commit)
    with database.session_scope() as session:
        # Untimed preparation: the income mix of never-analysed creators is planned as a nested
        # loop re-running each chunk's aggregate for every creator (see README, Benchmarks);
        # hash joins keep the preparation short without giving the evaluation statistics.
        session.execute(text("SET LOCAL enable_nestloop = off"))
        recompute_diversification(db_session=session, settings=MixSettings.from_config(config), as_of=as_of)
    with database.session_scope() as session:
        session.execute(
            text(
                "INSERT INTO eligibility_changes (creator_id, program_id, rule_version_id, change, eligible, as_of, "
                "effective_on, changed_criteria) SELECT creator_id, program_id, rule_version_id, "
                "CASE WHEN eligible THEN 'gained' ELSE 'lost' END, eligible, :day, :day, '[]' "
                "FROM eligibility_evaluations WHERE creator_id % 17 = 0"
            ),
            {"day": as_of},
        )
        session.execute(
            text(
                "INSERT INTO program_activations (creator_id, program_id, status, notes, version) "
                "SELECT creator_id, program_id, 'active', '', 1 FROM eligibility_evaluations "
                "WHERE eligible AND creator_id % 5 <> 0"
            )
        )
        session.execute(
            text(
                "INSERT INTO guideline_strikes (creator_id, occurred_on, platform, reason) "
                "SELECT id, :day, 'tiktok', 'bench' FROM creators WHERE id % 50 = 0"
            ),
            {"day": as_of},
        )
        session.execute(
            text("UPDATE deals SET stage = 'invoiced', invoiced_on = :day WHERE id % 3 = 0"),
            {"day": date.fromordinal(as_of.toordinal() - 45)},
        )
    database.dispose()


def child(url: str) -> None:
    """What `agency alerts evaluate` does (the evaluate_alerts job, run now), timed from inside."""
    config = Config.from_env({}, database_url=url, secret_key="bench")
    database = Database(url)
    # Mappers configured before the timer, as in a worker that has run a job before (a one-off
    # cost of the process, like its imports).
    configure_mappers()
    started = time.perf_counter()
    with database.session_scope() as session:
        result = run_job_now(session, config, "evaluate_alerts", {})
    elapsed = time.perf_counter() - started
    database.dispose()
    print(f"{elapsed:.3f} " + " ".join(f"{k}={v}" for k, v in result.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creators", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--database", default=None, help="default: bench_alerts_<creators>")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument(
        "--never-analysed-timeout", type=float, default=1800, help="stop the never-analysed run after this many seconds"
    )
    args = parser.parse_args()
    as_of = date.today()
    name = args.database or f"bench_alerts_{args.creators}"
    params = {"today": as_of}

    print(f"alerts benchmark: {args.creators:,} creators, as of {as_of}", flush=True)
    started = time.perf_counter()
    url, counts = load(name, args.creators, args.days, as_of)
    line("load (COPY), database " + name, f"{time.perf_counter() - started:8.1f} s  {counts}")
    started = time.perf_counter()
    prepare(url, as_of)
    line("prepare (eligibility, income mix, transitions, strikes, invoices)", f"{time.perf_counter() - started:8.1f} s")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(FLOOR_TABLE))
    line("first read of the loaded tables (hint bits; untimed)", f"{first_touch(url):8.1f} s")
    line("tables never analysed before the first run", ", ".join(never_analysed(url)))

    def product(timeout=None):
        return run_child(__file__, url, timeout=timeout)

    def alert_counts() -> tuple[int, int]:
        with engine.connect() as conn:
            return tuple(
                conn.execute(text("SELECT count(*), count(*) FILTER (WHERE status = 'resolved') FROM alerts")).one()
            )

    print("never-analysed data:", flush=True)
    fresh, fresh_kb, output = product(args.never_analysed_timeout)
    line("product: evaluate every alert kind", f"{seconds_text(fresh)}  {rss_text(fresh_kb)}")
    line("  result", output)
    fresh_floor, _ = floor_statement(engine, FLOOR_WRITE, params)
    line("floor: one statement, opened and resolved", f"{fresh_floor:8.2f} s")
    line("ratio never-analysed evaluation / floor", ratio_text(fresh, fresh_floor))
    release_autovacuum(url)

    line("ANALYZE (whole database)", f"{analyse(url):8.2f} s")
    print("analysed data:", flush=True)
    with engine.begin() as conn:
        # Both sides start from empty tables (a DELETE would leave the product's unique index
        # holding every deleted key, which each new alert's insert then checks).
        conn.execute(text("TRUNCATE floor_alerts, email_outbox, alerts"))
    floor_seconds, _ = floor_statement(engine, FLOOR_WRITE, params)
    with engine.connect() as conn:
        floor_rows = conn.execute(text("SELECT count(*) FROM floor_alerts")).scalar()
    line("floor: every condition written", f"{floor_seconds:8.2f} s  ({floor_rows:,} alerts)")
    full, full_kb, output = product()
    line("product: evaluation from no alerts", f"{full:8.2f} s  peak RSS {full_kb / 1024:.0f} MB")
    line("  result", output)
    read_seconds, _ = floor_statement(engine, READ_ONLY, params)
    line("floor: the same SELECT, read only", f"{read_seconds:8.2f} s")
    again_floor, _ = floor_statement(engine, FLOOR_WRITE, params)
    line("floor: the write again, nothing changed", f"{again_floor:8.2f} s")
    before = alert_counts()
    again, again_kb, output = product()
    line("product: re-evaluation, nothing changed", f"{again:8.2f} s  peak RSS {again_kb / 1024:.0f} MB")
    line("  result", output)
    after = alert_counts()
    line("  alerts (total, resolved) before -> after the re-run", f"{before} -> {after}")
    with engine.connect() as conn:
        # Key by key: the floor's open alerts and the product's (the same dedup keys).
        product_rows, both, floor_only, product_only = conn.execute(
            text(
                "SELECT count(p.dedup_key), count(*) FILTER (WHERE f.dedup_key = p.dedup_key), "
                "count(*) FILTER (WHERE p.dedup_key IS NULL), count(*) FILTER (WHERE f.dedup_key IS NULL) "
                "FROM (SELECT dedup_key FROM floor_alerts WHERE NOT resolved) f "
                "FULL JOIN (SELECT dedup_key FROM alerts WHERE status <> 'resolved') p USING (dedup_key)"
            )
        ).one()
    line(
        "floor agrees with the product (open alerts)",
        f"{floor_rows:,} floor vs {product_rows:,} product: {both:,} keys in both, "
        f"{floor_only:,} only in the floor, {product_only:,} only in the product",
    )
    table_cost(engine)
    print("ratios:", flush=True)
    line("evaluation / floor (target <= 2x)", f"{full / floor_seconds:8.2f}x")
    line("unchanged re-evaluation / read-only floor", f"{again / read_seconds:8.2f}x")
    line("peak RSS of the evaluating process", f"{max(fresh_kb, full_kb, again_kb) / 1024:8.0f} MB")
    with engine.begin() as conn:  # the immediate emails of the evaluation: not part of the digest measure
        conn.execute(text("DELETE FROM email_outbox"))
    digests(url)
    engine.dispose()
    if not args.keep:
        drop_database(name)


COPY_COLUMNS = "kind, severity, creator_id, dedup_key, subject, message, payload, status, opened_at, notified_at"


def table_cost(engine) -> None:
    """What writing the product's alerts costs by itself: the alerts of the evaluation written
    again, in their order, into a copy of `alerts` with its indexes and foreign key, and into a
    copy with its primary key only (the floor writes a table keyed by its dedup key alone). Both
    copies are rolled back."""
    timings = {}
    for name, shape in (
        ("bench_alerts_keyed", "(LIKE alerts INCLUDING DEFAULTS, PRIMARY KEY (id))"),
        ("bench_alerts_whole", "(LIKE alerts INCLUDING ALL, FOREIGN KEY (creator_id) REFERENCES creators (id))"),
    ):
        with engine.connect() as conn:
            conn.exec_driver_sql(f"CREATE TABLE {name} {shape}")
            started = time.perf_counter()
            rows = conn.exec_driver_sql(
                f"INSERT INTO {name} ({COPY_COLUMNS}) SELECT {COPY_COLUMNS} FROM alerts ORDER BY id"
            ).rowcount
            timings[name] = time.perf_counter() - started
            conn.rollback()
    line(
        f"the {rows:,} alerts written again into a copy of alerts",
        f"{timings['bench_alerts_whole']:8.2f} s  (its indexes and foreign key; "
        f"{timings['bench_alerts_keyed']:.2f} s with a primary key only)",
    )


def digests(url: str) -> None:
    """Digests for every manager, sent to a local aiosmtpd server."""

    class Sink:
        count = 0

        async def handle_DATA(self, server, session, envelope):
            Sink.count += 1
            return "250 OK"

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        config = Config.from_env({}, database_url=url, smtp_host="127.0.0.1", smtp_port=port, secret_key="x")
        database = Database(url)
        started = time.perf_counter()
        with database.session_scope() as session:
            queued = queue_due_digests(db_session=session, now=utcnow(), public_url="http://ui", force=True)
        line("queue digests for every manager", f"{time.perf_counter() - started:8.2f} s  ({queued:,} digests)")
        started = time.perf_counter()
        counts = send_pending(database.engine, config)
        elapsed = time.perf_counter() - started
        line(
            "send them to a local SMTP server",
            f"{elapsed:8.2f} s  {counts['sent']:,} sent: {counts['sent'] / elapsed:,.0f} emails/s "
            f"(server received {Sink.count:,})",
        )
        database.dispose()
    finally:
        controller.stop()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2])
    else:
        main()
