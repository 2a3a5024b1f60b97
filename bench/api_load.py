"""Load benchmark: the roster list and creator detail endpoints under gunicorn on loopback,
next to a bare Flask "hello" endpoint served the same way in the same run.

    .venv/bin/python bench/api_load.py [--seconds 10] [--clients 8]

Creates a scratch PostgreSQL database (agency_bench), migrates it, loads the demo agency,
then reports throughput, p50/p99 and the ratio to hello (target: list >= 40% of hello, 0 errors).
"who am I" (GET /api/v1/users/me) is there for reference: the cost of authentication alone.
"""

from __future__ import annotations

import argparse
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
from datetime import timedelta
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from agency.core.cli import alembic_config
from agency.core.database import Database
from agency.core.users.models import Role, User
from agency.core.users.service import issue_token
from agency.demo.loader import load_demo
from agency.roster.models import Creator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
DB_NAME = "agency_bench"


def prepare_database() -> tuple[str, str, list[int]]:
    admin = create_engine(BASE_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{DB_NAME}"'))
    admin.dispose()
    url = make_url(BASE_URL).set(database=DB_NAME).render_as_string(hide_password=False)
    command.upgrade(alembic_config(url), "head")
    database = Database(url)
    with database.session_scope() as session:
        load_demo(db_session=session, reset=True)
        user = session.scalars(select(User).where(User.role == Role.admin)).first()
        token, _ = issue_token(db_session=session, user=user, ttl=timedelta(hours=2))
        ids = list(session.scalars(select(Creator.id)))
    database.dispose()
    return url, token, ids


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(app: str, env: dict, log) -> tuple[subprocess.Popen, int]:
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
        cwd=ROOT,
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


def drive(port: int, paths, headers: dict, seconds: float, clients: int) -> dict:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine, failed = [], 0
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            try:
                conn.request("GET", paths(), headers=headers)
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

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies.sort()
    n = len(latencies)
    return {
        "requests": n,
        "rps": n / seconds,
        "errors": errors[0],
        "p50_ms": 1000 * statistics.median(latencies) if n else 0,
        "p99_ms": 1000 * latencies[min(n - 1, int(n * 0.99))] if n else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", default="2")
    args = parser.parse_args()
    url, token, ids = prepare_database()
    env = {
        "DATABASE_URL": url,
        "REDIS_URL": "",
        "SECRET_KEY": "bench",
        "LOG_LEVEL": "INFO",
        "LOG_JSON": "true",
        "GUNICORN_WORKERS": args.workers,
        "GUNICORN_THREADS": "4",
        "GUNICORN_ACCESS_LOG": "",
    }
    auth = {"Authorization": f"Bearer {token}"}
    results = {}
    with tempfile.NamedTemporaryFile("w", prefix="bench-gunicorn-", suffix=".log", delete=False) as log:
        for name, app, paths, headers in (
            ("hello", "bench.hello_app:app", lambda: "/hello", {}),
            # The fixed cost every API call pays: the bearer-token check and one small statement.
            ("who am I", "wsgi:app", lambda: "/api/v1/users/me", auth),
            ("roster list", "wsgi:app", lambda: "/api/v1/creators", auth),
            ("creator detail", "wsgi:app", lambda: f"/api/v1/creators/{random.choice(ids)}", auth),
        ):
            proc, port = start_gunicorn(app, env, log)
            try:
                drive(port, paths, headers, 1, args.clients)  # warm-up
                results[name] = drive(port, paths, headers, args.seconds, args.clients)
            finally:
                proc.terminate()
                proc.wait(timeout=30)
    hello = results["hello"]["rps"]
    print(f"{len(ids)} creators, {args.clients} clients, {args.seconds:.0f}s each, gunicorn {args.workers}x4 gthread")
    print(f"{'endpoint':<16}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'vs hello':>10}")
    for name, r in results.items():
        print(
            f"{name:<16}{r['rps']:>9.1f}{r['p50_ms']:>9.1f}{r['p99_ms']:>9.1f}{r['errors']:>8}{r['rps'] / hello:>9.0%}"
        )
    ratio = results["roster list"]["rps"] / hello
    ok = ratio >= 0.40 and all(r["errors"] == 0 for r in results.values())
    print(json.dumps({"list_to_hello_ratio": round(ratio, 3), "target": 0.40, "meets_target": ok}))
    admin = create_engine(BASE_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)'))
    admin.dispose()


if __name__ == "__main__":
    main()
