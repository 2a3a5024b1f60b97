"""/api/v1/brands (the brands the agency works with; archived, never deleted) and /api/v1/deals
(brand deals, their pipeline transitions and deliverables)."""

from __future__ import annotations

from decimal import Decimal

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import func, select

from agency.core.auth import authenticate_request, current_actor, current_user
from agency.core.extensions import agency_today, get_session
from agency.core.pagination import paginated
from agency.deals import service as pipeline
from agency.deals.models import Brand
from agency.deals.schemas import (
    BrandQuerySchema,
    BrandSchema,
    BrandUpdateSchema,
    DealQuerySchema,
    DealSchema,
    DealUpdateSchema,
    DeliverableSchema,
    DeliverableUpdateSchema,
    PipelineSchema,
    TransitionSchema,
)
from agency.deals.service import archive_brand, get_brand, save_brand

brands_blp = Blueprint("brands", __name__, url_prefix="/api/v1/brands", description="Brands and their contacts.")
brands_blp.before_request(authenticate_request)


@brands_blp.route("")
class Brands(MethodView):
    @brands_blp.arguments(BrandQuerySchema, location="query")
    @paginated(brands_blp, BrandSchema(many=True))
    def get(self, args, pagination_parameters):
        """List brands"""
        stmt = select(Brand).order_by(Brand.name)
        if not args["include_archived"]:
            stmt = stmt.where(Brand.archived_at.is_(None))
        if args.get("q"):
            needle = args["q"].lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            stmt = stmt.where(func.lower(Brand.name).like(f"%{needle}%", escape="\\"))
        if args.get("industry"):
            stmt = stmt.where(Brand.industry == args["industry"])
        return stmt

    @brands_blp.arguments(BrandSchema)
    @brands_blp.response(201, BrandSchema)
    def post(self, data):
        """Add a brand (admins and managers)"""
        return save_brand(db_session=get_session(), actor=current_actor(), data=data)


@brands_blp.route("/<int:brand_id>")
class BrandById(MethodView):
    @brands_blp.response(200, BrandSchema)
    def get(self, brand_id):
        """Get a brand"""
        return get_brand(db_session=get_session(), brand_id=brand_id)

    @brands_blp.arguments(BrandUpdateSchema)
    @brands_blp.response(200, BrandSchema)
    def patch(self, data, brand_id):
        """Edit a brand (send the `version` you read)"""
        session = get_session()
        version = data.pop("version")
        return save_brand(
            db_session=session,
            actor=current_actor(),
            data=data,
            brand=get_brand(db_session=session, brand_id=brand_id),
            expected_version=version,
        )

    @brands_blp.response(204)
    def delete(self, brand_id):
        """Archive a brand"""
        session = get_session()
        archive_brand(db_session=session, actor=current_actor(), brand=get_brand(db_session=session, brand_id=brand_id))


deals_blp = Blueprint("deals", __name__, url_prefix="/api/v1/deals", description="Brand deals and deliverables.")
deals_blp.before_request(authenticate_request)


def _deal(deal_id: int):
    return pipeline.get_deal(db_session=get_session(), deal_id=deal_id)


@deals_blp.route("")
class Deals(MethodView):
    @deals_blp.arguments(DealQuerySchema, location="query")
    @paginated(deals_blp, DealSchema(many=True))
    def get(self, args, pagination_parameters):
        """List deals (filter by stage, creator, brand, manager, deliverables due before a day)"""
        filters = pipeline.DealFilters(
            stage=args.get("stage"),
            creator_id=args.get("creator_id"),
            brand_id=args.get("brand_id"),
            manager_id=current_user().id if args["mine"] else args.get("manager_id"),
            due_before=args.get("due_before"),
            include_archived=args["include_archived"],
        )
        return pipeline.deals_query(filters)

    @deals_blp.arguments(DealSchema)
    @deals_blp.response(201, DealSchema)
    def post(self, data):
        """Open a deal (it starts as a lead)"""
        return pipeline.create_deal(
            db_session=get_session(),
            actor=current_actor(),
            data=data,
            default_commission=Decimal(current_app.config["AGENCY"].default_commission_percent),
        )


@deals_blp.route("/pipeline")
class Pipeline(MethodView):
    @deals_blp.arguments(DealQuerySchema(only=("manager_id", "mine")), location="query")
    @deals_blp.response(200, PipelineSchema)
    def get(self, args):
        """Count and fee value per stage, in the base currency"""
        return pipeline.pipeline_summary(
            db_session=get_session(),
            base_currency=current_app.config["AGENCY"].base_currency,
            today=agency_today(),
            manager_id=current_user().id if args.get("mine") else args.get("manager_id"),
        )


@deals_blp.route("/<int:deal_id>")
class DealById(MethodView):
    @deals_blp.response(200, DealSchema)
    def get(self, deal_id):
        """Get a deal with its deliverables"""
        return _deal(deal_id)

    @deals_blp.arguments(DealUpdateSchema)
    @deals_blp.response(200, DealSchema)
    def patch(self, data, deal_id):
        """Edit a deal (the stage changes through /transitions)"""
        version = data.pop("version")
        return pipeline.update_deal(
            db_session=get_session(), actor=current_actor(), deal=_deal(deal_id), data=data, expected_version=version
        )

    @deals_blp.response(204)
    def delete(self, deal_id):
        """Archive a deal"""
        pipeline.archive_deal(db_session=get_session(), actor=current_actor(), deal=_deal(deal_id))


@deals_blp.route("/<int:deal_id>/transitions")
class DealTransitions(MethodView):
    @deals_blp.response(200, TransitionSchema(many=True))
    def get(self, deal_id):
        """The deal's stage history: who moved it, when"""
        return _deal(deal_id).transitions

    @deals_blp.arguments(TransitionSchema)
    @deals_blp.response(200, DealSchema)
    def post(self, data, deal_id):
        """Move the deal to `to_stage`; an illegal move gets 409 naming the allowed ones"""
        return pipeline.transition_deal(
            db_session=get_session(),
            actor=current_actor(),
            deal=_deal(deal_id),
            to_stage=data["to_stage"],
            today=agency_today(),
            note=data["note"],
        )


@deals_blp.route("/<int:deal_id>/deliverables")
class DealDeliverables(MethodView):
    @deals_blp.response(200, DeliverableSchema(many=True))
    def get(self, deal_id):
        """The deal's deliverables"""
        return _deal(deal_id).deliverables

    @deals_blp.arguments(DeliverableSchema)
    @deals_blp.response(201, DeliverableSchema)
    def post(self, data, deal_id):
        """Add a deliverable"""
        return pipeline.add_deliverable(db_session=get_session(), actor=current_actor(), deal=_deal(deal_id), data=data)


@deals_blp.route("/<int:deal_id>/deliverables/<int:deliverable_id>")
class DealDeliverable(MethodView):
    @deals_blp.arguments(DeliverableUpdateSchema)
    @deals_blp.response(200, DeliverableSchema)
    def patch(self, data, deal_id, deliverable_id):
        """Update a deliverable (status, due date, published URL; send the `version` you read)"""
        session = get_session()
        deliverable = pipeline.get_deliverable(db_session=session, deal=_deal(deal_id), deliverable_id=deliverable_id)
        version = data.pop("version")
        return pipeline.update_deliverable(
            db_session=session, actor=current_actor(), deliverable=deliverable, data=data, expected_version=version
        )
