"""What the roster reads and writes: creators, accounts, strikes, and the roster's filters (one
schema for the API and the UI)."""

from __future__ import annotations

from datetime import date

from marshmallow import Schema, ValidationError, fields, validate, validates

from agency.core.fields import CountryCode, Day, LanguageCode
from agency.roster import service as roster
from agency.roster.models import AccountType, CreatorStatus, Niche, Platform, Standing

HANDLE_FORMAT = validate.Regexp(
    rf"^@?{roster.HANDLE_CHARACTER}{{1,100}}$",
    error="Handles use letters, digits, '.', '_' and '-' (1-100 characters).",
)


def _values(enum_cls) -> list[str]:
    return [m.value for m in enum_cls]


class ManagerRefSchema(Schema):
    id = fields.Integer()
    email = fields.String()
    full_name = fields.String()


class AccountSchema(Schema):
    id = fields.Integer(dump_only=True)
    creator_id = fields.Integer(dump_only=True)
    platform = fields.Enum(Platform, by_value=True, required=True)
    handle = fields.String(required=True, validate=HANDLE_FORMAT)
    account_type = fields.Enum(AccountType, by_value=True, load_default=AccountType.personal)
    version = fields.Integer(dump_only=True)
    created_at = fields.DateTime(dump_only=True)


class AccountUpdateSchema(Schema):
    handle = fields.String(validate=HANDLE_FORMAT)
    account_type = fields.Enum(AccountType, by_value=True)
    version = fields.Integer(
        load_only=True,
        validate=validate.Range(min=1, max=2**31 - 1),
        metadata={"description": "The version you read; a stale version gets 409 (the UI's form always sends it)."},
    )


class CreatorSchema(Schema):
    id = fields.Integer(dump_only=True)
    display_name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    legal_name = fields.String(validate=validate.Length(max=200), load_default="")
    date_of_birth = Day(allow_none=True, load_default=None)
    age = fields.Method("get_age", dump_only=True, metadata={"description": "Age in years today."})
    country = CountryCode(required=True)
    niche = fields.Enum(Niche, by_value=True, required=True)
    languages = fields.List(LanguageCode(), load_default=list, validate=validate.Length(max=20))
    manager_id = fields.Integer(allow_none=True, load_default=None)
    manager = fields.Nested(ManagerRefSchema, dump_only=True, allow_none=True)
    status = fields.Enum(CreatorStatus, by_value=True, load_default=CreatorStatus.prospect)
    guideline_standing = fields.Enum(Standing, by_value=True, load_default=Standing.good)
    strikes_count = fields.Integer(dump_only=True)
    parental_agreement_on_file = fields.Boolean(load_default=False)
    notes = fields.String(validate=validate.Length(max=10_000), load_default="")
    accounts = fields.Nested(AccountSchema, many=True, load_default=list, validate=validate.Length(max=20))
    version = fields.Integer(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)
    archived_at = fields.DateTime(dump_only=True, allow_none=True)

    def get_age(self, creator):
        return roster.age_today(creator)

    @validates("date_of_birth")
    def _dob_in_range(self, value, **_kwargs):
        if value is not None and (value > date.today() or value.year < 1900):
            raise ValidationError("Date of birth must be in the past and after 1900.")


class AccountRefSchema(Schema):
    """A platform account as a roster row shows it (from `Creator.account_refs`, whose platform
    is the stored value)."""

    id = fields.Integer(dump_only=True)
    platform = fields.String(dump_only=True, metadata={"enum": _values(Platform)})
    handle = fields.String(dump_only=True)


class CreatorSummarySchema(Schema):
    """A creator as the roster's list and search answers show them: a table row (who, where,
    what, their standing, manager and handles). The creator's own answer (`CreatorSchema`) has
    everything; `roster.SUMMARY_COLUMNS` are the columns this reads."""

    id = fields.Integer(dump_only=True)
    display_name = fields.String(dump_only=True)
    legal_name = fields.String(dump_only=True)
    country = fields.String(dump_only=True)
    niche = fields.Enum(Niche, by_value=True, dump_only=True)
    status = fields.Enum(CreatorStatus, by_value=True, dump_only=True)
    guideline_standing = fields.Enum(Standing, by_value=True, dump_only=True)
    strikes_count = fields.Integer(dump_only=True)
    manager = fields.Nested(ManagerRefSchema, dump_only=True, allow_none=True)
    accounts = fields.Nested(AccountRefSchema, many=True, dump_only=True, attribute="account_refs")
    archived_at = fields.DateTime(dump_only=True, allow_none=True)


class CreatorUpdateSchema(CreatorSchema):
    """Any subset of the creator fields, plus the `version` you last read."""

    class Meta:
        exclude = ("accounts",)

    version = fields.Integer(
        required=True, load_only=True, metadata={"description": "The version you read; a stale version gets 409."}
    )


class CreatorQuerySchema(Schema):
    status = fields.List(fields.String(validate=validate.OneOf(_values(CreatorStatus))))
    niche = fields.List(fields.String(validate=validate.OneOf(_values(Niche))))
    country = fields.List(CountryCode())
    manager_id = fields.Integer()
    mine = fields.Boolean(load_default=False, metadata={"description": "Only creators I manage."})
    unassigned = fields.Boolean(load_default=False)
    q = fields.String(validate=validate.Length(max=100), metadata={"description": "Search name or handle."})
    include_archived = fields.Boolean(load_default=False)
    sort = fields.String(
        load_default="display_name",
        validate=validate.OneOf(list(roster.SORTABLE) + [f"-{name}" for name in roster.SORTABLE]),
    )


class StrikeSchema(Schema):
    id = fields.Integer(dump_only=True)
    occurred_on = Day(required=True)
    platform = fields.Enum(Platform, by_value=True, allow_none=True, load_default=None)
    reason = fields.String(validate=validate.Length(max=500), load_default="")

    @validates("occurred_on")
    def _not_future(self, value, **_kwargs):
        if value > date.today():
            raise ValidationError("A strike cannot be in the future.")


def creator_filters(args: dict, user_id: int) -> roster.CreatorFilters:
    """The roster filters from `CreatorQuerySchema`'s result; `mine` means the user's creators."""
    return roster.CreatorFilters(
        status=args.get("status"),
        niche=args.get("niche"),
        country=args.get("country"),
        manager_id=user_id if args["mine"] else args.get("manager_id"),
        unassigned=args["unassigned"],
        q=args.get("q"),
        include_archived=args["include_archived"],
        sort=args["sort"],
    )
