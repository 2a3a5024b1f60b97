"""Deals board, revenue records and imports, alerts inbox and notification preferences."""
from __future__ import annotations

from datetime import timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import case, select

from agency.db import utcnow
from agency.extensions import get_session
from agency.models import (
    Alert, AlertKind, AlertStatus, Creator, Deal, DealStage, Deliverable, DeliverableStatus, Platform,
    RevenueRecord, RevenueSource, Severity,
)
from agency.services import ServiceError
from agency.services.alerts import acknowledge_alert, get_alert, resolve_alert
from agency.services.auth import can_write_creator
from agency.services.deals import allowed_transitions, deals_query, DealFilters, get_deal, transition_deal
from agency.services.notifications import preferences_for
from agency.services.revenue import RevenueFilters, import_revenue, revenue_query
from agency.web import bp
from agency.web.pages import PAGE_SIZE, actor, require_writer, scope_manager_id

BOARD_STAGES = [DealStage.lead, DealStage.negotiating, DealStage.contracted, DealStage.in_progress,
                DealStage.delivered, DealStage.invoiced, DealStage.paid]


@bp.get("/deals")
def deals_board():
    session = get_session()
    mine = request.args.get("mine", "1" if current_user.role.value == "manager" else "0") == "1"
    deals = session.scalars(deals_query(DealFilters(manager_id=current_user.id if mine else None))).unique().all()
    columns = {stage: [d for d in deals if d.stage is stage] for stage in BOARD_STAGES}
    closed = [d for d in deals if d.stage in (DealStage.cancelled, DealStage.lost)]
    today = utcnow().date()
    due = session.execute(
        select(Deliverable, Deal, Creator.display_name).join(Deal, Deal.id == Deliverable.deal_id)
        .join(Creator, Creator.id == Deal.creator_id)
        .where(Deal.archived_at.is_(None), Deal.stage.not_in([DealStage.cancelled, DealStage.lost, DealStage.paid]),
               Deliverable.status.not_in([DeliverableStatus.published, DeliverableStatus.cancelled]),
               Deliverable.due_date <= today + timedelta(days=7),
               *([Creator.manager_id == current_user.id] if mine else []))
        .order_by(Deliverable.due_date).limit(30)).all()
    return render_template("deals.html", columns=columns, closed=closed, due=due, today=today, mine=mine,
                           allowed=allowed_transitions, can_move=lambda d: can_write_creator(current_user, d.creator))


@bp.post("/deals/<int:deal_id>/move")
def deal_move(deal_id: int):
    session = get_session()
    deal = get_deal(db_session=session, deal_id=deal_id)
    try:
        target = DealStage(request.form.get("to_stage", ""))
    except ValueError:
        abort(400, description="Unknown stage.")
    try:
        transition_deal(db_session=session, actor=actor(), deal=deal, to_stage=target, today=utcnow().date())
    except ServiceError as exc:
        abort(exc.status, description=exc.message)
    flash(f"'{deal.title}' moved to {target.value.replace('_', ' ')}.", "success")
    return redirect(request.form.get("back") if (request.form.get("back") or "").startswith("/deals")
                    else url_for("web.deals_board"))


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
                report = import_revenue(db_session=session, stream=upload.stream, fmt="csv",
                                        mode="partial" if request.form.get("partial") else "all",
                                        today=utcnow().date() + timedelta(days=1), user=current_user)
            except ServiceError as exc:
                report = {"error": exc.message, "details": exc.errors}
            if request.headers.get("HX-Request"):
                return render_template("partials/import_report.html", report=report), 200
    args = request.args
    filters = RevenueFilters(
        creator_id=args.get("creator_id", type=int),
        source=[s for s in args.getlist("source") if s in {x.value for x in RevenueSource}] or None,
        platform=[p for p in args.getlist("platform") if p in {x.value for x in Platform}] or None,
        date_from=_date(args.get("from")), date_to=_date(args.get("to")),
        manager_id=current_user.id if args.get("mine") == "1" else None)
    page = max(1, args.get("page", 1, type=int))
    rows = session.execute(revenue_query(filters).add_columns(Creator.display_name)
                           .join(Creator, Creator.id == RevenueRecord.creator_id)
                           .limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)).all()
    return render_template("revenue.html", rows=rows[:PAGE_SIZE], has_next=len(rows) > PAGE_SIZE, page=page,
                           sources=list(RevenueSource), platforms=list(Platform), report=report,
                           month=utcnow().date().strftime("%Y-%m"), can_import=current_user.role.value != "analyst")


