"""The agency backend: `create_app()` builds the Flask app (API, UI, probes)."""
from __future__ import annotations

import uuid

import structlog
from flask import Flask, g, request
from werkzeug.routing import IntegerConverter

from agency.config import Config
from agency.db import Database

API_BLUEPRINT_MODULES = (
    "agency.api.auth",
    "agency.api.users",
    "agency.api.creators",
    "agency.api.metrics",
    "agency.api.programs",
    "agency.api.eligibility",
    "agency.api.brands",
    "agency.api.deals",
    "agency.api.revenue",
    "agency.api.diversification",
    "agency.api.alerts",
    "agency.api.jobs",
    "agency.api.audit",
)

# Body types the API reads; each endpoint narrows further (imports take CSV and JSON lines).
API_BODY_TYPES = frozenset({"application/json", "text/csv", "application/x-ndjson", "application/jsonl",
                            "multipart/form-data"})


class DatabaseIdConverter(IntegerConverter):
    """`<int:...>` in routes: ids beyond the database's integer range are a 404 at routing,
    never a query that overflows (and the OpenAPI document states the range)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


_COMMON_SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"),
)
_SECURITY_HEADERS = _COMMON_SECURITY_HEADERS + ((
    "Content-Security-Policy",
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"),)
# The API docs page runs Swagger UI's inline scripts: it may not be framed, nothing more.
_DOCS_PAGE_HEADERS = _COMMON_SECURITY_HEADERS + (("Content-Security-Policy", "frame-ancestors 'none'"),)
_HTTPS_HEADERS = (("Strict-Transport-Security", "max-age=31536000; includeSubDomains"),)


def create_app(config: Config | None = None) -> Flask:
    config = config or Config.from_env()
    app = Flask(__name__, template_folder="web/templates", static_folder="web/static")
    # Ids in paths fit the database's integer columns; anything larger is simply not found.
    app.url_map.converters["int"] = DatabaseIdConverter
    app.config.update(config.flask_settings())
    app.config["AGENCY"] = config

    from agency.logging import configure_logging

    configure_logging(config.log_level, config.log_json)
    app.extensions["agency_db"] = Database(config.database_url)

    register_extensions(app)
    register_request_hooks(app)
    from agency.observability import init_observability

    init_observability(app)
    register_blueprints(app)
    from agency.errors import register_error_handlers

    register_error_handlers(app)
    from agency.cli import register_commands

    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    from agency.extensions import api, csrf, limiter, login_manager

    # CSRF is checked explicitly: on every UI form, and on API calls authenticated by the UI's
    # session cookie (bearer-token calls cannot be forged by another site).
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "web.login"
    limiter.init_app(app)
    api.init_app(app)
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    api.spec.options["security"] = [{"bearerAuth": []}]
    api.register_converter(DatabaseIdConverter, lambda c: {"type": "integer", "minimum": c.min, "maximum": c.max})

    @login_manager.user_loader
    def load_user(user_id: str):
        from agency.extensions import get_session
        from agency.models import User

        user = get_session().get(User, int(user_id)) if user_id.isdigit() else None
        return user if user is not None and user.is_active else None


def register_request_hooks(app: Flask) -> None:
    from agency.extensions import close_request_session, finish_request_session

    @app.before_request
    def bind_request_id():
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if 0 < len(incoming) <= 64 and incoming.isascii() else uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=g.request_id)

    @app.before_request
    def refuse_nul_characters():
        # PostgreSQL text cannot hold NUL; refuse it at the edge instead of failing in the query.
        if request.path.startswith("/api/") and (
                any("\x00" in value for values in request.args.listvalues() for value in values)
                or (request.mimetype == "application/json" and b"\\u0000" in request.get_data(cache=True))):
            from flask import abort

            abort(422, description="Text must not contain NUL (\\u0000) characters.")

    @app.before_request
    def check_api_content_type():
        # A body the API cannot read is refused up front (415), rather than read as "no data".
        if (request.path.startswith("/api/") and request.method in ("POST", "PUT", "PATCH")
                and (request.content_length or request.headers.get("Transfer-Encoding"))
                and request.mimetype not in API_BODY_TYPES):
            from flask import abort

            abort(415, description=f"Content-Type {request.mimetype or '(none)'} is not accepted; "
                                   "send application/json (imports also take text/csv or application/x-ndjson).")

    @app.after_request
    def finish(response):
        response = finish_request_session(response)
        headers = response.headers
        headers["X-Request-ID"] = g.get("request_id", "")
        # Security headers a view did not set itself (one pass over the headers, not one per name).
        present = {name.lower() for name, _ in headers.items()}
        policy = _DOCS_PAGE_HEADERS if request.path.startswith("/api/docs") else _SECURITY_HEADERS
        if app.config["AGENCY"].session_cookie_secure:
            # Only behind HTTPS (the same switch as secure cookies): a plain-HTTP box must not pin HTTPS.
            policy = policy + _HTTPS_HEADERS
        headers.extend([(name, value) for name, value in policy if name.lower() not in present])
        return response

    app.teardown_request(close_request_session)


def register_blueprints(app: Flask) -> None:
    import importlib

    from agency.extensions import api
    from agency.health import bp as health_bp

    app.register_blueprint(health_bp)
    for module_name in API_BLUEPRINT_MODULES:
        api.register_blueprint(importlib.import_module(module_name).blp)
    from agency.web import bp as web_bp

    app.register_blueprint(web_bp)
