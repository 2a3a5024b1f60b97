"""The creator roster: queries, creation, edits with optimistic concurrency, archiving, accounts,
strikes, and ownership (who may change which creator)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import RowMapping, Select, case, func, select, union
from sqlalchemy.orm import Session, joinedload, undefer

from agency.core.audit.service import Actor, record_audit, snapshot
from agency.core.database import add_unique, utcnow
from agency.core.errors import Conflict, Forbidden, InvalidInput, NotFound, stale_version
from agency.core.events import creator_invited, evaluation_inputs_changed
from agency.core.portable_sql import json_object
from agency.core.users.invitations import create_invitation, invitation_link
from agency.core.users.models import CreatorInvitation, Role, User
from agency.core.users.service import require_role
from agency.roster.models import (
    AccountType,
    Creator,
    CreatorStatus,
    GuidelineStrike,
    Platform,
    PlatformAccount,
    Standing,
)

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


# The largest OFFSET SQL takes (a signed 64-bit integer on PostgreSQL and SQLite).
MAX_OFFSET = 2**63 - 1

# What an eligibility evaluation reads from a creator (a change to any refreshes their verdicts).
EVALUATED_FIELDS = ("date_of_birth", "country", "guideline_standing", "parental_agreement_on_file", "status")


def _inputs_changed(db_session: Session, what: str, creator_id: int) -> None:
    evaluation_inputs_changed.send(what, db_session=db_session, creator_ids=[creator_id])


def creators_query(filters: CreatorFilters) -> Select:
    """The roster as a `select` of `Creator`, filtered and sorted, loading what `CreatorSchema`
    shows in the same statement: the manager and the accounts (joined) and the strike count (a
    correlated count). For every matching creator (the CSV export); `roster_page` reads a page."""
    stmt = select(Creator).options(joinedload(Creator.accounts), undefer(Creator.strikes_count))
    return _filtered(stmt, filters)


def _manager_ref():
    """The creator's manager as a roster row shows them, {id, email, full_name} (null when
    unassigned), built in the page's statement like the account list."""
    return case(
        (User.id.is_not(None), json_object("id", User.id, "email", User.email, "full_name", User.full_name)),
    )


# What a roster row shows (the API's `CreatorSummarySchema`, the UI's roster table), as columns of
# one row per creator: not the notes, languages or dates; the manager as one JSON object and the
# accounts as one JSON list (`Creator.account_refs`). A page is read as rows of these columns, not
# as `Creator` objects: nothing of a list is edited, and 50 rows need no identity map.
SUMMARY_COLUMNS = (
    Creator.id,
    Creator.display_name,
    Creator.legal_name,
    Creator.country,
    Creator.niche,
    Creator.status,
    Creator.guideline_standing,
    Creator.archived_at,
    Creator.strikes_count.label("strikes_count"),
    Creator.account_refs.label("account_refs"),
    _manager_ref().label("manager"),
)


# The page's statement starts from these columns and the manager's join, built once (what a
# request builds is only its filters, sort and slice).
_SUMMARY_ROWS = select(*SUMMARY_COLUMNS).outerjoin(User, User.id == Creator.manager_id)


def page_query(filters: CreatorFilters, *, limit: int, offset: int) -> Select:
    """One page of the roster and the total, in one statement: the page's creator ids, filtered,
    sorted and sliced by the sort's index (narrow rows, however deep the page), then what a roster
    row shows of those creators (`SUMMARY_COLUMNS`), their manager joined, and a `total` column.
    Only the page's rows are decorated: a strike count in the sliced part would be computed for
    every row the OFFSET skips too.
    The total of a search is a window count over its matches, which the page sorts whole anyway
    (a search has no index order), so the matches are found once. The total of a filter is a
    count over the creators table alone (no manager join, no strike count), which the roster's
    partial indexes answer with an index-only scan while the page stops after its rows."""
    criteria = _criteria(filters)
    ordering = _ordering(filters)
    ids = select(Creator.id).where(*criteria).order_by(*ordering)
    if filters.q:
        ids = ids.add_columns(func.count().over().label("total"))
    page = ids.limit(limit).offset(offset).subquery("page")
    total = page.c.total if filters.q else _count(criteria).scalar_subquery()
    return _SUMMARY_ROWS.add_columns(total.label("total")).join(page, Creator.id == page.c.id).order_by(*ordering)


