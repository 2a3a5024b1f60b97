"""Exchange rates and conversion to the agency's base currency.

A rate is valid from its day until the next dated rate of the same pair. Conversion uses the rate
in force on the record's date, the direct pair first, then the inverse pair. With no rate the
answer is None, reported to the user as unconverted, never a silent 1.0.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import pycountry
from babel.core import get_global
from babel.numbers import get_currency_precision
from sqlalchemy import Numeric, case, cast, func, select
from sqlalchemy.orm import Session

from agency.core.audit.service import Actor, record_audit
from agency.core.database import conflict_insert, refresh_statistics
from agency.core.errors import InvalidInput
from agency.core.imports import ImportReport, chunks, read_rows
from agency.core.users.models import Role
from agency.core.users.service import require_role
from agency.currencies.models import FxRate

FX_COLUMNS = ("day", "base", "quote", "rate", "source")


# ISO 4217 codes that are no money: "no currency" and the code reserved for testing.
NOT_MONEY = frozenset({"XXX", "XTS"})


def is_currency(code) -> bool:
    return (
        isinstance(code, str)
        and len(code) == 3
        and code.upper() not in NOT_MONEY
        and pycountry.currencies.get(alpha_3=code.upper()) is not None
    )


def check_currency(code: str, field: str = "currency") -> str:
    if not is_currency(code):
        raise InvalidInput(f"'{code}' is not an ISO 4217 currency code.", {field: ["unknown ISO 4217 currency code"]})
    return code.upper()


# --- money: rounded by the book ------------------------------------------------------------------
# Each currency's minor unit (EUR 2 decimals, JPY 0, BHD and KWD 3) comes from the Unicode CLDR
# currency data that Babel maintains, never from a hand-made table. Every rounding of money in the
# product (conversions, commissions, statements, income-mix amounts) goes through `round_money`
# (or `round_money_sql` inside a query): half-up, the commercial convention (EU Regulation
# 1103/97, art. 5), to the currency's minor unit.
MAX_MINOR_UNIT = 3  # what money columns can hold: Numeric(.., 3)


def minor_unit(currency: str) -> int:
    """Decimals of the currency's minor unit (EUR 2, JPY 0, BHD 3). The two units of account with
    four (CLF, UYW) are held to three, what the money columns store."""
    return min(get_currency_precision(currency.upper()), MAX_MINOR_UNIT)


def minor_unit_sql(currency_column):
    """The minor unit of a currency column, inside a query (the same CLDR data)."""
    exceptions: dict[int, list[str]] = {}
    for code in sorted(get_global("currency_fractions")):
        if code != "DEFAULT" and (places := minor_unit(code)) != 2:
            exceptions.setdefault(places, []).append(code)
    return case(*[(currency_column.in_(codes), places) for places, codes in sorted(exceptions.items())], else_=2)


def money_quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_unit(currency))


def round_money(amount: Decimal, currency: str) -> Decimal:
    """`amount` rounded half-up to the minor unit of `currency`."""
    return amount.quantize(money_quantum(currency), rounding=ROUND_HALF_UP)


def round_money_sql(expression, currency: str):
    """The same rounding inside a query: PostgreSQL rounds a numeric half away from zero, which is
    half-up for the positive amounts it is used on."""
    places = minor_unit(currency)
    return cast(func.round(cast(expression, Numeric(60, 10)), places), Numeric(50, places))


def fits_minor_unit(amount: Decimal, currency: str) -> bool:
    """True when `amount` has no more decimals than the currency's minor unit."""
    return amount.is_finite() and amount == amount.quantize(money_quantum(currency))


def format_money(amount: Decimal | None, currency: str) -> str | None:
    """An amount as the API and exports carry it: a string with the currency's decimals."""
    return None if amount is None else f"{round_money(amount, currency):.{minor_unit(currency)}f}"


