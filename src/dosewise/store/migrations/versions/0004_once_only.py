"""Once-only records guarded by the database: partial unique indexes on the "current" record.

At most one dose assignment in force (proposed or confirmed), one released product and one final
DLT adjudication per participant, and one lymphodepletion per participant. The services lock the
participant's row before these acts (``UnitOfWork.lock``), so concurrent requests are refused
with a clear 409 before they reach these indexes; the indexes make a duplicate impossible even
for a writer that bypasses the services. Both back ends support partial indexes (``WHERE``), so
no table is rebuilt. A database that already holds duplicates fails this upgrade, naming the
index: resolve the duplicates (they are data errors) and upgrade again.

Revision ID: 0004
Revises: 0002
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: name, table, column, condition of each partial unique index.
CURRENT = (
    ("uq_dose_assignments_current", "dose_assignments", "status IN ('proposed', 'confirmed')"),
    ("uq_products_released", "products", "status = 'released'"),
    ("uq_dlt_adjudications_final", "dlt_adjudications", "status = 'final'"),
)


def upgrade() -> None:
    for name, table, condition in CURRENT:
        where = sa.text(condition)
        op.create_index(
            name,
            table,
            ["participant_id"],
            unique=True,
            postgresql_where=where,
            sqlite_where=where,
        )
    op.drop_index("ix_lymphodepletions_participant_id", table_name="lymphodepletions")
    op.create_index(
        "ix_lymphodepletions_participant_id", "lymphodepletions", ["participant_id"], unique=True
    )


def downgrade() -> None:
    op.drop_index("ix_lymphodepletions_participant_id", table_name="lymphodepletions")
    op.create_index(
        "ix_lymphodepletions_participant_id", "lymphodepletions", ["participant_id"], unique=False
    )
    for name, table, _condition in reversed(CURRENT):
        op.drop_index(name, table_name=table)
