"""/api/v1/creators: the roster, platform accounts and guideline strikes."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import ValidationError

from agency.core.auth import authenticate_request, current_actor, current_user
from agency.core.extensions import get_session
from agency.core.pagination import paginated
from agency.roster import service as roster
from agency.roster.schemas import (
    AccountSchema,
    AccountUpdateSchema,
    CreatorQuerySchema,
    CreatorSchema,
    CreatorSummarySchema,
    CreatorUpdateSchema,
    StrikeSchema,
    creator_filters,
)

blp = Blueprint(
    "creators",
    __name__,
    url_prefix="/api/v1/creators",
    description="The creator roster, platform accounts and guideline strikes.",
)
blp.before_request(authenticate_request)


def _creator(creator_id: int):
    return roster.get_creator(db_session=get_session(), creator_id=creator_id)


@blp.route("")
class Creators(MethodView):
    @blp.arguments(CreatorQuerySchema, location="query")
    @paginated(blp, CreatorSummarySchema(many=True))
    def get(self, args, pagination_parameters):
        """List creators (filter, search, sort, paginate)

        Each creator as a roster row shows them (names, country, niche, status, standing,
        strike count, manager and accounts); `GET /api/v1/creators/{creator_id}` has everything."""
        total, rows = roster.roster_page(
            db_session=get_session(),
            filters=creator_filters(args, current_user().id),
            page=pagination_parameters.page,
            page_size=pagination_parameters.page_size,
        )
        pagination_parameters.item_count = total
        return rows

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
        return roster.update_creator(
            db_session=get_session(),
            actor=current_actor(),
            creator=_creator(creator_id),
            data=data,
            expected_version=version,
        )

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
        return roster.add_account(
            db_session=get_session(), actor=current_actor(), creator=_creator(creator_id), data=data
        )


@blp.route("/<int:creator_id>/accounts/<int:account_id>")
class CreatorAccountById(MethodView):
    @blp.response(200, AccountSchema)
    def get(self, creator_id, account_id):
        """Get a platform account"""
        return roster.get_account(db_session=get_session(), creator=_creator(creator_id), account_id=account_id)

    @blp.arguments(AccountUpdateSchema)
    @blp.response(200, AccountSchema)
    def patch(self, data, creator_id, account_id):
        """Change a platform account's handle or type (send the `version` you read)"""
        session = get_session()
        version = data.pop("version", None)
        account = roster.get_account(db_session=session, creator=_creator(creator_id), account_id=account_id)
        return roster.update_account(
            db_session=session, actor=current_actor(), account=account, data=data, expected_version=version
        )

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
        return roster.add_strike(db_session=get_session(), actor=current_actor(), creator=_creator(creator_id), **data)
