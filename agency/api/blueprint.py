"""The API's Blueprint: flask-smorest's, parsing arguments with schemas built once."""
from __future__ import annotations

from functools import cache

import flask_smorest
import marshmallow as ma
from webargs.flaskparser import FlaskParser


@cache
def _schema(schema_class: type[ma.Schema]) -> ma.Schema:
    return schema_class()


class SchemaReusingParser(FlaskParser):
    """webargs turns a schema class into a new instance on every request, deep-copying each of
    its fields (about a fifth of a cached read's time). A schema keeps no state between loads,
    so each class is instantiated once and reused."""

    def _get_schema(self, argmap, req):
        if isinstance(argmap, type) and issubclass(argmap, ma.Schema):
            return _schema(argmap)
        return super()._get_schema(argmap, req)


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = SchemaReusingParser()
    PAGINATION_ARGUMENTS_PARSER = SchemaReusingParser()

    @staticmethod
    def _make_pagination_metadata(page, page_size, item_count):
        """The X-Pagination header's content, as flask-smorest documents it, built directly
        (flask-smorest builds a schema per request to dump this dict of integers)."""
        if item_count == 0:
            return {"total": 0, "total_pages": 0}
        last_page = (item_count - 1) // page_size + 1
        metadata = {"total": item_count, "total_pages": last_page, "first_page": 1, "last_page": last_page}
        if page <= last_page:
            metadata["page"] = page
            if page > 1:
                metadata["previous_page"] = page - 1
            if page < last_page:
                metadata["next_page"] = page + 1
        return metadata
