"""The declarative base, constraint naming and the column types every table shares.

Times are stored as naive UTC and always come back as timezone-aware UTC, on SQLite and
PostgreSQL alike, so that comparisons with the service clock never mix naive and aware values.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, MetaData
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

#: Stable constraint names, so Alembic can drop and alter them on both back ends.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A moment in time: aware UTC in Python, naive UTC in the database."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: times must carry a time zone")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


#: A JSON document; Python ``None`` is stored as SQL NULL (not the JSON ``null``).
JSONDoc = JSON(none_as_null=True)


class Base(DeclarativeBase):
    """Every table of the trial service.

    Class attributes read by the audit trail (``dosewise.trial.audit``):

    - ``__audited__``: changes to rows are written to the audit trail (default True);
    - ``__audit_workflow__``: columns whose change is a workflow step, not a correction of
      entered data, so no reason is required (``version`` and ``updated_at`` always are);
    - ``__audit_redact__``: columns whose values never appear in the trail (password hashes).
    """

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    __audited__: ClassVar[bool] = True
    __audit_workflow__: ClassVar[frozenset[str]] = frozenset()
    __audit_redact__: ClassVar[frozenset[str]] = frozenset()

    def __repr__(self) -> str:
        keys = ", ".join(
            f"{c.key}={getattr(self, c.key, None)!r}" for c in self.__table__.primary_key
        )
        return f"<{type(self).__name__} {keys}>"

    def column_values(self) -> dict[str, Any]:
        """The row's column values by column name (as loaded; no lazy loads of relationships)."""
        return {c.key: getattr(self, c.key) for c in self.__table__.columns}
