"""Diversification analytics and monthly statements."""
from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

from flask import Response, current_app, render_template
from flask.views import MethodView
from flask_smorest import abort
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from flask_smorest import Blueprint
from agency.api.common import (
    DecimalString, all_in_one_page, authenticate_request, current_user, paginate, roles_required, run_or_enqueue,
)
from agency.db import utcnow
from agency.extensions import get_session
from agency.models import Creator, DiversificationSnapshot, Role, RiskLevel
from agency.services.creators import get_creator
from agency.services.diversification import (
    RiskThresholds, compute_mix, latest_snapshots_query, recompute_diversification,
)
from agency.services.statements import build_statement

blp = Blueprint("diversification", __name__, url_prefix="/api/v1",
                description="How concentrated each creator's income is, and monthly statements.")
blp.before_request(authenticate_request)

SHARE = {"places": 4}


class MixSchema(Schema):
    creator_id = fields.Integer()
    creator_name = fields.String()
    as_of = fields.Date()
    window_days = fields.Integer()
    currency = fields.String()
    total = DecimalString()
    previous_total = DecimalString()
    by_source = fields.Dict(metadata={"description": "source -> {amount, share}"})
    by_platform = fields.Dict(metadata={"description": "platform -> {amount, share}"})
    top_source = fields.String(allow_none=True)
    top_source_share = DecimalString(**SHARE)
    top_platform = fields.String(allow_none=True)
    top_platform_share = DecimalString(**SHARE)
    tiktok_share = DecimalString(**SHARE)
    hhi = DecimalString(**SHARE)
    previous_hhi = DecimalString(allow_none=True, **SHARE)
    risk_level = fields.Function(lambda m: (m["risk_level"] if isinstance(m, dict) else m.risk_level).value)
    suggestion = fields.String()
    unconverted_records = fields.Integer(metadata={"description": "Records with no exchange rate (left out)."})


class DiversificationWindowSchema(Schema):
    window_days = fields.Integer(validate=validate.Range(min=7, max=730))
    as_of = fields.Date()


class DiversificationQuerySchema(Schema):
    risk = fields.List(fields.String(validate=validate.OneOf([r.value for r in RiskLevel])))
    manager_id = fields.Integer()
    mine = fields.Boolean(load_default=False)
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]))


class DiversificationRecomputeSchema(Schema):
    creator_ids = fields.List(fields.Integer(validate=validate.Range(min=1)), validate=validate.Length(max=10_000))
    as_of = fields.Date()


class StatementQuerySchema(Schema):
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv", "html"]))


def _settings():
    config = current_app.config["AGENCY"]
    return config, RiskThresholds.from_config(config)


@blp.route("/creators/<int:creator_id>/diversification")
class CreatorDiversification(MethodView):
    @blp.arguments(DiversificationWindowSchema, location="query")
    @blp.response(200, MixSchema)
    def get(self, args, creator_id):
        """The creator's revenue mix now (or as of a day, over any window), with risk and a suggestion"""
        session = get_session()
        creator = get_creator(db_session=session, creator_id=creator_id)
        config, thresholds = _settings()
        mix = compute_mix(session, as_of=args.get("as_of") or utcnow().date(),
                          window_days=args.get("window_days") or config.diversification_window_days,
                          base_currency=config.base_currency, thresholds=thresholds, creator_ids=[creator.id])
        return mix[creator.id] | {"creator_name": creator.display_name}


@blp.route("/diversification")
class RosterDiversification(MethodView):
    @blp.arguments(DiversificationQuerySchema, location="query")
    @blp.response(200, MixSchema(many=True))
    @blp.paginate(page_size=50, max_page_size=200)
    def get(self, args, pagination_parameters):
        """Latest stored analysis per creator, most concentrated first (filter by risk); CSV with format=csv"""
        stmt = (latest_snapshots_query().join(Creator, Creator.id == DiversificationSnapshot.creator_id)
                .where(Creator.archived_at.is_(None))
                .order_by(DiversificationSnapshot.hhi.desc(), DiversificationSnapshot.creator_id))
        if args.get("risk"):
            stmt = stmt.where(DiversificationSnapshot.risk_level.in_([RiskLevel(r) for r in args["risk"]]))
        manager = current_user().id if args["mine"] else args.get("manager_id")
        if manager is not None:
            stmt = stmt.where(Creator.manager_id == manager)
        session = get_session()
        if args["format"] == "csv":
            return _roster_csv(session, all_in_one_page(session.scalars(stmt).all(), pagination_parameters))
        snapshots = paginate(stmt, pagination_parameters)
        names = dict(session.execute(select(Creator.id, Creator.display_name).where(
            Creator.id.in_([s.creator_id for s in snapshots]))).all())
        for snapshot in snapshots:
            snapshot.creator_name = names.get(snapshot.creator_id)
        return snapshots


