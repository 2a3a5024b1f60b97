"""Programme rule criteria: their JSON form and its validation.

A rule version holds a list of criteria, all of which must pass. A criterion is one of:

- `{"kind": "metric", "metric": "followers", "platform": "tiktok", "aggregate": "latest", "min": 10000}`
  `aggregate` is `latest` (the most recent reported value), `sum` or `avg` over `window_days`.
  A platform's metric and account-type criteria are met by one and the same account.
- `{"kind": "age", "min": 18, "parental_agreement_suffices": false, "by_country": {"KR": 19}}`
  (`by_country` raises the minimum where the age of majority is higher).
- `{"kind": "country", "in": ["US", "GB"]}` (residence)
- `{"kind": "standing", "at_least": "good"}` (good > warning > restricted)
- `{"kind": "account_type", "platform": "tiktok", "in": ["personal"]}`
- `{"kind": "any_of", "criteria": [...]}` (one of the nested criteria suffices)

Every criterion may carry a `label` shown to users.
"""

from __future__ import annotations

from copy import deepcopy

import pycountry

from agency.core.errors import InvalidInput
from agency.metrics.models import METRIC_FIELDS
from agency.roster.models import AccountType, Platform, Standing

AGGREGATES = ("latest", "sum", "avg")
STANDING_ORDER = {Standing.restricted.value: 0, Standing.warning.value: 1, Standing.good.value: 2}
MAX_WINDOW_DAYS = 400
KINDS = ("metric", "age", "country", "standing", "account_type", "any_of")


def _country_ok(code) -> bool:
    return isinstance(code, str) and len(code) == 2 and pycountry.countries.get(alpha_2=code.upper()) is not None


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0


def _check_one(criterion, depth: int) -> tuple[dict, dict]:
    """Returns (normalised criterion, errors by field)."""
    if not isinstance(criterion, dict):
        return {}, {"_schema": ["each criterion must be an object"]}
    errors: dict[str, list[str]] = {}
    kind = criterion.get("kind")
    out = {"kind": kind}
    if "label" in criterion:
        if not isinstance(criterion["label"], str) or len(criterion["label"]) > 200:
            errors["label"] = ["must be text of at most 200 characters"]
        else:
            out["label"] = criterion["label"]
    if kind not in KINDS:
        return out, {"kind": [f"must be one of: {', '.join(KINDS)}"]}
    allowed = {"kind", "label"} | {
        "metric": {"metric", "platform", "aggregate", "window_days", "min"},
        "age": {"min", "parental_agreement_suffices", "by_country"},
        "country": {"in"},
        "standing": {"at_least"},
        "account_type": {"platform", "in"},
        "any_of": {"criteria"},
    }[kind]
    for unknown in sorted(set(criterion) - allowed):
        errors[unknown] = [f"unknown field for a '{kind}' criterion"]

    if kind == "metric":
        if criterion.get("metric") not in METRIC_FIELDS:
            errors["metric"] = [f"must be one of: {', '.join(METRIC_FIELDS)}"]
        if criterion.get("platform") not in [p.value for p in Platform]:
            errors["platform"] = [f"must be one of: {', '.join(p.value for p in Platform)}"]
        aggregate = criterion.get("aggregate", "latest")
        if aggregate not in AGGREGATES:
            errors["aggregate"] = [f"must be one of: {', '.join(AGGREGATES)}"]
        window = criterion.get("window_days")
        if aggregate != "latest":
            if not isinstance(window, int) or isinstance(window, bool) or not 1 <= window <= MAX_WINDOW_DAYS:
                errors["window_days"] = [
                    f"a whole number of days from 1 to {MAX_WINDOW_DAYS} is needed for '{aggregate}'"
                ]
        elif window is not None:
            errors["window_days"] = ["only applies to 'sum' and 'avg'"]
        if not _number(criterion.get("min")):
            errors["min"] = ["must be a number >= 0"]
        out |= {
            "metric": criterion.get("metric"),
            "platform": criterion.get("platform"),
            "aggregate": aggregate,
            "min": criterion.get("min"),
        }
        if aggregate != "latest":
            out["window_days"] = window
    elif kind == "age":
        minimum = criterion.get("min")
        if not isinstance(minimum, int) or isinstance(minimum, bool) or not 0 < minimum < 100:
            errors["min"] = ["must be a whole number of years from 1 to 99"]
        suffices = criterion.get("parental_agreement_suffices", False)
        if not isinstance(suffices, bool):
            errors["parental_agreement_suffices"] = ["must be true or false"]
        by_country = criterion.get("by_country", {})
        if not isinstance(by_country, dict) or not all(
            _country_ok(k) and isinstance(v, int) and not isinstance(v, bool) and 0 < v < 100
            for k, v in by_country.items()
        ):
            errors["by_country"] = ["must map ISO country codes to whole numbers of years"]
        out |= {"min": minimum, "parental_agreement_suffices": suffices}
        if by_country and "by_country" not in errors:
            out["by_country"] = {k.upper(): v for k, v in by_country.items()}
    elif kind == "country":
        codes = criterion.get("in")
        if not isinstance(codes, list) or not codes or not all(_country_ok(c) for c in codes):
            errors["in"] = ["must be a non-empty list of ISO 3166-1 alpha-2 codes"]
        else:
            out["in"] = sorted({c.upper() for c in codes})
    elif kind == "standing":
        if criterion.get("at_least") not in STANDING_ORDER:
            errors["at_least"] = [f"must be one of: {', '.join(STANDING_ORDER)}"]
        out["at_least"] = criterion.get("at_least")
    elif kind == "account_type":
        if criterion.get("platform") not in [p.value for p in Platform]:
            errors["platform"] = [f"must be one of: {', '.join(p.value for p in Platform)}"]
        types = criterion.get("in")
        if not isinstance(types, list) or not types or not all(t in [a.value for a in AccountType] for t in types):
            errors["in"] = ["must be a non-empty list of: personal, business"]
        out |= {"platform": criterion.get("platform"), "in": types}
    elif kind == "any_of":
        nested = criterion.get("criteria")
        if depth >= 2:
            errors["criteria"] = ["any_of groups may be nested at most two levels deep"]
        elif not isinstance(nested, list) or len(nested) < 2:
            errors["criteria"] = ["must list at least two criteria"]
        else:
            normalised, nested_errors = _check_list(nested, depth + 1)
            if nested_errors:
                errors["criteria"] = nested_errors
            out["criteria"] = normalised
    return out, errors


