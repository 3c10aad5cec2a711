"""Live sessions remembered by their token's digest, so a request pays one query to know who
is asking (the database's access counter) instead of a session lookup.

What decides whether a session still holds lives in :func:`dosewise.trial.access.resolve`: the
token's session exists and is not revoked, has not expired, has not been idle too long, and its
user is active and not locked. Everything in that list but the clock is a row of ``users`` or
the end of a session (``revoked_at``, ``expires_at``), whose every change the database counts
itself (``data_version`` row 2, migration 0007: a logout, a password change, which ends the
user's other sessions, a lock-out, a deactivation, a role or site change, also when made by
another process or in a database shell). So an entry holds while:

- the access counter is where it was when the entry was made,
- the entry is younger than :data:`TTL_S` (a bound on trusting memory, not a rule),
- and the clock's part holds: the session has not expired, and its last recorded use is less
  than :data:`dosewise.trial.access.TOUCH_EVERY_S` ago (so no touch is due and it cannot have
  been idle too long: the idle limit is minutes).

Anything else goes through :func:`~dosewise.trial.access.resolve`, which raises for a session
that no longer holds and is then remembered again. Only sessions that passed are remembered.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from dosewise.settings import Settings
from dosewise.store.session import owner_engine
from dosewise.store.versions import read, read_once
from dosewise.trial import access, memory_only
from dosewise.trial.audit import Actor
from dosewise.trial.uow import UnitOfWork

#: How long an entry is trusted at most, whatever the counter says (seconds).
TTL_S = 30.0
#: Sessions remembered per database (least recently used dropped first).
MAX_ENTRIES = 4096


@dataclass(frozen=True)
class KnownSession:
    """What a request needs of a live session and its user."""

    session_id: int
    actor: Actor
    full_name: str
    locale: str | None
    must_change_password: bool
    expires_at: datetime
    last_seen_at: datetime
    needs_touch: bool


@dataclass(frozen=True)
class _Entry:
    session: KnownSession
    access_version: int
    stored_at: float


class SessionCache:
    """Known sessions of one database, by token digest."""

    def __init__(self) -> None:
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def resolve(self, uow: UnitOfWork, settings: Settings, token: str) -> KnownSession:
        """The live session of ``token`` (:class:`~dosewise.trial.access.NotAuthenticated`
        if it no longer holds), from memory when nothing it depends on changed."""
        digest = access.token_digest(token)
        # A read-only unit of work shares this query with the result caches of its request.
        versions = read_once(uow.session) if uow.readonly else read(uow.session)
        now = uow.now()
        with self._lock:
            entry = self._entries.get(digest)
        if (
            entry is not None
            and versions is not None
            and entry.access_version == versions.access
            and time.monotonic() - entry.stored_at < TTL_S
            and now < entry.session.expires_at
            and (now - entry.session.last_seen_at).total_seconds() < access.TOUCH_EVERY_S
        ):
            with self._lock:
                self.hits += 1
            return entry.session
        memory_only.need("session not known")
        info = access.resolve(uow, settings, token)
        user = info.user
        known = KnownSession(
            session_id=info.session_id,
            actor=info.actor,
            full_name=user.full_name,
            locale=user.locale,
            must_change_password=bool(user.must_change_password),
            expires_at=info.expires_at,
            last_seen_at=info.last_seen_at,
            needs_touch=info.needs_touch,
        )
        with self._lock:
            self.misses += 1
            if versions is not None:
                self._entries[digest] = _Entry(known, versions.access, time.monotonic())
                self._entries.move_to_end(digest)
                while len(self._entries) > MAX_ENTRIES:
                    self._entries.popitem(last=False)
        return known

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_CACHES: weakref.WeakKeyDictionary[Engine, SessionCache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def session_cache(uow: UnitOfWork) -> SessionCache:
    """The session cache of the database ``uow`` works on."""
    engine = owner_engine(uow.session)
    with _CACHES_LOCK:
        cache = _CACHES.get(engine)
        if cache is None:
            cache = _CACHES[engine] = SessionCache()
        return cache


__all__ = ["MAX_ENTRIES", "TTL_S", "KnownSession", "SessionCache", "session_cache"]
