"""Admin pages: staff and roles, programmes and rule versions, jobs and scheduled runs."""
from __future__ import annotations

import json

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from agency.db import utcnow
from agency.extensions import get_session
from agency.models import JobRecord, Program, Role, ScheduledRun, User
from agency.services import ServiceError
from agency.services.audit import record_audit, snapshot
from agency.services.auth import create_user
from agency.services.programmes import add_rule_version
from agency.services.rules import validate_criteria
from agency.web import bp
from agency.web.pages import actor


@bp.before_request
def admins_only():
    if request.path.startswith("/admin") and current_user.is_authenticated and current_user.role is not Role.admin:
        abort(403, description="Administration is for admins.")


@bp.route("/admin/users", methods=["GET", "POST"])
def admin_users():
    session = get_session()
    errors = {}
    if request.method == "POST":
        try:
            user = create_user(db_session=session, email=request.form.get("email", ""),
                               password=request.form.get("password", ""), role=request.form.get("role", "analyst"),
                               full_name=request.form.get("full_name", ""))
            record_audit(db_session=session, actor=actor(), action="user.create", entity_type="user",
                         entity_id=user.id, after=snapshot(user))
            flash(f"{user.email} can now sign in as {user.role.value}.", "success")
            return redirect(url_for("web.admin_users"))
        except (ServiceError, ValueError) as exc:
            errors = getattr(exc, "errors", None) or {"role": [str(exc)]}
    users = session.scalars(select(User).order_by(User.role, User.email)).all()
    return render_template("admin_users.html", users=users, errors=errors, roles=list(Role), form=request.form), \
        422 if errors else 200


@bp.post("/admin/users/<int:user_id>/active")
def admin_user_active(user_id: int):
    session = get_session()
    user = session.get(User, user_id) or abort(404)
    if user.id == current_user.id:
        abort(409, description="You cannot deactivate yourself.")
    before = snapshot(user)
    user.is_active = request.form.get("active") == "1"
    record_audit(db_session=session, actor=actor(), action="user.update", entity_type="user", entity_id=user.id,
                 before=before, after=snapshot(user))
    flash(f"{user.email} is now {'active' if user.is_active else 'deactivated'}.", "success")
    return redirect(url_for("web.admin_users"))


@bp.route("/admin/programs", methods=["GET", "POST"])
def admin_programs():
    session = get_session()
    programs = session.scalars(select(Program).order_by(Program.platform, Program.name)).all()
    draft, errors, preview = None, {}, None
    if request.method == "POST":
        program = session.get(Program, request.form.get("program_id", type=int)) or abort(404)
        draft = {"program_id": program.id, "effective_from": request.form.get("effective_from", ""),
                 "source_note": request.form.get("source_note", ""), "criteria": request.form.get("criteria", "")}
        try:
            from datetime import date

            criteria = validate_criteria(json.loads(draft["criteria"] or "null"))
            effective_from = date.fromisoformat(draft["effective_from"])
            if request.form.get("action") == "preview":
                preview = _preview(session, program, criteria, effective_from)
            else:
                rule = add_rule_version(db_session=session, actor=actor(), program=program, data={
                    "effective_from": effective_from, "source_note": draft["source_note"], "criteria": criteria})
                flash(f"{program.name}: rule version {rule.version} saved; the next recompute applies it.", "success")
                return redirect(url_for("web.admin_programs"))
        except json.JSONDecodeError as exc:
            errors = {"criteria": [f"not valid JSON: {exc.msg} (line {exc.lineno})"]}
        except ValueError:
            errors = {"effective_from": ["a date as YYYY-MM-DD is needed"]}
        except ServiceError as exc:
            errors = exc.errors
    return render_template("admin_programs.html", programs=programs, draft=draft, errors=errors, preview=preview,
                           json=json), 422 if errors else 200


def _preview(session, program, criteria, as_of) -> list[dict]:
    """Which creators the draft would change compared with their stored evaluation."""
    from agency.models import Creator, EligibilityEvaluation
    from agency.services.eligibility_sql import evaluation_query

    current = dict(session.execute(select(EligibilityEvaluation.creator_id, EligibilityEvaluation.eligible)
                                   .where(EligibilityEvaluation.program_id == program.id)).all())
    names = dict(session.execute(select(Creator.id, Creator.display_name)).all())
    changes = []
    for row in session.execute(evaluation_query(criteria, max(as_of, utcnow().date()), None)).mappings():
        before = current.get(row["creator_id"])
        if before is None or bool(before) != bool(row["eligible"]):
            changes.append({"creator_id": row["creator_id"], "name": names.get(row["creator_id"]),
                            "before": before, "after": bool(row["eligible"])})
    return changes


@bp.get("/admin/jobs")
def admin_jobs():
    session = get_session()
    runs = session.scalars(select(ScheduledRun).order_by(ScheduledRun.started_at.desc()).limit(50)).all()
    jobs = session.scalars(select(JobRecord).order_by(JobRecord.enqueued_at.desc()).limit(50)).all()
    return render_template("admin_jobs.html", runs=runs, jobs=jobs)
