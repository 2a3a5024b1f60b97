"""Jinja filters that format numbers, money and dates for humans."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from agency.currencies.service import minor_unit, round_money
from agency.web.views import bp

SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "KRW": "₩", "BRL": "R$", "CAD": "CA$"}


@bp.app_template_filter("number")
def number(value, places: int = 0) -> str:
    if value is None or value == "":
        return "—"
    value = Decimal(str(value))
    return f"{value:,.{places}f}"


@bp.app_template_filter("money")
def money(value, currency: str = "EUR") -> str:
    if value is None:
        return "—"
    amount = round_money(Decimal(str(value)), currency)
    symbol = SYMBOLS.get(currency)
    text = f"{abs(amount):,.{minor_unit(currency)}f}"
    sign = "−" if amount < 0 else ""
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {currency}"


@bp.app_template_filter("percent")
def percent(value) -> str:
    return "—" if value is None else f"{Decimal(str(value)) * 100:.0f}%"


@bp.app_template_filter("day")
def day(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return f"{value:%d %b %Y}"


@bp.app_template_filter("ago")
def ago(value) -> str:
    if value is None:
        return "never"
    now = datetime.now(UTC)
    if isinstance(value, date) and not isinstance(value, datetime):
        days = (now.date() - value).days
    else:
        seconds = (now - value).total_seconds()
        if seconds < 3600:
            return f"{max(1, int(seconds // 60))} min ago"
        if seconds < 86400:
            return f"{int(seconds // 3600)} h ago"
        days = int(seconds // 86400)
    if days == 0:
        return "today"
    if days < 0:
        return f"in {-days} day{'s' if days != -1 else ''}"
    return f"{days} day{'s' if days != 1 else ''} ago"


@bp.app_template_filter("label")
def label(value) -> str:
    return str(getattr(value, "value", value) or "").replace("_", " ")


@bp.app_template_filter("problems")
def problems(value) -> str:
    """Validation messages (a string, a list, or marshmallow's nested dicts) as one line."""
    if isinstance(value, dict):
        return " ".join(problems(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return " ".join(problems(v) for v in value)
    return str(value)


@bp.app_template_filter("pair")
def pair(value) -> tuple:
    """An option for a select: (value, the same as its text)."""
    return (value, str(value).replace("_", " "))


@bp.app_template_global("now")
def now_utc() -> datetime:
    return datetime.now(UTC)


@bp.app_template_filter("zip")
def zip_with(left, right) -> list[tuple]:
    return list(zip(left, right))


@bp.app_template_filter("combine")
def combine(left: dict, right: dict) -> dict:
    """Query arguments with some replaced (for sort and page links)."""
    return {**left, **right}