def _check_list(criteria, depth: int = 0) -> tuple[list[dict], dict]:
    normalised, errors = [], {}
    for index, criterion in enumerate(criteria):
        one, problems = _check_one(criterion, depth)
        normalised.append(one)
        if problems:
            errors[str(index)] = problems
    return normalised, errors


def validate_criteria(criteria) -> list[dict]:
    """Normalised criteria, or InvalidInput naming each bad criterion (by index) and why."""
    if not isinstance(criteria, list) or not criteria:
        raise InvalidInput("A rule needs a non-empty list of criteria.", {"criteria": ["must be a non-empty list"]})
    normalised, errors = _check_list(deepcopy(criteria))
    if errors:
        raise InvalidInput("Some criteria are invalid; see `errors.criteria` (by position).", {"criteria": errors})
    return normalised


def iter_metric_criteria(criteria: list[dict]):
    """Every metric criterion, including those inside any_of groups."""
    for criterion in criteria:
        if criterion["kind"] == "metric":
            yield criterion
        elif criterion["kind"] == "any_of":
            yield from iter_metric_criteria(criterion["criteria"])


def criterion_key(criterion: dict) -> str:
    """What a criterion measures, whatever its threshold or label: the same key in two rule
    versions is the same measure (history compares criteria across versions by this key)."""
    kind = criterion["kind"]
    if kind == "metric":
        window = f":{criterion['window_days']}" if criterion["aggregate"] != "latest" else ""
        return f"metric:{criterion['platform']}:{criterion['metric']}:{criterion['aggregate']}{window}"
    if kind == "account_type":
        return f"account_type:{criterion['platform']}"
    if kind == "any_of":
        return "any_of(" + ",".join(sorted(criterion_key(c) for c in criterion["criteria"])) + ")"
    return kind


def describe(criterion: dict) -> str:
    if criterion.get("label"):
        return criterion["label"]
    kind = criterion["kind"]
    if kind == "metric":
        what = criterion["metric"].replace("_", " ")
        if criterion["aggregate"] == "latest":
            return f"{criterion['platform']} {what} >= {criterion['min']:,}"
        window = f"{criterion['aggregate']} over {criterion['window_days']} days"
        return f"{criterion['platform']} {what} ({window}) >= {criterion['min']:,}"
    if kind == "age":
        text = f"age >= {criterion['min']}"
        if criterion.get("by_country"):
            text += " (" + ", ".join(f"{c}: {n}" for c, n in sorted(criterion["by_country"].items())) + ")"
        if criterion.get("parental_agreement_suffices"):
            text += ", or a parental agreement on file"
        return text
    if kind == "country":
        return "resident in " + ", ".join(criterion["in"])
    if kind == "standing":
        return f"community-guidelines standing at least {criterion['at_least']}"
    if kind == "account_type":
        return f"{criterion['platform']} account type " + " or ".join(criterion["in"])
    return "any of: " + "; ".join(describe(c) for c in criterion["criteria"])
