"""Creator payouts: what each creator can be paid (their payable for money the agency has
collected), payout batches (selected, approved by an admin, marked paid with the bank reference
and date, which posts Dr creator payables / Cr cash)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.orm import Session

from agency.core.audit.service import Actor, record_audit, snapshot
from agency.core.database import utcnow
from agency.core.errors import Conflict, Forbidden, InvalidInput, NotFound, stale_version
from agency.core.users.models import Role
from agency.core.users.service import require_role
from agency.money.chain_models import (
    Invoice,
    InvoiceStatus,
    JournalLine,
    PayoutBatch,
    PayoutItem,
    PayoutStatus,
)
from agency.money.invoices import MoneySettings
from agency.money.ledger import CASH, CREATOR_PAYABLES, Posting, cr, dr, exact, post
from agency.roster.models import Creator

ZERO = Decimal("0.00")


def payable_balances(db_session: Session, *, creator_ids: list[int] | None = None) -> list[dict]:
    """Per creator, from the ledger: the whole payable, and the part collected (from invoices paid
    in full, or with no invoice) less what was paid out and what waits in an unpaid batch."""
    paid_or_none = or_(JournalLine.invoice_id.is_(None), Invoice.status.in_([InvoiceStatus.paid, InvoiceStatus.void]))
    balance = func.sum(JournalLine.credit - JournalLine.debit)
    collected = func.sum(case((paid_or_none, JournalLine.credit - JournalLine.debit), else_=0))
    stmt = (
        select(JournalLine.creator_id, balance, collected)
        .outerjoin(Invoice, Invoice.id == JournalLine.invoice_id)
        .where(JournalLine.account_code == CREATOR_PAYABLES)
        .group_by(JournalLine.creator_id)
    )
    if creator_ids is not None:
        stmt = stmt.where(JournalLine.creator_id.in_(creator_ids))
    pending = dict(
        db_session.execute(
            select(PayoutItem.creator_id, func.sum(PayoutItem.amount))
            .join(PayoutBatch, PayoutBatch.id == PayoutItem.batch_id)
            .where(PayoutBatch.status != PayoutStatus.paid)
            .group_by(PayoutItem.creator_id)
        ).all()
    )
    names = dict(db_session.execute(select(Creator.id, Creator.display_name)).all())
    rows = []
    for creator_id, total, got in db_session.execute(stmt):
        waiting = exact(pending.get(creator_id))
        rows.append(
            {
                "creator_id": creator_id,
                "creator_name": names.get(creator_id, ""),
                "balance": exact(total),
                "available": max(exact(got) - waiting, ZERO),
                "in_batches": waiting,
            }
        )
    return sorted(rows, key=lambda r: r["creator_name"])


def batches_query(status: str | None = None) -> Select:
    stmt = select(PayoutBatch)
    if status:
        stmt = stmt.where(PayoutBatch.status == PayoutStatus(status))
    return stmt.order_by(PayoutBatch.id.desc())


def get_batch(*, db_session: Session, batch_id: int) -> PayoutBatch:
    batch = db_session.get(PayoutBatch, batch_id)
    if batch is None:
        raise NotFound(f"Payout batch {batch_id} not found.")
    return batch


def create_batch(
    *, db_session: Session, actor: Actor, creator_ids: list[int] | None, settings: MoneySettings
) -> PayoutBatch:
    """A draft batch paying each selected creator (or every creator with something available)
    what is available to them now."""
    require_role(actor.user, Role.admin, Role.manager)
    rows = [r for r in payable_balances(db_session, creator_ids=creator_ids) if r["available"] > 0]
    if actor.user.role is Role.manager:
        mine = set(db_session.scalars(select(Creator.id).where(Creator.manager_id == actor.user.id)))
        if creator_ids and not set(creator_ids) <= mine:
            raise Forbidden("You can only pay out creators you manage.")
        rows = [r for r in rows if r["creator_id"] in mine]
    if not rows:
        raise InvalidInput("Nobody selected has anything available to pay out.", {"creator_ids": ["nothing to pay"]})
    batch = PayoutBatch(
        status=PayoutStatus.draft,
        currency=settings.base_currency,
        total=sum((r["available"] for r in rows), ZERO),
        created_by_id=actor.user.id,
        items=[PayoutItem(creator_id=r["creator_id"], amount=r["available"]) for r in rows],
    )
    db_session.add(batch)
    db_session.flush()
    record_audit(
        db_session=db_session,
        actor=actor,
        action="payout_batch.create",
        entity_type="payout_batch",
        entity_id=batch.id,
        after=snapshot(batch) | {"items": [[i.creator_id, str(i.amount)] for i in batch.items]},
    )
    return batch


def _check_version(batch: PayoutBatch, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != batch.version:
        raise stale_version(f"Payout batch {batch.id}", batch.version, expected_version)


def approve_batch(*, db_session: Session, actor: Actor, batch: PayoutBatch, expected_version=None) -> PayoutBatch:
    require_role(actor.user, Role.admin)
    _check_version(batch, expected_version)
    if batch.status is not PayoutStatus.draft:
        raise Conflict(f"Payout batch {batch.id} is {batch.status.value}.", {"status": ["not a draft"]})
    before = snapshot(batch)
    batch.status = PayoutStatus.approved
    batch.approved_by_id = actor.user.id
    batch.approved_at = utcnow()
    db_session.flush()
    record_audit(
        db_session=db_session, actor=actor, action="payout_batch.approve", entity_type="payout_batch",
        entity_id=batch.id, before=before, after=snapshot(batch),
    )  # fmt: skip
    return batch


def mark_batch_paid(
    *,
    db_session: Session,
    actor: Actor,
    batch: PayoutBatch,
    paid_on: date,
    reference: str,
    settings: MoneySettings,
    today: date,
    expected_version=None,
) -> PayoutBatch:
    """The bank transfer went out: one entry debits each creator's payable and credits cash."""
    require_role(actor.user, Role.admin)
    _check_version(batch, expected_version)
    if batch.status is not PayoutStatus.approved:
        raise Conflict(f"Payout batch {batch.id} is {batch.status.value}, not approved.", {"status": ["not approved"]})
    if paid_on > today:
        raise InvalidInput("The payout date is in the future.", {"paid_on": ["is in the future"]})
    before = snapshot(batch)
    batch.status = PayoutStatus.paid
    batch.paid_on = paid_on
    batch.payment_reference = reference
    db_session.flush()
    lines = []
    for item in batch.items:
        lines.append(dr(CREATOR_PAYABLES, item.amount, creator_id=item.creator_id, memo="payout"))
        lines.append(cr(CASH, item.amount, creator_id=item.creator_id, memo=f"payout to {item.creator.display_name}"))
    post(
        db_session,
        Posting(
            posted_on=paid_on,
            kind="creator_payout",
            event_key=f"payout-batch:{batch.id}",
            description=f"Creator payouts, batch {batch.id}",
            base_currency=settings.base_currency,
            reference=reference,
            actor_label=actor.label,
            lines=lines,
        ),
    )
    record_audit(
        db_session=db_session, actor=actor, action="payout_batch.paid", entity_type="payout_batch",
        entity_id=batch.id, before=before, after=snapshot(batch),
    )  # fmt: skip
    return batch
