"""Staff accounts: passwords (argon2), bearer tokens and sign-in sessions (random, stored as
SHA-256), password changes and resets, and role checks."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.orm import Session, joinedload

from agency.core.audit.service import Actor, record_audit
from agency.core.database import utcnow
from agency.core.errors import Forbidden, InvalidInput
from agency.core.users.models import ApiToken, Role, User, UserSession

# argon2-cffi's parameter profiles by name; production uses the library's default (RFC 9106, low
# memory). The tests choose "cheapest" (PASSWORD_HASH_PROFILE), which is not safe anywhere else.
PASSWORD_PROFILES = {"default": profiles.RFC_9106_LOW_MEMORY, "cheapest": profiles.CHEAPEST}
_hashing = {"hasher": PasswordHasher(), "dummy_hash": None}


def use_password_profile(name: str) -> None:
    """Hash new passwords with the named profile (existing hashes verify whatever their profile)."""
    _hashing["hasher"] = PasswordHasher.from_parameters(PASSWORD_PROFILES[name])
    _hashing["dummy_hash"] = None


def _dummy_hash() -> str:
    """Verified against when the email is unknown, so a login takes the same time either way."""
    if _hashing["dummy_hash"] is None:
        _hashing["dummy_hash"] = _hashing["hasher"].hash("not-a-real-password")
    return _hashing["dummy_hash"]


MIN_PASSWORD_LENGTH = 12
TOKEN_PREFIX = "agy_"


def check_password_policy(password: str, email: str = "") -> None:
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"must be at least {MIN_PASSWORD_LENGTH} characters long")
    if len(password) > 256:
        problems.append("must be at most 256 characters long")
    if password.isdigit() or password.isalpha():
        problems.append("must mix letters with digits or symbols")
    if email and email.split("@")[0].lower() in password.lower():
        problems.append("must not contain the email address")
    if problems:
        raise InvalidInput("Password rejected by the password policy.", {"password": problems})


def hash_password(password: str) -> str:
    return _hashing["hasher"].hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hashing["hasher"].verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def create_user(
    *,
    db_session: Session,
    email: str,
    password: str,
    role: Role | str,
    full_name: str = "",
    timezone: str = "UTC",
    enforce_policy: bool = True,
) -> User:
    email = email.strip().lower()
    if "@" not in email:
        raise InvalidInput("Invalid email address.", {"email": ["not a valid email address"]})
    if db_session.scalar(select(User.id).where(User.email == email)) is not None:
        raise InvalidInput("A user with this email already exists.", {"email": ["already registered"]})
    if enforce_policy:
        check_password_policy(password, email)
    user = User(
        email=email, password_hash=hash_password(password), role=Role(role), full_name=full_name, timezone=timezone
    )
    db_session.add(user)
    db_session.flush()
    return user


def authenticate(*, db_session: Session, email: str, password: str) -> User | None:
    user = db_session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        verify_password(_dummy_hash(), password)
        return None
    if not verify_password(user.password_hash, password) or not user.is_active:
        return None
    if _hashing["hasher"].check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(*, db_session: Session, user: User, ttl: timedelta) -> tuple[str, ApiToken]:
    """Returns the plain token (shown once) and its stored record."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = ApiToken(user=user, token_hash=_digest(token), prefix=token[:12], expires_at=utcnow() + ttl)
    db_session.add(record)
    db_session.flush()
    return token, record


LAST_USE_RESOLUTION = timedelta(minutes=1)


# The token and its user in one statement: this runs before every API request, so it is built
# once, with the digest as a bound parameter (building it anew, loader option included, cost
# about as much CPU as running it).
_TOKEN_WITH_USER = select(ApiToken).options(joinedload(ApiToken.user)).where(ApiToken.token_hash == bindparam("digest"))


def resolve_token(*, db_session: Session, token: str, now: datetime | None = None) -> ApiToken | None:
    now = now or utcnow()
    record = db_session.scalar(_TOKEN_WITH_USER, {"digest": _digest(token)})
    if not _usable(record, now):
        return None
    # Write last use at most once a minute, so reads stay reads.
    if record.last_used_at is None or now - record.last_used_at > LAST_USE_RESOLUTION:
        record.last_used_at = now
    return record


def _usable(record: ApiToken | None, now: datetime) -> bool:
    return record is not None and record.revoked_at is None and record.expires_at > now and record.user.is_active


def revoke_token(*, db_session: Session, record: ApiToken) -> None:
    record.revoked_at = utcnow()


# Sign-in sessions (the UI's cookies) --------------------------------------------------------


def start_session(
    *, db_session: Session, user: User, remember: bool, ttl: timedelta, user_agent: str = "", ip_address: str = ""
) -> UserSession:
    """A new signed-in device; `user.login_token` is set to what its cookies carry."""
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    record = UserSession(
        user=user,
        token_hash=_digest(secret),
        remember=remember,
        user_agent=user_agent[:300],
        ip_address=ip_address[:45],
        last_seen_at=now,
        expires_at=now + ttl,
    )
    db_session.add(record)
    db_session.flush()
    user.login_token = f"{record.id}.{secret}"
    return record


def _split_login_token(token: str) -> tuple[int, str] | None:
    session_id, _, secret = token.partition(".")
    if not session_id.isascii() or not session_id.isdigit() or len(session_id) > 10 or not secret:
        return None
    return int(session_id), secret


