"""The UI's own pages: the dashboard, the roster list and a creator's page. They bring every
domain together (eligibility, revenue mix, deals, alerts), so they live in the shell, not in a
domain; each domain's own pages are in its views.py."""

from __future__ import annotations

import json
from datetime import timedelta

from flask import Blueprint, Response, current_app, render_template, request
from flask_login import current_user
from marshmallow import EXCLUDE, ValidationError
from sqlalchemy import func, select
from webargs.multidictproxy import MultiDictProxy
from werkzeug.datastructures import MultiDict

from agency.alerts.models import Alert, AlertStatus
from agency.core.database import utcnow
from agency.core.extensions import get_session
from agency.core.http import csv_response
from agency.core.pagination import UI_PAGE_SIZE
from agency.core.ui import require_login_and_csrf, scope_manager_id
from agency.core.users.models import Role, User
from agency.deals.models import Deal, DealStage
from agency.deals.service import pipeline_summary
from agency.metrics.models import MetricSnapshot
from agency.money.diversification import MixSettings, compute_mix, latest_snapshots_query
from agency.money.models import DiversificationSnapshot
from agency.programmes.freshness import ensure_fresh
from agency.programmes.models import EligibilityChange, EligibilityEvaluation, Program
from agency.programmes.service import creator_programmes
from agency.roster import service as roster
from agency.roster.models import Creator, CreatorStatus, Niche, PlatformAccount
from agency.roster.schemas import CreatorQuerySchema, creator_filters
from agency.roster.service import can_write_creator
from agency.web.trends import eligibility_by_week, nearest_to_threshold, revenue_by_month

bp = Blueprint("web", __name__)
bp.before_request(require_login_and_csrf)


@bp.get("/")
def dashboard():
    session = get_session()
    manager_id = scope_manager_id()
    mine = (
        Creator.archived_at.is_(None)
        if manager_id is None
        else ((Creator.archived_at.is_(None)) & (Creator.manager_id == manager_id))
    )
    today = utcnow().date()
    week_ago = today - timedelta(days=7)
    ensure_fresh(session, current_app.config["AGENCY"])
    by_status = dict(session.execute(select(Creator.status, func.count()).where(mine).group_by(Creator.status)).all())
    changes = session.execute(
        select(EligibilityChange.change, Creator.id, Creator.display_name, Program.name)
        .join(Creator, Creator.id == EligibilityChange.creator_id)
        .join(Program, Program.id == EligibilityChange.program_id)
        .where(mine, EligibilityChange.change.in_(["gained", "lost"]), EligibilityChange.effective_on >= week_ago)
        .order_by(EligibilityChange.effective_on.desc())
        .limit(10)
    ).all()
    near = nearest_to_threshold(session, manager_id)
    alerts = dict(
        session.execute(
            select(Alert.severity, func.count())
            .join(Creator)
            .where(mine, Alert.status != AlertStatus.resolved)
            .group_by(Alert.severity)
        ).all()
    )
    base = current_app.config["AGENCY"].base_currency
    pipeline = pipeline_summary(db_session=session, base_currency=base, today=today, manager_id=manager_id)
    by_month = revenue_by_month(session, mine, base, today)
    by_week = eligibility_by_week(session, mine, today)
    concentrated = session.execute(
        latest_snapshots_query()
        .add_columns(Creator.display_name)
        .join(Creator, Creator.id == DiversificationSnapshot.creator_id)
        .where(mine)
        .order_by(DiversificationSnapshot.hhi.desc())
        .limit(5)
    ).all()
    return render_template(
        "web/dashboard.html",
        by_status=by_status,
        changes=changes,
        near=near,
        alerts=alerts,
        pipeline=pipeline,
        base=base,
        # This month and last month, from the same dated conversions as the chart.
        revenue={"this": by_month["totals"][-1], "last": by_month["totals"][-2]},
        concentrated=concentrated,
        statuses=list(CreatorStatus),
        by_month=by_month,
        by_week=by_week,
        trends=json.dumps(
            {
                "revenue": {
                    "months": by_month["months"],
                    "sources": {k: [str(v) for v in values] for k, values in by_month["sources"].items()},
                },
                "pipeline": {s["stage"]: str(s["value"]) for s in pipeline["stages"]},
                "eligibility": by_week,
            }
        ),
    )


