"""The `agency` command: database, users, demo data, server (plus Flask's own `run`, `shell`)."""
from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from agency.config import PROJECT_ROOT


def _create_app():
    from agency import create_app

    try:
        return create_app()
    except RuntimeError as exc:  # a setting is missing or unusable: say which, without a traceback
        raise click.ClickException(str(exc)) from exc


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False, load_dotenv=False)
def main() -> None:
    """Manage the agency backend."""


def register_commands(app) -> None:
    """Commands are attached to `main`; the app hook exists so `flask --app agency` sees them too."""
    for command in main.commands.values():
        if command.name not in app.cli.commands and command.name not in ("run", "shell", "routes"):
            app.cli.add_command(command)


# --- database ---------------------------------------------------------------------------------

def alembic_config(database_url: str):
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    cfg.attributes["database_url"] = database_url
    return cfg


@main.group()
def db() -> None:
    """Schema migrations (Alembic)."""


@db.command()
@click.argument("revision", default="head")
@with_appcontext
def upgrade(revision: str) -> None:
    """Migrate the database up to REVISION (default: head)."""
    from alembic import command

    command.upgrade(alembic_config(current_app.config["AGENCY"].database_url), revision)


@db.command()
@click.argument("revision", default="-1")
@with_appcontext
def downgrade(revision: str) -> None:
    """Migrate down to REVISION (default: one step; 'base' removes everything)."""
    from alembic import command

    command.downgrade(alembic_config(current_app.config["AGENCY"].database_url), revision)


@db.command()
@with_appcontext
def current() -> None:
    """Show the database's current revision."""
    from alembic import command

    command.current(alembic_config(current_app.config["AGENCY"].database_url), verbose=False)


@main.group()
def recompute() -> None:
    """Recompute derived data (eligibility, diversification, alerts)."""


@recompute.command("eligibility")
@click.option("--creator", "creator_ids", type=int, multiple=True, help="Only these creators (repeatable).")
@click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]), help="Evaluate as of this day (rules and metrics).")
@with_appcontext
def recompute_eligibility_command(creator_ids: tuple[int, ...], as_of) -> None:
    """Re-evaluate every programme for every creator (or the ones given); writes only changes."""
    from decimal import Decimal

    from agency.extensions import get_db
    from agency.services.eligibility import recompute_eligibility

    margin = Decimal(current_app.config["AGENCY"].near_threshold_margin)
    with get_db().session_scope() as session:
        result = recompute_eligibility(db_session=session, creator_ids=list(creator_ids) or None,
                                       as_of=as_of.date() if as_of else None, margin=margin)
    click.echo(" ".join(f"{key}={value}" for key, value in result.as_dict().items()))


def _run_import(file: str, fmt: str | None, importer, action: str, after_commit=None) -> None:
    """Stream FILE through `importer(session, handle, fmt, progress)` with a progress bar, audit
    it, print the report; exit 1 when nothing was imported."""
    import os

    from agency.extensions import get_db
    from agency.services import ServiceError
    from agency.services.audit import Actor, record_audit
    from agency.services.imports import format_from_content_type

    try:
        fmt = fmt or format_from_content_type(None, file)
        with open(file, "rb") as handle, click.progressbar(length=os.path.getsize(file), label="Importing",
                                                           file=sys.stderr) as bar, \
                get_db().session_scope() as session:
            def progress(_rows):
                bar.update(handle.tell() - bar.pos)

            report = importer(session, handle, fmt, progress)
            if report.committed:
                record_audit(db_session=session, actor=Actor.system("cli"), action=action, entity_type=action.split(".")[0],
                             entity_id=None, after={k: v for k, v in report.as_dict().items() if k != "errors"})
                if after_commit and report.affected_creator_ids:
                    after_commit(session, report.affected_creator_ids)
    except ServiceError as exc:
        raise click.ClickException(f"{exc.message} {exc.errors or ''}".strip()) from exc
    _print_report(report)
    if not report.committed:
        raise SystemExit(1)


def _import_options(command):
    command = click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]),
                           help="Default: from the file extension.")(command)
    command = click.option("--partial", is_flag=True, help="Import the good rows and report the bad ones.")(command)
    return click.argument("file", type=click.Path(exists=True, dir_okay=False))(command)


def _import_day():
    from datetime import timedelta

    from agency.db import utcnow

    return utcnow().date() + timedelta(days=1)  # "today" somewhere ahead of UTC


@main.command("import-metrics")
@_import_options
@with_appcontext
def import_metrics_command(file: str, partial: bool, fmt: str | None) -> None:
    """Import daily metric snapshots from a CSV or JSON-lines FILE (all-or-nothing by default)."""
    from agency.services.eligibility import recompute_eligibility
    from agency.services.metrics import import_metrics

    _run_import(file, fmt, lambda session, handle, fmt, progress: import_metrics(
        db_session=session, stream=handle, fmt=fmt, mode="partial" if partial else "all", today=_import_day(),
        progress=progress), "metrics.import",
        after_commit=lambda session, ids: recompute_eligibility(db_session=session, creator_ids=ids))


@main.command("import-revenue")
@_import_options
@with_appcontext
def import_revenue_command(file: str, partial: bool, fmt: str | None) -> None:
    """Import revenue records from a CSV or JSON-lines FILE (idempotent by source + external_ref)."""
    from agency.services.revenue import import_revenue

    _run_import(file, fmt, lambda session, handle, fmt, progress: import_revenue(
        db_session=session, stream=handle, fmt=fmt, mode="partial" if partial else "all", today=_import_day(),
        progress=progress), "revenue.import", after_commit=_recompute_diversification)