def _count(criteria: list) -> Select:
    return select(func.count()).select_from(Creator).where(*criteria)


def count_creators(*, db_session: Session, filters: CreatorFilters) -> int:
    """How many creators match `filters`: a count over the creators table alone (no manager join,
    no strike count), which the roster's partial indexes answer with an index-only scan."""
    return db_session.scalar(_count(_criteria(filters)))


def roster_page(
    *, db_session: Session, filters: CreatorFilters, page: int, page_size: int
) -> tuple[int, list[RowMapping]]:
    """One page of the roster, as rows of `SUMMARY_COLUMNS` (mappings), and how many creators
    match, in one statement (see `page_query`). A page past the end is empty, and its total is
    a count of its own."""
    offset = (page - 1) * page_size
    rows = []
    if offset <= MAX_OFFSET:  # a huge page number must not overflow SQL's 64-bit offset
        rows = db_session.execute(page_query(filters, limit=page_size, offset=offset)).mappings().all()
    if rows:
        return rows[0]["total"], rows
    return (0 if offset == 0 else count_creators(db_session=db_session, filters=filters)), rows


def _filtered(stmt: Select, filters: CreatorFilters) -> Select:
    """Apply the roster filters and sort order to any `select` over `Creator`."""
    return stmt.where(*_criteria(filters)).order_by(*_ordering(filters))


_NOT_ARCHIVED = Creator.archived_at.is_(None)
# What a handle is made of: the account schema's format (`schemas.HANDLE_FORMAT`) is built on it,
# and a search for anything else cannot match a handle.
HANDLE_CHARACTER = "[A-Za-z0-9._-]"
_HANDLE_TEXT = re.compile(f"{HANDLE_CHARACTER}+")
_UNASSIGNED = Creator.manager_id.is_(None)


def _criteria(filters: CreatorFilters) -> list:
    """The roster filters as conditions on `Creator`."""
    criteria = []
    if not filters.include_archived:
        criteria.append(_NOT_ARCHIVED)
    if filters.status:
        criteria.append(Creator.status.in_([CreatorStatus(s) for s in filters.status]))
    if filters.niche:
        criteria.append(Creator.niche.in_(filters.niche))
    if filters.country:
        criteria.append(Creator.country.in_([c.upper() for c in filters.country]))
    if filters.manager_id is not None:
        criteria.append(Creator.manager_id == filters.manager_id)
    if filters.unassigned:
        criteria.append(_UNASSIGNED)
    if filters.q:
        # Escape LIKE wildcards so a user's "%" or "_" means itself.
        needle = filters.q.strip().lower().lstrip("@")
        could_be_handle = _HANDLE_TEXT.fullmatch(needle) is not None
        needle = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{needle}%"
        # One set of ids from the searches that each have their own (trigram) index on
        # PostgreSQL; an OR across the tables would scan every creator. Handles hold only
        # letters, digits, '.', '_' and '-' (every account is written through the account
        # schema's format), so a needle with anything else, such as the space of a full name,
        # skips the handles' index instead of scanning it for no match.
        searches = [
            select(Creator.id).where(func.lower(Creator.display_name).like(pattern, escape="\\")).correlate(None),
            select(Creator.id).where(func.lower(Creator.legal_name).like(pattern, escape="\\")).correlate(None),
        ]
        if could_be_handle:
            searches.append(
                select(PlatformAccount.creator_id).where(func.lower(PlatformAccount.handle).like(pattern, escape="\\"))
            )
        matching = union(*searches)
        criteria.append(Creator.id.in_(matching))
    return criteria