@bp.get("/creators")
def creators():
    session = get_session()
    # The API's own filter schema; empty form fields mean "any".
    given = MultiDict([(key, value) for key, value in request.args.items(multi=True) if value.strip()])
    schema = CreatorQuerySchema(unknown=EXCLUDE)
    try:
        args, errors = schema.load(MultiDictProxy(given, schema)), {}
    except ValidationError as exc:
        args, errors = schema.load({}), {field: _text(problem) for field, problem in exc.messages.items()}
    filters = creator_filters(args, current_user.id)
    if request.args.get("format") == "csv":
        return _roster_csv(session.scalars(roster.creators_query(filters)).unique().all())
    page = max(1, request.args.get("page", 1, type=int))
    total, rows = roster.roster_page(db_session=session, filters=filters, page=page, page_size=UI_PAGE_SIZE)
    ids = [c["id"] for c in rows]
    eligible = _eligible_counts(session, ids) if ids else {}
    risks = {s.creator_id: s.risk_level.value for s in session.scalars(latest_snapshots_query(ids))}
    managers = session.scalars(
        select(User).where(User.role.in_([Role.manager, Role.admin])).order_by(User.full_name)
    ).all()
    return render_template(
        "web/creators.html",
        errors=errors,
        creators=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // UI_PAGE_SIZE)),
        filters=filters,
        eligible=eligible,
        risks=risks,
        managers=managers,
        niches=list(Niche),
        statuses=list(CreatorStatus),
        can_create=current_user.role is not Role.analyst,
    )


def _text(problem) -> str:
    """A field's validation messages as one line (list fields nest them by position)."""
    if isinstance(problem, dict):
        return " ".join(_text(p) for p in problem.values())
    if isinstance(problem, list):
        return " ".join(_text(p) for p in problem)
    return str(problem)


def _eligible_counts(session, ids) -> dict[int, int]:
    ensure_fresh(session, current_app.config["AGENCY"], ids)
    return dict(
        session.execute(
            select(EligibilityEvaluation.creator_id, func.count())
            .where(EligibilityEvaluation.creator_id.in_(ids), EligibilityEvaluation.eligible.is_(True))
            .group_by(EligibilityEvaluation.creator_id)
        ).all()
    )


def _roster_csv(rows) -> Response:
    return csv_response(
        "roster.csv",
        ["id", "display_name", "legal_name", "country", "niche", "status", "manager", "age", "handles", "standing"],
        (
            [
                c.id,
                c.display_name,
                c.legal_name,
                c.country,
                c.niche.value,
                c.status.value,
                c.manager.email if c.manager else "",
                roster.age_today(c) or "",
                " ".join(f"{a.platform.value}:@{a.handle}" for a in c.accounts),
                c.guideline_standing.value,
            ]
            for c in rows
        ),
    )


@bp.get("/creators/<int:creator_id>")
def creator_detail(creator_id: int):
    session = get_session()
    creator = roster.get_creator(db_session=session, creator_id=creator_id)
    evaluations, explanations = creator_programmes(session, current_app.config["AGENCY"], creator.id)
    history = session.execute(
        select(EligibilityChange, Program.name)
        .join(Program, Program.id == EligibilityChange.program_id)
        .where(EligibilityChange.creator_id == creator.id, EligibilityChange.change != "first")
        .order_by(EligibilityChange.effective_on.desc(), EligibilityChange.id.desc())
        .limit(20)
    ).all()
    config = current_app.config["AGENCY"]
    mix = compute_mix(
        session, as_of=utcnow().date(), settings=MixSettings.from_config(config), creator_ids=[creator.id]
    ).get(creator.id)  # archived creators are left out of the analysis
    deals = session.scalars(
        select(Deal).where(Deal.creator_id == creator.id, Deal.archived_at.is_(None)).order_by(Deal.updated_at.desc())
    ).all()
    alerts = session.scalars(
        select(Alert).where(Alert.creator_id == creator.id).order_by(Alert.opened_at.desc()).limit(20)
    ).all()
    return render_template(
        "web/creator.html",
        creator=creator,
        age=roster.age_today(creator),
        evaluations=evaluations,
        explanations=explanations,
        history=history,
        mix=mix,
        deals=deals,
        alerts=alerts,
        can_edit=can_write_creator(current_user, creator),
        chart_data=json.dumps(_series(session, creator)),
        mix_data=json.dumps(
            {
                "sources": {k: v["amount"] for k, v in mix["by_source"].items()},
                "platforms": {k: v["amount"] for k, v in mix["by_platform"].items()},
            }
            if mix
            else None
        ),
        today=utcnow().date(),
        open_stages=[s for s in DealStage],
        show_activation=True,
    )


def _series(session, creator) -> dict:
    since = utcnow().date() - timedelta(days=120)
    rows = session.execute(
        select(
            PlatformAccount.platform,
            MetricSnapshot.day,
            MetricSnapshot.followers,
            MetricSnapshot.views,
            MetricSnapshot.likes + MetricSnapshot.comments + MetricSnapshot.shares,
        )
        .join(PlatformAccount, PlatformAccount.id == MetricSnapshot.account_id)
        .where(PlatformAccount.creator_id == creator.id, MetricSnapshot.day > since)
        .order_by(MetricSnapshot.day)
    ).all()
    series: dict[str, dict[str, list]] = {}
    for platform, day, followers, views, interactions in rows:
        s = series.setdefault(platform.value, {"days": [], "followers": [], "views": [], "engagement": []})
        s["days"].append(day.isoformat())
        s["followers"].append(followers)
        s["views"].append(views)
        # (no engagement figure for a day whose views or interactions were not reported)
        s["engagement"].append(round(interactions * 100 / views, 2) if views and interactions is not None else None)
    return series
