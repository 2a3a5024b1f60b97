"""Revenue records from every source: single edits, streaming bulk imports, and the revenue of
paid deals."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Integer,
    Numeric,
    Select,
    String,
    Text,
    and_,
    exists,
    func,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from agency.core.audit.service import Actor, record_audit, snapshot
from agency.core.database import refresh_statistics, utcnow
from agency.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from agency.core.imports import ImportReport, chunks, parse_id, read_rows, stage_rows, staging_table
from agency.core.users.models import Role
from agency.currencies.service import is_currency
from agency.deals.models import Deal, DealStage
from agency.money.models import RevenueRecord, RevenueSource
from agency.roster.models import Creator, Platform
from agency.roster.service import require_creator_write

IMPORT_COLUMNS = (
    "creator_id",
    "date",
    "source",
    "platform",
    "amount",
    "currency",
    "external_ref",
    "deal_id",
    "notes",
    "refund",
)
REQUIRED_COLUMNS = ("creator_id", "date", "source", "amount", "currency")
MAX_AMOUNT = Decimal("999999999999.99")
EARLIEST_YEAR = 2000  # a revenue date before it is a typing mistake


@dataclass
class RevenueFilters:
    creator_id: int | None = None
    source: list[str] | None = None
    platform: list[str] | None = None
    deal_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    manager_id: int | None = None
    include_archived: bool = False


def revenue_query(filters: RevenueFilters) -> Select:
    stmt = select(RevenueRecord)
    if not filters.include_archived:
        stmt = stmt.where(RevenueRecord.archived_at.is_(None))
    if filters.creator_id is not None:
        stmt = stmt.where(RevenueRecord.creator_id == filters.creator_id)
    if filters.source:
        stmt = stmt.where(RevenueRecord.source.in_([RevenueSource(s) for s in filters.source]))
    if filters.platform:
        stmt = stmt.where(RevenueRecord.platform.in_([Platform(p) for p in filters.platform]))
    if filters.deal_id is not None:
        stmt = stmt.where(RevenueRecord.deal_id == filters.deal_id)
    if filters.date_from is not None:
        stmt = stmt.where(RevenueRecord.earned_on >= filters.date_from)
    if filters.date_to is not None:
        stmt = stmt.where(RevenueRecord.earned_on <= filters.date_to)
    if filters.manager_id is not None:
        stmt = stmt.where(
            RevenueRecord.creator_id.in_(select(Creator.id).where(Creator.manager_id == filters.manager_id))
        )
    return stmt.order_by(RevenueRecord.earned_on.desc(), RevenueRecord.id.desc())


def parse_amount(value, refund: bool) -> Decimal:
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError("must be a decimal amount such as 1250.00") from None
    if not amount.is_finite() or abs(amount) > MAX_AMOUNT:
        raise ValueError("is out of range")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError("must have at most 2 decimals")
    if amount < 0 and not refund:
        raise ValueError("is negative; mark refunds explicitly (refund=true)")
    if amount > 0 and refund:
        raise ValueError("a refund must be negative")
    return amount


def _check_record(db_session: Session, data: dict, today: date) -> None:
    errors = {}
    if "currency" in data:
        if not is_currency(data["currency"]):
            errors["currency"] = ["unknown ISO 4217 currency code"]
        else:
            data["currency"] = data["currency"].upper()
    if "amount" in data:
        try:
            data["amount"] = parse_amount(data["amount"], data.get("is_refund", False))
        except ValueError as exc:
            errors["amount"] = [str(exc)]
    if data.get("earned_on") and data["earned_on"] > today:
        errors["earned_on"] = ["is in the future"]
    elif data.get("earned_on") and data["earned_on"].year < EARLIEST_YEAR:
        errors["earned_on"] = [f"is before {EARLIEST_YEAR}"]
    if data.get("deal_id") is not None:
        deal = db_session.get(Deal, data["deal_id"])
        if deal is None or ("creator_id" in data and deal.creator_id != data["creator_id"]):
            errors["deal_id"] = ["no such deal for this creator"]
    if errors:
        raise InvalidInput("The revenue record is invalid; see `errors`.", errors)


def create_record(*, db_session: Session, actor: Actor, data: dict, today: date) -> RevenueRecord:
    creator = db_session.get(Creator, data["creator_id"])
    if creator is None:
        raise InvalidInput("Unknown creator.", {"creator_id": [f"no creator with id {data['creator_id']}"]})
    require_creator_write(actor.user, creator)
    if creator.archived_at is not None:
        raise InvalidInput("This creator is archived; restore them to record revenue.", {"creator_id": ["is archived"]})
    _check_record(db_session, data, today)
    if data.get("external_ref"):
        clash = db_session.scalar(
            select(RevenueRecord.id).where(
                RevenueRecord.source == data["source"], RevenueRecord.external_ref == data["external_ref"]
            )
        )
        if clash is not None:
            raise Conflict(
                f"Record {clash} already has this source and external_ref.",
                {"external_ref": ["already recorded for this source"]},
            )
    record = RevenueRecord(**data)
    db_session.add(record)
    db_session.flush()
    record_audit(
        db_session=db_session,
        actor=actor,
        action="revenue.create",
        entity_type="revenue_record",
        entity_id=record.id,
        after=snapshot(record),
    )
    return record


def get_record(*, db_session: Session, record_id: int) -> RevenueRecord:
    record = db_session.get(RevenueRecord, record_id)
    if record is None:
        raise NotFound(f"Revenue record {record_id} not found.")
    return record


def update_record(
    *, db_session: Session, actor: Actor, record: RevenueRecord, data: dict, expected_version: int, today: date
) -> RevenueRecord:
    require_creator_write(actor.user, db_session.get(Creator, record.creator_id))
    if expected_version != record.version:
        raise Conflict(
            f"Record {record.id} was changed by someone else (version {record.version}).",
            {"version": [f"current version is {record.version}"]},
        )
    data.setdefault("is_refund", record.is_refund)
    if "amount" not in data and "is_refund" in data:
        data["amount"] = record.amount
    data.setdefault("creator_id", record.creator_id)
    _check_record(db_session, data, today)
    before = snapshot(record)
    for key, value in data.items():
        setattr(record, key, value)
    db_session.flush()
    record_audit(
        db_session=db_session,
        actor=actor,
        action="revenue.update",
        entity_type="revenue_record",
        entity_id=record.id,
        before=before,
        after=snapshot(record),
    )
    return record


def archive_record(*, db_session: Session, actor: Actor, record: RevenueRecord) -> None:
    require_creator_write(actor.user, db_session.get(Creator, record.creator_id))
    if record.archived_at is None:
        before = snapshot(record)
        record.archived_at = utcnow()
        db_session.flush()
        record_audit(
            db_session=db_session,
            actor=actor,
            action="revenue.archive",
            entity_type="revenue_record",
            entity_id=record.id,
            before=before,
            after=snapshot(record),
        )


# --- import -----------------------------------------------------------------------------------


def _validate(line: int, raw: dict, today: date, report: ImportReport) -> dict | None:
    if "__error__" in raw:
        report.add_error(line, *raw["__error__"])
        return None
    row, ok = {"line": line}, True

    def fail(field: str, reason: str) -> None:
        nonlocal ok
        report.add_error(line, field, reason)
        ok = False

    for field in REQUIRED_COLUMNS:
        if field not in raw:
            fail(field, "is required")
    try:
        row["creator_id"] = parse_id(raw["creator_id"]) if "creator_id" in raw else None
    except ValueError as exc:
        fail("creator_id", str(exc))
    if "date" in raw:
        try:
            row["earned_on"] = date.fromisoformat(str(raw["date"]))
            if row["earned_on"] > today:
                fail("date", "is in the future")
            elif row["earned_on"].year < EARLIEST_YEAR:
                fail("date", f"is before {EARLIEST_YEAR}")
        except ValueError:
            fail("date", "must be a date as YYYY-MM-DD")
    if "source" in raw:
        if raw["source"] not in {s.value for s in RevenueSource}:
            fail("source", f"unknown source '{raw['source']}'")
        row["source"] = raw["source"]
    if "platform" in raw:
        if raw["platform"] not in {p.value for p in Platform}:
            fail("platform", f"unknown platform '{raw['platform']}'")
        row["platform"] = raw["platform"]
    refund = str(raw.get("refund", "false")).strip().lower()
    if refund not in ("true", "false", "1", "0", "yes", "no"):
        fail("refund", "must be true or false")
    row["is_refund"] = refund in ("true", "1", "yes")
    if "amount" in raw:
        try:
            row["amount"] = parse_amount(raw["amount"], row["is_refund"])
        except ValueError as exc:
            fail("amount", str(exc))
    if "currency" in raw:
        if not is_currency(raw["currency"]):
            fail("currency", f"unknown ISO 4217 currency code '{raw['currency']}'")
        else:
            row["currency"] = str(raw["currency"]).upper()
    if "deal_id" in raw:
        try:
            row["deal_id"] = parse_id(raw["deal_id"])
        except ValueError as exc:
            fail("deal_id", str(exc))
    ref = raw.get("external_ref")
    if ref is not None and len(str(ref)) > 200:
        fail("external_ref", "must be at most 200 characters")
    row["external_ref"] = str(ref) if ref is not None else None
    row["notes"] = str(raw.get("notes", ""))[:2000]
    return row if ok else None


def content_reference(row: dict, seen: Counter) -> str:
    """The reference of a row that has none, from its content: the same file imported again gives
    its rows the same references, so nothing is added twice. Identical rows in one file (two tips
    of the same amount on the same day) are told apart by their order among them."""
    values = dict(row, amount=row["amount"].quantize(Decimal("0.01")))  # 42.1 and 42.10 are one amount
    names = ("creator_id", "earned_on", "source", "platform", "amount", "currency", "is_refund", "deal_id", "notes")
    content = "|".join("" if values.get(name) is None else str(values[name]) for name in names)
    digest = hashlib.sha256(content.encode()).hexdigest()[:40]
    seen[digest] += 1
    return f"content:{digest}:{seen[digest]}"


def _check_references(db_session: Session, rows: list[dict], report: ImportReport, user) -> list[dict]:
    creator_ids = {r["creator_id"] for r in rows}
    creators = dict(db_session.execute(select(Creator.id, Creator.manager_id).where(Creator.id.in_(creator_ids))).all())
    archived = set(
        db_session.scalars(select(Creator.id).where(Creator.id.in_(creator_ids), Creator.archived_at.is_not(None)))
    )
    deal_ids = {r["deal_id"] for r in rows if r.get("deal_id")}
    deals = (
        dict(db_session.execute(select(Deal.id, Deal.creator_id).where(Deal.id.in_(deal_ids))).all())
        if deal_ids
        else {}
    )
    good = []
    for row in rows:
        if row["creator_id"] not in creators:
            report.add_error(row["line"], "creator_id", f"unknown creator {row['creator_id']}")
        elif row["creator_id"] in archived:
            report.add_error(row["line"], "creator_id", "is archived; restore the creator first")
        elif user is not None and user.role is Role.manager and creators[row["creator_id"]] != user.id:
            report.add_error(row["line"], "creator_id", "you do not manage this creator")
        elif row.get("deal_id") and deals.get(row["deal_id"]) != row["creator_id"]:
            report.add_error(row["line"], "deal_id", "no such deal for this creator")
        else:
            good.append(row)
    return good


def import_revenue(
    *, db_session: Session, stream, fmt: str, mode: str = "all", today: date, user=None, progress=None
) -> ImportReport:
    """Import records; (source, external_ref) makes re-importing the same export add nothing."""
    if mode not in ("all", "partial"):
        raise InvalidInput("mode must be 'all' or 'partial'.", {"mode": ["must be 'all' or 'partial'"]})
    if user is not None and user.role is Role.analyst:
        raise Forbidden("Analysts have read-only access.")
    report = ImportReport(mode=mode)
    staging = staging_table(
        "revenue_import",
        Column("creator_id", Integer),
        Column("earned_on", Date),
        Column("source", String(24)),
        Column("platform", String(24)),
        Column("amount", Numeric(14, 2)),
        Column("currency", String(3)),
        Column("is_refund", Boolean),
        Column("deal_id", Integer),
        Column("external_ref", String(200)),
        Column("notes", Text),
    )
    connection = db_session.connection()
    staging.create(connection)
    try:
        seen: Counter[str] = Counter()
        for batch in chunks(read_rows(stream, fmt, IMPORT_COLUMNS, REQUIRED_COLUMNS)):
            report.rows += len(batch)
            valid = [row for line, raw in batch if (row := _validate(line, raw, today, report)) is not None]
            valid = _check_references(db_session, valid, report, user)
            for row in valid:
                if row["external_ref"] is None:
                    row["external_ref"] = content_reference(row, seen)
            if valid:
                stage_rows(connection, staging, valid)
            if progress:
                progress(report.rows)
        first = staging.alias("first")
        with_ref = staging.c.external_ref.is_not(None)
        duplicate = and_(
            with_ref,
            exists().where(
                first.c.source == staging.c.source,
                first.c.external_ref == staging.c.external_ref,
                first.c.line < staging.c.line,
            ),
        )
        for (line,) in db_session.execute(select(staging.c.line).where(duplicate)):
            report.add_error(line, "external_ref", "appears twice in this file for the same source")
        db_session.execute(staging.delete().where(duplicate))
        report.rejected = report.error_count
        if report.error_count and mode == "all":
            return report
        records = RevenueRecord.__table__
        already = exists().where(records.c.source == staging.c.source, records.c.external_ref == staging.c.external_ref)
        report.unchanged = db_session.scalar(select(func.count()).select_from(staging).where(with_ref, already))
        columns = [
            "creator_id",
            "earned_on",
            "source",
            "platform",
            "amount",
            "currency",
            "is_refund",
            "deal_id",
            "external_ref",
            "notes",
        ]
        insert_fn = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
        source = select(*[staging.c[c] for c in columns], func.now(), func.now(), 1).where(~and_(with_ref, already))
        to_insert = db_session.scalar(select(func.count()).select_from(staging).where(~and_(with_ref, already)))
        # DO NOTHING only matters for a concurrent import of the same refs: theirs wins, ours is
        # skipped, and the report counts what this import really wrote.
        written = db_session.execute(
            insert_fn(records)
            .from_select(columns + ["created_at", "updated_at", "version"], source)
            .on_conflict_do_nothing(),
            execution_options={"preserve_rowcount": True},
        ).rowcount
        report.inserted = written if written is not None and written >= 0 else to_insert
        report.unchanged += to_insert - report.inserted
        report.affected_creator_ids = sorted(db_session.scalars(select(staging.c.creator_id).distinct()))
        refresh_statistics(db_session.connection(), [RevenueRecord.__table__], report.inserted)
        report.committed = True
        return report
    finally:
        staging.drop(connection)


def record_deal_revenue(deal: Deal, *, db_session: Session, to_stage: DealStage, **_details) -> None:
    """Receiver of `deal_stage_changed`: a paid deal's fee becomes a brand_deal revenue record,
    exactly once (source + external_ref is unique)."""
    if to_stage is not DealStage.paid:
        return
    ref = f"deal:{deal.id}"
    exists = db_session.scalar(
        select(RevenueRecord.id).where(
            RevenueRecord.source == RevenueSource.brand_deal, RevenueRecord.external_ref == ref
        )
    )
    if exists is not None:
        return
    platforms = {d.platform for d in deal.deliverables}
    record = RevenueRecord(
        creator_id=deal.creator_id,
        earned_on=deal.paid_on,
        source=RevenueSource.brand_deal,
        platform=platforms.pop() if len(platforms) == 1 else None,
        amount=deal.fee_amount,
        currency=deal.fee_currency,
        deal_id=deal.id,
        external_ref=ref,
        notes=f"{deal.brand.name}: {deal.title}",
    )
    try:
        with db_session.begin_nested():
            db_session.add(record)
    except IntegrityError:  # a concurrent request recorded it first
        pass
