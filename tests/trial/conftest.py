"""Database fixtures shared with the other service test folders (see tests/pg.py)."""

from pg import (  # noqa: F401
    backend,
    clock,
    db,
    db_url,
    empty_db_url,
    passwords,
    pg_url,
    settings,
)
