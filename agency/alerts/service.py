"""Alerts: keep one open alert per condition, and their lifecycle.

`evaluate_alerts` works chunk by chunk of creators: one statement finds the evaluators'
conditions (evaluators.py) and writes what changed to a temporary table: the new conditions, and
the open alerts whose condition cleared, which are then resolved in SQL; the new conditions are
opened: those worded in SQL straight from that table, the others read back and worded in
Python; after the last chunk, each manager's immediate emails for the whole run are queued in the
same transaction; a condition that comes back later opens a new alert. An unchanged roster opens
and resolves nothing, and writes no row. Users acknowledge and resolve alerts by hand.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Insert,
    Integer,
    Select,
    String,
    Table,
    Text,
    and_,
    case,
    cast,
    exists,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from agency.alerts.evaluators import EVALUATORS, AlertSettings, ChunkSources, Evaluator
from agency.alerts.models import Alert, AlertKind, AlertStatus
from agency.alerts.notifications import ImmediateEmails
from agency.core.audit.service import Actor, record_audit
from agency.core.database import (
    JSONDocument,
    batch_settings,
    bulk_insert,
    empty_tables,
    refresh_statistics,
    temporary,
    utcnow,
)
from agency.core.errors import Conflict, Forbidden, NotFound
from agency.core.prometheus import ALERTS_OPENED
from agency.core.users.models import Role, User
from agency.roster.chunks import CHUNK_SIZE, Chunk, chunks_of, run_isolated
from agency.roster.models import Creator, CreatorStatus

__all__ = [
    "AlertRunResult",
    "AlertSettings",
    "acknowledge_alert",
    "alert_refreshed_creators",
    "evaluate_alerts",
    "get_alert",
    "resolve_alert",
]

ALERT = Alert.__table__
# The dedup key of the temporary tables, compared as bytes on PostgreSQL (collation "C"): a key is
# an identifier, matched for equality and never sorted for people, and indexing a chunk's keys
# with the database's locale cost a sixth of an unchanged run (100,000 creators: finding the
# conditions 3.77 s with locale keys, 3.13 to 3.27 s with byte keys).
KEY = String(200).with_variant(String(200, collation="C"), "postgresql")
# The alert columns queries filter, join and sort on: the statistics a bulk write refreshes.
PLANNED_COLUMNS = ("creator_id", "kind", "severity", "status", "dedup_key", "opened_at", "notified_at")


@dataclass
class AlertRunResult:
    opened: int = 0
    resolved: int = 0
    still_open: int = 0
    chunks: int = 0
    opened_ids: list[int] = field(default_factory=list)
    failed_items: list[dict] = field(default_factory=list)  # creators whose evaluation failed

    def as_dict(self) -> dict:
        return {
            "opened": self.opened,
            "resolved": self.resolved,
            "still_open": self.still_open,
            "chunks": self.chunks,
            "failed_items": self.failed_items,
        }


def _conditions_table() -> Table:
    # One definition per process (temporary): the statements over it are compiled once, not
    # at every evaluation (a write's refresh evaluates its creators' alerts at once). Not indexed:
    # it is read whole (its new conditions written as alerts, whose unique index refuses a key
    # twice) or filtered; indexing a chunk's keys as they were written was a tenth of finding them
    # in a run from no alerts at 100,000 creators (2.55 to 2.72 s without the key, 2.79 to 2.93 s
    # with it).
    return temporary(
        "alert_conditions",
        lambda: [
            Column("dedup_key", KEY, nullable=False),
            Column("kind", String(32)),
            Column("severity", String(16)),
            Column("creator_id", Integer),
            Column("facts", JSONDocument),  # a new condition worded in Python: what it is worded from
            # A new condition worded in SQL: its alert's words
            Column("subject", String(300)),
            Column("message", Text),
            Column("payload", JSON),
            # An open alert whose condition cleared: its id (its row has no condition columns)
            Column("cleared_id", Integer),
        ],
    )


def _open_alerts_table() -> Table:
    """The dedup keys and ids of the chunk's open alerts (unique: one open alert per key), which
    every kind's statement left-joins: hashed once per kind, where a lookup in `alerts` per
    condition was an index probe each. Keyed all the same: a kind whose conditions the planner
    expects to be one row (a left join filtered on its outer side, misestimated) is joined by a
    nested loop, which then probes the key per condition instead of scanning every open key per
    condition (at 100,000 creators, 4,254 conditions against 13,201 keys took 34 s in one chunk).
    The ids resolve the alerts whose condition cleared."""
    return temporary(
        "alert_open",
        lambda: [Column("dedup_key", KEY, primary_key=True), Column("id", Integer, nullable=False)],
    )


def _creators_table() -> Table:
    """The chunk's creators, with what the alerts say of them: every kind joins these instead of
    the roster's creators table."""
    return temporary(
        "alert_creators",
        lambda: [
            Column("id", Integer, primary_key=True, autoincrement=False),
            Column("display_name", String(120)),
            Column("status", String(24)),
            Column("guideline_standing", String(24)),
            Column("active", Boolean),  # neither archived nor offboarded
            Column("manager_id", Integer),  # who gets the immediate emails of its alerts
        ],
    )


