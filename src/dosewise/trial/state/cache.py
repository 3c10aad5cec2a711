"""Results computed from the records, shared by every reader until the records change.

Computing an arm's state from its records takes tens of milliseconds (15 queries and the
derivation of every participant's outcomes), checking its e-signatures against the records
another handful of queries; under load most requests ask for what nothing has changed since the
last request. So :func:`dosewise.trial.state.arm_state`, the signature checks
(:mod:`dosewise.trial.signed`) and the API's arm-state answer keep each result here, keyed by
what it depends on:

- the database (one cache per engine: two databases never share an entry),
- the caller's key (the arm, the calendar day ``as_of``, the language, the audience, ...),
- **the records' version**: ``data_version`` row 1 (:mod:`dosewise.store.versions`), which
  the database's own triggers raise in the same transaction as any insert, update or delete of
  a trial record, whoever makes it — a unit of work, another server process, or a direct
  ``UPDATE`` in a database shell. Audit events that change no record (logins, exports, refused
  assignments) leave it alone, so they keep the entries.

One read of the version per unit of work (kept in the session's ``info``) is the price of a
hit. Only read-only units of work use the cache: a writing unit of work sees its own
uncommitted changes, so it always computes afresh (the dose assignment decides under the arm's
lock on a fresh state). The version is read before anything is computed, so an entry can only
be newer than its key, never older (on SQLite the whole read is one snapshot anyway).

The entry keeps the value pickled: each reader gets its own copy, so nothing a caller does to
the nested dictionaries can reach the next reader. The state is cached unredacted; what a site
user may see is applied on the way out (or is part of the caller's key).
"""

from __future__ import annotations

import pickle
import threading
import weakref
from collections import Counter, OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from dosewise.store.session import WRITE_OPTION, owner_engine
from dosewise.store.versions import read_once
from dosewise.trial import memory_only

T = TypeVar("T")

#: Entries kept per database (least recently used dropped first): arms × days × languages ×
#: audiences × kinds of result; entries of older versions fall out first.
MAX_ENTRIES = 256


@dataclass
class Stats:
    """How the cache was used (for tests and the benchmark)."""

    hits: int = 0
    misses: int = 0
    bypassed: int = 0
    #: The same three counts per kind of entry (a key's first item, e.g. ``"arm_state"``).
    by_kind: dict[str, Counter[str]] = field(default_factory=dict)

    def count(self, key: Hashable, outcome: str) -> None:
        """Count one ``outcome`` (hits, misses or bypassed) of ``key``'s kind."""
        setattr(self, outcome, getattr(self, outcome) + 1)
        kind = str(key[0]) if isinstance(key, tuple) and key else type(key).__name__
        self.by_kind.setdefault(kind, Counter())[outcome] += 1


class RecordsCache:
    """Results computed from the records, keyed by a caller's key and the records' version."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self.stats = Stats()
        self._entries: OrderedDict[Hashable, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, session: Session, key: Hashable, compute: Callable[[], T]) -> T:
        """The value of ``compute()`` for ``key`` at the records ``session`` sees."""
        version = records_version(session)
        if version is None:
            memory_only.need("records cache bypassed")
            self.stats.count(key, "bypassed")
            return compute()
        full = (key, version)
        with self._lock:
            entry = self._entries.get(full)
            if entry is not None:
                self._entries.move_to_end(full)
                self.stats.count(key, "hits")
        if entry is not None:
            return pickle.loads(entry)  # type: ignore[no-any-return]
        memory_only.need("records cache miss")
        value = compute()
        data = pickle.dumps(value)
        with self._lock:
            self.stats.count(key, "misses")
            self._entries[full] = data
            self._entries.move_to_end(full)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def reads_committed_only(session: Session) -> bool:
    """Whether ``session`` is a read-only unit of work with nothing of its own unflushed."""
    if session.new or session.dirty or session.deleted:
        return False
    options = session.connection().get_execution_options()
    return options.get(WRITE_OPTION, True) is False


def records_version(session: Session) -> int | None:
    """The records' version ``session`` reads at, read once per unit of work; None when the
    cache must not be used (a writing unit of work, or a database without the counters)."""
    if not reads_committed_only(session):
        return None
    versions = read_once(session)
    return None if versions is None else versions.records


_CACHES: weakref.WeakKeyDictionary[Engine, RecordsCache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def records_cache(session: Session) -> RecordsCache:
    """The cache of the database ``session`` is bound to."""
    engine = owner_engine(session)
    with _CACHES_LOCK:
        cache = _CACHES.get(engine)
        if cache is None:
            cache = _CACHES[engine] = RecordsCache()
        return cache


def clear_all() -> None:
    """Forget every cached result (after editing a database outside the unit of work)."""
    with _CACHES_LOCK:
        caches = list(_CACHES.values())
    for cache in caches:
        cache.clear()


__all__ = [
    "MAX_ENTRIES",
    "RecordsCache",
    "Stats",
    "clear_all",
    "reads_committed_only",
    "records_cache",
    "records_version",
]
