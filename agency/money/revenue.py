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
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from agency.core.audit.service import Actor, record_audit, snapshot
from agency.core.database import add_unique, conflict_insert, refresh_statistics, utcnow
from agency.core.errors import Conflict, Forbidden, InvalidInput, NotFound, stale_version
from agency.core.imports import ImportReport, chunks, parse_id, read_rows, stage_rows, staging_table
from agency.core.users.models import Role
from agency.currencies.service import MAX_MINOR_UNIT, fits_minor_unit, is_currency, minor_unit
from agency.deals.models import Deal, DealStage
from agency.deals.service import money_locked
from agency.money.chain_models import JournalEntry
from agency.money.invoices import current_money_settings
from agency.money.ledger_events import (
    PLATFORM_SOURCES,
    PayoutPostings,
    platform_payout_entry,
    post_platform_payout,
    post_recorded_platform_payouts,
    represented_on_its_day,
    reverse_platform_payout,
    unposted_platform_payout,
)
from agency.money.models import Adjustment, RevenueRecord, RevenueSource
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


def parse_amount(value, refund: bool, currency: str | None = None) -> Decimal:
    """A decimal amount with no more decimals than its currency's minor unit (JPY 0, BHD 3)."""
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError("must be a decimal amount such as 1250.00") from None
    if not amount.is_finite() or abs(amount) > MAX_AMOUNT:
        raise ValueError("is out of range")
    if currency is not None and is_currency(currency):
        if not fits_minor_unit(amount, currency):
            raise ValueError(f"must have at most {minor_unit(currency)} decimals in {currency.upper()}")
    elif amount != amount.quantize(Decimal(1).scaleb(-MAX_MINOR_UNIT)):
        raise ValueError(f"must have at most {MAX_MINOR_UNIT} decimals")
    if amount == 0:
        # A record or a refund of nothing changes no total: it is a typing slip, never meaningful.
        raise ValueError("must not be zero: a refund of 0 refunds nothing" if refund else "must not be zero")
    if amount < 0 and not refund:
        raise ValueError("is negative; mark refunds explicitly (refund=true)")
    if amount > 0 and refund:
        raise ValueError("a refund must be negative")
    return amount


# Errors name fields as the API, the forms and the imports do, not as the columns are called.
PUBLIC_NAMES = {"earned_on": "date", "is_refund": "refund"}


def _check_record(db_session: Session, data: dict, today: date) -> None:
    errors = {}
    if "currency" in data:
        if not is_currency(data["currency"]):
            errors["currency"] = ["unknown ISO 4217 currency code"]
        else:
            data["currency"] = data["currency"].upper()
    if "amount" in data:
        try:
            data["amount"] = parse_amount(data["amount"], data.get("is_refund", False), data.get("currency"))
        except ValueError as exc:
            errors["amount"] = [str(exc)]
    if data.get("earned_on") and data["earned_on"] > today:
        errors["date"] = ["is in the future"]
    elif data.get("earned_on") and data["earned_on"].year < EARLIEST_YEAR:
        errors["date"] = [f"is before {EARLIEST_YEAR}"]
    if data.get("deal_id") is not None:
        deal = db_session.get(Deal, data["deal_id"])
        if deal is None or ("creator_id" in data and deal.creator_id != data["creator_id"]):
            errors["deal_id"] = ["no such deal for this creator"]
        else:
            # The record keeps the commission of its deal (a statement never changes afterwards).
            data["commission_percent"] = deal.commission_percent
    elif "deal_id" in data:
        data["commission_percent"] = None
    if errors:
        raise InvalidInput("The revenue record is invalid; see `errors`.", errors)


PAID_ALREADY = "deal {deal_id} already has its payment record ({record_id}); record a correction as an adjustment"


