"""What the metrics endpoints read and write."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from agency.core.fields import decimal_field

_COUNT = {"validate": validate.Range(min=0, max=10**15)}


class SnapshotSchema(Schema):
    account_id = fields.Integer(dump_only=True)
    day = fields.Date(dump_only=True)
    followers = fields.Integer(required=True, **_COUNT)
    views = fields.Integer(**_COUNT)
    likes = fields.Integer(**_COUNT)
    comments = fields.Integer(**_COUNT)
    shares = fields.Integer(**_COUNT)
    videos = fields.Integer(**_COUNT)
    qualified_videos = fields.Integer(**_COUNT)
    live_hours = decimal_field(0, 99_999_999)
    watch_hours = decimal_field(0, 99_999_999)
    shorts_views = fields.Integer(**_COUNT)


class SeriesQuerySchema(Schema):
    days = fields.Integer(load_default=90, validate=validate.Range(min=1, max=3650))


class MetricsImportQuerySchema(Schema):
    mode = fields.String(
        load_default="all",
        validate=validate.OneOf(["all", "partial"]),
        metadata={"description": "all: one bad row rejects the file; partial: import good rows, report the rest."},
    )
