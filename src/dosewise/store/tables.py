"""The trial's records as SQLAlchemy 2 models: one table per kind of fact, none holding a rule.

Participants are pseudonymous (a study ID, never a name). Each arm's dose-finding state is not
stored: it is derived from enrollments, dose assignments, infusions, DLT adjudications and best
responses by one function of the services. ``arms.version`` is the optimistic-concurrency counter
that :meth:`dosewise.trial.uow.UnitOfWork.claim_arm` checks and raises.

Conventions: integer surrogate keys; ``*_by`` columns point at ``users.id``; ``*_at`` columns are
UTC moments, ``*_on`` columns calendar dates; JSON columns keep the inputs and the rule results
exactly as the pure functions returned them, so that every decision can be reconstructed.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, MappedColumn, mapped_column

from dosewise.store.base import Base, JSONDoc, UTCDateTime

#: Roles a user can hold (the permission matrix is in ``dosewise.trial.access``).
ROLES = (
    "admin",
    "investigator",
    "coordinator",
    "statistician",
    "dsmb",
    "monitor",
    "data_manager",
)
#: Interface languages a user can choose (``dosewise.web.i18n`` shows them in this order).
LOCALES = ("zh_CN", "en")
#: Part 11 §11.50 meanings an e-signature can carry.
SIGNATURE_MEANINGS = ("authorship", "review", "approval", "responsibility")
#: Genesis value of the audit hash chain.
GENESIS_HASH = "0" * 64

ID = Integer
SHORT = 64


def _user_fk(nullable: bool = False) -> MappedColumn[Any]:
    return mapped_column(ForeignKey("users.id"), nullable=nullable)


def _one_current(name: str, column: str, condition: str) -> Index:
    """A partial unique index: at most one row per ``column`` where ``condition`` holds.

    The database's own guard for "the participant's current record is one" (one dose
    assignment in force, one released product, one final DLT adjudication), behind the row
    locks the services take (``UnitOfWork.lock``).
    """
    return Index(
        name,
        column,
        unique=True,
        postgresql_where=text(condition),
        sqlite_where=text(condition),
    )


# --------------------------------------------------------------------------- reference data


class Site(Base):
    """A participating site (from the protocol's registry record)."""

    __tablename__ = "sites"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    city: Mapped[str] = mapped_column(String(100))
    region: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str] = mapped_column(String(100))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    status: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ProtocolVersion(Base):
    """The exact protocol text the service ran under (decisions point at it)."""

    __tablename__ = "protocol_versions"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    nct_id: Mapped[str] = mapped_column(String(32))
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Arm(Base):
    """A cohort that runs its own dose finding; ``version`` guards concurrent writes."""

    __tablename__ = "arms"
    __audit_workflow__ = frozenset({"phase"})

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    label: Mapped[str] = mapped_column(String(200))
    design: Mapped[str] = mapped_column(String(32), default="BOIN12")
    #: ``phase1`` (dose finding), ``phase2`` (expansion at the RP2D), ``closed``.
    phase: Mapped[str] = mapped_column(String(16), default="phase1")
    phase1_max_n: Mapped[int] = mapped_column(Integer)
    phase2_expansion: Mapped[int] = mapped_column(Integer)
    protocol_version_id: Mapped[int] = mapped_column(ForeignKey("protocol_versions.id"))
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


# --------------------------------------------------------------------------- people and access


class User(Base):
    """A person who uses the service; never deleted (deactivated instead)."""

    __tablename__ = "users"
    __audit_workflow__ = frozenset(
        {
            "failed_logins",
            "locked_until",
            "last_login_at",
            "password_hash",
            "password_changed_at",
            "locale",
            "must_change_password",
        }
    )
    __audit_redact__ = frozenset({"password_hash"})

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    username: Mapped[str] = mapped_column(String(SHORT), unique=True)
    #: The printed name an e-signature shows (Part 11 §11.50).
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    #: Site staff belong to one site; sponsor-level roles have none (all sites).
    site_id: Mapped[str | None] = mapped_column(ForeignKey("sites.id"))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: The interface language the user chose (one of ``LOCALES``); NULL: not chosen yet, so the
    #: browser's cookie or ``Accept-Language`` decides. A preference, changed without a reason.
    locale: Mapped[str | None] = mapped_column(String(16))
    #: The password was set by someone else (an administrator's reset or choice, the first
    #: administrator's printed one): the user must choose their own before doing anything else.
    must_change_password: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )


class AuthSession(Base):
    """A login session; only the SHA-256 of its token is stored. Logins are audited as events."""

    __tablename__ = "auth_sessions"
    __audited__ = False

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = _user_fk()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    client: Mapped[str | None] = mapped_column(String(200))