def resolve_session(*, db_session: Session, token: str, now: datetime | None = None) -> UserSession | None:
    """The usable session a cookie's token names (its user loaded, `login_token` set), or None."""
    now = now or utcnow()
    parts = _split_login_token(token)
    if parts is None:
        return None
    record = db_session.scalar(
        select(UserSession).options(joinedload(UserSession.user)).where(UserSession.id == parts[0])
    )
    if record is None or not hmac.compare_digest(record.token_hash, _digest(parts[1])) or not record.usable(now):
        return None
    if now - record.last_seen_at > LAST_USE_RESOLUTION:
        record.last_seen_at = now
    record.user.login_token = token
    return record


def rotate_session(*, db_session: Session, record: UserSession, ttl: timedelta) -> str | None:
    """A new secret for a session restored by its remember-me cookie: the old one stops working.
    Only one of two requests racing with the same old secret wins (None for the other)."""
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    replaced = db_session.execute(
        update(UserSession)
        .where(UserSession.id == record.id, UserSession.token_hash == record.token_hash)
        .values(token_hash=_digest(secret), last_seen_at=now, expires_at=now + ttl)
        .execution_options(synchronize_session=False)
    ).rowcount
    return f"{record.id}.{secret}" if replaced == 1 else None


def active_sessions(*, db_session: Session, user: User, now: datetime | None = None) -> list[UserSession]:
    """The user's signed-in devices, most recently seen first."""
    now = now or utcnow()
    return list(
        db_session.scalars(
            select(UserSession)
            .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None), UserSession.expires_at > now)
            .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
        )
    )


def active_session_counts(*, db_session: Session, now: datetime | None = None) -> dict[int, int]:
    """How many signed-in devices each user has (users with none are absent)."""
    now = now or utcnow()
    rows = db_session.execute(
        select(UserSession.user_id, func.count())
        .where(UserSession.revoked_at.is_(None), UserSession.expires_at > now)
        .group_by(UserSession.user_id)
    )
    return {user_id: count for user_id, count in rows}


def revoke_sessions(*, db_session: Session, user: User, keep: int | None = None, only: int | None = None) -> int:
    """End the user's sessions (all, all but `keep`, or the one `only`); how many were open."""
    query = update(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
    if keep is not None:
        query = query.where(UserSession.id != keep)
    if only is not None:
        query = query.where(UserSession.id == only)
    return db_session.execute(query.values(revoked_at=utcnow()).execution_options(synchronize_session=False)).rowcount


def end_sessions(
    *, db_session: Session, actor: Actor, user: User, keep: int | None = None, only: int | None = None
) -> int:
    """Sign the user out of their devices (all, all but `keep`, or the one `only`), audited as
    `session.revoke` with the count (one device that was not open is not); how many were open."""
    ended = revoke_sessions(db_session=db_session, user=user, keep=keep, only=only)
    if ended or only is None:
        details = {"kept_session_id": keep} if keep is not None else {}
        details |= {"session_id": only} if only is not None else {}
        record_audit(
            db_session=db_session,
            actor=actor,
            action="session.revoke",
            entity_type="user",
            entity_id=user.id,
            after={"sessions_ended": ended, **details},
        )
    return ended


def revoke_api_tokens(*, db_session: Session, user: User) -> int:
    query = update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    return db_session.execute(query.values(revoked_at=utcnow()).execution_options(synchronize_session=False)).rowcount


def forget_ended_sessions(*, db_session: Session, before: datetime) -> int:
    """Delete the sessions that expired or were revoked before `before` (housekeeping)."""
    ended = (UserSession.expires_at < before) | (UserSession.revoked_at < before)
    return db_session.execute(delete(UserSession).where(ended).execution_options(synchronize_session=False)).rowcount


# Password changes --------------------------------------------------------------------------


def change_password(
    *, db_session: Session, user: User, current_password: str, new_password: str, current_session_id: int | None
) -> int:
    """The user's own change: the current password is required and the policy applies. Every
    other session of the user ends (this one stays); API tokens stay. Returns sessions ended."""
    if not verify_password(user.password_hash, current_password):
        raise InvalidInput("The current password is wrong.", {"current_password": ["is not your current password"]})
    if verify_password(user.password_hash, new_password):
        raise InvalidInput("Choose a new password.", {"new_password": ["is the current password"]})
    _set_password(user, new_password)
    return revoke_sessions(db_session=db_session, user=user, keep=current_session_id)


def reset_password(*, db_session: Session, user: User, new_password: str) -> tuple[int, int]:
    """An admin sets someone's password: every session and every API token of that user ends
    (whoever held them must sign in with the new password). Returns (sessions, tokens) ended."""
    _set_password(user, new_password)
    return (
        revoke_sessions(db_session=db_session, user=user),
        revoke_api_tokens(db_session=db_session, user=user),
    )


def _set_password(user: User, new_password: str) -> None:
    try:
        check_password_policy(new_password, user.email)
    except InvalidInput as exc:
        raise InvalidInput(exc.message, {"new_password": exc.errors["password"]}) from None
    user.password_hash = hash_password(new_password)


def require_role(user: User, *roles: Role) -> None:
    if user.role not in roles:
        raise Forbidden(f"This action needs the role {' or '.join(r.value for r in roles)}.")
