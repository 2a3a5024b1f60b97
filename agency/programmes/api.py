"""/api/v1/programs (the programme catalogue and its versioned rules) and eligibility: per creator
(now or as of a day), history, the roster-wide view, recompute, activations."""

from __future__ import annotations

import structlog
from flask import Response, current_app, g
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from agency.core.auth import authenticate_request, current_actor, current_user, for_creators, roles_required
from agency.core.database import utcnow
from agency.core.extensions import get_session
from agency.core.http import also_answers, csv_response
from agency.core.jobs.http import run_or_enqueue
from agency.core.jobs.service import enqueue
from agency.core.pagination import all_in_one_page, page_of, paginated
from agency.core.users.models import Role
from agency.programmes.eligibility import explain_creator, recompute_eligibility
from agency.programmes.explanation import explain_many, failing_criteria
from agency.programmes.features import EngineSettings
from agency.programmes.freshness import SESSION_FLAG, ensure_fresh, pending_among, refresh_requested
from agency.programmes.models import EligibilityChange, Program, ProgramActivation
from agency.programmes.schemas import (
    ActivationSchema,
    AsOfSchema,
    ChangeSchema,
    EligibilityQuerySchema,
    EligibilityRecomputeSchema,
    EvaluationSchema,
    ProgramCloseSchema,
    ProgramSchema,
    ProgramUpdateSchema,
    RuleVersionEndSchema,
    RuleVersionSchema,
)
from agency.programmes.service import (
    add_rule_version,
    close_program,
    end_rule_version,
    get_program,
    get_rule_version,
    roster_eligibility_query,
    set_activation,
    update_program,
)
from agency.roster.service import get_creator

programs_blp = Blueprint(
    "programs",
    __name__,
    url_prefix="/api/v1/programs",
    description="Monetisation programmes and their rule versions (rules are data).",
)
programs_blp.before_request(authenticate_request)


@programs_blp.route("")
class Programs(MethodView):
    @programs_blp.response(200, ProgramSchema(many=True))
    def get(self):
        """List programmes with all their rule versions"""
        return get_session().scalars(select(Program).order_by(Program.platform, Program.name)).all()


@programs_blp.route("/<int:program_id>")
class ProgramById(MethodView):
    @programs_blp.response(200, ProgramSchema)
    def get(self, program_id):
        """Get a programme"""
        return get_program(db_session=get_session(), program_id=program_id)

    @programs_blp.arguments(ProgramUpdateSchema)
    @programs_blp.response(200, ProgramSchema)
    def patch(self, data, program_id):
        """Rename, describe, or switch a programme off (admins)"""
        session = get_session()
        return update_program(
            db_session=session,
            actor=current_actor(),
            program=get_program(db_session=session, program_id=program_id),
            data=data,
            today=utcnow().date(),
        )


@programs_blp.route("/<int:program_id>/close")
class ProgramClose(MethodView):
    @programs_blp.arguments(ProgramCloseSchema)
    @programs_blp.response(200, ProgramSchema)
    def post(self, data, program_id):
        """Close a programme from a day: every version in force then ends that day (admins); history stays"""
        session = get_session()
        program = get_program(db_session=session, program_id=program_id)
        close_program(db_session=session, actor=current_actor(), program=program, day=data["effective_to"])
        return program


@programs_blp.route("/<int:program_id>/rules")
class ProgramRules(MethodView):
    @programs_blp.response(200, RuleVersionSchema(many=True))
    def get(self, program_id):
        """All rule versions, oldest first (old versions stay readable)"""
        return get_program(db_session=get_session(), program_id=program_id).rules

    @programs_blp.arguments(RuleVersionSchema)
    @programs_blp.response(201, RuleVersionSchema)
    def post(self, data, program_id):
        """Add a rule version (admins); 422 names each invalid criterion and why"""
        session = get_session()
        return add_rule_version(
            db_session=session,
            actor=current_actor(),
            program=get_program(db_session=session, program_id=program_id),
            data=data,
        )


@programs_blp.route("/<int:program_id>/rules/<int:rule_id>")
class ProgramRuleById(MethodView):
    @programs_blp.response(200, RuleVersionSchema)
    def get(self, program_id, rule_id):
        """A rule version"""
        session = get_session()
        return get_rule_version(
            db_session=session, program=get_program(db_session=session, program_id=program_id), rule_id=rule_id
        )

    @programs_blp.arguments(RuleVersionEndSchema)
    @programs_blp.response(200, RuleVersionSchema)
    def patch(self, data, program_id, rule_id):
        """Set the day a published version ends (admins): `effective_to` is the only field a published version takes"""
        session = get_session()
        rule = get_rule_version(
            db_session=session, program=get_program(db_session=session, program_id=program_id), rule_id=rule_id
        )
        return end_rule_version(db_session=session, actor=current_actor(), rule=rule, effective_to=data["effective_to"])


