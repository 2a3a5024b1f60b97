"""Shared helpers for benchmarks: a scratch PostgreSQL database, migrated, and timing."""

from __future__ import annotations

import os
import time
from contextlib import contextmanager

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
