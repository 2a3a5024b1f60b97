"""Dashboard, roster and creator pages."""
from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy import func, select

from agency.api.creators import CreatorSchema
from agency.db import utcnow
from agency.extensions import get_session
from agency.models import (
    Alert, AlertStatus, Creator, CreatorStatus, Deal, DealStage, DiversificationSnapshot, EligibilityChange,
    MetricSnapshot, Niche, PlatformAccount, Program, ProgramActivation, RevenueRecord, Role, User,
)
from agency.services import ServiceError
from agency.services import creators as roster
from agency.services.audit import Actor
from agency.services.auth import can_write_creator
from agency.services.deals import pipeline_summary
from agency.services.diversification import latest_snapshots_query
from agency.services.programmes import roster_eligibility_query, set_activation
from agency.web import bp

PAGE_SIZE = 25


def actor() -> Actor:
    return Actor(user=current_user._get_current_object())


def scope_manager_id() -> int | None:
    """Managers see their own creators first; admins and analysts see everyone."""
    return current_user.id if current_user.role is Role.manager else None


def require_writer() -> None:
    if current_user.role is Role.analyst:
        abort(403, description="Analysts have read-only access.")


@bp.get("/")
def dashboard():
    session = get_session()
    manager_id = scope_manager_id()
    mine = Creator.archived_at.is_(None) if manager_id is None else (
        (Creator.archived_at.is_(None)) & (Creator.manager_id == manager_id))
    today = utcnow().date()
    week_ago = today - timedelta(days=7)
    by_status = dict(session.execute(select(Creator.status, func.count()).where(mine).group_by(Creator.status)).all())
    changes = session.execute(
        select(EligibilityChange.change, Creator.id, Creator.display_name, Program.name)
        .join(Creator, Creator.id == EligibilityChange.creator_id).join(Program)
        .where(mine, EligibilityChange.change.in_(["gained", "lost"]), EligibilityChange.as_of >= week_ago)
        .order_by(EligibilityChange.as_of.desc()).limit(10)).all()
    near = session.execute(roster_eligibility_query(near_threshold=True, eligible=False, manager_id=manager_id)
                           .limit(8)).all()
    alerts = dict(session.execute(select(Alert.severity, func.count()).join(Creator).where(
        mine, Alert.status != AlertStatus.resolved).group_by(Alert.severity)).all())
    base = current_app.config["AGENCY"].base_currency
    pipeline = pipeline_summary(db_session=session, base_currency=base, today=today, manager_id=manager_id)
    month_start = today.replace(day=1)
    last_month_start = (month_start - timedelta(days=1)).replace(day=1)
    concentrated = session.execute(latest_snapshots_query().add_columns(Creator.display_name)
                                   .join(Creator, Creator.id == DiversificationSnapshot.creator_id).where(mine)
                                   .order_by(DiversificationSnapshot.hhi.desc()).limit(5)).all()
    return render_template(
        "dashboard.html", by_status=by_status, changes=changes, near=near, alerts=alerts, pipeline=pipeline,
        base=base, revenue=_revenue_months(session, mine, last_month_start, month_start, today),
        concentrated=concentrated, statuses=list(CreatorStatus))


def _revenue_months(session, mine, last_month_start, month_start, today) -> dict:
    """This month and last month in the base currency (from statements' conversion rules)."""
    from agency.services.fx import RateBook

    rows = session.execute(select(RevenueRecord.amount, RevenueRecord.currency, RevenueRecord.earned_on)
                           .join(Creator, Creator.id == RevenueRecord.creator_id)
                           .where(mine, RevenueRecord.archived_at.is_(None),
                                  RevenueRecord.earned_on >= last_month_start)).all()
    book = RateBook(session, current_app.config["AGENCY"].base_currency, {r.currency for r in rows})
    totals = {"this": 0, "last": 0}
    for amount, currency, earned_on in rows:
        converted = book.convert(amount, currency, earned_on) or 0
        totals["this" if earned_on >= month_start else "last"] += converted
    return totals


def _filters_from_args() -> roster.CreatorFilters:
    args = request.args
    sort = args.get("sort", "display_name")
    if sort.lstrip("-") not in roster.SORTABLE:
        sort = "display_name"
    manager = args.get("manager_id", "")
    return roster.CreatorFilters(
        status=[s for s in args.getlist("status") if s in {x.value for x in CreatorStatus}] or None,
        niche=[n for n in args.getlist("niche") if n in {x.value for x in Niche}] or None,
        country=[c.upper() for c in args.getlist("country") if len(c) == 2 and c.isalpha()] or None,
        manager_id=int(manager) if manager.isdigit() else None,
        q=(args.get("q") or "").strip()[:100] or None, sort=sort)


