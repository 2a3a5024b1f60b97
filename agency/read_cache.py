"""Per-process caches for the API's busiest reads (token checks, roster pages), exact at all times.

Every entry is stored with the database's cache revision at the moment it was built: triggers
(migration 0005) raise that counter in the same transaction as any change to creators, accounts,
strikes, users or token validity. A request reads the revision once, in one indexed lookup outside
any transaction, and takes an entry only when its revision is the current one; so a change made
through any worker, job or SQL session is seen by the very next request everywhere, and nothing
stale is served. Entries are built from data at least as new as their revision (the revision is
read first), and each cache keeps only its most recently used entries.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from flask import g

from agency.extensions import get_db
from agency.metrics import READ_CACHE

_MISSING = object()


_ALL: list[RevisionCache] = []


def clear_all() -> None:
    """Empty every cache of this process (tests, whose rollbacks make revisions repeat)."""
    for cache in _ALL:
        cache.clear()


class RevisionCache:
    """A bounded, thread-safe LRU whose entries are valid for one cache revision only."""

    def __init__(self, name: str, max_entries: int) -> None:
        _ALL.append(self)
        self.name = name
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, tuple[int, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, revision: int | None) -> Any:
        """The value stored under `key` at `revision`, or None."""
        if revision is None:
            return None
        with self._lock:
            entry = self._entries.get(key, _MISSING)
            if entry is not _MISSING and entry[0] == revision:
                self._entries.move_to_end(key)
                value = entry[1]
            else:
                value = None
        READ_CACHE.labels(cache=self.name, result="miss" if value is None else "hit").inc()
        return value

    def put(self, key: Hashable, revision: int | None, value: Any) -> None:
        if revision is None or self.max_entries <= 0:
            return
        with self._lock:
            self._entries[key] = (revision, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def current_revision() -> int | None:
    """This request's cache revision, read at most once per request."""
    if "cache_revision" not in g:
        g.cache_revision = get_db().read_cache_revision()
    return g.cache_revision
