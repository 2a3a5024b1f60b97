"""The read-cache revision: one counter that database triggers raise whenever something the API's
read caches hold changes (creators, their accounts and strikes, users, token revocation).

A cached answer is served only while the counter still has the value it was built at; see
agency/read_cache.py. The triggers live in migration 0005, so every writer is covered: the API,
the UI, jobs, imports and hand-written SQL alike."""
from __future__ import annotations

from sqlalchemy import BigInteger
from sqlalchemy.orm import Mapped, mapped_column

from agency.db import Base


class CacheRevision(Base):
    __tablename__ = "cache_revision"
    # Derived state, rebuilt by the triggers: not part of a logical export.
    __table_args__ = {"info": {"backup": False}}

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    revision: Mapped[int] = mapped_column(BigInteger, default=0)
