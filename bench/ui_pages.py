"""UI page benchmark: server time of each page with the demo agency, next to /healthz.

    .venv/bin/python bench/ui_pages.py [--repeat 20]

Loads the demo agency into a scratch PostgreSQL database, recomputes, signs in as a manager (and
as a creator, for the portal) and renders each page through the Flask test client (no network),
printing the median server time per page, the floor (/healthz, the cheapest request through the
same stack) and the ratio.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agency import create_app
from agency.core.config import Config
from agency.core.users.models import CreatorLogin, Role
from agency.core.users.service import create_user
from agency.demo.loader import DEMO_PASSWORD
from bench.common import scratch_database  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    url = scratch_database("agency_bench_ui")
    app = create_app(
        Config.from_env(
            {},
            database_url=url,
            secret_key="bench",
            log_json=False,
            log_level="WARNING",
            login_rate_limit="10000 per minute",
        )
    )
    runner = app.test_cli_runner()
    for command in (["demo", "load"], ["recompute", "all"], ["alerts", "evaluate"]):
        assert runner.invoke(args=command).exit_code == 0
    with app.extensions["agency_db"].session_scope() as session:
        creator_user = create_user(
            db_session=session, email="bench.creator@agency.example", password="bench-creator-2026", role=Role.creator
        )
        session.add(CreatorLogin(user_id=creator_user.id, creator_id=1))
    manager = _signed_in(app, "manager1@agency.example", DEMO_PASSWORD)
    creator = _signed_in(app, "bench.creator@agency.example", "bench-creator-2026")
    pages = [
        (manager, "/healthz"),
        (manager, "/"),
        (manager, "/creators"),
        (manager, "/creators?sort=-country"),
        (manager, "/creators/1"),
        (manager, "/deals"),
        (manager, "/deals/1"),
        (manager, "/brands"),
        (manager, "/revenue"),
        (manager, "/alerts"),
        (creator, "/portal"),
    ]
    results = {}
    for client, page in pages:
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            response = client.get(page)
            times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, (page, response.status_code)
        results[page] = statistics.median(times)
    floor = results.pop("/healthz")
    print(f"UI pages, median of {args.repeat} renders (ms); floor /healthz {floor:.2f} ms")
    for page, ms in results.items():
        print(f"  {page:<28} {ms:8.1f} ms   {ms / floor:6.1f}x floor")


def _signed_in(app, email: str, password: str):
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"email": email, "password": password, "csrf_token": token})
    return client


if __name__ == "__main__":
    main()
