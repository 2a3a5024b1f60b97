"""What the metrics endpoints read and write."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from agency.core.fields import decimal_field

_COUNT = {"validate": validate.Range(min=0, max=10**15)}
# Every metric but followers may be null: not reported for that day (unknown, not 0).
_METRIC = _COUNT | {"allow_none": True}


class SnapshotSchema(Schema):
    account_id = fields.Integer(dump_only=True)
    day = fields.Date(dump_only=True)
    # Required for a new day; an existing day keeps every metric a request does not send.
    followers = fields.Integer(
        **_COUNT,
        metadata={"description": "Required for a day with no snapshot yet; a recorded day keeps the metrics not sent."},
    )
    views = fields.Integer(**_METRIC)
    likes = fields.Integer(**_METRIC)
    comments = fields.Integer(**_METRIC)
    shares = fields.Integer(**_METRIC)
    videos = fields.Integer(**_METRIC)
    qualified_videos = fields.Integer(**_METRIC)
    live_hours = decimal_field(0, 99_999_999, allow_none=True)
    watch_hours = decimal_field(0, 99_999_999, allow_none=True)
    shorts_views = fields.Integer(**_METRIC)


class SeriesQuerySchema(Schema):
    days = fields.Integer(load_default=90, validate=validate.Range(min=1, max=3650))


class MetricsImportQuerySchema(Schema):
    mode = fields.String(
        load_default="all",
        validate=validate.OneOf(["all", "partial"]),
        metadata={"description": "all: one bad row rejects the file; partial: import good rows, report the rest."},
    )
