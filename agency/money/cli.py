"""`agency import-revenue`, `agency recompute diversification` and `agency recompute all`."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from agency.core.cli import as_of_option, echo_result, import_day, import_options, recompute, run_import
from agency.core.extensions import get_db
from agency.core.jobs.cli import follow_chunk_jobs, run_as_chunk_jobs, start_chunk_jobs
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
@click.option(
    "--wait/--no-wait", default=True, help="With Redis: follow the chunk jobs until the last one is done (default)."
)
@with_appcontext
def recompute_diversification_command(creator_ids: tuple[int, ...], as_of, wait: bool = True) -> None:
    """Analyse every creator's revenue mix and store changed snapshots (with REDIS_URL set, as
    chunk jobs on the `recompute` queue, like `agency recompute eligibility`)."""
    config = current_app.config["AGENCY"]
    if config.redis_url:
        arguments = {"creator_ids": list(creator_ids) or None, "as_of": as_of.isoformat() if as_of else None}
        echo_result(run_as_chunk_jobs("recompute_diversification", arguments, wait=wait))
        return
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
@click.option(
    "--wait/--no-wait", default=True, help="With Redis: follow the chunk jobs until the last one is done (default)."
)
@click.pass_context
@with_appcontext
def recompute_all_command(ctx, wait: bool) -> None:
    """Eligibility and diversification for everyone. With REDIS_URL set, both are split into
    chunk jobs queued at once, so the workers share them (neither waits for the other); without
    it, eligibility then diversification, chunk by chunk, here."""
    if current_app.config["AGENCY"].redis_url:
        arguments = {"creator_ids": None, "as_of": None}
        started = [(name, *start_chunk_jobs(name, arguments)) for name in RECOMPUTE_ALL]
        for name, job_id, queue in started:
            if wait:
                echo_result(follow_chunk_jobs(name, job_id, queue))
            else:
                click.echo(f"  {name}: chunks queued on {queue!r}; follow with `agency jobs status`")
        return
    ctx.invoke(recompute_eligibility_command, creator_ids=(), as_of=None, wait=wait)
    ctx.invoke(recompute_diversification_command, creator_ids=(), as_of=None, wait=wait)


RECOMPUTE_ALL = ("recompute_eligibility", "recompute_diversification")


commands = [import_revenue_command]
