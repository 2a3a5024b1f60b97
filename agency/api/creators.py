"""/api/v1/creators: the roster, platform accounts and guideline strikes."""
from __future__ import annotations

from datetime import date

from flask.views import MethodView
from marshmallow import Schema, ValidationError, fields, validate, validates

from flask_smorest import Blueprint
from agency.api.common import (
    CountryCode, LanguageCode, authenticate_request, current_actor, current_user, paginate,
)
from agency.extensions import get_session
from agency.models import AccountType, CreatorStatus, Niche, Platform, Standing
from agency.services import creators as roster

blp = Blueprint("creators", __name__, url_prefix="/api/v1/creators",
                description="The creator roster, platform accounts and guideline strikes.")
blp.before_request(authenticate_request)

HANDLE_FORMAT = validate.Regexp(r"^@?[A-Za-z0-9._-]{1,100}$",
                                error="Handles use letters, digits, '.', '_' and '-' (1-100 characters).")


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
    created_at = fields.DateTime(dump_only=True)


class AccountUpdateSchema(Schema):
    handle = fields.String(validate=HANDLE_FORMAT)
    account_type = fields.Enum(AccountType, by_value=True)


class CreatorSchema(Schema):
    id = fields.Integer(dump_only=True)
    display_name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    legal_name = fields.String(validate=validate.Length(max=200), load_default="")
    date_of_birth = fields.Date(allow_none=True, load_default=None)
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
    accounts = fields.List(fields.Nested(AccountSchema), load_default=list, validate=validate.Length(max=20))
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


class CreatorUpdateSchema(CreatorSchema):
    """Any subset of the creator fields, plus the `version` you last read."""

    class Meta:
        exclude = ("accounts",)

    version = fields.Integer(required=True, load_only=True, metadata={
        "description": "The version you read; a stale version gets 409."})


class CreatorQuerySchema(Schema):
    status = fields.List(fields.String(validate=validate.OneOf(_values(CreatorStatus))))
    niche = fields.List(fields.String(validate=validate.OneOf(_values(Niche))))
    country = fields.List(CountryCode())
    manager_id = fields.Integer()
    mine = fields.Boolean(load_default=False, metadata={"description": "Only creators I manage."})
    unassigned = fields.Boolean(load_default=False)
    q = fields.String(validate=validate.Length(max=100), metadata={"description": "Search name or handle."})
    include_archived = fields.Boolean(load_default=False)
    sort = fields.String(load_default="display_name", validate=validate.OneOf(
        list(roster.SORTABLE) + [f"-{name}" for name in roster.SORTABLE]))


class StrikeSchema(Schema):
    id = fields.Integer(dump_only=True)
    occurred_on = fields.Date(required=True)
    platform = fields.Enum(Platform, by_value=True, allow_none=True, load_default=None)
    reason = fields.String(validate=validate.Length(max=500), load_default="")

    @validates("occurred_on")
    def _not_future(self, value, **_kwargs):
        if value > date.today():
            raise ValidationError("A strike cannot be in the future.")


def _creator(creator_id: int):
    return roster.get_creator(db_session=get_session(), creator_id=creator_id)


@blp.route("")
class Creators(MethodView):
    @blp.arguments(CreatorQuerySchema, location="query")
    @blp.response(200, CreatorSchema(many=True))
    @blp.paginate(page_size=50, max_page_size=200)
    def get(self, args, pagination_parameters):
        """List creators (filter, search, sort, paginate)"""
        filters = roster.CreatorFilters(
            status=args.get("status"), niche=args.get("niche"), country=args.get("country"),
            manager_id=current_user().id if args["mine"] else args.get("manager_id"),
            unassigned=args["unassigned"], q=args.get("q"),
            include_archived=args["include_archived"], sort=args["sort"],
        )
        return paginate(roster.creators_query(filters), pagination_parameters)

    @blp.arguments(CreatorSchema)
    @blp.response(201, CreatorSchema)
    def post(self, data):
        """Add a creator to the roster"""
        return roster.create_creator(db_session=get_session(), actor=current_actor(), data=data)


@blp.route("/<int:creator_id>")
class CreatorById(MethodView):
    @blp.response(200, CreatorSchema)
    def get(self, creator_id):
        """Get a creator"""
        return _creator(creator_id)

    @blp.arguments(CreatorUpdateSchema(partial=True))
    @blp.response(200, CreatorSchema)
    def patch(self, data, creator_id):
        """Edit a creator (send the `version` you read)"""
        version = data.pop("version", None)
        if version is None:
            raise ValidationError({"version": ["Missing data for required field."]})
        return roster.update_creator(db_session=get_session(), actor=current_actor(),
                                     creator=_creator(creator_id), data=data, expected_version=version)

    @blp.response(204)
    def delete(self, creator_id):
        """Archive (offboard) a creator; nothing is deleted"""
        roster.archive_creator(db_session=get_session(), actor=current_actor(), creator=_creator(creator_id))


@blp.route("/<int:creator_id>/accounts")
class CreatorAccounts(MethodView):
    @blp.response(200, AccountSchema(many=True))
    def get(self, creator_id):
        """List a creator's platform accounts"""
        return _creator(creator_id).accounts

    @blp.arguments(AccountSchema)
    @blp.response(201, AccountSchema)
    def post(self, data, creator_id):
        """Add a platform account"""
        return roster.add_account(db_session=get_session(), actor=current_actor(),
                                  creator=_creator(creator_id), data=data)


@blp.route("/<int:creator_id>/accounts/<int:account_id>")
class CreatorAccountById(MethodView):
    @blp.response(200, AccountSchema)
    def get(self, creator_id, account_id):
        """Get a platform account"""
        return roster.get_account(db_session=get_session(), creator=_creator(creator_id), account_id=account_id)

    @blp.arguments(AccountUpdateSchema)
    @blp.response(200, AccountSchema)
    def patch(self, data, creator_id, account_id):
        """Change a platform account's handle or type"""
        session = get_session()
        account = roster.get_account(db_session=session, creator=_creator(creator_id), account_id=account_id)
        return roster.update_account(db_session=session, actor=current_actor(), account=account, data=data)

    @blp.response(204)
    def delete(self, creator_id, account_id):
        """Remove a platform account and its metrics"""
        session = get_session()
        account = roster.get_account(db_session=session, creator=_creator(creator_id), account_id=account_id)
        roster.delete_account(db_session=session, actor=current_actor(), account=account)


@blp.route("/<int:creator_id>/strikes")
class CreatorStrikes(MethodView):
    @blp.response(200, StrikeSchema(many=True))
    def get(self, creator_id):
        """List a creator's community-guidelines strikes"""
        return _creator(creator_id).strikes

    @blp.arguments(StrikeSchema)
    @blp.response(201, StrikeSchema)
    def post(self, data, creator_id):
        """Record a community-guidelines strike (updates the standing)"""
        return roster.add_strike(db_session=get_session(), actor=current_actor(),
                                 creator=_creator(creator_id), **data)
