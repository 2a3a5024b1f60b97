"""Flask extensions, created once here and bound to the app in `create_app`."""
from __future__ import annotations

from flask import current_app, g
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_smorest import Api
from flask_wtf import CSRFProtect
from sqlalchemy.orm import Session

from agency.db import Database

api = Api()
csrf = CSRFProtect()
login_manager = LoginManager()
# No default limit: limits are declared where they matter (login, token creation).
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def get_db() -> Database:
    return current_app.extensions["agency_db"]


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
