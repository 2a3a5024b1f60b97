"""What the exchange-rate endpoints read and write."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from agency.core.fields import Day, decimal_field


class FxRateSchema(Schema):
    id = fields.Integer(dump_only=True)
    day = Day(required=True)
    base = fields.String(required=True, validate=validate.Length(equal=3))
    quote = fields.String(required=True, validate=validate.Length(equal=3))
    rate = decimal_field(0, 9_999_999_999, places=8, low_inclusive=False, required=True)
    source = fields.String(load_default="", validate=validate.Length(max=100))


class FxQuerySchema(Schema):
    base = fields.String(validate=validate.Length(equal=3))
    quote = fields.String(validate=validate.Length(equal=3))
    date_from = Day(data_key="from")


class FxImportQuerySchema(Schema):
    mode = fields.String(load_default="all", validate=validate.OneOf(["all", "partial"]))
