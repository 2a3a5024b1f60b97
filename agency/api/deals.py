"""/api/v1/deals: brand deals, their pipeline transitions and deliverables."""
from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from flask_smorest import Blueprint
from agency.api.common import DecimalString, authenticate_request, current_actor, current_user, decimal_field, paginate
from agency.db import utcnow
from agency.extensions import get_session
from agency.models import DealSource, DealStage, DeliverableKind, DeliverableStatus, Platform
from agency.services import deals as pipeline

blp = Blueprint("deals", __name__, url_prefix="/api/v1/deals", description="Brand deals and deliverables.")
blp.before_request(authenticate_request)



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
    due_date = fields.Date(allow_none=True, load_default=None)
    status = fields.Enum(DeliverableStatus, by_value=True, load_default=DeliverableStatus.planned)
    published_url = fields.URL(load_default="", validate=validate.Length(max=500))
    notes = fields.String(validate=validate.Length(max=5000), load_default="")


class DeliverableUpdateSchema(Schema):
    kind = fields.Enum(DeliverableKind, by_value=True)
    platform = fields.Enum(Platform, by_value=True)
    due_date = fields.Date(allow_none=True)
    status = fields.Enum(DeliverableStatus, by_value=True)
    published_url = fields.URL(validate=validate.Length(max=500))
    notes = fields.String(validate=validate.Length(max=5000))


class DealSchema(Schema):
    id = fields.Integer(dump_only=True)
    creator_id = fields.Integer(required=True)
    creator_name = fields.Function(lambda d: d.creator.display_name, dump_only=True)
    brand_id = fields.Integer(required=True)
    brand_name = fields.Function(lambda d: d.brand.name, dump_only=True)
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    source = fields.Enum(DealSource, by_value=True, required=True)
    fee_amount = decimal_field(0, 999_999_999_999, required=True)
    fee_currency = fields.String(required=True, validate=validate.Length(equal=3), metadata={"example": "EUR"})
    commission_percent = decimal_field(0, 100, load_default="20.00")
    stage = fields.Enum(DealStage, by_value=True, dump_only=True)
    allowed_transitions = fields.Function(lambda d: [s.value for s in pipeline.allowed_transitions(d.stage)],
                                          dump_only=True)
    start_date = fields.Date(allow_none=True, load_default=None)
    end_date = fields.Date(allow_none=True, load_default=None)
    invoiced_on = fields.Date(dump_only=True, allow_none=True)
    paid_on = fields.Date(dump_only=True, allow_none=True)
    notes = fields.String(validate=validate.Length(max=10_000), load_default="")
    deliverables = fields.List(fields.Nested(DeliverableSchema), dump_only=True)
    version = fields.Integer(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)
    archived_at = fields.DateTime(dump_only=True, allow_none=True)


class DealUpdateSchema(Schema):
    brand_id = fields.Integer()
    title = fields.String(validate=validate.Length(min=1, max=200))
    source = fields.Enum(DealSource, by_value=True)
    fee_amount = decimal_field(0, 999_999_999_999)
    fee_currency = fields.String(validate=validate.Length(equal=3))
    commission_percent = decimal_field(0, 100)
    start_date = fields.Date(allow_none=True)
    end_date = fields.Date(allow_none=True)
    notes = fields.String(validate=validate.Length(max=10_000))
    version = fields.Integer(required=True)


class DealQuerySchema(Schema):
    stage = fields.List(fields.String(validate=validate.OneOf([s.value for s in DealStage])))
    creator_id = fields.Integer()
    brand_id = fields.Integer()
    manager_id = fields.Integer()
    mine = fields.Boolean(load_default=False)
    due_before = fields.Date(metadata={"description": "Deals with an unpublished deliverable due before this day."})
    include_archived = fields.Boolean(load_default=False)


class StageSummarySchema(Schema):
    stage = fields.String()
    count = fields.Integer()
    value = DecimalString()
    unconverted = fields.Integer(metadata={"description": "Deals whose currency has no rate (left out of value)."})


class PipelineSchema(Schema):
    currency = fields.String()
    as_of = fields.Date()
    stages = fields.List(fields.Nested(StageSummarySchema))


