"""`agency fx import`: dated exchange rates from a file."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from agency.core.cli import import_options, run_import
from agency.currencies.service import import_fx_rates


@click.group("fx")
def fx() -> None:
    """Exchange rates."""


@fx.command("import")
@import_options
@with_appcontext
def fx_import_command(file: str, partial: bool, fmt: str | None) -> None:
    """Import dated exchange rates from a CSV FILE (day,base,quote,rate[,source])."""
    run_import(
        file,
        fmt,
        lambda session, handle, fmt, _progress: import_fx_rates(
            db_session=session, stream=handle, fmt=fmt, mode="partial" if partial else "all"
        ),
        "fx.import",
    )


commands = [fx]
