"""/api/v1/users: who am I, and (for admins) the staff list."""
from __future__ import annotations

import zoneinfo

from flask.views import MethodView
from marshmallow import Schema, ValidationError, fields, validate, validates
from sqlalchemy import select

from flask_smorest import Blueprint
from agency.api.common import authenticate_request, current_actor, current_user, paginate, roles_required
from agency.extensions import get_session
from agency.models import Role, User
from agency.services.audit import record_audit, snapshot
from agency.services.auth import create_user

blp = Blueprint("users", __name__, url_prefix="/api/v1/users", description="Agency staff.")
blp.before_request(authenticate_request)


class UserSchema(Schema):
    id = fields.Integer(dump_only=True)
    email = fields.Email(required=True)
    full_name = fields.String(validate=validate.Length(max=200), load_default="")
    role = fields.Enum(Role, by_value=True, required=True)
    timezone = fields.String(load_default="UTC")
    is_active = fields.Boolean(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    last_login_at = fields.DateTime(dump_only=True, allow_none=True)
    password = fields.String(load_only=True, required=True, validate=validate.Length(max=256))

    @validates("timezone")
    def _known_zone(self, value, **_kwargs):
        if value not in zoneinfo.available_timezones():
            raise ValidationError(f"Unknown time zone '{value}' (use an IANA name such as Europe/Paris).")


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, UserSchema)
    def get(self):
        """The authenticated user"""
        return current_user()


@blp.route("")
class Users(MethodView):
    @blp.response(200, UserSchema(many=True))
    @blp.paginate(page_size=50, max_page_size=200)
    def get(self, pagination_parameters):
        """List staff (managers need it to see who manages whom)"""
        return paginate(select(User).order_by(User.email), pagination_parameters)

    @roles_required(Role.admin)
    @blp.arguments(UserSchema)
    @blp.response(201, UserSchema)
    def post(self, data):
        """Create a staff account (admins)"""
        session = get_session()
        user = create_user(db_session=session, **data)
        record_audit(db_session=session, actor=current_actor(), action="user.create",
                     entity_type="user", entity_id=user.id, after=snapshot(user))
        return user
