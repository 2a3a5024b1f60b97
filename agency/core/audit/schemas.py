"""What the audit endpoint reads and writes."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


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
