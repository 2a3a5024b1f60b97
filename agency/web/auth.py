"""Login and logout for the UI (session cookies, CSRF-protected forms, rate-limited)."""

from __future__ import annotations

from urllib.parse import urlparse

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import login_user, logout_user

from agency.core.audit.service import Actor, record_audit
from agency.core.errors import ServiceError
from agency.core.extensions import get_session, limiter
from agency.core.users.invitations import accept_invitation as open_portal_account
from agency.core.users.invitations import find_invitation
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


@bp.route("/invitations/accept", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["AGENCY"].login_rate_limit, methods=["POST"])
def accept_invitation():
    """A creator opens their portal account from their manager's link. The token travels in the
    query string (never logged) and then in the form."""
    session = get_session()
    token = request.values.get("token", "")
    try:
        invitation = find_invitation(db_session=session, token=token)
    except ServiceError as exc:
        return render_template("portal/invitation_invalid.html", message=exc.message), 404
    errors = {}
    if request.method == "POST":
        password = request.form.get("password", "")
        if password != request.form.get("password_again", ""):
            errors = {"password_again": ["The two passwords differ."]}
        else:
            try:
                user = open_portal_account(
                    db_session=session, token=token, password=password, full_name=request.form.get("full_name", "")
                )
            except ServiceError as exc:
                errors = exc.errors or {"_": [exc.message]}
            else:
                record_audit(
                    db_session=session,
                    actor=Actor(user=user),
                    action="invitation.accept",
                    entity_type="creator",
                    entity_id=invitation.creator_id,
                    after={"user_id": user.id, "email": user.email},
                )
                login_user(user)
                flash("Welcome! This is your page: what you earn, what you are measured on, what is due.", "success")
                return redirect(url_for("portal.home"))
    return render_template(
        "portal/accept_invitation.html",
        invitation=invitation,
        token=token,
        errors=errors,
        full_name=request.form.get("full_name", ""),
    ), 422 if errors else 200
