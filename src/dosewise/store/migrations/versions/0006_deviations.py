"""Protocol deviations, and voiding an incomplete consent (issue 14, items 2 and 6).

``protocol_deviations`` records a deviation (an infusion outside every dose level's window ...)
with its reason and the investigator's e-signature; ``consents.voided_at`` / ``void_reason`` set
an incomplete consent aside so that it no longer counts as the participant's consent version.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "protocol_deviations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("related_table", sa.String(length=40), nullable=True),
        sa.Column("related_id", sa.Integer(), nullable=True),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("signature_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_protocol_deviations_participant_id_participants"),
        ),
        sa.ForeignKeyConstraint(
            ["signature_id"],
            ["e_signatures.id"],
            name=op.f("fk_protocol_deviations_signature_id_e_signatures"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["users.id"], name=op.f("fk_protocol_deviations_recorded_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_protocol_deviations")),
    )
    op.create_index(
        op.f("ix_protocol_deviations_participant_id"),
        "protocol_deviations",
        ["participant_id"],
        unique=False,
    )
    with op.batch_alter_table("consents") as batch:
        batch.add_column(sa.Column("voided_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("void_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("consents") as batch:
        batch.drop_column("void_reason")
        batch.drop_column("voided_at")
    op.drop_index(op.f("ix_protocol_deviations_participant_id"), table_name="protocol_deviations")
    op.drop_table("protocol_deviations")
