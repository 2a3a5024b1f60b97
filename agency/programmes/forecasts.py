"""When will a creator cross a threshold? Estimates from the recent trend.

The trend compares weekly averages three weeks apart (days -27..-21 against the last seven
days), computed in SQL with the other features: averaging a week smooths daily noise and copes
with missing days. No estimate when the trend is flat or negative, when there is too little data,
or when crossing would take longer than `HORIZON_DAYS`.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from decimal import Decimal

TREND_DAYS = 28
WEEK = 7
# Distance between the middles of the first and the last week of the trend window.
TREND_SPAN_DAYS = TREND_DAYS - WEEK
HORIZON_DAYS = 365


def _number(value) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def estimate_crossing(criterion: dict, actual, early_avg, recent_avg, as_of: date) -> date | None:
    """Estimated date the metric criterion passes, or None."""
    threshold = Decimal(str(criterion["min"]))
    current = _number(actual) or Decimal(0)
    early, recent = _number(early_avg), _number(recent_avg)
    if current >= threshold or recent is None:
        return None
    if criterion["aggregate"] == "latest":
        if early is None:
            return None
        slope = (recent - early) / TREND_SPAN_DAYS
        if slope <= 0:
            return None
        days = math.ceil((threshold - current) / slope)
    elif criterion["aggregate"] == "sum":
        # At the recent daily rate, each new day replaces an average day of the window.
        window = criterion["window_days"]
        if recent * window < threshold:
            return None
        days = math.ceil((threshold - current) / (recent - current / window))
    else:
        if recent <= threshold or recent <= current:
            return None
        days = math.ceil(criterion["window_days"] * (threshold - current) / (recent - current))
    if days <= 0 or days > HORIZON_DAYS:
        return None
    return as_of + timedelta(days=days)
