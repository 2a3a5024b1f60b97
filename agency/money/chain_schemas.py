"""What the money chain's endpoints read and write: agreements, invoices, payments, payouts,
the ledger and the aging report. Amounts are decimal strings with their currency's decimals
(JPY none, EUR two, KWD three)."""

from __future__ import annotations

from decimal import Decimal

from flask import current_app
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from agency.core.fields import AsOfDate, CountryCode, Day, DecimalString, Month, decimal_field
from agency.currencies.service import format_money
from agency.money.chain_models import InvoiceKind, InvoiceStatus, PayoutStatus, SplitRole
from agency.money.models import RevenueSource
from agency.money.schemas import RevenueSchema

PERCENT = {"places": 2}


class MoneyString(fields.Field):
    """An amount as a decimal string with the minor unit of its currency: the currency named by
    the attribute path `currency_attr` ("currency", "invoice.currency") of the object dumped, or
    (None) the agency's base currency."""

    def __init__(self, currency_attr: str | None = "currency", **kwargs):
        kwargs.setdefault("metadata", {}).update({"type": "string", "format": "decimal"})
        kwargs["dump_only"] = True
        super().__init__(**kwargs)
        self.currency_attr = currency_attr

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        if self.currency_attr is None:
            currency = current_app.config["AGENCY"].base_currency
        else:
            currency = obj
            for name in self.currency_attr.split("."):
                currency = currency[name] if isinstance(currency, dict) else getattr(currency, name)
        return format_money(Decimal(value), currency)


class SplitSchema(Schema):
    role = fields.Enum(SplitRole, by_value=True, required=True)
    user_id = fields.Integer(allow_none=True, load_default=None)
    referrer_name = fields.String(load_default="", validate=validate.Length(max=200))
    share_percent = decimal_field(0, 100, low_inclusive=False, required=True)


class SplitOutSchema(Schema):
    role = fields.String()
    payee = fields.String()
    share = fields.String()


class AgreementSchema(Schema):
    id = fields.Integer(dump_only=True)
    creator_id = fields.Integer(required=True)
    starts_on = Day(required=True)
    ends_on = Day(allow_none=True, load_default=None)
    exclusive = fields.Boolean(load_default=True)
    territories = fields.List(CountryCode(), load_default=list, validate=validate.Length(max=250))
    commission_rates = fields.Dict(
        keys=fields.String(validate=validate.OneOf([s.value for s in RevenueSource])),
        values=decimal_field(0, 100),
        load_default=dict,
    )
    default_commission_percent = decimal_field(
        0, 100, metadata={"description": "Percent for sources without a rate of their own (default: configuration)."}
    )
    payout_currency = fields.String(required=True, validate=validate.Length(equal=3))
    renewal_notice_days = fields.Integer(load_default=60, validate=validate.Range(0, 730))
    notes = fields.String(load_default="", validate=validate.Length(max=2000))
    splits = fields.List(fields.Nested(SplitSchema), load_default=list, validate=validate.Length(max=10))
    version = fields.Integer(dump_only=True)


class AgreementOutSchema(AgreementSchema):
    splits = fields.Method("dump_splits")

    def dump_splits(self, agreement):
        return [
            {
                "role": s.role.value,
                "user_id": s.user_id,
                "referrer_name": s.referrer_name,
                "share_percent": str(s.share_percent),
            }
            for s in agreement.splits
        ]


class AgreementUpdateSchema(Schema):
    starts_on = Day()
    ends_on = Day(allow_none=True)
    exclusive = fields.Boolean()
    territories = fields.List(CountryCode(), validate=validate.Length(max=250))
    commission_rates = fields.Dict(
        keys=fields.String(validate=validate.OneOf([s.value for s in RevenueSource])), values=decimal_field(0, 100)
    )
    default_commission_percent = decimal_field(0, 100)
    payout_currency = fields.String(validate=validate.Length(equal=3))
    renewal_notice_days = fields.Integer(validate=validate.Range(0, 730))
    notes = fields.String(validate=validate.Length(max=2000))
    splits = fields.List(fields.Nested(SplitSchema), validate=validate.Length(max=10))
    version = fields.Integer(required=True)


class AgreementQuerySchema(Schema):
    creator_id = fields.Integer()
    mine = fields.Boolean(load_default=False)


