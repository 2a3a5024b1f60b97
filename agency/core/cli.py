"""Commands every deployment needs: migrations (`agency db`), the logical backup (`agency
export` / `agency import-export`), the `agency recompute` group the domains add to, and the
helpers their import commands share."""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path

import click
from alembic import command as alembic_command
from alembic.config import Config as AlembicConfig
from flask import current_app
from flask.cli import with_appcontext
from marshmallow import ValidationError

from agency.core.audit.service import Actor, record_audit
from agency.core.backup import export_database, import_database
from agency.core.config import PROJECT_ROOT
from agency.core.database import utcnow
from agency.core.errors import ServiceError
from agency.core.extensions import get_db
from agency.core.fields import check_as_of
from agency.core.imports import format_from_content_type


def alembic_config(database_url: str) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    cfg.attributes["database_url"] = database_url
    return cfg


@click.group("db")
def db() -> None:
    """Schema migrations (Alembic)."""


@db.command()
@click.argument("revision", default="head")
@with_appcontext
def upgrade(revision: str) -> None:
    """Migrate the database up to REVISION (default: head)."""
    alembic_command.upgrade(alembic_config(current_app.config["AGENCY"].database_url), revision)


@db.command()
@click.argument("revision", default="-1")
@with_appcontext
def downgrade(revision: str) -> None:
    """Migrate down to REVISION (default: one step; 'base' removes everything)."""
    alembic_command.downgrade(alembic_config(current_app.config["AGENCY"].database_url), revision)


@db.command()
@with_appcontext
def current() -> None:
    """Show the database's current revision."""
    alembic_command.current(alembic_config(current_app.config["AGENCY"].database_url), verbose=False)


@click.group("recompute")
def recompute() -> None:
    """Recompute derived data (eligibility, diversification)."""


@click.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def export_command(directory: Path) -> None:
    """Write a full logical export (JSON lines per table) into DIRECTORY."""
    # One repeatable-read snapshot on PostgreSQL, so the tables agree with each other.
    engine = get_db().engine
    options = {"isolation_level": "REPEATABLE READ"} if engine.dialect.name == "postgresql" else {}
    with engine.connect().execution_options(**options) as conn, conn.begin():
        counts = export_database(connection=conn, directory=directory)
    for table, count in counts.items():
        click.echo(f"  {table}: {count}")
    click.echo(f"Exported {sum(counts.values())} rows to {directory}.")
    click.echo(
        "The export holds password hashes and personal data: its files are readable by their owner only "
        "(0600); keep it encrypted and delete it once restored.",
        err=True,
    )


@click.command("import-export")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@with_appcontext
def import_export_command(directory: Path) -> None:
    """Restore an export from DIRECTORY into this empty, migrated database."""
    try:
        with get_db().engine.begin() as conn:
            counts = import_database(connection=conn, directory=directory)
    except ServiceError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"Restored {sum(counts.values())} rows into {len(counts)} tables.")


# --- what the import commands share -------------------------------------------------------------


def run_import(file: str, fmt: str | None, importer, action: str, after_commit=None) -> None:
    """Stream FILE through `importer(session, handle, fmt, progress)` with a progress bar, audit
    it, print the report; exit 1 when nothing was imported."""
    try:
        fmt = fmt or format_from_content_type(None, file)
        with (
            open(file, "rb") as handle,
            click.progressbar(length=os.path.getsize(file), label="Importing", file=sys.stderr) as bar,
            get_db().session_scope() as session,
        ):

            def progress(_rows):
                bar.update(handle.tell() - bar.pos)

            report = importer(session, handle, fmt, progress)
            if report.committed:
                record_audit(
                    db_session=session,
                    actor=Actor.system("cli"),
                    action=action,
                    entity_type=action.split(".")[0],
                    entity_id=None,
                    after={k: v for k, v in report.as_dict().items() if k != "errors"},
                )
                if after_commit and report.affected_creator_ids:
                    after_commit(session, report.affected_creator_ids)
    except ServiceError as exc:
        raise click.ClickException(f"{exc.message} {exc.errors or ''}".strip()) from exc
    print_report(report)
    if not report.committed:
        raise SystemExit(1)


def import_day():
    """The latest day an import accepts: "today" somewhere ahead of UTC."""
    return utcnow().date() + timedelta(days=1)


def _as_of_day(_ctx, _param, value):
    if value is None:
        return None
    try:
        check_as_of(value.date())
    except ValidationError as exc:
        raise click.BadParameter(" ".join(exc.messages)) from None
    return value.date()


def as_of_option(help_text: str):
    """`--as-of YYYY-MM-DD`, refused like the API's `as_of` when the day has not begun yet."""
    return click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]), callback=_as_of_day, help=help_text)


def import_options(command):
    command = click.option(
        "--format", "fmt", type=click.Choice(["csv", "jsonl"]), help="Default: from the file extension."
    )(command)
    command = click.option("--partial", is_flag=True, help="Import the good rows and report the bad ones.")(command)
    return click.argument("file", type=click.Path(exists=True, dir_okay=False))(command)


def print_report(report) -> None:
    click.echo(
        f"rows={report.rows} inserted={report.inserted} updated={report.updated} "
        f"unchanged={report.unchanged} rejected={report.rejected} committed={report.committed}"
    )
    for error in report.errors[:50]:
        click.echo(f"  line {error.line}: {error.field}: {error.reason}", err=True)
    if report.error_count > 50:
        click.echo(f"  ... and {report.error_count - 50} more", err=True)


def echo_result(result: dict) -> None:
    click.echo(" ".join(f"{key}={value}" for key, value in result.items()))


commands = [db, recompute, export_command, import_export_command]
