"""The arm state, computed once per version of the records and shared by every reader.

Computing an arm's state from its records takes tens of milliseconds (15 queries and the
derivation of every participant's outcomes); under load most requests ask for a state nothing
has changed since the last request. So :func:`dosewise.trial.state.arm_state` keeps each result
here, keyed by what the result depends on:

- the database (one cache per engine: two databases never share an entry),
- the arm, its ``version`` and the protocol version it runs under,
- the calendar day ``as_of`` (windows close and follow-up grows with the day),
- **the records**, versioned by the audit chain. Every row a unit of work changes is written to
  the chain in the same transaction, and the chain's head (:class:`AuditHead`: last ``seq`` and
  ``hash``) moves with it, in every process and on every back end. An entry remembers the head
  it was computed at and the head it was last confirmed at; a reader who finds the head moved
  looks at the records appended since (``seq`` range on the primary key): if none of them
  changed a row (only events: logins, exports, refused assignments), the entry still holds and
  is confirmed at the new head; otherwise it is recomputed. The hash of the confirmed record is
  checked too, so a database rebuilt under the same engine (seq restarting) never matches.

Only read-only units of work use the cache: a writing unit of work sees its own uncommitted
changes, which the chain does not show yet, so it always computes afresh (the dose assignment
decides under the arm's lock on a fresh state). The head is read before the state is computed,
so an entry can only be newer than its key, never older. Writes made outside the unit of work
(a direct ``UPDATE`` in the database) are not on the chain: the state does not see them until
the next audited change, while the signature checks, which are not cached, flag any change to
a signed record at once (:mod:`dosewise.trial.signed`).

The entry keeps the state pickled: each reader gets its own copy, so nothing a caller does to
the nested dictionaries can reach the next reader. The state is cached unredacted; what a site
user may see is applied on the way out.
"""

from __future__ import annotations

import pickle
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from dosewise.store.session import WRITE_OPTION
from dosewise.store.tables import AuditHead, AuditRecord

T = TypeVar("T")

#: Entries kept per database (least recently used dropped first): arms × days × versions.
MAX_ENTRIES = 64


@dataclass(frozen=True)
class ChainHead:
    """Where the audit chain ends: every committed row change has a ``seq`` up to here."""

    seq: int
    hash: str


@dataclass
class _Entry:
    value: bytes
    computed_at: int
    confirmed: ChainHead


@dataclass
class Stats:
    """How the cache was used (for tests and the benchmark)."""

    hits: int = 0
    misses: int = 0
    bypassed: int = 0


class RecordsCache:
    """Results computed from the records, keyed by a caller's key and the audit chain head."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self.stats = Stats()
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, session: Session, key: Hashable, compute: Callable[[], T]) -> T:
        """The value of ``compute()`` for ``key`` at the records ``session`` sees."""
        if not reads_committed_only(session):
            self.stats.bypassed += 1
            return compute()
        head = chain_head(session)
        if head is not None:
            with self._lock:
                entry = self._entries.get(key)
            if entry is not None and self._holds(session, entry, head):
                with self._lock:
                    self._entries.move_to_end(key)
                    self.stats.hits += 1
                return pickle.loads(entry.value)  # type: ignore[no-any-return]
        value = compute()
        with self._lock:
            self.stats.misses += 1
            if head is None:
                return value
            current = self._entries.get(key)
            if current is None or current.computed_at <= head.seq:
                self._entries[key] = _Entry(pickle.dumps(value), head.seq, head)
                self._entries.move_to_end(key)
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
        return value

    def _holds(self, session: Session, entry: _Entry, head: ChainHead) -> bool:
        """Whether ``entry`` is the value at ``head`` (and confirm it there if so)."""
        confirmed = entry.confirmed
        if head.seq < entry.computed_at:
            return False  # an older snapshot than the entry's: compute for it
        if head.seq == confirmed.seq:
            return head.hash == confirmed.hash
        if head.seq < confirmed.seq:
            return _record_hash(session, head.seq) == head.hash
        if not _only_events_since(session, confirmed, head.seq):
            return False
        with self._lock:
            if entry.confirmed.seq < head.seq:
                entry.confirmed = head
        return True

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def reads_committed_only(session: Session) -> bool:
    """Whether ``session`` is a read-only unit of work with nothing of its own unflushed."""
    if session.new or session.dirty or session.deleted:
        return False
    options = session.connection().get_execution_options()
    return options.get(WRITE_OPTION, True) is False


def chain_head(session: Session) -> ChainHead | None:
    """The audit chain's head as ``session`` sees it (None before the database is migrated)."""
    row = session.execute(
        select(AuditHead.last_seq, AuditHead.last_hash).where(AuditHead.id == 1)
    ).one_or_none()
    return None if row is None else ChainHead(int(row.last_seq), str(row.last_hash))


def _only_events_since(session: Session, confirmed: ChainHead, upto: int) -> bool:
    """Whether the chain still holds ``confirmed`` and records only events after it, up to
    ``upto`` (one range read on the primary key)."""
    rows = session.execute(
        select(AuditRecord.seq, AuditRecord.hash)
        .where(AuditRecord.seq >= confirmed.seq, AuditRecord.seq <= upto)
        .where((AuditRecord.seq == confirmed.seq) | (AuditRecord.operation != "event"))
        .order_by(AuditRecord.seq)
        .limit(2)
    ).all()
    if confirmed.seq > 0:
        if not rows or rows[0].seq != confirmed.seq or rows[0].hash != confirmed.hash:
            return False
        rows = rows[1:]
    return not rows


def _record_hash(session: Session, seq: int) -> str | None:
    return session.scalar(select(AuditRecord.hash).where(AuditRecord.seq == seq))


_CACHES: weakref.WeakKeyDictionary[Engine, RecordsCache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def records_cache(session: Session) -> RecordsCache:
    """The cache of the database ``session`` is bound to."""
    bind: Any = session.get_bind()
    engine: Engine = getattr(bind, "engine", bind)
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
    "ChainHead",
    "RecordsCache",
    "Stats",
    "chain_head",
    "clear_all",
    "reads_committed_only",
    "records_cache",
]
