"""Creator portal accounts: invitations (single use, expiring, stored as a digest) and accepting
one, which opens a `creator` account linked to that creator. Who may invite whom is the roster's
rule (`agency.roster.service.invite_creator`); this module knows only users and tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from agency.core.database import utcnow
from agency.core.errors import Conflict, InvalidInput, NotFound
from agency.core.users.models import CreatorInvitation, CreatorLogin, Role, User
from agency.core.users.service import check_password_policy, create_user

INVITATION_PREFIX = "inv_"
DEFAULT_INVITATION_TTL = timedelta(days=7)


def invitation_link(public_url: str, token: str) -> str:
    """The link a creator opens, on the product's public address (`PUBLIC_URL`)."""
    return f"{public_url.rstrip('/')}/invitations/accept?{urlencode({'token': token})}"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_invitation(
    *, db_session: Session, creator_id: int, email: str, invited_by: User, ttl: timedelta = DEFAULT_INVITATION_TTL
) -> tuple[str, CreatorInvitation]:
    """A new invitation; returns the plain token (shown once, never stored) and the record.
    Earlier pending invitations of the same creator to the same address stop working."""
    email = email.strip().lower()
    if "@" not in email or len(email) > 254 or email.startswith("@") or email.endswith("@"):
        raise InvalidInput("Invalid email address.", {"email": ["not a valid email address"]})
    if db_session.scalar(select(User.id).where(User.email == email)) is not None:
        raise InvalidInput("A user with this email already exists.", {"email": ["already registered"]})
    now = utcnow()
    db_session.execute(
        update(CreatorInvitation)
        .where(
            CreatorInvitation.creator_id == creator_id,
            CreatorInvitation.email == email,
            CreatorInvitation.used_at.is_(None),
            CreatorInvitation.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    token = INVITATION_PREFIX + secrets.token_urlsafe(32)
    invitation = CreatorInvitation(
        creator_id=creator_id, email=email, token_hash=_digest(token), invited_by_id=invited_by.id, expires_at=now + ttl
    )
    db_session.add(invitation)
    db_session.flush()
    return token, invitation


def find_invitation(*, db_session: Session, token: str, now: datetime | None = None) -> CreatorInvitation:
    """The usable invitation behind a link; 404 when unknown, used, revoked or expired (one answer
    for all, so a link reveals nothing)."""
    invitation = db_session.scalar(select(CreatorInvitation).where(CreatorInvitation.token_hash == _digest(token)))
    if invitation is None or not invitation.usable(now or utcnow()):
        raise NotFound("This invitation link is not valid: it was used, replaced, or has expired. Ask for a new one.")
    return invitation


def accept_invitation(
    *, db_session: Session, token: str, password: str, full_name: str = "", now: datetime | None = None
) -> User:
    """Open the creator's portal account with the password they chose; the link then stops working."""
    now = now or utcnow()
    invitation = find_invitation(db_session=db_session, token=token, now=now)
    check_password_policy(password, invitation.email)
    # Claim the invitation first: of two simultaneous uses, only one updates the row.
    claimed = db_session.execute(
        update(CreatorInvitation)
        .where(
            CreatorInvitation.id == invitation.id,
            CreatorInvitation.used_at.is_(None),
            CreatorInvitation.revoked_at.is_(None),
        )
        .values(used_at=now)
    ).rowcount
    if claimed != 1:
        raise Conflict("This invitation was used a moment ago.")
    user = create_user(
        db_session=db_session,
        email=invitation.email,
        password=password,
        role=Role.creator,
        full_name=full_name.strip()[:200],
    )
    db_session.add(CreatorLogin(user_id=user.id, creator_id=invitation.creator_id))
    invitation.user_id = user.id
    db_session.flush()
    db_session.refresh(invitation)
    return user


def revoke_invitation(*, db_session: Session, invitation: CreatorInvitation) -> None:
    if invitation.used_at is None and invitation.revoked_at is None:
        invitation.revoked_at = utcnow()
        db_session.flush()


def invitations_of(*, db_session: Session, creator_id: int) -> list[CreatorInvitation]:
    return list(
        db_session.scalars(
            select(CreatorInvitation)
            .where(CreatorInvitation.creator_id == creator_id)
            .order_by(CreatorInvitation.created_at.desc(), CreatorInvitation.id.desc())
        )
    )


def portal_users_of(*, db_session: Session, creator_id: int) -> list[User]:
    return list(
        db_session.scalars(
            select(User)
            .join(CreatorLogin, CreatorLogin.user_id == User.id)
            .where(CreatorLogin.creator_id == creator_id)
        )
    )
