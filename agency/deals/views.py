"""The deals board: deals by stage, deliverables due soon, moving a deal along."""

from __future__ import annotations

from datetime import timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from agency.core.database import utcnow
from agency.core.errors import ServiceError
from agency.core.extensions import get_session
from agency.core.ui import actor, ui_blueprint
from agency.deals.models import Deal, DealStage, Deliverable, DeliverableStatus
from agency.deals.service import DealFilters, allowed_transitions, deals_query, get_deal, transition_deal
from agency.roster.models import Creator
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
    today = utcnow().date()
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
        transition_deal(db_session=session, actor=actor(), deal=deal, to_stage=target, today=utcnow().date())
    except ServiceError as exc:
        abort(exc.status, description=exc.message)
    flash(f"'{deal.title}' moved to {target.value.replace('_', ' ')}.", "success")
    return redirect(
        request.form.get("back")
        if (request.form.get("back") or "").startswith("/deals")
        else url_for("deals_ui.deals_board")
    )
