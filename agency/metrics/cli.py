"""`agency import-metrics`: daily snapshots from a file."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from agency.core.cli import import_day, import_options, run_import
from agency.core.jobs.service import run_job_now
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
        # Eligibility reads these metrics: the programmes domain's job refreshes it (run by name).
        after_commit=lambda session, ids: run_job_now(session, config, "recompute_eligibility", {"creator_ids": ids}),
    )


commands = [import_metrics_command]