@bp.get("/creators")
def creators():
    session = get_session()
    filters = _filters_from_args()
    stmt = roster.creators_query(filters)
    if request.args.get("format") == "csv":
        return _roster_csv(session.scalars(stmt).unique().all())
    page = max(1, request.args.get("page", 1, type=int))
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = session.scalars(stmt.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).unique().all()
    ids = [c.id for c in rows]
    eligible = _eligible_counts(session, ids) if ids else {}
    risks = {s.creator_id: s.risk_level.value for s in session.scalars(latest_snapshots_query(ids))}
    managers = session.scalars(select(User).where(User.role.in_([Role.manager, Role.admin])).order_by(User.full_name)).all()
    return render_template("creators.html", creators=rows, total=total, page=page, pages=max(1, -(-total // PAGE_SIZE)),
                           filters=filters, eligible=eligible, risks=risks, managers=managers, niches=list(Niche),
                           statuses=list(CreatorStatus), can_create=current_user.role is not Role.analyst)


def _eligible_counts(session, ids) -> dict[int, int]:
    from agency.models import EligibilityEvaluation

    return dict(session.execute(select(EligibilityEvaluation.creator_id, func.count()).where(
        EligibilityEvaluation.creator_id.in_(ids), EligibilityEvaluation.eligible.is_(True))
        .group_by(EligibilityEvaluation.creator_id)).all())


def _roster_csv(rows) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "display_name", "legal_name", "country", "niche", "status", "manager", "age",
                     "handles", "standing"])
    for c in rows:
        writer.writerow([c.id, c.display_name, c.legal_name, c.country, c.niche.value, c.status.value,
                         c.manager.email if c.manager else "", roster.age_today(c) or "",
                         " ".join(f"{a.platform.value}:@{a.handle}" for a in c.accounts), c.guideline_standing.value])
    return Response(out.getvalue(), mimetype="text/csv", headers={"Content-Disposition": "attachment; filename=roster.csv"})


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
            roster.update_creator(db_session=session, actor=actor(), creator=creator, data=data,
                                  expected_version=request.form.get("version", type=int))
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
    managers = session.scalars(select(User).where(User.role.in_([Role.manager, Role.admin]),
                                                  User.is_active.is_(True)).order_by(User.full_name)).all()
    status = 422 if errors else 200
    return render_template("creator_form.html", creator=creator, values=values, errors=errors, managers=managers,
                           niches=list(Niche), statuses=list(CreatorStatus)), status


@bp.get("/creators/<int:creator_id>")
def creator_detail(creator_id: int):
    session = get_session()
    creator = roster.get_creator(db_session=session, creator_id=creator_id)
    evaluations = session.execute(roster_eligibility_query(creator_id=creator.id)).all()
    history = session.execute(select(EligibilityChange, Program.name).join(Program)
                              .where(EligibilityChange.creator_id == creator.id, EligibilityChange.change != "first")
                              .order_by(EligibilityChange.recorded_at.desc()).limit(20)).all()
    config = current_app.config["AGENCY"]
    from agency.services.diversification import RiskThresholds, compute_mix

    mix = compute_mix(session, as_of=utcnow().date(), window_days=config.diversification_window_days,
                      base_currency=config.base_currency, thresholds=RiskThresholds.from_config(config),
                      creator_ids=[creator.id])[creator.id]
    deals = session.scalars(select(Deal).where(Deal.creator_id == creator.id, Deal.archived_at.is_(None))
                            .order_by(Deal.updated_at.desc())).all()
    alerts = session.scalars(select(Alert).where(Alert.creator_id == creator.id)
                             .order_by(Alert.opened_at.desc()).limit(20)).all()
    programs = session.scalars(select(Program).where(Program.is_active.is_(True)).order_by(Program.name)).all()
    return render_template(
        "creator.html", creator=creator, age=roster.age_today(creator), evaluations=evaluations, history=history,
        mix=mix, deals=deals, alerts=alerts, programs=programs, can_edit=can_write_creator(current_user, creator),
        chart_data=json.dumps(_series(session, creator)), mix_data=json.dumps({
            "sources": {k: v["amount"] for k, v in mix["by_source"].items()},
            "platforms": {k: v["amount"] for k, v in mix["by_platform"].items()}}),
        today=utcnow().date(), open_stages=[s for s in DealStage])


def _series(session, creator) -> dict:
    since = utcnow().date() - timedelta(days=120)
    rows = session.execute(
        select(PlatformAccount.platform, MetricSnapshot.day, MetricSnapshot.followers, MetricSnapshot.views,
               MetricSnapshot.likes + MetricSnapshot.comments + MetricSnapshot.shares)
        .join(PlatformAccount, PlatformAccount.id == MetricSnapshot.account_id)
        .where(PlatformAccount.creator_id == creator.id, MetricSnapshot.day > since)
        .order_by(MetricSnapshot.day)).all()
    series: dict[str, dict[str, list]] = {}
    for platform, day, followers, views, interactions in rows:
        s = series.setdefault(platform.value, {"days": [], "followers": [], "views": [], "engagement": []})
        s["days"].append(day.isoformat())
        s["followers"].append(followers)
        s["views"].append(views)
        s["engagement"].append(round(interactions * 100 / views, 2) if views else None)
    return series


@bp.post("/creators/<int:creator_id>/activations/<int:program_id>")
def activation_update(creator_id: int, program_id: int):
    session = get_session()
    creator = roster.get_creator(db_session=session, creator_id=creator_id)
    program = session.get(Program, program_id) or abort(404)
    try:
        set_activation(db_session=session, actor=actor(), creator=creator, program=program,
                       data={"status": request.form.get("status", "not_applied")}, today=utcnow().date())
    except ServiceError as exc:
        abort(exc.status, description=exc.message)
    activation = session.scalar(select(ProgramActivation).where(ProgramActivation.creator_id == creator.id,
                                                                ProgramActivation.program_id == program.id))
    if request.headers.get("HX-Request"):
        return render_template("partials/activation.html", creator=creator, program=program, activation=activation,
                               can_edit=True)
    flash(f"{program.name}: {activation.status.value.replace('_', ' ')}.", "success")
    return redirect(url_for("web.creator_detail", creator_id=creator.id))
