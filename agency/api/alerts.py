"""/api/v1/alerts and notification preferences."""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields, validate
from sqlalchemy import case, select

from flask_smorest import Blueprint
from agency.api.common import authenticate_request, current_actor, current_user, paginate
from agency.extensions import get_session
from agency.models import Alert, AlertKind, AlertStatus, Creator, Severity
from agency.services.alerts import acknowledge_alert, get_alert, resolve_alert
from agency.services.notifications import preferences_for

blp = Blueprint("alerts", __name__, url_prefix="/api/v1", description="Alerts and notification preferences.")
blp.before_request(authenticate_request)


class AlertSchema(Schema):
    id = fields.Integer()
    kind = fields.Enum(AlertKind, by_value=True)
    severity = fields.Enum(Severity, by_value=True)
    creator_id = fields.Integer()
    dedup_key = fields.String()
    subject = fields.String()
    message = fields.String()
    payload = fields.Dict()
    status = fields.Enum(AlertStatus, by_value=True)
    opened_at = fields.DateTime()
    acknowledged_at = fields.DateTime(allow_none=True)
    resolved_at = fields.DateTime(allow_none=True)
    resolved_automatically = fields.Function(lambda a: a.resolved_at is not None and a.resolved_by_id is None)
    notified_at = fields.DateTime(allow_none=True)


class AlertQuerySchema(Schema):
    kind = fields.List(fields.String(validate=validate.OneOf([k.value for k in AlertKind])))
    severity = fields.List(fields.String(validate=validate.OneOf([s.value for s in Severity])))
    status = fields.List(fields.String(validate=validate.OneOf([s.value for s in AlertStatus])),
                         metadata={"description": "Default: open and acknowledged."})
    creator_id = fields.Integer()
    manager_id = fields.Integer()
    mine = fields.Boolean(load_default=False)


class BulkSchema(Schema):
    ids = fields.List(fields.Integer(), required=True, validate=validate.Length(min=1, max=500))
    action = fields.String(required=True, validate=validate.OneOf(["acknowledge", "resolve"]))


class PreferencesSchema(Schema):
    email_enabled = fields.Boolean()
    digest_hour = fields.Integer(validate=validate.Range(min=0, max=23),
                                 metadata={"description": "Local hour of the daily digest (your time zone)."})
    immediate_severities = fields.List(fields.String(validate=validate.OneOf([s.value for s in Severity])))
    muted_kinds = fields.List(fields.String(validate=validate.OneOf([k.value for k in AlertKind])))
    timezone = fields.Function(lambda p: p.user_timezone, dump_only=True)


@blp.route("/alerts")
class Alerts(MethodView):
    @blp.arguments(AlertQuerySchema, location="query")
    @blp.response(200, AlertSchema(many=True))
    @blp.paginate(page_size=50, max_page_size=200)
    def get(self, args, pagination_parameters):
        """List alerts, most severe and newest first"""
        statuses = args.get("status") or ["open", "acknowledged"]
        stmt = (select(Alert).join(Creator, Creator.id == Alert.creator_id)
                .where(Alert.status.in_([AlertStatus(s) for s in statuses])))
        if args.get("kind"):
            stmt = stmt.where(Alert.kind.in_([AlertKind(k) for k in args["kind"]]))
        if args.get("severity"):
            stmt = stmt.where(Alert.severity.in_([Severity(s) for s in args["severity"]]))
        if args.get("creator_id") is not None:
            stmt = stmt.where(Alert.creator_id == args["creator_id"])
        manager = current_user().id if args["mine"] else args.get("manager_id")
        if manager is not None:
            stmt = stmt.where(Creator.manager_id == manager)
        rank = case({"high": 0, "medium": 1, "low": 2}, value=Alert.severity)
        return paginate(stmt.order_by(rank, Alert.opened_at.desc(), Alert.id.desc()), pagination_parameters)


@blp.route("/alerts/<int:alert_id>")
class AlertById(MethodView):
    @blp.response(200, AlertSchema)
    def get(self, alert_id):
        """Get an alert"""
        return get_alert(db_session=get_session(), alert_id=alert_id)


@blp.route("/alerts/<int:alert_id>/acknowledge")
class Acknowledge(MethodView):
    @blp.response(200, AlertSchema)
    def post(self, alert_id):
        """Acknowledge: seen and being handled"""
        session = get_session()
        return acknowledge_alert(db_session=session, actor=current_actor(), alert=get_alert(db_session=session,
                                                                                           alert_id=alert_id))


@blp.route("/alerts/<int:alert_id>/resolve")
class Resolve(MethodView):
    @blp.response(200, AlertSchema)
    def post(self, alert_id):
        """Resolve by hand (it re-opens as a new alert if the condition still holds at the next evaluation)"""
        session = get_session()
        return resolve_alert(db_session=session, actor=current_actor(), alert=get_alert(db_session=session,
                                                                                       alert_id=alert_id))


@blp.route("/alerts/bulk")
class Bulk(MethodView):
    @blp.arguments(BulkSchema)
    @blp.response(200, AlertSchema(many=True))
    def post(self, data):
        """Acknowledge or resolve many alerts at once (all or none)"""
        session = get_session()
        action = acknowledge_alert if data["action"] == "acknowledge" else resolve_alert
        return [action(db_session=session, actor=current_actor(), alert=get_alert(db_session=session, alert_id=i))
                for i in data["ids"]]


@blp.route("/users/me/notification-preferences")
class Preferences(MethodView):
    @blp.response(200, PreferencesSchema)
    def get(self):
        """Your email preferences (digest hour in your time zone, immediate severities, muted kinds)"""
        prefs = preferences_for(get_session(), current_user())
        prefs.user_timezone = current_user().timezone
        return prefs

    @blp.arguments(PreferencesSchema)
    @blp.response(200, PreferencesSchema)
    def put(self, data):
        """Change your email preferences"""
        prefs = preferences_for(get_session(), current_user())
        for key, value in data.items():
            setattr(prefs, key, value)
        prefs.user_timezone = current_user().timezone
        return prefs
