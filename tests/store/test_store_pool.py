"""SQLite connections are pooled per process and never cross a fork; a PostgreSQL connection that
sat idle is checked before use."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from dosewise.settings import Settings
from dosewise.store import session as session_module
from dosewise.store.session import make_engine


def test_a_connection_is_reused_within_the_process(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'pool.db'}"
    engine = make_engine(Settings(database_url=url))
    try:
        with engine.connect() as c:
            first = c.connection.dbapi_connection
        with engine.connect() as c:
            assert c.connection.dbapi_connection is first
            assert c.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    finally:
        engine.dispose()


@pytest.mark.skipif(sys.platform == "win32", reason="os.fork")
def test_a_forked_child_never_uses_its_parents_connection(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'pool.db'}"
    engine = make_engine(Settings(database_url=url))
    try:
        with engine.connect() as c:
            parent = c.connection.dbapi_connection
            c.execute(text("CREATE TABLE t (x INTEGER)"))
            c.execute(text("INSERT INTO t VALUES (1)"))
            c.commit()
        pid = os.fork()
        if pid == 0:  # the child: a fresh connection that reads the same database
            code = 1
            try:
                with engine.connect() as c:
                    fresh = c.connection.dbapi_connection is not parent
                    code = 0 if fresh and c.execute(text("SELECT x FROM t")).scalar() == 1 else 2
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        with engine.connect() as c:  # the parent's own connection is still in service
            assert c.connection.dbapi_connection is parent
    finally:
        engine.dispose()


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as c:
        return int(c.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())


def _kill(url: str, pid: int) -> None:
    killer = make_engine(Settings(database_url=url), url)
    try:
        with killer.connect() as c:
            c.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")
            c.commit()
    finally:
        killer.dispose()


@pytest.mark.parametrize("idle_s", [0.0, 3600.0])
def test_a_postgresql_connection_that_died_while_idle_is_replaced_before_use(
    pg_url: str, idle_s: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pooled connection idle longer than PING_IDLE_S is pinged first, and a dead one is
    replaced (the database restarted, a firewall dropped it); one used a moment ago is not
    pinged (a round trip per request saved), so a death that recent surfaces as an error."""
    monkeypatch.setattr(session_module, "PING_IDLE_S", idle_s)
    engine = make_engine(Settings(database_url=pg_url), pg_url)
    try:
        first = _backend_pid(engine)
        _kill(pg_url, first)
        if idle_s == 0.0:
            assert _backend_pid(engine) != first
        else:
            with pytest.raises(DBAPIError):
                _backend_pid(engine)
            assert _backend_pid(engine) != first  # the pool threw the dead one away
    finally:
        engine.dispose()