# Each sort both ways, then the id: creators that tie come in ascending id order both ways.
_ORDERINGS = {
    **{name: (column.asc(), Creator.id.asc()) for name, column in SORTABLE.items()},
    **{f"-{name}": (column.desc(), Creator.id.asc()) for name, column in SORTABLE.items()},
}


def _ordering(filters: CreatorFilters) -> tuple:
    return _ORDERINGS[filters.sort]


def get_creator(*, db_session: Session, creator_id: int, include_archived: bool = True) -> Creator:
    # The creator, their manager, accounts and strike count in one statement (what every answer
    # that shows a creator dumps).
    creator = db_session.get(
        Creator, creator_id, options=[joinedload(Creator.accounts), undefer(Creator.strikes_count)]
    )
    if creator is None or (creator.archived_at is not None and not include_archived):
        raise NotFound(f"Creator {creator_id} not found.")
    return creator


def can_write_creator(user: User, creator: Creator) -> bool:
    if user.role is Role.admin:
        return True
    return user.role is Role.manager and creator.manager_id == user.id


def creators_outside_scope(*, db_session: Session, user: User, creator_ids: list[int]) -> list[int]:
    """The creators among `creator_ids` whose data (metrics) the user may not bring in: a
    manager's are those they do not manage, a creator's every other creator; none for admins."""
    if user.role is Role.admin or not creator_ids:
        return []
    if user.role is Role.creator:
        return sorted(set(creator_ids) - {user.creator_id})
    if user.role is Role.manager:
        stmt = select(Creator.id).where(Creator.id.in_(creator_ids), Creator.manager_id.is_distinct_from(user.id))
        return sorted(db_session.scalars(stmt))
    return sorted(creator_ids)


def require_creator_write(user: User, creator: Creator) -> None:
    if not can_write_creator(user, creator):
        if user.role is Role.analyst:
            raise Forbidden("Analysts have read-only access.")
        raise Forbidden("You can only change creators you manage.")


def _check_manager(db_session: Session, manager_id: int | None) -> None:
    if manager_id is None:
        return
    manager = db_session.get(User, manager_id)
    if manager is None or manager.role not in (Role.manager, Role.admin) or not manager.is_active:
        raise InvalidInput(
            "Unknown account manager.", {"manager_id": [f"no active manager or admin with id {manager_id}"]}
        )


def create_creator(*, db_session: Session, actor: Actor, data: dict) -> Creator:
    user = actor.user
    require_role(user, Role.admin, Role.manager)
    accounts = data.pop("accounts", [])
    if user.role is Role.manager:
        # A manager creates creators for themself; assigning to someone else is an admin's job.
        if data.get("manager_id") not in (None, user.id):
            raise InvalidInput(
                "Managers can only create creators they manage.", {"manager_id": ["must be your own user id"]}
            )
        data["manager_id"] = user.id
    _check_manager(db_session, data.get("manager_id"))
    creator = Creator(**data)
    db_session.add(creator)
    db_session.flush()
    for account in accounts:
        _add_account(db_session, creator, account)
    _inputs_changed(db_session, "creator", creator.id)
    record_audit(
        db_session=db_session,
        actor=actor,
        action="creator.create",
        entity_type="creator",
        entity_id=creator.id,
        after=snapshot(creator),
    )
    return creator


