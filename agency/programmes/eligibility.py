"""The eligibility engine: for every creator and programme, eligible today, why not, and when.

`recompute_eligibility` evaluates every rule in force with one set-based query per rule version
(see compiler.py), explains each result per criterion (`explain`), estimates crossing
dates (forecasts.py), then writes only what changed and appends history rows for transitions.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import Text, cast, delete, not_, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.schema import DropTable

from agency.core.database import bulk_insert
from agency.programmes.compiler import (
    evaluation_query,
    flatten,
    metric_features_query,
    needed_features,
    trend_keys,
    years_before,
)
from agency.programmes.forecasts import estimate_crossing
from agency.programmes.models import EligibilityChange, EligibilityEvaluation, Program, RuleVersion
from agency.programmes.rules import STANDING_ORDER, describe, feature_key
from agency.roster.models import Creator, PlatformAccount

DEFAULT_MARGIN = Decimal("0.90")


@dataclass
class CreatorFacts:
    """What the criteria read about one creator on one day."""

    country: str
    date_of_birth: date | None
    parental_agreement_on_file: bool
    guideline_standing: str
    account_types: dict[str, set[str]] = field(default_factory=dict)
    features: dict[str, object] = field(default_factory=dict)


def _plain(value):
    """JSON-friendly numbers for details (metric values are counts or hours, never money)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(round(value, 2))
    return value


def explain(criterion: dict, facts: CreatorFacts, as_of: date, margin: Decimal = DEFAULT_MARGIN) -> dict:
    """Pass/fail of one criterion with the actual value, the threshold and the gap."""
    kind = criterion["kind"]
    out = {"kind": kind, "label": describe(criterion), "passed": False}
    if kind == "metric":
        actual = facts.features.get(feature_key(criterion))
        threshold = criterion["min"]
        out |= {
            "metric": criterion["metric"],
            "platform": criterion["platform"],
            "aggregate": criterion["aggregate"],
            "window_days": criterion.get("window_days"),
            "actual": _plain(actual),
            "threshold": threshold,
        }
        out["passed"] = actual is not None and actual >= threshold
        if actual is None:
            out["reason"] = f"no {criterion['platform']} metrics"
        if not out["passed"]:
            have = actual or 0
            out["gap"] = _plain(threshold - have) if isinstance(have, Decimal) else threshold - have
            out["near"] = threshold > 0 and Decimal(str(have)) >= margin * Decimal(str(threshold))
            if isinstance(out["gap"], float):
                out["gap"] = round(out["gap"], 2)
    elif kind == "age":
        minimum = max(criterion["min"], (criterion.get("by_country") or {}).get(facts.country, 0))
        out["threshold"] = minimum
        if facts.date_of_birth is None:
            out["actual"] = None
            out["reason"] = "date of birth unknown"
        else:
            dob = facts.date_of_birth
            age = as_of.year - dob.year - ((as_of.month, as_of.day) < (dob.month, dob.day))
            out["actual"] = age
            out["passed"] = dob <= years_before(as_of, minimum)
            if not out["passed"]:
                out["gap"] = minimum - age
                out["eta"] = (
                    dob.replace(year=dob.year + minimum)
                    if not (dob.month == 2 and dob.day == 29)
                    else date(dob.year + minimum, 3, 1)
                ).isoformat()
        if not out["passed"] and criterion.get("parental_agreement_suffices") and facts.parental_agreement_on_file:
            out["passed"] = True
            out["reason"] = "parental agreement on file"
            out.pop("gap", None)
            out.pop("eta", None)
    elif kind == "country":
        out |= {"actual": facts.country, "threshold": criterion["in"], "passed": facts.country in criterion["in"]}
    elif kind == "standing":
        out |= {
            "actual": facts.guideline_standing,
            "threshold": criterion["at_least"],
            "passed": STANDING_ORDER[facts.guideline_standing] >= STANDING_ORDER[criterion["at_least"]],
        }
    elif kind == "account_type":
        types = sorted(facts.account_types.get(criterion["platform"], set()))
        out |= {"actual": types, "threshold": criterion["in"], "passed": bool(set(types) & set(criterion["in"]))}
        if not types:
            out["reason"] = f"no {criterion['platform']} account"
    elif kind == "any_of":
        children = [explain(c, facts, as_of, margin) for c in criterion["criteria"]]
        out["criteria"] = children
        out["passed"] = any(c["passed"] for c in children)
        out["near"] = not out["passed"] and any(c.get("near") for c in children)
    return out