class ESignature(Base):
    """A Part 11 electronic signature bound to the SHA-256 of the canonical JSON it signs."""

    __tablename__ = "e_signatures"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    user_id: Mapped[int] = _user_fk()
    username: Mapped[str] = mapped_column(String(SHORT))
    printed_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    site_id: Mapped[str | None] = mapped_column(String(16))
    meaning: Mapped[str] = mapped_column(String(32))
    #: ISO 8601 UTC text (``...Z``), exactly as hashed into ``manifest_sha256``.
    signed_at: Mapped[str] = mapped_column(String(32))
    entity: Mapped[str] = mapped_column(String(SHORT))
    entity_id: Mapped[str] = mapped_column(String(SHORT))
    #: The canonical JSON that was signed, kept verbatim so it can be shown and re-hashed.
    content: Mapped[str] = mapped_column(Text)
    content_sha256: Mapped[str] = mapped_column(String(64))
    manifest_sha256: Mapped[str] = mapped_column(String(64))


# --------------------------------------------------------------------------- participants


class Participant(Base):
    """A pseudonymous participant: a study ID and a site, never a name."""

    __tablename__ = "participants"
    __audit_workflow__ = frozenset({"status"})

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    study_id: Mapped[str] = mapped_column(String(32), unique=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    #: The arm screened for / enrolled in (set at enrollment; null before).
    arm_id: Mapped[str | None] = mapped_column(ForeignKey("arms.id"), index=True)
    #: registered, screen_failed, eligible, consented, enrolled, treated, off_study.
    status: Mapped[str] = mapped_column(String(24), default="registered")
    #: Clinical data, not an identifier: enough to derive age bands for consent.
    year_of_birth: Mapped[int | None] = mapped_column(Integer)
    registered_on: Mapped[date] = mapped_column(Date)
    #: Leaving the study (withdrawal, death, lost to follow-up ...): when and why.
    off_study_on: Mapped[date | None] = mapped_column(Date)
    off_study_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[int] = _user_fk()
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class Screening(Base):
    """One screening of a participant for an arm: the inputs, every criterion, the verdict."""

    __tablename__ = "screenings"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    arm_id: Mapped[str] = mapped_column(ForeignKey("arms.id"))
    screened_on: Mapped[date] = mapped_column(Date)
    age_years: Mapped[int | None] = mapped_column(Integer)
    weight_kg: Mapped[float | None] = mapped_column(Float)
    #: The screening record as entered (protocol.screening.ScreeningRecord as JSON).
    record: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    #: One entry per criterion: id, kind, met/unknown, reason.
    criteria: Mapped[list[Any]] = mapped_column(JSONDoc)
    eligible: Mapped[bool] = mapped_column(Boolean)
    failed_criteria: Mapped[list[Any]] = mapped_column(JSONDoc)
    protocol_version_id: Mapped[int | None] = mapped_column(ForeignKey("protocol_versions.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[int] = _user_fk()


class Consent(Base):
    """Consent as recorded: date, age band, who signed which form, and what is missing."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    consent_on: Mapped[date] = mapped_column(Date)
    age_years: Mapped[int] = mapped_column(Integer)
    band: Mapped[str] = mapped_column(String(32))
    consent_version: Mapped[str] = mapped_column(String(32))
    #: Forms and signers as entered (protocol.consent.ConsentRecord as JSON).
    record: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    valid: Mapped[bool] = mapped_column(Boolean)
    missing: Mapped[list[Any]] = mapped_column(JSONDoc)
    withdrawn_on: Mapped[date | None] = mapped_column(Date)
    #: An incomplete consent set aside (with the reason); it no longer counts as the
    #: participant's consent version (migration 0006).
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    void_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[int] = _user_fk()


class Enrollment(Base):
    """Enrollment into an arm; ``sequence`` is the participant's order in that arm."""

    __tablename__ = "enrollments"
    __table_args__ = (UniqueConstraint("arm_id", "sequence"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), unique=True)
    arm_id: Mapped[str] = mapped_column(ForeignKey("arms.id"))
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    phase: Mapped[int] = mapped_column(Integer)
    sequence: Mapped[int] = mapped_column(Integer)
    enrolled_on: Mapped[date] = mapped_column(Date)
    #: The arm's version after this enrollment claimed it.
    arm_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[int] = _user_fk()


class DoseAssignment(Base):
    """The dose the design assigned, with the state and decision it saw and who confirmed it."""

    __tablename__ = "dose_assignments"
    __table_args__ = (
        _one_current(
            "uq_dose_assignments_current", "participant_id", "status IN ('proposed', 'confirmed')"
        ),
    )
    __audit_workflow__ = frozenset({"status", "confirmed_at", "confirmed_by", "signature_id"})

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    arm_id: Mapped[str] = mapped_column(ForeignKey("arms.id"), index=True)
    phase: Mapped[int] = mapped_column(Integer)
    cohort: Mapped[int] = mapped_column(Integer)
    #: 1-based design dose index and its level name (``DL1`` ...).
    dose_index: Mapped[int] = mapped_column(Integer)
    dose_level: Mapped[str] = mapped_column(String(16))
    #: The arm's dose-finding state as of the assignment (counts, pending, RDS ...).
    state: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    #: The design's decision (``Decision.to_dict()``) and why.
    decision: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    #: dosewise version + design parameters hash: which rule decided.
    rule_version: Mapped[str] = mapped_column(String(SHORT))
    protocol_version_id: Mapped[int | None] = mapped_column(ForeignKey("protocol_versions.id"))
    #: proposed, confirmed, rejected, superseded.
    status: Mapped[str] = mapped_column(String(16), default="proposed")
    arm_version: Mapped[int] = mapped_column(Integer)
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    assigned_by: Mapped[int] = _user_fk()
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_by: Mapped[int | None] = _user_fk(nullable=True)
    signature_id: Mapped[int | None] = mapped_column(ForeignKey("e_signatures.id"))


class Product(Base):
    """A released CAR-T product: certificate values, feasibility, planned vs assigned level."""

    __tablename__ = "products"
    __table_args__ = (
        _one_current("uq_products_released", "participant_id", "status = 'released'"),
    )
    __audit_workflow__ = frozenset({"status", "signature_id"})

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    dose_assignment_id: Mapped[int | None] = mapped_column(ForeignKey("dose_assignments.id"))
    lot: Mapped[str] = mapped_column(String(SHORT))
    #: Release certificate values (TNC, viability, CAR+ fraction, volume ...).
    certificate: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    weight_kg: Mapped[float] = mapped_column(Float)
    planned_level: Mapped[str] = mapped_column(String(16))
    planned_dose_index: Mapped[int] = mapped_column(Integer)
    #: The level the product can deliver (the fallback when the planned one is not feasible).
    assigned_level: Mapped[str | None] = mapped_column(String(16))
    assigned_dose_index: Mapped[int | None] = mapped_column(Integer)
    fallback: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The full dose plan (clinical.dosing.DosePlan as JSON).
    feasibility: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    #: released, rejected.
    status: Mapped[str] = mapped_column(String(16), default="released")
    released_on: Mapped[date] = mapped_column(Date)
    released_at: Mapped[datetime] = mapped_column(UTCDateTime)
    released_by: Mapped[int] = _user_fk()
    signature_id: Mapped[int | None] = mapped_column(ForeignKey("e_signatures.id"))


class Lymphodepletion(Base):
    """The lymphodepleting regimen given before infusion (one per participant)."""

    __tablename__ = "lymphodepletions"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id"), index=True, unique=True
    )
    regimen: Mapped[str] = mapped_column(String(200))
    #: Agents with dose, unit and days (e.g. fludarabine 30 mg/m²/d × 3).
    agents: Mapped[list[Any]] = mapped_column(JSONDoc)
    start_on: Mapped[date] = mapped_column(Date)
    end_on: Mapped[date | None] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[int] = _user_fk()


class Infusion(Base):
    """The CAR-T infusion (study day 0) and the dose actually given."""

    __tablename__ = "infusions"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), unique=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    infused_on: Mapped[date] = mapped_column(Date)
    weight_kg: Mapped[float] = mapped_column(Float)
    infused_volume_ml: Mapped[float | None] = mapped_column(Float)
    infused_cells: Mapped[float] = mapped_column(Float)
    cells_per_kg: Mapped[float] = mapped_column(Float)
    actual_level: Mapped[str | None] = mapped_column(String(16))
    actual_dose_index: Mapped[int | None] = mapped_column(Integer)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[int] = _user_fk()


class ProtocolDeviation(Base):
    """A protocol deviation: what happened (category, description, the record it concerns),
    why, and the investigator's e-signature (migration 0006)."""

    __tablename__ = "protocol_deviations"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    #: ``dose_outside_windows``, ``other`` ... (trial.services.deviations.CATEGORIES).
    category: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(Text)
    #: The record it concerns: table and id (``infusions``, 12).
    related_table: Mapped[str | None] = mapped_column(String(40))
    related_id: Mapped[int | None] = mapped_column(Integer)
    occurred_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    signature_id: Mapped[int | None] = mapped_column(ForeignKey("e_signatures.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[int] = _user_fk()


# --------------------------------------------------------------------------- outcomes


class AdverseEvent(Base):
    """An adverse event graded by CTCAE v5.0, or CRS/ICANS by ASTCT 2019 with its components."""

    __tablename__ = "adverse_events"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    term: Mapped[str] = mapped_column(String(200))
    meddra_code: Mapped[str | None] = mapped_column(String(16))
    #: crs, icans, gvhd, haematological, non_haematological, death ...
    category: Mapped[str] = mapped_column(String(32))
    scale: Mapped[str] = mapped_column(String(32))
    grade: Mapped[int] = mapped_column(Integer)
    #: ASTCT components (fever, hypotension, hypoxia / ICE, consciousness ...) or CTCAE inputs.
    components: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)
    onset_on: Mapped[date] = mapped_column(Date)
    resolved_on: Mapped[date | None] = mapped_column(Date)
    study_day: Mapped[int | None] = mapped_column(Integer)
    serious: Mapped[bool] = mapped_column(Boolean, default=False)
    attribution: Mapped[str | None] = mapped_column(String(16))
    outcome: Mapped[str | None] = mapped_column(String(32))
    notes: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[int] = _user_fk()
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class DltAdjudication(Base):
    """Whether a participant had a DLT (or an event is one), by whom, under which rule."""

    __tablename__ = "dlt_adjudications"
    __table_args__ = (
        _one_current("uq_dlt_adjudications_final", "participant_id", "status = 'final'"),
    )
    __audit_workflow__ = frozenset({"status", "signature_id"})

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    adverse_event_id: Mapped[int | None] = mapped_column(ForeignKey("adverse_events.id"))
    is_dlt: Mapped[bool] = mapped_column(Boolean)
    evaluable: Mapped[bool] = mapped_column(Boolean, default=True)
    rule_id: Mapped[str | None] = mapped_column(String(SHORT))
    #: The rule evaluation (clinical.dlt result as JSON).
    evaluation: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)
    rationale: Mapped[str | None] = mapped_column(Text)
    #: final, superseded.
    status: Mapped[str] = mapped_column(String(16), default="final")
    adjudicated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    adjudicated_by: Mapped[int] = _user_fk()
    signature_id: Mapped[int | None] = mapped_column(ForeignKey("e_signatures.id"))


class ResponseAssessment(Base):
    """One disease response assessment (marrow, MRD, extramedullary ...)."""

    __tablename__ = "response_assessments"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    assessed_on: Mapped[date] = mapped_column(Date)
    study_day: Mapped[int | None] = mapped_column(Integer)
    timepoint: Mapped[str | None] = mapped_column(String(32))
    #: CR, CRi, PR, SD, PD, NE ...
    response: Mapped[str] = mapped_column(String(16))
    mrd_negative: Mapped[bool | None] = mapped_column(Boolean)
    components: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)
    notes: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[int] = _user_fk()


