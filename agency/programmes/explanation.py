"""The eligibility explanation people read, from the engine's per-criterion results.

The engine stores (and the "as of" answer returns) each criterion's result as a compact array
(see compiler.py); this module pairs it with the rule version's criteria into the document the
API, the UI, the exports and the alerts show, one object per criterion:

    key, kind, label, passed, actual, threshold, gap, near, eta, reason,
    and for metrics: metric, platform, aggregate, window_days, value_day (how fresh the figure
    is), stale, account {id, handle, platform, account_type} (the account that qualifies, or the
    one closest to qualifying), forecast {method, history_days, description} beside an eta (how
    the date was reached); for any_of: criteria (its own criteria).

Stored and fresh answers go through the same function, so they are the same document.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from agency.programmes.models import RuleVersion
from agency.programmes.rules import criterion_key, describe
from agency.roster.models import PlatformAccount


def _number(value):
    """A metric figure as people read it: whole numbers as integers, hours with two decimals."""
    if value is None:
        return None
    number = float(value)
    return int(number) if number.is_integer() else round(number, 2)


def forecast(criterion: dict, history_days: int | None) -> dict:
    """How a metric criterion's estimated date was reached, in words a manager can weigh."""
    if criterion["aggregate"] == "latest":
        return {
            "method": "least_squares_trend",
            "history_days": history_days,
            "description": f"the latest value, growing each day by the slope of a straight line fitted to the "
            f"last {history_days} days with data, until it reaches the threshold",
        }
    what = "sum" if criterion["aggregate"] == "sum" else "average"
    return {
        "method": "trailing_window_crossing",
        "history_days": history_days,
        "description": f"the daily level of a line fitted to {history_days} days with data, added day by day "
        f"while the oldest days leave the {criterion['window_days']}-day window, until the {what} reaches "
        "the threshold",
    }


# What a criterion's entry starts with, whatever its result: its key, kind and label, and the same
# of its own criteria (any_of).
Heading = tuple[dict, list]


def headings(criteria: list[dict]) -> list[Heading]:
    """The headings of a rule version's criteria, worked out once for all its evaluations (a run
    of alerts explains thousands of evaluations of the same few rule versions)."""
    return [
        (
            {"key": criterion_key(criterion), "kind": criterion["kind"], "label": describe(criterion)},
            headings(criterion["criteria"]) if criterion["kind"] == "any_of" else [],
        )
        for criterion in criteria
    ]


def explain(
    criteria: list[dict], results: list, accounts: dict[int, dict], heads: list[Heading] | None = None
) -> list[dict]:
    """The document of one evaluation: `results` as the engine wrote them for `criteria` (whose
    `headings` may be given)."""
    heads = headings(criteria) if heads is None else heads
    return [
        _explain_one(criterion, head, result, accounts) for criterion, head, result in zip(criteria, heads, results)
    ]


