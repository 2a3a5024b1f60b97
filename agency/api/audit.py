"""/api/v1/audit: the audit log, read-only, for admins."""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from flask_smorest import Blueprint
from agency.api.common import authenticate_request, paginate, roles_required
from agency.models import Role
from agency.services.audit_log import audit_filter

blp = Blueprint("audit", __name__, url_prefix="/api/v1/audit", description="Who changed what, and when.")
blp.before_request(authenticate_request)


class AuditQuerySchema(Schema):
    entity_type = fields.String(validate=validate.Length(min=1, max=64))
    entity_id = fields.Integer(validate=validate.Range(min=1, max=2**63 - 1))
    actor = fields.String(validate=validate.Length(min=1, max=254), metadata={"description": "Email or system label"})
    action = fields.String(validate=validate.Length(min=1, max=64))
    since = fields.AwareDateTime(default_timezone=None, metadata={"description": "ISO 8601 with offset"})
    until = fields.AwareDateTime(default_timezone=None)


class AuditEntrySchema(Schema):
    id = fields.Integer()
    occurred_at = fields.DateTime()
    actor_id = fields.Integer(allow_none=True)
    actor_label = fields.String()
    action = fields.String()
    entity_type = fields.String()
    entity_id = fields.Integer(allow_none=True)
    before = fields.Dict(allow_none=True)
    after = fields.Dict(allow_none=True)
    request_id = fields.String(allow_none=True)


@blp.route("")
class AuditLog(MethodView):
    @roles_required(Role.admin)
    @blp.arguments(AuditQuerySchema, location="query")
    @blp.response(200, AuditEntrySchema(many=True))
    @blp.paginate(page_size=50, max_page_size=200)
    def get(self, filters, pagination_parameters):
        """Audit entries, newest first (admins)"""
        return paginate(audit_filter(**filters), pagination_parameters)
