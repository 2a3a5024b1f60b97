"""/api/v1/revenue (every revenue record, imports), diversification analytics and monthly statements."""

from __future__ import annotations

import re
from decimal import Decimal

from flask import Response, current_app, jsonify, render_template, request
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from agency.core.audit.service import record_audit
from agency.core.auth import authenticate_request, current_actor, current_user, for_creators, roles_required
from agency.core.errors import Conflict, NotFound
from agency.core.extensions import agency_today, get_session
from agency.core.fields import ImportReportSchema
from agency.core.http import also_answers, csv_response, import_rejected
from agency.core.imports import format_from_content_type
from agency.core.jobs.http import after_import, run_or_enqueue
from agency.core.pagination import all_in_one_page, page_of, paginated
from agency.core.users.models import Role
from agency.currencies.service import format_money
from agency.deals.service import get_deal
from agency.money.diversification import MixSettings, compute_mix, latest_snapshots_query, recompute_diversification
from agency.money.models import DiversificationSnapshot, RiskLevel
from agency.money.revenue import (
    RevenueFilters,
    archive_record,
    create_record,
    deal_records,
    get_record,
    import_revenue,
    record_adjustment,
    revenue_query,
    update_record,
)
from agency.money.schemas import (
    IMPORT_DOC,
    AdjustmentSchema,
    DiversificationQuerySchema,
    DiversificationRecomputeSchema,
    DiversificationWindowSchema,
    MixSchema,
    RevenueImportQuerySchema,
    RevenueQuerySchema,
    RevenueSchema,
    RevenueUpdateSchema,
    StatementQuerySchema,
)
from agency.money.statements import build_statement
from agency.roster.models import Creator
from agency.roster.service import get_creator

revenue_blp = Blueprint("revenue", __name__, url_prefix="/api/v1", description="Revenue records and their imports.")
revenue_blp.before_request(authenticate_request)


def _upload():
    upload = request.files.get("file")
    stream = upload.stream if upload else request.stream
    fmt = format_from_content_type(upload.mimetype if upload else request.mimetype, upload.filename if upload else None)
    return stream, fmt


@revenue_blp.route("/revenue")
class Revenue(MethodView):
    @revenue_blp.arguments(RevenueQuerySchema, location="query")
    @paginated(revenue_blp, RevenueSchema(many=True))
    def get(self, args, pagination_parameters):
        """List revenue records (filter by creator, source, platform, deal, date range)"""
        filters = RevenueFilters(
            creator_id=args.get("creator_id"),
            source=args.get("source"),
            platform=args.get("platform"),
            deal_id=args.get("deal_id"),
            date_from=args.get("date_from"),
            date_to=args.get("date_to"),
            manager_id=current_user().id if args["mine"] else args.get("manager_id"),
            include_archived=args["include_archived"],
        )
        return revenue_query(filters)

    @revenue_blp.arguments(RevenueSchema)
    @revenue_blp.response(201, RevenueSchema)
    def post(self, data):
        """Record revenue (amounts are decimal strings; negative only with refund=true)"""
        return create_record(db_session=get_session(), actor=current_actor(), data=data, today=agency_today())


@revenue_blp.route("/revenue/<int:record_id>")
class RevenueById(MethodView):
    @revenue_blp.response(200, RevenueSchema)
    def get(self, record_id):
        """Get a revenue record"""
        return get_record(db_session=get_session(), record_id=record_id)

    @revenue_blp.arguments(RevenueUpdateSchema)
    @revenue_blp.response(200, RevenueSchema)
    def patch(self, data, record_id):
        """Correct a revenue record (send the `version` you read)"""
        session = get_session()
        version = data.pop("version")
        return update_record(
            db_session=session,
            actor=current_actor(),
            record=get_record(db_session=session, record_id=record_id),
            data=data,
            expected_version=version,
            today=agency_today(),
        )

    @revenue_blp.response(204)
    def delete(self, record_id):
        """Archive a revenue record"""
        session = get_session()
        archive_record(
            db_session=session, actor=current_actor(), record=get_record(db_session=session, record_id=record_id)
        )


@revenue_blp.route("/deals/<int:deal_id>/adjustments")
class DealAdjustments(MethodView):
    @revenue_blp.response(200, RevenueSchema(many=True))
    def get(self, deal_id):
        """The deal's revenue records: its payment and its adjustments"""
        session = get_session()
        return deal_records(db_session=session, deal=get_deal(db_session=session, deal_id=deal_id))

    @revenue_blp.arguments(AdjustmentSchema)
    @revenue_blp.response(201, RevenueSchema)
    @revenue_blp.alt_response(409, description="The deal is not invoiced yet (change its terms instead)")
    def post(self, data, deal_id):
        """Correct an invoiced deal's money: a credit or a refund, dated today"""
        session = get_session()
        return record_adjustment(
            db_session=session,
            actor=current_actor(),
            deal=get_deal(db_session=session, deal_id=deal_id),
            kind=data["kind"],
            amount=data["amount"],
            reason=data["reason"],
            today=agency_today(),
        )


