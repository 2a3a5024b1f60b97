"""`agency import-metrics`: daily snapshots from a file."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from agency.core.cli import import_day, import_options, run_import
from agency.core.database import utcnow
from agency.core.extensions import get_db
from agency.core.jobs.service import run_job_now
from agency.metrics.partitions import detach_before as detach_partitions
from agency.metrics.partitions import ensure_partitions, is_partitioned, list_partitions
from agency.metrics.service import import_metrics


@click.command("import-metrics")
@import_options
@with_appcontext
def import_metrics_command(file: str, partial: bool, fmt: str | None) -> None:
    """Import daily metric snapshots from a CSV or JSON-lines FILE (all-or-nothing by default)."""
    config = current_app.config["AGENCY"]
    run_import(
        file,
        fmt,
        lambda session, handle, fmt, progress: import_metrics(
            db_session=session,
            stream=handle,
            fmt=fmt,
            mode="partial" if partial else "all",
            today=import_day(),
            progress=progress,
        ),
        "metrics.import",
        # The import left its creators waiting for a refresh (see programmes/freshness.py): the
        # programmes domain's job refreshes their eligibility and alerts now (run by name).
        after_commit=lambda session, ids: run_job_now(session, config, "refresh_requested_evaluations"),
    )


@click.group("metrics")
def metrics() -> None:
    """Daily metric snapshots."""


@metrics.command("partitions")
@click.option("--ensure", is_flag=True, help="Create the coming months' partitions and empty the default one.")
@click.option("--detach-before", type=click.DateTime(formats=["%Y-%m"]), help="Detach months before YYYY-MM.")
@with_appcontext
def partitions_command(ensure: bool, detach_before) -> None:
    """List the monthly partitions of the snapshots (PostgreSQL); create or detach some."""
    with get_db().session_scope() as session:
        connection = session.connection()
        if not is_partitioned(connection):
            click.echo("The snapshots are one plain table here (SQLite): nothing to do.")
            return
        if ensure:
            result = ensure_partitions(connection, utcnow().date())
            click.echo(f"created {len(result['created'])} partition(s), moved {result['moved_rows']} row(s)")
        if detach_before:
            for name in detach_partitions(connection, detach_before.date()):
                click.echo(f"detached {name} (the table stays; archive or drop it)")
        for partition in list_partitions(connection):
            span = f"{partition.first_day} .. {partition.end_day}" if partition.first_day else "default"
            click.echo(f"{partition.name:<32} {span:<26} ~{partition.rows} rows")


commands = [import_metrics_command, metrics]
