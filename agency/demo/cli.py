"""`agency demo load`: the deterministic demo agency."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from agency.core.extensions import get_db
from agency.demo.loader import DEMO_PASSWORD, load_demo


@click.group("demo")
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
    with get_db().session_scope() as session:
        summary = load_demo(db_session=session, creators=creators, days=days, seed=seed, reset=reset)
    for key, value in summary.items():
        click.echo(f"  {key}: {value}")
    click.echo(
        f"Log in as admin@agency.example / {DEMO_PASSWORD} (also manager1@..., analyst@...; "
        "creator@agency.example opens the creator portal)."
    )


commands = [demo]