def explain_all(criteria: list[dict], facts: CreatorFacts, as_of: date, margin: Decimal = DEFAULT_MARGIN):
    details = [explain(c, facts, as_of, margin) for c in criteria]
    eligible = all(d["passed"] for d in details)
    failing = [d for d in details if not d["passed"]]
    near = bool(failing) and all(d.get("near") for d in failing)
    return eligible, near, details


# --- rules in force -------------------------------------------------------------------------


def rules_in_force(db_session: Session, as_of: date) -> dict[int, list[RuleVersion]]:
    """Active programmes -> their rule versions in force on `as_of`, highest version first."""
    rows = db_session.scalars(
        select(RuleVersion)
        .join(Program)
        .where(
            Program.is_active.is_(True),
            RuleVersion.effective_from <= as_of,
            or_(RuleVersion.effective_to.is_(None), RuleVersion.effective_to > as_of),
        )
        .order_by(RuleVersion.program_id, RuleVersion.version.desc())
    )
    by_program: dict[int, list[RuleVersion]] = defaultdict(list)
    for rule in rows:
        by_program[rule.program_id].append(rule)
    return by_program


def scoped_assignments(versions: list[RuleVersion]) -> list[tuple[RuleVersion, object]]:
    """Which creators each version applies to: a country-scoped version wins for its countries,
    the newest unscoped version covers everyone else."""
    creator = Creator.__table__
    claimed: set[str] = set()
    out = []
    for rule in versions:
        if rule.country_scope:
            countries = [c for c in rule.country_scope if c not in claimed]
            if countries:
                claimed.update(countries)
                out.append((rule, creator.c.country.in_(countries)))
    unscoped = next((r for r in versions if not r.country_scope), None)
    if unscoped is not None:
        out.append((unscoped, not_(creator.c.country.in_(sorted(claimed))) if claimed else None))
    return out


# --- recompute ------------------------------------------------------------------------------


@dataclass
class RecomputeResult:
    as_of: date
    evaluated: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    transitions: int = 0
    gained: list[tuple[int, int]] = field(default_factory=list)
    lost: list[tuple[int, int]] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "as_of": self.as_of.isoformat(),
            "evaluated": self.evaluated,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "transitions": self.transitions,
            "gained": len(self.gained),
            "lost": len(self.lost),
        }


