"""`agency users create`: staff accounts from the command line."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from agency.core.audit.service import Actor, record_audit, snapshot
from agency.core.errors import ServiceError
from agency.core.extensions import get_db
from agency.core.users.service import create_user


@click.group("users")
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
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with get_db().session_scope() as session:
            user = create_user(
                db_session=session, email=email, password=password, role=role, full_name=full_name, timezone=timezone
            )
            record_audit(
                db_session=session,
                actor=Actor.system("cli"),
                action="user.create",
                entity_type="user",
                entity_id=user.id,
                after=snapshot(user),
            )
            click.echo(f"Created {user.role.value} {user.email} (id {user.id}).")
    except ServiceError as exc:
        raise click.ClickException(f"{exc.message} {exc.errors or ''}".strip()) from exc


commands = [users]
