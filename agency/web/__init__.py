"""The internal web UI for agency staff: server-rendered pages, htmx for small updates."""
from flask import Blueprint, redirect, request, url_for
from flask_login import current_user

from agency.extensions import csrf

bp = Blueprint("web", __name__)

PUBLIC_ENDPOINTS = {"web.login", "static"}


@bp.before_request
def require_login_and_csrf():
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        csrf.protect()  # every UI form and htmx call carries the token
    if request.endpoint not in PUBLIC_ENDPOINTS and not current_user.is_authenticated:
        return redirect(url_for("web.login", next=request.full_path if request.query_string else request.path))
    return None


from agency.web import admin, auth, filters, pages, work  # noqa: E402,F401  (routes register on import)
