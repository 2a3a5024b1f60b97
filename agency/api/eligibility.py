"""Eligibility: per creator (now or as of a day), history, roster-wide view, recompute, activations."""
from __future__ import annotations

import csv
import io
from decimal import Decimal

from flask import Response, current_app
from flask.views import MethodView
from marshmallow import Schema, ValidationError, fields, validate, validates
from sqlalchemy import select

from flask_smorest import Blueprint
from agency.api.common import (
    all_in_one_page, authenticate_request, current_actor, current_user, paginate, paginate_rows, roles_required,
    run_or_enqueue,
)
from agency.db import utcnow
from agency.extensions import get_session
from agency.models import ActivationStatus, EligibilityChange, Program, ProgramActivation, Role
from agency.services.creators import get_creator
from agency.services.eligibility import explain_creator, recompute_eligibility
from agency.services.programmes import get_program, roster_eligibility_query, set_activation

blp = Blueprint("eligibility", __name__, url_prefix="/api/v1",
                description="Programme eligibility, forecasts, history and activations.")
blp.before_request(authenticate_request)


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
    applied_on = fields.Date(allow_none=True)
    activated_on = fields.Date(allow_none=True)
    rejected_on = fields.Date(allow_none=True)
    notes = fields.String(validate=validate.Length(max=2000))
    version = fields.Integer(metadata={"description": "The version you read, when updating (409 if stale)."})
    updated_at = fields.DateTime(dump_only=True)


class EvaluationSchema(Schema):
    creator_id = fields.Integer()
    creator_name = fields.String()
    program = fields.Nested(ProgramRefSchema)
    rule_version_id = fields.Integer()
    eligible = fields.Boolean()
    near_threshold = fields.Boolean()
    eta = fields.Date(allow_none=True, metadata={"description": "Estimated day every failing criterion passes."})
    as_of = fields.Date()
    criteria = fields.List(fields.Dict(), metadata={
        "description": "Per criterion: label, passed, actual, threshold, gap, near, eta, reason."})
    activation = fields.Nested(ActivationSchema, allow_none=True)


class ChangeSchema(Schema):
    id = fields.Integer()
    program_id = fields.Integer()
    rule_version_id = fields.Integer()
    change = fields.String()
    eligible = fields.Boolean()
    as_of = fields.Date()
    changed_criteria = fields.List(fields.Dict())
    recorded_at = fields.DateTime()


class AsOfSchema(Schema):
    as_of = fields.Date(metadata={"description": "Evaluate with the rules and metrics of that day."})


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
    as_of = fields.Date()

    @validates("as_of")
    def _not_future(self, value, **_kwargs):
        if value > utcnow().date():
            raise ValidationError("Cannot evaluate the future.")


def _margin() -> Decimal:
    return Decimal(current_app.config["AGENCY"].near_threshold_margin)


def _evaluation_row(evaluation, creator, program, activation) -> dict:
    return {"creator_id": creator.id, "creator_name": creator.display_name, "program": program,
            "rule_version_id": evaluation.rule_version_id, "eligible": evaluation.eligible,
            "near_threshold": evaluation.near_threshold, "eta": evaluation.eta, "as_of": evaluation.as_of,
            "criteria": evaluation.details, "activation": activation}


@blp.route("/creators/<int:creator_id>/eligibility")
class CreatorEligibility(MethodView):
    @blp.arguments(AsOfSchema, location="query")
    @blp.response(200, EvaluationSchema(many=True))
    def get(self, args, creator_id):
        """Each programme: eligible or not, criteria detail, gaps and forecasts (stored, or as of a day)"""
        session = get_session()
        creator = get_creator(db_session=session, creator_id=creator_id)
        if "as_of" not in args:
            rows = session.execute(roster_eligibility_query(creator_id=creator.id)).all()
            return [_evaluation_row(*row) for row in rows]
        programs = {p.id: p for p in session.scalars(select(Program))}
        activations = {a.program_id: a for a in session.scalars(
            select(ProgramActivation).where(ProgramActivation.creator_id == creator.id))}
        return [{"creator_id": creator.id, "creator_name": creator.display_name, "program": programs[ev["program_id"]],
                 "rule_version_id": ev["rule_version_id"], "eligible": ev["eligible"],
                 "near_threshold": ev["near_threshold"], "eta": ev["eta"], "as_of": ev["as_of"],
                 "criteria": ev["details"], "activation": activations.get(ev["program_id"])}
                for ev in explain_creator(db_session=session, creator_id=creator.id, as_of=args["as_of"],
                                          margin=_margin())]