class BestResponse(Base):
    """The derived best overall response of a participant and the efficacy outcome for design."""

    __tablename__ = "best_responses"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), unique=True)
    bor: Mapped[str] = mapped_column(String(16))
    responder: Mapped[bool] = mapped_column(Boolean)
    #: The assessments and rule that produced it.
    basis: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    derived_at: Mapped[datetime] = mapped_column(UTCDateTime)
    derived_by: Mapped[int] = _user_fk()


# --------------------------------------------------------------------------- arm-level decisions


class Phase1Closure(Base):
    """The end of dose finding in an arm: OBD and RP2D by the design, signed."""

    __tablename__ = "phase1_closures"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    arm_id: Mapped[str] = mapped_column(ForeignKey("arms.id"), unique=True)
    obd_index: Mapped[int | None] = mapped_column(Integer)
    obd_level: Mapped[str | None] = mapped_column(String(16))
    rp2d_index: Mapped[int | None] = mapped_column(Integer)
    rp2d_level: Mapped[str | None] = mapped_column(String(16))
    #: The arm state and OBD selection the closure rests on.
    basis: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    rule_version: Mapped[str] = mapped_column(String(SHORT))
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_by: Mapped[int] = _user_fk()
    signature_id: Mapped[int] = mapped_column(ForeignKey("e_signatures.id"))


