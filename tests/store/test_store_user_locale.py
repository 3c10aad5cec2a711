"""Migration 0002 (``users.locale``) on SQLite and PostgreSQL: down to 0001 and up again on a
populated database, keeping every account; a database left at 0001 is refused."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, inspect, text

from dosewise.store import migrate
from dosewise.store.session import open_database
from pg import USERS, make_settings


def _columns(engine: Engine) -> dict[str, dict[str, object]]:
    return {str(c["name"]): dict(c) for c in inspect(engine).get_columns("users")}


def _users(engine: Engine) -> dict[str, str | None]:
    with engine.connect() as c:
        rows = c.execute(text("SELECT username, full_name FROM users")).all()
    return {row[0]: row[1] for row in rows}


def test_down_to_0001_drops_the_column_and_up_adds_it_back_empty(db_url: str) -> None:
    db = open_database(make_settings(db_url))
    try:
        engine = db.engine
        assert migrate.status(engine).current == migrate.head_revision()
        column = _columns(engine)["locale"]
        assert column["nullable"] is True
        assert getattr(column["type"], "length", None) == 16
        accounts = _users(engine)
        assert set(accounts) == set(USERS)
        with engine.begin() as c:  # nobody has chosen yet; then one user does
            assert (
                c.execute(text("SELECT count(*) FROM users WHERE locale IS NOT NULL")).scalar() == 0
            )
            c.execute(text("UPDATE users SET locale = 'zh_CN' WHERE username = 'coord1'"))

        down = migrate.downgrade(engine, "0001")
        assert down.current == "0001" and not down.up_to_date
        assert "locale" not in _columns(engine)
        assert _users(engine) == accounts

        up = migrate.upgrade(engine)
        assert up.current == migrate.head_revision() and up.up_to_date
        assert "locale" in _columns(engine)
        assert _users(engine) == accounts
        with engine.connect() as c:
            stored = c.execute(text("SELECT username, locale FROM users")).all()
        assert {locale for _name, locale in stored} == {None}  # the choice went with the column
    finally:
        db.dispose()


def test_a_database_left_at_0001_is_refused_naming_the_upgrade(empty_db_url: str) -> None:
    db = open_database(make_settings(empty_db_url))
    try:
        migrate.upgrade(db.engine, "0001")
        assert "locale" not in _columns(db.engine)
        with pytest.raises(migrate.DatabaseNotMigrated, match="at revision 0001") as info:
            migrate.ensure_migrated(db.engine)
        assert "dosewise db upgrade" in str(info.value)
        assert migrate.upgrade(db.engine).up_to_date
        assert "locale" in _columns(db.engine)
    finally:
        db.dispose()
