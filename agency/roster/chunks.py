"""Chunks of the roster: how batch work (eligibility, income mix, alerts) walks the creators a
bounded number at a time, so that memory and transaction size never grow with the roster, and how
a chunk travels as a job's arguments when the work fans out over workers."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement

from agency.roster.models import Creator

CHUNK_SIZE = 5000


@dataclass(frozen=True)
class Chunk:
    """Creators whose id is in [first_id, last_id], or exactly `creator_ids` when given."""

    first_id: int | None = None
    last_id: int | None = None
    creator_ids: tuple[int, ...] | None = None

    def condition(self, creator_id_column) -> ColumnElement[bool]:
        if self.creator_ids is not None:
            return creator_id_column.in_(self.creator_ids)
        return and_(creator_id_column >= self.first_id, creator_id_column <= self.last_id)

    def as_arguments(self) -> dict:
        """The chunk as JSON job arguments."""
        if self.creator_ids is not None:
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