def _explain_one(criterion: dict, head: Heading, result: list, accounts: dict[int, dict]) -> dict:
    kind = criterion["kind"]
    passed = bool(result[0])
    out = {**head[0], "passed": passed}
    if kind == "metric":
        _passed, actual, value_day, near, eta, account_id, stale = result[:7]
        history_days = result[7] if len(result) > 7 else None  # (documents stored before it was kept)
        platform = criterion["platform"]
        threshold = criterion["min"]
        actual = _number(actual)
        out |= {
            "metric": criterion["metric"],
            "platform": platform,
            "aggregate": criterion["aggregate"],
            "window_days": criterion.get("window_days"),
            "threshold": threshold,
            "actual": actual,
            "value_day": value_day,
            "stale": bool(stale),
            "near": bool(near),
            "eta": eta,
            "account": accounts.get(account_id) if account_id is not None else None,
        }
        if eta is not None:
            out["forecast"] = forecast(criterion, history_days)
        if not passed and (actual is None or actual < threshold):
            out["gap"] = _number(threshold - (actual or 0))
        if account_id is None:
            out["reason"] = f"no {platform} account"
        elif actual is None:
            # No figure of this metric: no snapshot at all, or snapshots that did not report it
            # (an unreported metric is unknown, not zero).
            what = f"no {platform} {criterion['metric'].replace('_', ' ')} reported"
            if criterion["aggregate"] != "latest":
                what += f" in the last {criterion['window_days']} days"
            out["reason"] = what
        elif stale:
            out["reason"] = f"stale: the last value is from {value_day}"
    elif kind == "age":
        _passed, actual, eta, threshold, by_parental_agreement = result
        out |= {"actual": actual, "threshold": threshold, "near": False, "eta": eta}
        if not passed and actual is not None:
            out["gap"] = threshold - actual
        if by_parental_agreement:
            out["reason"] = "parental agreement on file"
        elif actual is None:
            out["reason"] = "date of birth unknown"
    elif kind == "country":
        out |= {"actual": result[1], "threshold": criterion["in"]}
    elif kind == "standing":
        out |= {"actual": result[1], "threshold": criterion["at_least"]}
    elif kind == "account_type":
        _passed, actual, account_id = result
        out |= {
            "platform": criterion["platform"],
            "actual": actual,
            "threshold": criterion["in"],
            "account": accounts.get(account_id) if account_id is not None else None,
        }
        if account_id is None:
            out["reason"] = f"no {criterion['platform']} account"
    elif kind == "any_of":
        _passed, near, eta, children = result
        criteria = explain(criterion["criteria"], children, accounts, head[1])
        out |= {"near": bool(near), "eta": eta, "criteria": criteria}
    return out


def _account_ids(criteria: list[dict], results: list) -> Iterator[int]:
    for criterion, result in zip(criteria, results):
        if criterion["kind"] == "metric" and result[5] is not None:
            yield result[5]
        elif criterion["kind"] == "account_type" and result[2] is not None:
            yield result[2]
        elif criterion["kind"] == "any_of":
            yield from _account_ids(criterion["criteria"], result[3])


def explain_many(
    db_session: Session, evaluations: Iterable[tuple[int, list]], *, with_accounts: bool = True
) -> list[list[dict]]:
    """Documents of many evaluations, given as (rule_version_id, results): the rule versions and
    the accounts they name are read once, in bulk. Without `with_accounts`, the accounts are not
    read and each criterion's `account` is None: for words that name no account (the
    near-threshold alerts' messages)."""
    evaluations = list(evaluations)
    rule_ids = {rule_version_id for rule_version_id, _ in evaluations}
    criteria = (
        dict(db_session.execute(select(RuleVersion.id, RuleVersion.criteria).where(RuleVersion.id.in_(rule_ids))).all())
        if rule_ids
        else {}
    )
    account_ids = (
        {
            account_id
            for rule_version_id, results in evaluations
            for account_id in _account_ids(criteria.get(rule_version_id, []), results or [])
        }
        if with_accounts
        else set()
    )
    accounts = {}
    if account_ids:
        for account in db_session.execute(
            select(
                PlatformAccount.id, PlatformAccount.handle, PlatformAccount.platform, PlatformAccount.account_type
            ).where(PlatformAccount.id.in_(account_ids))
        ):
            accounts[account.id] = {
                "id": account.id,
                "handle": account.handle,
                "platform": account.platform.value,
                "account_type": account.account_type.value,
            }
    heads = {rule_version_id: headings(rule_criteria) for rule_version_id, rule_criteria in criteria.items()}
    return [
        explain(criteria.get(rule_version_id, []), results or [], accounts, heads.get(rule_version_id, []))
        for rule_version_id, results in evaluations
    ]


def failing_criteria(document: list[dict]) -> list[str]:
    """The criteria an explanation fails, each with why when the figure says more than the label
    (stale, no data in its window, no account): what an export shows."""
    return [f"{c['label']} ({c['reason']})" if c.get("reason") else c["label"] for c in document if not c["passed"]]