class Bop2Look(Base):
    """One BOP2 interim look in phase 2 of an arm."""

    __tablename__ = "bop2_looks"
    __table_args__ = (UniqueConstraint("arm_id", "look"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    arm_id: Mapped[str] = mapped_column(ForeignKey("arms.id"))
    look: Mapped[int] = mapped_column(Integer)
    n: Mapped[int] = mapped_column(Integer)
    responses: Mapped[int] = mapped_column(Integer)
    toxicities: Mapped[int | None] = mapped_column(Integer)
    #: continue, stop_futility, stop_toxicity, final_go, final_no_go ...
    decision: Mapped[str] = mapped_column(String(32))
    boundaries: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)
    looked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    looked_by: Mapped[int] = _user_fk()


# --------------------------------------------------------------------------- data queries


class DataQuery(Base):
    """A question about one field of one of a participant's records, raised by a monitor, a data
    manager or the statistician and answered by the participant's site (issue 17).

    ``status`` is ``open`` (waiting for the site), ``answered`` (waiting for the raiser) or
    ``closed``; the thread after the question is in ``data_query_messages``.
    """

    __tablename__ = "data_queries"
    __audit_workflow__ = frozenset({"status", "updated_at", "closed_at", "closed_by"})

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    #: The record's table (``adverse_events`` ...) and id, and the field asked about.
    record_type: Mapped[str] = mapped_column(String(SHORT))
    record_id: Mapped[int] = mapped_column(Integer)
    field: Mapped[str] = mapped_column(String(100))
    question: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime)
    raised_by: Mapped[int] = _user_fk()
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[int | None] = _user_fk(nullable=True)


