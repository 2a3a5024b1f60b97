"""What the alert and notification-preference endpoints read and write."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from agency.alerts.models import AlertKind, AlertStatus, Severity


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
    status = fields.List(
        fields.String(validate=validate.OneOf([s.value for s in AlertStatus])),
        metadata={"description": "Default: open and acknowledged."},
    )
    creator_id = fields.Integer()
    manager_id = fields.Integer()
    mine = fields.Boolean(load_default=False)


class BulkSchema(Schema):
    ids = fields.List(fields.Integer(), required=True, validate=validate.Length(min=1, max=500))
    action = fields.String(required=True, validate=validate.OneOf(["acknowledge", "resolve"]))


class PreferencesSchema(Schema):
    email_enabled = fields.Boolean()
    digest_hour = fields.Integer(
        validate=validate.Range(min=0, max=23),
        metadata={"description": "Local hour of the daily digest (your time zone)."},
    )
    immediate_severities = fields.List(fields.String(validate=validate.OneOf([s.value for s in Severity])))
    muted_kinds = fields.List(fields.String(validate=validate.OneOf([k.value for k in AlertKind])))
    timezone = fields.Function(lambda p: p.user_timezone, dump_only=True)
