"""Chunks of the roster: how batch work (eligibility, income mix, alerts) walks the creators a
bounded number at a time, so that memory and transaction size never grow with the roster, and how
a chunk travels as a job's arguments when the work fans out over workers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

import structlog
from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement

from agency.roster.models import Creator

CHUNK_SIZE = 5000
T = TypeVar("T")
Item = TypeVar("Item")
log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Chunk:
    """Creators whose id is in [first_id, last_id], or exactly `creator_ids` when given."""

    first_id: int | None = None
    last_id: int | None = None
    creator_ids: tuple[int, ...] | None = None

    def condition(self, creator_id_column) -> ColumnElement[bool]:
        if self.by_ids:
            return creator_id_column.in_(self.creator_ids)
        return and_(creator_id_column >= self.first_id, creator_id_column <= self.last_id)

    @property
    def by_ids(self) -> bool:
        return self.creator_ids is not None

    @staticmethod
    def bound_condition(creator_id_column, by_ids: bool) -> ColumnElement[bool]:
        """`condition` with the chunk left as parameters (a chunk's `as_arguments` are their
        values), for a statement built once and run for every chunk: by its creator ids, or by
        its range of ids."""
        if by_ids:
            return creator_id_column.in_(bindparam("creator_ids", expanding=True))
        return and_(creator_id_column >= bindparam("first_id"), creator_id_column <= bindparam("last_id"))

    def as_arguments(self) -> dict:
        """The chunk as JSON job arguments, and the values of `bound_condition`'s parameters."""
        if self.by_ids:
            return {"creator_ids": list(self.creator_ids)}
        return {"first_id": self.first_id, "last_id": self.last_id}

    @classmethod
    def from_arguments(cls, arguments: dict) -> Chunk:
        if arguments.get("creator_ids"):
            return cls(creator_ids=tuple(int(i) for i in arguments["creator_ids"]))
        return cls(first_id=int(arguments["first_id"]), last_id=int(arguments["last_id"]))


def chunks_of(db_session: Session, creator_ids: list[int] | None, chunk_size: int = CHUNK_SIZE) -> list[Chunk]:
    """The given creators in chunks of `chunk_size`, or the whole roster as id ranges of that width
    (aligned, so the same creator always falls in the same range)."""
    if creator_ids is not None:
        ids = sorted(set(creator_ids))
        return [Chunk(creator_ids=tuple(ids[i : i + chunk_size])) for i in range(0, len(ids), chunk_size)]
    low, high = db_session.execute(select(func.min(Creator.id), func.max(Creator.id))).one()
    if low is None:
        return []
    return [
        Chunk(first_id=start, last_id=min(start + chunk_size - 1, high))
        for start in range(low - (low - 1) % chunk_size, high + 1, chunk_size)
    ]


def run_isolated(db_session: Session, chunk: Chunk, work: Callable[[Chunk], T]) -> tuple[list[T], list[dict]]:
    """Run `work` over a chunk in a savepoint; if it fails, split the chunk in halves, again and
    again, down to the creators that fail on their own (`bisect_failures`). Returns the results of
    the parts that succeeded and the creators that failed, each with its error (`{"creator_id",
    "error"}`): one creator whose data breaks a statement never stops the others of its chunk.
    When nothing at all succeeds the first error is raised (the chunk itself is broken: the job
    fails, is retried and parked like any failing job)."""
    try:
        with savepoint(db_session):
            return [work(chunk)], []
    except Exception as exc:  # isolated below, creator by creator
        first_error = exc
    ids = sorted(db_session.scalars(select(Creator.id).where(chunk.condition(Creator.id))))
    results: list[T] = []
    failed: list[dict] = []
    if len(ids) > 1:
        results = bisect_failures(
            db_session,
            ids,
            lambda part: work(Chunk(creator_ids=tuple(part))),
            lambda creator_id, exc: failed.append({"creator_id": creator_id, "error": failure_text(exc)}),
        )
    if not results:
        raise first_error
    log.warning("chunk_items_failed", failed=failed)
    return results, failed


def bisect_failures(
    db_session: Session,
    items: list[Item],
    work: Callable[[list[Item]], T],
    on_failure: Callable[[Item, Exception], None],
) -> list[T]:
    """Run `work` over `items` in a savepoint; a part that fails is split in halves, again and
    again, down to the items that fail on their own, each passed to `on_failure` with its error as
    it is found. Returns the results of the parts that succeeded, in order."""
    results: list[T] = []

    def attempt(part: list[Item]) -> None:
        try:
            with savepoint(db_session):
                results.append(work(part))
        except Exception as exc:
            if len(part) > 1:
                middle = len(part) // 2
                attempt(part[:middle])
                attempt(part[middle:])
            else:
                on_failure(part[0], exc)

    attempt(items)
    return results


@contextmanager
def savepoint(db_session: Session) -> Iterator[None]:
    """A savepoint that exists before the block runs: work that executes on a connection it took
    from the session earlier (bulk COPY, temporary tables) is then rolled back with it too (the
    session otherwise emits SAVEPOINT only when it is next asked for its connection)."""
    with db_session.begin_nested():
        db_session.connection()
        yield


def failure_text(exc: BaseException) -> str:
    """One line naming an error, for reports and job results."""
    first_line = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {first_line}"[:500]
