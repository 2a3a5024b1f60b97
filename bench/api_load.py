"""Read load at agency scale: the roster list, a name/handle search and a creator's detail, under
gunicorn on loopback, next to a bare Flask "hello" served the same way in the same run.

    .venv/bin/python bench/api_load.py [--creators 100000] [--seconds 10] [--clients 8,16,32]

Creates a scratch PostgreSQL database (agency_bench, or BENCH_DB_NAME), migrates it, loads N
synthetic creators with their accounts and strikes by COPY (its own loader: the demo's daily
metrics are not needed for these reads), then drives each endpoint with each number of clients
looping without pause. Beside the latencies it prints the server CPU per request (gunicorn
workers, and the PostgreSQL backends of the bench database), which other work on a shared machine
distorts far less than latencies. `--app-root` serves another checkout's app on the same data.
Target: p99 under 100 ms at 16 clients for the three roster reads, zero errors.
"""

from __future__ import annotations

import argparse
import functools
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alembic import command  # noqa: E402
from sqlalchemy import create_engine, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from agency.core.cli import alembic_config  # noqa: E402
from agency.core.database import Database, bulk_insert  # noqa: E402
from agency.core.users.models import Role, User  # noqa: E402
from agency.core.users.service import hash_password, issue_token  # noqa: E402
from agency.roster.models import AccountType, Creator, CreatorStatus, GuidelineStrike, Niche, Platform, PlatformAccount  # noqa: E402
from bench.common import cpu_seconds  # noqa: E402
from bench.read_mix import FIRST, LAST, read_paths  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
DB_NAME = os.environ.get("BENCH_DB_NAME", "agency_bench")
TARGET_P99_MS = 100.0

# Roughly how an agency's roster spreads over countries (the first ones weigh most).
COUNTRIES = ["FR", "US", "GB", "DE", "ES", "IT", "BR", "JP", "KR", "CA", "BE", "CH", "NL", "PT", "MX", "AU", "SE", "PL"]
MANAGERS = 20


def load_roster(url: str, creators: int, seed: int = 3) -> tuple[list[int], list[int]]:
    """N creators (1-3 accounts each, some strikes) by COPY; returns (creator ids, manager ids)."""
    rng = random.Random(seed)
    database = Database(url)
    password = hash_password("bench-password-2026")
    with database.session_scope() as session:
        session.execute(
            insert(User),
            [
                {
                    "email": f"manager{i}@bench.example",
                    "full_name": f"Manager {i}",
                    "password_hash": password,
                    "role": Role.manager,
                }
                for i in range(1, MANAGERS + 1)
            ],
        )
        manager_ids = list(session.scalars(select(User.id).order_by(User.id)))
    start = datetime(2023, 1, 1, tzinfo=UTC)
    weights = [1 / (rank + 1) for rank in range(len(COUNTRIES))]
    with database.engine.begin() as conn:
        rows = []
        for i in range(creators):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            created = start + timedelta(minutes=rng.randrange(0, 3 * 365 * 24 * 60))
            rows.append(
                {
                    "id": i + 1,
                    "display_name": f"{first} {last}",
                    "legal_name": f"{first} {last} {rng.choice(LAST)}",
                    "date_of_birth": date(1975, 1, 1) + timedelta(days=rng.randrange(0, 11_000)),
                    "country": rng.choices(COUNTRIES, weights)[0],
                    "niche": rng.choice(list(Niche)),
                    "languages": ["fr", "en"] if rng.random() < 0.3 else ["en"],
                    "manager_id": rng.choice(manager_ids) if rng.random() < 0.9 else None,
                    "status": rng.choices(list(CreatorStatus), [2, 6, 1, 1])[0],
                    "guideline_standing": rng.choices(["good", "warning", "restricted"], [90, 8, 2])[0],
                    "parental_agreement_on_file": False,
                    "notes": "",
                    "version": 1,
                    "created_at": created,
                    "updated_at": created + timedelta(days=rng.randrange(0, 200)),
                    "archived_at": created + timedelta(days=300) if rng.random() < 0.03 else None,
                }
            )
        bulk_insert(conn, Creator.__table__, rows)
        accounts, strikes, account_id = [], [], 0
        for row in rows:
            handle = row["display_name"].lower().replace(" ", ".")
            for platform in rng.sample([Platform.tiktok, Platform.youtube, Platform.instagram], rng.randint(1, 3)):
                account_id += 1
                accounts.append(
                    {
                        "id": account_id,
                        "creator_id": row["id"],
                        "platform": platform,
                        "handle": f"{handle}{row['id']}",
                        "account_type": AccountType.personal,
                        "created_at": row["created_at"],
                    }
                )
            if row["guideline_standing"] != "good":
                strikes.append(
                    {
                        "creator_id": row["id"],
                        "occurred_on": date(2026, 3, 1),
                        "platform": Platform.tiktok,
                        "reason": "bench",
                        "created_at": row["created_at"],
                    }
                )
        bulk_insert(conn, PlatformAccount.__table__, accounts)
        bulk_insert(conn, GuidelineStrike.__table__, strikes)
        for table in ("creators", "platform_accounts", "guideline_strikes"):
            conn.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
    database.dispose()
    return [row["id"] for row in rows if row["archived_at"] is None], manager_ids


