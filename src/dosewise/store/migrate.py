"""Alembic, driven from Python: upgrade, downgrade and "is this database migrated?".

The migration scripts ship inside the package (``dosewise/store/migrations``), so an installed
dosewise migrates without an ``alembic.ini`` or a source checkout.

Every command that opens the database first asks whether it is migrated
(:func:`ensure_migrated`). The common answer, "at :data:`HEAD_REVISION`", is read with one
plain query, without importing Alembic (about 0.1 s of a command's start); Alembic is imported
only to migrate, or to say how a database that is not at the head stands.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import DBAPIError, OperationalError

from dosewise.errors import DosewiseError
from dosewise.store.session import safe_url

if TYPE_CHECKING:
    from alembic.config import Config

UPGRADE_COMMAND = "dosewise db upgrade"

#: The newest migration script's revision (``migrations/versions``); a test keeps it equal to
#: Alembic's head, so a new migration must update it.
HEAD_REVISION = "0007"


class DatabaseNotMigrated(DosewiseError):
    """The database schema is missing or behind the code: the service must not start."""

    http_status = 503
    code = "database_not_migrated"


class DatabaseUnavailable(DosewiseError):
    """The database cannot be reached or opened."""

    http_status = 503
    code = "database_unavailable"


@dataclass(frozen=True)
class MigrationStatus:
    """Where the database's schema stands against the code's migrations."""

    url: str
    current: str | None
    head: str

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head

    def to_dict(self) -> dict[str, object]:
        return {
            "database": self.url,
            "current": self.current,
            "head": self.head,
            "up_to_date": self.up_to_date,
        }


def alembic_config() -> Config:
    """An Alembic configuration pointing at the packaged migration scripts."""
    from alembic.config import Config

    config = Config()
    location = resources.files("dosewise.store") / "migrations"
    config.set_main_option("script_location", str(location))
    return config


def head_revision() -> str:
    """The newest revision the code knows (Alembic's head of the packaged scripts)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships revisions
        raise RuntimeError("no migration scripts found in dosewise.store.migrations")
    return head


def current_revision(engine: Engine) -> str | None:
    """The database's revision (None for an empty database)."""
    from alembic.runtime.migration import MigrationContext

    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except OperationalError as exc:
        raise DatabaseUnavailable(
            "database", safe_url(engine.url), f"cannot be opened ({_first_line(exc)})"
        ) from None


def status(engine: Engine) -> MigrationStatus:
    """The database's migration status."""
    return MigrationStatus(safe_url(engine.url), current_revision(engine), head_revision())


def ensure_migrated(engine: Engine) -> MigrationStatus:
    """The status if the database is at the code's head revision; otherwise say what to run."""
    if _at_head(engine):
        return MigrationStatus(safe_url(engine.url), HEAD_REVISION, HEAD_REVISION)
    state = status(engine)
    if not state.up_to_date:
        where = "empty (no schema)" if state.current is None else f"at revision {state.current}"
        # The code and its parameters are rendered in other languages by the services'
        # refusal catalog (dosewise.trial.refusals), a layer above this one.
        params = {"current": state.current, "head": state.head, "command": UPGRADE_COMMAND}
        raise DatabaseNotMigrated(
            "database",
            state.url,
            f"is {where}, the code needs revision {state.head}: run `{UPGRADE_COMMAND}`",
            reason_code="db_empty" if state.current is None else "db_behind",
            reason_params=params,
        )
    return state


def _at_head(engine: Engine) -> bool:
    """Whether Alembic's version table holds exactly :data:`HEAD_REVISION` (one query, no
    Alembic import). Any other answer, or any error, is left to :func:`status` to explain."""
    try:
        with engine.connect() as connection:
            found = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    except DBAPIError:
        return False
    return [tuple(row) for row in found] == [(HEAD_REVISION,)]


def upgrade(engine: Engine, revision: str = "head") -> MigrationStatus:
    """Migrate the database up to ``revision`` (default: the newest)."""
    _run(engine, "upgrade", revision)
    return status(engine)


def downgrade(engine: Engine, revision: str) -> MigrationStatus:
    """Migrate the database down to ``revision`` (``base`` removes every table)."""
    _run(engine, "downgrade", revision)
    return status(engine)


def table_names(engine: Engine) -> set[str]:
    """The tables present in the database (for checks and tests)."""
    return set(inspect(engine).get_table_names())


def _run(engine: Engine, direction: str, revision: str) -> None:
    from alembic import command

    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        if direction == "upgrade":
            command.upgrade(config, revision)
        else:
            command.downgrade(config, revision)


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", exc)) or type(exc).__name__
    return text.strip().splitlines()[0]
