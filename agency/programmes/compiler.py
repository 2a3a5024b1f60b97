"""The rule compiler: a rule version's criteria become SQL over a chunk's base table
(eligibility_features.py).

One account, one verdict: a platform's metric and account-type criteria are read from one and
the same account. The statement forms every assignment of one account per platform the rule
reads (a creator's TikTok accounts, or TikTok x YouTube pairs for a rule reading both),
evaluates every criterion on it, and keeps per creator the assignment that qualifies, else the one
closest to qualifying (most criteria passed, then most progress towards the thresholds), ties to
the lowest account ids.

Its rows land in a per-rule temporary table with typed columns: the verdict, "near", the
estimated date, the qualifying (or closest) account, each criterion's result, and a digest of
those results. A recompute compares digests with the stored ones and builds the JSON document of
the results (`results_document`) only for the rows it writes; the single-creator "as of" answer
builds the same document from the same table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    not_,
    null,
    or_,
    select,
    true,
)
from sqlalchemy.sql.elements import ColumnElement

from agency.core.portable_sql import (
    as_float,
    as_text,
    birthday,
    ceiling,
    digest,
    greatest,
    json_array,
    json_bool,
    least,
    month_day_of,
    plus_days,
    year_of,
)
from agency.programmes.features import (
    NO_PLATFORM,
    EngineSettings,
    eta_column,
    feature_name,
    referenced_platforms,
)
from agency.programmes.rules import STANDING_ORDER

NEVER = date(9999, 12, 31)


def years_before(day: date, years: int) -> date:
    """The same calendar day `years` earlier (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


@dataclass(frozen=True)
class RuleTarget:
    """Which creators a rule version evaluates (its country scope within a chunk) and how."""

    program_id: int
    program_platform: str
    rule_version_id: int
    criteria: list
    scope: list[str] | None = None  # countries it applies to; None = all but `excluded`
    excluded: tuple[str, ...] = ()  # countries taken by scoped versions of the programme


@dataclass
class _Compiled:
    """One criterion: its typed result columns and the expressions for pass, near and forecast."""

    name: str
    criterion: dict
    columns: dict[str, ColumnElement] = field(default_factory=dict)
    passed: ColumnElement | None = None
    near: ColumnElement | None = None
    eta: ColumnElement | None = None
    progress: ColumnElement | None = None
    children: list[_Compiled] = field(default_factory=list)

    def all_columns(self) -> dict[str, ColumnElement]:
        out = dict(self.columns)
        out[f"{self.name}_passed"] = self.passed
        out[f"{self.name}_near"] = self.near
        out[f"{self.name}_eta"] = self.eta
        for child in self.children:
            out |= child.all_columns()
        return out


class _Context:
    def __init__(self, base: Table, platforms: list[str], as_of: date, settings: EngineSettings):
        self.as_of = as_of
        self.settings = settings
        self.accounts = {p: base.alias(f"acct_{p}") for p in platforms}
        self.facts = next(iter(self.accounts.values())) if platforms else base.alias("facts")


def _compile(criterion: dict, name: str, ctx: _Context) -> _Compiled:
    kind = criterion["kind"]
    out = _Compiled(name=name, criterion=criterion)
    facts = ctx.facts
    if kind == "metric":
        _metric(out, criterion, ctx)
    elif kind == "age":
        _age(out, criterion, ctx)
    elif kind == "country":
        out.columns[f"{name}_actual"] = facts.c.country
        out.passed = facts.c.country.in_(criterion["in"])
    elif kind == "standing":
        floor = STANDING_ORDER[criterion["at_least"]]
        allowed = [s for s, rank in STANDING_ORDER.items() if rank >= floor]
        out.columns[f"{name}_actual"] = facts.c.guideline_standing
        out.passed = facts.c.guideline_standing.in_(allowed)
    elif kind == "account_type":
        account = ctx.accounts[criterion["platform"]]
        out.columns[f"{name}_actual"] = account.c.account_type
        out.columns[f"{name}_account"] = account.c.account_id
        out.passed = account.c.account_type.in_(criterion["in"])
    elif kind == "any_of":
        out.children = [_compile(c, f"{name}_{i}", ctx) for i, c in enumerate(criterion["criteria"])]
        out.passed = or_(false(), *[c.passed for c in out.children])
        out.near = and_(not_(out.passed), or_(false(), *[c.near for c in out.children]))
        etas = [c.eta for c in out.children]
        earliest = (
            etas[0]
            if len(etas) == 1
            else cast(func.nullif(least(*[func.coalesce(e, literal(NEVER)) for e in etas]), literal(NEVER)), Date)
        )
        out.eta = case((out.passed, null()), else_=earliest)
        progress = [c.progress for c in out.children if c.progress is not None]
        out.progress = (progress[0] if len(progress) == 1 else greatest(*progress)) if progress else None
    out.passed = func.coalesce(out.passed, false())
    out.near = false() if out.near is None else func.coalesce(out.near, false())
    if out.eta is None:
        out.eta = cast(null(), Date)
    return out


def _metric(out: _Compiled, c: dict, ctx: _Context) -> None:
    account = ctx.accounts[c["platform"]]
    name = out.name
    feature = feature_name(c)
    threshold = literal(Decimal(str(c["min"])))
    actual = account.c[feature]
    day = account.c[f"{feature}_day"]
    latest = c["aggregate"] == "latest"
    stale = day < ctx.as_of - timedelta(days=ctx.settings.stale_days) if latest else false()
    usable = and_(actual.is_not(None), not_(stale)) if latest else actual.is_not(None)
    passed = and_(usable, actual >= threshold)
    if latest:
        slope = account.c[f"{c['metric']}_slope"]
        days = ceiling((float(c["min"]) - as_float(actual)) / slope)
        days = case((and_(usable, slope > 0, actual < threshold, days <= ctx.settings.horizon_days), days))
    else:
        days = case((and_(usable, actual < threshold), account.c[eta_column(feature, Decimal(str(c["min"])))]))
    out.columns |= {
        f"{name}_actual": actual,
        f"{name}_day": day,
        f"{name}_stale": func.coalesce(stale, false()),
        f"{name}_account": account.c.account_id,
        f"{name}_history": account.c[f"{c['metric']}_history"],
    }
    out.passed = passed
    out.near = and_(not_(passed), usable, actual >= literal(Decimal(str(c["min"])) * ctx.settings.margin))
    out.eta = plus_days(literal(ctx.as_of), days)
    out.progress = (
        case((passed, 1.0), (usable, as_float(actual) / float(c["min"])), else_=0.0) if c["min"] > 0 else literal(1.0)
    )


def _age(out: _Compiled, c: dict, ctx: _Context) -> None:
    name = out.name
    as_of = ctx.as_of
    facts = ctx.facts
    by_country = c.get("by_country") or {}
    minimum = c["min"]
    if by_country:
        threshold = case(
            *[(facts.c.country == code, max(years, minimum)) for code, years in sorted(by_country.items())],
            else_=minimum,
        )
        cutoff = case(
            *[
                (facts.c.country == code, literal(years_before(as_of, max(years, minimum))))
                for code, years in sorted(by_country.items())
            ],
            else_=literal(years_before(as_of, minimum)),
        )
    else:
        threshold = literal(minimum)
        cutoff = literal(years_before(as_of, minimum))
    dob = facts.c.date_of_birth
    age = as_of.year - year_of(dob) - case((month_day_of(dob) > as_of.month * 100 + as_of.day, 1), else_=0)
    old_enough = and_(dob.is_not(None), dob <= cutoff)
    parental = bool(c.get("parental_agreement_suffices"))
    passed = or_(old_enough, and_(literal(parental), facts.c.parental_agreement_on_file == true()))
    out.columns |= {
        f"{name}_actual": age,
        f"{name}_threshold": threshold,
        f"{name}_parental": and_(not_(old_enough), passed),
    }
    out.passed = passed
    out.eta = case((and_(dob.is_not(None), not_(passed)), birthday(dob, threshold)))


# The columns of one criterion's result in the shared table of a chunk's fresh evaluations
# ("slots": every rule writes its criteria, in order, into s0_*, s1_*, ...).
SLOT_FIELDS = {
    "passed": Boolean,
    "near": Boolean,
    "eta": Date,
    "num": Numeric,
    "text": lambda: String(24),
    "day": Date,
    "account": Integer,
    "flag": Boolean,
    "int": Integer,
}


def _slot_field(suffix: str, kind: str) -> str:
    if suffix == "actual":
        return "num" if kind in ("metric", "age") else "text"
    return {"stale": "flag", "parental": "flag", "threshold": "int", "history": "int"}.get(suffix, suffix)


def fresh_table(name: str, slot_count: int) -> Table:
    """The temporary table of a chunk's fresh evaluations, every rule's rows in one table."""
    return Table(
        name,
        MetaData(),
        Column("creator_id", Integer, primary_key=True),
        Column("program_id", Integer, primary_key=True),
        Column("rule_version_id", Integer),
        Column("account_id", Integer),
        Column("eligible", Boolean),
        Column("near_threshold", Boolean),
        Column("eta", Date),
        Column("digest", Text),
        *[Column(f"s{i}_{field}", type_()) for i in range(slot_count) for field, type_ in SLOT_FIELDS.items()],
        prefixes=["TEMPORARY"],
    )


class CompiledRule:
    """A rule target compiled against a base table: the statement that writes its fresh
    evaluations of a chunk into the shared fresh table, and the expression of its document."""

    def __init__(self, target: RuleTarget, base: Table, as_of: date, settings: EngineSettings):
        self.target = target
        self.platforms = referenced_platforms(target.criteria)
        self._ctx = _Context(base, self.platforms, as_of, settings)
        self._as_of = as_of
        self._compiled = [_compile(c, f"c{i}", self._ctx) for i, c in enumerate(target.criteria)]
        self._slot_of: dict[str, str] = {}
        self.slot_count = 0
        for item in self._compiled:
            self._assign_slots(item)

    def _assign_slots(self, item: _Compiled) -> None:
        index = self.slot_count
        self.slot_count += 1
        for name in [*item.columns, f"{item.name}_passed", f"{item.name}_near", f"{item.name}_eta"]:
            suffix = name[len(item.name) + 1 :]
            self._slot_of[name] = f"s{index}_{_slot_field(suffix, item.criterion['kind'])}"
        for child in item.children:
            self._assign_slots(child)

    def fill_select(self, fresh: Table):
        """The rows the rule writes into `fresh` (every column, in order): one per creator of the
        chunk in the rule's scope (the best assignment)."""
        r, values, by_slot = self._best()
        values = values | by_slot
        # Every column of the shared table, in its order: the slots this rule does not use are
        # NULL, so that all the rules' selects line up in one INSERT .. SELECT .. UNION ALL.
        columns = [(values[c.name] if c.name in values else cast(null(), c.type)).label(c.name) for c in fresh.c]
        return select(*columns).where(r.rank == 1)

    def evaluation_select(self, fresh: Table):
        """The same rows as `fill_select` as they are stored (the summary, the digest and the
        document), computed without the fresh table: for creators with no stored evaluation,
        nothing to compare with. Each result passes through its slot's type, as it does when it
        is read back from `fresh`, so that the document is the one `results_document` builds."""
        r, values, _by_slot = self._best()
        document = self._document(lambda name: cast(r[name], fresh.c[self._slot_of[name]].type))
        return select(*[expr.label(name) for name, expr in values.items()], document.label("details")).where(
            r.rank == 1
        )

    def _best(self):
        """The ranked assignments of the chunk (`rank` 1 is the one kept), the summary columns
        of a row (digest included) and its results by slot."""
        ctx = self._ctx
        facts = ctx.facts
        if self.platforms:
            first, *others = self.platforms
            source = ctx.accounts[first]
            conditions = [ctx.accounts[first].c.platform == first]
            for platform in others:
                account = ctx.accounts[platform]
                source = source.join(
                    account, and_(account.c.creator_id == facts.c.creator_id, account.c.platform == platform)
                )
        else:
            source = facts
            conditions = [facts.c.platform == NO_PLATFORM]
        if self.target.scope is not None:
            conditions.append(facts.c.country.in_(self.target.scope))
        elif self.target.excluded:
            conditions.append(facts.c.country.not_in(self.target.excluded))
        columns = {"creator_id": facts.c.creator_id}
        for platform, account in ctx.accounts.items():
            columns[f"account_{platform}"] = account.c.account_id
        for item in self._compiled:
            columns |= item.all_columns()
        passes = [item.passed for item in self._compiled]
        columns["eligible"] = and_(true(), *passes)
        columns["passed_count"] = sum((case((p, 1), else_=0) for p in passes), literal(0))
        columns["progress"] = sum((i.progress for i in self._compiled if i.progress is not None), literal(0.0))
        inner = select(*[expr.label(key) for key, expr in columns.items()]).select_from(source).where(*conditions)
        inner = inner.subquery("assignments")
        order = [inner.c.eligible.desc(), inner.c.passed_count.desc(), inner.c.progress.desc()]
        order += [inner.c[f"account_{p}"].asc().nulls_last() for p in self.platforms]
        ranked = select(
            inner, func.row_number().over(partition_by=inner.c.creator_id, order_by=order).label("rank")
        ).subquery("ranked")
        r = ranked.c
        top_passed = [r[f"{item.name}_passed"] for item in self._compiled]
        top_near = [r[f"{item.name}_near"] for item in self._compiled]
        top_eta = [r[f"{item.name}_eta"] for item in self._compiled]
        near_all = and_(not_(r.eligible), *[or_(p, n) for p, n in zip(top_passed, top_near)])
        every_failing_has_eta = and_(true(), *[or_(p, e.is_not(None)) for p, e in zip(top_passed, top_eta)])
        as_of = literal(self._as_of)
        latest_eta = greatest(as_of, *[case((p, as_of), else_=e) for p, e in zip(top_passed, top_eta)])
        primary = (
            self.target.program_platform
            if self.target.program_platform in self.platforms
            else (self.platforms or [None])[0]
        )
        by_slot = {slot: r[name] for name, slot in self._slot_of.items()}
        values = {
            "creator_id": r.creator_id,
            "program_id": literal(self.target.program_id),
            "rule_version_id": literal(self.target.rule_version_id),
            "account_id": r[f"account_{primary}"] if primary else cast(null(), Integer),
            "eligible": r.eligible,
            "near_threshold": near_all,
            "eta": case((and_(not_(r.eligible), every_failing_has_eta), latest_eta)),
            "digest": digest(list(by_slot.values()), self._document(lambda name: r[name])),
        }
        return r, values, by_slot

    def results_document(self, fresh: Table) -> ColumnElement:
        """The JSON array of every criterion's result, read from the rule's slots of `fresh`
        (explanation.py turns it into the document users read)."""
        return self._document(lambda name: fresh.c[self._slot_of[name]])

    def _document(self, column) -> ColumnElement:
        return json_array(*[_result(item, column) for item in self._compiled])


def _result(compiled: _Compiled, column) -> ColumnElement:
    """One criterion's result as a compact JSON array:

    metric: [passed, actual, value_day, near, eta, account_id, stale, days of history the forecast used]
    age: [passed, actual age, birthday (eta), threshold, passed by parental agreement]
    country, standing: [passed, actual]
    account_type: [passed, actual type, account_id]
    any_of: [passed, near, eta, [results of its criteria]]
    """
    kind = compiled.criterion["kind"]
    n = compiled.name
    passed = json_bool(column(f"{n}_passed"))
    if kind == "metric":
        items = [
            passed,
            func.round(column(f"{n}_actual"), 2),
            as_text(column(f"{n}_day")),
            json_bool(column(f"{n}_near")),
            as_text(column(f"{n}_eta")),
            column(f"{n}_account"),
            json_bool(column(f"{n}_stale")),
            column(f"{n}_history"),
        ]
    elif kind == "age":
        items = [
            passed,
            cast(column(f"{n}_actual"), Integer),
            as_text(column(f"{n}_eta")),
            column(f"{n}_threshold"),
            json_bool(func.coalesce(column(f"{n}_parental"), false())),
        ]
    elif kind in ("country", "standing"):
        items = [passed, column(f"{n}_actual")]
    elif kind == "account_type":
        items = [passed, column(f"{n}_actual"), column(f"{n}_account")]
    else:
        items = [
            passed,
            json_bool(column(f"{n}_near")),
            as_text(column(f"{n}_eta")),
            json_array(*[_result(child, column) for child in compiled.children]),
        ]
    return json_array(*items)


__all__ = ["CompiledRule", "RuleTarget", "fresh_table", "years_before"]
