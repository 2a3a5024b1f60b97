"""Receivables aging, read from the ledger: what each invoice still owes (its receivable lines)
as of a day, in buckets of days past due, per brand and per manager; days sales outstanding per
brand. One grouped query; buckets are computed in Python from the due dates."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agency.core.users.models import User
from agency.deals.models import Brand
from agency.money.chain_models import Invoice, InvoiceKind, JournalLine
from agency.money.ledger import MAX_SCALE, RECEIVABLES, exact
from agency.roster.models import Creator

BUCKETS = ("not_due", "1_30", "31_60", "61_90", "over_90")
ZERO = Decimal("0.00")
DSO_DAYS = 90


def bucket_of(days_past_due: int) -> str:
    if days_past_due <= 0:
        return "not_due"
    if days_past_due <= 30:
        return "1_30"
    if days_past_due <= 60:
        return "31_60"
    if days_past_due <= 90:
        return "61_90"
    return "over_90"


def _empty() -> dict:
    return dict.fromkeys(BUCKETS, ZERO) | {"total": ZERO}


@dataclass
class AgingReport:
    as_of: date
    currency: str
    totals: dict = field(default_factory=_empty)
    by_brand: list[dict] = field(default_factory=list)
    by_manager: list[dict] = field(default_factory=list)
    invoices: list[dict] = field(default_factory=list)


def open_receivables(db_session: Session, *, as_of: date, manager_id: int | None = None):
    """Per invoice with something owed on `as_of` (base currency, from the ledger): the
    receivable lines are summed per invoice first, then the few owing are joined to their brand
    and manager."""
    owed = (
        select(JournalLine.invoice_id, func.sum(JournalLine.debit - JournalLine.credit).label("owed"))
        .where(JournalLine.account_code == RECEIVABLES, JournalLine.posted_on <= as_of)
        .group_by(JournalLine.invoice_id)
        .having(func.round(func.sum(JournalLine.debit - JournalLine.credit), MAX_SCALE) != 0)
        .subquery("owed")
    )
    stmt = (
        select(
            Invoice.id,
            Invoice.number,
            Invoice.due_on,
            Invoice.brand_id,
            Brand.name,
            Creator.manager_id,
            func.coalesce(User.full_name, ""),
            owed.c.owed,
        )
        .join(Invoice, Invoice.id == owed.c.invoice_id)
        .join(Brand, Brand.id == Invoice.brand_id)
        .join(Creator, Creator.id == Invoice.creator_id)
        .outerjoin(User, User.id == Creator.manager_id)
    )
    if manager_id is not None:
        stmt = stmt.where(Creator.manager_id == manager_id)
    return db_session.execute(stmt).all()


def aging_report(db_session: Session, *, as_of: date, base_currency: str, manager_id: int | None = None) -> AgingReport:
    report = AgingReport(as_of=as_of, currency=base_currency)
    brands: dict[int, dict] = defaultdict(_empty)
    brand_names: dict[int, str] = {}
    managers: dict[int | None, dict] = defaultdict(_empty)
    manager_names: dict[int | None, str] = {}
    for invoice_id, number, due_on, brand_id, brand_name, mgr_id, mgr_name, owed in open_receivables(
        db_session, as_of=as_of, manager_id=manager_id
    ):
        owed = exact(owed, base_currency)
        days = (as_of - due_on).days
        bucket = bucket_of(days)
        for target in (report.totals, brands[brand_id], managers[mgr_id]):
            target[bucket] += owed
            target["total"] += owed
        brand_names[brand_id] = brand_name
        manager_names[mgr_id] = mgr_name or ("unassigned" if mgr_id is None else f"user {mgr_id}")
        report.invoices.append(
            {
                "invoice_id": invoice_id,
                "number": number,
                "brand_id": brand_id,
                "brand": brand_name,
                "due_on": due_on,
                "days_past_due": max(days, 0),
                "bucket": bucket,
                "owed": owed,
            }
        )
    dso = days_sales_outstanding(db_session, as_of=as_of, owed={b: v["total"] for b, v in brands.items()})
    report.by_brand = sorted(
        ({"brand_id": b, "brand": brand_names[b], "dso_days": dso.get(b)} | v for b, v in brands.items()),
        key=lambda r: (-r["total"], r["brand"]),
    )
    report.by_manager = sorted(
        ({"manager_id": m, "manager": manager_names[m]} | v for m, v in managers.items()),
        key=lambda r: (-r["total"], r["manager"]),
    )
    report.invoices.sort(key=lambda r: (-r["days_past_due"], r["number"] or ""))
    return report


def days_sales_outstanding(db_session: Session, *, as_of: date, owed: dict[int, Decimal]) -> dict[int, Decimal | None]:
    """Per brand: receivables / sales invoiced over the last 90 days x 90 (None without sales)."""
    since = as_of - timedelta(days=DSO_DAYS - 1)
    sales = dict(
        db_session.execute(
            select(Invoice.brand_id, func.sum(JournalLine.debit))
            .join(Invoice, Invoice.id == JournalLine.invoice_id)
            .where(
                JournalLine.account_code == RECEIVABLES,
                JournalLine.posted_on >= since,
                JournalLine.posted_on <= as_of,
                Invoice.kind == InvoiceKind.invoice,
            )
            .group_by(Invoice.brand_id)
        ).all()
    )
    result = {}
    for brand_id, receivable in owed.items():
        invoiced = exact(sales.get(brand_id))
        result[brand_id] = (receivable / invoiced * DSO_DAYS).quantize(Decimal("0.1")) if invoiced else None
    return result
