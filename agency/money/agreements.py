"""Representation agreements: a creator's terms with the agency (dates, exclusivity, territories,
commission by income source, who shares the agency's commission), and the terms a deal takes:
the agreement in force on its contract date, unless the deal overrides them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from agency.core.audit.service import Actor, record_audit, snapshot
from agency.core.database import utcnow
from agency.core.errors import Conflict, InvalidInput, NotFound, stale_version
from agency.core.users.models import Role, User
from agency.currencies.service import check_currency
from agency.deals.models import Deal, DealStage, DealTransition
from agency.deals.service import money_locked
from agency.money.chain_models import Agreement, CommissionSplit, DealTerms, SplitRole
from agency.money.models import RevenueSource
from agency.roster.models import Creator
from agency.roster.service import require_creator_write

HUNDRED = Decimal("100")


@dataclass
class Terms:
    """What a deal's invoice splits: the commission percent and its shares, and where each comes
    from ("deal": set on the deal; "agreement": the agreement in force on the contract date;
    "default": the configured commission, or the agency keeping the whole commission)."""

    commission_percent: Decimal
    splits: list[dict] = field(default_factory=list)  # [{"role", "payee", "share"}]
    agreement_id: int | None = None
    commission_source: str = "default"
    splits_source: str = "default"
    payment_terms_days: int = 30
    vat_rate: Decimal = Decimal("0.00")
    reverse_charge: bool = False


def agreements_query(*, creator_id: int | None = None, manager_id: int | None = None) -> Select:
    stmt = select(Agreement).where(Agreement.archived_at.is_(None))
    if creator_id is not None:
        stmt = stmt.where(Agreement.creator_id == creator_id)
    if manager_id is not None:
        stmt = stmt.where(Agreement.creator_id.in_(select(Creator.id).where(Creator.manager_id == manager_id)))
    return stmt.order_by(Agreement.creator_id, Agreement.starts_on.desc())


def get_agreement(*, db_session: Session, agreement_id: int) -> Agreement:
    agreement = db_session.get(Agreement, agreement_id)
    if agreement is None or agreement.archived_at is not None:
        raise NotFound(f"Agreement {agreement_id} not found.")
    return agreement


def check_splits(db_session: Session, splits: list[dict]) -> list[CommissionSplit]:
    """Shares sum to exactly 100 %; a manager's share names an active staff user, a referrer's a name."""
    errors: dict[str, list[str]] = {}
    total = sum((Decimal(s["share_percent"]) for s in splits), Decimal(0))
    if splits and total != HUNDRED:
        errors["splits"] = [f"shares sum to {total} %, not 100 %"]
    rows = []
    for index, split in enumerate(splits):
        role = SplitRole(split["role"])
        user_id = split.get("user_id")
        name = (split.get("referrer_name") or "").strip()
        if role in (SplitRole.primary_manager, SplitRole.secondary_manager):
            user = db_session.get(User, user_id) if user_id else None
            if user is None or user.role not in (Role.manager, Role.admin) or not user.is_active:
                errors[f"splits.{index}.user_id"] = ["must be an active manager or admin"]
        elif role is SplitRole.referrer and not name:
            errors[f"splits.{index}.referrer_name"] = ["a referrer needs a name"]
        rows.append(
            CommissionSplit(
                role=role,
                user_id=user_id if role in (SplitRole.primary_manager, SplitRole.secondary_manager) else None,
                referrer_name=name if role is SplitRole.referrer else "",
                share_percent=Decimal(split["share_percent"]),
            )
        )
    if errors:
        raise InvalidInput("The commission splits are invalid; see `errors`.", errors)
    return rows


def _check_agreement(db_session: Session, data: dict, creator_id: int, agreement_id: int | None) -> None:
    errors = {}
    if data.get("ends_on") and data["ends_on"] < data["starts_on"]:
        errors["ends_on"] = ["must be on or after starts_on"]
    for source in data.get("commission_rates", {}):
        if source not in {s.value for s in RevenueSource}:
            errors["commission_rates"] = [f"unknown income source '{source}'"]
    if errors:
        raise InvalidInput("The agreement is invalid; see `errors`.", errors)
    data["payout_currency"] = check_currency(data["payout_currency"], "payout_currency")
    data["commission_rates"] = {k: str(Decimal(v)) for k, v in data.get("commission_rates", {}).items()}
    # Two agreements of one creator never overlap: one is in force on any day.
    far = date.max
    clash = db_session.scalar(
        select(Agreement.id).where(
            Agreement.creator_id == creator_id,
            Agreement.archived_at.is_(None),
            Agreement.id != (agreement_id or -1),
            Agreement.starts_on <= (data.get("ends_on") or far),
            or_(Agreement.ends_on.is_(None), Agreement.ends_on >= data["starts_on"]),
        )
    )
    if clash is not None:
        raise Conflict(f"The dates overlap agreement {clash} of this creator.", {"starts_on": ["overlaps"]})


def save_agreement(
    *,
    db_session: Session,
    actor: Actor,
    data: dict,
    default_commission: Decimal,
    agreement: Agreement | None = None,
    expected_version=None,
) -> Agreement:
    """Add an agreement, or change one (`expected_version` is the version the caller read). A new
    agreement given no default rate takes `default_commission`, the configured one: configuration
    is the only place a default percentage is written."""
    data = dict(data)
    if agreement is None and data.get("default_commission_percent") is None:
        data["default_commission_percent"] = default_commission
    creator_id = agreement.creator_id if agreement else data["creator_id"]
    creator = db_session.get(Creator, creator_id)
    if creator is None or creator.archived_at is not None:
        raise InvalidInput("Unknown creator.", {"creator_id": [f"no active creator with id {creator_id}"]})
    require_creator_write(actor.user, creator)
    if agreement is not None and expected_version != agreement.version:
        raise stale_version(f"Agreement {agreement.id}", agreement.version, expected_version)
    merged = ({} if agreement is None else snapshot(agreement)) | data
    merged["starts_on"] = date.fromisoformat(str(merged["starts_on"]))
    if merged.get("ends_on"):
        merged["ends_on"] = date.fromisoformat(str(merged["ends_on"]))
    _check_agreement(db_session, merged, creator_id, agreement.id if agreement else None)
    splits = data.pop("splits", None)
    split_rows = check_splits(db_session, splits) if splits is not None else None
    for key in ("payout_currency", "commission_rates"):
        if key in data:
            data[key] = merged[key]
    before = snapshot(agreement) if agreement else None
    if agreement is None:
        agreement = Agreement(**data)
        db_session.add(agreement)
    else:
        data.pop("creator_id", None)
        for key, value in data.items():
            setattr(agreement, key, value)
    if split_rows is not None:
        agreement.splits = split_rows
    db_session.flush()
    sync_creator_deals(db_session, creator_id)
    after = snapshot(agreement) | {"splits": [_split_dict(s) for s in agreement.splits]}
    record_audit(
        db_session=db_session,
        actor=actor,
        action="agreement.update" if before else "agreement.create",
        entity_type="agreement",
        entity_id=agreement.id,
        before=before,
        after=after,
    )
    return agreement


def archive_agreement(*, db_session: Session, actor: Actor, agreement: Agreement) -> None:
    require_creator_write(actor.user, agreement.creator)
    before = snapshot(agreement)
    agreement.archived_at = utcnow()
    db_session.flush()
    sync_creator_deals(db_session, agreement.creator_id)
    record_audit(
        db_session=db_session,
        actor=actor,
        action="agreement.archive",
        entity_type="agreement",
        entity_id=agreement.id,
        before=before,
        after=snapshot(agreement),
    )


def _split_dict(split: CommissionSplit) -> dict:
    payee = f"user:{split.user_id}" if split.user_id else (split.referrer_name or "agency")
    return {"role": split.role.value, "payee": payee, "share": str(split.share_percent)}


def agreement_in_force(db_session: Session, creator_id: int, on: date) -> Agreement | None:
    return db_session.scalar(
        select(Agreement)
        .where(
            Agreement.creator_id == creator_id,
            Agreement.archived_at.is_(None),
            Agreement.starts_on <= on,
            or_(Agreement.ends_on.is_(None), Agreement.ends_on >= on),
        )
        .order_by(Agreement.starts_on.desc())
        .limit(1)
    )


def contract_date(db_session: Session, deal: Deal, terms: DealTerms | None) -> date:
    """The deal's contract date: set on its terms, else the day it moved to contracted, else its
    start date, else the day it was created."""
    if terms is not None and terms.contract_date is not None:
        return terms.contract_date
    contracted = db_session.scalar(
        select(DealTransition.occurred_at)
        .where(DealTransition.deal_id == deal.id, DealTransition.to_stage == DealStage.contracted)
        .order_by(DealTransition.id)
        .limit(1)
    )
    if contracted is not None:
        return contracted.date()
    return deal.start_date or deal.created_at.date()


def get_deal_terms(db_session: Session, deal_id: int) -> DealTerms | None:
    return db_session.scalar(select(DealTerms).where(DealTerms.deal_id == deal_id))


def _commission(deal: Deal, agreement: Agreement | None, default_commission: Decimal) -> tuple[Decimal, str]:
    """The one commission of a deal: its own when it overrides (`deal.commission_override`), else
    the agreement's rate for brand deals (its default rate without one), else the commission the
    deal was opened with (the configured default)."""
    if deal.commission_override:
        return Decimal(deal.commission_percent), "deal"
    if agreement is not None:
        rate = agreement.commission_rates.get(RevenueSource.brand_deal.value)
        return (Decimal(rate) if rate is not None else agreement.default_commission_percent), "agreement"
    opened_with = deal.commission_percent
    return Decimal(opened_with if opened_with is not None else default_commission), "default"


def terms_for_deal(db_session: Session, deal: Deal, *, default_commission: Decimal) -> Terms:
    """Commission and splits for a deal: its own when it overrides them, else the agreement in
    force on its contract date, else the default commission with the agency keeping it all."""
    terms = get_deal_terms(db_session, deal.id)
    agreement = agreement_in_force(db_session, deal.creator_id, contract_date(db_session, deal, terms))
    override_splits = list(
        db_session.scalars(
            select(CommissionSplit).where(CommissionSplit.deal_id == deal.id).order_by(CommissionSplit.id)
        )
    )
    percent, commission_source = _commission(deal, agreement, default_commission)
    splits = override_splits or (agreement.splits if agreement is not None else [])
    result = Terms(
        commission_percent=percent,
        splits=[_split_dict(s) for s in splits] or [{"role": "agency", "payee": "agency", "share": "100"}],
        agreement_id=agreement.id if agreement else None,
        commission_source=commission_source,
        splits_source="deal" if override_splits else ("agreement" if agreement and agreement.splits else "default"),
    )
    if terms is not None:
        result.payment_terms_days = terms.payment_terms_days
        result.vat_rate = terms.vat_rate
        result.reverse_charge = terms.reverse_charge
    return result


def save_deal_terms(*, db_session: Session, actor: Actor, deal: Deal, data: dict) -> DealTerms:
    """Override a deal's commission, splits, payment terms or VAT (before it is invoiced)."""
    require_creator_write(actor.user, deal.creator)
    if deal.stage in (DealStage.invoiced, DealStage.paid):
        raise Conflict("The deal is invoiced: its terms are frozen on the invoice.", {"deal_id": ["invoiced"]})
    data = dict(data)
    splits = data.pop("splits", None)
    terms = get_deal_terms(db_session, deal.id)
    before = snapshot(terms) if terms else None
    if terms is None:
        terms = DealTerms(deal_id=deal.id)
        db_session.add(terms)
    if "commission_percent" in data:
        # The commission lives on the deal: a percent overrides the agreement's, none gives it back.
        percent = data.pop("commission_percent")
        deal.commission_override = percent is not None
        if percent is not None:
            deal.commission_percent = percent
    for key, value in data.items():
        setattr(terms, key, value)
    rows = check_splits(db_session, splits) if splits is not None else []
    if splits is not None:
        for old in db_session.scalars(select(CommissionSplit).where(CommissionSplit.deal_id == deal.id)):
            db_session.delete(old)
        for row in rows:
            row.deal_id = deal.id
            db_session.add(row)
    db_session.flush()
    sync_deal_commission(deal, db_session=db_session)
    record_audit(
        db_session=db_session,
        actor=actor,
        action="deal_terms.save",
        entity_type="deal",
        entity_id=deal.id,
        before=before,
        after=snapshot(terms)
        | {"commission_percent": str(deal.commission_percent), "commission_override": deal.commission_override}
        | ({"splits": [_split_dict(r) for r in rows]} if splits is not None else {}),
    )
    return terms


