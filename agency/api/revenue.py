"""/api/v1/revenue and /api/v1/fx-rates: every revenue record, imports, exchange rates."""
from __future__ import annotations

from datetime import timedelta

from flask import jsonify, request
from flask.views import MethodView
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from flask_smorest import Blueprint
from agency.api.common import (
    ImportReportSchema, after_import, authenticate_request, current_actor, current_user, decimal_field, import_rejected, paginate,
)
from agency.db import utcnow
from agency.extensions import get_session
from agency.models import FxRate, Platform, RevenueSource, Role
from agency.services import Forbidden
from agency.services.audit import record_audit
from agency.services.fx import import_fx_rates, upsert_rates, check_currency
from agency.services.imports import format_from_content_type
from agency.services.revenue import (
    RevenueFilters, archive_record, create_record, get_record, import_revenue, revenue_query, update_record,
)

blp = Blueprint("revenue", __name__, url_prefix="/api/v1", description="Revenue records and exchange rates.")
blp.before_request(authenticate_request)

IMPORT_DOC = {"requestBody": {"required": True, "content": {
    "text/csv": {"schema": {"type": "string"}, "example":
                 "creator_id,date,source,platform,amount,currency,external_ref\n"
                 "12,2026-11-02,affiliate,instagram,42.10,EUR,amz-2026-11-0042\n"},
    "application/x-ndjson": {"schema": {"type": "string"}}}}}


