"""Database-maintained change counters (issue 19, item 2): ``data_version``.

Two rows, raised by triggers in the same transaction as the change, whoever makes it (the
service, another process, a direct ``UPDATE`` in a database shell):

- row 1, the trial records: any insert, update or delete (PostgreSQL: or truncate) of every
  table below except the users, the sessions, the audit trail and ``data_version`` itself;
- row 2, access: any change of ``users``, and of a session's end (``revoked_at``,
  ``expires_at``, its token or user) or its deletion; a session's ``last_seen_at`` (touched
  once a minute per session) and new sessions do not count.

Caches of what is computed from those rows (the arm state and its e-signature checks, a
session's user) are keyed by the counters, so a reader pays one query to know whether anything
changed (:mod:`dosewise.store.versions`). PostgreSQL: one statement-level trigger per table
calling one function; SQLite: one row-level trigger per table and operation.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RECORDS, ACCESS = 1, 2
#: The trial's records at this revision (every table but users, sessions, the audit trail).
RECORD_TABLES = (
    "sites",
    "protocol_versions",
    "arms",
    "e_signatures",
    "participants",
    "screenings",
    "consents",
    "enrollments",
    "dose_assignments",
    "products",
    "lymphodepletions",
    "infusions",
    "protocol_deviations",
    "adverse_events",
    "dlt_adjudications",
    "response_assessments",
    "best_responses",
    "phase1_closures",
    "bop2_looks",
    "data_queries",
    "data_query_messages",
)
#: The columns of ``auth_sessions`` whose change ends or moves a session.
SESSION_END_COLUMNS = "revoked_at, expires_at, token_hash, user_id"
BUMP = "UPDATE data_version SET version = version + 1 WHERE id = {row}"
PG_FUNCTION = "dosewise_bump_data_version"


def _sqlite_triggers() -> list[tuple[str, str, str, int]]:
    """(name, timing, table, row) of every SQLite trigger."""
    out = [
        (f"dv_{table}_{op_name[:3].lower()}", op_name, table, RECORDS)
        for table in RECORD_TABLES
        for op_name in ("INSERT", "UPDATE", "DELETE")
    ]
    out += [
        (f"dv_users_{o[:3].lower()}", o, "users", ACCESS) for o in ("INSERT", "UPDATE", "DELETE")
    ]
    out += [
        ("dv_auth_sessions_upd", f"UPDATE OF {SESSION_END_COLUMNS}", "auth_sessions", ACCESS),
        ("dv_auth_sessions_del", "DELETE", "auth_sessions", ACCESS),
    ]
    return out


def _pg_triggers() -> list[tuple[str, str, str, int]]:
    """(name, events, table, row) of every PostgreSQL trigger."""
    every = "INSERT OR UPDATE OR DELETE OR TRUNCATE"
    out = [(f"dv_{table}", every, table, RECORDS) for table in RECORD_TABLES]
    out += [
        ("dv_users", every, "users", ACCESS),
        (
            "dv_auth_sessions",
            f"UPDATE OF {SESSION_END_COLUMNS} OR DELETE OR TRUNCATE",
            "auth_sessions",
            ACCESS,
        ),
    ]
    return out


def upgrade() -> None:
    table = op.create_table(
        "data_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_version")),
    )
    op.bulk_insert(table, [{"id": RECORDS, "version": 0}, {"id": ACCESS, "version": 0}])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "UPDATE data_version SET version = version + 1 WHERE id = TG_ARGV[0]::integer; "
            "RETURN NULL; END $$"
        )
        for name, events, on, row in _pg_triggers():
            op.execute(
                f"CREATE TRIGGER {name} AFTER {events} ON {on} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {PG_FUNCTION}('{row}')"
            )
    else:
        for name, timing, on, row in _sqlite_triggers():
            op.execute(
                f"CREATE TRIGGER {name} AFTER {timing} ON {on} BEGIN {BUMP.format(row=row)}; END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, _events, on, _row in _pg_triggers():
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {on}")
        op.execute(f"DROP FUNCTION IF EXISTS {PG_FUNCTION}()")
    else:
        for name, _timing, _on, _row in _sqlite_triggers():
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("data_version")