def evaluate_alerts(
    *,
    db_session: Session,
    settings: AlertSettings,
    creator_ids: list[int] | None = None,
    chunk_size: int = CHUNK_SIZE,
    evaluators: tuple[Evaluator, ...] = EVALUATORS,
    on_opened: Callable[[Select], None] | None = None,
    emails: ImmediateEmails | None = None,
) -> AlertRunResult:
    """Open alerts for new conditions, resolve those whose condition cleared, chunk by chunk of
    creators (the roster, or `creator_ids`); idempotent. With `emails`, the new alerts a manager
    wants at once are written stamped as notified, and after the last chunk each manager's
    immediate emails for the whole run are queued, in the same transaction (a manager whose emails
    fail is in `emails.failed`, their alerts left to the digest). `on_opened(alert_ids)` is
    called with each chunk's new alerts, as a select of their ids; without either, `opened_ids`
    lists them."""
    result = AlertRunResult()
    kinds = [kind.value for evaluator in evaluators for kind in evaluator.kinds]
    connection = db_session.connection().execution_options(preserve_rowcount=True)
    batch_settings(connection)  # one transaction for every chunk (see batch_settings)
    conditions, creators, open_keys = _conditions_table(), _creators_table(), _open_alerts_table()
    for table in (conditions, creators, open_keys):
        table.create(connection)
    # When this evaluation opens and resolves alerts, in every chunk (and stamps those mailed at
    # once: their emails are written after the last chunk, from the alerts opened at this time).
    now = utcnow()
    statements: dict[bool, Insert] = {}

    def find_conditions(by_ids: bool) -> Insert:
        """The statement writing a chunk's conditions, built once per evaluation (a chunk by its
        range of ids, or by its ids: the parts of a failing chunk) and run with each chunk's
        bound parameters: building it took longer than running it for a small chunk."""
        if by_ids not in statements:
            in_chunk = partial(Chunk.bound_condition, by_ids=by_ids)
            found = _conditions_select(settings, evaluators, ChunkSources.of(in_chunk, creators), open_keys)
            statements[by_ids] = insert(conditions).from_select([*CONDITION_COLUMNS, "cleared_id"], found)
        return statements[by_ids]

    try:
        for chunk in chunks_of(db_session, creator_ids, chunk_size):

            def work(part: Chunk) -> AlertRunResult:
                counts = AlertRunResult()
                opened = _evaluate_chunk(
                    db_session,
                    connection,
                    (conditions, creators, open_keys),
                    find_conditions,
                    evaluators,
                    kinds,
                    part,
                    counts,
                    emails,
                    now,
                )
                if opened is not None:
                    if on_opened is not None:
                        on_opened(opened)
                    elif emails is None:
                        counts.opened_ids = list(db_session.scalars(opened))
                return counts

            # A creator whose conditions, wording or emails fail is reported; the others go on.
            parts, failed = run_isolated(db_session, chunk, work)
            for part in parts:
                result.opened += part.opened
                result.resolved += part.resolved
                result.still_open += part.still_open
                result.opened_ids += part.opened_ids
            if failed:  # their alerts are as they were: still open, if they were
                result.still_open += db_session.scalar(
                    select(func.count())
                    .select_from(Alert)
                    .where(
                        Alert.creator_id.in_([item["creator_id"] for item in failed]),
                        Alert.status != AlertStatus.resolved,
                        Alert.kind.in_(kinds),
                    )
                )
            result.failed_items += failed
            result.chunks += 1
        # The statistics of what the run wrote, refreshed once, when it is all written: a chunk
        # looks `alerts` up by creator (its open alerts) and by id (the cleared ones), through
        # their indexes, planned from a row count the planner scales to the table's current
        # size. Analysing after every chunk that grew the table read it again each time: 11 times
        # in a run from no alerts at 100,000 creators, 1.4 to 1.9 s, against 0.2 to 0.4 s once.
        refresh_statistics(connection, [ALERT], result.opened + result.resolved, {ALERT.name: PLANNED_COLUMNS})
        if emails is not None:  # each manager's alerts of the whole run together
            emails.queue(now)
    finally:
        for table in (conditions, creators, open_keys):
            table.drop(connection)
    return result


