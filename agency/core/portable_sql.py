"""SQL constructs that read the same in Python and compile to PostgreSQL or SQLite.

The eligibility engine builds its explanations and forecasts in SQL; these few constructs hide
the two dialects' spellings of JSON building, date arithmetic and rounding up. They use
SQLAlchemy's public compiler extension (`sqlalchemy.ext.compiler.compiles`).
"""

from __future__ import annotations

from sqlalchemy import Date, Float, Integer, Numeric, Text, cast, null
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import JSON


class json_object(FunctionElement):  # noqa: N801 - reads like the SQL function it compiles to
    """json_object(key, value, ...): a JSON object from alternating keys and values."""

    type = JSON()
    inherit_cache = True


@compiles(json_object)
def _json_object_default(element, compiler, **kw):
    return f"json_object({compiler.process(element.clauses, **kw)})"


@compiles(json_object, "postgresql")
def _json_object_pg(element, compiler, **kw):
    return f"json_build_object({compiler.process(element.clauses, **kw)})"


class as_document(FunctionElement):  # noqa: N801
    """A JSON value as the stored document type: JSONB on PostgreSQL; on SQLite the JSON text as
    it is (a CAST there would give it numeric affinity and turn it into 0)."""

    type = JSON()
    inherit_cache = True


@compiles(as_document)
def _as_document_default(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)


@compiles(as_document, "postgresql")
def _as_document_pg(element, compiler, **kw):
    return f"CAST({compiler.process(element.clauses, **kw)} AS JSONB)"


class json_array(FunctionElement):  # noqa: N801
    """json_array(value, ...): a JSON array (PostgreSQL `json`, built as text by json_build_array:
    stored in a `json` column as it is, nothing parsed nor converted to binary JSONB)."""

    type = JSON()
    inherit_cache = True


@compiles(json_array)
def _json_array_default(element, compiler, **kw):
    return f"json_array({compiler.process(element.clauses, **kw)})"


@compiles(json_array, "postgresql")
def _json_array_pg(element, compiler, **kw):
    return f"json_build_array({compiler.process(element.clauses, **kw)})"


class json_value(FunctionElement):  # noqa: N801
    """A JSON document read back from a column, to embed in another (SQLite would quote it)."""

    type = JSON()
    inherit_cache = True


@compiles(json_value)
def _json_value_default(element, compiler, **kw):
    return f"json({compiler.process(element.clauses, **kw)})"


@compiles(json_value, "postgresql")
def _json_value_pg(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)


class day_number(FunctionElement):  # noqa: N801
    """A date as a whole number of days (differences of two are day counts)."""

    type = Integer()
    inherit_cache = True


@compiles(day_number)
def _day_number_default(element, compiler, **kw):
    return f"CAST(julianday({compiler.process(element.clauses, **kw)}) AS INTEGER)"


@compiles(day_number, "postgresql")
def _day_number_pg(element, compiler, **kw):
    return f"(({compiler.process(element.clauses, **kw)}) - DATE '2000-01-01')"


class plus_days(FunctionElement):  # noqa: N801
    """plus_days(date, n): the date n days later."""

    type = Date()
    inherit_cache = True


@compiles(plus_days)
def _plus_days_default(element, compiler, **kw):
    day, days = list(element.clauses)
    return f"date({compiler.process(day, **kw)}, '+' || ({compiler.process(days, **kw)}) || ' days')"


@compiles(plus_days, "postgresql")
def _plus_days_pg(element, compiler, **kw):
    day, days = list(element.clauses)
    return f"(CAST({compiler.process(day, **kw)} AS DATE) + CAST({compiler.process(days, **kw)} AS INTEGER))"


class ceiling(FunctionElement):  # noqa: N801
    """The smallest whole number not below a value (SQLite builds may lack ceil())."""

    type = Integer()
    inherit_cache = True


@compiles(ceiling)
def _ceiling_default(element, compiler, **kw):
    value = compiler.process(element.clauses, **kw)
    return f"(CAST({value} AS INTEGER) + (({value}) > CAST({value} AS INTEGER)))"


@compiles(ceiling, "postgresql")
def _ceiling_pg(element, compiler, **kw):
    return f"CAST(ceil({compiler.process(element.clauses, **kw)}) AS INTEGER)"


class greatest(FunctionElement):  # noqa: N801
    """The largest of its arguments (NULL if any is NULL on SQLite; used on non-null values)."""

    inherit_cache = True


@compiles(greatest)
def _greatest_default(element, compiler, **kw):
    return f"max({compiler.process(element.clauses, **kw)})"


@compiles(greatest, "postgresql")
def _greatest_pg(element, compiler, **kw):
    return f"greatest({compiler.process(element.clauses, **kw)})"


class least(FunctionElement):  # noqa: N801
    inherit_cache = True


@compiles(least)
def _least_default(element, compiler, **kw):
    return f"min({compiler.process(element.clauses, **kw)})"


@compiles(least, "postgresql")
def _least_pg(element, compiler, **kw):
    return f"least({compiler.process(element.clauses, **kw)})"


class json_bool(FunctionElement):  # noqa: N801
    """A (non-null) SQL condition as a JSON true/false: SQLite stores booleans as 0 and 1."""

    type = JSON()
    inherit_cache = True


@compiles(json_bool)
def _json_bool_default(element, compiler, **kw):
    return f"CASE WHEN ({compiler.process(element.clauses, **kw)}) THEN json('true') ELSE json('false') END"


@compiles(json_bool, "postgresql")
def _json_bool_pg(element, compiler, **kw):
    return f"({compiler.process(element.clauses, **kw)})"


class birthday(FunctionElement):  # noqa: N801
    """birthday(date_of_birth, years): the day a person turns `years`. Someone born on 29
    February turns a year older on 1 March outside leap years (as SQLite's date() says, and as
    the age criterion's cut-off does)."""

    type = Date()
    inherit_cache = True


@compiles(birthday)
def _birthday_default(element, compiler, **kw):
    dob, years = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"date({dob}, '+' || ({years}) || ' years')"


@compiles(birthday, "postgresql")
def _birthday_pg(element, compiler, **kw):
    dob, years = (compiler.process(clause, **kw) for clause in element.clauses)
    shifted = f"({dob} + make_interval(years => CAST({years} AS INTEGER)))"
    leap_day = f"(EXTRACT(MONTH FROM {dob}) = 2 AND EXTRACT(DAY FROM {dob}) = 29 AND EXTRACT(DAY FROM {shifted}) = 28)"
    return f"(CAST({shifted} AS DATE) + CASE WHEN {leap_day} THEN 1 ELSE 0 END)"


def as_decimal(value) -> ColumnElement:
    """A number as an exact decimal, so that dividing integers does not truncate."""
    return cast(value, Numeric(30, 10))


def as_text(value) -> ColumnElement:
    return cast(value, Text)


def json_null() -> ColumnElement:
    return null()


class _Regression(FunctionElement):
    """An aggregate: the least-squares line through (x, y) pairs where both are not NULL."""

    inherit_cache = True
    _pg_name = ""

    def _expanded(self, compiler, **kw):
        y, x = (compiler.process(clause, **kw) for clause in self.clauses)
        both = f"(({y}) IS NOT NULL AND ({x}) IS NOT NULL)"
        n = f"CAST(count(CASE WHEN {both} THEN 1 END) AS REAL)"
        sx = f"sum(CASE WHEN {both} THEN CAST({x} AS REAL) END)"
        sy = f"sum(CASE WHEN {both} THEN CAST({y} AS REAL) END)"
        sxy = f"sum(CASE WHEN {both} THEN CAST({x} AS REAL) * ({y}) END)"
        sxx = f"sum(CASE WHEN {both} THEN CAST({x} AS REAL) * ({x}) END)"
        slope = f"(({n} * {sxy} - {sx} * {sy}) / nullif({n} * {sxx} - {sx} * {sx}, 0))"
        return n, sx, sy, slope


class regr_slope(_Regression):  # noqa: N801
    type = Float()
    inherit_cache = True


class regr_intercept(_Regression):  # noqa: N801
    """The fitted y at x = 0."""

    type = Float()
    inherit_cache = True


@compiles(regr_slope)
def _regr_slope_default(element, compiler, **kw):
    return element._expanded(compiler, **kw)[3]


@compiles(regr_intercept)
def _regr_intercept_default(element, compiler, **kw):
    n, sx, sy, slope = element._expanded(compiler, **kw)
    return f"(({sy} - {slope} * {sx}) / nullif({n}, 0))"


@compiles(regr_slope, "postgresql")
def _regr_slope_pg(element, compiler, **kw):
    y, x = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"regr_slope(CAST({y} AS DOUBLE PRECISION), CAST({x} AS DOUBLE PRECISION))"


@compiles(regr_intercept, "postgresql")
def _regr_intercept_pg(element, compiler, **kw):
    y, x = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"regr_intercept(CAST({y} AS DOUBLE PRECISION), CAST({x} AS DOUBLE PRECISION))"


class year_of(FunctionElement):  # noqa: N801
    """The calendar year of a date, as an integer."""

    type = Integer()
    inherit_cache = True


@compiles(year_of)
def _year_of_default(element, compiler, **kw):
    return f"CAST(strftime('%Y', {compiler.process(element.clauses, **kw)}) AS INTEGER)"


@compiles(year_of, "postgresql")
def _year_of_pg(element, compiler, **kw):
    return f"CAST(date_part('year', {compiler.process(element.clauses, **kw)}) AS INTEGER)"


class month_day_of(FunctionElement):  # noqa: N801
    """month * 100 + day of a date: compares birthdays within a year."""

    type = Integer()
    inherit_cache = True


@compiles(month_day_of)
def _month_day_of_default(element, compiler, **kw):
    return f"CAST(strftime('%m%d', {compiler.process(element.clauses, **kw)}) AS INTEGER)"


@compiles(month_day_of, "postgresql")
def _month_day_of_pg(element, compiler, **kw):
    day = compiler.process(element.clauses, **kw)
    return f"CAST(date_part('month', {day}) * 100 + date_part('day', {day}) AS INTEGER)"