eligibility_blp = Blueprint(
    "eligibility",
    __name__,
    url_prefix="/api/v1",
    description="Programme eligibility, forecasts, history and activations.",
)
eligibility_blp.before_request(authenticate_request)
log = structlog.get_logger(__name__)


@eligibility_blp.after_app_request
def refresh_after_write(response):
    """A request (API or UI) whose writes left creators waiting for a refresh: without Redis, the
    refresh runs now, in the request's transaction, so its answer and any later read see the new
    verdicts; with Redis, the `refresh_requested_evaluations` job is queued (reads of a waiting
    creator refresh them first). Runs before the request's session commits (hooks registered
    later run first). A failing refresh never loses the write: it is rolled back alone and the
    creators stay waiting for the next refresh."""
    session = g.get("db_session")
    if session is None or response.status_code >= 400 or not session.info.pop(SESSION_FLAG, False):
        return response
    config = current_app.config["AGENCY"]
    if config.redis_url:
        enqueue(session, config, "refresh_requested_evaluations", {}, dedup_key="refresh_requested_evaluations")
        return response
    try:
        with session.begin_nested():
            refresh_requested(session, config, config.recompute_chunk_size)
    except Exception:  # isolation: the write stands, the creators stay waiting
        log.exception("refresh_after_write_failed")
    return response


def _settings() -> EngineSettings:
    return EngineSettings.from_config(current_app.config["AGENCY"])


def _evaluation_rows(rows) -> list[dict]:
    """API documents of stored evaluations, (evaluation, creator, program, activation) rows."""
    documents = explain_many(get_session(), [(ev.rule_version_id, ev.details) for ev, _c, _p, _a in rows])
    waiting = pending_among(get_session(), {creator.id for _e, creator, _p, _a in rows})
    return [
        {
            "creator_id": creator.id,
            "creator_name": creator.display_name,
            "program": program,
            "rule_version_id": evaluation.rule_version_id,
            "account_id": evaluation.account_id,
            "eligible": evaluation.eligible,
            "near_threshold": evaluation.near_threshold,
            "eta": evaluation.eta,
            "as_of": evaluation.as_of,
            "criteria": document,
            "activation": activation,
            "refreshing": creator.id in waiting,
        }
        for (evaluation, creator, program, activation), document in zip(rows, documents)
    ]


@eligibility_blp.route("/creators/<int:creator_id>/eligibility")
class CreatorEligibility(MethodView):
    @for_creators
    @eligibility_blp.arguments(AsOfSchema, location="query")
    @eligibility_blp.response(200, EvaluationSchema(many=True))
    def get(self, args, creator_id):
        """Each programme: eligible or not, criteria detail, gaps and forecasts (stored, or as of a day)"""
        session = get_session()
        creator = get_creator(db_session=session, creator_id=creator_id)
        if "as_of" not in args:
            ensure_fresh(session, current_app.config["AGENCY"], [creator.id])
            return _evaluation_rows(session.execute(roster_eligibility_query(creator_id=creator.id)).all())
        programs = {p.id: p for p in session.scalars(select(Program))}
        activations = {
            a.program_id: a
            for a in session.scalars(select(ProgramActivation).where(ProgramActivation.creator_id == creator.id))
        }
        fresh = explain_creator(db_session=session, creator_id=creator.id, as_of=args["as_of"], settings=_settings())
        documents = explain_many(session, [(ev["rule_version_id"], ev["details"]) for ev in fresh])
        return [
            {
                "creator_id": creator.id,
                "creator_name": creator.display_name,
                "program": programs[ev["program_id"]],
                "rule_version_id": ev["rule_version_id"],
                "account_id": ev["account_id"],
                "eligible": ev["eligible"],
                "near_threshold": ev["near_threshold"],
                "eta": ev["eta"],
                "as_of": ev["as_of"],
                "criteria": document,
                "activation": activations.get(ev["program_id"]),
            }
            for ev, document in zip(fresh, documents)
        ]


@eligibility_blp.route("/creators/<int:creator_id>/eligibility/history")
class CreatorEligibilityHistory(MethodView):
    @for_creators
    @paginated(eligibility_blp, ChangeSchema(many=True))
    def get(self, creator_id, pagination_parameters):
        """Gains and losses of programmes over time, newest first"""
        get_creator(db_session=get_session(), creator_id=creator_id)
        stmt = (
            select(EligibilityChange)
            .where(EligibilityChange.creator_id == creator_id)
            .order_by(EligibilityChange.effective_on.desc(), EligibilityChange.id.desc())
        )
        return stmt


