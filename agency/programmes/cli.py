"""`agency recompute eligibility` and `agency programs seed`."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from agency.core.cli import as_of_option, echo_result, recompute
from agency.core.extensions import get_db
from agency.core.jobs.cli import run_as_chunk_jobs
from agency.programmes.catalogue import seed_catalogue
from agency.programmes.eligibility import recompute_eligibility
from agency.programmes.features import EngineSettings


@recompute.command("eligibility")
@click.option("--creator", "creator_ids", type=int, multiple=True, help="Only these creators (repeatable).")
@as_of_option("Evaluate as of this day (rules and metrics).")
@click.option(
    "--wait/--no-wait", default=True, help="With Redis: follow the chunk jobs until the last one is done (default)."
)
@with_appcontext
def recompute_eligibility_command(creator_ids: tuple[int, ...], as_of, wait: bool = True) -> None:
    """Re-evaluate every programme for every creator (or the ones given); writes only changes.

    With REDIS_URL set the roster is split into chunk jobs on the `recompute` queue, shared by
    every worker, and the command shows their progress; without it the chunks run here."""
    config = current_app.config["AGENCY"]
    if config.redis_url:
        arguments = {"creator_ids": list(creator_ids) or None, "as_of": as_of.isoformat() if as_of else None}
        echo_result(run_as_chunk_jobs("recompute_eligibility", arguments, wait=wait))
        return
    settings = EngineSettings.from_config(config)
    with get_db().session_scope() as session:
        # Each chunk of creators is committed as it is done: a long recompute holds no lock or
        # transaction beyond one chunk, and an interruption keeps the chunks already done.
        result = recompute_eligibility(
            db_session=session,
            creator_ids=list(creator_ids) or None,
            as_of=as_of,
            settings=settings,
            commit=session.commit,
        )
    echo_result(result.as_dict())


@click.group("programs")
def programs() -> None:
    """The monetisation programme catalogue."""


@programs.command("seed")
@with_appcontext
def seed_programs_command() -> None:
    """Bring the catalogue up to date: add what is missing, end what has ended (never rewrites)."""
    with get_db().session_scope() as session:
        summary = seed_catalogue(db_session=session)
    echo_result(summary)


commands = [programs]