def as_float(value) -> ColumnElement:
    """A number as a float, for ratios that rank or estimate (never for money or thresholds)."""
    return cast(value, Float)


class _Digest(FunctionElement):
    """A digest of typed values (all clauses but the last) that a JSON document (the last clause)
    is built from: PostgreSQL hashes the values as one record, without building the document;
    SQLite uses the document's text."""

    type = Text()
    inherit_cache = True


@compiles(_Digest)
def _digest_default(element, compiler, **kw):
    *_values, document = list(element.clauses)
    return f"CAST({compiler.process(document, **kw)} AS TEXT)"


@compiles(_Digest, "postgresql")
def _digest_pg(element, compiler, **kw):
    *values, _document = list(element.clauses)
    inner = ", ".join(compiler.process(value, **kw) for value in values)
    return f"CAST(hash_record_extended(ROW({inner}), 0) AS TEXT)"


def digest(values: list, document) -> ColumnElement:
    return _Digest(*values, document)


class json_object_agg(FunctionElement):  # noqa: N801
    """An aggregate: a JSON object from (key, value) pairs of the rows."""

    type = JSON()
    inherit_cache = True


@compiles(json_object_agg)
def _json_object_agg_default(element, compiler, **kw):
    return f"json_group_object({compiler.process(element.clauses, **kw)})"


@compiles(json_object_agg, "postgresql")
def _json_object_agg_pg(element, compiler, **kw):
    return f"json_object_agg({compiler.process(element.clauses, **kw)})"


class decimal_text(FunctionElement):  # noqa: N801
    """decimal_text(number, places): the number rounded to `places` decimals, as text with
    exactly that many ("1250.50"): how JSON carries money and shares."""

    type = Text()
    inherit_cache = True


@compiles(decimal_text)
def _decimal_text_default(element, compiler, **kw):
    value, places = list(element.clauses)
    number = compiler.process(value, **kw)
    text = f"printf('%.' || {compiler.process(places, **kw)} || 'f', {number})"
    return f"CASE WHEN {number} IS NULL THEN NULL ELSE {text} END"


@compiles(decimal_text, "postgresql")
def _decimal_text_pg(element, compiler, **kw):
    value, places = list(element.clauses)
    return f"CAST(round(CAST({compiler.process(value, **kw)} AS NUMERIC), {compiler.process(places, **kw)}) AS TEXT)"


class json_list(FunctionElement):  # noqa: N801
    """json_list(value, key): the JSON array of `value` over an aggregate's rows, in `key`
    order, `[]` when there are none. PostgreSQL orders inside the aggregate (json_agg(... ORDER
    BY key)); SQLite (json_group_array, which takes no ORDER BY before 3.44) keeps the order of
    its input, so select from a subquery sorted by `key`."""

    type = JSON()
    inherit_cache = True


@compiles(json_list)
def _json_list_default(element, compiler, **kw):
    value, _key = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"json_group_array({value})"


@compiles(json_list, "postgresql")
def _json_list_pg(element, compiler, **kw):
    value, key = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"coalesce(json_agg({value} ORDER BY {key}), '[]'::json)"


class day_text(FunctionElement):  # noqa: N801
    """day_text(date): the day as messages write it, "05 Mar 2026" (Python's "%d %b %Y", with
    English month names whatever the server's locale); NULL for no date."""

    type = Text()
    inherit_cache = True


@compiles(day_text)
def _day_text_default(element, compiler, **kw):
    day = compiler.process(element.clauses, **kw)
    month = f"substr('JanFebMarAprMayJunJulAugSepOctNovDec', CAST(strftime('%m', {day}) AS INTEGER) * 3 - 2, 3)"
    return f"(strftime('%d', {day}) || ' ' || {month} || ' ' || strftime('%Y', {day}))"


@compiles(day_text, "postgresql")
def _day_text_pg(element, compiler, **kw):
    # 'Mon' without the TM prefix: English abbreviations, not the server's locale.
    return f"to_char({compiler.process(element.clauses, **kw)}, 'DD Mon YYYY')"


class joined_labels(FunctionElement):  # noqa: N801
    """joined_labels(list, separator): the "label" of each object of a JSON array, in the array's
    order, joined by `separator`; NULL for an empty array or none. PostgreSQL orders inside the
    aggregate; SQLite's group_concat keeps the order of json_each, the array's (as `json_list`)."""

    type = Text()
    inherit_cache = True


@compiles(joined_labels)
def _joined_labels_default(element, compiler, **kw):
    document, separator = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"(SELECT group_concat(json_extract(value, '$.label'), {separator}) FROM json_each({document}))"


@compiles(joined_labels, "postgresql")
def _joined_labels_pg(element, compiler, **kw):
    document, separator = (compiler.process(clause, **kw) for clause in element.clauses)
    return (
        f"(SELECT string_agg(item ->> 'label', {separator} ORDER BY position) "
        f"FROM json_array_elements(CAST({document} AS json)) WITH ORDINALITY AS items(item, position))"
    )
