"""The trial service's persistence: SQLAlchemy 2 models, engines and Alembic migrations.

SQLite (WAL) by default at ``DOSEWISE_DATABASE_URL=sqlite:///./dosewise.db``; PostgreSQL
(``postgresql+psycopg://``) for multi-site use. Nothing here holds a clinical rule.
"""

from __future__ import annotations

from dosewise.store.base import Base, UTCDateTime
from dosewise.store.session import Database, GuardedSession, make_engine, open_database, safe_url

__all__ = [
    "Base",
    "Database",
    "GuardedSession",
    "UTCDateTime",
    "make_engine",
    "open_database",
    "safe_url",
]