def alert_refreshed_creators(sender, *, db_session: Session, creator_ids: list[int], config, **_ignored) -> None:
    """Receiver of `evaluations_refreshed` (a write changed these creators' evaluations): their
    alerts are evaluated at once, and the immediate emails of those opened are queued, in the
    same transaction."""
    evaluate_alerts(
        db_session=db_session,
        settings=AlertSettings.from_config(config, utcnow().date()),
        creator_ids=creator_ids,
        emails=ImmediateEmails(db_session, config.public_url),
    )


CONDITION_COLUMNS = ["dedup_key", "kind", "severity", "creator_id", "facts", "subject", "message", "payload"]


def _conditions_select(settings: AlertSettings, evaluators, sources: ChunkSources, open_keys):
    """What changed in the chunk, in one statement: its new conditions (none in `open_keys`, the
    chunk's open alerts), with their dedup keys and either the facts they are worded from in
    Python or the words of a kind worded in SQL; and its open alerts whose condition cleared, by
    id (`cleared_id`). Every evaluator's conditions are found once (a CTE: the new ones are
    written, the open keys matched by none are the cleared ones); conditions that already have an
    open alert are neither worded nor written, so an unchanged roster writes no row."""
    branches = []
    for evaluator in evaluators:
        found = evaluator.conditions(settings, sources).subquery()
        dedup_key = found.c.kind + ":" + cast(found.c.creator_id, String) + ":" + found.c.subject_key
        # At most one open alert per key (the unique partial index): the join keeps one row per
        # condition. (A kind's other columns are typed nulls: see evaluators._row and _worded_row.)
        is_new = open_keys.c.dedup_key.is_(None)
        worded_by = ("facts",) if evaluator.word is not None else ("subject", "message", "payload")
        built = (
            (case((is_new, found.c[name])) if name in worded_by else found.c[name]).label(name)
            for name in ("facts", "subject", "message", "payload")
        )
        branch = select(
            dedup_key.label("dedup_key"),
            found.c.kind,
            found.c.severity,
            found.c.creator_id,
            *built,
            open_keys.c.id.label("open_id"),
        ).select_from(found.outerjoin(open_keys, open_keys.c.dedup_key == dedup_key))
        branches.append(branch)
    conditions = union_all(*branches).cte("alert_found")
    new = select(*(conditions.c[name] for name in CONDITION_COLUMNS), cast(null(), Integer)).where(
        conditions.c.open_id.is_(None)
    )
    no_condition = (null() for _name in CONDITION_COLUMNS[1:])  # typed by the new conditions' columns
    cleared = select(open_keys.c.dedup_key, *no_condition, open_keys.c.id).where(
        ~exists().where(conditions.c.open_id == open_keys.c.id)
    )
    return union_all(new, cleared)


