"""One JSON error shape for the API, HTML pages for the UI.

`{"code": 422, "status": "Unprocessable Entity", "message": "...", "errors": {...}}`
"""

from __future__ import annotations

from http import HTTPStatus

import structlog
from flask import Flask, jsonify, make_response, render_template, request
from marshmallow import ValidationError
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, InternalServerError

from agency.core.errors import ServiceError

log = structlog.get_logger(__name__)


def _wants_json() -> bool:
    return (
        request.path.startswith("/api/")
        or request.path in ("/healthz", "/readyz")
        or (request.accept_mimetypes.best == "application/json")
    )


def error_response(code: int, message: str, errors: dict | None = None, headers: dict | None = None):
    if _wants_json():
        body = {"code": code, "status": HTTPStatus(code).phrase, "message": message}
        if errors:
            body["errors"] = errors
        response = jsonify(body)
    else:
        response = make_response(
            render_template(
                "error.html", code=code, status=HTTPStatus(code).phrase, message=message, errors=errors or {}
            )
        )
    response.status_code = code
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def handle_http_exception(exc: HTTPException):
    data = getattr(exc, "data", None) or {}
    # webargs/flask-smorest put validation messages in exc.data["messages"].
    errors = data.get("messages") or data.get("errors")
    message = exc.description or ""
    if exc.code == 422 and errors:
        message = "The request did not pass validation; see `errors`."
    elif exc.code == 400 and errors and "Invalid JSON body." in str(errors):
        message = "The request body is not valid JSON."
    headers = {}
    if exc.code == 429:
        headers["Retry-After"] = str(getattr(exc, "retry_after", None) or 60)
    if getattr(exc, "valid_methods", None):
        headers["Allow"] = ", ".join(exc.valid_methods)
    response = error_response(exc.code or 500, message, errors, headers)
    for key, value in (data.get("headers") or {}).items():
        response.headers[key] = value
    return response


def handle_service_error(exc: ServiceError):
    return error_response(exc.status, exc.message, exc.errors)


def handle_validation_error(exc: ValidationError):
    return error_response(422, "The request did not pass validation; see `errors`.", {"json": exc.messages})


def handle_stale(exc: StaleDataError):
    return error_response(409, "The record was changed by someone else at the same time; reload and retry.")


def handle_data_error(exc: DataError):
    # The database refused a value (out of range, too long): the input was bad, not the server.
    return error_response(422, "A value is out of range or malformed for storage.")


def handle_integrity(exc: IntegrityError):
    log.warning("integrity_error", error=str(exc.orig).splitlines()[0] if exc.orig else str(exc))
    return error_response(409, "The change conflicts with existing data (a duplicate or a missing reference).")


# Two transactions that each wait on the other (deadlock), or one the database could not order
# with another (serialization failure), or a lock not available: a race another attempt wins.
_RACE_SQLSTATES = frozenset({"40001", "40P01", "55P03"})


def handle_operational(exc: OperationalError):
    if getattr(exc.orig, "sqlstate", None) in _RACE_SQLSTATES:
        log.warning("concurrent_write_refused", error=str(exc.orig).splitlines()[0])
        return error_response(409, "The record was changed by someone else at the same time; reload and retry.")
    return handle_unexpected(exc)


def handle_overflow(exc: OverflowError):
    # A number too large for the database driver (SQLite's 64-bit integers): bad input.
    return error_response(422, "A number is out of range.", {"json": ["a number is out of range"]})


def handle_too_deep(exc: RecursionError):
    # A request body nested thousands of levels deep exhausts the parser's recursion: bad input.
    log.warning("request_nested_too_deeply", path=request.path, method=request.method)
    return error_response(422, "The request is nested too deeply.", {"json": ["nested too deeply"]})


def handle_unexpected(exc: Exception):
    if isinstance(exc, HTTPException):
        return handle_http_exception(exc)
    log.exception("unhandled_error", path=request.path, method=request.method)
    return error_response(500, InternalServerError.description)


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(ServiceError, handle_service_error)
    app.register_error_handler(ValidationError, handle_validation_error)
    app.register_error_handler(StaleDataError, handle_stale)
    app.register_error_handler(IntegrityError, handle_integrity)
    app.register_error_handler(DataError, handle_data_error)
    app.register_error_handler(OperationalError, handle_operational)
    app.register_error_handler(RecursionError, handle_too_deep)
    app.register_error_handler(OverflowError, handle_overflow)
    app.register_error_handler(Exception, handle_unexpected)