def sync_deal_commission(deal: Deal, *, db_session: Session, **_details) -> None:
    """Receiver of `deal_saved` and `deal_stage_changed` (and called when an agreement or a deal's
    terms change): a deal that does not override its commission carries the rate of the agreement
    in force on its contract date, until it is invoiced (then the invoice holds it)."""
    if deal.commission_override or money_locked(deal) or deal.archived_at is not None:
        return
    agreement = agreement_in_force(
        db_session, deal.creator_id, contract_date(db_session, deal, get_deal_terms(db_session, deal.id))
    )
    if agreement is None:
        return  # no agreement that day: the deal keeps the commission it has
    percent, _source = _commission(deal, agreement, deal.commission_percent)
    if deal.commission_percent != percent:
        deal.commission_percent = percent
        db_session.flush()


def sync_creator_deals(db_session: Session, creator_id: int) -> None:
    """After a creator's agreement changed: their open deals without an override follow it."""
    deals = db_session.scalars(
        select(Deal).where(
            Deal.creator_id == creator_id,
            Deal.commission_override.is_(False),
            Deal.archived_at.is_(None),
            Deal.invoiced_on.is_(None),
            Deal.stage.not_in([DealStage.invoiced, DealStage.paid]),
        )
    )
    for deal in deals:
        sync_deal_commission(deal, db_session=db_session)


def agreements_ending(db_session: Session, *, today: date) -> list[Agreement]:
    """Agreements whose end falls within their renewal notice (and not yet past)."""
    rows = db_session.scalars(
        select(Agreement).where(
            Agreement.archived_at.is_(None), Agreement.ends_on.is_not(None), Agreement.ends_on >= today
        )
    )
    return [a for a in rows if (a.ends_on - today).days <= a.renewal_notice_days]