@revenue_blp.route("/revenue/import")
class RevenueImport(MethodView):
    @revenue_blp.arguments(RevenueImportQuerySchema, location="query")
    @revenue_blp.doc(**IMPORT_DOC)
    @revenue_blp.response(200, ImportReportSchema)
    @revenue_blp.alt_response(422, description="Rejected rows (nothing imported): errors.rows and the report")
    def post(self, args):
        """Import records from CSV (creator_id,date,source,platform,amount,currency,external_ref[,deal_id,notes,refund]) or JSON lines"""  # noqa: E501 (the OpenAPI summary)
        stream, fmt = _upload()
        session = get_session()
        report = import_revenue(
            db_session=session, stream=stream, fmt=fmt, mode=args["mode"], today=agency_today(), user=current_user()
        )
        if report.error_count and not report.committed:
            return import_rejected(report)
        record_audit(
            db_session=session,
            actor=current_actor(),
            action="revenue.import",
            entity_type="revenue",
            entity_id=None,
            after={k: v for k, v in report.as_dict().items() if k != "errors"},
        )
        body = report.as_dict()
        body["diversification"] = after_import("recompute_diversification", report.affected_creator_ids)
        return jsonify(body), 200


diversification_blp = Blueprint(
    "diversification",
    __name__,
    url_prefix="/api/v1",
    description="How concentrated each creator's income is, and monthly statements.",
)
diversification_blp.before_request(authenticate_request)


def _settings(window_days: int | None = None) -> MixSettings:
    return MixSettings.from_config(current_app.config["AGENCY"], window_days)


@diversification_blp.route("/creators/<int:creator_id>/diversification")
class CreatorDiversification(MethodView):
    @diversification_blp.arguments(DiversificationWindowSchema, location="query")
    @diversification_blp.response(200, MixSchema)
    def get(self, args, creator_id):
        """The creator's revenue mix now (or as of a day, over any window), with risk and a suggestion"""
        session = get_session()
        creator = get_creator(db_session=session, creator_id=creator_id)
        mix = compute_mix(
            session,
            as_of=args.get("as_of") or agency_today(),
            settings=_settings(args.get("window_days")),
            creator_ids=[creator.id],
        )
        if creator.id not in mix:  # an archived creator's revenue is out of every mix
            raise Conflict("This creator is archived: restore them to see their revenue mix.")
        return mix[creator.id] | {"creator_name": creator.display_name}


@diversification_blp.route("/diversification")
class RosterDiversification(MethodView):
    @diversification_blp.arguments(DiversificationQuerySchema, location="query")
    @diversification_blp.doc(**also_answers("text/csv"))
    @paginated(diversification_blp, MixSchema(many=True))
    def get(self, args, pagination_parameters):
        """Latest stored analysis per creator, most concentrated first (filter by risk); CSV with format=csv"""
        stmt = (
            latest_snapshots_query()
            .join(Creator, Creator.id == DiversificationSnapshot.creator_id)
            .where(Creator.archived_at.is_(None))
            .order_by(DiversificationSnapshot.hhi.desc(), DiversificationSnapshot.creator_id)
        )
        if args.get("risk"):
            stmt = stmt.where(DiversificationSnapshot.risk_level.in_([RiskLevel(r) for r in args["risk"]]))
        manager = current_user().id if args["mine"] else args.get("manager_id")
        if manager is not None:
            stmt = stmt.where(Creator.manager_id == manager)
        session = get_session()
        if args["format"] == "csv":
            return _roster_csv(session, all_in_one_page(session.scalars(stmt).all(), pagination_parameters))
        snapshots = page_of(get_session(), stmt, pagination_parameters)
        names = dict(
            session.execute(
                select(Creator.id, Creator.display_name).where(Creator.id.in_([s.creator_id for s in snapshots]))
            ).all()
        )
        for snapshot in snapshots:
            snapshot.creator_name = names.get(snapshot.creator_id)
        return snapshots


def _roster_csv(session, snapshots) -> Response:
    names = dict(session.execute(select(Creator.id, Creator.display_name)).all())
    return csv_response(
        "diversification.csv",
        [
            "creator_id",
            "creator",
            "as_of",
            "currency",
            "total",
            "platform_total",
            "top_source",
            "top_source_share",
            "top_platform",
            "top_platform_share",
            "tiktok_share",
            "hhi",
            "effective_sources",
            "risk_level",
            "suggestion",
        ],
        (
            [
                s.creator_id,
                names.get(s.creator_id, ""),
                s.as_of,
                s.currency,
                _money(s.total, s.currency),
                _money(s.platform_total, s.currency),
                s.top_source or "",
                s.top_source_share,
                s.top_platform or "",
                s.top_platform_share,
                s.tiktok_share,
                s.hhi,
                "" if s.effective_sources is None else s.effective_sources,
                s.risk_level.value,
                s.suggestion,
            ]
            for s in snapshots
        ),
    )