def payment_records(db_session: Session, deal_ids) -> dict[int, tuple[int, str | None]]:
    """The payment record of each deal that has one: its (non-archived, non-adjustment) brand_deal
    revenue record, as {deal_id: (record_id, external_ref)}."""
    if not deal_ids:
        return {}
    rows = db_session.execute(
        select(RevenueRecord.deal_id, RevenueRecord.id, RevenueRecord.external_ref)
        .where(
            RevenueRecord.deal_id.in_(sorted(deal_ids)),
            RevenueRecord.source == RevenueSource.brand_deal,
            RevenueRecord.adjustment.is_(None),
            RevenueRecord.archived_at.is_(None),
        )
        .order_by(RevenueRecord.id)
    ).all()
    found: dict[int, tuple[int, str | None]] = {}
    for deal_id, record_id, ref in rows:
        found.setdefault(deal_id, (record_id, ref))
    return found


def _refuse_second_payment(db_session: Session, data: dict, record: RevenueRecord | None = None) -> None:
    """A brand_deal record for a deal that already has its payment record would count the deal
    twice: 409 (corrections are adjustments)."""
    if data.get("source") is not RevenueSource.brand_deal and data.get("source") != "brand_deal":
        return
    deal_id = data.get("deal_id")
    if deal_id is None or (record is not None and record.adjustment is not None):
        return
    # The deal's row is locked until this transaction ends, so two payment records of one deal
    # written at once (or one written while the deal is moved to paid) are checked in turn.
    db_session.execute(select(Deal.id).where(Deal.id == deal_id).with_for_update())
    paid = payment_records(db_session, {deal_id}).get(deal_id)
    if paid is not None and (record is None or paid[0] != record.id):
        raise Conflict(
            PAID_ALREADY.format(deal_id=deal_id, record_id=paid[0]).capitalize() + ".",
            {"deal_id": [PAID_ALREADY.format(deal_id=deal_id, record_id=paid[0])]},
        )


def _refuse_locked_payment_edit(db_session: Session, record: RevenueRecord, data: dict) -> None:
    """The payment record of an invoiced deal keeps its money: 409, corrections are adjustments."""
    if record.source is not RevenueSource.brand_deal or record.deal_id is None:
        return
    deal = db_session.get(Deal, record.deal_id)
    if deal is None or not money_locked(deal):
        return
    changed = sorted(
        k
        for k in ("amount", "currency", "is_refund", "deal_id", "source")
        if k in data and data[k] != getattr(record, k)
    )
    if changed:
        raise Conflict(
            f"Record {record.id} is the payment of deal {deal.id}, which is {deal.stage.value}: its money is locked. "
            "Record a credit or a refund as an adjustment instead.",
            {PUBLIC_NAMES.get(k, k): [f"locked: the deal is {deal.stage.value}"] for k in changed},
        )


def create_record(*, db_session: Session, actor: Actor, data: dict, today: date) -> RevenueRecord:
    creator = db_session.get(Creator, data["creator_id"])
    if creator is None:
        raise InvalidInput("Unknown creator.", {"creator_id": [f"no creator with id {data['creator_id']}"]})
    if actor.user is not None:  # a system process (the command line) acts for the agency
        require_creator_write(actor.user, creator)
    if creator.archived_at is not None:
        raise InvalidInput("This creator is archived; restore them to record revenue.", {"creator_id": ["is archived"]})
    _check_record(db_session, data, today)
    _refuse_second_payment(db_session, data)
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
    # The same reference posted twice at once: both find it free above, the second insert loses.
    add_unique(
        db_session,
        record,
        Conflict(
            "A record with this source and external_ref already exists: it was recorded at the same time.",
            {"external_ref": ["already recorded for this source"]},
        ),
    )
    record_audit(
        db_session=db_session,
        actor=actor,
        action="revenue.create",
        entity_type="revenue_record",
        entity_id=record.id,
        after=snapshot(record),
    )
    # A platform's payout of a represented creator is money the agency received: posted now.
    post_recorded_platform_payouts(
        db_session=db_session, actor=actor, records=[record], settings=current_money_settings()
    )
    return record


