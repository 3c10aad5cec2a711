"""Each user's interface language: ``users.locale`` (NULL until the user chooses one).

A plain ``ADD COLUMN`` / ``DROP COLUMN`` on both back ends: the column is nullable with no
default, so existing rows need no value, and ``users`` has no triggers to rebuild. SQLite drops
a column in place since 3.35 (Debian 12 ships 3.40), so no table copy is needed.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("locale", sa.String(length=16), nullable=True))


def downgrade() -> None:
    op.drop_column("users", "locale")