def _date(value):
    from datetime import date

    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@bp.get("/alerts")
def alerts():
    session = get_session()
    args = request.args
    statuses = [s for s in args.getlist("status") if s in {x.value for x in AlertStatus}] or ["open", "acknowledged"]
    stmt = select(Alert, Creator.display_name).join(Creator, Creator.id == Alert.creator_id).where(
        Alert.status.in_(statuses))
    kinds = [k for k in args.getlist("kind") if k in {x.value for x in AlertKind}]
    severities = [s for s in args.getlist("severity") if s in {x.value for x in Severity}]
    if kinds:
        stmt = stmt.where(Alert.kind.in_(kinds))
    if severities:
        stmt = stmt.where(Alert.severity.in_(severities))
    manager_id = scope_manager_id() if args.get("all") != "1" else None
    if manager_id is not None:
        stmt = stmt.where(Creator.manager_id == manager_id)
    rank = case({"high": 0, "medium": 1, "low": 2}, value=Alert.severity)
    rows = session.execute(stmt.order_by(rank, Alert.opened_at.desc(), Alert.id.desc()).limit(200)).all()
    prefs = preferences_for(session, current_user)
    return render_template("alerts.html", rows=rows, kinds=list(AlertKind), severities=list(Severity),
                           statuses=list(AlertStatus), selected={"status": statuses, "kind": kinds,
                                                                 "severity": severities},
                           prefs=prefs, can_act=current_user.role.value != "analyst")


@bp.post("/alerts/action")
def alerts_action():
    session = get_session()
    action = acknowledge_alert if request.form.get("action") == "acknowledge" else resolve_alert
    ids = [int(i) for i in request.form.getlist("ids") if i.isdigit()][:500]
    if not ids:
        flash("Select at least one alert.", "error")
        return redirect(url_for("web.alerts"))
    try:
        for alert_id in ids:
            action(db_session=session, actor=actor(), alert=get_alert(db_session=session, alert_id=alert_id))
    except ServiceError as exc:
        abort(exc.status, description=exc.message)
    flash(f"{len(ids)} alert(s) {'acknowledged' if action is acknowledge_alert else 'resolved'}.", "success")
    return redirect(url_for("web.alerts"))


@bp.get("/alerts/<int:alert_id>")
def alert_detail(alert_id: int):
    alert = get_alert(db_session=get_session(), alert_id=alert_id)
    return redirect(url_for("web.creator_detail", creator_id=alert.creator_id, _anchor=f"alert-{alert.id}"))


@bp.route("/settings/notifications", methods=["GET", "POST"])
def notification_settings():
    session = get_session()
    prefs = preferences_for(session, current_user)
    if request.method == "POST":
        hour = request.form.get("digest_hour", type=int)
        if hour is None or not 0 <= hour <= 23:
            flash("The digest hour must be between 0 and 23.", "error")
        else:
            prefs.digest_hour = hour
            prefs.email_enabled = request.form.get("email_enabled") == "on"
            prefs.immediate_severities = [s for s in request.form.getlist("immediate") if s in {x.value for x in Severity}]
            prefs.muted_kinds = [k for k in request.form.getlist("muted") if k in {x.value for x in AlertKind}]
            flash("Notification preferences saved.", "success")
            return redirect(url_for("web.alerts"))
    return redirect(url_for("web.alerts", _anchor="preferences"))



