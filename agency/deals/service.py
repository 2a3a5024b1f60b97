"""Brands and brand deals: the pipeline, its legal stage transitions, deliverables."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from agency.core.audit.service import Actor, record_audit, snapshot
from agency.core.database import utcnow
from agency.core.errors import Conflict, Forbidden, InvalidInput, NotFound, stale_version
from agency.core.events import deal_saved, deal_stage_changed
from agency.core.users.models import Role
from agency.core.users.service import require_role
from agency.currencies.service import RateBook, check_currency, fits_minor_unit, minor_unit
from agency.deals.models import Brand, Deal, DealStage, DealTransition, Deliverable, DeliverableStatus
from agency.roster.models import Creator
from agency.roster.service import require_creator_write

# The pipeline. Cancelled or lost are reachable from every open stage.
NEXT_STAGE = {
    DealStage.lead: DealStage.negotiating,
    DealStage.negotiating: DealStage.contracted,
    DealStage.contracted: DealStage.in_progress,
    DealStage.in_progress: DealStage.delivered,
    DealStage.delivered: DealStage.invoiced,
    DealStage.invoiced: DealStage.paid,
}
CLOSED_STAGES = (DealStage.paid, DealStage.cancelled, DealStage.lost)
# From the invoice on, what a deal is worth is fixed: corrections are adjustment records (money).
MONEY_FIELDS = ("fee_amount", "fee_currency", "commission_percent", "commission_override")


def money_locked(deal: Deal) -> bool:
    """True once the deal is invoiced (or paid, or closed after its invoice)."""
    return deal.stage in (DealStage.invoiced, DealStage.paid) or deal.invoiced_on is not None


def check_money_unlocked(deal: Deal, data: dict) -> None:
    """Refuse (409, naming the stage) a change of an invoiced deal's fee, currency or commission;
    sending the values it already has is not a change."""
    if not money_locked(deal):
        return
    changed = sorted(k for k in MONEY_FIELDS if k in data and data[k] != getattr(deal, k))
    if changed:
        raise Conflict(
            f"Deal {deal.id} is {deal.stage.value}: its fee, currency and commission are locked once invoiced. "
            "Record a credit or a refund as an adjustment instead.",
            {k: [f"locked: the deal is {deal.stage.value}"] for k in changed} | {"stage": [deal.stage.value]},
        )


def allowed_transitions(stage: DealStage) -> list[DealStage]:
    if stage in CLOSED_STAGES:
        return []
    return [NEXT_STAGE[stage], DealStage.cancelled, DealStage.lost]


# --- brands -----------------------------------------------------------------------------------


def get_brand(*, db_session: Session, brand_id: int) -> Brand:
    brand = db_session.get(Brand, brand_id)
    if brand is None:
        raise NotFound(f"Brand {brand_id} not found.")
    return brand


def require_brand_write(*, db_session: Session, actor: Actor, brand: Brand) -> None:
    """Brands belong to the agency: a manager may edit or archive one only while every deal using it
    (archived ones included) is for a creator they manage; otherwise it is an admin's change (403)."""
    require_role(actor.user, Role.admin, Role.manager)
    if actor.user.role is Role.admin:
        return
    others = db_session.scalar(
        select(func.count())
        .select_from(Deal)
        .join(Creator, Creator.id == Deal.creator_id)
        .where(Deal.brand_id == brand.id, Creator.manager_id.is_distinct_from(actor.user.id))
    )
    if others:
        raise Forbidden(
            f"Brand '{brand.name}' is used by {others} deal(s) of creators managed by others: "
            "only an admin can edit or archive it."
        )


def save_brand(
    *, db_session: Session, actor: Actor, data: dict, brand: Brand | None = None, expected_version: int | None = None
) -> Brand:
    if brand is None:
        require_role(actor.user, Role.admin, Role.manager)
    else:
        require_brand_write(db_session=db_session, actor=actor, brand=brand)
    name = data.get("name")
    if name is not None:
        clash = db_session.scalar(select(Brand.id).where(Brand.name == name, Brand.id != (brand.id if brand else -1)))
        if clash is not None:
            raise Conflict(f"A brand named '{name}' already exists (id {clash}).", {"name": ["already exists"]})
    before = snapshot(brand) if brand else None
    if brand is None:
        brand = Brand(**data)
        db_session.add(brand)
    else:
        if expected_version is not None and expected_version != brand.version:
            raise stale_version(f"Brand {brand.id}", brand.version, expected_version)
        for key, value in data.items():
            setattr(brand, key, value)
    db_session.flush()
    record_audit(
        db_session=db_session,
        actor=actor,
        action="brand.update" if before else "brand.create",
        entity_type="brand",
        entity_id=brand.id,
        before=before,
        after=snapshot(brand),
    )
    return brand


def archive_brand(*, db_session: Session, actor: Actor, brand: Brand) -> None:
    require_brand_write(db_session=db_session, actor=actor, brand=brand)
    if brand.archived_at is None:
        before = snapshot(brand)
        brand.archived_at = utcnow()
        db_session.flush()
        record_audit(
            db_session=db_session,
            actor=actor,
            action="brand.archive",
            entity_type="brand",
            entity_id=brand.id,
            before=before,
            after=snapshot(brand),
        )


