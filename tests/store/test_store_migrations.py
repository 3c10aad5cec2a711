"""Alembic migrations on SQLite and PostgreSQL: from empty to head, back to base, and again.

The migrated schema must be exactly what the models declare (Alembic's autogenerate comparison
finds nothing), and the service must refuse a database that is not at the code's revision.
"""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from dosewise.store import migrate
from dosewise.store.base import Base
from dosewise.store.session import open_database
from dosewise.store.tables import MODELS
from pg import make_settings


def test_models_lists_every_mapped_table() -> None:
    """``MODELS`` is what the deep audit check replays: a table missing from it is unchecked."""
    mapped = {m.class_ for m in Base.registry.mappers}
    assert mapped == set(MODELS)
    assert {m.__tablename__ for m in MODELS} == set(Base.metadata.tables)


def test_upgrade_from_empty_downgrade_to_base_and_up_again(empty_db_url: str) -> None:
    db = open_database(make_settings(empty_db_url))
    try:
        assert migrate.status(db.engine).current is None
        state = migrate.upgrade(db.engine)
        assert state.up_to_date and state.current == migrate.head_revision()
        assert {m.__tablename__ for m in MODELS} <= migrate.table_names(db.engine)
        with db.engine.connect() as c:
            head = c.execute(text("SELECT last_seq, last_hash FROM audit_head")).one()
        assert tuple(head) == (0, "0" * 64)

        down = migrate.downgrade(db.engine, "base")
        assert down.current is None and not down.up_to_date
        assert migrate.table_names(db.engine) <= {"alembic_version"}

        assert migrate.upgrade(db.engine).up_to_date
    finally:
        db.dispose()


def test_migrated_schema_matches_the_models(db_url: str) -> None:
    db = open_database(make_settings(db_url))
    try:
        with db.engine.connect() as c:
            context = MigrationContext.configure(c, opts={"compare_type": True})
            diffs = compare_metadata(context, Base.metadata)
    finally:
        db.dispose()
    assert diffs == []


def test_ensure_migrated_refuses_an_empty_database_naming_the_command(empty_db_url: str) -> None:
    db = open_database(make_settings(empty_db_url))
    try:
        with pytest.raises(migrate.DatabaseNotMigrated) as info:
            migrate.ensure_migrated(db.engine)
        assert "dosewise db upgrade" in str(info.value)
        assert info.value.field == "database"
        migrate.upgrade(db.engine)
        assert migrate.ensure_migrated(db.engine).up_to_date
    finally:
        db.dispose()


def test_an_older_revision_is_refused_too(empty_db_url: str) -> None:
    db = open_database(make_settings(empty_db_url))
    try:
        migrate.upgrade(db.engine)
        with db.engine.begin() as c:
            c.execute(text("UPDATE alembic_version SET version_num = 'older'"))
        with pytest.raises(migrate.DatabaseNotMigrated, match="at revision older"):
            migrate.ensure_migrated(db.engine)
    finally:
        db.dispose()


def test_migration_scripts_ship_inside_the_package() -> None:
    location = migrate.alembic_config().get_main_option("script_location")
    assert location is not None and location.endswith("dosewise/store/migrations")
    assert migrate.head_revision() == "0007"


def test_an_unreachable_database_is_a_clear_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path}/missing/dir/x.db"
    db = open_database(make_settings(url))
    try:
        with pytest.raises(migrate.DatabaseUnavailable, match="cannot be opened"):
            migrate.status(db.engine)
    finally:
        db.dispose()
