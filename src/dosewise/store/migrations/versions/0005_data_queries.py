"""Data queries (issue 17): ``data_queries`` and their threads, ``data_query_messages``.

A query names one field of one of a participant's records; its site is copied from the
participant so that site-scoped lists need no join. Both tables are audited row by row by the
unit of work like every clinical table (no triggers needed).

Revision ID: 0005
Revises: 0004 (the lead re-chains 0003-0005 at merge)
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "data_queries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.String(length=16), nullable=False),
        sa.Column("record_type", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=100), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("raised_at", sa.DateTime(), nullable=False),
        sa.Column("raised_by", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("closed_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_data_queries_participant_id_participants"),
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_data_queries_site_id_sites")
        ),
        sa.ForeignKeyConstraint(
            ["raised_by"], ["users.id"], name=op.f("fk_data_queries_raised_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["closed_by"], ["users.id"], name=op.f("fk_data_queries_closed_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_queries")),
    )
    for column in ("participant_id", "site_id", "status"):
        op.create_index(op.f(f"ix_data_queries_{column}"), "data_queries", [column], unique=False)
    op.create_table(
        "data_query_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("query_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("posted_at", sa.DateTime(), nullable=False),
        sa.Column("posted_by", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["query_id"],
            ["data_queries.id"],
            name=op.f("fk_data_query_messages_query_id_data_queries"),
        ),
        sa.ForeignKeyConstraint(
            ["posted_by"], ["users.id"], name=op.f("fk_data_query_messages_posted_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_query_messages")),
    )
    op.create_index(
        op.f("ix_data_query_messages_query_id"),
        "data_query_messages",
        ["query_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_data_query_messages_query_id"), table_name="data_query_messages")
    op.drop_table("data_query_messages")
    for column in ("status", "site_id", "participant_id"):
        op.drop_index(op.f(f"ix_data_queries_{column}"), table_name="data_queries")
    op.drop_table("data_queries")
