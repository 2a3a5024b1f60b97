"""Admin pages of the shell: staff and roles, jobs and scheduled runs (the programme editor is
the programmes domain's)."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from agency.core.audit.service import record_audit, snapshot
from agency.core.auth import current_login_session
from agency.core.errors import ServiceError
from agency.core.extensions import get_session
from agency.core.jobs.models import JobRecord, ScheduledRun
from agency.core.jobs.service import retry_job
from agency.core.ui import actor, admins_only
from agency.core.users.models import STAFF_ROLES, User
from agency.core.users.service import active_session_counts, create_user, end_sessions
from agency.web.views import bp

# The shell's admin pages share the web blueprint; its hook refuses them to everyone but admins.
bp.before_request(admins_only)


@bp.route("/admin/users", methods=["GET", "POST"])
def admin_users():
    session = get_session()
    errors = {}
    if request.method == "POST":
        try:
            if request.form.get("role") not in {r.value for r in STAFF_ROLES}:
                raise ValueError("Choose admin, manager or analyst (creators are invited by their manager).")
            user = create_user(
                db_session=session,
                email=request.form.get("email", ""),
                password=request.form.get("password", ""),
                role=request.form.get("role", "analyst"),
                full_name=request.form.get("full_name", ""),
            )
            record_audit(
                db_session=session,
                actor=actor(),
                action="user.create",
                entity_type="user",
                entity_id=user.id,
                after=snapshot(user),
            )
            flash(f"{user.email} can now sign in as {user.role.value}.", "success")
            return redirect(url_for("web.admin_users"))
        except (ServiceError, ValueError) as exc:
            errors = getattr(exc, "errors", None) or {"role": [str(exc)]}
    return users_page(session, errors=errors, form=request.form), 422 if errors else 200


def users_page(session, *, errors: dict | None = None, form=None, reset_error: tuple[int, str] | None = None) -> str:
    """The staff list (with each user's signed-in devices), the add form and the per-user actions."""
    return render_template(
        "web/admin_users.html",
        users=session.scalars(select(User).order_by(User.role, User.email)).all(),
        devices=active_session_counts(db_session=session),
        errors=errors or {},
        roles=STAFF_ROLES,
        form=form or {},
        reset_error=reset_error,
    )


@bp.post("/admin/users/<int:user_id>/sessions/revoke")
def admin_user_sessions_revoke(user_id: int):
    """Sign a user out of every device (their password and API tokens stay); an admin doing it to
    themselves keeps the device they are on."""
    session = get_session()
    user = session.get(User, user_id) or abort(404)
    current = current_login_session() if user.id == current_user.id else None
    ended = end_sessions(db_session=session, actor=actor(), user=user, keep=current.id if current else None)
    flash(f"{user.email} is signed out of {ended} {'device' if ended == 1 else 'devices'}.", "success")
    return redirect(url_for("web.admin_users"))


@bp.post("/admin/users/<int:user_id>/active")
def admin_user_active(user_id: int):
    session = get_session()
    user = session.get(User, user_id) or abort(404)
    if user.id == current_user.id:
        abort(409, description="You cannot deactivate yourself.")
    before = snapshot(user)
    user.is_active = request.form.get("active") == "1"
    record_audit(
        db_session=session,
        actor=actor(),
        action="user.update",
        entity_type="user",
        entity_id=user.id,
        before=before,
        after=snapshot(user),
    )
    flash(f"{user.email} is now {'active' if user.is_active else 'deactivated'}.", "success")
    return redirect(url_for("web.admin_users"))


@bp.get("/admin/jobs")
def admin_jobs():
    session = get_session()
    runs = session.scalars(select(ScheduledRun).order_by(ScheduledRun.started_at.desc()).limit(50)).all()
    jobs = session.scalars(select(JobRecord).order_by(JobRecord.enqueued_at.desc()).limit(50)).all()
    return render_template("web/admin_jobs.html", runs=runs, jobs=jobs)


@bp.post("/admin/jobs/<string:job_id>/retry")
def admin_job_retry(job_id: str):
    session = get_session()
    record = session.get(JobRecord, job_id) or abort(404)
    try:
        retry = retry_job(session, current_app.config["AGENCY"], record, actor())
    except ServiceError as exc:
        abort(exc.status, description=exc.message)
    flash(f"{record.name} queued again (job {retry.id[:8]}, {retry.status.value}).", "success")
    return redirect(url_for("web.admin_jobs"))
