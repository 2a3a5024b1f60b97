"""/api/v1/fx-rates: dated exchange rates, one at a time or imported from CSV."""

from __future__ import annotations

from flask import jsonify, request
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from agency.core.audit.service import record_audit
from agency.core.auth import authenticate_request, current_actor, current_user
from agency.core.errors import Forbidden
from agency.core.extensions import get_session
from agency.core.fields import ImportReportSchema
from agency.core.http import import_rejected
from agency.core.imports import format_from_content_type
from agency.core.pagination import paginated
from agency.core.users.models import Role
from agency.currencies.models import FxRate
from agency.currencies.schemas import FxImportQuerySchema, FxQuerySchema, FxRateSchema
from agency.currencies.service import import_fx_rates, save_rate

blp = Blueprint("fx-rates", __name__, url_prefix="/api/v1/fx-rates", description="Dated exchange rates.")
blp.before_request(authenticate_request)


def _require_admin() -> None:
    if current_user().role is not Role.admin:
        raise Forbidden("Only admins maintain exchange rates.")


@blp.route("")
class FxRates(MethodView):
    @blp.arguments(FxQuerySchema, location="query")
    @paginated(blp, FxRateSchema(many=True), page_size=100)
    def get(self, args, pagination_parameters):
        """List exchange rates, newest first"""
        stmt = select(FxRate).order_by(FxRate.day.desc(), FxRate.base, FxRate.quote)
        if args.get("base"):
            stmt = stmt.where(FxRate.base == args["base"].upper())
        if args.get("quote"):
            stmt = stmt.where(FxRate.quote == args["quote"].upper())
        if args.get("date_from"):
            stmt = stmt.where(FxRate.day >= args["date_from"])
        return stmt

    @blp.arguments(FxRateSchema)
    @blp.response(201, FxRateSchema)
    def post(self, data):
        """Add or replace one dated rate (admins)"""
        _require_admin()
        return save_rate(db_session=get_session(), actor=current_actor(), data=data)


@blp.route("/import")
class FxRatesImport(MethodView):
    @blp.arguments(FxImportQuerySchema, location="query")
    @blp.doc(
        requestBody={
            "required": True,
            "content": {
                "text/csv": {
                    "schema": {"type": "string"},
                    "example": "day,base,quote,rate,source\n2026-11-02,USD,EUR,0.92,ECB\n",
                }
            },
        }
    )
    @blp.response(200, ImportReportSchema)
    @blp.alt_response(422, description="Rejected rows (nothing imported)")
    def post(self, args):
        """Import dated rates from CSV (day,base,quote,rate[,source]) (admins)"""
        _require_admin()
        upload = request.files.get("file")
        stream = upload.stream if upload else request.stream
        fmt = format_from_content_type(
            upload.mimetype if upload else request.mimetype, upload.filename if upload else None
        )
        session = get_session()
        report = import_fx_rates(db_session=session, stream=stream, fmt=fmt, mode=args["mode"])
        if report.error_count and not report.committed:
            return import_rejected(report)
        record_audit(
            db_session=session,
            actor=current_actor(),
            action="fx.import",
            entity_type="fx_rate",
            entity_id=None,
            after={k: v for k, v in report.as_dict().items() if k != "errors"},
        )
        return jsonify(report.as_dict()), 200