# --- deals ------------------------------------------------------------------------------------


@dataclass
class DealFilters:
    stage: list[str] | None = None
    creator_id: int | None = None
    brand_id: int | None = None
    manager_id: int | None = None
    due_before: date | None = None
    include_archived: bool = False


def deals_query(filters: DealFilters) -> Select:
    stmt = select(Deal).join(Creator, Creator.id == Deal.creator_id)
    if not filters.include_archived:
        stmt = stmt.where(Deal.archived_at.is_(None))
    if filters.stage:
        stmt = stmt.where(Deal.stage.in_([DealStage(s) for s in filters.stage]))
    if filters.creator_id is not None:
        stmt = stmt.where(Deal.creator_id == filters.creator_id)
    if filters.brand_id is not None:
        stmt = stmt.where(Deal.brand_id == filters.brand_id)
    if filters.manager_id is not None:
        stmt = stmt.where(Creator.manager_id == filters.manager_id)
    if filters.due_before is not None:
        due = select(Deliverable.deal_id).where(
            Deliverable.due_date < filters.due_before,
            Deliverable.status.not_in([DeliverableStatus.published, DeliverableStatus.cancelled]),
        )
        stmt = stmt.where(Deal.id.in_(due))
    return stmt.order_by(Deal.updated_at.desc(), Deal.id.desc())


def get_deal(*, db_session: Session, deal_id: int) -> Deal:
    deal = db_session.get(Deal, deal_id)
    if deal is None:
        raise NotFound(f"Deal {deal_id} not found.")
    return deal


def _check_deal_fields(db_session: Session, data: dict, deal: Deal | None = None) -> None:
    if "fee_currency" in data:
        data["fee_currency"] = check_currency(data["fee_currency"], "fee_currency")
    if "fee_amount" in data:
        currency = data.get("fee_currency") or (deal.fee_currency if deal else None)
        if currency and not fits_minor_unit(data["fee_amount"], currency):
            places = minor_unit(currency)
            raise InvalidInput(
                f"A fee in {currency} has at most {places} decimals.",
                {"fee_amount": [f"at most {places} decimals in {currency}"]},
            )
    if "brand_id" in data:
        brand = db_session.get(Brand, data["brand_id"])
        if brand is None or brand.archived_at is not None:
            raise InvalidInput("Unknown brand.", {"brand_id": [f"no active brand with id {data['brand_id']}"]})
    if data.get("start_date") and data.get("end_date") and data["end_date"] < data["start_date"]:
        raise InvalidInput("The deal ends before it starts.", {"end_date": ["must be on or after start_date"]})


def create_deal(*, db_session: Session, actor: Actor, data: dict, default_commission: Decimal) -> Deal:
    """Open a deal as a lead; without a commission it takes the configured default."""
    creator = db_session.get(Creator, data["creator_id"])
    if creator is None or creator.archived_at is not None:
        raise InvalidInput("Unknown creator.", {"creator_id": [f"no active creator with id {data['creator_id']}"]})
    require_creator_write(actor.user, creator)
    _check_deal_fields(db_session, data)
    data.pop("commission_override", None)
    # A commission given is the deal's own; without one the agreement's applies (deal_saved).
    data["commission_override"] = data.get("commission_percent") is not None
    if data.get("commission_percent") is None:
        data["commission_percent"] = default_commission
    deal = Deal(**data, stage=DealStage.lead)
    db_session.add(deal)
    db_session.flush()
    deal_saved.send(deal, db_session=db_session)
    record_audit(
        db_session=db_session,
        actor=actor,
        action="deal.create",
        entity_type="deal",
        entity_id=deal.id,
        after=snapshot(deal),
    )
    return deal


def update_deal(*, db_session: Session, actor: Actor, deal: Deal, data: dict, expected_version: int) -> Deal:
    require_creator_write(actor.user, deal.creator)
    if expected_version != deal.version:
        raise stale_version(f"Deal {deal.id}", deal.version, expected_version)
    if "stage" in data:
        raise InvalidInput(
            "Change the stage with POST /api/v1/deals/{deal_id}/transitions.",
            {"stage": ["use the transitions endpoint"]},
        )
    _check_deal_fields(db_session, data, deal)
    # A commission other than the one the deal has becomes its own (an override); asking for no
    # override (commission_override false) gives it back to the agreement.
    if data.get("commission_percent") is not None and data["commission_percent"] != deal.commission_percent:
        data["commission_override"] = True
    elif data.get("commission_override"):
        data.pop("commission_override")  # an override is made by giving the commission
    if data.get("commission_override") is False:
        data.pop("commission_percent", None)
    check_money_unlocked(deal, data)
    before = snapshot(deal)
    for key, value in data.items():
        setattr(deal, key, value)
    db_session.flush()
    deal_saved.send(deal, db_session=db_session)
    record_audit(
        db_session=db_session,
        actor=actor,
        action="deal.update",
        entity_type="deal",
        entity_id=deal.id,
        before=before,
        after=snapshot(deal),
    )
    return deal


