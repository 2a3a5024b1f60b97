"""Authentication for the API blueprints: the current user and actor, the bearer-token or
UI-session check each protected blueprint runs before its views, and role checks."""

from __future__ import annotations

from functools import wraps

from flask import abort, g, request
from flask_login import current_user as session_user

from agency.core.audit.service import Actor
from agency.core.extensions import csrf, get_session
from agency.core.users.models import Role, User
from agency.core.users.service import resolve_token


def current_user() -> User:
    return g.current_user


def current_actor() -> Actor:
    return Actor(user=g.current_user, request_id=g.get("request_id"))


def authenticate_request() -> None:
    """`before_request` of every protected API blueprint: a valid bearer token, or the UI's
    session (so the UI's own htmx calls can use the API)."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        # The token is kept for the request: revoking "the current token" needs it.
        g.current_token = resolve_token(db_session=get_session(), token=header[7:].strip())
        g.current_user = g.current_token.user if g.current_token else None
        if g.current_user is None:
            abort(401, description="Invalid or expired token.")
        return
    if session_user and session_user.is_authenticated:
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            csrf.protect()  # a cookie-authenticated write must prove it comes from our UI
        g.current_user = session_user._get_current_object()
        return
    abort(401, description="Authentication required: send 'Authorization: Bearer <token>'.")


def roles_required(*roles: Role):
    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if current_user().role not in roles:
                abort(403, description=f"This action needs the role {' or '.join(r.value for r in roles)}.")
            return view(*args, **kwargs)

        return wrapper

    return decorator
