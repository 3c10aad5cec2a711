"""Engines and sessions for SQLite (WAL, foreign keys, durable commits) and PostgreSQL.

SQLite: the driver's own transaction handling is switched off and dosewise emits ``BEGIN``
itself — ``BEGIN IMMEDIATE`` for a writing unit of work, so that writers queue for the database
lock at the start of a clinical act instead of failing half-way through it. PostgreSQL: a
read-only unit of work runs in a ``READ ONLY`` transaction.

Only :class:`dosewise.trial.uow.UnitOfWork` commits: the sessions made here refuse ``commit()``
unless the unit of work is committing.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from dosewise.errors import InvalidParameter
from dosewise.settings import Settings

#: Execution option a unit of work sets on its connection: True for a writing transaction.
WRITE_OPTION = "dosewise_write"
#: ``Session.info`` key that lets :meth:`GuardedSession.commit` through.
COMMITTING = "dosewise_uow_committing"
#: ``Session.info`` key of the engine whose caches a session's results belong to (see
#: :func:`owner_engine`).
OWNER = "dosewise_owner_engine"
#: SQLite connections kept open per process (as many as the server's worker threads, 40 in
#: AnyIO's default limiter, may use at once: a connection opened and closed per request under
#: load costs its PRAGMAs each time), and how many more may open under a burst.
SQLITE_POOL_SIZE = 40
SQLITE_POOL_OVERFLOW = 24


class GuardedSession(Session):
    """A session that only the unit of work may commit (one transaction per clinical act)."""

    def commit(self) -> None:
        if not self.info.get(COMMITTING):
            raise RuntimeError("commit through the unit of work (uow.commit()), not the session")
        super().commit()


@dataclass(frozen=True)
class Database:
    """An engine and the session factory bound to it.

    ``writers``: the lock a writing unit of work of this process holds on SQLite from its
    ``BEGIN IMMEDIATE`` to its end. SQLite lets one writer in at a time and makes the others
    poll with growing sleeps (up to 100 ms each) until the busy timeout; queueing the threads of
    one process on a lock instead hands the database over the moment it is free, which keeps
    the tail of concurrent writes short. Other processes still meet the busy timeout.
    """

    engine: Engine
    sessions: sessionmaker[GuardedSession]
    writers: Any = field(default_factory=threading.RLock, compare=False, repr=False)
    #: How long a writer waits for ``writers`` (SQLite's busy timeout, from the settings).
    busy_timeout_s: float = 30.0
    #: PostgreSQL: sessions whose statements each run alone (autocommit) in read-only
    #: transactions the server enforces (``default_transaction_read_only``): one round trip per
    #: statement, no ``BEGIN`` and ``ROLLBACK`` around them. For the busiest read-only requests
    #: (:func:`dosewise.http.auth.acting`); under READ COMMITTED each statement has its own
    #: snapshot anyway. None on SQLite, where a transaction costs no round trip.
    statement_sessions: sessionmaker[GuardedSession] | None = None

    @property
    def url(self) -> URL:
        return self.engine.url

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def dispose(self) -> None:
        self.engine.dispose()
        if self.statement_sessions is not None:
            bind = self.statement_sessions.kw["bind"]
            bind.dispose()


def parse_url(url: str) -> URL:
    """A SQLAlchemy URL; a malformed one is an error naming ``DOSEWISE_DATABASE_URL``."""
    try:
        parsed = make_url(url)
    except Exception:
        raise InvalidParameter("DOSEWISE_DATABASE_URL", url, "not a database URL") from None
    if parsed.get_backend_name() not in {"sqlite", "postgresql"}:
        raise InvalidParameter(
            "DOSEWISE_DATABASE_URL", safe_url(parsed), "must be sqlite:/// or postgresql+psycopg://"
        )
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def safe_url(url: str | URL) -> str:
    """The URL with any password hidden, for messages and logs."""
    parsed = make_url(url) if isinstance(url, str) else url
    return parsed.render_as_string(hide_password=True)


def make_engine(settings: Settings, url: str | None = None) -> Engine:
    """An engine for ``url`` (default: the settings' URL) with dosewise's connection rules."""
    parsed = parse_url(url or settings.database_url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, settings)
    # Room for the 20 concurrent clients of the benchmark plus background work.
    engine = create_engine(parsed, pool_size=10, max_overflow=20)
    _ping_when_idle(engine)
    return engine


def open_database(settings: Settings, url: str | None = None) -> Database:
    """The engine and session factory for the settings' database."""
    engine = make_engine(settings, url)
    factory = sessionmaker(bind=engine, class_=GuardedSession, expire_on_commit=False)
    statements = None
    if engine.dialect.name == "postgresql":
        # At most 15 connections beside the main pool's 30, per server process: two processes
        # stay under PostgreSQL's default max_connections (100).
        readers = create_engine(
            engine.url,
            isolation_level="AUTOCOMMIT",
            connect_args={"options": "-c default_transaction_read_only=on"},
            pool_size=10,
            max_overflow=5,
        )
        _ping_when_idle(readers)
        statements = sessionmaker(
            bind=readers, class_=GuardedSession, expire_on_commit=False, info={OWNER: engine}
        )
    return Database(
        engine=engine,
        sessions=factory,
        busy_timeout_s=settings.sqlite_busy_timeout_s,
        statement_sessions=statements,
    )


def owner_engine(session: Session) -> Engine:
    """The engine of the database ``session`` works on, whose caches its results belong to: the
    session's own bind, or for a statement-reading session (``Database.statement_sessions``)
    the database's main engine, so both kinds of session share one cache."""
    owner: Engine | None = session.info.get(OWNER)
    if owner is not None:
        return owner
    bind: Any = session.get_bind()
    engine: Engine = getattr(bind, "engine", bind)
    return engine


#: A PostgreSQL connection that has waited in the pool longer than this is checked (one round
#: trip) before it is handed out.
PING_IDLE_S = 10.0


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled connection before use only if it sat idle for :data:`PING_IDLE_S`.

    A connection that has been idle may have been closed by a database restart, a failover or a
    firewall; a dead one is replaced before any request sees it (as SQLAlchemy's
    ``pool_pre_ping``). Pinging on every checkout instead costs a round trip per request, a
    tenth of a busy server's CPU (``bench/api_latency.py``), for connections used a moment ago.
    """

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _check_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < PING_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
            dbapi_connection.rollback()  # the ping's SELECT opened a transaction
        except Exception:
            raise exc.DisconnectionError("the pooled connection no longer answers") from None


def _fork_safe(engine: Engine) -> None:
    """Never hand a connection opened by another process (before a fork) to this one."""

    @event.listens_for(engine, "connect")
    def _remember_pid(_dbapi_connection: Any, record: Any) -> None:
        record.info["pid"] = os.getpid()

    @event.listens_for(engine, "checkout")
    def _check_pid(_dbapi_connection: Any, record: Any, proxy: Any) -> None:
        if record.info.get("pid") != os.getpid():
            record.dbapi_connection = proxy.dbapi_connection = None
            raise exc.DisconnectionError("connection opened by another process")


def _sqlite_engine(url: URL, settings: Settings) -> Engine:
    memory = url.database in (None, "", ":memory:")
    kwargs: dict[str, Any] = {"connect_args": {"timeout": settings.sqlite_busy_timeout_s}}
    if not memory:
        # A small pool: opening a connection (and its PRAGMAs) costs about as much as a short
        # read, twice per request (the session check, then the act). A connection serves one
        # thread at a time (checked out, then reset with a rollback); a forked child never
        # uses its parent's connections (see _fork_safe).
        kwargs.update(
            poolclass=QueuePool,
            pool_size=SQLITE_POOL_SIZE,
            max_overflow=SQLITE_POOL_OVERFLOW,
            connect_args={**kwargs["connect_args"], "check_same_thread": False},
        )
    engine = create_engine(url, **kwargs)
    if not memory:
        _fork_safe(engine)
    synchronous = settings.sqlite_synchronous.upper()
    busy_ms = int(settings.sqlite_busy_timeout_s * 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the driver: dosewise emits BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys=ON")
            if not memory:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA synchronous={synchronous}")
            cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        write = connection.get_execution_options().get(WRITE_OPTION, True)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine
