"""The API's Blueprint: flask-smorest's, parsing arguments with schemas built once."""
from __future__ import annotations

import enum
import threading
import uuid
from collections import OrderedDict
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cache

import flask
import flask_smorest
import marshmallow as ma
from flask_smorest.pagination import PaginationParameters
from webargs.flaskparser import FlaskParser


@cache
def _schema(schema_class: type[ma.Schema]) -> ma.Schema:
    return schema_class()


_IMMUTABLE = (str, int, float, bool, Decimal, date, datetime, time, timedelta, enum.Enum, uuid.UUID, type(None))


def _copy_of_parsed(value):
    """A fresh copy of parsed query arguments, or None when they hold something this cannot
    copy cheaply and safely (then they are not kept)."""
    if isinstance(value, PaginationParameters):
        return PaginationParameters(value.page, value.page_size)
    if isinstance(value, dict):
        copy = {}
        for key, item in value.items():
            if isinstance(item, list) and all(isinstance(element, _IMMUTABLE) for element in item):
                copy[key] = list(item)
            elif isinstance(item, _IMMUTABLE):
                copy[key] = item
            else:
                return None
        return copy
    return None


class SchemaReusingParser(FlaskParser):
    """Arguments parsed at less cost, with the same results and errors.

    webargs turns a schema class into a new instance on every request, deep-copying each of
    its fields (about a fifth of a cached read's time). A schema keeps no state between loads,
    so each class is instantiated once and reused.

    Query strings repeat (every client polling the roster sends the same few). For a query
    schema whose result depends on the query string alone (no default or check that reads the
    clock, the user or the database), parsing each distinct string once is enough: such a
    schema says so with `parse_once = True` (pagination schemas always do), the parser keeps the
    results of the most recent `QUERY_CACHE_SIZE` strings that parsed cleanly, and each request
    gets a fresh copy. Invalid strings are parsed every time, so their errors are raised as usual."""

    QUERY_CACHE_SIZE = 1024

    def __init__(self, *args, parse_every_query_once: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self._parse_every_query_once = parse_every_query_once
        self._parsed_queries: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def _get_schema(self, argmap, req):
        if isinstance(argmap, type) and issubclass(argmap, ma.Schema):
            return _schema(argmap)
        return super()._get_schema(argmap, req)

    def _parses_once(self, argmap, location, validate) -> bool:
        if (location or self.location) not in ("query", "querystring") or validate is not None:
            return False
        return (isinstance(argmap, type) and issubclass(argmap, ma.Schema)
                and (self._parse_every_query_once or getattr(argmap, "parse_once", False)))

    def parse(self, argmap, req=None, *, location=None, validate=None, **kwargs):
        if not self._parses_once(argmap, location, validate):
            return super().parse(argmap, req, location=location, validate=validate, **kwargs)
        req = req if req is not None else flask.request
        try:
            key = (argmap, location, tuple(sorted(kwargs.items())), req.query_string)
            hash(key)
        except TypeError:  # an argument such as error_headers={...}: parse as usual
            return super().parse(argmap, req, location=location, **kwargs)
        with self._lock:
            kept = self._parsed_queries.get(key)
            if kept is not None:
                self._parsed_queries.move_to_end(key)
        if kept is not None:
            return _copy_of_parsed(kept)
        parsed = super().parse(argmap, req, location=location, **kwargs)
        kept = _copy_of_parsed(parsed)
        if kept is not None:
            with self._lock:
                self._parsed_queries[key] = kept
                while len(self._parsed_queries) > self.QUERY_CACHE_SIZE:
                    self._parsed_queries.popitem(last=False)
        return parsed


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = SchemaReusingParser()
    # flask-smorest's pagination schemas read two bounded integers and nothing else.
    PAGINATION_ARGUMENTS_PARSER = SchemaReusingParser(parse_every_query_once=True)

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
