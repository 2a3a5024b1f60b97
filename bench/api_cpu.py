"""The CPU one API read costs the web process, measured in-process: the same requests as
`bench/api_load.py`, one after another through Flask's test client, on a database that script
loaded (`--keep`), with the app's JSON access log on. Other work on a shared machine stretches the
latencies of the load benchmark; this figure, taken without threads or sockets, moves far less.

    .venv/bin/python bench/api_cpu.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/agency_bench \\
        [--requests 200] [--endpoints "roster list,search q"] [--profile 30]

Prints, per endpoint, the process CPU time per request (the app and the test client; PostgreSQL's
own work is not in it) and the answer's size; `--profile N` adds cProfile's N costliest functions
(by cumulative CPU time). `--app-root` measures another checkout's app on the same data.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import os
import pstats
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.read_mix import read_paths  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True, help="A database bench/api_load.py loaded (--keep).")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--endpoints", help="Comma-separated subset of bench/api_load.py's reads (default: all).")
    parser.add_argument("--profile", type=int, default=0, help="Print this many functions of a CPU profile.")
    parser.add_argument("--app-root", type=Path, help="Measure the app of this checkout.")
    args = parser.parse_args()
    if args.app_root:
        sys.path.insert(0, str(args.app_root.resolve()))
    os.environ.update(
        DATABASE_URL=args.database_url, REDIS_URL="", SECRET_KEY="bench", LOG_LEVEL="INFO", LOG_JSON="true"
    )
    report = sys.stdout
    # The app's access log goes nowhere; the report goes to the real stdout.
    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull), contextlib.redirect_stderr(devnull):
        # Imported here, after --app-root chose which checkout's `agency` this measures.
        from agency import create_app  # noqa: PLC0415
        from bench.api_load import reuse_database  # noqa: PLC0415

        _url, token, ids, managers = reuse_database(args.database_url)
        paths = read_paths(ids, managers)
        if args.endpoints:
            paths = {name: path for name, path in paths.items() if name in args.endpoints.split(",")}
        client = create_app().test_client()
        headers = {"Authorization": f"Bearer {token}"}
        for name, path in paths.items():
            rng = random.Random(1)
            for _ in range(20):  # warm-up: connections, statement caches
                assert client.get(path(rng), headers=headers).status_code == 200
            sizes, started = 0, time.process_time()
            for _ in range(args.requests):
                response = client.get(path(rng), headers=headers)
                assert response.status_code == 200, response.status_code
                sizes += len(response.data)
            cpu = time.process_time() - started
            print(
                f"{name:<15} {1000 * cpu / args.requests:6.2f} ms CPU/request, {sizes // args.requests:,} bytes/answer",
                file=report,
                flush=True,
            )
            if args.profile:
                profile = cProfile.Profile(time.process_time)
                profile.enable()
                for _ in range(args.requests):
                    client.get(path(rng), headers=headers)
                profile.disable()
                pstats.Stats(profile, stream=report).sort_stats("cumulative").print_stats(args.profile)


if __name__ == "__main__":
    main()
