"""Deal pages: the board (deals by stage, deliverables due soon, moving a deal along), brands
(add, edit, archive), a deal (open it from a creator or a brand, edit its terms, archive it) and its
deliverables (due dates, status, the published link). Forms validate with the API's schemas and
write through the services, which check ownership and audit."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy import func, select

from agency.core.errors import ServiceError
from agency.core.extensions import agency_today, get_session
from agency.core.ui import actor, require_writer, ui_blueprint
from agency.currencies.service import format_money
from agency.deals.models import Brand, Deal, DealSource, DealStage, Deliverable, DeliverableKind, DeliverableStatus
from agency.deals.schemas import (
    BrandSchema,
    BrandUpdateSchema,
    DealSchema,
    DealUpdateSchema,
    DeliverableSchema,
    DeliverableUpdateSchema,
)
from agency.deals.service import (
    DealFilters,
    add_deliverable,
    allowed_transitions,
    archive_brand,
    archive_deal,
    create_deal,
    deals_query,
    get_brand,
    get_deal,
    get_deliverable,
    money_locked,
    require_brand_write,
    save_brand,
    transition_deal,
    update_deal,
    update_deliverable,
)
from agency.roster import service as roster
from agency.roster.models import Creator, Platform
from agency.roster.service import can_write_creator

bp = ui_blueprint("deals_ui", __name__)

BOARD_STAGES = [
    DealStage.lead,
    DealStage.negotiating,
    DealStage.contracted,
    DealStage.in_progress,
    DealStage.delivered,
    DealStage.invoiced,
    DealStage.paid,
]


@bp.get("/deals")
def deals_board():
    session = get_session()
    mine = request.args.get("mine", "1" if current_user.role.value == "manager" else "0") == "1"
    deals = session.scalars(deals_query(DealFilters(manager_id=current_user.id if mine else None))).unique().all()
    columns = {stage: [d for d in deals if d.stage is stage] for stage in BOARD_STAGES}
    closed = [d for d in deals if d.stage in (DealStage.cancelled, DealStage.lost)]
    today = agency_today()
    due = session.execute(
        select(Deliverable, Deal, Creator.display_name)
        .join(Deal, Deal.id == Deliverable.deal_id)
        .join(Creator, Creator.id == Deal.creator_id)
        .where(
            Deal.archived_at.is_(None),
            Deal.stage.not_in([DealStage.cancelled, DealStage.lost, DealStage.paid]),
            Deliverable.status.not_in([DeliverableStatus.published, DeliverableStatus.cancelled]),
            Deliverable.due_date <= today + timedelta(days=7),
            *([Creator.manager_id == current_user.id] if mine else []),
        )
        .order_by(Deliverable.due_date)
        .limit(30)
    ).all()
    return render_template(
        "deals/deals.html",
        columns=columns,
        closed=closed,
        due=due,
        today=today,
        mine=mine,
        allowed=allowed_transitions,
        can_move=lambda d: can_write_creator(current_user, d.creator),
    )


@bp.post("/deals/<int:deal_id>/move")
def deal_move(deal_id: int):
    session = get_session()
    deal = get_deal(db_session=session, deal_id=deal_id)
    try:
        target = DealStage(request.form.get("to_stage", ""))
    except ValueError:
        abort(400, description="Unknown stage.")
    try:
        transition_deal(db_session=session, actor=actor(), deal=deal, to_stage=target, today=agency_today())
    except ServiceError as exc:
        abort(exc.status, description=exc.message)
    flash(f"'{deal.title}' moved to {target.value.replace('_', ' ')}.", "success")
    back = request.form.get("back") or ""
    return redirect(
        back if back.startswith("/deals") and not back.startswith("//") else url_for("deals_ui.deals_board")
    )


# --- brands -----------------------------------------------------------------------------------


def _errors(exc: Exception) -> dict:
    """A schema's or a service's refusal as field -> messages (`_` for the whole form)."""
    if isinstance(exc, ValidationError):
        return exc.messages if isinstance(exc.messages, dict) else {"_": exc.messages}
    return exc.errors if exc.errors and exc.status != 409 else {"_": [exc.message]}


def _require_version() -> None:
    """An edit form must say which version it was read at (like the API): one without is refused."""
    if not request.form.get("version", "").strip():
        raise ValidationError({"_": ["The form had no version: reload the page and apply your change again."]})


def _contacts(text: str) -> list[dict]:
    """Contacts typed one per line as "name, email, phone, role" (only the name is needed)."""
    contacts = []
    for line in text.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if not any(parts):
            continue
        keys = ("name", "email", "phone", "role")
        contacts.append({k: v for k, v in zip(keys, parts) if v} | {"name": parts[0]})
    return contacts


def _contacts_text(contacts) -> str:
    return "\n".join(
        ", ".join(c.get(k) or "" for k in ("name", "email", "phone", "role")).rstrip(", ") for c in contacts or []
    )


@bp.get("/brands")
def brands():
    session = get_session()
    q = request.args.get("q", "").strip()[:100]
    stmt = select(Brand).order_by(Brand.name)
    if request.args.get("archived") != "1":
        stmt = stmt.where(Brand.archived_at.is_(None))
    if q:
        needle = q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(func.lower(Brand.name).like(f"%{needle}%", escape="\\"))
    rows = session.scalars(stmt.limit(200)).all()
    counts = dict(
        session.execute(
            select(Deal.brand_id, func.count())
            .where(Deal.brand_id.in_([b.id for b in rows]), Deal.archived_at.is_(None))
            .group_by(Deal.brand_id)
        ).all()
    )
    return render_template("deals/brands.html", brands=rows, counts=counts, q=q, can_write=current_user.can_write)


@bp.route("/brands/new", methods=["GET", "POST"])
def brand_new():
    require_writer()
    errors, values = {}, {}
    if request.method == "POST":
        values = {k: request.form.get(k, "").strip() for k in ("name", "industry", "website", "notes", "contacts")}
        try:
            data = BrandSchema().load(
                {k: v for k, v in values.items() if k != "contacts" and v} | {"contacts": _contacts(values["contacts"])}
            )
            brand = save_brand(db_session=get_session(), actor=actor(), data=data)
            flash(f"Brand '{brand.name}' added.", "success")
            return redirect(url_for("deals_ui.brand_detail", brand_id=brand.id))
        except (ValidationError, ServiceError) as exc:
            errors = _errors(exc)
    return render_template("deals/brand_form.html", brand=None, values=values, errors=errors), 422 if errors else 200


def _brand_writable(brand: Brand) -> None:
    """403 (with the reason) unless the user may edit or archive this brand; see the service."""
    try:
        require_brand_write(db_session=get_session(), actor=actor(), brand=brand)
    except ServiceError as exc:
        abort(exc.status, description=exc.message)


@bp.route("/brands/<int:brand_id>/edit", methods=["GET", "POST"])
def brand_edit(brand_id: int):
    require_writer()
    session = get_session()
    brand = get_brand(db_session=session, brand_id=brand_id)
    _brand_writable(brand)
    errors = {}
    values = {
        "name": brand.name,
        "industry": brand.industry,
        "website": brand.website,
        "notes": brand.notes,
        "contacts": _contacts_text(brand.contacts),
    }
    if request.method == "POST":
        values = {k: request.form.get(k, "").strip() for k in values}
        try:
            _require_version()
            data = BrandUpdateSchema().load(
                {k: v for k, v in values.items() if k not in ("contacts",) and (v or k in ("industry", "notes"))}
                | {"contacts": _contacts(values["contacts"]), "version": request.form.get("version", "")}
            )
            version = data.pop("version")
            save_brand(db_session=session, actor=actor(), data=data, brand=brand, expected_version=version)
            flash("Brand saved.", "success")
            return redirect(url_for("deals_ui.brand_detail", brand_id=brand.id))
        except (ValidationError, ServiceError) as exc:
            errors = _errors(exc)
    return render_template("deals/brand_form.html", brand=brand, values=values, errors=errors), 422 if errors else 200


@bp.post("/brands/<int:brand_id>/archive")
def brand_archive(brand_id: int):
    require_writer()
    session = get_session()
    brand = get_brand(db_session=session, brand_id=brand_id)
    _brand_writable(brand)
    archive_brand(db_session=session, actor=actor(), brand=brand)
    flash(f"Brand '{brand.name}' archived; its deals keep it.", "success")
    return redirect(url_for("deals_ui.brands"))


@bp.get("/brands/<int:brand_id>")
def brand_detail(brand_id: int):
    session = get_session()
    brand = get_brand(db_session=session, brand_id=brand_id)
    deals = session.scalars(deals_query(DealFilters(brand_id=brand.id))).unique().all()
    editable = current_user.can_write
    if editable:
        try:
            require_brand_write(db_session=session, actor=actor(), brand=brand)
        except ServiceError:
            editable = False
    return render_template(
        "deals/brand.html", brand=brand, deals=deals, can_write=current_user.can_write, can_edit=editable
    )


# --- deals ------------------------------------------------------------------------------------


def _deal_choices(session, creator_id: int | None):
    """Creators a deal may be opened for (the given one, or the manager's own), and active brands."""
    if creator_id is not None:
        creators = [roster.get_creator(db_session=session, creator_id=creator_id)]
    elif current_user.role.value == "manager":
        creators = session.scalars(
            select(Creator)
            .where(Creator.manager_id == current_user.id, Creator.archived_at.is_(None))
            .order_by(Creator.display_name)
        ).all()
    else:
        creators = []  # admins type the creator's id (a roster can be very long)
    brands_ = session.scalars(select(Brand).where(Brand.archived_at.is_(None)).order_by(Brand.name)).all()
    return creators, brands_


def _default_commission() -> Decimal:
    return Decimal(current_app.config["AGENCY"].default_commission_percent)


DEAL_FIELDS = ("creator_id", "brand_id", "title", "source", "fee_amount", "fee_currency", "commission_percent")
DEAL_OPTIONAL = ("start_date", "end_date", "notes")


@bp.route("/deals/new", methods=["GET", "POST"])
def deal_new():
    require_writer()
    session = get_session()
    creator_id = request.values.get("creator_id", type=int) if request.method == "GET" else None
    values = {"creator_id": creator_id, "brand_id": request.args.get("brand_id", type=int), "fee_currency": "EUR"}
    errors = {}
    if request.method == "POST":
        values = {k: request.form.get(k, "").strip() for k in DEAL_FIELDS + DEAL_OPTIONAL}
        try:
            data = DealSchema().load({k: v for k, v in values.items() if v})
            deal = create_deal(db_session=session, actor=actor(), data=data, default_commission=_default_commission())
            flash(f"Deal '{deal.title}' opened as a lead.", "success")
            return redirect(url_for("deals_ui.deal_detail", deal_id=deal.id))
        except (ValidationError, ServiceError) as exc:
            errors = _errors(exc)
    fixed = values.get("creator_id") if request.method == "GET" else request.form.get("fixed_creator", type=int)
    creators, brands_ = _deal_choices(session, fixed)
    return render_template(
        "deals/deal_form.html",
        deal=None,
        locked=False,
        default_commission=_default_commission(),
        values=values,
        errors=errors,
        creators=creators,
        fixed_creator=fixed,
        brands=brands_,
        sources=list(DealSource),
    ), 422 if errors else 200


@bp.route("/deals/<int:deal_id>/edit", methods=["GET", "POST"])
def deal_edit(deal_id: int):
    session = get_session()
    deal = get_deal(db_session=session, deal_id=deal_id)
    if not can_write_creator(current_user, deal.creator):
        abort(403, description="You can only change deals of creators you manage.")
    errors = {}
    editable = ("brand_id", "title", "source", "fee_amount", "fee_currency", "commission_percent") + DEAL_OPTIONAL
    values = {k: getattr(deal, k) for k in editable}
    values["source"] = deal.source.value
    values["fee_amount"] = format_money(deal.fee_amount, deal.fee_currency)
    # Shown only when set on the deal: an empty commission is the agreement's.
    values["commission_percent"] = deal.commission_percent if deal.commission_override else ""
    if request.method == "POST":
        values = {k: request.form.get(k, "").strip() for k in editable}
        try:
            _require_version()
            data = DealUpdateSchema().load(
                {k: v for k, v in values.items() if v or k == "notes"}
                | {k: None for k in ("start_date", "end_date") if not values[k]}
                | ({"commission_override": False} if not values["commission_percent"] else {})
                | {"version": request.form.get("version", "")}
            )
            version = data.pop("version")
            update_deal(db_session=session, actor=actor(), deal=deal, data=data, expected_version=version)
            flash("Deal terms saved.", "success")
            return redirect(url_for("deals_ui.deal_detail", deal_id=deal.id))
        except (ValidationError, ServiceError) as exc:
            errors = _errors(exc)
    _creators, brands_ = _deal_choices(session, deal.creator_id)
    return render_template(
        "deals/deal_form.html",
        deal=deal,
        locked=money_locked(deal),
        default_commission=_default_commission(),
        values=values,
        errors=errors,
        creators=[deal.creator],
        fixed_creator=deal.creator_id,
        brands=brands_,
        sources=list(DealSource),
    ), 422 if errors else 200


@bp.post("/deals/<int:deal_id>/archive")
def deal_archive(deal_id: int):
    session = get_session()
    deal = get_deal(db_session=session, deal_id=deal_id)
    try:
        archive_deal(db_session=session, actor=actor(), deal=deal)
    except ServiceError as exc:
        abort(exc.status, description=exc.message)
    flash(f"Deal '{deal.title}' archived.", "success")
    return redirect(url_for("web.creator_detail", creator_id=deal.creator_id))


@bp.get("/deals/<int:deal_id>")
def deal_detail(deal_id: int):
    deal = get_deal(db_session=get_session(), deal_id=deal_id)
    return _deal_page(deal)


def _deal_page(deal, *, errors=None, values=None, deliverable_errors=None):
    failed = bool(errors or deliverable_errors)
    return render_template(
        "deals/deal.html",
        deal=deal,
        can_edit=can_write_creator(current_user, deal.creator),
        allowed=allowed_transitions(deal.stage),
        errors=errors or {},
        values=values or {},
        deliverable_errors=deliverable_errors or {},
        kinds=list(DeliverableKind),
        statuses=list(DeliverableStatus),
        platforms=list(Platform),
        today=agency_today(),
    ), 422 if failed else 200


DELIVERABLE_FIELDS = ("kind", "platform", "due_date", "status", "published_url", "notes")


@bp.post("/deals/<int:deal_id>/deliverables")
def deliverable_add(deal_id: int):
    session = get_session()
    deal = get_deal(db_session=session, deal_id=deal_id)
    values = {k: request.form.get(k, "").strip() for k in DELIVERABLE_FIELDS}
    try:
        data = DeliverableSchema().load({k: v for k, v in values.items() if v})
        add_deliverable(db_session=session, actor=actor(), deal=deal, data=data)
    except (ValidationError, ServiceError) as exc:
        if getattr(exc, "status", 422) == 403:
            abort(403, description=exc.message)
        return _deal_page(deal, errors=_errors(exc), values=values)
    flash("Deliverable added.", "success")
    return redirect(url_for("deals_ui.deal_detail", deal_id=deal.id, _anchor="deliverables"))


@bp.post("/deals/<int:deal_id>/deliverables/<int:deliverable_id>")
def deliverable_update(deal_id: int, deliverable_id: int):
    session = get_session()
    deal = get_deal(db_session=session, deal_id=deal_id)
    deliverable = get_deliverable(db_session=session, deal=deal, deliverable_id=deliverable_id)
    values = {k: request.form.get(k, "").strip() for k in ("due_date", "status", "published_url")}
    try:
        _require_version()
        data = DeliverableUpdateSchema().load(
            {k: v for k, v in values.items() if v}
            | ({"due_date": None} if not values["due_date"] else {})
            | {"version": request.form.get("version", "")}
        )
        version = data.pop("version")
        update_deliverable(
            db_session=session, actor=actor(), deliverable=deliverable, data=data, expected_version=version
        )
    except (ValidationError, ServiceError) as exc:
        if getattr(exc, "status", 422) == 403:
            abort(403, description=exc.message)
        session.expire(deliverable)
        return _deal_page(deal, deliverable_errors={deliverable.id: _errors(exc)})
    flash(f"Deliverable saved: {deliverable.status.value.replace('_', ' ')}.", "success")
    return redirect(url_for("deals_ui.deal_detail", deal_id=deal.id, _anchor=f"deliverable-{deliverable.id}"))