class RevenueSchema(Schema):
    id = fields.Integer(dump_only=True)
    creator_id = fields.Integer(required=True)
    earned_on = fields.Date(required=True, data_key="date")
    source = fields.Enum(RevenueSource, by_value=True, required=True)
    platform = fields.Enum(Platform, by_value=True, allow_none=True, load_default=None)
    amount = decimal_field(-999_999_999_999, 999_999_999_999, required=True)
    currency = fields.String(required=True, validate=validate.Length(equal=3))
    is_refund = fields.Boolean(load_default=False, data_key="refund")
    deal_id = fields.Integer(allow_none=True, load_default=None)
    external_ref = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=200))
    notes = fields.String(load_default="", validate=validate.Length(max=2000))
    version = fields.Integer(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    archived_at = fields.DateTime(dump_only=True, allow_none=True)


class RevenueUpdateSchema(Schema):
    earned_on = fields.Date(data_key="date")
    source = fields.Enum(RevenueSource, by_value=True)
    platform = fields.Enum(Platform, by_value=True, allow_none=True)
    amount = decimal_field(-999_999_999_999, 999_999_999_999)
    currency = fields.String(validate=validate.Length(equal=3))
    is_refund = fields.Boolean(data_key="refund")
    notes = fields.String(validate=validate.Length(max=2000))
    version = fields.Integer(required=True)


class RevenueQuerySchema(Schema):
    creator_id = fields.Integer()
    source = fields.List(fields.String(validate=validate.OneOf([s.value for s in RevenueSource])))
    platform = fields.List(fields.String(validate=validate.OneOf([p.value for p in Platform])))
    deal_id = fields.Integer()
    date_from = fields.Date(data_key="from")
    date_to = fields.Date(data_key="to")
    manager_id = fields.Integer()
    mine = fields.Boolean(load_default=False)
    include_archived = fields.Boolean(load_default=False)


class RevenueImportQuerySchema(Schema):
    mode = fields.String(load_default="all", validate=validate.OneOf(["all", "partial"]))


class FxRateSchema(Schema):
    id = fields.Integer(dump_only=True)
    day = fields.Date(required=True)
    base = fields.String(required=True, validate=validate.Length(equal=3))
    quote = fields.String(required=True, validate=validate.Length(equal=3))
    rate = decimal_field(0, 9_999_999_999, places=8, low_inclusive=False, required=True)
    source = fields.String(load_default="", validate=validate.Length(max=100))


class FxQuerySchema(Schema):
    base = fields.String(validate=validate.Length(equal=3))
    quote = fields.String(validate=validate.Length(equal=3))
    date_from = fields.Date(data_key="from")


def _today():
    return utcnow().date() + timedelta(days=1)  # "today" somewhere ahead of UTC


def _upload():
    upload = request.files.get("file")
    stream = upload.stream if upload else request.stream
    fmt = format_from_content_type(upload.mimetype if upload else request.mimetype, upload.filename if upload else None)
    return stream, fmt


@blp.route("/revenue")
class Revenue(MethodView):
    @blp.arguments(RevenueQuerySchema, location="query")
    @blp.response(200, RevenueSchema(many=True))
    @blp.paginate(page_size=50, max_page_size=200)
    def get(self, args, pagination_parameters):
        """List revenue records (filter by creator, source, platform, deal, date range)"""
        filters = RevenueFilters(
            creator_id=args.get("creator_id"), source=args.get("source"), platform=args.get("platform"),
            deal_id=args.get("deal_id"), date_from=args.get("date_from"), date_to=args.get("date_to"),
            manager_id=current_user().id if args["mine"] else args.get("manager_id"),
            include_archived=args["include_archived"])
        return paginate(revenue_query(filters), pagination_parameters)

    @blp.arguments(RevenueSchema)
    @blp.response(201, RevenueSchema)
    def post(self, data):
        """Record revenue (amounts are decimal strings; negative only with refund=true)"""
        return create_record(db_session=get_session(), actor=current_actor(), data=data, today=_today())


@blp.route("/revenue/<int:record_id>")
class RevenueById(MethodView):
    @blp.response(200, RevenueSchema)
    def get(self, record_id):
        """Get a revenue record"""
        return get_record(db_session=get_session(), record_id=record_id)

    @blp.arguments(RevenueUpdateSchema)
    @blp.response(200, RevenueSchema)
    def patch(self, data, record_id):
        """Correct a revenue record (send the `version` you read)"""
        session = get_session()
        version = data.pop("version")
        return update_record(db_session=session, actor=current_actor(), record=get_record(db_session=session,
                             record_id=record_id), data=data, expected_version=version, today=_today())

    @blp.response(204)
    def delete(self, record_id):
        """Archive a revenue record"""
        session = get_session()
        archive_record(db_session=session, actor=current_actor(), record=get_record(db_session=session,
                                                                                   record_id=record_id))


@blp.route("/revenue/import")
class RevenueImport(MethodView):
    @blp.arguments(RevenueImportQuerySchema, location="query")
    @blp.doc(**IMPORT_DOC)
    @blp.response(200, ImportReportSchema)
    @blp.alt_response(422, description="Rejected rows (nothing imported): errors.rows and the report")
    def post(self, args):
        """Import records from CSV (creator_id,date,source,platform,amount,currency,external_ref[,deal_id,notes,refund]) or JSON lines"""
        stream, fmt = _upload()
        session = get_session()
        report = import_revenue(db_session=session, stream=stream, fmt=fmt, mode=args["mode"], today=_today(),
                                user=current_user())
        if report.error_count and not report.committed:
            return import_rejected(report)
        record_audit(db_session=session, actor=current_actor(), action="revenue.import", entity_type="revenue",
                     entity_id=None, after={k: v for k, v in report.as_dict().items() if k != "errors"})
        body = report.as_dict()
        body["diversification"] = after_import("recompute_diversification", report.affected_creator_ids,
                                               lambda: _recompute_mix(session, report.affected_creator_ids))
        return jsonify(body), 200


@blp.route("/fx-rates")
class FxRates(MethodView):
    @blp.arguments(FxQuerySchema, location="query")
    @blp.response(200, FxRateSchema(many=True))
    @blp.paginate(page_size=100, max_page_size=200)
    def get(self, args, pagination_parameters):
        """List exchange rates, newest first"""
        stmt = select(FxRate).order_by(FxRate.day.desc(), FxRate.base, FxRate.quote)
        if args.get("base"):
            stmt = stmt.where(FxRate.base == args["base"].upper())
        if args.get("quote"):
            stmt = stmt.where(FxRate.quote == args["quote"].upper())
        if args.get("date_from"):
            stmt = stmt.where(FxRate.day >= args["date_from"])
        return paginate(stmt, pagination_parameters)

    @blp.arguments(FxRateSchema)
    @blp.response(201, FxRateSchema)
    def post(self, data):
        """Add or replace one dated rate (admins)"""
        _require_admin()
        session = get_session()
        data["base"], data["quote"] = check_currency(data["base"], "base"), check_currency(data["quote"], "quote")
        upsert_rates(session, [data])
        record_audit(db_session=session, actor=current_actor(), action="fx.set", entity_type="fx_rate",
                     entity_id=None, after={k: str(v) for k, v in data.items()})
        return session.scalar(select(FxRate).where(FxRate.base == data["base"], FxRate.quote == data["quote"],
                                                   FxRate.day == data["day"]))


@blp.route("/fx-rates/import")
class FxRatesImport(MethodView):
    @blp.arguments(RevenueImportQuerySchema, location="query")
    @blp.doc(requestBody={"required": True, "content": {"text/csv": {"schema": {"type": "string"},
             "example": "day,base,quote,rate,source\n2026-11-02,USD,EUR,0.92,ECB\n"}}})
    @blp.response(200, ImportReportSchema)
    @blp.alt_response(422, description="Rejected rows (nothing imported)")
    def post(self, args):
        """Import dated rates from CSV (day,base,quote,rate[,source]) (admins)"""
        _require_admin()
        stream, fmt = _upload()
        session = get_session()
        report = import_fx_rates(db_session=session, stream=stream, fmt=fmt, mode=args["mode"])
        if report.error_count and not report.committed:
            return import_rejected(report)
        record_audit(db_session=session, actor=current_actor(), action="fx.import", entity_type="fx_rate",
                     entity_id=None, after={k: v for k, v in report.as_dict().items() if k != "errors"})
        return jsonify(report.as_dict()), 200


def _recompute_mix(session, creator_ids: list[int]) -> dict:
    from flask import current_app

    from agency.services.diversification import RiskThresholds, recompute_diversification

    config = current_app.config["AGENCY"]
    return recompute_diversification(db_session=session, base_currency=config.base_currency,
                                     window_days=config.diversification_window_days,
                                     thresholds=RiskThresholds.from_config(config), creator_ids=creator_ids).as_dict()


def _require_admin() -> None:
    if current_user().role is not Role.admin:
        raise Forbidden("Only admins maintain exchange rates.")


__all__ = ["blp"]
