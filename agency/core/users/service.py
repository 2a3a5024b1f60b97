"""Staff accounts: passwords (argon2), bearer tokens (random, stored as SHA-256) and role checks."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from agency.core.database import utcnow
from agency.core.errors import Forbidden, InvalidInput
from agency.core.users.models import ApiToken, Role, User

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


def resolve_token(*, db_session: Session, token: str, now: datetime | None = None) -> ApiToken | None:
    now = now or utcnow()
    # The token and its user in one statement: this runs before every API request.
    record = db_session.scalar(
        select(ApiToken).options(joinedload(ApiToken.user)).where(ApiToken.token_hash == _digest(token))
    )
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


def require_role(user: User, *roles: Role) -> None:
    if user.role not in roles:
        raise Forbidden(f"This action needs the role {' or '.join(r.value for r in roles)}.")