def update_creator(
    *, db_session: Session, actor: Actor, creator: Creator, data: dict, expected_version: int | None
) -> Creator:
    require_creator_write(actor.user, creator)
    if expected_version is not None and expected_version != creator.version:
        raise stale_version(f"Creator {creator.id}", creator.version, expected_version)
    if "manager_id" in data and data["manager_id"] != creator.manager_id:
        if actor.user.role is not Role.admin:
            raise InvalidInput(
                "Only admins can reassign a creator to another manager.", {"manager_id": ["admins only"]}
            )
        _check_manager(db_session, data["manager_id"])
    before = snapshot(creator)
    evaluated = {name: getattr(creator, name) for name in EVALUATED_FIELDS}
    for key, value in data.items():
        setattr(creator, key, value)
    if creator.status is CreatorStatus.offboarded and creator.archived_at is None:
        creator.archived_at = utcnow()
    db_session.flush()
    if any(getattr(creator, name) != value for name, value in evaluated.items()):
        _inputs_changed(db_session, "creator", creator.id)
    if "manager_id" in data:
        db_session.expire(creator, ["manager"])  # reload the relationship from the new id
    record_audit(
        db_session=db_session,
        actor=actor,
        action="creator.update",
        entity_type="creator",
        entity_id=creator.id,
        before=before,
        after=snapshot(creator),
    )
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
    _inputs_changed(db_session, "creator", creator.id)
    record_audit(
        db_session=db_session,
        actor=actor,
        action="creator.archive",
        entity_type="creator",
        entity_id=creator.id,
        before=before,
        after=snapshot(creator),
    )
    return creator


def restore_creator(
    *, db_session: Session, actor: Actor, creator: Creator, expected_version: int | None = None
) -> Creator:
    """Bring an archived creator back to the roster (as paused: someone decides when they are active)."""
    require_creator_write(actor.user, creator)
    if expected_version is not None and expected_version != creator.version:
        raise stale_version(f"Creator {creator.id}", creator.version, expected_version)
    if creator.archived_at is None:
        return creator
    before = snapshot(creator)
    creator.archived_at = None
    creator.status = CreatorStatus.paused
    db_session.flush()
    _inputs_changed(db_session, "creator", creator.id)
    record_audit(
        db_session=db_session,
        actor=actor,
        action="creator.restore",
        entity_type="creator",
        entity_id=creator.id,
        before=before,
        after=snapshot(creator),
    )
    return creator


def invite_creator(
    *, db_session: Session, actor: Actor, creator: Creator, email: str, public_url: str, ttl=None
) -> tuple[str, CreatorInvitation]:
    """Invite a creator to their portal (their manager, or an admin): the link, on `public_url`,
    is emailed to them (see `creator_invited`). Returns the link's token, shown once; the
    invitation stores only its digest."""
    require_creator_write(actor.user, creator)
    if creator.archived_at is not None:
        raise Conflict("Archived creators cannot be invited; restore them first.")
    kwargs = {"ttl": ttl} if ttl is not None else {}
    token, invitation = create_invitation(
        db_session=db_session, creator_id=creator.id, email=email, invited_by=actor.user, **kwargs
    )
    record_audit(
        db_session=db_session,
        actor=actor,
        action="creator.invite",
        entity_type="creator",
        entity_id=creator.id,
        after={"email": invitation.email, "expires_at": invitation.expires_at.isoformat(), "invitation": invitation.id},
    )
    creator_invited.send(
        invitation,
        db_session=db_session,
        creator=creator,
        invited_by=actor.user,
        link=invitation_link(public_url, token),
    )
    return token, invitation


def normalise_handle(handle: str) -> str:
    return handle.strip().lstrip("@").lower()


def _add_account(db_session: Session, creator: Creator, data: dict) -> PlatformAccount:
    platform = Platform(data["platform"])
    handle = normalise_handle(data["handle"])
    clash = db_session.scalar(
        select(PlatformAccount).where(PlatformAccount.platform == platform, PlatformAccount.handle == handle)
    )
    if clash is not None:
        raise Conflict(
            f"The {platform.value} handle @{handle} already belongs to creator {clash.creator_id}.",
            {"handle": ["already registered on this platform"]},
        )
    account = PlatformAccount(
        creator_id=creator.id,
        platform=platform,
        handle=handle,
        account_type=AccountType(data.get("account_type", "personal")),
    )
    # Two requests registering the same handle at once both find it free above: the one whose
    # insert loses gets the same 409, and its request's other work is left for it to roll back.
    add_unique(
        db_session,
        account,
        Conflict(
            f"The {platform.value} handle @{handle} is already registered: someone added it at the same time.",
            {"handle": ["already registered on this platform"]},
        ),
    )
    db_session.expire(creator, ["accounts"])  # read again with the new account
    return account


