"""/api/v1/auth: bearer tokens."""
from __future__ import annotations

from datetime import timedelta

from flask import abort, current_app, g, request
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from flask_smorest import Blueprint
from agency.api.common import authenticate_request
from agency.extensions import get_session, limiter
from agency.services.audit import Actor, record_audit
from agency.services.auth import authenticate, issue_token, revoke_token

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Bearer tokens for the API.")


@blp.before_request
def _authenticate_except_login():
    if request.endpoint != "auth.Tokens":
        authenticate_request()


class TokenRequestSchema(Schema):
    email = fields.String(required=True, validate=validate.Length(min=3, max=254))
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=256))
    expires_in_hours = fields.Integer(validate=validate.Range(min=1, max=24 * 365), metadata={
        "description": "Lifetime of the token; defaults to TOKEN_TTL_HOURS."})


class TokenSchema(Schema):
    token = fields.String(metadata={"description": "Shown once; store it safely."})
    token_type = fields.String(dump_default="Bearer")
    expires_at = fields.DateTime()
    user_id = fields.Integer()
    role = fields.String()


def _login_limit() -> str:
    return current_app.config["AGENCY"].login_rate_limit


@blp.route("/tokens")
class Tokens(MethodView):
    decorators = [limiter.limit(_login_limit, methods=["POST"])]

    @blp.arguments(TokenRequestSchema)
    @blp.response(201, TokenSchema)
    @blp.doc(security=[])
    def post(self, data):
        """Exchange email and password for a bearer token"""
        session = get_session()
        user = authenticate(db_session=session, email=data["email"], password=data["password"])
        if user is None:
            abort(401, description="Wrong email or password.")
        hours = data.get("expires_in_hours") or current_app.config["AGENCY"].token_ttl_hours
        token, record = issue_token(db_session=session, user=user, ttl=timedelta(hours=hours))
        record_audit(db_session=session, actor=Actor(user=user, request_id=g.get("request_id")),
                     action="token.create", entity_type="api_token", entity_id=record.id,
                     after={"prefix": record.prefix, "expires_at": record.expires_at.isoformat()})
        return {"token": token, "token_type": "Bearer", "expires_at": record.expires_at,
                "user_id": user.id, "role": user.role.value}


@blp.route("/tokens/current")
class CurrentToken(MethodView):
    @blp.response(204)
    def delete(self):
        """Revoke the token used for this request"""
        record = g.get("current_token")
        if record is None:
            abort(400, description="This request was not made with a bearer token.")
        session = get_session()
        revoke_token(db_session=session, record=record)
        record_audit(db_session=session, actor=Actor(user=g.current_user, request_id=g.get("request_id")),
                     action="token.revoke", entity_type="api_token", entity_id=record.id,
                     after={"prefix": record.prefix})

