"""Engines and sessions: SQLite's WAL, foreign keys and durable commits; UTC times; guarded
commits; URLs — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, StatementError

from dosewise.errors import InvalidParameter
from dosewise.settings import Settings
from dosewise.store.session import Database, open_database, parse_url, safe_url
from dosewise.store.tables import Participant, Site


def test_sqlite_runs_in_wal_mode_with_foreign_keys_and_full_sync(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = open_database(Settings(database_url=f"sqlite:///{tmp_path}/x.db"))
    try:
        with db.engine.connect() as c:
            assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert c.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
            assert c.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    finally:
        db.dispose()


def test_foreign_keys_are_enforced(db: Database) -> None:
    session = db.sessions()
    now = datetime.now(UTC)
    session.add(
        Participant(
            study_id="X-1",
            site_id="NOPE",
            status="registered",
            registered_on=date(2026, 1, 5),
            created_at=now,
            created_by=1,
        )
    )
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()
    session.close()


def test_times_come_back_as_aware_utc_whatever_zone_went_in(db: Database) -> None:
    beijing = timezone(timedelta(hours=8))
    moment = datetime(2026, 3, 1, 17, 30, tzinfo=beijing)
    session = db.sessions()
    site = Site(id="T1", name="Test", city="c", country="x", status="RECRUITING", created_at=moment)
    session.add(site)
    session.flush()
    session.expire_all()
    got = session.get(Site, "T1")
    assert got is not None
    assert got.created_at == moment
    assert got.created_at.tzinfo is not None and got.created_at.utcoffset() == timedelta(0)
    assert got.created_at.hour == 9
    session.rollback()
    session.close()


def test_naive_times_are_refused(db: Database) -> None:
    session = db.sessions()
    session.add(
        Site(id="T2", name="T2", city="c", country="x", status="R", created_at=datetime(2026, 1, 1))
    )
    with pytest.raises(StatementError, match="time zone"):
        session.flush()
    session.rollback()
    session.close()


def test_sessions_refuse_to_commit_outside_the_unit_of_work(db: Database) -> None:
    session = db.sessions()
    session.execute(text("SELECT 1"))
    with pytest.raises(RuntimeError, match="unit of work"):
        session.commit()
    session.close()


@pytest.mark.parametrize(
    "url", ["nonsense", "mysql://u@h/db", "oracle://x"], ids=["garbage", "mysql", "oracle"]
)
def test_bad_database_urls_name_the_variable(url: str) -> None:
    with pytest.raises(InvalidParameter, match="DOSEWISE_DATABASE_URL"):
        parse_url(url)


def test_plain_postgresql_urls_use_psycopg_and_passwords_are_hidden() -> None:
    parsed = parse_url("postgresql://u:secret@h:5432/trial")
    assert parsed.drivername == "postgresql+psycopg"
    assert "secret" not in safe_url(parsed)