def _roster_csv(session, snapshots) -> Response:
    names = dict(session.execute(select(Creator.id, Creator.display_name)).all())
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["creator_id", "creator", "as_of", "currency", "total", "top_source", "top_source_share",
                     "top_platform", "top_platform_share", "tiktok_share", "hhi", "risk_level", "suggestion"])
    for s in snapshots:
        writer.writerow([s.creator_id, names.get(s.creator_id, ""), s.as_of, s.currency, s.total, s.top_source or "",
                         s.top_source_share, s.top_platform or "", s.top_platform_share, s.tiktok_share, s.hhi,
                         s.risk_level.value, s.suggestion])
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=diversification.csv"})


@blp.route("/diversification/recompute")
class Recompute(MethodView):
    @roles_required(Role.admin, Role.manager)
    @blp.arguments(DiversificationRecomputeSchema)
    @blp.response(200, description="What the recompute wrote (small, or no Redis)")
    @blp.alt_response(202, description="Queued as a background job; follow the Location header")
    def post(self, data):
        """Recompute and store snapshots (only changed ones are written)"""
        config, thresholds = _settings()
        return run_or_enqueue("recompute_diversification", {"creator_ids": data.get("creator_ids") or None},
                              "recompute", lambda: recompute_diversification(
                                  db_session=get_session(), base_currency=config.base_currency,
                                  as_of=data.get("as_of"), window_days=config.diversification_window_days,
                                  thresholds=thresholds, creator_ids=data.get("creator_ids") or None).as_dict())


@blp.route("/creators/<int:creator_id>/statements/<string:month>")
class MonthlyStatement(MethodView):
    @blp.arguments(StatementQuerySchema, location="query")
    @blp.response(200, description="The statement as JSON, CSV (format=csv) or a printable page (format=html)")
    def get(self, args, creator_id, month):
        """Monthly statement (YYYY-MM): revenue by source, commission, creator net, base and original currencies"""
        if not re.fullmatch(r"20\d\d-(0[1-9]|1[0-2])", month):
            abort(404, message="Statements are addressed by month as YYYY-MM.")
        session = get_session()
        creator = get_creator(db_session=session, creator_id=creator_id)
        config, _ = _settings()
        statement = build_statement(db_session=session, creator=creator, month=month,
                                    base_currency=config.base_currency,
                                    default_commission=Decimal(config.default_commission_percent))
        if args["format"] == "csv":
            return _statement_csv(statement)
        if args["format"] == "html":
            return Response(render_template("statement.html", statement=statement), mimetype="text/html")
        return _statement_json(statement)


def _money(value):
    return None if value is None else f"{value:.2f}"


def _statement_json(s) -> dict:
    return {
        "creator_id": s.creator_id, "creator_name": s.creator_name, "month": s.month, "currency": s.currency,
        "total": _money(s.total_base), "commission": _money(s.commission_base), "net": _money(s.net_base),
        "by_source": {k: {"amount": _money(v["amount_base"]), "commission": _money(v["commission_base"]),
                          "net": _money(v["net_base"]), "records": v["records"]} for k, v in s.by_source.items()},
        "by_original_currency": {k: _money(v) for k, v in s.by_currency.items()},
        "unconverted_record_ids": s.unconverted,
        "lines": [{"record_id": line.record_id, "date": line.earned_on.isoformat(), "source": line.source,
                   "platform": line.platform, "amount": _money(line.amount), "currency": line.currency,
                   "amount_base": _money(line.amount_base), "commission_percent": _money(line.commission_percent),
                   "commission": _money(line.commission_base), "net": _money(line.net_base),
                   "reference": line.reference} for line in s.lines],
    }


def _statement_csv(s) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["date", "source", "platform", "amount", "currency", f"amount_{s.currency}",
                     "commission_percent", f"commission_{s.currency}", f"net_{s.currency}", "reference"])
    for line in s.lines:
        writer.writerow([line.earned_on, line.source, line.platform or "", _money(line.amount), line.currency,
                         _money(line.amount_base) or "NO RATE", _money(line.commission_percent),
                         _money(line.commission_base) or "", _money(line.net_base) or "", line.reference or ""])
    writer.writerow(["total", "", "", "", "", _money(s.total_base), "", _money(s.commission_base), _money(s.net_base), ""])
    filename = f"statement-{s.creator_id}-{s.month}.csv"
    return Response(out.getvalue(), mimetype="text/csv", headers={"Content-Disposition": f"attachment; filename={filename}"})
