"""When will a creator cross a threshold? Estimates from the recent daily trend.

Robust on purpose: the slope compares the median of the first and last week of the recent
window, so one viral day or a few missing days do not move it much. No estimate when the trend
is flat or negative, or when crossing would take longer than `HORIZON_DAYS`.
"""
from __future__ import annotations

import math
from datetime import date, timedelta
from statistics import median

TREND_DAYS = 28
EDGE_DAYS = 7
HORIZON_DAYS = 365


def _slope_per_day(series: list[tuple[date, float]]) -> float | None:
    """Median-of-ends slope of (day, value) points sorted by day."""
    if len(series) < 4:
        return None
    edge = max(2, min(EDGE_DAYS, len(series) // 3))
    head, tail = series[:edge], series[-edge:]
    head_day = median(d.toordinal() for d, _ in head)
    tail_day = median(d.toordinal() for d, _ in tail)
    if tail_day <= head_day:
        return None
    return (median(v for _, v in tail) - median(v for _, v in head)) / (tail_day - head_day)


def estimate_crossing(criterion: dict, actual, series: list[tuple[date, float]], as_of: date) -> date | None:
    """Estimated date the metric criterion passes, from the creator's recent daily values."""
    threshold = criterion["min"]
    current = 0 if actual is None else actual
    if current >= threshold or not series:
        return None
    if criterion["aggregate"] == "latest":
        slope = _slope_per_day(series)
        if slope is None or slope <= 0:
            return None
        days = math.ceil((threshold - current) / slope)
    else:
        # Windowed sums and averages: at the recent daily rate, each new day replaces an average old one.
        recent_rate = median(v for _, v in series[-EDGE_DAYS:])
        window = criterion["window_days"]
        if criterion["aggregate"] == "sum":
            if recent_rate * window < threshold:
                return None
            days = math.ceil((threshold - current) / (recent_rate - current / window))
        else:
            if recent_rate <= threshold or recent_rate <= current:
                return None
            days = math.ceil(window * (threshold - current) / (recent_rate - current))
    if days <= 0 or days > HORIZON_DAYS:
        return None
    return as_of + timedelta(days=days)
