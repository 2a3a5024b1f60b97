"""Roster pages: adding and editing a creator (the roster list and a creator's page are the web
shell's, as they show every domain)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy import select

from agency.core.errors import ServiceError
from agency.core.extensions import get_session
from agency.core.ui import actor, require_writer, ui_blueprint
from agency.core.users.models import Role, User
from agency.roster import service as roster
from agency.roster.models import CreatorStatus, Niche
from agency.roster.schemas import CreatorSchema
from agency.roster.service import can_write_creator

bp = ui_blueprint("roster_ui", __name__)


def _form_data(form) -> dict:
    data = {k: v for k, v in form.items() if k not in ("csrf_token", "version")}
    data["languages"] = [x.strip() for x in form.get("languages", "").split(",") if x.strip()]
    data["parental_agreement_on_file"] = form.get("parental_agreement_on_file") == "on"
    for key in ("date_of_birth", "manager_id"):
        if data.get(key) == "":
            data[key] = None
    return data


@bp.route("/creators/new", methods=["GET", "POST"])
def creator_new():
    require_writer()
    errors, values = {}, {}
    if request.method == "POST":
        values = _form_data(request.form)
        if current_user.role is Role.manager:
            values["manager_id"] = current_user.id
        try:
            data = CreatorSchema().load(values)
            creator = roster.create_creator(db_session=get_session(), actor=actor(), data=data)
            flash(f"{creator.display_name} was added to the roster.", "success")
            return redirect(url_for("web.creator_detail", creator_id=creator.id))
        except ValidationError as exc:
            errors = exc.messages
        except ServiceError as exc:
            errors = exc.errors or {"_": [exc.message]}
    return _creator_form(None, values, errors)


@bp.route("/creators/<int:creator_id>/edit", methods=["GET", "POST"])
def creator_edit(creator_id: int):
    session = get_session()
    creator = roster.get_creator(db_session=session, creator_id=creator_id)
    if not can_write_creator(current_user, creator):
        abort(403, description="You can only edit creators you manage.")
    errors, values = {}, {}
    if request.method == "POST":
        values = _form_data(request.form)
        if current_user.role is not Role.admin:
            values.pop("manager_id", None)
        try:
            data = CreatorSchema(exclude=("accounts",), partial=True).load(values)
            roster.update_creator(
                db_session=session,
                actor=actor(),
                creator=creator,
                data=data,
                expected_version=request.form.get("version", type=int),
            )
            flash("Changes saved.", "success")
            return redirect(url_for("web.creator_detail", creator_id=creator.id))
        except ValidationError as exc:
            errors = exc.messages
        except ServiceError as exc:
            errors = exc.errors or {"_": [exc.message]}
            if exc.status == 409:
                errors = {"_": [exc.message]}
    return _creator_form(creator, values, errors)


def _creator_form(creator, values, errors):
    session = get_session()
    managers = session.scalars(
        select(User).where(User.role.in_([Role.manager, Role.admin]), User.is_active.is_(True)).order_by(User.full_name)
    ).all()
    status = 422 if errors else 200
    return render_template(
        "roster/creator_form.html",
        creator=creator,
        values=values,
        errors=errors,
        managers=managers,
        niches=list(Niche),
        statuses=list(CreatorStatus),
    ), status
