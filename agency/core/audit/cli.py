"""`agency audit`: read the audit log from the command line."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click
from flask.cli import with_appcontext

from agency.core.audit.service import audit_filter, entry_as_dict
from agency.core.extensions import get_db


@click.command("audit")
@click.option("--entity", help="Entity type, optionally with an id: 'creator' or 'creator:12'.")
@click.option("--actor", help="Actor email or label.")
@click.option("--since", type=click.DateTime(), help="Only entries at or after this UTC time.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--json", "as_json", is_flag=True, help="JSON lines instead of a table.")
@with_appcontext
def audit_command(entity: str | None, actor: str | None, since: datetime | None, limit: int, as_json: bool) -> None:
    """Read the audit log, newest first."""
    entity_type, _, entity_id = (entity or "").partition(":")
    if entity_id and not entity_id.isdigit():
        raise click.BadParameter("the id after ':' must be a number", param_hint="--entity")
    with get_db().session_scope() as session:
        entries = session.scalars(
            audit_filter(
                entity_type=entity_type or None,
                entity_id=int(entity_id) if entity_id else None,
                actor=actor,
                since=since.replace(tzinfo=UTC) if since else None,
            ).limit(limit)
        ).all()
        rows = [entry_as_dict(e) for e in entries]
    if as_json:
        for row in rows:
            click.echo(json.dumps(row))
        return
    click.echo(f"{'when (UTC)':<20} {'actor':<28} {'action':<22} entity")
    for row in rows:
        click.echo(
            f"{row['occurred_at'][:19]:<20} {row['actor_label'][:28]:<28} {row['action'][:22]:<22} "
            f"{row['entity_type']}:{row['entity_id']}"
        )


commands = [audit_command]
