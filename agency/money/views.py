"""The revenue page: records with filters, and CSV imports."""

from __future__ import annotations

from datetime import date, timedelta

from flask import flash, render_template, request
from flask_login import current_user

from agency.core.database import utcnow
from agency.core.errors import ServiceError
from agency.core.extensions import get_session
from agency.core.pagination import UI_PAGE_SIZE
from agency.core.ui import require_writer, ui_blueprint
from agency.money.models import RevenueRecord, RevenueSource
from agency.money.revenue import RevenueFilters, import_revenue, revenue_query
from agency.roster.models import Creator, Platform

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
                    today=utcnow().date() + timedelta(days=1),
                    user=current_user,
                )
            except ServiceError as exc:
                report = {"error": exc.message, "details": exc.errors}
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
        month=utcnow().date().strftime("%Y-%m"),
        can_import=current_user.role.value != "analyst",
    )


def _date(value):
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None
