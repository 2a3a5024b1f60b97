"""Sign in and out of the UI (a server-side session per device behind the cookies, CSRF-protected
forms, rate-limited), the user's signed-in devices, their password change and an admin's reset."""

from __future__ import annotations

from urllib.parse import urlparse

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from agency.core.audit.service import Actor, record_audit
from agency.core.auth import current_login_session, sign_in, sign_out
from agency.core.errors import ServiceError
from agency.core.extensions import get_session, limiter
from agency.core.ui import actor
from agency.core.users.invitations import accept_invitation as open_portal_account
from agency.core.users.invitations import find_invitation
from agency.core.users.models import User
from agency.core.users.service import (
    active_sessions,
    authenticate,
    change_password,
    end_sessions,
    reset_password,
)
from agency.web.admin import users_page
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
            record = sign_in(user, remember=bool(request.form.get("remember")))
            record_audit(
                db_session=get_session(),
                actor=Actor(user=user),
                action="session.login",
                entity_type="user",
                entity_id=user.id,
                after={"session_id": record.id, "remember": record.remember},
            )
            return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", error=error, email=request.form.get("email", "")), 401 if error else 200


@bp.post("/logout")
def logout():
    record = sign_out()
    if record is not None:
        record_audit(
            db_session=get_session(),
            actor=Actor(user=record.user),
            action="session.logout",
            entity_type="user",
            entity_id=record.user_id,
            after={"session_id": record.id},
        )
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
                sign_in(user)
                flash("Welcome! This is your page: what you earn, what you are measured on, what is due.", "success")
                return redirect(url_for("portal.home"))
    return render_template(
        "portal/accept_invitation.html",
        invitation=invitation,
        token=token,
        errors=errors,
        full_name=request.form.get("full_name", ""),
    ), 422 if errors else 200


@bp.get("/account/sessions")
def account_sessions():
    """The signed-in user's devices, this one marked, each revocable."""
    current = current_login_session()
    sessions = active_sessions(db_session=get_session(), user=current_user)
    return render_template("account_sessions.html", sessions=sessions, current_id=current.id if current else None)


@bp.post("/account/sessions/<int:session_id>/revoke")
def account_session_revoke(session_id: int):
    """Sign one of the user's own devices out (another user's session id is simply not found)."""
    user = current_user._get_current_object()
    if end_sessions(db_session=get_session(), actor=actor(), user=user, only=session_id) == 0:
        abort(404, description="No such signed-in device.")
    current = current_login_session()
    if current is not None and current.id == session_id:
        sign_out()
        flash("You are signed out.", "info")
        return redirect(url_for("web.login"))
    flash("That device is signed out.", "success")
    return redirect(url_for("web.account_sessions"))


@bp.post("/account/sessions/revoke-others")
def account_sessions_revoke_others():
    current = current_login_session()
    count = end_sessions(
        db_session=get_session(),
        actor=actor(),
        user=current_user._get_current_object(),
        keep=current.id if current else None,
    )
    flash(f"Signed out everywhere else ({count} other {'device' if count == 1 else 'devices'}).", "success")
    return redirect(url_for("web.account_sessions"))


@bp.route("/account/password", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["AGENCY"].login_rate_limit, methods=["POST"])
def account_password():
    """The user changes their own password: the current one is asked for, the policy applies,
    and every other device is signed out (API tokens keep working; the page says so)."""
    errors = {}
    if request.method == "POST":
        new_password = request.form.get("new_password", "")
        if new_password != request.form.get("new_password_again", ""):
            errors = {"new_password_again": ["The two new passwords differ."]}
        else:
            session = get_session()
            current = current_login_session()
            try:
                ended = change_password(
                    db_session=session,
                    user=current_user._get_current_object(),
                    current_password=request.form.get("current_password", ""),
                    new_password=new_password,
                    current_session_id=current.id if current else None,
                )
            except ServiceError as exc:
                errors = exc.errors or {"_": [exc.message]}
            else:
                record_audit(
                    db_session=session,
                    actor=actor(),
                    action="user.password_change",
                    entity_type="user",
                    entity_id=current_user.id,
                    after={"sessions_ended": ended},
                )
                flash("Your password is changed; every other device is signed out.", "success")
                return redirect(url_for("web.account_sessions"))
    return render_template("account_password.html", errors=errors), 422 if errors else 200


@bp.post("/admin/users/<int:user_id>/password")
def admin_user_password(user_id: int):
    """An admin sets another user's password (the /admin hook refuses everyone else): all of
    that user's sessions and API tokens end."""
    session = get_session()
    user = session.get(User, user_id) or abort(404)
    new_password = request.form.get("new_password", "")
    try:
        sessions_ended, tokens_revoked = reset_password(db_session=session, user=user, new_password=new_password)
    except ServiceError as exc:
        # The users page again, the refusal beside that user's reset form.
        problems = exc.errors.get("new_password") or [exc.message]
        return users_page(
            session, reset_error=(user.id, f"The password of {user.email} is unchanged: it {'; it '.join(problems)}.")
        ), 422
    record_audit(
        db_session=session,
        actor=actor(),
        action="user.password_reset",
        entity_type="user",
        entity_id=user.id,
        after={"sessions_ended": sessions_ended, "tokens_revoked": tokens_revoked},
    )
    if user.id == current_user.id:
        sign_out()
        flash("Your password is reset and every session ended: sign in with the new password.", "info")
        return redirect(url_for("web.login"))
    flash(
        f"{user.email} has a new password; their {sessions_ended} signed-in "
        f"{'device was' if sessions_ended == 1 else 'devices were'} signed out "
        f"and {tokens_revoked} API {'token was' if tokens_revoked == 1 else 'tokens were'} revoked.",
        "success",
    )
    return redirect(url_for("web.admin_users"))