def record_platform_payout(*, db_session: Session, actor: Actor, data: dict, today: date) -> JournalEntry:
    """The explicit way to post a platform payout: post a recorded revenue record whose posting
    waited (409 if it is posted already), or record the platform revenue, which posts it. Either
    way the entry is the record's one `platform-payout:<id>` entry, so nothing posts twice; an
    entry that cannot be posted (no agreement 409, no exchange rate 422) records nothing."""
    settings = current_money_settings()
    if "revenue_record_id" in data:
        record = get_record(db_session=db_session, record_id=data["revenue_record_id"])
        return post_platform_payout(db_session=db_session, actor=actor, record=record, settings=settings)
    revenue = dict(data["revenue"])
    if revenue["source"] not in PLATFORM_SOURCES:
        raise InvalidInput(
            f"{revenue['source'].value} is not a platform payout.",
            {"revenue.source": [f"one of {', '.join(s.value for s in PLATFORM_SOURCES)}"]},
        )
    record = create_record(db_session=db_session, actor=actor, data=revenue, today=today)
    entry = platform_payout_entry(db_session, record.id)
    # Not posted: post it here, so the reason is the answer (and the record is not kept).
    return entry or post_platform_payout(db_session=db_session, actor=actor, record=record, settings=settings)


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
        raise stale_version(f"Record {record.id}", record.version, expected_version)
    data.setdefault("is_refund", record.is_refund)
    if "amount" not in data and "is_refund" in data:
        data["amount"] = record.amount
    data.setdefault("creator_id", record.creator_id)
    data.setdefault("currency", record.currency)
    if record.adjustment is not None:
        raise Conflict(
            f"Record {record.id} is a {record.adjustment.value} on deal {record.deal_id}; "
            "adjustments are not edited (record another one).",
            {"adjustment": [record.adjustment.value]},
        )
    _check_record(db_session, data, today)
    _refuse_second_payment(
        db_session,
        {"source": data.get("source", record.source), "deal_id": data.get("deal_id", record.deal_id)},
        record,
    )
    _refuse_locked_payment_edit(db_session, record, data)
    _refuse_posted_payout_edit(db_session, record, data)
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
    # Now a platform payout of a represented creator (another source or day): posted once.
    post_recorded_platform_payouts(
        db_session=db_session, actor=actor, records=[record], settings=current_money_settings()
    )
    return record


POSTED_FIELDS = ("creator_id", "earned_on", "source", "amount", "currency", "is_refund")


def _refuse_posted_payout_edit(db_session: Session, record: RevenueRecord, data: dict) -> None:
    """A platform payout posted to the ledger keeps its money: correct it with a refund record
    (or delete it, which reverses the posting)."""
    changed = [k for k in POSTED_FIELDS if k in data and data[k] != getattr(record, k)]
    if changed and record.source in PLATFORM_SOURCES and platform_payout_entry(db_session, record.id) is not None:
        raise Conflict(
            f"Record {record.id} is posted to the ledger as a platform payout: record a refund, or delete it "
            "(which reverses the posting).",
            {k: ["posted to the ledger"] for k in changed},
        )


