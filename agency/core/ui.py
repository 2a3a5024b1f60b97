"""What every UI blueprint shares: sign-in and CSRF on every request, the acting user, and the
small permission checks pages make."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, request, url_for
from flask_login import current_user

from agency.core.audit.service import Actor
from agency.core.extensions import csrf
from agency.core.users.models import Role

PUBLIC_ENDPOINTS = {"web.login", "web.accept_invitation", "static"}
# What a creator's session may open besides the portal's own pages.
CREATOR_ENDPOINTS = {
    "web.logout",
    "web.account_sessions",
    "web.account_session_revoke",
    "web.account_sessions_revoke_others",
    "web.account_password",
    "static",
}
PORTAL_BLUEPRINT = "portal"


def require_login_and_csrf():
    """`before_request` of every UI blueprint: a signed-in user, and a CSRF token on every write.
    Creators reach the portal only: the staff dashboard sends them there, other pages are 403."""
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        csrf.protect()  # every UI form and htmx call carries the token
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        return redirect(url_for("web.login", next=request.full_path if request.query_string else request.path))
    if current_user.role is Role.creator and request.endpoint not in CREATOR_ENDPOINTS:
        if request.blueprint == PORTAL_BLUEPRINT:
            return None
        if request.endpoint == "web.dashboard":
            return redirect(url_for(f"{PORTAL_BLUEPRINT}.home"))
        abort(403, description="Creator accounts see their own page only.")
    if request.blueprint == PORTAL_BLUEPRINT and current_user.role is not Role.creator:
        abort(403, description="The creator portal is for creators; staff see the creator's page.")
    return None


def admins_only():
    """`before_request` of blueprints with /admin pages."""
    if request.path.startswith("/admin") and current_user.is_authenticated and current_user.role is not Role.admin:
        abort(403, description="Administration is for admins.")


def ui_blueprint(name: str, import_name: str, **kwargs) -> Blueprint:
    """A UI blueprint whose pages need a signed-in user (templates under its `templates/`)."""
    blueprint = Blueprint(name, import_name, template_folder="templates", **kwargs)
    blueprint.before_request(require_login_and_csrf)
    return blueprint


def actor() -> Actor:
    return Actor(user=current_user._get_current_object())


def scope_manager_id() -> int | None:
    """Managers see their own creators first; admins and analysts see everyone."""
    return current_user.id if current_user.role is Role.manager else None


def require_writer() -> None:
    if current_user.role is Role.analyst:
        abort(403, description="Analysts have read-only access.")
    if current_user.role is not Role.admin and current_user.role is not Role.manager:
        abort(403, description="Only agency staff can change this.")