def archive_deal(*, db_session: Session, actor: Actor, deal: Deal) -> None:
    require_creator_write(actor.user, deal.creator)
    if deal.archived_at is None:
        before = snapshot(deal)
        deal.archived_at = utcnow()
        db_session.flush()
        record_audit(
            db_session=db_session,
            actor=actor,
            action="deal.archive",
            entity_type="deal",
            entity_id=deal.id,
            before=before,
            after=snapshot(deal),
        )


def transition_deal(
    *, db_session: Session, actor: Actor, deal: Deal, to_stage: DealStage, today: date, note: str = ""
) -> Deal:
    """Move a deal to its next stage (or cancel/lose it), and announce it (`deal_stage_changed`)."""
    require_creator_write(actor.user, deal.creator)
    allowed = allowed_transitions(deal.stage)
    if to_stage not in allowed:
        names = ", ".join(s.value for s in allowed) or "none (the deal is closed)"
        raise Conflict(
            f"A deal cannot go from {deal.stage.value} to {to_stage.value}; allowed: {names}.",
            {"to_stage": [f"allowed: {names}"], "allowed": [s.value for s in allowed]},
        )
    before = snapshot(deal)
    from_stage = deal.stage
    db_session.add(
        DealTransition(
            deal_id=deal.id,
            from_stage=deal.stage,
            to_stage=to_stage,
            actor_id=actor.user.id if actor.user else None,
            actor_label=actor.label,
            note=note,
        )
    )
    deal.stage = to_stage
    if to_stage is DealStage.invoiced and deal.invoiced_on is None:
        deal.invoiced_on = today
    if to_stage is DealStage.paid:
        deal.paid_on = deal.paid_on or today
    # Money records the revenue of a paid deal (agency/money/revenue.py), in this transaction.
    deal_stage_changed.send(deal, db_session=db_session, from_stage=from_stage, to_stage=to_stage)
    db_session.flush()
    record_audit(
        db_session=db_session,
        actor=actor,
        action="deal.transition",
        entity_type="deal",
        entity_id=deal.id,
        before=before,
        after=snapshot(deal),
    )
    return deal


def pipeline_summary(*, db_session: Session, base_currency: str, today: date, manager_id: int | None = None) -> dict:
    """Count and fee value per stage, in the base currency at today's rates."""
    stmt = select(Deal.stage, Deal.fee_amount, Deal.fee_currency).join(Creator).where(Deal.archived_at.is_(None))
    if manager_id is not None:
        stmt = stmt.where(Creator.manager_id == manager_id)
    rows = db_session.execute(stmt).all()
    book = RateBook(db_session, base_currency, {r.fee_currency for r in rows})
    stages = {s.value: {"count": 0, "value": Decimal("0.00"), "unconverted": 0} for s in DealStage}
    for stage, amount, currency in rows:
        entry = stages[stage.value]
        entry["count"] += 1
        converted = book.convert(amount, currency, today)
        if converted is None:
            entry["unconverted"] += 1
        else:
            entry["value"] += converted
    return {"currency": base_currency, "as_of": today, "stages": [{"stage": k} | v for k, v in stages.items()]}


# --- deliverables -----------------------------------------------------------------------------


def add_deliverable(*, db_session: Session, actor: Actor, deal: Deal, data: dict) -> Deliverable:
    require_creator_write(actor.user, deal.creator)
    deliverable = Deliverable(deal_id=deal.id, **data)
    db_session.add(deliverable)
    db_session.flush()
    record_audit(
        db_session=db_session,
        actor=actor,
        action="deliverable.create",
        entity_type="deliverable",
        entity_id=deliverable.id,
        after=snapshot(deliverable),
    )
    return deliverable


def get_deliverable(*, db_session: Session, deal: Deal, deliverable_id: int) -> Deliverable:
    deliverable = db_session.get(Deliverable, deliverable_id)
    if deliverable is None or deliverable.deal_id != deal.id:
        raise NotFound(f"Deliverable {deliverable_id} not found on deal {deal.id}.")
    return deliverable


def update_deliverable(
    *, db_session: Session, actor: Actor, deliverable: Deliverable, data: dict, expected_version: int
) -> Deliverable:
    require_creator_write(actor.user, deliverable.deal.creator)
    if expected_version != deliverable.version:
        raise stale_version(f"Deliverable {deliverable.id}", deliverable.version, expected_version)
    before = snapshot(deliverable)
    for key, value in data.items():
        setattr(deliverable, key, value)
    if deliverable.status is DeliverableStatus.published and not deliverable.published_url:
        raise InvalidInput("A published deliverable needs its URL.", {"published_url": ["required when published"]})
    db_session.flush()
    record_audit(
        db_session=db_session,
        actor=actor,
        action="deliverable.update",
        entity_type="deliverable",
        entity_id=deliverable.id,
        before=before,
        after=snapshot(deliverable),
    )
    return deliverable
