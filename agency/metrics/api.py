"""Daily metrics: one snapshot per account and day, bulk imports, and time series for charts."""

from __future__ import annotations

from datetime import timedelta

from flask import jsonify, request
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from agency.core.audit.service import record_audit
from agency.core.auth import authenticate_request, current_actor, current_user, for_creators
from agency.core.database import utcnow
from agency.core.errors import Forbidden, NotFound
from agency.core.extensions import get_session
from agency.core.fields import ImportReportSchema
from agency.core.http import import_rejected
from agency.core.imports import format_from_content_type
from agency.core.users.models import Role
from agency.metrics.models import MetricSnapshot
from agency.metrics.schemas import MetricsImportQuerySchema, SeriesQuerySchema, SnapshotSchema
from agency.metrics.service import import_metrics, put_snapshot
from agency.roster.models import PlatformAccount
from agency.roster.service import creators_outside_scope, require_creator_write

blp = Blueprint("metrics", __name__, url_prefix="/api/v1", description="Daily metric snapshots and imports.")
blp.before_request(authenticate_request)


def _today():
    # Accept "today" in time zones ahead of UTC.
    return utcnow().date() + timedelta(days=1)


def _account(account_id: int) -> PlatformAccount:
    account = get_session().get(PlatformAccount, account_id)
    if account is None:
        raise NotFound(f"Account {account_id} not found.")
    return account


@blp.route("/accounts/<int:account_id>/metrics/<string:day>")
class AccountDayMetrics(MethodView):
    @blp.arguments(SnapshotSchema)
    @blp.response(200, SnapshotSchema)
    def put(self, data, account_id, day):
        """Create or replace an account's snapshot for one day (YYYY-MM-DD)"""
        session = get_session()
        require_creator_write(current_user(), _account(account_id).creator)
        snapshot, created = put_snapshot(
            db_session=session, account_id=account_id, day=day, values=data, today=_today()
        )
        record_audit(
            db_session=session,
            actor=current_actor(),
            action="metrics.put",
            entity_type="platform_account",
            entity_id=account_id,
            after={"day": snapshot.day.isoformat(), **{k: str(v) for k, v in data.items()}},
        )
        return snapshot


@blp.route("/accounts/<int:account_id>/metrics")
class AccountMetrics(MethodView):
    @blp.arguments(SeriesQuerySchema, location="query")
    @blp.response(200, SnapshotSchema(many=True))
    def get(self, args, account_id):
        """An account's daily snapshots over the last `days` days"""
        _account(account_id)
        since = utcnow().date() - timedelta(days=args["days"])
        return get_session().scalars(
            select(MetricSnapshot)
            .where(MetricSnapshot.account_id == account_id, MetricSnapshot.day > since)
            .order_by(MetricSnapshot.day)
        )


@blp.route("/metrics/import")
class MetricsImport(MethodView):
    @for_creators
    @blp.arguments(MetricsImportQuerySchema, location="query")
    @blp.doc(
        requestBody={
            "required": True,
            "content": {
                "text/csv": {
                    "schema": {"type": "string"},
                    "example": "platform,handle,day,followers,views\ntiktok,lina,2026-11-01,8150,12000\n",
                },
                "application/x-ndjson": {"schema": {"type": "string"}},
            },
        }
    )
    @blp.response(200, ImportReportSchema)
    @blp.alt_response(422, description="Rejected rows (nothing imported): errors.rows and the report")
    def post(self, args):
        """Import snapshots from CSV or JSON lines (account_id or platform+handle, day, metrics); creators: their own accounts only"""  # noqa: E501 (the OpenAPI summary)
        if current_user().role is Role.analyst:
            raise Forbidden("Analysts have read-only access.")
        upload = request.files.get("file")
        stream = upload.stream if upload else request.stream
        fmt = format_from_content_type(
            upload.mimetype if upload else request.mimetype, upload.filename if upload else None
        )
        session = get_session()
        report = import_metrics(db_session=session, stream=stream, fmt=fmt, mode=args["mode"], today=_today())
        if report.committed:
            _check_owns(session, report.affected_creator_ids)
        record_audit(
            db_session=session,
            actor=current_actor(),
            action="metrics.import",
            entity_type="metrics",
            entity_id=None,
            after={k: v for k, v in report.as_dict().items() if k != "errors"},
        )
        if report.error_count and not report.committed:
            return import_rejected(report)
        # The creators it touched wait for a refresh of their eligibility and alerts, which runs
        # at the end of this request (see agency/programmes/freshness.py).
        return jsonify(report.as_dict()), 200


def _check_owns(session, creator_ids: list[int]) -> None:
    """A manager imports for their creators, a creator for themself; a file reaching further is
    refused whole (the request rolls back)."""
    user = current_user()
    foreign = creators_outside_scope(db_session=session, user=user, creator_ids=creator_ids)
    if foreign and user.role is Role.creator:
        raise Forbidden(f"The file has metrics for {len(foreign)} creator(s) other than you; nothing was imported.")
    if foreign:
        raise Forbidden(f"The file has metrics for creators you do not manage: {foreign[:20]}.")
