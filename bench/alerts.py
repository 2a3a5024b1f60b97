"""Alerts benchmark: alert evaluation against a hand-written SQL floor, and digest throughput.

    .venv/bin/python bench/alerts.py --creators 100000 --managers 1000

(a) `evaluate_alerts` over a roster where about a third of creators have an open condition
(stale metrics, overdue deliverables, near-threshold or eligible-not-activated evaluations),
against (b) one SQL statement finding the same conditions and inserting one alert row each.
Then digests for `--managers` managers sent to a local SMTP server (aiosmtpd): emails per second.
"""

from __future__ import annotations

import argparse
import random
import socket
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from agency.alerts.mailer import send_pending
from agency.alerts.notifications import queue_due_digests
from agency.alerts.service import AlertSettings, evaluate_alerts
from agency.core.config import Config
from agency.core.database import make_engine, utcnow
from agency.core.users.service import hash_password
from bench.common import scratch_database, timed  # noqa: E402

TODAY = date.today()

FLOOR_SQL = """
CREATE TEMP TABLE floor_alerts (dedup_key text PRIMARY KEY, creator_id int, kind text);
INSERT INTO floor_alerts
SELECT 'metrics_stale:' || a.creator_id || ':account:' || a.id, a.creator_id, 'metrics_stale'
FROM platform_accounts a JOIN creators c ON c.id = a.creator_id
LEFT JOIN (SELECT account_id, max(day) AS day FROM metric_snapshots GROUP BY account_id) m ON m.account_id = a.id
WHERE c.archived_at IS NULL AND c.status = 'active' AND (m.day IS NULL OR m.day < :stale)
UNION ALL
SELECT 'deliverable_overdue:' || d.creator_id || ':deliverable:' || v.id, d.creator_id, 'deliverable_overdue'
FROM deliverables v JOIN deals d ON d.id = v.deal_id JOIN creators c ON c.id = d.creator_id
WHERE c.archived_at IS NULL AND d.stage NOT IN ('cancelled', 'lost', 'paid')
  AND v.status NOT IN ('published', 'cancelled')
  AND v.due_date < :today
UNION ALL
SELECT 'near_threshold:' || e.creator_id || ':program:' || e.program_id, e.creator_id, 'near_threshold'
FROM eligibility_evaluations e JOIN creators c ON c.id = e.creator_id
WHERE c.archived_at IS NULL AND e.near_threshold AND NOT e.eligible
UNION ALL
SELECT 'eligible_not_activated:' || e.creator_id || ':program:' || e.program_id, e.creator_id, 'eligible_not_activated'
FROM eligibility_evaluations e JOIN creators c ON c.id = e.creator_id
LEFT JOIN program_activations p ON p.creator_id = e.creator_id AND p.program_id = e.program_id
WHERE c.archived_at IS NULL AND e.eligible AND (p.id IS NULL OR p.status IN ('not_applied', 'rejected'))
"""


