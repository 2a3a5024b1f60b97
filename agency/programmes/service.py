"""Programme catalogue administration, activation tracking and eligibility read queries."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session

from agency.core.audit.service import Actor, record_audit, snapshot
from agency.core.errors import Conflict, InvalidInput, NotFound, stale_version
from agency.core.users.models import Role
from agency.core.users.service import require_role
from agency.programmes.explanation import explain_many
from agency.programmes.freshness import ensure_fresh, request_refresh
from agency.programmes.models import ActivationStatus, EligibilityEvaluation, Program, ProgramActivation, RuleVersion
from agency.programmes.rules import validate_criteria
from agency.roster.models import Creator
from agency.roster.service import require_creator_write


def get_program(*, db_session: Session, program_id: int) -> Program:
    program = db_session.get(Program, program_id)
    if program is None:
        raise NotFound(f"Programme {program_id} not found.")
    return program


def add_rule_version(*, db_session: Session, actor: Actor, program: Program, data: dict) -> RuleVersion:
    """A new version; earlier versions stay as they were, so past answers can be reproduced."""
    require_role(actor.user, Role.admin)
    criteria = validate_criteria(data["criteria"])
    if data.get("effective_to") and data["effective_to"] <= data["effective_from"]:
        raise InvalidInput(
            "effective_to must be after effective_from.", {"effective_to": ["must be after effective_from"]}
        )
    scope = sorted({c.upper() for c in data["country_scope"]}) if data.get("country_scope") else None
    number = (
        db_session.scalar(select(func.max(RuleVersion.version)).where(RuleVersion.program_id == program.id)) or 0
    ) + 1
    rule = RuleVersion(
        program_id=program.id,
        version=number,
        effective_from=data["effective_from"],
        effective_to=data.get("effective_to"),
        country_scope=scope,
        source_note=data.get("source_note", ""),
        criteria=criteria,
        created_by_id=actor.user.id,
    )
    db_session.add(rule)
    db_session.flush()
    request_refresh("rule version", db_session=db_session)
    record_audit(
        db_session=db_session,
        actor=actor,
        action="rule.create",
        entity_type="rule_version",
        entity_id=rule.id,
        after=snapshot(rule),
    )
    return rule


def get_rule_version(*, db_session: Session, program: Program, rule_id: int) -> RuleVersion:
    rule = db_session.get(RuleVersion, rule_id)
    if rule is None or rule.program_id != program.id:
        raise NotFound(f"Rule version {rule_id} not found in programme {program.id}.")
    return rule


def end_rule_version(*, db_session: Session, actor: Actor, rule: RuleVersion, effective_to: date | None) -> RuleVersion:
    """Set (or clear) the day a published version stops being in force: the only change a
    published version accepts. The day is exclusive: the version answers up to the day before.
    Admins, or the system itself (the catalogue seed closing what its sources say has ended)."""
    if actor.user is not None:
        require_role(actor.user, Role.admin)
    if effective_to is not None and effective_to <= rule.effective_from:
        raise InvalidInput(
            f"The version starts on {rule.effective_from.isoformat()}; it can only end after that.",
            {"effective_to": [f"must be after effective_from ({rule.effective_from.isoformat()})"]},
        )
    if rule.effective_to == effective_to:
        return rule
    before = snapshot(rule)
    rule.effective_to = effective_to
    db_session.flush()
    request_refresh("rule version ended", db_session=db_session)
    record_audit(
        db_session=db_session,
        actor=actor,
        action="rule.end",
        entity_type="rule_version",
        entity_id=rule.id,
        before=before,
        after=snapshot(rule),
    )
    return rule


def close_program(*, db_session: Session, actor: Actor, program: Program, day: date) -> list[RuleVersion]:
    """Close a programme from `day`: every version in force that day ends that day (it answers up to
    the day before); versions that ended earlier keep their dates, so past answers never change.
    A version starting on or after `day` would reopen the programme: it is refused (409)."""
    require_role(actor.user, Role.admin)
    later = db_session.scalars(
        select(RuleVersion).where(RuleVersion.program_id == program.id, RuleVersion.effective_from >= day)
    ).all()
    if later:
        names = ", ".join(f"version {r.version} from {r.effective_from.isoformat()}" for r in later)
        raise Conflict(
            f"{program.name} has versions starting on or after {day.isoformat()} ({names}); end those first "
            "or close from a later day.",
            {"effective_to": [f"versions start on or after this day: {names}"]},
        )
    ended = db_session.scalars(
        select(RuleVersion)
        .where(RuleVersion.program_id == program.id, RuleVersion.in_force_condition(day))
        .order_by(RuleVersion.version)
    ).all()
    for rule in ended:
        end_rule_version(db_session=db_session, actor=actor, rule=rule, effective_to=day)
    return ended


def update_program(
    *, db_session: Session, actor: Actor, program: Program, data: dict, today: date | None = None
) -> Program:
    """Rename, describe, or switch a programme on or off. Switching it off closes it from today
    (`close_program`), so answers about the days it was in force keep it."""
    require_role(actor.user, Role.admin)
    before = snapshot(program)
    if data.get("is_active") is False and program.is_active:
        close_program(db_session=db_session, actor=actor, program=program, day=today or date.today())
    for key, value in data.items():
        setattr(program, key, value)
    db_session.flush()
    if "is_active" in data and program.is_active != before.get("is_active"):
        request_refresh("programme", db_session=db_session)
    record_audit(
        db_session=db_session,
        actor=actor,
        action="program.update",
        entity_type="program",
        entity_id=program.id,
        before=before,
        after=snapshot(program),
    )
    return program


def set_activation(
    *, db_session: Session, actor: Actor, creator: Creator, program: Program, data: dict, today: date
) -> ProgramActivation:
    """Record where the creator stands with a programme (applied, active, rejected) and when."""
    require_creator_write(actor.user, creator)
    activation = db_session.scalar(
        select(ProgramActivation).where(
            ProgramActivation.creator_id == creator.id, ProgramActivation.program_id == program.id
        )
    )
    expected = data.pop("version", None)
    if activation is None:
        activation = ProgramActivation(creator_id=creator.id, program_id=program.id)
        db_session.add(activation)
        before = None
    else:
        if expected is not None and expected != activation.version:
            raise stale_version("The activation", activation.version, expected)
        before = snapshot(activation)
    status = ActivationStatus(data.get("status", activation.status or ActivationStatus.not_applied))
    activation.status = status
    activation.notes = data.get("notes", activation.notes or "")
    for field_name in ("applied_on", "activated_on", "rejected_on"):
        if field_name in data:
            setattr(activation, field_name, data[field_name])
    # Fill the date of the status just reached when the caller did not give one.
    default_field = {
        ActivationStatus.applied: "applied_on",
        ActivationStatus.active: "activated_on",
        ActivationStatus.rejected: "rejected_on",
    }.get(status)
    if default_field and getattr(activation, default_field) is None:
        setattr(activation, default_field, today)
    for field_name in ("applied_on", "activated_on", "rejected_on"):
        value = getattr(activation, field_name)
        if value is not None and value > today:
            raise InvalidInput(f"{field_name} is in the future.", {field_name: ["must not be in the future"]})
    db_session.flush()
    record_audit(
        db_session=db_session,
        actor=actor,
        action="activation.set",
        entity_type="program_activation",
        entity_id=activation.id,
        before=before,
        after=snapshot(activation),
    )
    return activation


def roster_eligibility_query(
    *,
    program_code: str | None = None,
    eligible: bool | None = None,
    near_threshold: bool | None = None,
    manager_id: int | None = None,
    not_activated: bool = False,
    creator_id: int | None = None,
) -> Select:
    """Stored evaluations joined with creator, programme and activation, filtered."""
    stmt = (
        select(EligibilityEvaluation, Creator, Program, ProgramActivation)
        .join(Creator, Creator.id == EligibilityEvaluation.creator_id)
        .join(Program, Program.id == EligibilityEvaluation.program_id)
        .outerjoin(
            ProgramActivation,
            and_(
                ProgramActivation.creator_id == EligibilityEvaluation.creator_id,
                ProgramActivation.program_id == EligibilityEvaluation.program_id,
            ),
        )
        .where(Creator.archived_at.is_(None))
    )
    if program_code:
        stmt = stmt.where(Program.code == program_code)
    if eligible is not None:
        stmt = stmt.where(EligibilityEvaluation.eligible.is_(eligible))
    if near_threshold is not None:
        stmt = stmt.where(EligibilityEvaluation.near_threshold.is_(near_threshold))
    if manager_id is not None:
        stmt = stmt.where(Creator.manager_id == manager_id)
    if creator_id is not None:
        stmt = stmt.where(Creator.id == creator_id)
    if not_activated:
        stmt = stmt.where(EligibilityEvaluation.eligible.is_(True)).where(
            (ProgramActivation.id.is_(None))
            | (ProgramActivation.status.in_([ActivationStatus.not_applied, ActivationStatus.rejected]))
        )
    return stmt.order_by(Creator.display_name, Creator.id, Program.code)


def creator_programmes(db_session: Session, config, creator_id: int) -> tuple[list, dict[int, list[dict]]]:
    """What a creator's page shows of their programmes: the stored evaluations (refreshed first
    if a write left the creator waiting) as (evaluation, creator, programme, activation) rows, and
    each programme's explanation document by programme id."""
    ensure_fresh(db_session, config, [creator_id])
    rows = db_session.execute(roster_eligibility_query(creator_id=creator_id)).all()
    documents = explain_many(db_session, [(ev.rule_version_id, ev.details) for ev, _c, _p, _a in rows])
    return rows, {program.id: document for (_e, _c, program, _a), document in zip(rows, documents)}
