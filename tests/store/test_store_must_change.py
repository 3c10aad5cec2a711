"""Migration 0003 (``users.must_change_password``) on SQLite and PostgreSQL: existing accounts
start at false, the column goes on the way down to 0002 and comes back on the way up."""

from __future__ import annotations

from sqlalchemy import inspect, text

from dosewise.store import migrate
from dosewise.store.session import open_database
from pg import USERS, make_settings


def test_existing_accounts_start_without_the_obligation_and_the_column_round_trips(
    db_url: str,
) -> None:
    db = open_database(make_settings(db_url))
    try:
        engine = db.engine
        with engine.begin() as c:
            rows = dict(c.execute(text("SELECT username, must_change_password FROM users")).all())
            assert set(rows) == set(USERS) and not any(rows.values())
            c.execute(text("UPDATE users SET must_change_password = true WHERE username = 'inv1'"))
        down = migrate.downgrade(engine, "0002")
        assert down.current == "0002"
        columns = {c["name"] for c in inspect(engine).get_columns("users")}
        assert "must_change_password" not in columns and "locale" in columns
        assert migrate.upgrade(engine).up_to_date
        with engine.connect() as c:
            rows = dict(c.execute(text("SELECT username, must_change_password FROM users")).all())
        assert set(rows) == set(USERS) and not any(rows.values())
    finally:
        db.dispose()