def prepare_database(creators: int) -> tuple[str, str, list[int], list[int]]:
    admin = create_engine(BASE_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{DB_NAME}"'))
    admin.dispose()
    url = make_url(BASE_URL).set(database=DB_NAME).render_as_string(hide_password=False)
    command.upgrade(alembic_config(url), "head")
    started = time.perf_counter()
    ids, manager_ids = load_roster(url, creators)
    print(f"loaded {creators:,} creators in {time.perf_counter() - started:.0f} s", flush=True)
    database = Database(url)
    with database.session_scope() as session:
        admin_user = User(email="admin@bench.example", password_hash="x", role=Role.admin)
        session.add(admin_user)
        session.flush()
        token, _ = issue_token(db_session=session, user=admin_user, ttl=timedelta(hours=2))
    database.dispose()
    return url, token, ids, manager_ids


def reuse_database(url: str) -> tuple[str, str, list[int], list[int]]:
    """A database this script loaded before: a fresh token, and the ids to ask for."""
    database = Database(url)
    with database.session_scope() as session:
        admin_user = session.scalars(select(User).where(User.role == Role.admin)).first()
        token, _ = issue_token(db_session=session, user=admin_user, ttl=timedelta(hours=2))
        ids = list(session.scalars(select(Creator.id).where(Creator.archived_at.is_(None))))
        managers = list(session.scalars(select(User.id).where(User.role == Role.manager)))
    database.dispose()
    return url, token, ids, managers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(app: str, env: dict, log, root: Path = ROOT) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            str(ROOT / "deploy/gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{port}",
            app,
        ],
        cwd=root,
        env=os.environ | env,
        stdout=log,
        stderr=log,
    )
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/healthz" if app == "wsgi:app" else "/hello")
            if conn.getresponse().status == 200:
                return proc, port
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"{app} did not start; see {log.name}")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (0 when it has gone)."""
    try:
        return cpu_seconds(pid)
    except OSError:
        return 0.0


def server_pids(master: int, url: str | None) -> dict[str, list[int]]:
    """The gunicorn master and its workers, and the PostgreSQL backends serving the bench database."""
    web = [master]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == master:
                web.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    db = []
    if url:
        engine = create_engine(url)
        with engine.connect() as conn:
            db = list(
                conn.scalars(
                    text(
                        "SELECT pid FROM pg_stat_activity"
                        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                )
            )
        engine.dispose()
    return {"web": web, "db": db}


def drive(port: int, paths, headers: dict, seconds: float, clients: int, probe=None) -> dict:
    """`clients` threads, each on its own keep-alive connection, requesting without pause."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def client(seed: int):
        rng = random.Random(seed)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine, failed = [], 0
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            try:
                conn.request("GET", paths(rng), headers=headers)
                response = conn.getresponse()
                response.read()
                failed += response.status != 200
            except OSError:
                failed += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                continue
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    pids = probe() if probe else {}
    cpu_before = {kind: sum(_cpu_seconds(pid) for pid in group) for kind, group in pids.items()}
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Server CPU per request (web workers, and the PostgreSQL backends of the bench database):
    # what a request costs whatever else the machine runs, unlike its latency.
    cpu = {}
    if probe:
        after = probe()
        for kind, group in after.items():
            spent = sum(_cpu_seconds(pid) for pid in group) - cpu_before.get(kind, 0.0)
            cpu[kind] = spent
    latencies.sort()
    n = len(latencies)
    return {
        "requests": n,
        "rps": n / seconds,
        "errors": errors[0],
        "p50_ms": 1000 * statistics.median(latencies) if n else 0,
        "p99_ms": 1000 * latencies[min(n - 1, int(n * 0.99))] if n else 0,
        "web_cpu_ms": 1000 * cpu["web"] / n if n and "web" in cpu else None,
        "db_cpu_ms": 1000 * cpu["db"] / n if n and "db" in cpu else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--creators", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", default="8,16,32", help="Comma-separated numbers of concurrent clients.")
    # The defaults of deploy/gunicorn.conf.py on this 2-core machine.
    parser.add_argument("--workers", default=os.environ.get("GUNICORN_WORKERS", "3"))
    parser.add_argument("--threads", default=os.environ.get("GUNICORN_THREADS", "1"), help="gthread only")
    parser.add_argument(
        "--worker-class",
        default=os.environ.get("GUNICORN_WORKER_CLASS", "sync"),
        help="gunicorn's worker class: gthread (threads per worker) or sync (one request at a time).",
    )
    parser.add_argument("--endpoints", help="Comma-separated subset of the endpoints below (default: all).")
    parser.add_argument("--database-url", help="Reuse this database (already loaded) instead of a scratch one.")
    parser.add_argument("--keep", action="store_true", help="Keep the scratch database (reuse it with --database-url).")
    parser.add_argument(
        "--app-root", type=Path, default=ROOT, help="Serve the app of this checkout (to compare two versions)."
    )
    args = parser.parse_args()
    client_counts = [int(c) for c in args.clients.split(",")]
    url, token, ids, managers = (
        reuse_database(args.database_url) if args.database_url else prepare_database(args.creators)
    )
    env = {
        "DATABASE_URL": url,
        "REDIS_URL": "",
        "SECRET_KEY": "bench",
        "LOG_LEVEL": "INFO",
        "LOG_JSON": "true",
        "GUNICORN_WORKERS": args.workers,
        "GUNICORN_THREADS": args.threads,
        "GUNICORN_WORKER_CLASS": args.worker_class,
        "GUNICORN_ACCESS_LOG": "",
    }
    auth = {"Authorization": f"Bearer {token}"}
    endpoints = {
        "hello": ("bench.hello_app:app", lambda rng: "/hello", {}),
        **{name: ("wsgi:app", paths, auth) for name, paths in read_paths(ids, managers).items()},
    }
    if args.endpoints:
        wanted = {"hello", *args.endpoints.split(",")}
        endpoints = {name: endpoint for name, endpoint in endpoints.items() if name in wanted}
    results: dict[tuple[str, int], dict] = {}
    with tempfile.NamedTemporaryFile("w", prefix="bench-gunicorn-", suffix=".log", delete=False) as log:
        for app in ("bench.hello_app:app", "wsgi:app"):
            proc, port = start_gunicorn(app, env, log, args.app_root if app == "wsgi:app" else ROOT)
            try:
                for name, (endpoint_app, paths, headers) in endpoints.items():
                    if endpoint_app != app:
                        continue
                    drive(port, paths, headers, 2, max(client_counts))  # warm-up
                    for clients in client_counts:
                        probe = functools.partial(server_pids, proc.pid, url if app == "wsgi:app" else None)
                        results[name, clients] = drive(port, paths, headers, args.seconds, clients, probe)
                        r = results[name, clients]
                        print(
                            f"  {name:<15} {clients:>3} clients: {r['rps']:8.1f} req/s, p99 {r['p99_ms']:6.1f} ms, "
                            f"server CPU {r['web_cpu_ms']:.2f} + {r['db_cpu_ms']:.2f} ms/request",
                            flush=True,
                        )
            finally:
                proc.terminate()
                proc.wait(timeout=30)
    print(
        f"\n{args.creators:,} creators, {args.seconds:.0f} s per row, "
        f"gunicorn {args.workers}x{args.threads} {args.worker_class}, load generator on the same machine"
    )
    print("| endpoint | clients | req/s | p50 ms | p99 ms | errors | vs hello | web CPU ms/req | db CPU ms/req |")
    print("|---|---|---|---|---|---|---|---|---|")
    for (name, clients), r in results.items():
        hello = results["hello", clients]["rps"]
        print(
            f"| {name} | {clients} | {r['rps']:.1f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['errors']} "
            f"| {r['rps'] / hello:.0%} | {r['web_cpu_ms']:.2f} | {r['db_cpu_ms']:.2f} |"
        )
    reads = ("roster list", "search q", "creator detail")
    ok = all(results[name, 16]["p99_ms"] < TARGET_P99_MS for name in reads if (name, 16) in results) and all(
        r["errors"] == 0 for r in results.values()
    )
    print(
        json.dumps(
            {
                "target_p99_ms_at_16_clients": TARGET_P99_MS,
                "meets_target": ok,
                "p99_ms_at_16_clients": {
                    name: round(results[name, 16]["p99_ms"], 1) for name in reads if (name, 16) in results
                },
            }
        )
    )
    if not args.database_url and not args.keep:
        admin = create_engine(BASE_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
