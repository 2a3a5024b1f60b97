"""The revenue page: records with filters, CSV imports, and single records and refunds (the API's
schema validates them, the revenue service checks ownership and audits)."""

from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from marshmallow import ValidationError

from agency.core.audit.service import record_audit
from agency.core.errors import ServiceError
from agency.core.extensions import agency_today, get_session
from agency.core.jobs.http import after_import
from agency.core.pagination import UI_PAGE_SIZE
from agency.core.ui import actor, require_writer, ui_blueprint
from agency.currencies.service import format_money
from agency.deals.models import Deal
from agency.deals.service import get_deal, money_locked
from agency.money.models import Adjustment, RevenueRecord, RevenueSource
from agency.money.revenue import (
    RevenueFilters,
    archive_record,
    create_record,
    deal_records,
    get_record,
    import_revenue,
    record_adjustment,
    revenue_query,
    update_record,
)
from agency.money.schemas import AdjustmentSchema, RevenueSchema, RevenueUpdateSchema
from agency.roster.models import Creator, Platform
from agency.roster.service import can_write_creator, get_creator

bp = ui_blueprint("money_ui", __name__)


@bp.route("/revenue", methods=["GET", "POST"])
def revenue():
    session = get_session()
    report = None
    if request.method == "POST":
        require_writer()
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            flash("Choose a CSV file to import.", "error")
        else:
            try:
                report = import_revenue(
                    db_session=session,
                    stream=upload.stream,
                    fmt="csv",
                    mode="partial" if request.form.get("partial") else "all",
                    today=agency_today(),
                    user=current_user,
                )
            except ServiceError as exc:
                report = {"error": exc.message, "details": exc.errors}
            else:
                if report.committed:
                    record_audit(
                        db_session=session,
                        actor=actor(),
                        action="revenue.import",
                        entity_type="revenue",
                        entity_id=None,
                        after={k: v for k, v in report.as_dict().items() if k != "errors"},
                    )
                    # The income mix of exactly the creators the file touched, as the API does.
                    after_import("recompute_diversification", report.affected_creator_ids, current_user.id)
            if request.headers.get("HX-Request"):
                return render_template("money/partials/import_report.html", report=report), 200
    args = request.args
    filters = RevenueFilters(
        creator_id=args.get("creator_id", type=int),
        source=[s for s in args.getlist("source") if s in {x.value for x in RevenueSource}] or None,
        platform=[p for p in args.getlist("platform") if p in {x.value for x in Platform}] or None,
        date_from=_date(args.get("from")),
        date_to=_date(args.get("to")),
        manager_id=current_user.id if args.get("mine") == "1" else None,
    )
    page = max(1, args.get("page", 1, type=int))
    rows = session.execute(
        revenue_query(filters)
        .add_columns(Creator.display_name)
        .join(Creator, Creator.id == RevenueRecord.creator_id)
        .limit(UI_PAGE_SIZE + 1)
        .offset((page - 1) * UI_PAGE_SIZE)
    ).all()
    return render_template(
        "money/revenue.html",
        rows=rows[:UI_PAGE_SIZE],
        has_next=len(rows) > UI_PAGE_SIZE,
        page=page,
        sources=list(RevenueSource),
        platforms=list(Platform),
        report=report,
        month=agency_today().strftime("%Y-%m"),
        can_import=current_user.role.value != "analyst",
    )


def _date(value):
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


RECORD_FIELDS = ("creator_id", "date", "source", "platform", "amount", "currency", "external_ref", "deal_id", "notes")


def _require_version() -> None:
    """An edit form must say which version it was read at (like the API): one without is refused."""
    if not request.form.get("version", "").strip():
        raise ValidationError({"_": ["The form had no version: reload the page and apply your change again."]})


def _record_errors(exc: Exception) -> dict:
    if isinstance(exc, ValidationError):
        return exc.messages if isinstance(exc.messages, dict) else {"_": exc.messages}
    return exc.errors if exc.errors and exc.status != 409 else {"_": [exc.message]}


def _record_form(*, record=None, values, errors, refund_of=None):
    creator_id = values.get("creator_id") or (record.creator_id if record else None)
    creator = None
    if creator_id and str(creator_id).isascii() and str(creator_id).isdigit():
        try:
            creator = get_creator(db_session=get_session(), creator_id=int(creator_id))
        except ServiceError:
            creator = None
    return render_template(
        "money/record_form.html",
        record=record,
        refund_of=refund_of,
        creator=creator,
        values=values,
        errors=errors,
        sources=list(RevenueSource),
        platforms=list(Platform),
        locked_deal=_locked_deal(record),
    ), 422 if errors else 200


def _locked_deal(record):
    """The invoiced deal whose money this record is part of (its payment or a correction), if any."""
    if record is None or record.deal_id is None or record.source is not RevenueSource.brand_deal:
        return None
    deal = get_session().get(Deal, record.deal_id)
    return deal if deal is not None and money_locked(deal) else None