def _deal(deal_id: int):
    return pipeline.get_deal(db_session=get_session(), deal_id=deal_id)


@blp.route("")
class Deals(MethodView):
    @blp.arguments(DealQuerySchema, location="query")
    @blp.response(200, DealSchema(many=True))
    @blp.paginate(page_size=50, max_page_size=200)
    def get(self, args, pagination_parameters):
        """List deals (filter by stage, creator, brand, manager, deliverables due before a day)"""
        filters = pipeline.DealFilters(
            stage=args.get("stage"), creator_id=args.get("creator_id"), brand_id=args.get("brand_id"),
            manager_id=current_user().id if args["mine"] else args.get("manager_id"),
            due_before=args.get("due_before"), include_archived=args["include_archived"])
        return paginate(pipeline.deals_query(filters), pagination_parameters)

    @blp.arguments(DealSchema)
    @blp.response(201, DealSchema)
    def post(self, data):
        """Open a deal (it starts as a lead)"""
        return pipeline.create_deal(db_session=get_session(), actor=current_actor(), data=data)


@blp.route("/pipeline")
class Pipeline(MethodView):
    @blp.arguments(DealQuerySchema(only=("manager_id", "mine")), location="query")
    @blp.response(200, PipelineSchema)
    def get(self, args):
        """Count and fee value per stage, in the base currency"""
        return pipeline.pipeline_summary(
            db_session=get_session(), base_currency=current_app.config["AGENCY"].base_currency, today=utcnow().date(),
            manager_id=current_user().id if args.get("mine") else args.get("manager_id"))


@blp.route("/<int:deal_id>")
class DealById(MethodView):
    @blp.response(200, DealSchema)
    def get(self, deal_id):
        """Get a deal with its deliverables"""
        return _deal(deal_id)

    @blp.arguments(DealUpdateSchema)
    @blp.response(200, DealSchema)
    def patch(self, data, deal_id):
        """Edit a deal (the stage changes through /transitions)"""
        version = data.pop("version")
        return pipeline.update_deal(db_session=get_session(), actor=current_actor(), deal=_deal(deal_id), data=data,
                                    expected_version=version)

    @blp.response(204)
    def delete(self, deal_id):
        """Archive a deal"""
        pipeline.archive_deal(db_session=get_session(), actor=current_actor(), deal=_deal(deal_id))


@blp.route("/<int:deal_id>/transitions")
class DealTransitions(MethodView):
    @blp.response(200, TransitionSchema(many=True))
    def get(self, deal_id):
        """The deal's stage history: who moved it, when"""
        return _deal(deal_id).transitions

    @blp.arguments(TransitionSchema)
    @blp.response(200, DealSchema)
    def post(self, data, deal_id):
        """Move the deal to `to_stage`; an illegal move gets 409 naming the allowed ones"""
        return pipeline.transition_deal(db_session=get_session(), actor=current_actor(), deal=_deal(deal_id),
                                        to_stage=data["to_stage"], today=utcnow().date(), note=data["note"])


@blp.route("/<int:deal_id>/deliverables")
class DealDeliverables(MethodView):
    @blp.response(200, DeliverableSchema(many=True))
    def get(self, deal_id):
        """The deal's deliverables"""
        return _deal(deal_id).deliverables

    @blp.arguments(DeliverableSchema)
    @blp.response(201, DeliverableSchema)
    def post(self, data, deal_id):
        """Add a deliverable"""
        return pipeline.add_deliverable(db_session=get_session(), actor=current_actor(), deal=_deal(deal_id), data=data)


@blp.route("/<int:deal_id>/deliverables/<int:deliverable_id>")
class DealDeliverable(MethodView):
    @blp.arguments(DeliverableUpdateSchema)
    @blp.response(200, DeliverableSchema)
    def patch(self, data, deal_id, deliverable_id):
        """Update a deliverable (status, due date, published URL)"""
        session = get_session()
        deliverable = pipeline.get_deliverable(db_session=session, deal=_deal(deal_id), deliverable_id=deliverable_id)
        return pipeline.update_deliverable(db_session=session, actor=current_actor(), deliverable=deliverable, data=data)
