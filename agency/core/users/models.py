"""Agency staff accounts and their API tokens."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from agency.core.database import Base, str_enum


class Role(str, enum.Enum):
    admin = "admin"
    manager = "manager"
    analyst = "analyst"
    # A creator signing in to the portal: sees only their own creator (see CreatorLogin).
    creator = "creator"


STAFF_ROLES = (Role.admin, Role.manager, Role.analyst)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(str_enum(Role, "user_role"))
    # IANA time zone name: the daily digest goes out at the user's local time.
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    last_login_at: Mapped[datetime | None]

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user", cascade="all, delete-orphan")
    # Loaded only when asked (for creator-role users).
    creator_login: Mapped[CreatorLogin | None] = relationship(cascade="all, delete-orphan")

    # flask-login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    # The sign-in this user object was loaded or signed in with, "<session id>.<secret>" (see
    # UserSession). flask-login keeps `get_id()` in the session cookie and the remember-me cookie,
    # so those cookies carry a revocable device session, never the user's id. Not a column.
    login_token = None

    def get_id(self) -> str | None:
        return self.login_token

    @property
    def is_admin(self) -> bool:
        return self.role is Role.admin

    @property
    def can_write(self) -> bool:
        return self.role in (Role.admin, Role.manager)

    @property
    def is_creator(self) -> bool:
        return self.role is Role.creator

    @property
    def creator_id(self) -> int | None:
        """The one creator a portal user is (None for staff, or a portal user whose link is gone)."""
        if self.role is not Role.creator or self.creator_login is None:
            return None
        return self.creator_login.creator_id

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role.value}>"


class ApiToken(Base):
    """A bearer token. Only its SHA-256 digest is stored; the token itself is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # First characters of the token, to let a user recognise it in a list without revealing it.
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="tokens")


class UserSession(Base):
    """One signed-in device (a browser): the UI's cookies carry its id and a random secret, of
    which only the SHA-256 digest is stored. Every request checks it is neither revoked nor
    expired; signing out, revoking it from the sessions page or a password change ends it. With
    "remember me" its secret is replaced each time the remember-me cookie restores it."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    remember: Mapped[bool] = mapped_column(default=False)
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    ip_address: Mapped[str] = mapped_column(String(45), default="")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()

    def usable(self, now: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now and self.user.is_active


class CreatorLogin(Base):
    """A portal account: the creator-role user and the one creator they are. A table of its own,
    so `users` never references `creators` (creators reference their manager in `users`)."""

    __tablename__ = "creator_logins"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class CreatorInvitation(Base):
    """A single-use, expiring link a manager sends a creator to open their portal account. Only
    the SHA-256 digest of the link's token is stored."""

    __tablename__ = "creator_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    # The portal account the invitation opened.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    def usable(self, now: datetime) -> bool:
        return self.used_at is None and self.revoked_at is None and self.expires_at > now