@diversification_blp.route("/diversification/recompute")
class Recompute(MethodView):
    @roles_required(Role.admin, Role.manager)
    @diversification_blp.arguments(DiversificationRecomputeSchema)
    @diversification_blp.response(200, description="What the recompute wrote (small, or no Redis)")
    @diversification_blp.alt_response(202, description="Queued as a background job; follow the Location header")
    def post(self, data):
        """Recompute and store snapshots (only changed ones are written)"""
        return run_or_enqueue(
            "recompute_diversification",
            {"creator_ids": data.get("creator_ids") or None},
            lambda: recompute_diversification(
                db_session=get_session(),
                settings=_settings(),
                as_of=data.get("as_of"),
                creator_ids=data.get("creator_ids") or None,
            ).as_dict(),
        )


@diversification_blp.route("/creators/<int:creator_id>/statements/<string:month>")
class MonthlyStatement(MethodView):
    @for_creators
    @diversification_blp.arguments(StatementQuerySchema, location="query")
    @diversification_blp.response(
        200, description="The statement as JSON, CSV (format=csv) or a printable page (format=html)"
    )
    @diversification_blp.doc(**also_answers("text/csv", "text/html", json_schema={"type": "object"}))
    def get(self, args, creator_id, month):
        """Monthly statement (YYYY-MM): revenue by source, commission, creator net, base and original currencies"""
        if not re.fullmatch(r"20\d\d-(0[1-9]|1[0-2])", month):
            raise NotFound("Statements are addressed by month as YYYY-MM.")
        session = get_session()
        creator = get_creator(db_session=session, creator_id=creator_id)
        config = current_app.config["AGENCY"]
        statement = build_statement(
            db_session=session,
            creator=creator,
            month=month,
            base_currency=config.base_currency,
            default_commission=Decimal(config.default_commission_percent),
        )
        if args["format"] == "csv":
            return _statement_csv(statement)
        if args["format"] == "html":
            return Response(render_template("money/statement.html", statement=statement), mimetype="text/html")
        return _statement_json(statement)


def _money(value, currency: str):
    return format_money(value, currency)


def _percent(value):
    return None if value is None else f"{value:.2f}"


def _statement_json(s) -> dict:
    base = s.currency
    return {
        "creator_id": s.creator_id,
        "creator_name": s.creator_name,
        "month": s.month,
        "currency": base,
        "total": _money(s.total_base, base),
        "commission": _money(s.commission_base, base),
        "net": _money(s.net_base, base),
        "by_source": {
            k: {
                "amount": _money(v["amount_base"], base),
                "commission": _money(v["commission_base"], base),
                "net": _money(v["net_base"], base),
                "records": v["records"],
            }
            for k, v in s.by_source.items()
        },
        "by_original_currency": {k: _money(v, k) for k, v in s.by_currency.items()},
        "unconverted_record_ids": s.unconverted,
        "lines": [
            {
                "record_id": line.record_id,
                "date": line.earned_on.isoformat(),
                "source": line.source,
                "platform": line.platform,
                "adjustment": line.adjustment,
                "amount": _money(line.amount, line.currency),
                "currency": line.currency,
                "amount_base": _money(line.amount_base, base),
                "commission_percent": _percent(line.commission_percent),
                "commission": _money(line.commission_base, base),
                "net": _money(line.net_base, base),
                "reference": line.reference,
            }
            for line in s.lines
        ],
    }


def _statement_csv(s) -> Response:
    base = s.currency
    lines = [
        [
            line.earned_on,
            line.source,
            line.platform or "",
            line.adjustment or "",
            _money(line.amount, line.currency),
            line.currency,
            _money(line.amount_base, base) or "NO RATE",
            _percent(line.commission_percent),
            _money(line.commission_base, base) or "",
            _money(line.net_base, base) or "",
            line.reference or "",
        ]
        for line in s.lines
    ]
    lines.append(
        [
            "total",
            "",
            "",
            "",
            "",
            "",
            _money(s.total_base, base),
            "",
            _money(s.commission_base, base),
            _money(s.net_base, base),
            "",
        ]
    )
    return csv_response(
        f"statement-{s.creator_id}-{s.month}.csv",
        [
            "date",
            "source",
            "platform",
            "adjustment",
            "amount",
            "currency",
            f"amount_{base}",
            "commission_percent",
            f"commission_{base}",
            f"net_{base}",
            "reference",
        ],
        lines,
    )