def _recompute_diversification(session, creator_ids):
    from agency.services.diversification import RiskThresholds, recompute_diversification

    config = current_app.config["AGENCY"]
    return recompute_diversification(db_session=session, base_currency=config.base_currency,
                                     window_days=config.diversification_window_days,
                                     thresholds=RiskThresholds.from_config(config), creator_ids=creator_ids)


@main.group()
def fx() -> None:
    """Exchange rates."""


@fx.command("import")
@_import_options
@with_appcontext
def fx_import_command(file: str, partial: bool, fmt: str | None) -> None:
    """Import dated exchange rates from a CSV FILE (day,base,quote,rate[,source])."""
    from agency.services.fx import import_fx_rates

    _run_import(file, fmt, lambda session, handle, fmt, _progress: import_fx_rates(
        db_session=session, stream=handle, fmt=fmt, mode="partial" if partial else "all"), "fx.import")


def _print_report(report) -> None:
    click.echo(f"rows={report.rows} inserted={report.inserted} updated={report.updated} "
               f"unchanged={report.unchanged} rejected={report.rejected} committed={report.committed}")
    for error in report.errors[:50]:
        click.echo(f"  line {error.line}: {error.field}: {error.reason}", err=True)
    if report.error_count > 50:
        click.echo(f"  ... and {report.error_count - 50} more", err=True)


@recompute.command("diversification")
@click.option("--creator", "creator_ids", type=int, multiple=True, help="Only these creators (repeatable).")
@click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]), help="Analyse the window ending this day.")
@with_appcontext
def recompute_diversification_command(creator_ids: tuple[int, ...], as_of) -> None:
    """Analyse every creator's revenue mix and store changed snapshots."""
    from agency.extensions import get_db
    from agency.services.diversification import RiskThresholds, recompute_diversification

    config = current_app.config["AGENCY"]
    with get_db().session_scope() as session:
        result = recompute_diversification(
            db_session=session, base_currency=config.base_currency, as_of=as_of.date() if as_of else None,
            window_days=config.diversification_window_days, thresholds=RiskThresholds.from_config(config),
            creator_ids=list(creator_ids) or None)
    click.echo(" ".join(f"{key}={value}" for key, value in result.as_dict().items()))


@recompute.command("all")
@click.pass_context
def recompute_all_command(ctx) -> None:
    """Eligibility, then diversification, for everyone."""
    ctx.invoke(recompute_eligibility_command, creator_ids=(), as_of=None)
    ctx.invoke(recompute_diversification_command, creator_ids=(), as_of=None)


@main.group()
def programs() -> None:
    """The monetisation programme catalogue."""


@programs.command("seed")
@with_appcontext
def seed_programs_command() -> None:
    """Add the shipped programmes and rule versions that are missing (never overwrites)."""
    from agency.extensions import get_db
    from agency.services.catalogue import seed_catalogue

    with get_db().session_scope() as session:
        summary = seed_catalogue(db_session=session)
    click.echo(" ".join(f"{key}={value}" for key, value in summary.items()))


# --- users ------------------------------------------------------------------------------------

@main.group()
def users() -> None:
    """Staff accounts."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--role", type=click.Choice(["admin", "manager", "analyst"]), required=True)
@click.option("--name", "full_name", default="")
@click.option("--timezone", default="UTC", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def create_user_command(email: str, role: str, full_name: str, timezone: str, password_stdin: bool) -> None:
    """Create a staff account (password from a prompt or --password-stdin)."""
    from agency.extensions import get_db
    from agency.services import ServiceError
    from agency.services.audit import Actor, record_audit, snapshot
    from agency.services.auth import create_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with get_db().session_scope() as session:
            user = create_user(db_session=session, email=email, password=password, role=role,
                               full_name=full_name, timezone=timezone)
            record_audit(db_session=session, actor=Actor.system("cli"), action="user.create",
                         entity_type="user", entity_id=user.id, after=snapshot(user))
            click.echo(f"Created {user.role.value} {user.email} (id {user.id}).")
    except ServiceError as exc:
        raise click.ClickException(f"{exc.message} {exc.errors or ''}".strip()) from exc


# --- demo data --------------------------------------------------------------------------------

@main.group()
def demo() -> None:
    """The demo agency."""


@demo.command("load")
@click.option("--creators", default=48, show_default=True, type=click.IntRange(1, 1_000_000))
@click.option("--days", default=120, show_default=True, type=click.IntRange(1, 3650))
@click.option("--seed", default=7, show_default=True)
@click.option("--reset", is_flag=True, help="Delete existing demo data first.")
@with_appcontext
def demo_load(creators: int, days: int, seed: int, reset: bool) -> None:
    """Load a deterministic demo agency (staff, creators, accounts, daily metrics)."""
    from agency.extensions import get_db
    from agency.services.demo import DEMO_PASSWORD, load_demo

    with get_db().session_scope() as session:
        summary = load_demo(db_session=session, creators=creators, days=days, seed=seed, reset=reset)
    for key, value in summary.items():
        click.echo(f"  {key}: {value}")
    click.echo(f"Log in as admin@agency.example / {DEMO_PASSWORD} (also manager1@..., analyst@...).")


from agency import cli_jobs, cli_ops  # noqa: E402,F401  (register their commands on `main`)