@bp.route("/revenue/new", methods=["GET", "POST"])
def record_new():
    """One revenue record, or a refund (a negative record marked as such) of an earlier one."""
    require_writer()
    session = get_session()
    refund_of = (
        get_record(db_session=session, record_id=request.values.get("refund_of", type=int))
        if request.values.get("refund_of")
        else None
    )
    if request.method == "GET":
        values = {
            "creator_id": request.args.get("creator_id", ""),
            "date": agency_today().isoformat(),
            "currency": "EUR",
        }
        if refund_of is not None:
            values |= {
                "creator_id": refund_of.creator_id,
                "source": refund_of.source.value,
                "platform": refund_of.platform.value if refund_of.platform else "",
                "amount": format_money(-refund_of.amount, refund_of.currency),
                "currency": refund_of.currency,
                "deal_id": refund_of.deal_id or "",
                "notes": f"Refund of record {refund_of.id}",
                "refund": "on",
            }
        return _record_form(values=values, errors={}, refund_of=refund_of)
    values = {k: request.form.get(k, "").strip() for k in RECORD_FIELDS} | {"refund": request.form.get("refund", "")}
    try:
        data = RevenueSchema().load(
            {k: v for k, v in values.items() if v and k != "refund"} | {"refund": bool(values["refund"])}
        )
        record = create_record(db_session=session, actor=actor(), data=data, today=agency_today())
    except (ValidationError, ServiceError) as exc:
        if getattr(exc, "status", 422) == 403:
            abort(403, description=exc.message)
        return _record_form(values=values, errors=_record_errors(exc), refund_of=refund_of)
    flash(f"{'Refund' if record.is_refund else 'Revenue'} of {record.amount} {record.currency} recorded.", "success")
    return redirect(url_for("money_ui.revenue", creator_id=record.creator_id))


@bp.route("/revenue/<int:record_id>/edit", methods=["GET", "POST"])
def record_edit(record_id: int):
    session = get_session()
    record = get_record(db_session=session, record_id=record_id)
    if not can_write_creator(current_user, session.get(Creator, record.creator_id)):
        abort(403, description="You can only change revenue of creators you manage.")
    values = {
        "creator_id": record.creator_id,
        "date": record.earned_on.isoformat(),
        "source": record.source.value,
        "platform": record.platform.value if record.platform else "",
        "amount": format_money(record.amount, record.currency),
        "currency": record.currency,
        "notes": record.notes,
        "refund": "on" if record.is_refund else "",
    }
    if request.method == "GET":
        return _record_form(record=record, values=values, errors={})
    editable = ("date", "source", "platform", "amount", "currency", "notes")
    values |= {k: request.form.get(k, "").strip() for k in editable} | {"refund": request.form.get("refund", "")}
    try:
        _require_version()
        data = RevenueUpdateSchema().load(
            {k: v for k, v in values.items() if k in editable and (v or k == "notes")}
            | {
                "platform": values["platform"] or None,
                "refund": bool(values["refund"]),
                "version": request.form.get("version", ""),
            }
        )
        version = data.pop("version")
        update_record(
            db_session=session, actor=actor(), record=record, data=data, expected_version=version, today=agency_today()
        )
    except (ValidationError, ServiceError) as exc:
        session.expire(record)
        return _record_form(record=record, values=values, errors=_record_errors(exc))
    flash("Revenue record saved.", "success")
    return redirect(url_for("money_ui.revenue", creator_id=record.creator_id))


@bp.post("/revenue/<int:record_id>/archive")
def record_archive(record_id: int):
    session = get_session()
    record = get_record(db_session=session, record_id=record_id)
    try:
        archive_record(db_session=session, actor=actor(), record=record)
    except ServiceError as exc:
        abort(exc.status, description=exc.message)
    flash("Revenue record archived: statements leave it out.", "success")
    return redirect(url_for("money_ui.revenue", creator_id=record.creator_id))


@bp.route("/deals/<int:deal_id>/adjustments", methods=["GET", "POST"])
def deal_adjustments(deal_id: int):
    """An invoiced deal's money: its payment, its corrections, and a form for a credit or a refund."""
    session = get_session()
    deal = get_deal(db_session=session, deal_id=deal_id)
    errors, values = {}, {"kind": "credit"}
    if request.method == "POST":
        values = {k: request.form.get(k, "").strip() for k in ("kind", "amount", "reason")}
        try:
            data = AdjustmentSchema().load({k: v for k, v in values.items() if v})
            record = record_adjustment(db_session=session, actor=actor(), deal=deal, today=agency_today(), **data)
        except (ValidationError, ServiceError) as exc:
            if getattr(exc, "status", 422) == 403:
                abort(403, description=exc.message)
            errors = _record_errors(exc)
        else:
            flash(
                f"{record.adjustment.value.capitalize()} of {format_money(abs(record.amount), record.currency)} "
                f"{record.currency} recorded on {record.earned_on}.",
                "success",
            )
            return redirect(url_for("money_ui.deal_adjustments", deal_id=deal.id))
    return render_template(
        "money/deal_adjustments.html",
        deal=deal,
        records=deal_records(db_session=session, deal=deal),
        locked=money_locked(deal),
        can_edit=can_write_creator(current_user, deal.creator),
        kinds=list(Adjustment),
        values=values,
        errors=errors,
    ), 422 if errors else 200
