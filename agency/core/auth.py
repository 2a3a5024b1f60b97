"""Authentication: the UI's server-side sessions behind flask-login (sign in, the user loader,
remember-me rotation, sign out), the current user and actor, the bearer-token or UI-session
check each protected API blueprint runs before its views, and role checks."""

from __future__ import annotations

from datetime import timedelta
from functools import wraps

from flask import abort, current_app, g, request
from flask_login import current_user as session_user
from flask_login import login_user, logout_user, user_loaded_from_cookie

from agency.core.audit.service import Actor
from agency.core.extensions import csrf, get_db, get_session, login_manager
from agency.core.users.models import Role, User, UserSession
from agency.core.users.service import resolve_session, resolve_token, revoke_sessions, rotate_session, start_session


def _session_ttl(remember: bool) -> timedelta:
    config = current_app.config["AGENCY"]
    return timedelta(days=config.remember_days) if remember else timedelta(hours=config.session_hours)


def sign_in(user: User, remember: bool = False) -> UserSession:
    """Open a server-side session for this device and hand its id and secret to flask-login,
    which keeps them in the session cookie (and the remember-me cookie), never the user's id.
    A session this browser still had (signing in again, or as someone else) ends first."""
    previous = current_login_session()
    if previous is not None:
        revoke_sessions(db_session=get_session(), user=previous.user, only=previous.id)
    record = start_session(
        db_session=get_session(),
        user=user,
        remember=remember,
        ttl=_session_ttl(remember),
        user_agent=request.headers.get("User-Agent", ""),
        ip_address=request.remote_addr or "",
    )
    login_user(user, remember=remember, duration=_session_ttl(True) if remember else None)
    g.login_session = record
    return record


def sign_out() -> UserSession | None:
    """End this device's session server-side (a copy of its cookies stops working) and clear them."""
    record = current_login_session()
    if record is not None:
        revoke_sessions(db_session=get_session(), user=record.user, only=record.id)
    logout_user()
    return record


def current_login_session() -> UserSession | None:
    """The server-side session of this request's cookies (None for bearer tokens and anonymous)."""
    if session_user and session_user.is_authenticated:  # loads the user, and with it the session
        return g.get("login_session")
    return None


@login_manager.user_loader
def _load_signed_in_user(token: str) -> User | None:
    """flask-login hands over what the cookie holds; only an open, unexpired session of an
    active user signs the request in (cookies from before server-side sessions hold a bare id,
    which never matches: those users sign in again)."""
    record = resolve_session(db_session=get_session(), token=token)
    if record is None:
        return None
    g.login_session = record
    return record.user


@user_loaded_from_cookie.connect
def _rotate_remember_token(_app, user: User) -> None:
    """The remember-me cookie restored a session: its secret is replaced at once, in its own
    transaction (the request may still fail), and flask-login sets both cookies anew, so the
    cookie just used is worthless to whoever may have copied it."""
    record = g.login_session
    with get_db().session_scope() as db_session:
        token = rotate_session(db_session=db_session, record=record, ttl=_session_ttl(True))
    if token is None:  # another request restored it first: this one keeps its answer, no new cookie
        return
    user.login_token = token
    login_user(user, remember=True, duration=_session_ttl(True), fresh=False)


def current_user() -> User:
    return g.current_user


def current_actor() -> Actor:
    return Actor(user=g.current_user, request_id=g.get("request_id"))


def authenticate_request() -> None:
    """`before_request` of every protected API blueprint: a valid bearer token, or the UI's
    session (so the UI's own htmx calls can use the API). A creator's token or session reaches
    only the operations marked `for_creators`, and only for their own creator."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        # The token is kept for the request: revoking "the current token" needs it.
        g.current_token = resolve_token(db_session=get_session(), token=header[7:].strip())
        g.current_user = g.current_token.user if g.current_token else None
        if g.current_user is None:
            abort(401, description="Invalid or expired token.")
    elif session_user and session_user.is_authenticated:
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            csrf.protect()  # a cookie-authenticated write must prove it comes from our UI
        g.current_user = session_user._get_current_object()
    else:
        abort(401, description="Authentication required: send 'Authorization: Bearer <token>'.")
    if g.current_user.role is Role.creator:
        _check_creator_scope(g.current_user)


CREATOR_SCOPED = "_for_creators"


def for_creators(view):
    """Mark an API operation a creator may call (the portal's few); put it above the other
    decorators. Any `creator_id` in its path must be the creator's own."""
    setattr(view, CREATOR_SCOPED, True)
    return view


def _check_creator_scope(user: User) -> None:
    view = current_app.view_functions.get(request.endpoint)
    view_class = getattr(view, "view_class", None)
    operation = getattr(view_class, request.method.lower(), None) if view_class else view
    if not getattr(operation, CREATOR_SCOPED, False):
        abort(403, description="Creator accounts can only read their own profile, programmes and statements.")
    own = user.creator_id
    if own is None or (request.view_args or {}).get("creator_id", own) != own:
        abort(403, description="Creator accounts can only see their own creator.")


def roles_required(*roles: Role):
    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if current_user().role not in roles:
                abort(403, description=f"This action needs the role {' or '.join(r.value for r in roles)}.")
            return view(*args, **kwargs)

        return wrapper

    return decorator
