"""Roster pages: adding and editing a creator, archiving and restoring, platform accounts and
strikes, and portal invitations (the roster list and a creator's page are the web shell's, as they
show every domain). Forms validate with the API's schemas and write through the services, which
check ownership and audit."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy import select

from agency.core.errors import ServiceError
from agency.core.extensions import get_session
from agency.core.ui import actor, require_writer, ui_blueprint
from agency.core.users.invitations import invitation_link, invitations_of, portal_users_of
from agency.core.users.models import Role, User
from agency.roster import service as roster
from agency.roster.models import AccountType, CreatorStatus, Niche, Platform
from agency.roster.schemas import AccountSchema, AccountUpdateSchema, CreatorSchema, StrikeSchema
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
        version = request.form.get("version", type=int)
        try:
            if version is None:
                # Like the API, an edit must say which version it was made on: never applied blind.
                raise ValidationError({"_": ["The form had no version: reload the page and apply your change again."]})
            data = CreatorSchema(exclude=("accounts",), partial=True).load(values)
            roster.update_creator(
                db_session=session, actor=actor(), creator=creator, data=data, expected_version=version
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


def _editable_creator(creator_id: int):
    creator = roster.get_creator(db_session=get_session(), creator_id=creator_id)
    if not can_write_creator(current_user, creator):
        abort(403, description="You can only change creators you manage.")
    return creator


def _errors(exc: Exception) -> dict:
    """A schema's or a service's refusal as field -> messages (`_` for the whole form)."""
    if isinstance(exc, ValidationError):
        return exc.messages if isinstance(exc.messages, dict) else {"_": exc.messages}
    return exc.errors if getattr(exc, "errors", None) and exc.status != 409 else {"_": [exc.message]}


def _form(form, *names: str) -> dict:
    """The named fields of a form; empty ones are left out (the schema's defaults apply)."""
    return {name: form[name].strip() for name in names if form.get(name, "").strip()}


@bp.post("/creators/<int:creator_id>/archive")
def creator_archive(creator_id: int):
    creator = _editable_creator(creator_id)
    roster.archive_creator(db_session=get_session(), actor=actor(), creator=creator)
    flash(f"{creator.display_name} is archived (offboarded); their history stays. You can restore them.", "success")
    return redirect(url_for("web.creator_detail", creator_id=creator.id))


@bp.post("/creators/<int:creator_id>/restore")
def creator_restore(creator_id: int):
    creator = _editable_creator(creator_id)
    try:
        roster.restore_creator(
            db_session=get_session(),
            actor=actor(),
            creator=creator,
            expected_version=request.form.get("version", type=int),
        )
    except ServiceError as exc:
        abort(exc.status, description=exc.message)
    flash(f"{creator.display_name} is back on the roster, paused.", "success")
    return redirect(url_for("web.creator_detail", creator_id=creator.id))


@bp.route("/creators/<int:creator_id>/accounts", methods=["GET", "POST"])
def creator_accounts(creator_id: int):
    """The creator's platform accounts and strikes; POST adds an account."""
    creator = _editable_creator(creator_id)
    errors, values = {}, {}
    if request.method == "POST":
        values = _form(request.form, "platform", "handle", "account_type")
        try:
            account = roster.add_account(
                db_session=get_session(), actor=actor(), creator=creator, data=AccountSchema().load(values)
            )
            flash(f"{account.platform.value} account @{account.handle} added.", "success")
            return redirect(url_for("roster_ui.creator_accounts", creator_id=creator.id))
        except (ValidationError, ServiceError) as exc:
            errors = _errors(exc)
    return _accounts_page(creator, errors=errors, values=values)


def _accounts_page(creator, *, errors=None, values=None, strike_errors=None, strike_values=None, account_errors=None):
    failed = bool(errors or strike_errors or account_errors)
    return render_template(
        "roster/accounts.html",
        creator=creator,
        errors=errors or {},
        values=values or {},
        strike_errors=strike_errors or {},
        strike_values=strike_values or {},
        account_errors=account_errors or {},
        platforms=list(Platform),
        account_types=list(AccountType),
    ), 422 if failed else 200


@bp.post("/creators/<int:creator_id>/accounts/<int:account_id>")
def account_update(creator_id: int, account_id: int):
    creator = _editable_creator(creator_id)
    session = get_session()
    account = roster.get_account(db_session=session, creator=creator, account_id=account_id)
    version = request.form.get("version", type=int)
    try:
        if version is None:
            # Like every edit form, never applied blind: it says which version it was made on.
            raise ValidationError({"_": ["The form had no version: reload the page and apply your change again."]})
        data = AccountUpdateSchema().load(_form(request.form, "handle", "account_type"))
        roster.update_account(db_session=session, actor=actor(), account=account, data=data, expected_version=version)
    except (ValidationError, ServiceError) as exc:
        return _accounts_page(creator, account_errors={account.id: _errors(exc)})
    flash(f"{account.platform.value} account @{account.handle} saved.", "success")
    return redirect(url_for("roster_ui.creator_accounts", creator_id=creator.id))


@bp.post("/creators/<int:creator_id>/accounts/<int:account_id>/delete")
def account_delete(creator_id: int, account_id: int):
    creator = _editable_creator(creator_id)
    session = get_session()
    account = roster.get_account(db_session=session, creator=creator, account_id=account_id)
    label = f"{account.platform.value} account @{account.handle}"
    roster.delete_account(db_session=session, actor=actor(), account=account)
    flash(f"{label} and its metrics were removed.", "success")
    return redirect(url_for("roster_ui.creator_accounts", creator_id=creator.id))


@bp.post("/creators/<int:creator_id>/strikes")
def strike_add(creator_id: int):
    creator = _editable_creator(creator_id)
    values = _form(request.form, "occurred_on", "platform", "reason")
    try:
        data = StrikeSchema().load(values)
        roster.add_strike(db_session=get_session(), actor=actor(), creator=creator, **data)
    except (ValidationError, ServiceError) as exc:
        return _accounts_page(creator, strike_errors=_errors(exc), strike_values=values)
    flash(f"Strike recorded; standing is now {creator.guideline_standing.value}.", "success")
    return redirect(url_for("roster_ui.creator_accounts", creator_id=creator.id))


@bp.route("/creators/<int:creator_id>/portal", methods=["GET", "POST"])
def creator_portal_access(creator_id: int):
    """Invite the creator to their portal: the link is emailed to them, and shown once here too."""
    creator = _editable_creator(creator_id)
    session = get_session()
    errors, link, email = {}, None, ""
    if request.method == "POST":
        email = request.form.get("email", "").strip()
        try:
            public_url = current_app.config["AGENCY"].public_url
            token, invitation = roster.invite_creator(
                db_session=session, actor=actor(), creator=creator, email=email, public_url=public_url
            )
            link = invitation_link(public_url, token)
        except ServiceError as exc:
            errors = _errors(exc)
    return render_template(
        "roster/portal_access.html",
        creator=creator,
        errors=errors,
        email=email,
        link=link,
        invitations=invitations_of(db_session=session, creator_id=creator.id),
        users=portal_users_of(db_session=session, creator_id=creator.id),
    ), 422 if errors else 200
