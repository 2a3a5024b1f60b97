"""`agency import-revenue`, `agency recompute diversification` and `agency recompute all`."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from agency.core.cli import as_of_option, echo_result, import_day, import_options, recompute, run_import
from agency.core.extensions import get_db
from agency.money.diversification import MixSettings, recompute_diversification
from agency.money.revenue import import_revenue
from agency.programmes.cli import recompute_eligibility_command


@click.command("import-revenue")
@import_options
@with_appcontext
def import_revenue_command(file: str, partial: bool, fmt: str | None) -> None:
    """Import revenue records from a CSV or JSON-lines FILE (idempotent by source + external_ref)."""
    run_import(
        file,
        fmt,
        lambda session, handle, fmt, progress: import_revenue(
            db_session=session,
            stream=handle,
            fmt=fmt,
            mode="partial" if partial else "all",
            today=import_day(),
            progress=progress,
        ),
        "revenue.import",
        after_commit=_recompute_diversification,
    )


def _recompute_diversification(session, creator_ids):
    return recompute_diversification(
        db_session=session, settings=MixSettings.from_config(current_app.config["AGENCY"]), creator_ids=creator_ids
    )


@recompute.command("diversification")
@click.option("--creator", "creator_ids", type=int, multiple=True, help="Only these creators (repeatable).")
@as_of_option("Analyse the window ending this day.")
@with_appcontext
def recompute_diversification_command(creator_ids: tuple[int, ...], as_of) -> None:
    """Analyse every creator's revenue mix and store changed snapshots."""
    config = current_app.config["AGENCY"]
    with get_db().session_scope() as session:
        # Each chunk of creators is committed as it is done (see agency recompute eligibility).
        result = recompute_diversification(
            db_session=session,
            settings=MixSettings.from_config(config),
            as_of=as_of,
            creator_ids=list(creator_ids) or None,
            chunk_size=config.recompute_chunk_size,
            commit=session.commit,
        )
    echo_result(result.as_dict())


@recompute.command("all")
@click.pass_context
def recompute_all_command(ctx) -> None:
    """Eligibility, then diversification, for everyone."""
    ctx.invoke(recompute_eligibility_command, creator_ids=(), as_of=None)
    ctx.invoke(recompute_diversification_command, creator_ids=(), as_of=None)


commands = [import_revenue_command]
