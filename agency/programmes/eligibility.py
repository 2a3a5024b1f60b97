"""The eligibility engine: for every creator and programme, eligible or not, why, and when.

A recompute works chunk by chunk (creators by id range). For each chunk it fills the base table
of features once (features.py) and evaluates every rule version in force (compiler.py). It then
writes in SQL only what differs from the stored evaluations, comparing digests of the
per-criterion results. On PostgreSQL one statement compares the evaluations with the stored ones
as it computes them: only those that differ or are new land in the temporary table of fresh
rows, and the stored ones no longer computed are marked to go, so an unchanged chunk writes
nothing at all. The JSON document of the results is built only for the rows written (a chunk
with nothing stored yet is inserted as computed, documents included, without the temporary
tables), and a history row is appended per gain, loss or end (a creator's history starts with
their first gain or loss). Python reads only the gains and losses (to say which criteria changed
and when the change took effect), so memory does not grow with the roster.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property

from sqlalchemy import (
    Column,
    Integer,
    and_,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from agency.core.database import (
    batch_settings,
    bulk_insert,
    empty_tables,
    refresh_statistics,
    temporary,
    temporary_table,
)
from agency.core.portable_sql import json_array
from agency.programmes.compiler import CompiledRule, RuleTarget, fresh_table
from agency.programmes.features import (
    EngineSettings,
    FeaturePlan,
    base_table,
    crossing_statements,
    fill_base,
    windows_table,
)
from agency.programmes.models import EligibilityChange, EligibilityEvaluation, Program, RuleVersion
from agency.programmes.rules import criterion_key, describe
from agency.roster.chunks import CHUNK_SIZE, Chunk, chunks_of, run_isolated
from agency.roster.models import Creator, Platform

EVALUATION = EligibilityEvaluation.__table__
CHANGE = EligibilityChange.__table__
RULE = RuleVersion.__table__
CREATOR = Creator.__table__
SUMMARY = ("rule_version_id", "account_id", "eligible", "near_threshold", "eta")
# What the planner needs statistics of after a bulk write: the columns queries filter, join and
# sort on.
STATISTICS_COLUMNS = {
    EVALUATION.name: ["creator_id", "program_id", *SUMMARY, "as_of"],
    CHANGE.name: [
        "creator_id",
        "program_id",
        "rule_version_id",
        "change",
        "eligible",
        "as_of",
        "effective_on",
        "recorded_at",
    ],
}


# --- rules in force ---------------------------------------------------------------------------


def rules_in_force(db_session: Session, as_of: date) -> dict[int, list[RuleVersion]]:
    """Programme id -> its rule versions in force on `as_of`, highest version first. Dates alone
    decide (switching a programme off closes its versions from that day): answers about the days
    a programme was in force keep it."""
    rows = db_session.scalars(
        select(RuleVersion)
        .where(RuleVersion.in_force_condition(as_of))
        .order_by(RuleVersion.program_id, RuleVersion.version.desc())
    )
    by_program: dict[int, list[RuleVersion]] = defaultdict(list)
    for rule in rows:
        by_program[rule.program_id].append(rule)
    return by_program


def rule_targets(db_session: Session, as_of: date) -> list[tuple[RuleTarget, RuleVersion]]:
    """Which version applies to whom: a country-scoped version wins for its countries, the
    newest unscoped version covers everyone else."""
    targets = []
    for program_id, versions in rules_in_force(db_session, as_of).items():
        platform = Platform(versions[0].program.platform).value
        claimed: list[str] = []
        for rule in versions:
            if rule.country_scope:
                countries = [c for c in rule.country_scope if c not in claimed]
                if countries:
                    claimed += countries
                    targets.append((RuleTarget(program_id, platform, rule.id, rule.criteria, scope=countries), rule))
        unscoped = next((r for r in versions if not r.country_scope), None)
        if unscoped is not None:
            targets.append(
                (
                    RuleTarget(program_id, platform, unscoped.id, unscoped.criteria, excluded=tuple(sorted(claimed))),
                    unscoped,
                )
            )
    return targets


# --- the workspace of one recompute -----------------------------------------------------------


class Workspace:
    """The temporary tables of a recompute: created once, emptied for each chunk, dropped at the
    end (a rolled-back transaction drops them too)."""

    def __init__(
        self,
        db_session: Session,
        as_of: date,
        settings: EngineSettings,
        targets: list[tuple[RuleTarget, RuleVersion | None]],
    ):
        self.db_session = db_session
        self.as_of = as_of
        self.settings = settings
        self.rules = {rule.id: rule for _, rule in targets if rule is not None}
        self.plan = FeaturePlan.for_rules([t.criteria for t, _ in targets])
        self.base = base_table(self.plan)
        self.windows = windows_table(self.plan, self.base)
        self.compiled = [CompiledRule(target, self.base, as_of, settings) for target, _ in targets]
        slots = max([r.slot_count for r in self.compiled], default=0)
        self.fresh = temporary_table(
            f"{self.base.name}_fresh{slots}", lambda: fresh_table(f"{self.base.name}_fresh{slots}", slots)
        )
        self.changes = temporary(
            f"{self.base.name}_changes",
            lambda: [
                Column("creator_id", Integer, primary_key=True),
                Column("program_id", Integer, primary_key=True),
                Column("state", Integer),
            ],
        )
        self._tables = [self.base, self.windows, self.fresh, self.changes]
        self.crossings = crossing_statements(self.plan, self.base, as_of, settings)
        self._compare_statements: dict[bool, object] = {}

    @property
    def connection(self):
        return self.db_session.connection().execution_options(preserve_rowcount=True)

    def __enter__(self) -> Workspace:
        connection = self.connection
        for table in self._tables:
            # One left behind on this connection by a recompute that failed without a rollback has
            # the same columns (its name says so); evaluate() empties it before each chunk.
            table.create(connection, checkfirst=True)
        return self

    def __exit__(self, exc_type, *_exc) -> None:
        if exc_type is not None:
            return  # the caller's rollback drops what this transaction created
        connection = self.db_session.connection()
        for table in reversed(self._tables):
            table.drop(connection, checkfirst=True)

    def evaluate(self, chunk: Chunk) -> int:
        """Fill the base table and the fresh evaluations for the chunk; returns how many."""
        self.prepare(chunk)
        return self.fill()

    def prepare(self, chunk: Chunk) -> None:
        """Empty the tables and fill the base table (the chunk's features)."""
        connection = self.connection
        # For each chunk: a recompute that commits after each chunk runs every later chunk in a
        # new transaction. Sorts of a chunk's snapshots fit in 64 MB.
        batch_settings(connection, work_mem="64MB")
        empty_tables(connection, self._tables)
        fill_base(connection, self.plan, self.base, self.windows, chunk, self.as_of, self.settings, self.crossings)

    def fill(self) -> int:
        """Fill the fresh evaluations from the prepared base table; returns how many."""
        return self.connection.execute(self.fill_statement).rowcount if self.compiled else 0

    def store(self) -> int:
        """Insert the evaluations of the prepared chunk straight into the stored table (a chunk
        with none stored: nothing to compare with); returns how many."""
        return self.connection.execute(self.store_statement).rowcount if self.compiled else 0

    @cached_property
    def rows(self):
        """Every rule version's fresh rows (the columns of the fresh table) as one select, built
        once for all the chunks."""
        selects = [rule.fill_select(self.fresh) for rule in self.compiled]
        return selects[0] if len(selects) == 1 else union_all(*selects)

    @cached_property
    def fill_statement(self):
        """Every rule version's fresh rows in one statement (compiled once per process, see
        temporary_table)."""
        return insert(self.fresh).from_select([c.name for c in self.fresh.c], self.rows)

    @cached_property
    def computed(self):
        """Every rule version's fresh rows as one subquery (see `compare`)."""
        return self.rows.subquery("computed")

    def compare(self, chunk: Chunk) -> int:
        """Compare the prepared chunk's evaluations with the stored ones in one statement
        (PostgreSQL): the rows that differ from their stored row, or have none, go into the
        fresh table; the key and state of each of those and of each stored row no longer
        computed go into the changes table. Nothing else is written: an unchanged chunk leaves
        both tables empty. Returns how many changes."""
        if not self.compiled:
            # No rule in force: every stored evaluation of the chunk goes.
            return self.connection.execute(
                insert(self.changes).from_select(
                    ["creator_id", "program_id", "state"],
                    select(EVALUATION.c.creator_id, EVALUATION.c.program_id, literal(REMOVED)).where(
                        chunk.condition(EVALUATION.c.creator_id)
                    ),
                )
            ).rowcount
        return self.connection.execute(self.compare_statement(chunk.by_ids), chunk.as_arguments()).rowcount

    def compare_statement(self, by_ids: bool):
        """The statement of `compare`, for a chunk given by its creator ids (`creator_ids`) or by
        its range of ids (`first_id`, `last_id`): built once for all the chunks."""
        if by_ids not in self._compare_statements:
            self._compare_statements[by_ids] = self._build_compare_statement(by_ids)
        return self._compare_statements[by_ids]

    def _build_compare_statement(self, by_ids: bool):
        computed, fresh, changes = self.computed, self.fresh, self.changes
        in_chunk = Chunk.bound_condition(EVALUATION.c.creator_id, by_ids)
        stored = (
            select(EVALUATION.c.creator_id, EVALUATION.c.program_id, *[EVALUATION.c[n] for n in (*SUMMARY, "digest")])
            .where(in_chunk)
            .subquery("stored")
        )
        same = and_(stored.c.creator_id == computed.c.creator_id, stored.c.program_id == computed.c.program_id)
        differs = _differs(stored, computed)
        state = _change_state(stored, computed, (computed.c.creator_id.is_(None), REMOVED))
        compared = (
            select(
                *computed.c,
                func.coalesce(computed.c.creator_id, stored.c.creator_id).label("key_creator_id"),
                func.coalesce(computed.c.program_id, stored.c.program_id).label("key_program_id"),
                state.label("state"),
            )
            .select_from(computed.outerjoin(stored, same, full=True))
            .where(or_(stored.c.creator_id.is_(None), computed.c.creator_id.is_(None), differs))
            .cte("compared")
        )
        names = [c.name for c in fresh.c]
        fresh_rows = (
            insert(fresh)
            .from_select(names, select(*[compared.c[n] for n in names]).where(compared.c.state != REMOVED))
            .cte("fresh_rows")
        )
        return (
            insert(changes)
            .from_select(
                ["creator_id", "program_id", "state"],
                select(compared.c.key_creator_id, compared.c.key_program_id, compared.c.state),
            )
            .add_cte(fresh_rows)
        )

    @cached_property
    def store_statement(self):
        """Every rule version's rows as they are stored, in one statement (see `store`)."""
        selects = [
            rule.evaluation_select(self.fresh).add_columns(literal(self.as_of).label("as_of")) for rule in self.compiled
        ]
        rows = selects[0] if len(selects) == 1 else union_all(*selects)
        return insert(EVALUATION).from_select(list(rows.selected_columns.keys()), rows)

    def document(self) -> ColumnElement:
        """The JSON document of each fresh row, by the rule version that produced it."""
        return self._document

    @cached_property
    def _document(self) -> ColumnElement:
        if not self.compiled:
            return json_array()
        return case(
            *[
                (self.fresh.c.rule_version_id == rule.target.rule_version_id, rule.results_document(self.fresh))
                for rule in self.compiled
            ]
        )


# --- writing only what changed ----------------------------------------------------------------


@dataclass
class RecomputeResult:
    as_of: date
    chunks: int = 0
    evaluated: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    transitions: int = 0
    gained: list[tuple[int, int]] = field(default_factory=list)
    lost: list[tuple[int, int]] = field(default_factory=list)
    failed_items: list[dict] = field(default_factory=list)  # creators whose evaluation failed

    def add(self, other: RecomputeResult) -> None:
        for name in ("chunks", "evaluated", "inserted", "updated", "unchanged", "removed", "transitions"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.gained += other.gained
        self.lost += other.lost
        self.failed_items += other.failed_items

    def as_dict(self) -> dict:
        return {
            "as_of": self.as_of.isoformat(),
            "chunks": self.chunks,
            "evaluated": self.evaluated,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "transitions": self.transitions,
            "gained": len(self.gained),
            "lost": len(self.lost),
            "failed_items": self.failed_items,
        }


NEW, CHANGED, TRANSITION, REMOVED = 1, 2, 3, 4


def _differs(stored, computed) -> ColumnElement[bool]:
    """Whether a computed evaluation differs from its stored row (summary or digest of results)."""
    return or_(*[stored.c[name].is_distinct_from(computed.c[name]) for name in (*SUMMARY, "digest")])


def _change_state(stored, computed, *whens):
    """The change of a computed evaluation against its stored row: NEW without one, then `whens`,
    then TRANSITION when the verdict flips, else CHANGED."""
    return case(
        (stored.c.creator_id.is_(None), NEW),
        *whens,
        (stored.c.eligible != computed.c.eligible, TRANSITION),
        else_=CHANGED,
    )


def write_chunk(workspace: Workspace, chunk: Chunk) -> RecomputeResult:
    """Evaluate the chunk, compare its fresh evaluations with the stored ones and write the
    differences.

    A chunk with no stored evaluation (a first recompute, new creators) has nothing to compare
    with and no history to write: its evaluations are inserted as they are computed. Otherwise
    one pass sorts out what is new, what changed, what gained or lost and what is no longer
    evaluated; the writes then touch only those rows. On PostgreSQL that pass compares the
    computed rows with the stored ones as they are computed and keeps only those that differ
    (`Workspace.compare`): an unchanged chunk writes nothing, not even to its temporary tables.
    Each join to the stored rows names the chunk: it reads the chunk's rows through the index,
    never the whole table, whatever the statistics say."""
    connection = workspace.connection
    as_of = workspace.as_of
    workspace.prepare(chunk)
    postgres = connection.dialect.name == "postgresql"
    # (On PostgreSQL: SQLite's casts would not give the values the fresh table's column types do.)
    if postgres and not _any_stored(connection, chunk):
        inserted = workspace.store()
        return RecomputeResult(as_of=as_of, chunks=1, evaluated=inserted, inserted=inserted)
    fresh, changes = workspace.fresh, workspace.changes
    stored = EVALUATION.alias("stored")
    same = and_(
        stored.c.creator_id == fresh.c.creator_id,
        stored.c.program_id == fresh.c.program_id,
        chunk.condition(stored.c.creator_id),
    )
    if postgres:
        evaluated = None  # counted once the writes are done
        found = workspace.compare(chunk)
    else:
        evaluated = workspace.fill()
        differs, state = _differs(stored, fresh), _change_state(stored, fresh)
        found = connection.execute(
            insert(changes).from_select(
                ["creator_id", "program_id", "state"],
                select(fresh.c.creator_id, fresh.c.program_id, state)
                .select_from(fresh.outerjoin(stored, same))
                .where(or_(stored.c.creator_id.is_(None), differs)),
            )
        ).rowcount
    result = RecomputeResult(as_of=as_of, chunks=1)
    if not found and postgres:
        # Nothing differs, nothing to remove: every stored row of the chunk is one of its
        # evaluations.
        result.evaluated = result.unchanged = _stored_count(connection, chunk)
        return result
    if found > 1000 and postgres:
        connection.exec_driver_sql(f'ANALYZE "{changes.name}"')
        connection.exec_driver_sql(f'ANALYZE "{fresh.name}" (creator_id, program_id)')
    document = workspace.document()
    changed = and_(changes.c.creator_id == fresh.c.creator_id, changes.c.program_id == fresh.c.program_id)

    # Gains and losses: the only rows Python reads (none when nothing differs).
    transitions = []
    if found:
        transitions = connection.execute(
            select(
                fresh.c.creator_id,
                fresh.c.program_id,
                fresh.c.rule_version_id,
                fresh.c.eligible,
                document.label("details"),
                stored.c.rule_version_id.label("old_rule_version_id"),
                stored.c.details.label("old_details"),
            )
            .select_from(changes.join(fresh, changed).join(stored, same))
            .where(changes.c.state == TRANSITION)
        ).all()
    history = [_history_row(row, workspace) for row in transitions]
    for row in transitions:
        (result.gained if row.eligible else result.lost).append((row.creator_id, row.program_id))
    result.transitions = len(history)
    if history:
        bulk_insert(connection, CHANGE, history)
    # Update what differs (building the document for those rows only), insert what is new.
    if found:
        result.updated = connection.execute(
            EVALUATION.update()
            .where(
                EVALUATION.c.creator_id == fresh.c.creator_id,
                EVALUATION.c.program_id == fresh.c.program_id,
                chunk.condition(EVALUATION.c.creator_id),
                changes.c.creator_id == fresh.c.creator_id,
                changes.c.program_id == fresh.c.program_id,
                changes.c.state.in_((CHANGED, TRANSITION)),
            )
            .values(
                {name: fresh.c[name] for name in (*SUMMARY, "digest")}
                | {"details": document, "as_of": as_of, "computed_at": func.now()}
            )
        ).rowcount
        names = ["creator_id", "program_id", *SUMMARY, "digest"]
        result.inserted = connection.execute(
            insert(EVALUATION).from_select(
                [*names, "details", "as_of"],
                select(*[fresh.c[n] for n in names], document, literal(as_of))
                .select_from(changes.join(fresh, changed))
                .where(changes.c.state == NEW),
            )
        ).rowcount

    # Programmes no longer in force for a creator of the chunk (a version ended, the programme
    # closed, a country-scoped version no longer applies): their evaluations go, with those of
    # archived creators, and history says so for creators still on the roster, dated the day the
    # version ended. On PostgreSQL the comparison found them; otherwise, after the writes above
    # every fresh row has its stored row: when the chunk has no more stored rows than fresh ones
    # (counted through the index), nothing is to go.
    if postgres:
        gone = exists().where(
            changes.c.creator_id == EVALUATION.c.creator_id,
            changes.c.program_id == EVALUATION.c.program_id,
            changes.c.state == REMOVED,
        )
        if connection.scalar(select(changes.c.creator_id).where(changes.c.state == REMOVED).limit(1)) is None:
            gone = None
    elif _stored_count(connection, chunk) == evaluated:
        gone = None
    else:
        gone = ~exists().where(
            fresh.c.creator_id == EVALUATION.c.creator_id, fresh.c.program_id == EVALUATION.c.program_id
        )
    if gone is not None:
        removed = connection.execute(
            delete(EVALUATION)
            .where(chunk.condition(EVALUATION.c.creator_id), gone)
            .returning(EVALUATION.c.creator_id, EVALUATION.c.program_id, EVALUATION.c.rule_version_id)
        ).all()
        result.removed = len(removed)
        if removed:
            _record_ended(workspace, removed)
    # Every evaluation of the chunk is now stored, and only those.
    result.evaluated = evaluated if evaluated is not None else _stored_count(connection, chunk)
    result.unchanged = result.evaluated - result.inserted - result.updated
    return result


def _any_stored(connection, chunk: Chunk) -> bool:
    """Whether any evaluation is stored for the chunk's creators: the first by creator, one
    entry of the (creator, programme) index (a bare EXISTS may scan the table for the first
    row in range)."""
    first = (
        select(EVALUATION.c.creator_id)
        .where(chunk.condition(EVALUATION.c.creator_id))
        .order_by(EVALUATION.c.creator_id)
        .limit(1)
    )
    return connection.scalar(first) is not None


def _stored_count(connection, chunk: Chunk) -> int:
    """How many evaluations are stored for the chunk's creators (counted through the index)."""
    return connection.scalar(
        select(func.count()).select_from(EVALUATION).where(chunk.condition(EVALUATION.c.creator_id))
    )


def _record_ended(workspace: Workspace, removed: list) -> None:
    """An 'ended' history row for each removed evaluation of a creator still on the roster."""
    connection, as_of = workspace.connection, workspace.as_of
    archived = set(
        connection.scalars(
            select(CREATOR.c.id).where(
                CREATOR.c.id.in_({row.creator_id for row in removed}), CREATOR.c.archived_at.is_not(None)
            )
        )
    )
    ended_on = dict(
        connection.execute(
            select(RULE.c.id, RULE.c.effective_to).where(RULE.c.id.in_({row.rule_version_id for row in removed}))
        ).all()
    )
    history = [
        {
            "creator_id": row.creator_id,
            "program_id": row.program_id,
            "rule_version_id": row.rule_version_id,
            "change": "ended",
            "eligible": False,
            "as_of": as_of,
            "effective_on": min(ended_on.get(row.rule_version_id) or as_of, as_of),
            "changed_criteria": [],
        }
        for row in removed
        if row.creator_id not in archived
    ]
    if history:
        bulk_insert(connection, CHANGE, history)


def _history_row(row, workspace: Workspace) -> dict:
    old_rule = workspace.rules.get(row.old_rule_version_id) or _rule_version(workspace, row.old_rule_version_id)
    rule = workspace.rules[row.rule_version_id]
    old_criteria = old_rule.criteria if old_rule is not None else None
    changed = changed_criteria(old_criteria, row.old_details or [], rule.criteria, row.details or [], workspace.as_of)
    # A verdict that now reads another account (one account, one verdict) took effect with that
    # account's figures, though only the account-type criterion may have changed its pass flag.
    switched = [
        {"value_day": day}
        for day in switched_account_days(old_criteria, row.old_details or [], rule.criteria, row.details or [])
    ]
    return {
        "creator_id": row.creator_id,
        "program_id": row.program_id,
        "rule_version_id": row.rule_version_id,
        "change": "gained" if row.eligible else "lost",
        "eligible": row.eligible,
        "as_of": workspace.as_of,
        "effective_on": effective_on(
            [*changed, *switched],
            row.old_rule_version_id,
            row.rule_version_id,
            workspace.rules,
            workspace.as_of,
            workspace.settings,
        ),
        "changed_criteria": changed,
    }


def _rule_version(workspace: Workspace, rule_version_id: int | None) -> RuleVersion | None:
    return workspace.db_session.get(RuleVersion, rule_version_id) if rule_version_id else None


def _flat(criteria: list[dict], results: list) -> Iterator[tuple[dict, list]]:
    for criterion, result in zip(criteria, results):
        yield criterion, result
        if criterion["kind"] == "any_of":
            yield from _flat(criterion["criteria"], result[3])


def changed_criteria(
    old_criteria: list[dict] | None, old_results: list, criteria: list[dict], results: list, as_of: date | None = None
) -> list[dict]:
    """Criteria whose pass flag differs, matched by what they measure (their key), not their label.
    An age criterion passed on a birthday carries it; a birthday still to come (the birth date was
    corrected) did not make anything pass and is left out."""
    before = {criterion_key(c): r for c, r in _flat(old_criteria or [], old_results)} if old_criteria else {}
    out = []
    for criterion, result in _flat(criteria, results):
        key = criterion_key(criterion)
        previous = before.get(key)
        was = previous[0] if previous is not None else None
        if was != result[0]:
            item = {"key": key, "label": describe(criterion), "passed": result[0], "was": was}
            if criterion["kind"] == "metric":
                item |= {"actual": result[1], "value_day": result[2], "stale": result[6], "threshold": criterion["min"]}
            elif criterion["kind"] == "age" and previous is not None and _birthday_passed(previous[2], as_of):
                item["birthday"] = previous[2]
            out.append(item)
    return out


def switched_account_days(
    old_criteria: list[dict] | None, old_results: list, criteria: list[dict], results: list
) -> list[str]:
    """The days of the current figures of the metric criteria that now read another account than
    the previous evaluation did (stale figures left out: their day is not when anything began)."""
    if not old_criteria:
        return []
    before = {criterion_key(c): r for c, r in _flat(old_criteria, old_results)}
    days = []
    for criterion, result in _flat(criteria, results):
        previous = before.get(criterion_key(criterion))
        if criterion["kind"] != "metric" or previous is None or len(previous) < 7 or len(result) < 7:
            continue
        if previous[5] != result[5] and result[2] and not result[6]:
            days.append(result[2])
    return days


def _birthday_passed(birthday, as_of: date | None) -> bool:
    return birthday is not None and (as_of is None or date.fromisoformat(str(birthday)) <= as_of)


def effective_on(
    changed: list[dict],
    old_rule_version_id,
    rule_version_id,
    rules: dict[int, RuleVersion],
    as_of: date,
    settings: EngineSettings,
) -> date:
    """The day the change took effect: the first day of a new rule version, the day of the
    metric that crossed (or the day it went stale), a birthday; the evaluation day when nothing
    says more."""
    days: list[date] = []
    if old_rule_version_id != rule_version_id and rule_version_id in rules:
        days.append(rules[rule_version_id].effective_from)
    for item in changed:
        if item.get("stale") and item.get("value_day"):
            days.append(date.fromisoformat(item["value_day"]) + timedelta(days=settings.stale_days + 1))
        elif item.get("value_day"):
            days.append(date.fromisoformat(item["value_day"]))
        elif item.get("birthday") and item.get("passed"):
            days.append(date.fromisoformat(item["birthday"]))
    days = [d for d in days if d <= as_of]
    return max(days) if days else as_of


# --- the recompute ----------------------------------------------------------------------------


def _lock_chunk(workspace: Workspace, chunk: Chunk) -> None:
    """One evaluation of a creator at a time (two would both see the old verdict and both
    record the same gain): a transaction lock per range of CHUNK_SIZE creator ids it touches,
    taken in order so that two recomputes never wait on each other in a circle."""
    connection = workspace.connection
    if connection.dialect.name != "postgresql":
        return  # SQLite runs one writing transaction at a time
    if chunk.creator_ids is not None:
        keys = sorted({creator_id // CHUNK_SIZE for creator_id in chunk.creator_ids})
    else:
        keys = list(range(chunk.first_id // CHUNK_SIZE, chunk.last_id // CHUNK_SIZE + 1))
    for key in keys:
        connection.execute(text("SELECT pg_advisory_xact_lock(hashtext('eligibility'), :key)"), {"key": key})


def recompute_chunk(
    db_session: Session, chunk: Chunk, as_of: date, settings: EngineSettings = EngineSettings()
) -> RecomputeResult:
    """Evaluate one chunk of creators and write what changed, in the caller's transaction."""
    targets = rule_targets(db_session, as_of)
    with Workspace(db_session, as_of, settings, targets) as workspace:
        result = _write_isolated(workspace, chunk)
    _refresh_statistics(db_session, result)
    return result


def _write_isolated(workspace: Workspace, chunk: Chunk) -> RecomputeResult:
    """Evaluate and write one chunk; a creator whose evaluation fails is reported in
    `failed_items` and the others of the chunk are written (see `run_isolated`)."""

    def work(part: Chunk) -> RecomputeResult:
        _lock_chunk(workspace, part)
        return write_chunk(workspace, part)

    parts, failed = run_isolated(workspace.db_session, chunk, work)
    result = RecomputeResult(as_of=workspace.as_of)
    for part in parts:
        result.add(part)
    result.chunks, result.failed_items = 1, failed
    return result


def _refresh_statistics(db_session: Session, result: RecomputeResult) -> None:
    """A first recompute fills the evaluations table in bulk: its statistics follow (only when
    the table grew by a noticeable share, see `refresh_statistics`), for the columns queries
    filter, join and sort on (not the result documents nor the digests)."""
    refresh_statistics(
        db_session.connection(), [EVALUATION, CHANGE], result.inserted + result.transitions, STATISTICS_COLUMNS
    )


def recompute_eligibility(
    *,
    db_session: Session,
    creator_ids: list[int] | None = None,
    as_of: date | None = None,
    settings: EngineSettings = EngineSettings(),
    chunk_size: int = CHUNK_SIZE,
    progress: Callable[[int, int], None] | None = None,
    commit: Callable[[], None] | None = None,
) -> RecomputeResult:
    """Evaluate every programme in force for the creators (all when None), chunk by chunk,
    writing only changes. `commit`, when given, is called after each chunk (a long recompute
    then holds no lock beyond one chunk); otherwise the caller's transaction covers everything."""
    as_of = as_of or date.today()
    result = RecomputeResult(as_of=as_of)
    targets = rule_targets(db_session, as_of)
    chunks = chunks_of(db_session, creator_ids, chunk_size)
    with Workspace(db_session, as_of, settings, targets) as workspace:
        for done, chunk in enumerate(chunks, start=1):
            result.add(_write_isolated(workspace, chunk))
            if commit is not None:
                commit()
            if progress:
                progress(done, len(chunks))
    _refresh_statistics(db_session, result)
    return result


def explain_creator(
    *, db_session: Session, creator_id: int, as_of: date, settings: EngineSettings = EngineSettings()
) -> list[dict]:
    """Fresh evaluations of one creator on any day, nothing written: the "as of" answer, with
    the same result documents a recompute stores."""
    targets = rule_targets(db_session, as_of)
    with Workspace(db_session, as_of, settings, targets) as workspace:
        workspace.evaluate(Chunk(creator_ids=(creator_id,)))
        fresh = workspace.fresh
        rows = workspace.connection.execute(
            select(
                fresh.c.program_id,
                fresh.c.rule_version_id,
                fresh.c.account_id,
                fresh.c.eligible,
                fresh.c.near_threshold,
                fresh.c.eta,
                workspace.document().label("details"),
            ).order_by(fresh.c.program_id)
        ).all()
    return [dict(row._mapping) | {"creator_id": creator_id, "as_of": as_of} for row in rows]


def preview_rule(
    *,
    db_session: Session,
    program: Program,
    criteria: list[dict],
    as_of: date,
    settings: EngineSettings = EngineSettings(),
    chunk_size: int = CHUNK_SIZE,
) -> list[dict]:
    """Which creators a draft rule version would change for `program` compared with their stored
    evaluation (nothing written): [{creator_id, name, before, after}], by name."""
    target = RuleTarget(program.id, Platform(program.platform).value, 0, criteria)
    changes = []
    with Workspace(db_session, as_of, settings, [(target, None)]) as workspace:
        fresh = workspace.fresh
        stored = EVALUATION.alias("stored")
        for chunk in chunks_of(db_session, None, chunk_size):
            workspace.evaluate(chunk)
            rows = workspace.connection.execute(
                select(
                    fresh.c.creator_id,
                    Creator.display_name,
                    stored.c.eligible.label("before"),
                    fresh.c.eligible.label("after"),
                )
                .join(Creator, Creator.id == fresh.c.creator_id)
                .outerjoin(
                    stored,
                    and_(
                        stored.c.creator_id == fresh.c.creator_id,
                        stored.c.program_id == program.id,
                        chunk.condition(stored.c.creator_id),
                    ),
                )
                .where(or_(stored.c.creator_id.is_(None), stored.c.eligible != fresh.c.eligible))
            )
            changes += [
                {"creator_id": r.creator_id, "name": r.display_name, "before": r.before, "after": r.after} for r in rows
            ]
    return sorted(changes, key=lambda c: (c["name"] or "", c["creator_id"]))


__all__ = [
    "EngineSettings",
    "RecomputeResult",
    "changed_criteria",
    "effective_on",
    "explain_creator",
    "preview_rule",
    "recompute_eligibility",
    "rule_targets",
    "rules_in_force",
]
