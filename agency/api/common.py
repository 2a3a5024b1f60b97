"""Pieces every API blueprint uses: the current user, pagination, shared fields."""
from __future__ import annotations

from functools import wraps

import pycountry
from flask import abort, g, request
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import Select, func, select

from agency.extensions import csrf, get_session
from agency.models import Role, User
from agency.services.audit import Actor
from agency.services.auth import resolve_token

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50


def current_user() -> User:
    return g.current_user


def current_actor() -> Actor:
    return Actor(user=g.current_user, request_id=g.get("request_id"))


def authenticate_request() -> None:
    """`before_request` of every protected API blueprint: a valid bearer token, or the UI's
    session (so the UI's own htmx calls can use the API)."""
    from flask_login import current_user as session_user

    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        # The token is kept for the request: revoking "the current token" needs it.
        g.current_token = resolve_token(db_session=get_session(), token=header[7:].strip())
        g.current_user = g.current_token.user if g.current_token else None
        if g.current_user is None:
            abort(401, description="Invalid or expired token.")
        return
    if session_user and session_user.is_authenticated:
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            csrf.protect()  # a cookie-authenticated write must prove it comes from our UI
        g.current_user = session_user._get_current_object()
        return
    abort(401, description="Authentication required: send 'Authorization: Bearer <token>'.")


def roles_required(*roles: Role):
    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if current_user().role not in roles:
                abort(403, description=f"This action needs the role {' or '.join(r.value for r in roles)}.")
            return view(*args, **kwargs)
        return wrapper
    return decorator


def _page(stmt: Select, pagination_parameters) -> Select:
    """Tell flask-smorest the total (it sets X-Pagination) and return the page's statement."""
    total = get_session().scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    pagination_parameters.item_count = total
    page_size = pagination_parameters.page_size
    offset = (pagination_parameters.page - 1) * page_size
    # Past the end: an empty page (this also keeps a huge page number from overflowing SQL's bigint).
    return stmt.limit(page_size).offset(min(offset, total))


def paginate(stmt: Select, pagination_parameters) -> list:
    """One page of ORM objects from a single-entity `select`."""
    return list(get_session().scalars(_page(stmt, pagination_parameters)).unique())


def paginate_rows(stmt: Select, pagination_parameters) -> list:
    """One page of rows from a multi-entity `select`."""
    return list(get_session().execute(_page(stmt, pagination_parameters)).all())


def all_in_one_page(rows: list, pagination_parameters) -> list:
    """For an export (CSV) of every matching row: X-Pagination describes it as the one page it is."""
    pagination_parameters.page = 1
    pagination_parameters.page_size = max(len(rows), 1)
    pagination_parameters.item_count = len(rows)
    return rows


def _validate_country(value: str) -> None:
    if pycountry.countries.get(alpha_2=value.upper()) is None:
        raise ValidationError(f"'{value}' is not an ISO 3166-1 alpha-2 country code.")


def _validate_language(value: str) -> None:
    if pycountry.languages.get(alpha_2=value.lower()) is None:
        raise ValidationError(f"'{value}' is not an ISO 639-1 language code.")


class CountryCode(fields.String):
    """An ISO 3166-1 alpha-2 code, upper-cased on load."""

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {}).setdefault("example", "FR")
        super().__init__(validate=[validate.Length(equal=2), _validate_country], **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).upper()


class LanguageCode(fields.String):
    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {}).setdefault("example", "fr")
        super().__init__(validate=[validate.Length(equal=2), _validate_language], **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).lower()