def archive_record(*, db_session: Session, actor: Actor, record: RevenueRecord) -> None:
    """Archive a record (statements and the income mix leave it out). The payment of an invoiced
    deal and its corrections stay: archiving them would change past statements and let the deal
    be paid again (409 naming the stage; a correction is a new adjustment)."""
    require_creator_write(actor.user, db_session.get(Creator, record.creator_id))
    if record.archived_at is None and record.source is RevenueSource.brand_deal and record.deal_id is not None:
        deal = db_session.get(Deal, record.deal_id)
        if deal is not None and money_locked(deal):
            raise Conflict(
                f"Record {record.id} is part of the money of deal {deal.id}, which is {deal.stage.value}: it cannot "
                "be archived. Record a credit or a refund as an adjustment instead.",
                {"stage": [deal.stage.value], "record_id": [f"locked: the deal is {deal.stage.value}"]},
            )
    if record.archived_at is None:
        before = snapshot(record)
        record.archived_at = utcnow()
        db_session.flush()
        reverse_platform_payout(
            db_session=db_session, actor=actor, record=record, settings=current_money_settings(), today=utcnow().date()
        )
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
    if "currency" in raw:
        if not is_currency(raw["currency"]):
            fail("currency", f"unknown ISO 4217 currency code '{raw['currency']}'")
        else:
            row["currency"] = str(raw["currency"]).upper()
    if "amount" in raw:
        try:
            row["amount"] = parse_amount(raw["amount"], row["is_refund"], row.get("currency"))
        except ValueError as exc:
            fail("amount", str(exc))
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
    values = dict(row, amount=row["amount"].normalize())  # 42.1 and 42.10 are one amount
    names = ("creator_id", "earned_on", "source", "platform", "amount", "currency", "is_refund", "deal_id", "notes")
    content = "|".join("" if values.get(name) is None else str(values[name]) for name in names)
    digest = hashlib.sha256(content.encode()).hexdigest()[:40]
    seen[digest] += 1
    return f"content:{digest}:{seen[digest]}"


def _check_references(
    db_session: Session, rows: list[dict], report: ImportReport, user, paid: dict[int, tuple[int | None, str | None]]
) -> list[dict]:
    """Rows whose creator and deal exist and may be written; `paid` (deal id -> payment record id
    and external_ref, kept across batches) refuses a second payment record of a deal."""
    creator_ids = {r["creator_id"] for r in rows}
    creators = dict(db_session.execute(select(Creator.id, Creator.manager_id).where(Creator.id.in_(creator_ids))).all())
    archived = set(
        db_session.scalars(select(Creator.id).where(Creator.id.in_(creator_ids), Creator.archived_at.is_not(None)))
    )
    deal_ids = {r["deal_id"] for r in rows if r.get("deal_id")}
    deals = {}
    if deal_ids:
        # As for a single record: the deals that rows would record a payment of are locked (in id
        # order) until the import commits, so a payment recorded at the same time is seen here.
        paying = sorted(
            {r["deal_id"] for r in rows if r.get("deal_id") and r.get("source") == RevenueSource.brand_deal.value}
        )
        if paying:
            db_session.execute(select(Deal.id).where(Deal.id.in_(paying)).order_by(Deal.id).with_for_update())
        deals = {
            row.id: row
            for row in db_session.execute(
                select(Deal.id, Deal.creator_id, Deal.commission_percent).where(Deal.id.in_(deal_ids))
            )
        }
        paid.update({k: v for k, v in payment_records(db_session, deal_ids - set(paid)).items()})
    good = []
    for row in rows:
        deal = deals.get(row.get("deal_id"))
        if row["creator_id"] not in creators:
            report.add_error(row["line"], "creator_id", f"unknown creator {row['creator_id']}")
        elif row["creator_id"] in archived:
            report.add_error(row["line"], "creator_id", "is archived; restore the creator first")
        elif user is not None and user.role is Role.manager and creators[row["creator_id"]] != user.id:
            report.add_error(row["line"], "creator_id", "you do not manage this creator")
        elif row.get("deal_id") and (deal is None or deal.creator_id != row["creator_id"]):
            report.add_error(row["line"], "deal_id", "no such deal for this creator")
        elif (
            deal is not None
            and row.get("source") == RevenueSource.brand_deal.value
            and deal.id in paid
            and (row.get("external_ref") is None or paid[deal.id][1] != row["external_ref"])
        ):
            report.add_error(
                row["line"],
                "deal_id",
                PAID_ALREADY.format(deal_id=deal.id, record_id=paid[deal.id][0] or "in this file"),
            )
        else:
            if deal is not None:
                row["commission_percent"] = deal.commission_percent
                if row.get("source") == RevenueSource.brand_deal.value:
                    paid.setdefault(deal.id, (None, row.get("external_ref")))
            good.append(row)
    return good


