"""The change counters the database keeps itself (``data_version``, migration 0011)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select, text

from dosewise.store.base import Base
from dosewise.store.session import Database
from dosewise.store.tables import AuthSession, User
from dosewise.store.versions import Versions, read
from pg import backend_params

pytestmark = pytest.mark.parametrize("backend", backend_params(), indirect=True)
#: Tables whose changes no cache depends on: the audit trail (appended by every refusal and
#: login) and the counters themselves.
UNWATCHED = {"audit_records", "audit_head", "data_version"}


def versions(db: Database) -> Versions:
    with db.sessions() as session:
        found = read(session)
    assert found is not None
    return found


def watched_tables(db: Database) -> set[str]:
    with db.engine.connect() as c:
        if db.is_sqlite:
            rows = c.execute(
                text(
                    "SELECT DISTINCT tbl_name FROM sqlite_master "
                    "WHERE type = 'trigger' AND name LIKE 'dv_%'"
                )
            )
        else:
            rows = c.execute(
                text(
                    "SELECT DISTINCT event_object_table FROM information_schema.triggers "
                    "WHERE trigger_name LIKE 'dv_%'"
                )
            )
        return {r[0] for r in rows}


def test_every_table_but_the_audit_trail_is_watched(db: Database) -> None:
    """A table added later without a trigger would let a cache serve stale rows: name it."""
    assert watched_tables(db) == set(Base.metadata.tables) - UNWATCHED


@pytest.mark.parametrize(
    ("statement", "records", "access"),
    [
        ("UPDATE arms SET label = label || ' x' WHERE id = 'autologous'", 1, 0),
        ("UPDATE sites SET timezone = 'UTC'", 1, 0),
        ("UPDATE users SET full_name = 'Someone Else' WHERE username = 'coord1'", 0, 1),
        ("UPDATE auth_sessions SET last_seen_at = created_at", 0, 0),
        ("UPDATE auth_sessions SET revoked_at = created_at", 0, 1),
        ("DELETE FROM auth_sessions", 0, 1),
        ("UPDATE audit_head SET last_seq = last_seq", 0, 0),
    ],
)
def test_a_direct_change_moves_its_counter_and_only_its_own(
    db: Database, statement: str, records: int, access: int
) -> None:
    with db.engine.begin() as c:  # a session to end (a new session moves no counter)
        uid = c.execute(select(User.id).where(User.username == "coord1")).scalar_one()
        now = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        c.execute(
            insert(AuthSession).values(
                token_hash="0" * 64, user_id=uid, created_at=now, expires_at=now, last_seen_at=now
            )
        )
    before = versions(db)
    with db.engine.begin() as c:
        c.execute(text(statement))
    after = versions(db)
    assert (after.records > before.records, after.access > before.access) == (
        bool(records),
        bool(access),
    )


def test_a_rolled_back_change_moves_nothing(db: Database) -> None:
    before = versions(db)
    with db.engine.connect() as c:
        c.execute(text("UPDATE arms SET label = 'x'"))
        c.rollback()
    assert versions(db) == before
