"""The creator roster: queries, creation, edits with optimistic concurrency, archiving, accounts."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Row, Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, selectinload

from agency.db import utcnow
from agency.models import (
    AccountType, Creator, CreatorStatus, GuidelineStrike, Platform, PlatformAccount, Role, Standing, User,
)
from agency.services import Conflict, InvalidInput, NotFound
from agency.services.audit import Actor, record_audit, snapshot
from agency.services.auth import require_creator_write, require_role

SORTABLE = {
    "display_name": Creator.display_name,
    "country": Creator.country,
    "niche": Creator.niche,
    "status": Creator.status,
    "created_at": Creator.created_at,
    "updated_at": Creator.updated_at,
    "date_of_birth": Creator.date_of_birth,
    "id": Creator.id,
}


@dataclass
class CreatorFilters:
    status: list[str] | None = None
    niche: list[str] | None = None
    country: list[str] | None = None
    manager_id: int | None = None
    unassigned: bool = False
    q: str | None = None
    include_archived: bool = False
    sort: str = "display_name"

    def cache_key(self) -> tuple:
        return tuple(tuple(value) if isinstance(value, list) else value for value in vars(self).values())


def creators_query(filters: CreatorFilters) -> Select:
    """The roster as a `select` of `Creator`, filtered and sorted; callers paginate it."""
    # Strikes are counted in every list row: load them in one query, not one per creator.
    stmt = select(Creator).options(selectinload(Creator.accounts), selectinload(Creator.strikes))
    return _filtered(stmt, filters)


def _filtered(stmt: Select, filters: CreatorFilters) -> Select:
    """Apply the roster filters and sort order to any `select` over `Creator`."""
    if not filters.include_archived:
        stmt = stmt.where(Creator.archived_at.is_(None))
    if filters.status:
        stmt = stmt.where(Creator.status.in_([CreatorStatus(s) for s in filters.status]))
    if filters.niche:
        stmt = stmt.where(Creator.niche.in_(filters.niche))
    if filters.country:
        stmt = stmt.where(Creator.country.in_([c.upper() for c in filters.country]))
    if filters.manager_id is not None:
        stmt = stmt.where(Creator.manager_id == filters.manager_id)
    if filters.unassigned:
        stmt = stmt.where(Creator.manager_id.is_(None))
    if filters.q:
        # Escape LIKE wildcards so a user's "%" or "_" means itself.
        needle = filters.q.strip().lower().lstrip("@")
        needle = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{needle}%"
        handle_match = select(PlatformAccount.id).where(
            PlatformAccount.creator_id == Creator.id, PlatformAccount.handle.like(pattern, escape="\\")
        ).exists()
        stmt = stmt.where(or_(
            func.lower(Creator.display_name).like(pattern, escape="\\"),
            func.lower(Creator.legal_name).like(pattern, escape="\\"),
            handle_match,
        ))
    descending = filters.sort.startswith("-")
    column = SORTABLE[filters.sort.lstrip("-")]
    return stmt.order_by(column.desc() if descending else column.asc(), Creator.id.asc())


# OFFSET is a 64-bit integer in PostgreSQL and SQLite: a huge page number asks for an empty page.
_MAX_OFFSET = 2**62


@dataclass
class RosterPage:
    """One page of the roster as plain rows, for the API's list and detail documents."""

    total: int
    creators: list[Row]
    accounts: dict[int, list[Row]]


