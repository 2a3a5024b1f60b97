"""The alerts inbox and notification preferences."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import case, select

from agency.alerts.models import Alert, AlertKind, AlertStatus, Severity
from agency.alerts.notifications import preferences_for
from agency.alerts.service import acknowledge_alert, get_alert, resolve_alert
from agency.core.errors import ServiceError
from agency.core.extensions import get_session
from agency.core.ui import actor, scope_manager_id, ui_blueprint
from agency.roster.models import Creator

bp = ui_blueprint("alerts_ui", __name__)


@bp.get("/alerts")
def alerts():
    session = get_session()
    args = request.args
    statuses = [s for s in args.getlist("status") if s in {x.value for x in AlertStatus}] or ["open", "acknowledged"]
    stmt = (
        select(Alert, Creator.display_name)
        .join(Creator, Creator.id == Alert.creator_id)
        .where(Alert.status.in_(statuses))
    )
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
    return render_template(
        "alerts/alerts.html",
        rows=rows,
        kinds=list(AlertKind),
        severities=list(Severity),
        statuses=list(AlertStatus),
        selected={"status": statuses, "kind": kinds, "severity": severities},
        prefs=prefs,
        can_act=current_user.role.value != "analyst",
    )


@bp.post("/alerts/action")
def alerts_action():
    session = get_session()
    action = acknowledge_alert if request.form.get("action") == "acknowledge" else resolve_alert
    ids = [int(i) for i in request.form.getlist("ids") if i.isdigit()][:500]
    if not ids:
        flash("Select at least one alert.", "error")
        return redirect(url_for("alerts_ui.alerts"))
    try:
        for alert_id in ids:
            action(db_session=session, actor=actor(), alert=get_alert(db_session=session, alert_id=alert_id))
    except ServiceError as exc:
        abort(exc.status, description=exc.message)
    flash(f"{len(ids)} alert(s) {'acknowledged' if action is acknowledge_alert else 'resolved'}.", "success")
    return redirect(url_for("alerts_ui.alerts"))


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
            prefs.immediate_severities = [
                s for s in request.form.getlist("immediate") if s in {x.value for x in Severity}
            ]
            prefs.muted_kinds = [k for k in request.form.getlist("muted") if k in {x.value for x in AlertKind}]
            flash("Notification preferences saved.", "success")
            return redirect(url_for("alerts_ui.alerts"))
    return redirect(url_for("alerts_ui.alerts", _anchor="preferences"))
