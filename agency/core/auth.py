"""Authentication for the API blueprints: the current user and actor, the bearer-token or
UI-session check each protected blueprint runs before its views, and role checks."""

from __future__ import annotations

from functools import wraps

from flask import abort, current_app, g, request
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