def roster_page(*, db_session: Session, filters: CreatorFilters | None = None, creator_id: int | None = None,
                page: int = 1, page_size: int = 50) -> RosterPage:
    """The roster read in one statement whatever the page size: the page of creators (with their
    manager, strike count and the filter's total as a window count) joined to their accounts.

    This is the API's hot path; `creators_query` gives the same creators as ORM objects."""
    filters = filters or CreatorFilters(include_archived=True, sort="id")
    manager = aliased(User)
    strikes = (select(func.count(GuidelineStrike.id)).where(GuidelineStrike.creator_id == Creator.id)
               .correlate(Creator).scalar_subquery())
    creators = (
        select(*Creator.__table__.c,
               manager.email.label("manager_email"), manager.full_name.label("manager_full_name"),
               strikes.label("strikes_count"), func.count().over().label("total"))
        .select_from(Creator).outerjoin(manager, manager.id == Creator.manager_id)
    )
    if creator_id is not None:
        creators = creators.where(Creator.id == creator_id)
    offset = min((page - 1) * page_size, _MAX_OFFSET)
    one_page = _filtered(creators, filters).limit(page_size).offset(offset).subquery("page")
    sort_column = one_page.c[filters.sort.lstrip("-")]
    account = PlatformAccount.__table__
    stmt = (
        select(one_page, *(column.label(f"account_{column.name}") for column in account.c))
        .select_from(one_page).outerjoin(account, account.c.creator_id == one_page.c.id)
        .order_by(sort_column.desc() if filters.sort.startswith("-") else sort_column.asc(),
                  one_page.c.id, account.c.id)
    )
    rows: list[Row] = []
    accounts: dict[int, list[Row]] = {}
    for row in db_session.connection().execute(stmt):  # Core rows: no ORM loading on the hot path
        if row.id not in accounts:
            rows.append(row)
            accounts[row.id] = []
        if row.account_id is not None:
            accounts[row.id].append(row)
    if rows:
        total = rows[0].total
    elif offset:
        # Past the last page the window count has no row to ride on: count on its own.
        total = db_session.scalar(select(func.count()).select_from(
            _filtered(select(Creator.id), filters).order_by(None).subquery()))
    else:
        total = 0
    return RosterPage(total=total, creators=rows, accounts=accounts)


def get_creator(*, db_session: Session, creator_id: int, include_archived: bool = True) -> Creator:
    creator = db_session.get(Creator, creator_id)
    if creator is None or (creator.archived_at is not None and not include_archived):
        raise NotFound(f"Creator {creator_id} not found.")
    return creator


def _check_manager(db_session: Session, manager_id: int | None) -> None:
    if manager_id is None:
        return
    manager = db_session.get(User, manager_id)
    if manager is None or manager.role not in (Role.manager, Role.admin) or not manager.is_active:
        raise InvalidInput("Unknown account manager.",
                           {"manager_id": [f"no active manager or admin with id {manager_id}"]})


def create_creator(*, db_session: Session, actor: Actor, data: dict) -> Creator:
    user = actor.user
    require_role(user, Role.admin, Role.manager)
    accounts = data.pop("accounts", [])
    if user.role is Role.manager:
        # A manager creates creators for themself; assigning to someone else is an admin's job.
        if data.get("manager_id") not in (None, user.id):
            raise InvalidInput("Managers can only create creators they manage.",
                               {"manager_id": ["must be your own user id"]})
        data["manager_id"] = user.id
    _check_manager(db_session, data.get("manager_id"))
    creator = Creator(**data)
    db_session.add(creator)
    db_session.flush()
    for account in accounts:
        _add_account(db_session, creator, account)
    record_audit(db_session=db_session, actor=actor, action="creator.create", entity_type="creator",
                 entity_id=creator.id, after=snapshot(creator))
    return creator


def update_creator(*, db_session: Session, actor: Actor, creator: Creator, data: dict,
                   expected_version: int | None) -> Creator:
    require_creator_write(actor.user, creator)
    if expected_version is not None and expected_version != creator.version:
        raise Conflict(
            f"Creator {creator.id} was changed by someone else (version {creator.version}, "
            f"you sent {expected_version}). Reload and apply your change again.",
            {"version": [f"current version is {creator.version}"]},
        )
    if "manager_id" in data and data["manager_id"] != creator.manager_id:
        if actor.user.role is not Role.admin:
            raise InvalidInput("Only admins can reassign a creator to another manager.",
                               {"manager_id": ["admins only"]})
        _check_manager(db_session, data["manager_id"])
    before = snapshot(creator)
    for key, value in data.items():
        setattr(creator, key, value)
    if creator.status is CreatorStatus.offboarded and creator.archived_at is None:
        creator.archived_at = utcnow()
    db_session.flush()
    if "manager_id" in data:
        db_session.expire(creator, ["manager"])  # reload the relationship from the new id
    record_audit(db_session=db_session, actor=actor, action="creator.update", entity_type="creator",
                 entity_id=creator.id, before=before, after=snapshot(creator))
    return creator