def add_account(*, db_session: Session, actor: Actor, creator: Creator, data: dict) -> PlatformAccount:
    require_creator_write(actor.user, creator)
    account = _add_account(db_session, creator, data)
    _inputs_changed(db_session, "account", creator.id)
    record_audit(
        db_session=db_session,
        actor=actor,
        action="account.create",
        entity_type="platform_account",
        entity_id=account.id,
        after=snapshot(account),
    )
    return account


def get_account(*, db_session: Session, creator: Creator, account_id: int) -> PlatformAccount:
    account = db_session.get(PlatformAccount, account_id)
    if account is None or account.creator_id != creator.id:
        raise NotFound(f"Account {account_id} not found for creator {creator.id}.")
    return account


def update_account(
    *, db_session: Session, actor: Actor, account: PlatformAccount, data: dict, expected_version: int | None = None
) -> PlatformAccount:
    require_creator_write(actor.user, account.creator)
    if expected_version is not None and expected_version != account.version:
        raise stale_version(f"Account {account.id}", account.version, expected_version)
    before = snapshot(account)
    if "handle" in data:
        handle = normalise_handle(data["handle"])
        clash = db_session.scalar(
            select(PlatformAccount.id).where(
                PlatformAccount.platform == account.platform,
                PlatformAccount.handle == handle,
                PlatformAccount.id != account.id,
            )
        )
        if clash is not None:
            raise Conflict(
                f"The handle @{handle} is already registered on {account.platform.value}.",
                {"handle": ["already registered on this platform"]},
            )
        account.handle = handle
    if "account_type" in data and AccountType(data["account_type"]) is not account.account_type:
        account.account_type = AccountType(data["account_type"])
        _inputs_changed(db_session, "account", account.creator_id)
    db_session.flush()
    record_audit(
        db_session=db_session,
        actor=actor,
        action="account.update",
        entity_type="platform_account",
        entity_id=account.id,
        before=before,
        after=snapshot(account),
    )
    return account


def delete_account(*, db_session: Session, actor: Actor, account: PlatformAccount) -> None:
    require_creator_write(actor.user, account.creator)
    record_audit(
        db_session=db_session,
        actor=actor,
        action="account.delete",
        entity_type="platform_account",
        entity_id=account.id,
        before=snapshot(account),
    )
    creator_id = account.creator_id
    db_session.delete(account)
    db_session.flush()
    _inputs_changed(db_session, "account", creator_id)


def add_strike(
    *,
    db_session: Session,
    actor: Actor,
    creator: Creator,
    occurred_on: date,
    reason: str = "",
    platform: str | None = None,
) -> GuidelineStrike:
    """Record a dated strike: the first one puts a creator in good standing on warning, the third restricts them."""
    require_creator_write(actor.user, creator)
    before = snapshot(creator)
    strike = GuidelineStrike(
        creator=creator, occurred_on=occurred_on, reason=reason, platform=Platform(platform) if platform else None
    )
    db_session.add(strike)
    db_session.flush()
    count = len(creator.strikes)
    db_session.expire(creator, ["strikes_count"])
    if count >= 3:
        creator.guideline_standing = Standing.restricted
    elif count >= 1 and creator.guideline_standing is Standing.good:
        creator.guideline_standing = Standing.warning
    db_session.flush()
    _inputs_changed(db_session, "strike", creator.id)
    record_audit(
        db_session=db_session,
        actor=actor,
        action="creator.strike",
        entity_type="creator",
        entity_id=creator.id,
        before=before,
        after=snapshot(creator) | {"strike_reason": reason},
    )
    return strike


def age_today(creator: Creator, today: date | None = None) -> int | None:
    return creator.age_on(today or date.today())
