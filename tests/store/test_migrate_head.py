"""The migration check at the head revision: one query, Alembic not imported, same answer."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from alembic.util.exc import CommandError
from sqlalchemy import text

from dosewise.store import migrate
from dosewise.store.session import open_database
from pg import make_settings


def test_head_revision_constant_is_alembics_head() -> None:
    assert migrate.head_revision() == migrate.HEAD_REVISION


def test_a_database_at_head_is_checked_without_alembic(db_url: str) -> None:
    code = textwrap.dedent(f"""
        import sys
        from dosewise.settings import Settings
        from dosewise.store import migrate
        from dosewise.store.session import open_database
        db = open_database(Settings(database_url={db_url!r}))
        state = migrate.ensure_migrated(db.engine)
        db.dispose()
        print(state.up_to_date, state.current, any(m.split(".")[0] == "alembic"
                                                   for m in sys.modules))
    """)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ
    )
    assert done.stdout.split() == ["True", migrate.HEAD_REVISION, "False"]


def test_the_quick_check_gives_alembics_status(db_url: str) -> None:
    db = open_database(make_settings(db_url))
    try:
        assert migrate.ensure_migrated(db.engine) == migrate.status(db.engine)
    finally:
        db.dispose()


def test_a_second_version_row_is_not_taken_for_the_head(empty_db_url: str) -> None:
    db = open_database(make_settings(empty_db_url))
    try:
        migrate.upgrade(db.engine)
        with db.engine.begin() as c:
            c.execute(text("INSERT INTO alembic_version (version_num) VALUES ('0006')"))
        # Alembic's own answer for two version rows, as before the quick check.
        with pytest.raises(CommandError, match="more than one head"):
            migrate.ensure_migrated(db.engine)
    finally:
        db.dispose()