def _evaluate_chunk(
    db_session,
    connection,
    tables: tuple[Table, Table, Table],
    find_conditions: Callable[[bool], Insert],
    evaluators,
    kinds,
    chunk: Chunk,
    result: AlertRunResult,
    emails: ImmediateEmails | None,
    now: datetime,
) -> Select | None:
    in_chunk = chunk.condition
    conditions, creators, open_keys = tables

    # The chunk's creators first, analysed: the kinds join them with their real size (a range of
    # the roster's creators is misestimated when they were analysed before a bulk import).
    empty_tables(connection, tables)
    connection.execute(
        insert(creators).from_select(
            ["id", "display_name", "status", "guideline_standing", "active", "manager_id"],
            select(
                Creator.id,
                Creator.display_name,
                Creator.status,
                Creator.guideline_standing,
                and_(Creator.archived_at.is_(None), Creator.status != CreatorStatus.offboarded),
                Creator.manager_id,
            ).where(in_chunk(Creator.id)),
        )
    )
    # And the keys of its open alerts, of the kinds evaluated.
    open_count = connection.execute(
        insert(open_keys).from_select(
            ["dedup_key", "id"],
            select(ALERT.c.dedup_key, ALERT.c.id).where(
                ALERT.c.status != AlertStatus.resolved.value, in_chunk(ALERT.c.creator_id), ALERT.c.kind.in_(kinds)
            ),
        )
    ).rowcount
    # Both analysed for what the kinds' joins are planned from: the creators' columns they join and
    # filter on, and the number of open keys (their key is unique; without their count, an unchanged
    # run at 100,000 creators took 50 s instead of 4.3 s).
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f'ANALYZE "{creators.name}" (id, active, status), "{open_keys.name}" (id)')
    # What changed in the chunk, found by one statement: its new conditions and the ids of its open
    # alerts whose condition cleared. (That table is not analysed: the statements below join it by
    # its key or filter it, a chunk's changes at most.)
    connection.execute(find_conditions(chunk.by_ids), chunk.as_arguments())
    # Cleared conditions resolve their alerts, by those ids (the chunk's alerts are not read again).
    cleared = select(conditions.c.cleared_id).where(conditions.c.cleared_id.is_not(None))
    resolved = connection.execute(
        ALERT.update()
        .where(ALERT.c.id.in_(cleared), ALERT.c.status != AlertStatus.resolved.value)
        .values(status=AlertStatus.resolved.value, resolved_at=now)
    ).rowcount
    result.resolved += resolved
    # Every other open alert of the chunk's kinds still has its condition; each new condition gets
    # an alert below.
    result.still_open += open_count - resolved
    # New conditions: the ones with facts (worded in Python) or words (worded in SQL): the
    # statement above wrote them only where no alert was open, and the resolving above touched no
    # alert of a condition. (Matching them against the alerts again let the planner hash every
    # alert of the roster in every chunk.) What they are, by kind, severity and manager:
    worded_in_sql = conditions.c.subject.is_not(None)
    is_new = or_(conditions.c.facts.is_not(None), worded_in_sql)
    # The manager counts only for a severity someone receives at once (what `emails` decides
    # from): the other alerts are grouped by kind and severity alone (at 100,000 creators with
    # the default preferences, the first chunk's groups go from 3,845 to 808).
    wanted = sorted(emails.severities()) if emails is not None else []
    manager = case((conditions.c.severity.in_(wanted), creators.c.manager_id)).label("manager_id")
    groups = connection.execute(
        select(
            conditions.c.kind,
            conditions.c.severity,
            manager,
            worded_in_sql.label("in_sql"),
            func.count().label("alerts"),
        )
        .join(creators, creators.c.id == conditions.c.creator_id)
        .where(is_new)
        .group_by(conditions.c.kind, conditions.c.severity, manager, worded_in_sql)
    ).all()
    if not groups:
        return None
    if emails is not None:
        emails.recipients([(group.kind, group.severity, group.manager_id) for group in groups])
    opened = 0
    # Kinds worded in SQL: written straight from the conditions, with one statement.
    in_sql = [(group.kind, group.severity, group.manager_id) for group in groups if group.in_sql]
    if in_sql:
        now_value = literal(now, Alert.opened_at.type)
        notified_at = (
            emails.notified_at(conditions.c.kind, conditions.c.severity, creators.c.manager_id, in_sql, now)
            if emails is not None
            else null()
        )
        opened += connection.execute(
            insert(ALERT).from_select(
                ["kind", "severity", "creator_id", "dedup_key", "subject", "message", "payload", "status"]
                + ["opened_at", "notified_at"],
                select(
                    conditions.c.kind,
                    conditions.c.severity,
                    conditions.c.creator_id,
                    conditions.c.dedup_key,
                    conditions.c.subject,
                    conditions.c.message,
                    conditions.c.payload,
                    literal(AlertStatus.open.value),
                    now_value,
                    notified_at,
                )
                .join(creators, creators.c.id == conditions.c.creator_id)
                .where(worded_in_sql),
            )
        ).rowcount
    # Kinds worded in Python: read back, worded and inserted kind by kind (a kind whose wording
    # reads the database reads it once per chunk, and only one kind's conditions are held at a
    # time).
    by_kind = {evaluator_kind.value: evaluator for evaluator in evaluators for evaluator_kind in evaluator.kinds}
    for kind in sorted({group.kind for group in groups if not group.in_sql}):
        conditions_of_kind = connection.execute(
            select(
                conditions.c.dedup_key,
                conditions.c.kind,
                conditions.c.severity,
                conditions.c.creator_id,
                conditions.c.facts,
                creators.c.manager_id,
            )
            .join(creators, creators.c.id == conditions.c.creator_id)
            .where(conditions.c.kind == kind, conditions.c.facts.is_not(None))
        ).all()
        facts = []
        for condition in conditions_of_kind:
            condition.facts["kind"] = kind  # the decoded facts are this run's own
            facts.append(condition.facts)
        wordings = by_kind[kind].word(facts, db_session)
        rows = [_alert_row(condition, words, now) for condition, words in zip(conditions_of_kind, wordings)]
        if emails is not None:
            emails.stamp(rows, [condition.manager_id for condition in conditions_of_kind], now)
        bulk_insert(connection, ALERT, rows)
        opened += len(conditions_of_kind)
    opened_by_kind: Counter[str] = Counter()
    for group in groups:  # one pass: a chunk has a group per kind, severity and manager (thousands)
        opened_by_kind[group.kind] += group.alerts
    for kind, count in sorted(opened_by_kind.items()):
        ALERTS_OPENED.labels(kind=kind).inc(count)
    result.opened += opened
    result.still_open += opened
    # What this chunk opened: the open alerts of its new conditions (matched in SQL, not by a
    # list of thousands of keys sent back), among the chunk's alerts opened now.
    opened_ids = (
        select(Alert.id)
        .join(
            conditions,
            and_(conditions.c.creator_id == Alert.creator_id, conditions.c.dedup_key == Alert.dedup_key),
        )
        .where(is_new, in_chunk(Alert.creator_id), Alert.status == AlertStatus.open, Alert.opened_at == now)
        .correlate(None)  # used inside queries of alerts: it reads its own alerts table
    )
    return opened_ids


