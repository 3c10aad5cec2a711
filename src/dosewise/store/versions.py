"""The database's change counters (``data_version``, migration 0007), read in one query.

The database raises them itself, by triggers, in the transaction that changes a watched row,
whoever changes it: so a value computed from the rows a counter watches, and remembered with
the counter's value, is still right exactly while the counter has not moved — across requests,
server processes and writes made outside the service (a direct ``UPDATE``). That makes the
per-request price of a cache one read of two integers (:func:`read`).

- :data:`~dosewise.store.tables.RECORDS_VERSION`: every trial record (participants, arms,
  assignments, products, signatures, ...), not the audit trail, users or sessions;
- :data:`~dosewise.store.tables.ACCESS_VERSION`: users, and the end of a session (logout,
  expiry moved, deletion).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from dosewise.store.tables import ACCESS_VERSION, RECORDS_VERSION, DataVersion


@dataclass(frozen=True)
class Versions:
    """The counters as one transaction sees them."""

    records: int
    access: int


#: ``Session.info`` key of the counters a read-only transaction read first (:func:`read_once`).
_ONCE_KEY = "dosewise_versions"


#: The one query (plain SQL on the session's connection: it runs on every request, and the
#: ORM's statement handling would cost more than the read itself).
_READ = f"SELECT id, version FROM {DataVersion.__tablename__}"


def read(session: Session) -> Versions | None:
    """Both counters in ``session``'s transaction; None before migration 0007 (no table or no
    rows), when nothing may be cached."""
    rows = {int(k): int(v) for k, v in session.connection().exec_driver_sql(_READ)}
    if RECORDS_VERSION not in rows or ACCESS_VERSION not in rows:
        return None
    return Versions(rows[RECORDS_VERSION], rows[ACCESS_VERSION])


def read_once(session: Session) -> Versions | None:
    """The counters as :func:`read` first found them in ``session`` (kept in its ``info``), so
    the session check and the result caches of one request share one query.

    For a session that writes nothing: a writing transaction raises the counters itself, so
    what it read first may be behind what it has done (use :func:`read`). An earlier value is
    always safe for a cache key: a result computed after it can only be newer than its key."""
    if _ONCE_KEY not in session.info:
        session.info[_ONCE_KEY] = read(session)
    value: Versions | None = session.info[_ONCE_KEY]
    return value


__all__ = ["Versions", "read", "read_once"]
