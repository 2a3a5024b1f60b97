"""Marshmallow fields and schemas that several domains share."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pycountry
from marshmallow import Schema, ValidationError, fields, validate


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
    lo, hi = Decimal(str(low)), Decimal(str(high))

    def within(value):
        if value > hi or value < lo or (value == lo and not low_inclusive):
            raise ValidationError(f"Must be {'at least' if low_inclusive else 'more than'} {low} and at most {high}.")
        if not value.is_finite() or value != value.quantize(Decimal(1).scaleb(-places)):
            raise ValidationError(f"At most {places} decimals.")

    kwargs.setdefault("as_string", True)
    if kwargs["as_string"]:
        given = kwargs.get("metadata", {}).get("description")
        metadata = kwargs.pop("metadata", {}) | {
            "type": "string",
            "format": "decimal",
            "pattern": r"^-?\d+(\.\d+)?$",
            "description": (f"{given} " if given else "")
            + f"A decimal string, from {low} to {high}, at most {places} decimals.",
        }
    else:
        metadata = kwargs.pop("metadata", {}) | {"minimum": low, "maximum": high}
        if not low_inclusive:
            metadata["exclusiveMinimum"] = True
    return fields.Decimal(validate=within, metadata=metadata, **kwargs)


# Days the product can hold: a date outside them is a typing mistake (or an attack on date arithmetic,
# which overflows near year 1 and 9999), refused with 422 by every date the API reads.
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2199, 12, 31)
DAY_RANGE = f"from {EARLIEST_DAY.isoformat()} to {LATEST_DAY.isoformat()}"
MONTH_PATTERN = r"^(19|2[01])\d\d-(0[1-9]|1[0-2])$"


def check_day(value: date) -> None:
    if not EARLIEST_DAY <= value <= LATEST_DAY:
        raise ValidationError(f"Dates run {DAY_RANGE}.")


class Day(fields.Date):
    """A calendar day (YYYY-MM-DD) within the range the product holds; every date the API reads."""

    def __init__(self, **kwargs):
        validators = kwargs.pop("validate", None)
        validators = (
            [] if validators is None else list(validators) if isinstance(validators, list | tuple) else [validators]
        )
        kwargs.setdefault("metadata", {}).setdefault("description", f"A day (YYYY-MM-DD) {DAY_RANGE}.")
        super().__init__(validate=[check_day, *validators], **kwargs)


class Month(fields.String):
    """A calendar month (YYYY-MM) within the range the product holds."""

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {}).setdefault("description", "A month (YYYY-MM) from 1900-01 to 2199-12.")
        super().__init__(
            validate=validate.Regexp(MONTH_PATTERN, error="A month is YYYY-MM, from 1900-01 to 2199-12."), **kwargs
        )


# The latest calendar day anywhere on Earth (UTC+14): an "as of" day after it has not begun anywhere.
LATEST_OFFSET = timedelta(hours=14)
FUTURE_AS_OF = "Cannot answer for a day that has not begun yet: as_of must be today or earlier."


def latest_today(now: datetime | None = None) -> date:
    return ((now or datetime.now(UTC)) + LATEST_OFFSET).date()


def check_as_of(value: date) -> None:
    """One rule for every `as_of`: a day that has not begun anywhere is refused (422)."""
    if value > latest_today():
        raise ValidationError(FUTURE_AS_OF)


class AsOfDate(Day):
    """An "as of" day (YYYY-MM-DD): today or earlier; every endpoint taking `as_of` uses it."""

    def __init__(self, **kwargs):
        metadata = kwargs.pop("metadata", {})
        metadata.setdefault(
            "description", f"Answer as of this day (YYYY-MM-DD, {DAY_RANGE}); a future day is refused with 422."
        )
        super().__init__(validate=check_as_of, metadata=metadata, **kwargs)


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
    ledger = fields.Dict(
        allow_none=True,
        metadata={"description": "Revenue imports: platform payouts posted, not represented, waiting (for a rate)."},
    )
