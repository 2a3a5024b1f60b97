"""Login and logout for the UI (session cookies, CSRF-protected forms, rate-limited)."""

from __future__ import annotations

from urllib.parse import urlparse

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import login_user, logout_user

from agency.core.audit.service import Actor, record_audit
from agency.core.extensions import get_session, limiter
from agency.core.users.service import authenticate
from agency.web.views import bp


def _safe_next(target: str | None) -> str:
    """Only local paths: never an open redirect to another site."""
    if not target:
        return url_for("web.dashboard")
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("web.dashboard")
    return target


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["AGENCY"].login_rate_limit, methods=["POST"])
def login():
    error = None
    if request.method == "POST":
        email = request.form.get("email", "").strip()
        user = authenticate(db_session=get_session(), email=email, password=request.form.get("password", ""))
        if user is None:
            error = "Wrong email or password."
        else:
            login_user(user, remember=bool(request.form.get("remember")))
            record_audit(
                db_session=get_session(),
                actor=Actor(user=user),
                action="session.login",
                entity_type="user",
                entity_id=user.id,
            )
            return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", error=error, email=request.form.get("email", "")), 401 if error else 200


@bp.post("/logout")
def logout():
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("web.login"))
