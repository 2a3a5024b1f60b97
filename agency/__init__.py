"""The agency backend: `create_app()` builds the Flask app (API, UI, probes, commands)."""

from __future__ import annotations

from flask import Flask

from agency import registry
from agency.core.config import Config
from agency.core.database import Database
from agency.core.errorhandlers import register_error_handlers
from agency.core.extensions import api, register_extensions
from agency.core.health import bp as health_bp
from agency.core.logging import configure_logging
from agency.core.observability import init_observability
from agency.core.requests import register_request_hooks
from agency.core.users.service import use_password_profile
from agency.money.invoices import use_money_settings


def create_app(config: Config | None = None) -> Flask:
    config = config or Config.from_env()
    app = Flask(__name__, template_folder="web/templates", static_folder="web/static")
    app.config.update(config.flask_settings())
    app.config["AGENCY"] = config
    configure_logging(config.log_level, config.log_json)
    use_password_profile(config.password_hash_profile)
    use_money_settings(config)
    app.extensions["agency_db"] = Database(config.database_url)

    register_extensions(app)
    # Hooks after a request run in the reverse order: the access line and the latency metrics
    # (observability) come after the request's session was committed, with the final status.
    init_observability(app)
    register_request_hooks(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_commands(app)
    return app


def register_blueprints(app: Flask) -> None:
    app.register_blueprint(health_bp)
    for blueprint in registry.API_BLUEPRINTS:
        api.register_blueprint(blueprint)
    for blueprint in registry.UI_BLUEPRINTS:
        app.register_blueprint(blueprint)


def register_commands(app: Flask) -> None:
    """Every domain's commands, on the app's CLI group (the `agency` command lists the app's)."""
    for command in registry.CLI_COMMANDS:
        app.cli.add_command(command)
