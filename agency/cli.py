"""The `agency` command: Flask's group over the app, whose commands every domain contributes
(`agency/registry.py`), plus Flask's own `run` and `shell`. The process commands (worker,
scheduler, mailer) are added by `workers.cli`, the installed entry point."""

from __future__ import annotations

import click
from flask.cli import FlaskGroup

from agency import create_app


def _create_app():
    try:
        return create_app()
    except RuntimeError as exc:  # a setting is missing or unusable: say which, without a traceback
        raise click.ClickException(str(exc)) from exc


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False, load_dotenv=False)
def main() -> None:
    """Manage the agency backend."""