class DataQueryMessage(Base):
    """One step of a query's thread after the question: an answer, a closure or a re-opening."""

    __tablename__ = "data_query_messages"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    query_id: Mapped[int] = mapped_column(ForeignKey("data_queries.id"), index=True)
    #: answer, close, reopen.
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str | None] = mapped_column(Text)
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    posted_by: Mapped[int] = _user_fk()


# --------------------------------------------------------------------------- audit trail


class AuditRecord(Base):
    """One append-only, hash-chained audit record (see ``dosewise.trial.audit``).

    ``before``, ``after`` and ``context`` hold canonical JSON text, so the hash covers exactly the
    stored characters on every back end. ``user_id`` has no foreign key on purpose: the trail
    must outlive anything it describes.
    """

    __tablename__ = "audit_records"
    __audited__ = False
    __table_args__ = (
        Index("ix_audit_records_entity", "entity", "entity_id"),
        Index("ix_audit_records_site_id", "site_id"),
    )

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    txn: Mapped[str] = mapped_column(String(32))
    recorded_at: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[int | None] = mapped_column(Integer)
    username: Mapped[str] = mapped_column(String(SHORT))
    role: Mapped[str | None] = mapped_column(String(16))
    site_id: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(SHORT))
    entity: Mapped[str] = mapped_column(String(SHORT))
    entity_id: Mapped[str | None] = mapped_column(String(SHORT))
    #: insert, update, delete (row changes) or event (logins, exports, verifications ...).
    operation: Mapped[str] = mapped_column(String(8))
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    context: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHead(Base):
    """The single row holding the chain's last sequence number and hash (locked to append)."""

    __tablename__ = "audit_head"
    __audited__ = False

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))


class DataVersion(Base):
    """Counters the database raises itself on every change of the rows they watch.

    Triggers (migration 0007) add one to :data:`RECORDS_VERSION` on any insert, update or
    delete of a trial record (every table but the users, sessions, the audit trail and this
    one) and to :data:`ACCESS_VERSION` on any change of a user, the end of a session or its
    deletion, whoever made it: the service, another process, or a direct ``UPDATE`` in the
    database. Caches of what is computed from those rows (the arm state, its signature checks,
    a session's user) are keyed by them (:mod:`dosewise.store.versions`).
    """

    __tablename__ = "data_version"
    __audited__ = False

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(Integer)


#: ``data_version.id`` of the trial records' counter and of the users' and sessions' counter.
RECORDS_VERSION = 1
ACCESS_VERSION = 2


#: Every model, in dependency order: the audited ones are the tables ``audit verify --deep``
#: replays (:func:`dosewise.trial.replay.audited_models`), so a model left out here is a table
#: whose direct edits go unnoticed.
MODELS: tuple[type[Base], ...] = (
    Site,
    ProtocolVersion,
    Arm,
    User,
    AuthSession,
    ESignature,
    Participant,
    Screening,
    Consent,
    Enrollment,
    DoseAssignment,
    Product,
    Lymphodepletion,
    Infusion,
    ProtocolDeviation,
    AdverseEvent,
    DltAdjudication,
    ResponseAssessment,
    BestResponse,
    Phase1Closure,
    Bop2Look,
    DataQuery,
    DataQueryMessage,
    AuditRecord,
    AuditHead,
    DataVersion,
)
