"""Monthly statements per creator: revenue by source, agency commission and creator net."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agency.currencies.service import RateBook, round_money
from agency.deals.models import Deal
from agency.money.models import RevenueRecord
from agency.roster.models import Creator


@dataclass
class StatementLine:
    record_id: int
    earned_on: date
    source: str
    platform: str | None
    amount: Decimal
    currency: str
    amount_base: Decimal | None
    commission_percent: Decimal
    commission_base: Decimal | None
    net_base: Decimal | None
    reference: str | None
    notes: str
    # "credit" or "refund" on the correction of an invoiced deal (dated when it was made).
    adjustment: str | None = None


@dataclass
class Statement:
    creator_id: int
    creator_name: str
    month: str
    currency: str
    lines: list[StatementLine] = field(default_factory=list)
    by_source: dict = field(default_factory=dict)
    by_currency: dict = field(default_factory=dict)
    total_base: Decimal = Decimal("0.00")
    commission_base: Decimal = Decimal("0.00")
    net_base: Decimal = Decimal("0.00")
    unconverted: list[int] = field(default_factory=list)


def month_bounds(month: str) -> tuple[date, date]:
    first = date.fromisoformat(f"{month}-01")
    next_month = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first, next_month - timedelta(days=1)


def build_statement(
    *, db_session: Session, creator: Creator, month: str, base_currency: str, default_commission: Decimal
) -> Statement:
    """Every line is converted and rounded half-up to the base currency's minor unit first (one
    helper, `round_money`); totals are sums of lines, so they reconcile exactly with the records
    they cover. A record's commission is the one it was recorded with (its deal's, kept on the
    record), so editing a deal later cannot change a past month; corrections of invoiced deals are
    their own lines (credit or refund) in the month they were made."""
    first, last = month_bounds(month)
    rows = db_session.execute(
        select(RevenueRecord, func.coalesce(RevenueRecord.commission_percent, Deal.commission_percent))
        .outerjoin(Deal, Deal.id == RevenueRecord.deal_id)
        .where(
            RevenueRecord.creator_id == creator.id,
            RevenueRecord.archived_at.is_(None),
            RevenueRecord.earned_on >= first,
            RevenueRecord.earned_on <= last,
        )
        .order_by(RevenueRecord.earned_on, RevenueRecord.id)
    ).all()
    book = RateBook(db_session, base_currency, {r.currency for r, _ in rows})
    statement = Statement(creator_id=creator.id, creator_name=creator.display_name, month=month, currency=base_currency)
    by_source = defaultdict(
        lambda: {
            "amount_base": Decimal("0.00"),
            "commission_base": Decimal("0.00"),
            "net_base": Decimal("0.00"),
            "records": 0,
        }
    )
    by_currency = defaultdict(lambda: Decimal("0.00"))
    for record, deal_commission in rows:
        percent = deal_commission if deal_commission is not None else default_commission
        base = book.convert(record.amount, record.currency, record.earned_on)
        commission = round_money(base * percent / 100, base_currency) if base is not None else None
        line = StatementLine(
            record.id,
            record.earned_on,
            record.source.value,
            record.platform.value if record.platform else None,
            record.amount,
            record.currency,
            base,
            percent,
            commission,
            base - commission if base is not None else None,
            record.external_ref,
            record.notes,
            record.adjustment.value if record.adjustment else None,
        )
        statement.lines.append(line)
        by_currency[record.currency] += record.amount
        if base is None:
            statement.unconverted.append(record.id)
            continue
        entry = by_source[line.source]
        entry["amount_base"] += base
        entry["commission_base"] += commission
        entry["net_base"] += line.net_base
        entry["records"] += 1
        statement.total_base += base
        statement.commission_base += commission
        statement.net_base += line.net_base
    statement.by_source = dict(sorted(by_source.items()))
    statement.by_currency = dict(sorted(by_currency.items()))
    return statement