class DealTermsSchema(Schema):
    contract_date = Day(allow_none=True)
    commission_percent = decimal_field(
        0,
        100,
        allow_none=True,
        metadata={"description": "A percent overrides the agreement's commission for this deal; null gives it back."},
    )
    commission_source = fields.String(
        dump_only=True,
        metadata={"description": "deal (set on the deal), agreement (in force on the contract date) or default."},
    )
    splits_source = fields.String(
        dump_only=True, metadata={"description": "deal, agreement, or default (the agency keeps it all)."}
    )
    agreement_id = fields.Integer(dump_only=True, allow_none=True)
    payment_terms_days = fields.Integer(validate=validate.OneOf([30, 45, 60, 90]))
    vat_rate = decimal_field(0, 50)
    reverse_charge = fields.Boolean()
    splits = fields.List(fields.Nested(SplitSchema), validate=validate.Length(max=10))


class InvoiceLineSchema(Schema):
    position = fields.Integer()
    description = fields.String()
    quantity = fields.Integer()
    amount = MoneyString("invoice.currency")


class InvoiceSchema(Schema):
    id = fields.Integer()
    kind = fields.Enum(InvoiceKind, by_value=True)
    number = fields.String(allow_none=True)
    deal_id = fields.Integer()
    creator_id = fields.Integer()
    brand_id = fields.Integer()
    brand_name = fields.Function(lambda i: i.brand.name)
    credited_invoice_id = fields.Integer(allow_none=True)
    status = fields.Enum(InvoiceStatus, by_value=True)
    currency = fields.String()
    issued_on = Day(allow_none=True)
    due_on = Day(allow_none=True)
    payment_terms_days = fields.Integer()
    subtotal = MoneyString()
    vat_rate = DecimalString()
    vat_amount = MoneyString()
    total = MoneyString()
    amount_paid = MoneyString()
    amount_credited = MoneyString()
    amount_written_off = MoneyString()
    outstanding = MoneyString()
    reverse_charge = fields.Boolean()
    commission_percent = DecimalString()
    splits = fields.List(fields.Nested(SplitOutSchema))
    lines = fields.List(fields.Nested(InvoiceLineSchema))
    notes = fields.String()
    version = fields.Integer()


class InvoiceCreateSchema(Schema):
    deal_id = fields.Integer(required=True)
    payment_terms_days = fields.Integer(validate=validate.OneOf([30, 45, 60, 90]))
    vat_rate = decimal_field(0, 50)
    reverse_charge = fields.Boolean()
    issued_on = Day()
    draft = fields.Boolean(load_default=False)
    notes = fields.String(validate=validate.Length(max=2000))


class InvoiceQuerySchema(Schema):
    status = fields.List(fields.String(validate=validate.OneOf([s.value for s in InvoiceStatus])))
    kind = fields.String(validate=validate.OneOf([k.value for k in InvoiceKind]))
    creator_id = fields.Integer()
    brand_id = fields.Integer()
    deal_id = fields.Integer()
    mine = fields.Boolean(load_default=False)


class IssueSchema(Schema):
    issued_on = Day()


class CreditNoteSchema(Schema):
    amount = decimal_field(0, 999_999_999_999, places=3, low_inclusive=False, required=True)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=300))


class AllocationSchema(Schema):
    invoice_id = fields.Integer(required=True)
    amount = decimal_field(0, 999_999_999_999, places=3, low_inclusive=False, required=True)


class AllocationOutSchema(Schema):
    id = fields.Integer()
    invoice_id = fields.Integer()
    allocated_on = Day()
    amount = MoneyString("invoice.currency")
    payment_amount = MoneyString("payment.currency")


class PaymentSchema(Schema):
    id = fields.Integer(dump_only=True)
    brand_id = fields.Integer(required=True)
    received_on = Day(required=True)
    # Up to the currency's minor unit (checked with the currency): KWD 1.250, JPY 1250.
    amount = decimal_field(0, 999_999_999_999, places=3, low_inclusive=False, required=True)
    currency = fields.String(required=True, validate=validate.Length(equal=3))
    bank_reference = fields.String(required=True, validate=validate.Length(min=1, max=120))
    payer = fields.String(load_default="", validate=validate.Length(max=200))
    notes = fields.String(load_default="", validate=validate.Length(max=2000))
    allocations = fields.List(fields.Nested(AllocationSchema), load_default=list, validate=validate.Length(max=50))
    rate_to_base = DecimalString(places=8, dump_only=True)
    amount_base = MoneyString(None)
    amount_allocated = MoneyString()
    unallocated = MoneyString()


class PaymentOutSchema(PaymentSchema):
    amount = MoneyString()
    allocations = fields.List(fields.Nested(AllocationOutSchema))


class PaymentQuerySchema(Schema):
    brand_id = fields.Integer()
    unallocated = fields.Boolean(load_default=False)


class AllocateSchema(Schema):
    allocations = fields.List(fields.Nested(AllocationSchema), required=True, validate=validate.Length(min=1, max=50))


