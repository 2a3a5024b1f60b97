"""The creator portal: a creator signed in with a `creator` account sees their own profile,
programmes with progress and ETAs, deals and deliverables due, monthly statements and the alerts
meant for them, and uploads a metrics export. Every query here is scoped to the signed-in
creator; `require_login_and_csrf` keeps creators out of every other page."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

from flask import abort, current_app, render_template, request
from flask_login import current_user
from sqlalchemy import select

from agency.alerts.models import Alert, AlertStatus
from agency.alerts.service import CREATOR_ALERT_KINDS
from agency.core.database import utcnow
from agency.core.errors import ServiceError
from agency.core.extensions import get_session
from agency.core.imports import format_from_content_type
from agency.core.ui import ui_blueprint
from agency.deals.models import Deal, DealStage, Deliverable, DeliverableStatus
from agency.metrics.uploads import import_metrics_as
from agency.money.creator_statements import creator_statement
from agency.money.models import RevenueRecord
from agency.money.payouts import payable_balances
from agency.money.statements import build_statement
from agency.programmes.service import creator_programmes
from agency.roster import service as roster

bp = ui_blueprint("portal", __name__, url_prefix="/portal")

MONTH = re.compile(r"20\d\d-(0[1-9]|1[0-2])")
CLOSED = (DealStage.cancelled, DealStage.lost)


def _me():
    """The signed-in creator (a creator account whose creator is gone sees nothing)."""
    creator_id = current_user.creator_id
    if creator_id is None:
        abort(403, description="This account is not linked to a creator any more; ask your manager.")
    return roster.get_creator(db_session=get_session(), creator_id=creator_id)


def _months(session, creator_id: int) -> list[str]:
    """Months with revenue in the last two years, newest first (each has a statement)."""
    since = utcnow().date().replace(day=1) - timedelta(days=730)
    days = session.scalars(
        select(RevenueRecord.earned_on)
        .distinct()
        .where(
            RevenueRecord.creator_id == creator_id,
            RevenueRecord.archived_at.is_(None),
            RevenueRecord.earned_on >= since,
        )
    )
    return sorted({day.strftime("%Y-%m") for day in days}, reverse=True)


@bp.get("")
def home():
    session = get_session()
    creator = _me()
    today = utcnow().date()
    deals = session.scalars(
        select(Deal)
        .where(Deal.creator_id == creator.id, Deal.archived_at.is_(None), Deal.stage.not_in(CLOSED))
        .order_by(Deal.updated_at.desc())
    ).all()
    due = session.execute(
        select(Deliverable, Deal)
        .join(Deal, Deal.id == Deliverable.deal_id)
        .where(
            Deal.creator_id == creator.id,
            Deal.archived_at.is_(None),
            Deal.stage.not_in(CLOSED),
            Deliverable.status.not_in([DeliverableStatus.published, DeliverableStatus.cancelled]),
        )
        .order_by(Deliverable.due_date.is_(None), Deliverable.due_date)
    ).all()
    alerts = session.scalars(
        select(Alert)
        .where(
            Alert.creator_id == creator.id,
            Alert.kind.in_(CREATOR_ALERT_KINDS),
            Alert.status != AlertStatus.resolved,
        )
        .order_by(Alert.opened_at.desc())
        .limit(30)
    ).all()
    evaluations, explanations = creator_programmes(session, current_app.config["AGENCY"], creator.id)
    return render_template(
        "portal/home.html",
        creator=creator,
        age=roster.age_today(creator),
        evaluations=evaluations,
        explanations=explanations,
        deals=deals,
        due=due,
        alerts=alerts,
        months=_months(session, creator.id),
        today=today,
    )


@bp.get("/statements/<string:month>")
def statement(month: str):
    if not MONTH.fullmatch(month):
        abort(404, description="Statements are addressed by month as YYYY-MM.")
    creator = _me()
    config = current_app.config["AGENCY"]
    result = build_statement(
        db_session=get_session(),
        creator=creator,
        month=month,
        base_currency=config.base_currency,
        default_commission=Decimal(config.default_commission_percent),
    )
    return render_template(
        "portal/statement.html", creator=creator, statement=result, months=_months(get_session(), creator.id)
    )


@bp.get("/balance")
def balance():
    """What the agency owes the creator now, and a month of their ledger statement."""
    creator = _me()
    month = request.args.get("month") or utcnow().date().strftime("%Y-%m")
    if not MONTH.fullmatch(month):
        abort(404, description="Statements are addressed by month as YYYY-MM.")
    session = get_session()
    rows = payable_balances(session, creator_ids=[creator.id])
    result = creator_statement(
        session, creator_id=creator.id, month=month, base_currency=current_app.config["AGENCY"].base_currency
    )
    return render_template("portal/balance.html", creator=creator, payable=rows[0] if rows else None, statement=result)


@bp.route("/metrics", methods=["GET", "POST"])
def metrics_upload():
    creator = _me()
    report, problem = None, None
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            problem = "Choose a CSV or JSON-lines file to upload."
        else:
            session = get_session()
            try:
                report, problem = import_metrics_as(
                    db_session=session,
                    user=current_user,
                    stream=upload.stream,
                    fmt=format_from_content_type(upload.mimetype, upload.filename),
                    mode="partial" if request.form.get("partial") else "all",
                    today=utcnow().date() + timedelta(days=1),
                )
            except ServiceError as exc:
                problem = exc.message
            # A committed import's eligibility refresh runs at the request's end (freshness.py).
        if request.headers.get("HX-Request"):
            return render_template("metrics/partials/import_report.html", report=report, problem=problem)
    return render_template(
        "portal/metrics.html", creator=creator, report=report, problem=problem
    ), 422 if problem else 200