def decimal_field(low, high, *, places: int = 2, low_inclusive: bool = True, **kwargs) -> fields.Decimal:
    """A decimal carried as a string ("1250.00"), bounded. The bounds are checked by a plain
    function and documented as numbers (apispec would otherwise render them as strings)."""
    from decimal import Decimal

    lo, hi = Decimal(str(low)), Decimal(str(high))

    def within(value):
        if value > hi or value < lo or (value == lo and not low_inclusive):
            raise ValidationError(f"Must be {'at least' if low_inclusive else 'more than'} {low} and at most {high}.")
        if not value.is_finite() or value != value.quantize(Decimal(1).scaleb(-places)):
            raise ValidationError(f"At most {places} decimals.")

    kwargs.setdefault("as_string", True)
    if kwargs["as_string"]:
        metadata = kwargs.pop("metadata", {}) | {
            "type": "string", "format": "decimal", "pattern": r"^-?\d+(\.\d+)?$",
            "description": f"A decimal string, from {low} to {high}, at most {places} decimals."}
    else:
        metadata = kwargs.pop("metadata", {}) | {"minimum": low, "maximum": high}
        if not low_inclusive:
            metadata["exclusiveMinimum"] = True
    return fields.Decimal(validate=within, metadata=metadata, **kwargs)


class DecimalString(fields.Decimal):
    """A decimal the API returns as a string ("1250.00"), documented as such."""

    def __init__(self, places: int = 2, **kwargs):
        kwargs.setdefault("metadata", {}).update({"type": "string", "format": "decimal"})
        super().__init__(places=places, as_string=True, **kwargs)


class ImportReportSchema(Schema):
    mode = fields.String()
    rows = fields.Integer()
    inserted = fields.Integer()
    updated = fields.Integer()
    unchanged = fields.Integer()
    rejected = fields.Integer()
    committed = fields.Boolean()
    error_count = fields.Integer()
    errors = fields.List(fields.Dict(), metadata={"description": "{line, field, reason} per bad row"})
    errors_truncated = fields.Boolean()
    affected_creator_ids = fields.List(fields.Integer())
    eligibility = fields.Dict(allow_none=True)
    diversification = fields.Dict(allow_none=True)


def csv_list(value: str | None) -> list[str] | None:
    if not value:
        return None
    return [part.strip() for part in value.split(",") if part.strip()]


def import_rejected(report):
    """422 in the shared error shape, with the per-row errors and the whole import report."""
    from flask import jsonify

    body = {"code": 422, "status": "Unprocessable Entity",
            "message": f"{report.error_count} row(s) are invalid; nothing was imported.",
            "errors": {"rows": [e.as_dict() for e in report.errors]}, "report": report.as_dict()}
    return jsonify(body), 422


# Work bigger than this runs as a background job when Redis is configured (202 + Location).
SYNC_CREATOR_LIMIT = 200


def run_or_enqueue(job_name: str, arguments: dict, queue: str, run_now):
    """Small work, or no Redis: run now, answer 200 with the result. Otherwise record a job and
    answer 202 with its location (GET /api/v1/jobs/{job_id})."""
    from flask import current_app, jsonify

    from workers.queues import enqueue

    config = current_app.config["AGENCY"]
    ids = arguments.get("creator_ids")
    if not config.redis_url or (ids and len(ids) <= SYNC_CREATOR_LIMIT):
        return jsonify(run_now()), 200
    record = enqueue(get_session(), config, job_name, arguments, queue=queue, requested_by_id=current_user().id)
    location = f"/api/v1/jobs/{record.id}"
    return jsonify({"job_id": record.id, "status": record.status.value, "location": location}), 202, {"Location": location}


def after_import(job_name: str, creator_ids: list[int], run_now) -> dict | None:
    """Refresh what an import changed, for exactly the creators it touched: in-process without
    Redis, else one background job (identical pending requests are merged)."""
    from flask import current_app

    from workers.queues import enqueue

    if not creator_ids:
        return None
    config = current_app.config["AGENCY"]
    if not config.redis_url:
        return run_now()
    key = f"{job_name}:" + ",".join(map(str, creator_ids[:50])) + (f"+{len(creator_ids)}" if len(creator_ids) > 50 else "")
    record = enqueue(get_session(), config, job_name, {"creator_ids": creator_ids}, queue="recompute",
                     dedup_key=key[:200], requested_by_id=current_user().id)
    return {"job_id": record.id, "location": f"/api/v1/jobs/{record.id}"}
