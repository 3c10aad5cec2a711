"""One-time passwords: ``users.must_change_password``.

A password that an administrator set or reset (and the first administrator's printed one) is
one-time: the user must choose their own before doing anything else. Existing accounts chose
theirs or were created before the rule, so they start at false (``server_default``), which
both back ends fill in for existing rows without a table copy.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_column("users", "must_change_password")
