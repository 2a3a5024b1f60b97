"""Shared helpers for benchmarks: a scratch PostgreSQL database, migrated, and timing."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from agency.core.cli import alembic_config

BASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def scratch_database(name: str) -> str:
    """Drop and create database `name` next to BENCH_DATABASE_URL, migrate it, return its URL."""

    url = make_url(BASE_URL)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    target = url.set(database=name).render_as_string(hide_password=False)
    command.upgrade(alembic_config(target), "head")
    return target


def drop_database(name: str) -> None:
    """Drop database `name` next to BENCH_DATABASE_URL (a benchmark's own)."""
    admin = create_engine(make_url(BASE_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@contextmanager
def timed(label: str, results: dict):
    start = time.perf_counter()
    yield
    results[label] = time.perf_counter() - start
    print(f"  {label:<48} {results[label]:8.2f} s", flush=True)


def peak_kb(time_v_stderr: str) -> int:
    """The peak RSS (kB) `/usr/bin/time -v` reports, -1 when absent."""
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", time_v_stderr)
    return int(match.group(1)) if match else -1


def run_child(script: str, *arguments: str, env: dict | None = None, timeout: float | None = None):
    """`script --child arguments...` under `/usr/bin/time -v`: the child prints "<seconds> <result>"
    as its last line (timed from inside, without its start-up). Returns (seconds, peak RSS kB,
    result), or (None, -1, why) when it did not finish within `timeout` seconds (it is then
    stopped: its chunk's transaction rolls back)."""
    command = ["/usr/bin/time", "-v", sys.executable, script, "--child", *arguments]
    process = subprocess.Popen(
        command, env=os.environ | (env or {}), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        for child in _children(process.pid):
            os.kill(child, signal.SIGTERM)
        process.terminate()
        process.communicate()
        return None, -1, f"did not finish within {timeout:.0f} s (stopped)"
    if process.returncode:
        raise RuntimeError(f"{command} failed:\n{stdout}\n{stderr[-4000:]}")
    seconds, result = stdout.strip().splitlines()[-1].split(" ", 1)
    return float(seconds), peak_kb(stderr), result


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a local process so far (from /proc; OSError once it has gone)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def seconds_text(seconds: float | None) -> str:
    return f"{seconds:8.2f} s" if seconds is not None else "     n/a"


def rss_text(kb: int) -> str:
    return f"peak RSS {kb / 1024:.0f} MB" if kb >= 0 else "peak RSS n/a"


def ratio_text(numerator: float | None, denominator: float) -> str:
    return f"{numerator / denominator:8.2f}x" if numerator is not None else "     n/a (did not finish)"


def line(label: str, value: str) -> None:
    print(f"  {label:<62} {value}", flush=True)


def floor_statement(engine, sql: str, parameters: dict) -> tuple[float, int]:
    """Run a floor statement in its own transaction: (seconds, rowcount). The floor is the best
    hand-tuned statement: no JIT, hash joins whatever the statistics say, room to sort."""
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.exec_driver_sql("SET LOCAL jit = off")
        conn.exec_driver_sql("SET LOCAL enable_nestloop = off")
        conn.exec_driver_sql("SET LOCAL work_mem = '256MB'")
        rows = conn.execute(text(sql), parameters).rowcount
    return time.perf_counter() - started, rows


def read_only(select_sql: str, columns: list[str]) -> str:
    """The same SELECT without the write: every column consumed by a cheap aggregate."""
    aggregates = ", ".join(f"count({c})" for c in columns)
    return f"SELECT count(*), {aggregates} FROM ({select_sql}) floor"
