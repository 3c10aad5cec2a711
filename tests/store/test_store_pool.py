"""SQLite connections are pooled per process, and never cross a fork."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from dosewise.settings import Settings
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
