"""/api/v1/brands: the brands the agency works with (archived, never deleted)."""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields, validate
from sqlalchemy import func, select

from flask_smorest import Blueprint
from agency.api.common import authenticate_request, current_actor, paginate
from agency.extensions import get_session
from agency.models import Brand
from agency.services.deals import archive_brand, get_brand, save_brand

blp = Blueprint("brands", __name__, url_prefix="/api/v1/brands", description="Brands and their contacts.")
blp.before_request(authenticate_request)


class ContactSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    email = fields.Email(load_default=None, allow_none=True)
    phone = fields.String(validate=validate.Length(max=50), load_default=None, allow_none=True)
    role = fields.String(validate=validate.Length(max=100), load_default=None, allow_none=True)


class BrandSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    industry = fields.String(validate=validate.Length(max=100), load_default="")
    website = fields.URL(load_default="", allow_none=False, validate=validate.Length(max=300),
                         metadata={"example": "https://brand.example"})
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


@blp.route("")
class Brands(MethodView):
    @blp.arguments(BrandQuerySchema, location="query")
    @blp.response(200, BrandSchema(many=True))
    @blp.paginate(page_size=50, max_page_size=200)
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
        return paginate(stmt, pagination_parameters)

    @blp.arguments(BrandSchema)
    @blp.response(201, BrandSchema)
    def post(self, data):
        """Add a brand (admins and managers)"""
        return save_brand(db_session=get_session(), actor=current_actor(), data=data)


@blp.route("/<int:brand_id>")
class BrandById(MethodView):
    @blp.response(200, BrandSchema)
    def get(self, brand_id):
        """Get a brand"""
        return get_brand(db_session=get_session(), brand_id=brand_id)

    @blp.arguments(BrandUpdateSchema)
    @blp.response(200, BrandSchema)
    def patch(self, data, brand_id):
        """Edit a brand (send the `version` you read)"""
        session = get_session()
        version = data.pop("version")
        return save_brand(db_session=session, actor=current_actor(), data=data,
                          brand=get_brand(db_session=session, brand_id=brand_id), expected_version=version)

    @blp.response(204)
    def delete(self, brand_id):
        """Archive a brand"""
        session = get_session()
        archive_brand(db_session=session, actor=current_actor(), brand=get_brand(db_session=session, brand_id=brand_id))
