"""/api/v1/programs: the monetisation programme catalogue and its versioned rules."""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from flask_smorest import Blueprint
from agency.api.common import CountryCode, authenticate_request, current_actor
from agency.extensions import get_session
from agency.models import Platform, Program
from agency.services.programmes import add_rule_version, get_program, update_program

blp = Blueprint("programs", __name__, url_prefix="/api/v1/programs",
                description="Monetisation programmes and their rule versions (rules are data).")
blp.before_request(authenticate_request)


class RuleVersionSchema(Schema):
    id = fields.Integer(dump_only=True)
    program_id = fields.Integer(dump_only=True)
    version = fields.Integer(dump_only=True)
    effective_from = fields.Date(required=True)
    effective_to = fields.Date(allow_none=True, load_default=None)
    country_scope = fields.List(CountryCode(), allow_none=True, load_default=None,
                                validate=validate.Length(min=1, max=250))
    source_note = fields.String(load_default="", validate=validate.Length(max=5000))
    criteria = fields.List(fields.Dict(), required=True, metadata={
        "description": "Criteria, all of which must pass; see the README for the kinds."})
    created_at = fields.DateTime(dump_only=True)


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
    is_active = fields.Boolean(metadata={"description": "Switched-off programmes are no longer evaluated."})


@blp.route("")
class Programs(MethodView):
    @blp.response(200, ProgramSchema(many=True))
    def get(self):
        """List programmes with all their rule versions"""
        return get_session().scalars(select(Program).order_by(Program.platform, Program.name)).all()


@blp.route("/<int:program_id>")
class ProgramById(MethodView):
    @blp.response(200, ProgramSchema)
    def get(self, program_id):
        """Get a programme"""
        return get_program(db_session=get_session(), program_id=program_id)

    @blp.arguments(ProgramUpdateSchema)
    @blp.response(200, ProgramSchema)
    def patch(self, data, program_id):
        """Rename, describe, or switch a programme off (admins)"""
        session = get_session()
        return update_program(db_session=session, actor=current_actor(),
                              program=get_program(db_session=session, program_id=program_id), data=data)


@blp.route("/<int:program_id>/rules")
class ProgramRules(MethodView):
    @blp.response(200, RuleVersionSchema(many=True))
    def get(self, program_id):
        """All rule versions, oldest first (old versions stay readable)"""
        return get_program(db_session=get_session(), program_id=program_id).rules

    @blp.arguments(RuleVersionSchema)
    @blp.response(201, RuleVersionSchema)
    def post(self, data, program_id):
        """Add a rule version (admins); 422 names each invalid criterion and why"""
        session = get_session()
        return add_rule_version(db_session=session, actor=current_actor(),
                                program=get_program(db_session=session, program_id=program_id), data=data)