class BankImportReportSchema(Schema):
    rows = fields.Integer()
    inserted = fields.Integer()
    unchanged = fields.Integer()
    allocated = fields.Integer()
    errors = fields.List(fields.Dict())


class PayableSchema(Schema):
    creator_id = fields.Integer()
    creator_name = fields.String()
    balance = MoneyString(None)
    available = MoneyString(None)
    in_batches = MoneyString(None)


class PayoutItemSchema(Schema):
    creator_id = fields.Integer()
    creator_name = fields.Function(lambda i: i.creator.display_name)
    amount = MoneyString(None)


class PayoutBatchSchema(Schema):
    id = fields.Integer()
    status = fields.Enum(PayoutStatus, by_value=True)
    currency = fields.String()
    total = MoneyString()
    created_by_id = fields.Integer(allow_none=True)
    approved_by_id = fields.Integer(allow_none=True)
    approved_at = fields.DateTime(allow_none=True)
    paid_on = Day(allow_none=True)
    payment_reference = fields.String()
    items = fields.List(fields.Nested(PayoutItemSchema))
    version = fields.Integer()


class PayoutBatchCreateSchema(Schema):
    creator_ids = fields.List(fields.Integer(), allow_none=True, load_default=None, validate=validate.Length(max=1000))


class PayoutApproveSchema(Schema):
    version = fields.Integer(required=True)


class PayoutPaidSchema(Schema):
    version = fields.Integer(required=True)
    paid_on = Day(required=True)
    reference = fields.String(required=True, validate=validate.Length(min=1, max=120))


class CommissionPayableSchema(Schema):
    payee = fields.String()
    balance = MoneyString(None)


class CommissionPayoutSchema(Schema):
    payee = fields.String(required=True, validate=validate.Length(min=1, max=200))
    amount = decimal_field(0, 99_999_999_999_999, places=3, low_inclusive=False, required=True)
    paid_on = Day(required=True)
    reference = fields.String(required=True, validate=validate.Length(min=1, max=120))


class PlatformPayoutSchema(Schema):
    """Either the revenue record to post (one recorded earlier whose posting waited), or the
    platform revenue to record, which posts it."""

    revenue_record_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    revenue = fields.Nested(RevenueSchema)

    @validates_schema
    def _one_of(self, data, **_kwargs):
        if ("revenue_record_id" in data) == ("revenue" in data):
            raise ValidationError("Give either revenue_record_id or revenue.", "revenue_record_id")


class WriteOffSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=300))


class LedgerLineSchema(Schema):
    account_code = fields.String()
    debit = MoneyString(None)
    credit = MoneyString(None)
    currency = fields.String()
    amount_currency = MoneyString()
    creator_id = fields.Integer(allow_none=True)
    brand_id = fields.Integer(allow_none=True)
    invoice_id = fields.Integer(allow_none=True)
    payee = fields.String(allow_none=True)
    memo = fields.String()


class JournalEntrySchema(Schema):
    id = fields.Integer()
    posted_on = Day()
    kind = fields.String()
    description = fields.String()
    reference = fields.String()
    reverses_id = fields.Integer(allow_none=True)
    actor_label = fields.String()
    lines = fields.List(fields.Nested(LedgerLineSchema))


class PeriodSchema(Schema):
    date_from = Day(data_key="from")
    date_to = Day(data_key="to")


class ReversalSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=300))
    posted_on = Day()


class TrialBalanceRowSchema(Schema):
    code = fields.String()
    name = fields.String()
    kind = fields.String()
    debit = MoneyString(None)
    credit = MoneyString(None)
    balance = MoneyString(None)


class AgingQuerySchema(Schema):
    as_of = AsOfDate()
    mine = fields.Boolean(load_default=False)


class AgingSchema(Schema):
    as_of = Day()
    currency = fields.String()
    totals = fields.Dict(values=DecimalString())
    by_brand = fields.List(fields.Dict())
    by_manager = fields.List(fields.Dict())
    invoices = fields.List(fields.Dict())


class MonthQuerySchema(Schema):
    month = Month(required=True)


class CreatorStatementSchema(Schema):
    creator_id = fields.Integer()
    month = fields.String()
    currency = fields.String()
    opening = MoneyString()
    earned = MoneyString()
    commission = MoneyString()
    paid_out = MoneyString()
    closing = MoneyString()
    payout_currency = fields.String(allow_none=True)
    rate = DecimalString(places=8, allow_none=True)
    in_payout_currency = fields.Dict(allow_none=True)
    lines = fields.List(fields.Dict())


class CreatorBalanceSchema(Schema):
    creator_id = fields.Integer()
    currency = fields.String()
    balance = MoneyString()
    available = MoneyString()
    in_batches = MoneyString()
