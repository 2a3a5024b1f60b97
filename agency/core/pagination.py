"""Pagination: the page sizes in one place, flask-smorest's own `paginate` with them, and a
helper that counts and slices a `select`."""

from __future__ import annotations

from functools import wraps

from flask_smorest import Blueprint
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from agency.core.extensions import get_session

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
# The UI's tables are shorter than the API's pages.
UI_PAGE_SIZE = 25


def paginated(blp: Blueprint, schema, *, page_size: int = DEFAULT_PAGE_SIZE, rows: bool = False):
    """A list endpoint: flask-smorest's `response` and `paginate` with the project's limits. The
    view returns a `select` (or anything else it has already paginated, such as a CSV export);
    a `select` is counted, sliced to the requested page and its objects returned (its rows with
    `rows=True`, for multi-entity selects)."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, pagination_parameters, **kwargs):
            result = view(*args, pagination_parameters=pagination_parameters, **kwargs)
            if isinstance(result, Select):
                return page_of(get_session(), result, pagination_parameters, rows=rows)
            return result

        return blp.response(200, schema)(blp.paginate(page_size=page_size, max_page_size=MAX_PAGE_SIZE)(wrapper))

    return decorator


def page_of(db_session: Session, stmt: Select, pagination_parameters, *, rows: bool = False) -> list:
    """Tell flask-smorest the total (it sets X-Pagination) and return one page of `stmt`."""
    total = db_session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    pagination_parameters.item_count = total
    page_size = pagination_parameters.page_size
    offset = (pagination_parameters.page - 1) * page_size
    # Past the end: an empty page (this also keeps a huge page number from overflowing SQL's bigint).
    page = stmt.limit(page_size).offset(min(offset, total))
    if rows:
        return list(db_session.execute(page).all())
    return list(db_session.scalars(page).unique())


def all_in_one_page(rows: list, pagination_parameters) -> list:
    """For an export (CSV) of every matching row: X-Pagination describes it as the one page it is."""
    pagination_parameters.page = 1
    pagination_parameters.page_size = max(len(rows), 1)
    pagination_parameters.item_count = len(rows)
    return rows