def _alert_row(condition, words, now) -> dict:
    return {
        "kind": condition.kind,
        "severity": condition.severity,
        "creator_id": condition.creator_id,
        "dedup_key": condition.dedup_key,
        "subject": words.subject[:300],
        "message": words.message,
        "payload": words.payload,
        "status": AlertStatus.open.value,
        "opened_at": now,
        "notified_at": None,  # stamped when its immediate email is queued with it (ImmediateEmails)
    }


# --- lifecycle by users ---------------------------------------------------------------------


# What a creator sees of their own alerts in the portal: their programmes, deliverables, standing,
# metrics and income mix (an invoice a brand has not paid is between the agency and the brand).
CREATOR_ALERT_KINDS = tuple(
    kind for kind in AlertKind if kind not in (AlertKind.invoice_overdue, AlertKind.invoice_reminder)
)


def get_alert(*, db_session: Session, alert_id: int) -> Alert:
    alert = db_session.get(Alert, alert_id)
    if alert is None:
        raise NotFound(f"Alert {alert_id} not found.")
    return alert


def _check_can_act(user: User, alert: Alert, db_session: Session) -> None:
    if user.role is Role.analyst:
        raise Forbidden("Analysts have read-only access.")
    if user.role is Role.manager:
        manager_id = db_session.scalar(select(Creator.manager_id).where(Creator.id == alert.creator_id))
        if manager_id != user.id:
            raise Forbidden("You can only act on alerts about creators you manage.")


def acknowledge_alert(*, db_session: Session, actor: Actor, alert: Alert) -> Alert:
    _check_can_act(actor.user, alert, db_session)
    if alert.status is AlertStatus.resolved:
        raise Conflict("The alert is already resolved.")
    if alert.status is AlertStatus.open:
        alert.status, alert.acknowledged_at, alert.acknowledged_by_id = (
            AlertStatus.acknowledged,
            utcnow(),
            actor.user.id,
        )
        record_audit(
            db_session=db_session,
            actor=actor,
            action="alert.acknowledge",
            entity_type="alert",
            entity_id=alert.id,
            after={"status": "acknowledged"},
        )
    return alert


def resolve_alert(*, db_session: Session, actor: Actor, alert: Alert) -> Alert:
    """Resolve by hand; if the condition still holds, the next evaluation opens a new alert."""
    _check_can_act(actor.user, alert, db_session)
    if alert.status is not AlertStatus.resolved:
        alert.status, alert.resolved_at, alert.resolved_by_id = AlertStatus.resolved, utcnow(), actor.user.id
        record_audit(
            db_session=db_session,
            actor=actor,
            action="alert.resolve",
            entity_type="alert",
            entity_id=alert.id,
            after={"status": "resolved"},
        )
    return alert