@eligibility_blp.route("/eligibility")
class RosterEligibility(MethodView):
    @eligibility_blp.arguments(EligibilityQuerySchema, location="query")
    @eligibility_blp.doc(**also_answers("text/csv"))
    @paginated(eligibility_blp, EvaluationSchema(many=True))
    def get(self, args, pagination_parameters):
        """Roster-wide evaluations (filter by programme, eligible, near threshold, not activated, manager); CSV with format=csv"""  # noqa: E501 (the OpenAPI summary)
        ensure_fresh(get_session(), current_app.config["AGENCY"])
        stmt = roster_eligibility_query(
            program_code=args.get("program"),
            eligible=args.get("eligible"),
            near_threshold=args.get("near_threshold"),
            not_activated=args["not_activated"],
            manager_id=current_user().id if args["mine"] else args.get("manager_id"),
        )
        if args["format"] == "csv":
            return _csv(all_in_one_page(get_session().execute(stmt).all(), pagination_parameters))
        return _evaluation_rows(page_of(get_session(), stmt, pagination_parameters, rows=True))


def _csv(rows) -> Response:
    """Every matching row: the account the verdict reads, and each failing criterion with why when
    its figure says more than its label (stale, no data in the window, no account)."""
    documents = explain_many(
        get_session(), [(evaluation.rule_version_id, evaluation.details) for evaluation, *_ in rows]
    )
    lines = []
    for (evaluation, creator, program, activation), document in zip(rows, documents):
        account = _verdict_account(document, evaluation.account_id)
        lines.append(
            [
                creator.id,
                creator.display_name,
                program.code,
                evaluation.eligible,
                evaluation.near_threshold,
                evaluation.eta or "",
                "; ".join(failing_criteria(document)),
                activation.status.value if activation else "not_applied",
                evaluation.as_of,
                f"{account['platform']} @{account['handle']}" if account else "",
            ]
        )
    return csv_response(
        "eligibility.csv",
        [
            "creator_id",
            "creator",
            "program",
            "eligible",
            "near_threshold",
            "eta",
            "failing_criteria",
            "activation_status",
            "as_of",
            "account",
        ],
        lines,
    )


def _verdict_account(document: list[dict], account_id: int | None) -> dict | None:
    for criterion in document:
        for item in (criterion, *criterion.get("criteria", ())):
            if account_id is not None and (item.get("account") or {}).get("id") == account_id:
                return item["account"]
    return None


@eligibility_blp.route("/eligibility/recompute")
class Recompute(MethodView):
    @roles_required(Role.admin, Role.manager)
    @eligibility_blp.arguments(EligibilityRecomputeSchema)
    @eligibility_blp.response(200, description="What the recompute changed (small, or no Redis)")
    @eligibility_blp.alt_response(202, description="Queued as a background job; follow the Location header")
    def post(self, data):
        """Recompute eligibility for the given creators, or everyone when none are given"""
        arguments = {
            "creator_ids": data.get("creator_ids") or None,
            "as_of": data["as_of"].isoformat() if data.get("as_of") else None,
        }
        return run_or_enqueue(
            "recompute_eligibility",
            arguments,
            lambda: recompute_eligibility(
                db_session=get_session(),
                creator_ids=arguments["creator_ids"],
                as_of=data.get("as_of"),
                settings=_settings(),
            ).as_dict(),
        )


@eligibility_blp.route("/creators/<int:creator_id>/activations")
class CreatorActivations(MethodView):
    @eligibility_blp.response(200, ActivationSchema(many=True))
    def get(self, creator_id):
        """Activation status per programme"""
        get_creator(db_session=get_session(), creator_id=creator_id)
        return get_session().scalars(select(ProgramActivation).where(ProgramActivation.creator_id == creator_id))


@eligibility_blp.route("/creators/<int:creator_id>/activations/<int:program_id>")
class CreatorActivation(MethodView):
    @eligibility_blp.arguments(ActivationSchema)
    @eligibility_blp.response(200, ActivationSchema)
    def put(self, data, creator_id, program_id):
        """Set whether the creator applied, is active or was rejected (with dates)"""
        session = get_session()
        return set_activation(
            db_session=session,
            actor=current_actor(),
            creator=get_creator(db_session=session, creator_id=creator_id),
            program=get_program(db_session=session, program_id=program_id),
            data=data,
            today=utcnow().date(),
        )
