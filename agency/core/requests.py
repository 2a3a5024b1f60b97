"""What every request goes through: the request id, refusals at the edge (NUL characters,
unreadable content types), the request session's commit or rollback, and security headers."""

from __future__ import annotations

import uuid

import structlog
from flask import Flask, abort, g, request
from sqlalchemy.exc import SQLAlchemyError

from agency.core.extensions import close_request_session, finish_request_session

# Body types the API reads; each endpoint narrows further (imports take CSV and JSON lines).
API_BODY_TYPES = frozenset(
    {"application/json", "text/csv", "application/x-ndjson", "application/jsonl", "multipart/form-data"}
)


_COMMON_SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"),
)
_SECURITY_HEADERS = _COMMON_SECURITY_HEADERS + (
    (
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
    ),
)
# The API docs page runs Swagger UI's inline scripts: it may not be framed, nothing more.
_DOCS_PAGE_HEADERS = _COMMON_SECURITY_HEADERS + (("Content-Security-Policy", "frame-ancestors 'none'"),)
_HTTPS_HEADERS = (("Strict-Transport-Security", "max-age=31536000; includeSubDomains"),)


def register_request_hooks(app: Flask) -> None:
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
            or (request.mimetype == "application/json" and b"\\u0000" in request.get_data(cache=True))
        ):
            abort(422, description="Text must not contain NUL (\\u0000) characters.")

    @app.before_request
    def check_api_content_type():
        # A body the API cannot read is refused up front (415), rather than read as "no data".
        if (
            request.path.startswith("/api/")
            and request.method in ("POST", "PUT", "PATCH")
            and (request.content_length or request.headers.get("Transfer-Encoding"))
            and request.mimetype not in API_BODY_TYPES
        ):
            abort(
                415,
                description=f"Content-Type {request.mimetype or '(none)'} is not accepted; "
                "send application/json (imports also take text/csv or application/x-ndjson).",
            )

    @app.after_request
    def finish(response):
        try:
            response = finish_request_session(response)
        except SQLAlchemyError as exc:
            # The commit itself was refused (a constraint checked at commit, a lost race): the
            # answer is what the same error raised by the view would have been, e.g. a 409.
            response = app.make_response(app.handle_user_exception(exc))
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
