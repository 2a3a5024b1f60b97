"""Daily metric snapshots: one upsert, and streaming bulk imports (CSV or JSON lines)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Integer,
    Numeric,
    and_,
    exists,
    func,
    not_,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.orm import Session

from agency.core.database import conflict_insert, refresh_statistics
from agency.core.errors import InvalidInput, NotFound
from agency.core.events import evaluation_inputs_changed
from agency.core.imports import ImportReport, chunks, parse_id, read_rows, stage_rows, staging_table, whole_number
from agency.metrics.models import METRIC_FIELDS, MetricSnapshot
from agency.roster.models import Creator, Platform, PlatformAccount
from agency.roster.service import normalise_handle

DECIMAL_FIELDS = ("live_hours", "watch_hours")
INTEGER_FIELDS = tuple(f for f in METRIC_FIELDS if f not in DECIMAL_FIELDS)
IMPORT_COLUMNS = ("account_id", "platform", "handle", "day", *METRIC_FIELDS)
MAX_COUNT = 10**15
MAX_HOURS = Decimal("99999999.99")


def parse_metric(name: str, value) -> int | Decimal:
    """A metric value from JSON or CSV text; ValueError with a readable reason."""
    if name in DECIMAL_FIELDS:
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise ValueError("must be a number") from None
        if not number.is_finite() or number < 0:
            raise ValueError("must be a number >= 0")
        if number > MAX_HOURS or number != number.quantize(Decimal("0.01")):
            raise ValueError("must have at most 2 decimals and be below 100,000,000")
        return number
    number = whole_number(value)  # never from a float, a boolean or non-ASCII digits
    if number < 0:
        raise ValueError("must be >= 0")
    if number > MAX_COUNT:
        raise ValueError("is implausibly large")
    return number


def parse_day(value, today: date) -> date:
    try:
        day = value if isinstance(value, date) else date.fromisoformat(str(value))
    except ValueError:
        raise ValueError("must be a date as YYYY-MM-DD") from None
    if day > today:
        raise ValueError("is in the future")
    if day.year < 2005:
        raise ValueError("is before 2005")
    return day


def _insert_ignoring_conflicts(dialect_name: str, table, columns: list[str], source):
    return conflict_insert(dialect_name, table).from_select(columns, source).on_conflict_do_nothing()


def put_snapshot(
    *, db_session: Session, account_id: int, day: date, values: dict, today: date
) -> tuple[MetricSnapshot, bool]:
    """Record one account's snapshot for one day: a new day (followers required), or an update of
    the metrics in `values` on an existing one, the others kept. Returns (snapshot, created)."""
    account = db_session.get(PlatformAccount, account_id)
    if account is None:
        raise NotFound(f"Account {account_id} not found.")
    if account.creator.archived_at is not None:
        raise InvalidInput(
            "This account's creator is archived; restore the creator to record metrics.",
            {"account_id": ["belongs to an archived creator"]},
        )
    try:
        day = parse_day(day, today)
    except ValueError as exc:
        raise InvalidInput(f"Day {exc}.", {"day": [str(exc)]}) from None
    snapshot = db_session.scalar(
        select(MetricSnapshot).where(MetricSnapshot.account_id == account_id, MetricSnapshot.day == day)
    )
    created = snapshot is None
    if created:
        if values.get("followers") is None:
            raise InvalidInput(
                "Followers are required for a day with no snapshot yet.",
                {"followers": ["is required for a day with no snapshot yet"]},
            )
        snapshot = MetricSnapshot(account_id=account_id, day=day)
        db_session.add(snapshot)
    # An existing day keeps the metrics not sent; a new day leaves them unknown (NULL), not 0.
    for name in METRIC_FIELDS:
        if name in values:
            setattr(snapshot, name, values[name])
    db_session.flush()
    evaluation_inputs_changed.send("metrics", db_session=db_session, creator_ids=[account.creator_id])
    return snapshot, created


def _validate(line: int, raw: dict, today: date, report: ImportReport) -> dict | None:
    if "__error__" in raw:
        field_name, reason = raw["__error__"]
        report.add_error(line, field_name, reason)
        return None
    row: dict = {"line": line}
    ok = True
    if "account_id" in raw:
        try:
            row["account_id"] = parse_id(raw["account_id"])
        except ValueError as exc:
            report.add_error(line, "account_id", str(exc))
            ok = False
    elif "platform" in raw and "handle" in raw:
        if raw["platform"] not in {p.value for p in Platform}:
            report.add_error(line, "platform", f"unknown platform '{raw['platform']}'")
            ok = False
        row["platform"], row["handle"] = raw["platform"], normalise_handle(str(raw["handle"]))
    else:
        report.add_error(line, "account_id", "give account_id, or platform and handle")
        ok = False
    if "day" not in raw:
        report.add_error(line, "day", "is required")
        ok = False
    else:
        try:
            row["day"] = parse_day(raw["day"], today)
        except ValueError as exc:
            report.add_error(line, "day", str(exc))
            ok = False
    if "followers" not in raw:
        report.add_error(line, "followers", "is required")
        ok = False
    for name in METRIC_FIELDS:
        if name in raw:
            try:
                row[name] = parse_metric(name, raw[name])
            except ValueError as exc:
                report.add_error(line, name, str(exc))
                ok = False
    return row if ok else None


def _resolve_accounts(db_session: Session, rows: list[dict], report: ImportReport) -> list[dict]:
    ids = {r["account_id"] for r in rows if "account_id" in r}
    known_ids = set(db_session.scalars(select(PlatformAccount.id).where(PlatformAccount.id.in_(ids)))) if ids else set()
    pairs = {(r["platform"], r["handle"]) for r in rows if "platform" in r}
    by_handle = {}
    if pairs:
        handles = {h for _, h in pairs}
        for account_id, platform, handle in db_session.execute(
            select(PlatformAccount.id, PlatformAccount.platform, PlatformAccount.handle).where(
                PlatformAccount.handle.in_(handles)
            )
        ):
            by_handle[(platform.value, handle)] = account_id
    # Accounts of archived creators take no metrics (restore the creator first).
    archived = set(
        db_session.scalars(
            select(PlatformAccount.id)
            .join(Creator, Creator.id == PlatformAccount.creator_id)
            .where(Creator.archived_at.is_not(None), PlatformAccount.id.in_(known_ids | set(by_handle.values())))
        )
    )
    resolved = []
    for row in rows:
        if row.get("account_id") in archived or by_handle.get((row.get("platform"), row.get("handle"))) in archived:
            report.add_error(row["line"], "account_id", "belongs to an archived creator")
            continue
        if "account_id" in row:
            if row["account_id"] not in known_ids:
                report.add_error(row["line"], "account_id", f"unknown account {row['account_id']}")
                continue
        else:
            account_id = by_handle.get((row.pop("platform"), row["handle"]))
            handle = row.pop("handle")
            if account_id is None:
                report.add_error(row["line"], "handle", f"no account @{handle} on that platform")
                continue
            row["account_id"] = account_id
        resolved.append(row)
    return resolved


def import_metrics(
    *, db_session: Session, stream, fmt: str, mode: str = "all", today: date, progress=None
) -> ImportReport:
    """Import snapshots from a CSV or JSON-lines stream. `progress(rows_read)` is called per chunk."""
    if mode not in ("all", "partial"):
        raise InvalidInput("mode must be 'all' or 'partial'.", {"mode": ["must be 'all' or 'partial'"]})
    report = ImportReport(mode=mode)
    columns = [Column("account_id", Integer, nullable=False), Column("day", Date, nullable=False)] + [
        Column(name, Numeric(12, 2) if name in DECIMAL_FIELDS else BigInteger) for name in METRIC_FIELDS
    ]
    staging = staging_table("metric_import", *columns)
    connection = db_session.connection()
    staging.create(connection)
    try:
        for batch in chunks(read_rows(stream, fmt, IMPORT_COLUMNS, ())):
            report.rows += len(batch)
            valid = [row for line, raw in batch if (row := _validate(line, raw, today, report)) is not None]
            valid = _resolve_accounts(db_session, valid, report)
            if valid:
                stage_rows(connection, staging, valid)
            if progress:
                progress(report.rows)

        first = staging.alias("first")
        duplicate = exists().where(
            first.c.account_id == staging.c.account_id, first.c.day == staging.c.day, first.c.line < staging.c.line
        )
        first_line = (
            select(func.min(first.c.line))
            .where(first.c.account_id == staging.c.account_id, first.c.day == staging.c.day)
            .scalar_subquery()
        )
        for line, original in db_session.execute(select(staging.c.line, first_line).where(duplicate)):
            report.add_error(line, "day", f"duplicate of line {original} (same account and day)")
        db_session.execute(staging.delete().where(duplicate))

        report.rejected = report.error_count
        if report.error_count and mode == "all":
            return report
        if connection.dialect.name == "postgresql":
            # Temporary tables have no statistics until analysed; without them the joins below
            # against the large snapshots table get poor plans.
            db_session.execute(text(f'ANALYZE "{staging.name}"'))
        snapshots = MetricSnapshot.__table__
        match = and_(snapshots.c.account_id == staging.c.account_id, snapshots.c.day == staging.c.day)
        same = and_(*[or_(staging.c[c].is_(None), staging.c[c] == snapshots.c[c]) for c in METRIC_FIELDS])
        existing = db_session.execute(
            select(func.count(), func.count().filter(same)).select_from(staging.join(snapshots, match))
        ).one()
        total = db_session.scalar(select(func.count()).select_from(staging))
        report.unchanged, report.updated = existing[1], existing[0] - existing[1]
        report.inserted = total - existing[0]
        # Existing days: metrics missing from the file keep their stored value; identical rows are
        # not touched, so importing the same file twice writes nothing. Each statement runs only
        # when the counts above say it has work (a join against every snapshot is not free).
        if report.updated:
            db_session.execute(
                update(snapshots)
                .where(match, not_(same))
                .values(
                    {c: func.coalesce(staging.c[c], snapshots.c[c]) for c in METRIC_FIELDS} | {"updated_at": func.now()}
                )
            )
        if report.inserted:
            new_rows = select(
                staging.c.account_id,
                staging.c.day,
                *[staging.c[c] for c in METRIC_FIELDS],  # a metric not in the file stays unknown (NULL)
            )
            # (SQLite needs some WHERE before ON CONFLICT, hence true() when nothing exists yet.)
            new_rows = new_rows.where(~exists().where(match) if existing[0] else true())
            db_session.execute(
                _insert_ignoring_conflicts(
                    connection.dialect.name, snapshots, ["account_id", "day", *METRIC_FIELDS], new_rows
                )
            )
        report.affected_creator_ids = sorted(
            db_session.scalars(
                select(PlatformAccount.creator_id)
                .distinct()
                .where(PlatformAccount.id.in_(select(staging.c.account_id)))
            )
        )
        refresh_statistics(db_session.connection(), [MetricSnapshot.__table__], report.inserted + report.updated)
        if report.inserted + report.updated:
            evaluation_inputs_changed.send(
                "metrics import", db_session=db_session, creator_ids=report.affected_creator_ids
            )
        report.committed = True
        return report
    finally:
        staging.drop(connection)
