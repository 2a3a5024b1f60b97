"""Programme pages: an activation switch on a creator's page, and the rule editor (admins)."""

from __future__ import annotations

import json
from datetime import date

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from agency.core.database import utcnow
from agency.core.errors import ServiceError
from agency.core.extensions import get_session
from agency.core.ui import actor, admins_only, ui_blueprint
from agency.programmes.eligibility import preview_rule
from agency.programmes.features import EngineSettings
from agency.programmes.models import Program, ProgramActivation
from agency.programmes.rules import validate_criteria
from agency.programmes.service import (
    add_rule_version,
    close_program,
    end_rule_version,
    get_program,
    get_rule_version,
    set_activation,
)
from agency.roster import service as roster

bp = ui_blueprint("programmes_ui", __name__)
bp.before_request(admins_only)


@bp.post("/creators/<int:creator_id>/activations/<int:program_id>")
def activation_update(creator_id: int, program_id: int):
    session = get_session()
    creator = roster.get_creator(db_session=session, creator_id=creator_id)
    program = session.get(Program, program_id) or abort(404)
    try:
        set_activation(
            db_session=session,
            actor=actor(),
            creator=creator,
            program=program,
            data={"status": request.form.get("status", "not_applied")},
            today=utcnow().date(),
        )
    except ServiceError as exc:
        abort(exc.status, description=exc.message)
    activation = session.scalar(
        select(ProgramActivation).where(
            ProgramActivation.creator_id == creator.id, ProgramActivation.program_id == program.id
        )
    )
    if request.headers.get("HX-Request"):
        return render_template(
            "programmes/partials/activation.html",
            creator=creator,
            program=program,
            activation=activation,
            can_edit=True,
        )
    flash(f"{program.name}: {activation.status.value.replace('_', ' ')}.", "success")
    return redirect(url_for("web.creator_detail", creator_id=creator.id))


@bp.route("/admin/programs", methods=["GET", "POST"])
def admin_programs():
    session = get_session()
    draft, errors, preview = None, {}, None
    if request.method == "POST":
        program = session.get(Program, request.form.get("program_id", type=int)) or abort(404)
        draft = {
            "program_id": program.id,
            "effective_from": request.form.get("effective_from", ""),
            "source_note": request.form.get("source_note", ""),
            "criteria": request.form.get("criteria", ""),
        }
        try:
            criteria = validate_criteria(json.loads(draft["criteria"] or "null"))
            effective_from = date.fromisoformat(draft["effective_from"])
            if request.form.get("action") == "preview":
                preview = _preview(session, program, criteria, effective_from)
            else:
                rule = add_rule_version(
                    db_session=session,
                    actor=actor(),
                    program=program,
                    data={"effective_from": effective_from, "source_note": draft["source_note"], "criteria": criteria},
                )
                flash(f"{program.name}: rule version {rule.version} saved; the next recompute applies it.", "success")
                return redirect(url_for("programmes_ui.admin_programs"))
        except json.JSONDecodeError as exc:
            errors = {"criteria": [f"not valid JSON: {exc.msg} (line {exc.lineno})"]}
        except ValueError:
            errors = {"effective_from": ["a date as YYYY-MM-DD is needed"]}
        except ServiceError as exc:
            errors = exc.errors
    return _programs_page(draft=draft, errors=errors, preview=preview)


def _programs_page(*, draft=None, errors=None, preview=None, problems=None, open_program=None):
    """The programme editor; `problems` holds one form's errors, keyed by that form's id."""
    session = get_session()
    programs = session.scalars(select(Program).order_by(Program.platform, Program.name)).all()
    failed = bool(errors) or bool(problems)
    return render_template(
        "programmes/admin_programs.html",
        programs=programs,
        draft=draft,
        errors=errors or {},
        preview=preview,
        problems=problems or {},
        open_program=open_program,
        today=utcnow().date(),
        json=json,
    ), 422 if failed else 200


def _day(value: str | None) -> date | None:
    """A form's date field: empty means none; anything else must be YYYY-MM-DD (ValueError)."""
    return date.fromisoformat(value) if value else None


@bp.post("/admin/programs/<int:program_id>/rules/<int:rule_id>/end")
def admin_rule_end(program_id: int, rule_id: int):
    session = get_session()
    rule = get_rule_version(
        db_session=session, program=get_program(db_session=session, program_id=program_id), rule_id=rule_id
    )
    form_id = f"rule-{rule.id}"
    try:
        effective_to = _day(request.form.get("effective_to"))
        end_rule_version(db_session=session, actor=actor(), rule=rule, effective_to=effective_to)
    except ValueError:
        return _programs_page(problems={form_id: ["A date as YYYY-MM-DD is needed."]}, open_program=program_id)
    except ServiceError as exc:
        return _programs_page(problems={form_id: [exc.message]}, open_program=program_id)
    ending = f"ends on {effective_to:%d %b %Y} (in force until the day before)" if effective_to else "has no end date"
    flash(f"{rule.program.name}: version {rule.version} {ending}.", "success")
    return redirect(url_for("programmes_ui.admin_programs", _anchor=f"program-{program_id}"))


@bp.post("/admin/programs/<int:program_id>/close")
def admin_program_close(program_id: int):
    session = get_session()
    program = get_program(db_session=session, program_id=program_id)
    form_id = f"close-{program.id}"
    try:
        day = _day(request.form.get("effective_to"))
        if day is None:
            raise ValueError
        ended = close_program(db_session=session, actor=actor(), program=program, day=day)
    except ValueError:
        return _programs_page(problems={form_id: ["A date as YYYY-MM-DD is needed."]}, open_program=program_id)
    except ServiceError as exc:
        return _programs_page(problems={form_id: [exc.message]}, open_program=program_id)
    flash(f"{program.name} is closed from {day:%d %b %Y}: {len(ended)} version(s) ended that day.", "success")
    return redirect(url_for("programmes_ui.admin_programs", _anchor=f"program-{program_id}"))


def _preview(session, program, criteria, as_of) -> list[dict]:
    """Which creators the draft would change compared with their stored evaluation."""
    return preview_rule(
        db_session=session,
        program=program,
        criteria=criteria,
        as_of=max(as_of, utcnow().date()),
        settings=EngineSettings.from_config(current_app.config["AGENCY"]),
    )
