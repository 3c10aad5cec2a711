"""Initial schema: reference data, users and sessions, the clinical records, audit trail.

Also makes ``audit_records`` and ``e_signatures`` append-only inside the database (triggers on
SQLite and PostgreSQL) and seeds the audit chain's head row.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS_HASH = "0" * 64
#: Tables whose rows are never updated or deleted once written.
APPEND_ONLY = ("audit_records", "e_signatures")


def upgrade() -> None:
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    op.create_table(
        "audit_records",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("txn", sa.String(length=32), nullable=False),
        sa.Column("recorded_at", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=True),
        sa.Column("site_id", sa.String(length=16), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("entity", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=True),
        sa.Column("operation", sa.String(length=8), nullable=False),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("context", sa.Text(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_records")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_records_hash")),
    )
    op.create_index(
        "ix_audit_records_entity", "audit_records", ["entity", "entity_id"], unique=False
    )
    op.create_index("ix_audit_records_site_id", "audit_records", ["site_id"], unique=False)
    op.create_table(
        "protocol_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nct_id", sa.String(length=32), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_protocol_versions")),
        sa.UniqueConstraint("sha256", name=op.f("uq_protocol_versions_sha256")),
    )
    op.create_table(
        "sites",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=False),
        sa.Column("region", sa.String(length=100), nullable=True),
        sa.Column("country", sa.String(length=100), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sites")),
        sa.UniqueConstraint("name", name=op.f("uq_sites_name")),
    )
    op.create_table(
        "arms",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("design", sa.String(length=32), nullable=False),
        sa.Column("phase", sa.String(length=16), nullable=False),
        sa.Column("phase1_max_n", sa.Integer(), nullable=False),
        sa.Column("phase2_expansion", sa.Integer(), nullable=False),
        sa.Column("protocol_version_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["protocol_version_id"],
            ["protocol_versions.id"],
            name=op.f("fk_arms_protocol_version_id_protocol_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_arms")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("site_id", sa.String(length=16), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("last_login_at", sa.DateTime(), nullable=True),
        sa.Column("password_changed_at", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_users_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "auth_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("client", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_auth_sessions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_auth_sessions_token_hash")),
    )
    op.create_table(
        "bop2_looks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("arm_id", sa.String(length=40), nullable=False),
        sa.Column("look", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("responses", sa.Integer(), nullable=False),
        sa.Column("toxicities", sa.Integer(), nullable=True),
        sa.Column("decision", sa.String(length=32), nullable=False),
        sa.Column("boundaries", sa.JSON(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("looked_at", sa.DateTime(), nullable=False),
        sa.Column("looked_by", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["arm_id"], ["arms.id"], name=op.f("fk_bop2_looks_arm_id_arms")),
        sa.ForeignKeyConstraint(
            ["looked_by"], ["users.id"], name=op.f("fk_bop2_looks_looked_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bop2_looks")),
        sa.UniqueConstraint("arm_id", "look", name=op.f("uq_bop2_looks_arm_id_look")),
    )
    op.create_table(
        "e_signatures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("printed_name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("site_id", sa.String(length=16), nullable=True),
        sa.Column("meaning", sa.String(length=32), nullable=False),
        sa.Column("signed_at", sa.String(length=32), nullable=False),
        sa.Column("entity", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("manifest_sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_e_signatures_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_e_signatures")),
    )
    op.create_table(
        "participants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.String(length=32), nullable=False),
        sa.Column("site_id", sa.String(length=16), nullable=False),
        sa.Column("arm_id", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("year_of_birth", sa.Integer(), nullable=True),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.Column("off_study_on", sa.Date(), nullable=True),
        sa.Column("off_study_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["arm_id"], ["arms.id"], name=op.f("fk_participants_arm_id_arms")),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_participants_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_participants_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participants")),
        sa.UniqueConstraint("study_id", name=op.f("uq_participants_study_id")),
    )
    op.create_index(op.f("ix_participants_arm_id"), "participants", ["arm_id"], unique=False)
    op.create_index(op.f("ix_participants_site_id"), "participants", ["site_id"], unique=False)
    op.create_table(
        "adverse_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("term", sa.String(length=200), nullable=False),
        sa.Column("meddra_code", sa.String(length=16), nullable=True),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("scale", sa.String(length=32), nullable=False),
        sa.Column("grade", sa.Integer(), nullable=False),
        sa.Column("components", sa.JSON(), nullable=True),
        sa.Column("onset_on", sa.Date(), nullable=False),
        sa.Column("resolved_on", sa.Date(), nullable=True),
        sa.Column("study_day", sa.Integer(), nullable=True),
        sa.Column("serious", sa.Boolean(), nullable=False),
        sa.Column("attribution", sa.String(length=16), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_adverse_events_participant_id_participants"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["users.id"], name=op.f("fk_adverse_events_recorded_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adverse_events")),
    )
    op.create_index(
        op.f("ix_adverse_events_participant_id"), "adverse_events", ["participant_id"], unique=False
    )
    op.create_table(
        "best_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("bor", sa.String(length=16), nullable=False),
        sa.Column("responder", sa.Boolean(), nullable=False),
        sa.Column("basis", sa.JSON(), nullable=False),
        sa.Column("derived_at", sa.DateTime(), nullable=False),
        sa.Column("derived_by", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["derived_by"], ["users.id"], name=op.f("fk_best_responses_derived_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_best_responses_participant_id_participants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_best_responses")),
        sa.UniqueConstraint("participant_id", name=op.f("uq_best_responses_participant_id")),
    )
    op.create_table(
        "consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("consent_on", sa.Date(), nullable=False),
        sa.Column("age_years", sa.Integer(), nullable=False),
        sa.Column("band", sa.String(length=32), nullable=False),
        sa.Column("consent_version", sa.String(length=32), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("valid", sa.Boolean(), nullable=False),
        sa.Column("missing", sa.JSON(), nullable=False),
        sa.Column("withdrawn_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_consents_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_consents_participant_id_participants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consents")),
    )
    op.create_index(
        op.f("ix_consents_participant_id"), "consents", ["participant_id"], unique=False
    )
    op.create_table(
        "dose_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("arm_id", sa.String(length=40), nullable=False),
        sa.Column("phase", sa.Integer(), nullable=False),
        sa.Column("cohort", sa.Integer(), nullable=False),
        sa.Column("dose_index", sa.Integer(), nullable=False),
        sa.Column("dose_level", sa.String(length=16), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("decision", sa.JSON(), nullable=False),
        sa.Column("rule_version", sa.String(length=64), nullable=False),
        sa.Column("protocol_version_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("arm_version", sa.Integer(), nullable=False),
        sa.Column("assigned_at", sa.DateTime(), nullable=False),
        sa.Column("assigned_by", sa.Integer(), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(), nullable=True),
        sa.Column("confirmed_by", sa.Integer(), nullable=True),
        sa.Column("signature_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["arm_id"], ["arms.id"], name=op.f("fk_dose_assignments_arm_id_arms")
        ),
        sa.ForeignKeyConstraint(
            ["assigned_by"], ["users.id"], name=op.f("fk_dose_assignments_assigned_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["confirmed_by"], ["users.id"], name=op.f("fk_dose_assignments_confirmed_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_dose_assignments_participant_id_participants"),
        ),
        sa.ForeignKeyConstraint(
            ["protocol_version_id"],
            ["protocol_versions.id"],
            name=op.f("fk_dose_assignments_protocol_version_id_protocol_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["signature_id"],
            ["e_signatures.id"],
            name=op.f("fk_dose_assignments_signature_id_e_signatures"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dose_assignments")),
    )
    op.create_index(
        op.f("ix_dose_assignments_arm_id"), "dose_assignments", ["arm_id"], unique=False
    )
    op.create_index(
        op.f("ix_dose_assignments_participant_id"),
        "dose_assignments",
        ["participant_id"],
        unique=False,
    )
    op.create_table(
        "enrollments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("arm_id", sa.String(length=40), nullable=False),
        sa.Column("site_id", sa.String(length=16), nullable=False),
        sa.Column("phase", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("enrolled_on", sa.Date(), nullable=False),
        sa.Column("arm_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["arm_id"], ["arms.id"], name=op.f("fk_enrollments_arm_id_arms")),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_enrollments_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_enrollments_participant_id_participants"),
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_enrollments_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrollments")),
        sa.UniqueConstraint("arm_id", "sequence", name=op.f("uq_enrollments_arm_id_sequence")),
        sa.UniqueConstraint("participant_id", name=op.f("uq_enrollments_participant_id")),
    )
    op.create_table(
        "lymphodepletions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("regimen", sa.String(length=200), nullable=False),
        sa.Column("agents", sa.JSON(), nullable=False),
        sa.Column("start_on", sa.Date(), nullable=False),
        sa.Column("end_on", sa.Date(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_lymphodepletions_participant_id_participants"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["users.id"], name=op.f("fk_lymphodepletions_recorded_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lymphodepletions")),
    )
    op.create_index(
        op.f("ix_lymphodepletions_participant_id"),
        "lymphodepletions",
        ["participant_id"],
        unique=False,
    )
    op.create_table(
        "phase1_closures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("arm_id", sa.String(length=40), nullable=False),
        sa.Column("obd_index", sa.Integer(), nullable=True),
        sa.Column("obd_level", sa.String(length=16), nullable=True),
        sa.Column("rp2d_index", sa.Integer(), nullable=True),
        sa.Column("rp2d_level", sa.String(length=16), nullable=True),
        sa.Column("basis", sa.JSON(), nullable=False),
        sa.Column("rule_version", sa.String(length=64), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=False),
        sa.Column("closed_by", sa.Integer(), nullable=False),
        sa.Column("signature_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["arm_id"], ["arms.id"], name=op.f("fk_phase1_closures_arm_id_arms")
        ),
        sa.ForeignKeyConstraint(
            ["closed_by"], ["users.id"], name=op.f("fk_phase1_closures_closed_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["signature_id"],
            ["e_signatures.id"],
            name=op.f("fk_phase1_closures_signature_id_e_signatures"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phase1_closures")),
        sa.UniqueConstraint("arm_id", name=op.f("uq_phase1_closures_arm_id")),
    )
    op.create_table(
        "response_assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("assessed_on", sa.Date(), nullable=False),
        sa.Column("study_day", sa.Integer(), nullable=True),
        sa.Column("timepoint", sa.String(length=32), nullable=True),
        sa.Column("response", sa.String(length=16), nullable=False),
        sa.Column("mrd_negative", sa.Boolean(), nullable=True),
        sa.Column("components", sa.JSON(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_response_assessments_participant_id_participants"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["users.id"], name=op.f("fk_response_assessments_recorded_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_response_assessments")),
    )
    op.create_index(
        op.f("ix_response_assessments_participant_id"),
        "response_assessments",
        ["participant_id"],
        unique=False,
    )
    op.create_table(
        "screenings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("arm_id", sa.String(length=40), nullable=False),
        sa.Column("screened_on", sa.Date(), nullable=False),
        sa.Column("age_years", sa.Integer(), nullable=True),
        sa.Column("weight_kg", sa.Float(), nullable=True),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("criteria", sa.JSON(), nullable=False),
        sa.Column("eligible", sa.Boolean(), nullable=False),
        sa.Column("failed_criteria", sa.JSON(), nullable=False),
        sa.Column("protocol_version_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["arm_id"], ["arms.id"], name=op.f("fk_screenings_arm_id_arms")),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_screenings_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_screenings_participant_id_participants"),
        ),
        sa.ForeignKeyConstraint(
            ["protocol_version_id"],
            ["protocol_versions.id"],
            name=op.f("fk_screenings_protocol_version_id_protocol_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screenings")),
    )
    op.create_index(
        op.f("ix_screenings_participant_id"), "screenings", ["participant_id"], unique=False
    )
    op.create_table(
        "dlt_adjudications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("adverse_event_id", sa.Integer(), nullable=True),
        sa.Column("is_dlt", sa.Boolean(), nullable=False),
        sa.Column("evaluable", sa.Boolean(), nullable=False),
        sa.Column("rule_id", sa.String(length=64), nullable=True),
        sa.Column("evaluation", sa.JSON(), nullable=True),
        sa.Column("rationale", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("adjudicated_at", sa.DateTime(), nullable=False),
        sa.Column("adjudicated_by", sa.Integer(), nullable=False),
        sa.Column("signature_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["adjudicated_by"], ["users.id"], name=op.f("fk_dlt_adjudications_adjudicated_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["adverse_event_id"],
            ["adverse_events.id"],
            name=op.f("fk_dlt_adjudications_adverse_event_id_adverse_events"),
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_dlt_adjudications_participant_id_participants"),
        ),
        sa.ForeignKeyConstraint(
            ["signature_id"],
            ["e_signatures.id"],
            name=op.f("fk_dlt_adjudications_signature_id_e_signatures"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dlt_adjudications")),
    )
    op.create_index(
        op.f("ix_dlt_adjudications_participant_id"),
        "dlt_adjudications",
        ["participant_id"],
        unique=False,
    )
    op.create_table(
        "products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("dose_assignment_id", sa.Integer(), nullable=True),
        sa.Column("lot", sa.String(length=64), nullable=False),
        sa.Column("certificate", sa.JSON(), nullable=False),
        sa.Column("weight_kg", sa.Float(), nullable=False),
        sa.Column("planned_level", sa.String(length=16), nullable=False),
        sa.Column("planned_dose_index", sa.Integer(), nullable=False),
        sa.Column("assigned_level", sa.String(length=16), nullable=True),
        sa.Column("assigned_dose_index", sa.Integer(), nullable=True),
        sa.Column("fallback", sa.Boolean(), nullable=False),
        sa.Column("feasibility", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("released_on", sa.Date(), nullable=False),
        sa.Column("released_at", sa.DateTime(), nullable=False),
        sa.Column("released_by", sa.Integer(), nullable=False),
        sa.Column("signature_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["dose_assignment_id"],
            ["dose_assignments.id"],
            name=op.f("fk_products_dose_assignment_id_dose_assignments"),
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_products_participant_id_participants"),
        ),
        sa.ForeignKeyConstraint(
            ["released_by"], ["users.id"], name=op.f("fk_products_released_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["signature_id"],
            ["e_signatures.id"],
            name=op.f("fk_products_signature_id_e_signatures"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
    )
    op.create_index(
        op.f("ix_products_participant_id"), "products", ["participant_id"], unique=False
    )
    op.create_table(
        "infusions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("infused_on", sa.Date(), nullable=False),
        sa.Column("weight_kg", sa.Float(), nullable=False),
        sa.Column("infused_volume_ml", sa.Float(), nullable=True),
        sa.Column("infused_cells", sa.Float(), nullable=False),
        sa.Column("cells_per_kg", sa.Float(), nullable=False),
        sa.Column("actual_level", sa.String(length=16), nullable=True),
        sa.Column("actual_dose_index", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_infusions_participant_id_participants"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_infusions_product_id_products")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["users.id"], name=op.f("fk_infusions_recorded_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_infusions")),
        sa.UniqueConstraint("participant_id", name=op.f("uq_infusions_participant_id")),
    )

    op.execute(
        sa.text(
            "INSERT INTO audit_head (id, last_seq, last_hash) VALUES (1, 0, :genesis)"
        ).bindparams(genesis=GENESIS_HASH)
    )
    for table in APPEND_ONLY:
        _append_only(table)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS dosewise_append_only()")
    for table in TABLES_IN_ORDER[::-1]:
        op.drop_table(table)


def _append_only(table: str) -> None:
    """Refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL) of ``table`` in the database."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION dosewise_append_only() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION dosewise_append_only()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION dosewise_append_only()"
        )
        return
    for operation in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {operation} refused'); END"
        )


#: Creation order (foreign keys point backwards); downgrade drops in reverse.
TABLES_IN_ORDER = (
    "audit_head",
    "audit_records",
    "protocol_versions",
    "sites",
    "arms",
    "users",
    "auth_sessions",
    "bop2_looks",
    "e_signatures",
    "participants",
    "adverse_events",
    "best_responses",
    "consents",
    "dose_assignments",
    "enrollments",
    "lymphodepletions",
    "phase1_closures",
    "response_assessments",
    "screenings",
    "dlt_adjudications",
    "products",
    "infusions",
)