@dataclass
class RevenueImportReport(ImportReport):
    # What the import posted to the ledger as platform payouts (PayoutPostings.as_dict).
    ledger: dict | None = None

    def as_dict(self) -> dict:
        return super().as_dict() | {"ledger": self.ledger}


POSTING_CHUNK = 500


def _post_imported_platform_payouts(db_session: Session, staging, user) -> PayoutPostings:
    """The platform-payout records of the file not posted yet (new ones, and earlier ones whose
    posting waited) post their entries, a chunk at a time; the records are chosen in SQL (platform
    source, creator represented that day, no posting yet), so a file of other income costs two
    queries."""
    actor = Actor(user) if user is not None else Actor.system("revenue-import")
    total = PayoutPostings()
    in_file = (
        select(RevenueRecord.id)
        .join(
            staging,
            and_(RevenueRecord.source == staging.c.source, RevenueRecord.external_ref == staging.c.external_ref),
        )
        .where(unposted_platform_payout())
    )
    total.not_represented = db_session.scalar(
        select(func.count()).select_from(in_file.where(~represented_on_its_day()).subquery())
    )
    matched = in_file.where(represented_on_its_day()).order_by(RevenueRecord.id).limit(POSTING_CHUNK)
    last = 0
    while ids := list(db_session.scalars(matched.where(RevenueRecord.id > last))):
        last = ids[-1]
        records = db_session.scalars(select(RevenueRecord).where(RevenueRecord.id.in_(ids)).order_by(RevenueRecord.id))
        done = post_recorded_platform_payouts(
            db_session=db_session, actor=actor, records=list(records), settings=current_money_settings()
        )
        total.posted += done.posted
        total.not_represented += done.not_represented
        total.waiting += done.waiting[: 100 - len(total.waiting)]
    return total


def import_revenue(
    *, db_session: Session, stream, fmt: str, mode: str = "all", today: date, user=None, progress=None
) -> ImportReport:
    """Import records; (source, external_ref) makes re-importing the same export add nothing."""
    if mode not in ("all", "partial"):
        raise InvalidInput("mode must be 'all' or 'partial'.", {"mode": ["must be 'all' or 'partial'"]})
    if user is not None and user.role is Role.analyst:
        raise Forbidden("Analysts have read-only access.")
    report = RevenueImportReport(mode=mode)
    paid: dict[int, tuple[int | None, str | None]] = {}
    staging = staging_table(
        "revenue_import",
        Column("creator_id", Integer),
        Column("earned_on", Date),
        Column("source", String(24)),
        Column("platform", String(24)),
        Column("amount", Numeric(15, 3)),
        Column("currency", String(3)),
        Column("is_refund", Boolean),
        Column("deal_id", Integer),
        Column("commission_percent", Numeric(5, 2)),
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
            for row in valid:
                if row["external_ref"] is None:
                    row["external_ref"] = content_reference(row, seen)
            valid = _check_references(db_session, valid, report, user, paid)
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
            "commission_percent",
            "external_ref",
            "notes",
        ]
        source = select(*[staging.c[c] for c in columns], func.now(), func.now(), 1).where(~and_(with_ref, already))
        to_insert = db_session.scalar(select(func.count()).select_from(staging).where(~and_(with_ref, already)))
        # DO NOTHING only matters for a concurrent import of the same refs: theirs wins, ours is
        # skipped, and the report counts what this import really wrote.
        written = db_session.execute(
            conflict_insert(connection.dialect.name, records)
            .from_select(columns + ["created_at", "updated_at", "version"], source)
            .on_conflict_do_nothing(),
            execution_options={"preserve_rowcount": True},
        ).rowcount
        report.inserted = written if written is not None and written >= 0 else to_insert
        report.unchanged += to_insert - report.inserted
        report.affected_creator_ids = sorted(db_session.scalars(select(staging.c.creator_id).distinct()))
        refresh_statistics(db_session.connection(), [RevenueRecord.__table__], report.inserted)
        report.ledger = _post_imported_platform_payouts(db_session, staging, user).as_dict()
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
    if payment_records(db_session, {deal.id}):  # recorded already (by an earlier payment or by hand)
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
        commission_percent=deal.commission_percent,
        external_ref=ref,
        notes=f"{deal.brand.name}: {deal.title}",
    )
    try:
        with db_session.begin_nested():
            db_session.add(record)
    except IntegrityError:  # a concurrent request recorded it first
        pass


