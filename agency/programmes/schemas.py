"""What the programme and eligibility endpoints read and write."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from agency.core.fields import AsOfDate, CountryCode, Day
from agency.programmes.models import ActivationStatus
from agency.roster.models import Platform


class RuleVersionSchema(Schema):
    id = fields.Integer(dump_only=True)
    program_id = fields.Integer(dump_only=True)
    version = fields.Integer(dump_only=True)
    effective_from = Day(required=True)
    effective_to = Day(allow_none=True, load_default=None)
    country_scope = fields.List(
        CountryCode(), allow_none=True, load_default=None, validate=validate.Length(min=1, max=250)
    )
    source_note = fields.String(load_default="", validate=validate.Length(max=5000))
    criteria = fields.List(
        fields.Dict(),
        required=True,
        metadata={"description": "Criteria, all of which must pass; see the README for the kinds."},
    )
    created_at = fields.DateTime(dump_only=True)


class RuleVersionEndSchema(Schema):
    """The one change a published rule version accepts (any other field is refused with 422)."""

    effective_to = Day(
        required=True,
        allow_none=True,
        metadata={"description": "First day the version is no longer in force (exclusive end); null: no end."},
    )


class ProgramCloseSchema(Schema):
    effective_to = Day(
        required=True,
        metadata={"description": "Close from this day: every version in force that day ends that day."},
    )


class ProgramSchema(Schema):
    id = fields.Integer(dump_only=True)
    code = fields.String(dump_only=True)
    name = fields.String(validate=validate.Length(min=1, max=120))
    platform = fields.Enum(Platform, by_value=True, dump_only=True)
    description = fields.String(validate=validate.Length(max=5000))
    activation_path = fields.String(validate=validate.Length(max=300))
    is_active = fields.Boolean()
    rules = fields.List(fields.Nested(RuleVersionSchema), dump_only=True)


class ProgramUpdateSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=120))
    description = fields.String(validate=validate.Length(max=5000))
    activation_path = fields.String(validate=validate.Length(max=300))
    is_active = fields.Boolean(
        metadata={
            "description": "false closes the programme from today (every version in force ends today); "
            "answers about the days it was in force stay."
        }
    )


class ProgramRefSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    platform = fields.Function(lambda p: p.platform.value)
    activation_path = fields.String()


class ActivationSchema(Schema):
    creator_id = fields.Integer(dump_only=True)
    program_id = fields.Integer(dump_only=True)
    status = fields.Enum(ActivationStatus, by_value=True, required=True)
    applied_on = Day(allow_none=True)
    activated_on = Day(allow_none=True)
    rejected_on = Day(allow_none=True)
    notes = fields.String(validate=validate.Length(max=2000))
    version = fields.Integer(metadata={"description": "The version you read, when updating (409 if stale)."})
    updated_at = fields.DateTime(dump_only=True)


class EvaluationSchema(Schema):
    creator_id = fields.Integer()
    creator_name = fields.String()
    program = fields.Nested(ProgramRefSchema)
    rule_version_id = fields.Integer()
    account_id = fields.Integer(
        allow_none=True,
        metadata={"description": "The account of the programme's platform that qualifies, or the one closest to."},
    )
    eligible = fields.Boolean()
    near_threshold = fields.Boolean()
    eta = Day(allow_none=True, metadata={"description": "Estimated day every failing criterion passes."})
    as_of = Day(metadata={"description": "The evaluation day this answer comes from (it holds since)."})
    criteria = fields.List(
        fields.Dict(),
        metadata={
            "description": "Per criterion: key, kind, label, passed, actual, threshold, gap, near, eta, reason; for "
            "metrics also value_day (the day of the figure), stale and account (the account it was read from)."
        },
    )
    activation = fields.Nested(ActivationSchema, allow_none=True)
    refreshing = fields.Boolean(
        metadata={
            "description": "True when a write changed this creator's data and the refresh has not reached them yet "
            "(a roster-wide read with many creators waiting); the creator's own eligibility read never waits."
        }
    )


class ChangeSchema(Schema):
    id = fields.Integer()
    program_id = fields.Integer()
    rule_version_id = fields.Integer()
    change = fields.String(
        metadata={"description": "gained, lost, or ended (no version of the programme in force any more)"}
    )
    eligible = fields.Boolean()
    as_of = Day(metadata={"description": "The evaluation day that saw the change."})
    effective_on = Day(
        metadata={"description": "The day the change took effect: the metric's day, the rule's first day, a birthday."}
    )
    changed_criteria = fields.List(
        fields.Dict(), metadata={"description": "Criteria whose result changed, matched by what they measure (key)."}
    )
    recorded_at = fields.DateTime()


class AsOfSchema(Schema):
    as_of = AsOfDate(metadata={"description": "Evaluate with the rules and metrics of that day (not a future day)."})


class EligibilityQuerySchema(Schema):
    program = fields.String(validate=validate.Length(max=64), metadata={"description": "Programme code."})
    eligible = fields.Boolean()
    near_threshold = fields.Boolean()
    not_activated = fields.Boolean(load_default=False, metadata={"description": "Eligible but not activated."})
    manager_id = fields.Integer()
    mine = fields.Boolean(load_default=False)
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]))


class EligibilityRecomputeSchema(Schema):
    creator_ids = fields.List(fields.Integer(validate=validate.Range(min=1)), validate=validate.Length(max=10_000))
    as_of = AsOfDate()
