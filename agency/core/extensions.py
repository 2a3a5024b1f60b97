"""Flask extensions, created once here and bound to the app in `create_app`."""

from __future__ import annotations

from datetime import date

from flask import Flask, current_app, g
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_smorest import Api
from flask_wtf import CSRFProtect
from sqlalchemy.orm import Session
from werkzeug.routing import IntegerConverter

from agency.core.database import Database


class DatabaseIdConverter(IntegerConverter):
    """`<int:...>` in routes: ids beyond the database's integer range are a 404 at routing,
    never a query that overflows (and the OpenAPI document states the range)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


api = Api()
csrf = CSRFProtect()
login_manager = LoginManager()
# No default limit: limits are declared where they matter (login, token creation).
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def get_db() -> Database:
    return current_app.extensions["agency_db"]


def agency_today() -> date:
    """The agency's day (AGENCY_TIMEZONE): what its books date a write made without a date."""
    return current_app.config["AGENCY"].today()


def get_session() -> Session:
    """The request's session, opened on first use and closed by the request wrapper."""
    if "db_session" not in g:
        g.db_session = get_db().session_factory()
    return g.db_session


def finish_request_session(response):
    """Commit the request's work when the answer is a success, roll it back otherwise."""
    session = g.pop("db_session", None)
    if session is None:
        return response
    try:
        if response.status_code < 400:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()
    return response


def close_request_session(_exc=None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.rollback()
        session.close()


def register_extensions(app: Flask) -> None:
    # Ids in paths fit the database's integer columns; anything larger is simply not found.
    app.url_map.converters["int"] = DatabaseIdConverter
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
    # The user loader (a server-side session per signed-in device) is in agency/core/auth.py.