# --- adjustments of invoiced deals ------------------------------------------------------------


def deal_records(*, db_session: Session, deal: Deal) -> list[RevenueRecord]:
    """The deal's revenue records: its payment and its adjustments, oldest first."""
    return db_session.scalars(
        select(RevenueRecord)
        .where(RevenueRecord.deal_id == deal.id, RevenueRecord.archived_at.is_(None))
        .order_by(RevenueRecord.earned_on, RevenueRecord.id)
    ).all()


def record_adjustment(
    *, db_session: Session, actor: Actor, deal: Deal, kind: Adjustment, amount: Decimal, reason: str, today: date
) -> RevenueRecord:
    """A credit (more earned) or a refund (given back) on an invoiced deal, dated the day it is
    made: the statement of that month shows it as such; earlier statements stay as they were."""
    require_creator_write(actor.user, deal.creator)
    if not money_locked(deal):
        raise Conflict(
            f"Deal {deal.id} is {deal.stage.value}, not invoiced yet: change its terms instead of adjusting them.",
            {"stage": [deal.stage.value]},
        )
    if amount <= 0 or not fits_minor_unit(amount, deal.fee_currency) or amount > MAX_AMOUNT:
        raise InvalidInput(
            "The adjustment is invalid; see `errors`.",
            {"amount": [f"a positive amount in {deal.fee_currency}, at most {minor_unit(deal.fee_currency)} decimals"]},
        )
    signed = amount if kind is Adjustment.credit else -amount
    paid = payment_records(db_session, {deal.id}).get(deal.id)
    platform = db_session.get(RevenueRecord, paid[0]).platform if paid else None
    if kind is Adjustment.refund:
        balance = db_session.scalar(
            select(func.coalesce(func.sum(RevenueRecord.amount), 0)).where(
                RevenueRecord.deal_id == deal.id,
                RevenueRecord.currency == deal.fee_currency,
                RevenueRecord.archived_at.is_(None),
            )
        )
        if balance + signed < 0:
            raise InvalidInput(
                f"A refund cannot exceed what the deal has earned so far ({balance} {deal.fee_currency}).",
                {"amount": [f"at most {balance} {deal.fee_currency}"]},
            )
    count = db_session.scalar(
        select(func.count()).where(RevenueRecord.deal_id == deal.id, RevenueRecord.adjustment.is_not(None))
    )
    record = RevenueRecord(
        creator_id=deal.creator_id,
        earned_on=today,
        source=RevenueSource.brand_deal,
        platform=platform,  # counted where the deal's payment is
        amount=signed,
        currency=deal.fee_currency,
        is_refund=kind is Adjustment.refund,
        deal_id=deal.id,
        commission_percent=deal.commission_percent,
        adjustment=kind,
        external_ref=f"deal:{deal.id}:adjustment:{count + 1}",
        notes=reason,
    )
    try:
        with db_session.begin_nested():
            db_session.add(record)
    except IntegrityError:
        raise Conflict(
            "Another adjustment of this deal was recorded at the same moment; reload and try again.",
            {"deal_id": ["adjusted concurrently"]},
        ) from None
    record_audit(
        db_session=db_session,
        actor=actor,
        action=f"deal.adjustment.{kind.value}",
        entity_type="revenue_record",
        entity_id=record.id,
        after=snapshot(record),
    )
    return record
