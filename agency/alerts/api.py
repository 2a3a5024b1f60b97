"""/api/v1/alerts and notification preferences."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import case, select

from agency.alerts.models import Alert, AlertKind, AlertStatus, Severity
from agency.alerts.notifications import preferences_for
from agency.alerts.schemas import AlertQuerySchema, AlertSchema, BulkSchema, PreferencesSchema
from agency.alerts.service import acknowledge_alert, get_alert, resolve_alert
from agency.core.auth import authenticate_request, current_actor, current_user
from agency.core.extensions import get_session
from agency.core.pagination import paginated
from agency.roster.models import Creator

blp = Blueprint("alerts", __name__, url_prefix="/api/v1", description="Alerts and notification preferences.")
blp.before_request(authenticate_request)


@blp.route("/alerts")
class Alerts(MethodView):
    @blp.arguments(AlertQuerySchema, location="query")
    @paginated(blp, AlertSchema(many=True))
    def get(self, args, pagination_parameters):
        """List alerts, most severe and newest first"""
        statuses = args.get("status") or ["open", "acknowledged"]
        stmt = (
            select(Alert)
            .join(Creator, Creator.id == Alert.creator_id)
            .where(Alert.status.in_([AlertStatus(s) for s in statuses]))
        )
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
        return stmt.order_by(rank, Alert.opened_at.desc(), Alert.id.desc())


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
        return acknowledge_alert(
            db_session=session, actor=current_actor(), alert=get_alert(db_session=session, alert_id=alert_id)
        )


@blp.route("/alerts/<int:alert_id>/resolve")
class Resolve(MethodView):
    @blp.response(200, AlertSchema)
    def post(self, alert_id):
        """Resolve by hand (it re-opens as a new alert if the condition still holds at the next evaluation)"""
        session = get_session()
        return resolve_alert(
            db_session=session, actor=current_actor(), alert=get_alert(db_session=session, alert_id=alert_id)
        )


@blp.route("/alerts/bulk")
class Bulk(MethodView):
    @blp.arguments(BulkSchema)
    @blp.response(200, AlertSchema(many=True))
    def post(self, data):
        """Acknowledge or resolve many alerts at once (all or none)"""
        session = get_session()
        action = acknowledge_alert if data["action"] == "acknowledge" else resolve_alert
        return [
            action(db_session=session, actor=current_actor(), alert=get_alert(db_session=session, alert_id=i))
            for i in data["ids"]
        ]


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
