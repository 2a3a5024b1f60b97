"""Monthly partitions of the metric snapshots (PostgreSQL).

Snapshots are partitioned by day, one partition per calendar month, plus a default partition for
days no monthly partition holds yet (an import of old history, say). The eligibility engine reads
a window of days, so the planner opens only the partitions of that window. `ensure_partitions`
(run daily by the scheduler, and by `agency metrics partitions --ensure`) creates the partitions
of the coming months ahead of time and gives every month found in the default partition a
partition of its own; `detach_before` detaches old months for retention: the detached table stays
in the database, out of every query, to be archived or dropped by the operator. SQLite keeps one
plain table and none of this applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import text
from sqlalchemy.engine import Connection

PARENT = "metric_snapshots"
DEFAULT = "metric_snapshots_default"
MONTHS_AHEAD = 3


@dataclass(frozen=True)
class Partition:
    name: str
    first_day: date | None  # None for the default partition
    end_day: date | None  # exclusive
    rows: int  # the planner's estimate (exact after ANALYZE)


def _month(day: date) -> date:
    return day.replace(day=1)


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def partition_name(month: date) -> str:
    return f"{PARENT}_{month:%Y_%m}"


def is_partitioned(connection: Connection) -> bool:
    if connection.dialect.name != "postgresql":
        return False
    return bool(connection.scalar(text(f"SELECT relkind = 'p' FROM pg_class WHERE oid = to_regclass('{PARENT}')")))


def list_partitions(connection: Connection) -> list[Partition]:
    """The partitions, oldest month first, the default partition last."""
    if not is_partitioned(connection):
        return []
    rows = connection.execute(
        text("""
        SELECT child.relname, pg_get_expr(child.relpartbound, child.oid), greatest(child.reltuples, 0)::bigint
        FROM pg_inherits JOIN pg_class child ON child.oid = pg_inherits.inhrelid
        WHERE pg_inherits.inhparent = to_regclass(:parent)"""),
        {"parent": PARENT},
    ).all()
    out = []
    for name, bound, estimate in rows:
        if bound == "DEFAULT":
            out.append(Partition(name, None, None, estimate))
            continue
        # FOR VALUES FROM ('2026-06-01') TO ('2026-07-01')
        first, end = (part.split("'")[1] for part in bound.split(" TO "))
        out.append(Partition(name, date.fromisoformat(first), date.fromisoformat(end), estimate))
    return sorted(out, key=lambda p: (p.first_day is None, p.first_day or date.max))


def ensure_partitions(connection: Connection, today: date, months_ahead: int = MONTHS_AHEAD) -> dict:
    """Create the partitions of this month and the next `months_ahead`, and move every month
    the default partition holds into a partition of its own. Safe to run again and from two
    places at once (a transaction-level lock serialises them)."""
    if not is_partitioned(connection):
        return {"partitioned": False, "created": [], "moved_rows": 0}
    connection.execute(text("SELECT pg_advisory_xact_lock(hashtext('metric_partitions'))"))
    existing = {p.first_day for p in list_partitions(connection) if p.first_day is not None}
    wanted = set()
    month = _month(today)
    for _ in range(months_ahead + 1):
        wanted.add(month)
        month = _next_month(month)
    stray = connection.execute(text(f"SELECT DISTINCT date_trunc('month', day)::date FROM {DEFAULT}")).scalars()
    wanted.update(stray)
    created, moved = [], 0
    for month in sorted(wanted - existing):
        name, end = partition_name(month), _next_month(month)
        bounds = {"first": month, "end": end}
        has_rows = connection.scalar(
            text(f"SELECT EXISTS (SELECT 1 FROM {DEFAULT} WHERE day >= :first AND day < :end)"), bounds
        )
        if not has_rows:
            connection.execute(
                text(f"CREATE TABLE {name} PARTITION OF {PARENT} FOR VALUES FROM ('{month}') TO ('{end}')")
            )
        else:
            # Rows of that month wait in the default partition: move them into the new table,
            # then attach it (attaching checks that the default partition holds none left).
            connection.execute(text(f"CREATE TABLE {name} (LIKE {PARENT} INCLUDING DEFAULTS)"))
            moved += connection.execute(
                text(
                    f"WITH moved AS (DELETE FROM {DEFAULT} WHERE day >= :first AND day < :end RETURNING *) "
                    f"INSERT INTO {name} SELECT * FROM moved"
                ),
                bounds,
            ).rowcount
            connection.execute(
                text(f"ALTER TABLE {PARENT} ATTACH PARTITION {name} FOR VALUES FROM ('{month}') TO ('{end}')")
            )
            connection.execute(text(f"ANALYZE {name}"))
        created.append(name)
    return {"partitioned": True, "created": created, "moved_rows": moved}


def detach_before(connection: Connection, month: date) -> list[str]:
    """Detach every monthly partition that ends on or before `month` (its first day): their
    snapshots leave every query (and the eligibility history that needs them: keep at least the
    longest rule window, 400 days). The detached tables stay, named as they were."""
    if not is_partitioned(connection):
        return []
    detached = []
    for partition in list_partitions(connection):
        if partition.end_day is not None and partition.end_day <= _month(month):
            connection.execute(text(f"ALTER TABLE {PARENT} DETACH PARTITION {partition.name}"))
            detached.append(partition.name)
    return detached
