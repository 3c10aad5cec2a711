"""Alembic environment: migrate the connection that ``dosewise.store.migrate`` hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from dosewise.store import tables  # noqa: F401  (registers every table on Base.metadata)
from dosewise.store.base import Base

target_metadata = Base.metadata


def run_migrations_online() -> None:
    """Run the migrations on the connection passed in ``config.attributes['connection']``."""
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise RuntimeError("run migrations through dosewise.store.migrate (`dosewise db upgrade`)")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported")
run_migrations_online()
