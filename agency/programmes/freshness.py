"""Fresh after every write: the stored evaluations of exactly the creators a write affects are
refreshed, then their alerts, and a read never answers with a verdict that a write made old.

How it works:

1. A write that changes something an evaluation reads announces it: the roster and metrics
   services send `evaluation_inputs_changed` with the creators concerned; this domain's own
   writes (a rule version added or ended, a programme switched off or closed) call
   `request_refresh` for every creator. `request_refresh` records one `EligibilityRefresh` row per
   creator in the writer's transaction, so the request to refresh commits with the write or not
   at all.
2. After the request (see `programmes/api.py`), the refresh runs: in-process, before the write's
   transaction commits, without Redis; as the `refresh_requested_evaluations` job with Redis (it
   fans out over workers when many creators wait).
3. `refresh_chunk` consumes the rows of a chunk of creators, recomputes their evaluations as of
   today (history rows carry the day each change took effect) and sends `evaluations_refreshed`,
   on which the alerts domain evaluates their alerts and queues immediate emails.
4. Reads call `ensure_fresh` first: a creator still waiting (the job has not reached them yet)
   is refreshed on the spot, so the answer is never the old verdict; a roster-wide read with more
   waiting creators than a request should take marks those rows as refreshing instead.

A waiting row is deleted by the refresh that reads the creator's data after it; a write that
lands while a refresh runs leaves its own row for the next one (PostgreSQL makes the insert wait
for the refresh's delete to commit), so no write is ever missed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import delete, exists, func, literal, select
from sqlalchemy.orm import Session

from agency.core.database import conflict_insert, utcnow
from agency.core.events import evaluations_refreshed
from agency.programmes.eligibility import recompute_eligibility
from agency.programmes.features import EngineSettings
from agency.programmes.models import EligibilityRefresh
from agency.roster.chunks import CHUNK_SIZE, Chunk, chunks_of
from agency.roster.models import Creator

__all__ = [
    "READ_REFRESH_LIMIT",
    "RefreshResult",
    "ensure_fresh",
    "pending_among",
    "pending_count",
    "refresh_chunk",
    "refresh_requested",
    "request_refresh",
]

# A read refreshes at most this many waiting creators itself (a few hundred milliseconds).
READ_REFRESH_LIMIT = 200
REFRESH = EligibilityRefresh.__table__
# Set on the session by `request_refresh`: the request's end runs or queues the refresh.
SESSION_FLAG = "eligibility_refresh_requested"


def _insert_ignoring_conflicts(connection, source, columns: list[str]):
    return conflict_insert(connection.dialect.name, REFRESH).from_select(columns, source).on_conflict_do_nothing()


def request_refresh(
    sender: str = "write", *, db_session: Session, creator_ids: Iterable[int] | None = None, **_ignored
) -> None:
    """Record that these creators' evaluations (every creator on the roster when None) must be
    refreshed; a receiver of `evaluation_inputs_changed`, and called directly by rule changes.
    An archived creator named here is refreshed too: the refresh removes their evaluations."""
    reason = str(sender)[:40]
    connection = db_session.connection()
    creators = select(Creator.id, literal(reason), literal(utcnow()))
    if creator_ids is None:
        everyone = creators.where(Creator.archived_at.is_(None))
        connection.execute(_insert_ignoring_conflicts(connection, everyone, ["creator_id", "reason", "requested_at"]))
    else:
        ids = sorted({int(i) for i in creator_ids})
        for start in range(0, len(ids), CHUNK_SIZE):
            some = creators.where(Creator.id.in_(ids[start : start + CHUNK_SIZE]))
            connection.execute(_insert_ignoring_conflicts(connection, some, ["creator_id", "reason", "requested_at"]))
        if not ids:
            return
    db_session.info[SESSION_FLAG] = True


def pending_count(db_session: Session) -> int:
    return db_session.scalar(select(func.count()).select_from(REFRESH)) or 0


def pending_among(db_session: Session, creator_ids: Iterable[int]) -> set[int]:
    """Which of these creators still wait for a refresh."""
    ids = list(creator_ids)
    if not ids:
        return set()
    return set(db_session.scalars(select(REFRESH.c.creator_id).where(REFRESH.c.creator_id.in_(ids))))


@dataclass
class RefreshResult:
    creators: int = 0
    written: int = 0  # evaluations inserted, updated or removed
    transitions: int = 0  # gains and losses recorded in history
    failed_items: list[dict] = field(default_factory=list)  # creators whose evaluation failed

    def add(self, other: RefreshResult) -> None:
        self.failed_items += other.failed_items
        self.creators += other.creators
        self.written += other.written
        self.transitions += other.transitions

    def as_dict(self) -> dict:
        return {
            "creators": self.creators,
            "written": self.written,
            "transitions": self.transitions,
            "rows_changed": self.written + self.transitions,
            "failed_items": self.failed_items,
        }


def refresh_chunk(
    db_session: Session, config, chunk: Chunk, as_of: date | None = None, *, wait: bool = False
) -> RefreshResult:
    """Refresh the waiting creators of one chunk: consume their rows, recompute their evaluations
    and let the alerts domain react, all in the caller's transaction. Creators another refresh
    holds are skipped (two workers never do the same work), or waited for with `wait` (a read:
    once the other refresh commits, its verdict is the one read)."""
    connection = db_session.connection()
    waiting = select(REFRESH.c.creator_id).where(chunk.condition(REFRESH.c.creator_id))
    if connection.dialect.name == "postgresql":
        waiting = waiting.with_for_update(skip_locked=not wait)
    ids = sorted(db_session.scalars(waiting))
    if not ids:
        return RefreshResult()
    db_session.execute(delete(REFRESH).where(REFRESH.c.creator_id.in_(ids)))
    computed = recompute_eligibility(
        db_session=db_session,
        creator_ids=ids,
        as_of=as_of or utcnow().date(),
        settings=EngineSettings.from_config(config),
        chunk_size=max(len(ids), 1),
    )
    evaluations_refreshed.send("eligibility", db_session=db_session, creator_ids=ids, config=config)
    return RefreshResult(
        creators=len(ids),
        written=computed.inserted + computed.updated + computed.removed,
        transitions=computed.transitions,
        failed_items=computed.failed_items,
    )


def refresh_requested(db_session: Session, config, chunk_size: int = CHUNK_SIZE) -> RefreshResult:
    """Refresh every waiting creator here, chunk by chunk (the in-process path and small jobs)."""
    result = RefreshResult()
    waiting = sorted(db_session.scalars(select(REFRESH.c.creator_id)))
    for chunk in chunks_of(db_session, waiting, chunk_size):
        result.add(refresh_chunk(db_session, config, chunk))
    db_session.info.pop(SESSION_FLAG, None)
    return result


def ensure_fresh(
    db_session: Session, config, creator_ids: Iterable[int] | None = None, limit: int = READ_REFRESH_LIMIT
) -> set[int]:
    """Before a read: refresh the waiting creators among `creator_ids` (any waiting creator when
    None) if there are at most `limit`; returns those left waiting (the read marks them)."""
    scope = select(REFRESH.c.creator_id)
    if creator_ids is not None:
        scope = scope.where(REFRESH.c.creator_id.in_(list(creator_ids)))
    if not db_session.scalar(select(exists(scope))):
        return set()
    waiting = sorted(db_session.scalars(scope.limit(limit + 1)))
    if len(waiting) > limit:
        return set(waiting) if creator_ids is not None else set()
    refresh_chunk(db_session, config, Chunk(creator_ids=tuple(waiting)), wait=True)
    return pending_among(db_session, waiting)
