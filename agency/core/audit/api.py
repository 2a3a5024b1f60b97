"""/api/v1/audit: the audit log, read-only, for admins."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from agency.core.audit.schemas import AuditEntrySchema, AuditQuerySchema
from agency.core.audit.service import audit_filter
from agency.core.auth import authenticate_request, roles_required
from agency.core.pagination import paginated
from agency.core.users.models import Role

blp = Blueprint("audit", __name__, url_prefix="/api/v1/audit", description="Who changed what, and when.")
blp.before_request(authenticate_request)


@blp.route("")
class AuditLog(MethodView):
    @roles_required(Role.admin)
    @blp.arguments(AuditQuerySchema, location="query")
    @paginated(blp, AuditEntrySchema(many=True))
    def get(self, filters, pagination_parameters):
        """Audit entries, newest first (admins)"""
        return audit_filter(**filters)