def archive_creator(*, db_session: Session, actor: Actor, creator: Creator) -> Creator:
    """Offboard and archive; the row and its history stay."""
    require_creator_write(actor.user, creator)
    if creator.archived_at is not None:
        return creator
    before = snapshot(creator)
    creator.archived_at = utcnow()
    creator.status = CreatorStatus.offboarded
    db_session.flush()
    record_audit(db_session=db_session, actor=actor, action="creator.archive", entity_type="creator",
                 entity_id=creator.id, before=before, after=snapshot(creator))
    return creator


def normalise_handle(handle: str) -> str:
    return handle.strip().lstrip("@").lower()


def _add_account(db_session: Session, creator: Creator, data: dict) -> PlatformAccount:
    platform = Platform(data["platform"])
    handle = normalise_handle(data["handle"])
    clash = db_session.scalar(select(PlatformAccount).where(
        PlatformAccount.platform == platform, PlatformAccount.handle == handle))
    if clash is not None:
        raise Conflict(f"The {platform.value} handle @{handle} already belongs to creator {clash.creator_id}.",
                       {"handle": ["already registered on this platform"]})
    account = PlatformAccount(creator=creator, platform=platform, handle=handle,
                              account_type=AccountType(data.get("account_type", "personal")))
    db_session.add(account)
    try:
        with db_session.begin_nested():
            db_session.flush()
    except IntegrityError as exc:  # a concurrent insert of the same handle
        raise Conflict(f"The {platform.value} handle @{handle} is already registered.") from exc
    return account


def add_account(*, db_session: Session, actor: Actor, creator: Creator, data: dict) -> PlatformAccount:
    require_creator_write(actor.user, creator)
    account = _add_account(db_session, creator, data)
    record_audit(db_session=db_session, actor=actor, action="account.create", entity_type="platform_account",
                 entity_id=account.id, after=snapshot(account))
    return account


def get_account(*, db_session: Session, creator: Creator, account_id: int) -> PlatformAccount:
    account = db_session.get(PlatformAccount, account_id)
    if account is None or account.creator_id != creator.id:
        raise NotFound(f"Account {account_id} not found for creator {creator.id}.")
    return account


def update_account(*, db_session: Session, actor: Actor, account: PlatformAccount, data: dict) -> PlatformAccount:
    require_creator_write(actor.user, account.creator)
    before = snapshot(account)
    if "handle" in data:
        handle = normalise_handle(data["handle"])
        clash = db_session.scalar(select(PlatformAccount.id).where(
            PlatformAccount.platform == account.platform, PlatformAccount.handle == handle,
            PlatformAccount.id != account.id))
        if clash is not None:
            raise Conflict(f"The handle @{handle} is already registered on {account.platform.value}.",
                           {"handle": ["already registered on this platform"]})
        account.handle = handle
    if "account_type" in data:
        account.account_type = AccountType(data["account_type"])
    db_session.flush()
    record_audit(db_session=db_session, actor=actor, action="account.update", entity_type="platform_account",
                 entity_id=account.id, before=before, after=snapshot(account))
    return account


def delete_account(*, db_session: Session, actor: Actor, account: PlatformAccount) -> None:
    require_creator_write(actor.user, account.creator)
    record_audit(db_session=db_session, actor=actor, action="account.delete", entity_type="platform_account",
                 entity_id=account.id, before=snapshot(account))
    db_session.delete(account)
    db_session.flush()


def add_strike(*, db_session: Session, actor: Actor, creator: Creator, occurred_on: date,
               reason: str = "", platform: str | None = None) -> GuidelineStrike:
    """Record a dated strike: the first one puts a creator in good standing on warning, the third restricts them."""
    require_creator_write(actor.user, creator)
    before = snapshot(creator)
    strike = GuidelineStrike(creator=creator, occurred_on=occurred_on, reason=reason,
                             platform=Platform(platform) if platform else None)
    db_session.add(strike)
    db_session.flush()
    count = len(creator.strikes)
    if count >= 3:
        creator.guideline_standing = Standing.restricted
    elif count >= 1 and creator.guideline_standing is Standing.good:
        creator.guideline_standing = Standing.warning
    db_session.flush()
    record_audit(db_session=db_session, actor=actor, action="creator.strike", entity_type="creator",
                 entity_id=creator.id, before=before, after=snapshot(creator) | {"strike_reason": reason})
    return strike


def age_today(creator: Creator, today: date | None = None) -> int | None:
    return creator.age_on(today or date.today())
