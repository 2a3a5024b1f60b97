"""What the revenue, diversification and statement endpoints read and write."""

from __future__ import annotations

from marshmallow import Schema, fields, post_dump, validate

from agency.core.fields import AsOfDate, Day, DecimalString, decimal_field
from agency.core.imports import MAX_ID
from agency.currencies.service import format_money
from agency.money.models import Adjustment, RevenueSource, RiskLevel
from agency.roster.models import Platform

IMPORT_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {
                "schema": {"type": "string"},
                "example": "creator_id,date,source,platform,amount,currency,external_ref\n"
                "12,2026-11-02,affiliate,instagram,42.10,EUR,amz-2026-11-0042\n",
            },
            "application/x-ndjson": {"schema": {"type": "string"}},
        },
    }
}


class RevenueSchema(Schema):
    id = fields.Integer(dump_only=True)
    creator_id = fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_ID))
    earned_on = Day(required=True, data_key="date")
    source = fields.Enum(RevenueSource, by_value=True, required=True)
    platform = fields.Enum(Platform, by_value=True, allow_none=True, load_default=None)
    amount = decimal_field(
        -999_999_999_999,
        999_999_999_999,
        places=3,
        required=True,
        metadata={
            "description": "Not zero (a record of nothing is refused); negative only for a refund. "
            "At most the currency's minor unit of decimals (JPY 0, EUR 2, BHD 3)."
        },
    )
    currency = fields.String(required=True, validate=validate.Length(equal=3))
    is_refund = fields.Boolean(load_default=False, data_key="refund")
    deal_id = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(min=1, max=MAX_ID))
    external_ref = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=200))
    notes = fields.String(load_default="", validate=validate.Length(max=2000))
    commission_percent = DecimalString(
        dump_only=True, allow_none=True, metadata={"description": "The deal's commission when recorded."}
    )
    adjustment = fields.Enum(
        Adjustment,
        by_value=True,
        dump_only=True,
        allow_none=True,
        metadata={"description": "credit or refund: a correction of an invoiced deal, dated when made."},
    )
    version = fields.Integer(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    archived_at = fields.DateTime(dump_only=True, allow_none=True)

    @post_dump(pass_original=True)
    def _amount_in_its_minor_unit(self, data, record, **_kwargs):
        if "amount" in data and getattr(record, "amount", None) is not None:
            data["amount"] = format_money(record.amount, record.currency)
        return data


class AdjustmentSchema(Schema):
    kind = fields.Enum(Adjustment, by_value=True, required=True)
    amount = decimal_field(
        0,
        999_999_999_999,
        places=3,
        low_inclusive=False,
        required=True,
        metadata={"description": "Positive, in the deal's currency; a refund is recorded as a negative amount."},
    )
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class RevenueUpdateSchema(Schema):
    earned_on = Day(data_key="date")
    source = fields.Enum(RevenueSource, by_value=True)
    platform = fields.Enum(Platform, by_value=True, allow_none=True)
    amount = decimal_field(
        -999_999_999_999,
        999_999_999_999,
        places=3,
        metadata={"description": "Not zero; negative only for a refund."},
    )
    currency = fields.String(validate=validate.Length(equal=3))
    is_refund = fields.Boolean(data_key="refund")
    notes = fields.String(validate=validate.Length(max=2000))
    version = fields.Integer(required=True)


class RevenueQuerySchema(Schema):
    creator_id = fields.Integer()
    source = fields.List(fields.String(validate=validate.OneOf([s.value for s in RevenueSource])))
    platform = fields.List(fields.String(validate=validate.OneOf([p.value for p in Platform])))
    deal_id = fields.Integer()
    date_from = Day(data_key="from")
    date_to = Day(data_key="to")
    manager_id = fields.Integer()
    mine = fields.Boolean(load_default=False)
    include_archived = fields.Boolean(load_default=False)


class RevenueImportQuerySchema(Schema):
    mode = fields.String(load_default="all", validate=validate.OneOf(["all", "partial"]))


SHARE = {"places": 4}


class MixSchema(Schema):
    creator_id = fields.Integer()
    creator_name = fields.String()
    as_of = Day()
    window_days = fields.Integer()
    currency = fields.String()
    total = DecimalString(metadata={"description": "All income in the window, in the base currency."})
    previous_total = DecimalString()
    platform_total = DecimalString(
        metadata={"description": "Income with a platform (off-platform income, such as merch or courses, excluded)."}
    )
    by_source = fields.Dict(metadata={"description": "source -> {amount, share of all income}"})
    by_platform = fields.Dict(metadata={"description": "platform -> {amount, share of platform income}"})
    top_source = fields.String(allow_none=True)
    top_source_share = DecimalString(**SHARE)
    top_platform = fields.String(allow_none=True)
    top_platform_share = DecimalString(**SHARE)
    tiktok_share = DecimalString(**SHARE)  # of platform income
    hhi = DecimalString(**SHARE)
    previous_hhi = DecimalString(allow_none=True, **SHARE)
    effective_sources = DecimalString(
        allow_none=True,
        metadata={"description": "1 / HHI: how many equally large income sources the mix is worth."},
    )
    risk_level = fields.Function(lambda m: (m["risk_level"] if isinstance(m, dict) else m.risk_level).value)
    suggestion = fields.String()
    unconverted_records = fields.Integer(metadata={"description": "Records with no exchange rate (left out)."})

    @post_dump(pass_original=True)
    def _totals_in_the_minor_unit(self, data, mix, **_kwargs):
        """Totals carry the base currency's decimals (JPY none, BHD three)."""
        currency = data.get("currency")
        for name in ("total", "previous_total", "platform_total"):
            value = mix.get(name) if isinstance(mix, dict) else getattr(mix, name, None)
            if currency and value is not None and name in data:
                data[name] = format_money(value, currency)
        return data


class DiversificationWindowSchema(Schema):
    window_days = fields.Integer(validate=validate.Range(min=7, max=730))
    as_of = AsOfDate()


class DiversificationQuerySchema(Schema):
    risk = fields.List(fields.String(validate=validate.OneOf([r.value for r in RiskLevel])))
    manager_id = fields.Integer()
    mine = fields.Boolean(load_default=False)
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]))


class DiversificationRecomputeSchema(Schema):
    creator_ids = fields.List(fields.Integer(validate=validate.Range(min=1)), validate=validate.Length(max=10_000))
    as_of = AsOfDate()


class StatementQuerySchema(Schema):
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv", "html"]))
