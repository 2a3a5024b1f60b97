"""What the brand and deal endpoints read and write."""

from __future__ import annotations

from marshmallow import Schema, fields, post_dump, validate

from agency.core.fields import Day, DecimalString, decimal_field
from agency.currencies.service import format_money
from agency.deals import service as pipeline
from agency.deals.models import DealSource, DealStage, DeliverableKind, DeliverableStatus
from agency.roster.models import Platform

FEE_DOC = (
    "More than zero: a deal is invoiced and paid for its fee, so a fee of 0 (a gift of product only) "
    "is not a deal to record here."
)


class ContactSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    email = fields.Email(load_default=None, allow_none=True)
    phone = fields.String(validate=validate.Length(max=50), load_default=None, allow_none=True)
    role = fields.String(validate=validate.Length(max=100), load_default=None, allow_none=True)


class BrandSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    industry = fields.String(validate=validate.Length(max=100), load_default="")
    website = fields.URL(
        load_default="",
        allow_none=False,
        validate=validate.Length(max=300),
        metadata={"example": "https://brand.example"},
    )
    contacts = fields.List(fields.Nested(ContactSchema), load_default=list, validate=validate.Length(max=50))
    notes = fields.String(validate=validate.Length(max=10_000), load_default="")
    version = fields.Integer(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    archived_at = fields.DateTime(dump_only=True, allow_none=True)


class BrandUpdateSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=200))
    industry = fields.String(validate=validate.Length(max=100))
    website = fields.URL(validate=validate.Length(max=300))
    contacts = fields.List(fields.Nested(ContactSchema), validate=validate.Length(max=50))
    notes = fields.String(validate=validate.Length(max=10_000))
    version = fields.Integer(required=True)


class BrandQuerySchema(Schema):
    q = fields.String(validate=validate.Length(max=100))
    industry = fields.String(validate=validate.Length(max=100))
    include_archived = fields.Boolean(load_default=False)


class TransitionSchema(Schema):
    id = fields.Integer(dump_only=True)
    from_stage = fields.Enum(DealStage, by_value=True, dump_only=True)
    to_stage = fields.Enum(DealStage, by_value=True, required=True)
    note = fields.String(validate=validate.Length(max=1000), load_default="")
    actor_label = fields.String(dump_only=True)
    occurred_at = fields.DateTime(dump_only=True)


class DeliverableSchema(Schema):
    id = fields.Integer(dump_only=True)
    deal_id = fields.Integer(dump_only=True)
    kind = fields.Enum(DeliverableKind, by_value=True, required=True)
    platform = fields.Enum(Platform, by_value=True, required=True)
    due_date = Day(allow_none=True, load_default=None)
    status = fields.Enum(DeliverableStatus, by_value=True, load_default=DeliverableStatus.planned)
    published_url = fields.URL(load_default="", validate=validate.Length(max=500))
    notes = fields.String(validate=validate.Length(max=5000), load_default="")
    version = fields.Integer(dump_only=True)


class DeliverableUpdateSchema(Schema):
    kind = fields.Enum(DeliverableKind, by_value=True)
    platform = fields.Enum(Platform, by_value=True)
    due_date = Day(allow_none=True)
    status = fields.Enum(DeliverableStatus, by_value=True)
    published_url = fields.URL(validate=validate.Length(max=500))
    notes = fields.String(validate=validate.Length(max=5000))
    version = fields.Integer(required=True)


class DealSchema(Schema):
    id = fields.Integer(dump_only=True)
    creator_id = fields.Integer(required=True)
    creator_name = fields.Function(lambda d: d.creator.display_name, dump_only=True)
    brand_id = fields.Integer(required=True)
    brand_name = fields.Function(lambda d: d.brand.name, dump_only=True)
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    source = fields.Enum(DealSource, by_value=True, required=True)
    fee_amount = decimal_field(
        0, 999_999_999_999, places=3, low_inclusive=False, required=True, metadata={"description": FEE_DOC}
    )
    fee_currency = fields.String(required=True, validate=validate.Length(equal=3), metadata={"example": "EUR"})
    commission_percent = decimal_field(
        0,
        100,
        metadata={
            "description": "Agency commission. Given, it is the deal's own (commission_override true); "
            "without one the deal takes the rate of the representation agreement in force on its contract "
            "date, or the configured default without an agreement."
        },
    )
    commission_override = fields.Boolean(
        dump_only=True, metadata={"description": "True when the commission is set on the deal, not the agreement's."}
    )
    stage = fields.Enum(DealStage, by_value=True, dump_only=True)
    allowed_transitions = fields.Function(
        lambda d: [s.value for s in pipeline.allowed_transitions(d.stage)], dump_only=True
    )
    start_date = Day(allow_none=True, load_default=None)
    end_date = Day(allow_none=True, load_default=None)
    invoiced_on = fields.Date(dump_only=True, allow_none=True)
    paid_on = fields.Date(dump_only=True, allow_none=True)
    notes = fields.String(validate=validate.Length(max=10_000), load_default="")
    deliverables = fields.List(fields.Nested(DeliverableSchema), dump_only=True)
    version = fields.Integer(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)
    archived_at = fields.DateTime(dump_only=True, allow_none=True)
    money_locked = fields.Function(
        pipeline.money_locked,
        dump_only=True,
        metadata={"description": "True once invoiced: fee, currency and commission change only by adjustments."},
    )

    @post_dump(pass_original=True)
    def _fee_in_its_minor_unit(self, data, deal, **_kwargs):
        if "fee_amount" in data and getattr(deal, "fee_amount", None) is not None:
            data["fee_amount"] = format_money(deal.fee_amount, deal.fee_currency)
        return data


class DealUpdateSchema(Schema):
    brand_id = fields.Integer()
    title = fields.String(validate=validate.Length(min=1, max=200))
    source = fields.Enum(DealSource, by_value=True)
    fee_amount = decimal_field(0, 999_999_999_999, places=3, low_inclusive=False, metadata={"description": FEE_DOC})
    fee_currency = fields.String(validate=validate.Length(equal=3))
    commission_percent = decimal_field(0, 100)
    commission_override = fields.Boolean(
        metadata={
            "description": "false gives the commission back to the agreement (a new commission_percent "
            "other than the deal's makes it an override)."
        }
    )
    start_date = Day(allow_none=True)
    end_date = Day(allow_none=True)
    notes = fields.String(validate=validate.Length(max=10_000))
    version = fields.Integer(required=True)


class DealQuerySchema(Schema):
    stage = fields.List(fields.String(validate=validate.OneOf([s.value for s in DealStage])))
    creator_id = fields.Integer()
    brand_id = fields.Integer()
    manager_id = fields.Integer()
    mine = fields.Boolean(load_default=False)
    due_before = Day(metadata={"description": "Deals with an unpublished deliverable due before this day."})
    include_archived = fields.Boolean(load_default=False)


class StageSummarySchema(Schema):
    stage = fields.String()
    count = fields.Integer()
    value = DecimalString()
    unconverted = fields.Integer(metadata={"description": "Deals whose currency has no rate (left out of value)."})


class PipelineSchema(Schema):
    currency = fields.String()
    as_of = Day()
    stages = fields.List(fields.Nested(StageSummarySchema))

    @post_dump(pass_original=True)
    def _values_in_the_minor_unit(self, data, summary, **_kwargs):
        for entry, original in zip(data.get("stages", []), summary["stages"]):
            entry["value"] = format_money(original["value"], summary["currency"])
        return data