def generate(url: str, creators: int, managers: int, seed: int = 3) -> None:
    rng = random.Random(seed)
    engine = create_engine(url)
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        password = hash_password("bench-password-123")
        with cur.copy("COPY users (id, email, full_name, password_hash, role, timezone, is_active) FROM STDIN") as copy:
            for m in range(1, managers + 1):
                copy.write_row((m, f"m{m}@bench.example", f"Manager {m}", password, "manager", "UTC", True))
        with cur.copy(
            "COPY creators (id, display_name, legal_name, country, niche, languages, manager_id, status, "
            "guideline_standing, parental_agreement_on_file, notes, version) FROM STDIN"
        ) as copy:
            for i in range(1, creators + 1):
                copy.write_row(
                    (
                        i,
                        f"Creator {i}",
                        "",
                        "FR",
                        "other",
                        "[]",
                        rng.randint(1, managers),
                        "active",
                        "good",
                        False,
                        "",
                        1,
                    )
                )
        with cur.copy("COPY platform_accounts (id, creator_id, platform, handle, account_type) FROM STDIN") as copy:
            for i in range(1, creators + 1):
                copy.write_row((i, i, "tiktok", f"h{i}", "personal"))
        with cur.copy(
            "COPY metric_snapshots (account_id, day, followers, views, likes, comments, shares, videos, "
            "qualified_videos, live_hours, watch_hours, shorts_views) FROM STDIN"
        ) as copy:
            for i in range(1, creators + 1):
                last = TODAY - timedelta(days=10 if i % 10 == 0 else 1)  # one in ten is stale
                for d in range(3):
                    copy.write_row((i, last - timedelta(days=d), 1000, 10, 0, 0, 0, 0, 0, 0, 0, 0))
        cur.execute(
            "INSERT INTO programs (id, code, name, platform, description, activation_path, is_active) "
            "VALUES (1, 'p', 'Programme', 'tiktok', '', '', true)"
        )
        cur.execute(
            "INSERT INTO rule_versions (id, program_id, version, effective_from, source_note, criteria) "
            "VALUES (1, 1, 1, '2020-01-01', '', '[]')"
        )
        with cur.copy(
            "COPY eligibility_evaluations (creator_id, program_id, rule_version_id, eligible, near_threshold, "
            "details, as_of) FROM STDIN"
        ) as copy:
            for i in range(1, creators + 1):
                eligible = i % 7 == 0
                copy.write_row((i, 1, 1, eligible, (not eligible) and i % 11 == 0, "[]", TODAY))
        cur.execute(
            "INSERT INTO brands (id, name, industry, website, contacts, notes, version) "
            "VALUES (1, 'Brand', '', '', '[]', '', 1)"
        )
        with cur.copy(
            "COPY deals (id, creator_id, brand_id, title, source, fee_amount, fee_currency, "
            "commission_percent, stage, notes, version) FROM STDIN"
        ) as copy:
            for i in range(1, creators + 1, 13):
                copy.write_row((i, i, 1, "Deal", "direct", "100.00", "EUR", "20.00", "in_progress", "", 1))
        with cur.copy(
            "COPY deliverables (deal_id, kind, platform, due_date, status, published_url, notes) FROM STDIN"
        ) as copy:
            for i in range(1, creators + 1, 13):
                copy.write_row((i, "video", "tiktok", TODAY - timedelta(days=2), "planned", "", ""))
        for table in ("users", "creators", "platform_accounts", "deals", "programs", "rule_versions", "brands"):
            cur.execute(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))")
        cur.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creators", type=int, default=100_000)
    parser.add_argument("--managers", type=int, default=1000)
    args = parser.parse_args()

    print(f"alerts benchmark: {args.creators:,} creators, {args.managers:,} managers")
    url = scratch_database("agency_bench_alerts")
    results: dict[str, float] = {}
    with timed("generate (COPY)", results):
        generate(url, args.creators, args.managers)
    engine = make_engine(url)
    with timed("(a) project alert evaluation", results), Session(engine) as session:
        outcome = evaluate_alerts(db_session=session, settings=AlertSettings(today=TODAY))
        session.commit()
    with timed("(b) floor: one SQL statement", results), engine.begin() as conn:
        statements = FLOOR_SQL.split(";")
        conn.execute(text(statements[0]))
        floor_rows = conn.execute(text(statements[1]), {"today": TODAY, "stale": TODAY - timedelta(days=3)}).rowcount
    with timed("(a') re-evaluation, nothing changed", results), Session(engine) as session:
        again = evaluate_alerts(db_session=session, settings=AlertSettings(today=TODAY))
        session.commit()
    print(
        f"  alerts opened {outcome.opened:,} (floor rows {floor_rows:,}); re-run opened {again.opened}, "
        f"resolved {again.resolved}"
    )
    print(
        f"  ratio evaluation / floor: "
        f"{results['(a) project alert evaluation'] / results['(b) floor: one SQL statement']:.2f}x"
    )

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
        with timed(f"queue digests for {args.managers:,} managers", results), Session(engine) as session:
            queued = queue_due_digests(db_session=session, now=utcnow(), public_url="http://ui", force=True)
            session.commit()
        started = time.perf_counter()
        counts = send_pending(engine, config)
        elapsed = time.perf_counter() - started
        print(
            f"  digests queued {queued:,}, sent {counts['sent']:,} in {elapsed:.2f} s: "
            f"{counts['sent'] / elapsed:,.0f} emails/s (SMTP server received {Sink.count:,})"
        )
    finally:
        controller.stop()
    engine.dispose()


if __name__ == "__main__":
    main()