class RateBook:
    """All rates of the currencies involved, loaded once, for many conversions on many dates."""

    def __init__(self, db_session: Session, base: str, currencies: set[str] | None = None):
        self.base = base
        stmt = select(FxRate.base, FxRate.quote, FxRate.day, FxRate.rate)
        if currencies is not None:
            wanted = sorted(currencies | {base})
            stmt = stmt.where(FxRate.base.in_(wanted), FxRate.quote.in_(wanted))
        pairs: dict[tuple[str, str], list[tuple[date, Decimal]]] = defaultdict(list)
        for pair_base, quote, day, rate in db_session.execute(stmt.order_by(FxRate.day)):
            pairs[(pair_base, quote)].append((day, rate))
        self._days = {pair: [d for d, _ in rows] for pair, rows in pairs.items()}
        self._rates = {pair: [r for _, r in rows] for pair, rows in pairs.items()}

    def _latest(self, pair: tuple[str, str], on: date) -> Decimal | None:
        days = self._days.get(pair)
        if not days:
            return None
        index = bisect.bisect_right(days, on) - 1
        return self._rates[pair][index] if index >= 0 else None

    def rate(self, currency: str, on: date) -> Decimal | None:
        if currency == self.base:
            return Decimal(1)
        direct = self._latest((currency, self.base), on)
        if direct is not None:
            return direct
        inverse = self._latest((self.base, currency), on)
        return (Decimal(1) / inverse) if inverse else None

    def convert(self, amount: Decimal, currency: str, on: date) -> Decimal | None:
        """The amount in the base currency, rounded to its minor unit, or None without a rate."""
        rate = self.rate(currency, on)
        return None if rate is None else round_money(amount * rate, self.base)


def parse_rate(value) -> Decimal:
    try:
        rate = Decimal(str(value))
    except InvalidOperation:
        raise ValueError("must be a number") from None
    if not rate.is_finite() or rate <= 0:
        raise ValueError("must be a number > 0")
    if rate >= Decimal("10000000000") or rate != rate.quantize(Decimal("0.00000001")):
        raise ValueError("must be below 10^10 with at most 8 decimals")
    return rate


def upsert_rates(db_session: Session, rows: list[dict]) -> None:
    stmt = conflict_insert(db_session.get_bind().dialect.name, FxRate).values(rows)
    db_session.execute(
        stmt.on_conflict_do_update(
            index_elements=["base", "quote", "day"], set_={"rate": stmt.excluded.rate, "source": stmt.excluded.source}
        )
    )


def save_rate(*, db_session: Session, actor: Actor, data: dict) -> FxRate:
    """Add or replace one dated rate (admins); the same pair and day again replaces it."""
    require_role(actor.user, Role.admin)
    data = dict(data)
    data["base"], data["quote"] = check_currency(data["base"], "base"), check_currency(data["quote"], "quote")
    if data["base"] == data["quote"]:
        raise InvalidInput("A rate needs two different currencies.", {"quote": ["must differ from base"]})
    upsert_rates(db_session, [data])
    record_audit(
        db_session=db_session,
        actor=actor,
        action="fx.set",
        entity_type="fx_rate",
        entity_id=None,
        after={k: str(v) for k, v in data.items()},
    )
    return db_session.scalar(
        select(FxRate).where(FxRate.base == data["base"], FxRate.quote == data["quote"], FxRate.day == data["day"])
    )


def import_fx_rates(*, db_session: Session, stream, fmt: str = "csv", mode: str = "all") -> ImportReport:
    """Import dated rates (day, base, quote, rate[, source]); re-importing updates the same rows."""
    report = ImportReport(mode=mode)
    good: list[dict] = []
    seen: dict[tuple, int] = {}
    for batch in chunks(read_rows(stream, fmt, FX_COLUMNS, ("day", "base", "quote", "rate"))):
        for line, raw in batch:
            report.rows += 1
            if "__error__" in raw:
                report.add_error(line, *raw["__error__"])
                continue
            row, ok = {"source": str(raw.get("source", ""))[:100]}, True
            try:
                row["day"] = date.fromisoformat(str(raw.get("day", "")))
            except ValueError:
                report.add_error(line, "day", "must be a date as YYYY-MM-DD")
                ok = False
            for field in ("base", "quote"):
                if not is_currency(raw.get(field)):
                    report.add_error(line, field, "unknown ISO 4217 currency code")
                    ok = False
                else:
                    row[field] = raw[field].upper()
            try:
                row["rate"] = parse_rate(raw.get("rate"))
            except ValueError as exc:
                report.add_error(line, "rate", str(exc))
                ok = False
            if ok and row["base"] == row["quote"]:
                report.add_error(line, "quote", "must differ from base")
                ok = False
            if ok:
                key = (row["base"], row["quote"], row["day"])
                if key in seen:  # rate files are small: a dict of keys is fine here
                    report.add_error(line, "day", f"duplicate of line {seen[key]}")
                    continue
                seen[key] = line
                good.append(row)
    report.rejected = report.error_count
    if report.error_count and mode == "all":
        return report
    for batch in chunks(iter(good), 1000):
        upsert_rates(db_session, batch)
    report.inserted = len(good)
    refresh_statistics(db_session.connection(), [FxRate.__table__], report.inserted)
    report.committed = True
    return report