@blp.route("/creators/<int:creator_id>/eligibility/history")
class CreatorEligibilityHistory(MethodView):
    @blp.response(200, ChangeSchema(many=True))
    @blp.paginate(page_size=50, max_page_size=200)
    def get(self, creator_id, pagination_parameters):
        """Gains and losses of programmes over time, newest first"""
        get_creator(db_session=get_session(), creator_id=creator_id)
        stmt = (select(EligibilityChange).where(EligibilityChange.creator_id == creator_id)
                .order_by(EligibilityChange.recorded_at.desc(), EligibilityChange.id.desc()))
        return paginate(stmt, pagination_parameters)


@blp.route("/eligibility")
class RosterEligibility(MethodView):
    @blp.arguments(EligibilityQuerySchema, location="query")
    @blp.response(200, EvaluationSchema(many=True))
    @blp.paginate(page_size=50, max_page_size=200)
    def get(self, args, pagination_parameters):
        """Roster-wide evaluations (filter by programme, eligible, near threshold, not activated, manager); CSV with format=csv"""
        stmt = roster_eligibility_query(
            program_code=args.get("program"), eligible=args.get("eligible"),
            near_threshold=args.get("near_threshold"), not_activated=args["not_activated"],
            manager_id=current_user().id if args["mine"] else args.get("manager_id"))
        if args["format"] == "csv":
            return _csv(all_in_one_page(get_session().execute(stmt).all(), pagination_parameters))
        return [_evaluation_row(*row) for row in paginate_rows(stmt, pagination_parameters)]


def _csv(rows) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["creator_id", "creator", "program", "eligible", "near_threshold", "eta", "failing_criteria",
                     "activation_status", "as_of"])
    for evaluation, creator, program, activation in rows:
        failing = "; ".join(d["label"] for d in evaluation.details if not d["passed"])
        writer.writerow([creator.id, creator.display_name, program.code, evaluation.eligible,
                         evaluation.near_threshold, evaluation.eta or "", failing,
                         activation.status.value if activation else "not_applied", evaluation.as_of])
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=eligibility.csv"})


@blp.route("/eligibility/recompute")
class Recompute(MethodView):
    @roles_required(Role.admin, Role.manager)
    @blp.arguments(EligibilityRecomputeSchema)
    @blp.response(200, description="What the recompute changed (small, or no Redis)")
    @blp.alt_response(202, description="Queued as a background job; follow the Location header")
    def post(self, data):
        """Recompute eligibility for the given creators, or everyone when none are given"""
        arguments = {"creator_ids": data.get("creator_ids") or None,
                     "as_of": data["as_of"].isoformat() if data.get("as_of") else None}
        return run_or_enqueue("recompute_eligibility", arguments, "recompute", lambda: recompute_eligibility(
            db_session=get_session(), creator_ids=arguments["creator_ids"], as_of=data.get("as_of"),
            margin=_margin()).as_dict())


@blp.route("/creators/<int:creator_id>/activations")
class CreatorActivations(MethodView):
    @blp.response(200, ActivationSchema(many=True))
    def get(self, creator_id):
        """Activation status per programme"""
        get_creator(db_session=get_session(), creator_id=creator_id)
        return get_session().scalars(select(ProgramActivation).where(ProgramActivation.creator_id == creator_id))


@blp.route("/creators/<int:creator_id>/activations/<int:program_id>")
class CreatorActivation(MethodView):
    @blp.arguments(ActivationSchema)
    @blp.response(200, ActivationSchema)
    def put(self, data, creator_id, program_id):
        """Set whether the creator applied, is active or was rejected (with dates)"""
        session = get_session()
        return set_activation(db_session=session, actor=current_actor(),
                              creator=get_creator(db_session=session, creator_id=creator_id),
                              program=get_program(db_session=session, program_id=program_id),
                              data=data, today=utcnow().date())


__all__ = ["blp"]