def _account_types(db_session: Session, creator_ids: list[int] | None) -> dict[int, dict[str, set[str]]]:
    stmt = select(PlatformAccount.creator_id, PlatformAccount.platform, PlatformAccount.account_type)
    if creator_ids is not None:
        stmt = stmt.where(PlatformAccount.creator_id.in_(creator_ids))
    out: dict[int, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for creator_id, platform, account_type in db_session.execute(stmt):
        out[creator_id][platform.value].add(account_type.value)
    return out


def _attach_etas(details: list[dict], row, as_of: date) -> date | None:
    """ETA per failing metric criterion (from the row's trend columns), and for the evaluation when
    every failing criterion has one (age criteria carry the birthday)."""

    def visit(detail: dict):
        if detail["passed"]:
            return None
        if detail["kind"] == "metric":
            early_key, recent_key = trend_keys(detail)
            eta = estimate_crossing(
                {
                    "min": detail["threshold"],
                    "aggregate": detail["aggregate"],
                    "window_days": detail.get("window_days"),
                },
                detail["actual"],
                row[early_key],
                row[recent_key],
                as_of,
            )
            detail["eta"] = eta.isoformat() if eta else None
        elif detail["kind"] == "any_of":
            known = [e for e in (visit(child) for child in detail["criteria"]) if e]
            detail["eta"] = min(known) if known else None
        return detail.get("eta")

    etas = [visit(d) for d in details if not d["passed"]]
    return date.fromisoformat(max(etas)) if etas and all(etas) else None


def _labelled(criteria: list[dict]) -> list[dict]:
    """A copy of the criteria with every label filled in once, rather than once per creator."""
    out = deepcopy(criteria)
    for _name, criterion in flatten(out):
        criterion.setdefault("label", describe(criterion))
    return out


def evaluate(
    db_session: Session,
    as_of: date,
    creator_ids: list[int] | None = None,
    margin: Decimal = DEFAULT_MARGIN,
    progress=None,
) -> list[dict]:
    """Evaluations of every programme in force for the creators (all when None), not written."""
    account_types = _account_types(db_session, creator_ids)
    evaluations = []
    in_force = rules_in_force(db_session, as_of)
    assignments = [
        (program_id, rule, scope)
        for program_id, versions in in_force.items()
        for rule, scope in scoped_assignments(versions)
    ]
    # Every rule reads from one table of metric features, computed once for all of them.
    wanted: dict[str, dict] = {}
    for _program_id, rule, _scope in assignments:
        wanted |= needed_features(rule.criteria)
    create = metric_features_query(wanted, as_of, with_trends=True, creator_ids=creator_ids).into(
        f"eligibility_features_{uuid.uuid4().hex[:10]}", temporary=True
    )
    db_session.execute(create)
    try:
        for done, (program_id, rule, scope) in enumerate(assignments, start=1):
            evaluations.extend(
                _evaluate_rule(
                    db_session, program_id, rule, scope, creator_ids, as_of, margin, account_types, create.table
                )
            )
            if progress:
                progress(done, len(assignments))  # rule versions evaluated / to evaluate
    finally:
        db_session.execute(DropTable(create.table))
    return evaluations


def _evaluate_rule(
    db_session: Session,
    program_id: int,
    rule: RuleVersion,
    scope,
    creator_ids,
    as_of: date,
    margin: Decimal,
    account_types: dict,
    features,
) -> list[dict]:
    """One rule version's evaluations: the SQL decides eligibility, `explain` details it."""
    creator_filter = scope
    if creator_ids is not None:
        ids_filter = Creator.__table__.c.id.in_(creator_ids)
        creator_filter = ids_filter if scope is None else (scope & ids_filter)
    criteria = _labelled(rule.criteria)
    keys = list(needed_features(criteria))
    query = evaluation_query(criteria, as_of, creator_filter, with_trends=True, features=features)
    evaluations = []
    for row in db_session.execute(query).mappings():
        facts = CreatorFacts(
            country=row["country"],
            date_of_birth=row["date_of_birth"],
            parental_agreement_on_file=bool(row["parental_agreement_on_file"]),
            guideline_standing=getattr(row["guideline_standing"], "value", row["guideline_standing"]),
            account_types=account_types.get(row["creator_id"], {}),
            features={k: row[k] for k in keys},
        )
        eligible, near, details = explain_all(criteria, facts, as_of, margin)
        eta = None if eligible else _attach_etas(details, row, as_of)
        evaluations.append(
            {
                "creator_id": row["creator_id"],
                "program_id": program_id,
                "rule_version_id": rule.id,
                "eligible": bool(row["eligible"]),
                "near_threshold": near,
                "eta": eta,
                "details": details,
                "as_of": as_of,
            }
        )
    return evaluations


def _changed_criteria(old: list[dict], new: list[dict]) -> list[dict]:
    before = {d["label"]: d["passed"] for d in old or []}
    return [
        {"label": d["label"], "passed": d["passed"], "was": before.get(d["label"])}
        for d in new
        if before.get(d["label"]) != d["passed"]
    ]


def recompute_eligibility(
    *,
    db_session: Session,
    creator_ids: list[int] | None = None,
    as_of: date | None = None,
    progress=None,
    margin: Decimal = DEFAULT_MARGIN,
) -> RecomputeResult:
    """Evaluate, then write only changed evaluations and a history row per transition."""
    as_of = as_of or date.today()
    result = RecomputeResult(as_of=as_of)
    fresh = evaluate(db_session, as_of, creator_ids, margin, progress)
    result.evaluated = len(fresh)

    existing_stmt = select(
        EligibilityEvaluation.id,
        EligibilityEvaluation.creator_id,
        EligibilityEvaluation.program_id,
        EligibilityEvaluation.rule_version_id,
        EligibilityEvaluation.eligible,
        EligibilityEvaluation.near_threshold,
        EligibilityEvaluation.eta,
        # Compared as stored text: parsing every stored JSON document costs more
        # than the whole comparison (both sides use the same serialiser).
        cast(EligibilityEvaluation.details, Text).label("details_text"),
    )
    if creator_ids is not None:
        existing_stmt = existing_stmt.where(EligibilityEvaluation.creator_id.in_(creator_ids))
    existing = {(r.creator_id, r.program_id): r for r in db_session.execute(existing_stmt)}

    inserts, updates, history = [], [], []
    for ev in fresh:
        key = (ev["creator_id"], ev["program_id"])
        old = existing.pop(key, None)
        if old is None:
            inserts.append(ev)
            history.append(ev | {"change": "first", "changed_criteria": []})
            continue
        same = (
            old.eligible == ev["eligible"]
            and old.near_threshold == ev["near_threshold"]
            and old.eta == ev["eta"]
            and old.rule_version_id == ev["rule_version_id"]
            and old.details_text == json.dumps(ev["details"])
        )
        if same:
            result.unchanged += 1
            continue
        updates.append(ev | {"id": old.id})
        if old.eligible != ev["eligible"]:
            history.append(
                ev
                | {
                    "change": "gained" if ev["eligible"] else "lost",
                    "changed_criteria": _changed_criteria(json.loads(old.details_text), ev["details"]),
                }
            )
            (result.gained if ev["eligible"] else result.lost).append(key)

    connection = db_session.connection()
    if inserts:
        bulk_insert(connection, EligibilityEvaluation.__table__, [_row(ev) for ev in inserts])
    if updates:
        db_session.execute(update(EligibilityEvaluation), [_row(ev) | {"id": ev["id"]} for ev in updates])
    if history:
        bulk_insert(
            connection,
            EligibilityChange.__table__,
            [
                {
                    "creator_id": h["creator_id"],
                    "program_id": h["program_id"],
                    "rule_version_id": h["rule_version_id"],
                    "change": h["change"],
                    "eligible": h["eligible"],
                    "as_of": as_of,
                    "changed_criteria": h["changed_criteria"],
                }
                for h in history
            ],
        )
    if existing:  # programmes no longer in force, or creators archived since
        ids = [r.id for r in existing.values()]
        db_session.execute(delete(EligibilityEvaluation).where(EligibilityEvaluation.id.in_(ids)))
    result.inserted, result.updated, result.removed = len(inserts), len(updates), len(existing)
    result.transitions = sum(1 for h in history if h["change"] != "first")
    return result


def _row(ev: dict) -> dict:
    return {
        "creator_id": ev["creator_id"],
        "program_id": ev["program_id"],
        "rule_version_id": ev["rule_version_id"],
        "eligible": ev["eligible"],
        "near_threshold": ev["near_threshold"],
        "eta": ev["eta"],
        "details": ev["details"],
        "as_of": ev["as_of"],
    }


def explain_creator(
    *, db_session: Session, creator_id: int, as_of: date, margin: Decimal = DEFAULT_MARGIN
) -> list[dict]:
    """Fresh evaluations of one creator on any day (nothing written): the "as of" answer."""
    return evaluate(db_session, as_of, [creator_id], margin)


__all__ = [
    "CreatorFacts",
    "RecomputeResult",
    "evaluate",
    "explain",
    "explain_all",
    "explain_creator",
    "recompute_eligibility",
    "rules_in_force",
]
