"""Response bodies of the clinical routes (see ``_trial_schemas`` for the requests)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class ParticipantOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "study_id": "S01-0001",
                    "site_id": "S01",
                    "arm_id": "autologous",
                    "status": "enrolled",
                    "year_of_birth": 1991,
                    "registered_on": "2026-01-05",
                    "off_study_on": None,
                    "off_study_reason": None,
                    "version": 3,
                }
            ]
        }
    )

    study_id: str
    site_id: str
    arm_id: str | None
    status: str
    year_of_birth: int | None
    registered_on: date
    off_study_on: date | None
    off_study_reason: str | None
    version: int
    phase: int | None = Field(default=None, description="1 or 2 once enrolled (in lists)")
    open_queries: int | None = Field(
        default=None,
        description="Unresolved data queries (in lists, for roles that read queries)",
    )


class ParticipantRecordOut(ParticipantOut):
    """Everything recorded about a participant (nothing identifying is stored)."""

    enrollment: dict[str, Any] | None
    consents: list[dict[str, Any]]
    screenings: list[dict[str, Any]]
    dose_assignments: list[dict[str, Any]]
    products: list[dict[str, Any]]
    lymphodepletions: list[dict[str, Any]]
    infusion: dict[str, Any] | None
    adverse_events: list[dict[str, Any]]
    dlt_adjudications: list[dict[str, Any]]
    response_assessments: list[dict[str, Any]]
    best_response: dict[str, Any] | None
    deviations: list[dict[str, Any]] = Field(
        default_factory=list, description="Recorded protocol deviations (signed)"
    )
    outcome: dict[str, Any] | None = Field(
        None, description="The read model's outcome (DLT status, BOR, ...) once enrolled."
    )
    needs_readjudication: bool = Field(
        False, description="A final DLT adjudication was reopened by a new possible DLT."
    )


class ConsentOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 1,
                    "study_id": "S01-0001",
                    "consent_on": "2026-01-05",
                    "age_years": 34,
                    "band": "19-70",
                    "consent_version": "v1.0",
                    "valid": True,
                    "missing": [],
                }
            ]
        }
    )

    id: int
    study_id: str
    consent_on: date
    age_years: int
    band: str
    consent_version: str
    valid: bool
    missing: list[str]
    status: str = Field(
        default="complete", description="complete, incomplete (a signature missing) or voided"
    )
    void_reason: str | None = None


class ScreeningOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 2,
                    "study_id": "S01-0001",
                    "arm_id": "autologous",
                    "screened_on": "2026-01-06",
                    "eligible": False,
                    "status": "ineligible",
                    "failed_criteria": ["I5"],
                    "criteria": [
                        {
                            "id": "I5",
                            "kind": "inclusion",
                            "status": "not_met",
                            "verdict": "fail",
                            "evidence": ["ECOG 3 > 2"],
                        }
                    ],
                }
            ]
        }
    )

    id: int
    study_id: str
    arm_id: str
    screened_on: date
    eligible: bool
    status: str = Field(description="eligible, ineligible (a criterion failed) or incomplete")
    failed_criteria: list[str]
    missing_criteria: list[str] = Field(
        default_factory=list,
        description="Criteria not assessed: the screening is incomplete until they are",
    )
    criteria: list[dict[str, Any]]


class EnrollmentOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "study_id": "S01-0001",
                    "arm_id": "autologous",
                    "site_id": "S01",
                    "phase": 1,
                    "sequence": 4,
                    "enrolled_on": "2026-02-10",
                    "arm_version": 12,
                }
            ]
        }
    )

    study_id: str
    arm_id: str
    site_id: str
    phase: int
    sequence: int
    enrolled_on: date
    arm_version: int


class DoseAssignmentOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 4,
                    "study_id": "S02-0003",
                    "arm_id": "autologous",
                    "phase": 1,
                    "cohort": 2,
                    "dose_index": 3,
                    "dose_level": "DL2",
                    "status": "proposed",
                    "rule": "HIGHEST_DESIRABILITY",
                    "reason": "Escalate to dose 3: DLT rate at dose 2 is 0/3 = 0.000 ...",
                    "outcomes": "2NEN",
                    "seed": 1234567,
                    "decision": {"next_dose": 3, "tied": [1, 3]},
                    "arm_version": 8,
                    "assigned_at": "2026-02-10T08:00:00Z",
                    "confirmed_at": None,
                    "signature": None,
                }
            ]
        }
    )

    id: int
    study_id: str
    arm_id: str
    phase: int
    cohort: int
    dose_index: int
    dose_level: str
    status: str
    rule: str | None
    reason: str | None = Field(description="Why, in the request's language.")
    reason_code: str | None = Field(None, description="The stable code of the reason.")
    reason_params: dict[str, Any] = Field(default_factory=dict)
    outcomes: str | None
    seed: int | None
    decision: dict[str, Any]
    arm_version: int
    assigned_at: datetime
    confirmed_at: datetime | None
    signature: dict[str, Any] | None


class ProductOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 5,
                    "study_id": "S02-0004",
                    "lot": "CD5-S02-0004",
                    "planned_level": "DL2",
                    "planned_dose_index": 3,
                    "assigned_level": "DL-1",
                    "assigned_dose_index": 1,
                    "fallback": True,
                    "status": "released",
                    "reason": "DL2 is not feasible: fallback to DL-1",
                    "volume_ml": 20.9,
                    "feasibility": {"feasible_levels": ["DL-1", "DL1"]},
                    "released_on": "2026-02-11",
                    "signature": None,
                }
            ]
        }
    )

    id: int
    study_id: str
    lot: str
    planned_level: str
    planned_dose_index: int
    assigned_level: str | None
    assigned_dose_index: int | None
    fallback: bool
    status: str
    reason: str
    volume_ml: float | None
    feasibility: dict[str, Any]
    released_on: date
    signature: dict[str, Any] | None


class LymphodepletionOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 3,
                    "study_id": "S01-0001",
                    "regimen": "Flu/Cy",
                    "agents": [
                        {
                            "agent": "fludarabine",
                            "dose": 30,
                            "unit": "mg/m2/day",
                            "days": [-5, -4, -3],
                        }
                    ],
                    "start_on": "2026-01-21",
                    "end_on": "2026-01-23",
                }
            ]
        }
    )

    id: int
    study_id: str
    regimen: str
    agents: list[dict[str, Any]]
    start_on: date
    end_on: date | None


class InfusionOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "study_id": "S01-0001",
                    "infused_on": "2026-01-26",
                    "infused_volume_ml": 36.5,
                    "infused_cells": 62000000.0,
                    "cells_per_kg": 1000000.0,
                    "actual_level": "DL1",
                    "actual_dose_index": 2,
                }
            ]
        }
    )

    study_id: str
    infused_on: date
    infused_volume_ml: float | None
    infused_cells: float
    cells_per_kg: float
    actual_level: str | None
    actual_dose_index: int | None
    deviation_id: int | None = Field(
        default=None, description="The protocol deviation recorded with an out-of-window dose"
    )


class DeviationOut(BaseModel):
    """A recorded protocol deviation (investigator-signed)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 1,
                    "study_id": "S01-0004",
                    "category": "dose_outside_window",
                    "description": "Infused 1.22e+06 cells/kg: outside every dose level's window",
                    "related_table": "infusions",
                    "related_id": 4,
                    "occurred_on": "2026-02-10",
                    "reason": "Product volume measured after thaw was larger than planned",
                    "recorded_at": "2026-02-10T06:30:00Z",
                    "recorded_by": 3,
                    "signature_id": 41,
                }
            ]
        }
    )

    id: int
    study_id: str
    category: str
    description: str
    related_table: str | None
    related_id: int | None
    occurred_on: date
    reason: str
    recorded_at: datetime
    recorded_by: int
    signature_id: int | None


class AdverseEventOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 9,
                    "study_id": "S01-0001",
                    "term": "Cytokine release syndrome",
                    "category": "crs",
                    "scale": "ASTCT 2019",
                    "grade": 3,
                    "grading": {
                        "grade": 3,
                        "determined_by": "hypotension",
                        "components": {"fever": 1, "hypotension": 3, "hypoxia": 0},
                    },
                    "onset_on": "2026-01-28",
                    "resolved_on": "2026-02-02",
                    "study_day": 2,
                    "serious": True,
                    "attribution": "definite",
                    "version": 1,
                }
            ]
        }
    )

    id: int
    study_id: str
    term: str
    category: str
    scale: str
    grade: int
    grading: dict[str, Any] | None
    onset_on: date
    resolved_on: date | None
    study_day: int | None
    serious: bool
    attribution: str | None
    version: int


class DltOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 4,
                    "study_id": "S01-0001",
                    "is_dlt": True,
                    "evaluable": True,
                    "rule_status": "dlt",
                    "departs_from_rule": False,
                    "definition_version": "0.1-template",
                    "rationale": None,
                    "reason": "DLT: event 0 (crs_grade_4_or_5)",
                    "dlt_events": [
                        {
                            "index": 0,
                            "term": "Cytokine release syndrome",
                            "grade": 4,
                            "rules": ["crs_grade_4_or_5"],
                        }
                    ],
                    "signature": None,
                }
            ]
        }
    )

    id: int
    study_id: str
    is_dlt: bool
    evaluable: bool
    rule_status: str
    departs_from_rule: bool
    definition_version: str | None
    rationale: str | None
    reason: str
    dlt_events: list[dict[str, Any]]
    signature: dict[str, Any] | None
    status: str = Field("final", description="final, provisional (no DLT so far) or superseded")
    not_evaluable_reason: str | None = None
    reopened: dict[str, Any] | None = Field(
        None, description="The reopening this adjudication answers (events, reason)."
    )


class BestResponseOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "study_id": "S01-0001",
                    "bor": "CR",
                    "responder": True,
                    "final": True,
                    "reason": "best of 2 counted assessment(s)",
                    "basis": {"mrd_negative": True},
                }
            ]
        }
    )

    study_id: str
    bor: str
    responder: bool
    final: bool
    reason: str
    basis: dict[str, Any]


class ResponseOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 7,
                    "study_id": "S01-0001",
                    "assessed_on": "2026-02-23",
                    "study_day": 28,
                    "timepoint": "day_28",
                    "response": "CR",
                    "mrd_negative": True,
                    "best_response": None,
                }
            ]
        }
    )

    id: int
    study_id: str
    assessed_on: date
    study_day: int | None
    timepoint: str | None
    response: str
    mrd_negative: bool | None
    best_response: BestResponseOut | None


class ArmOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "autologous",
                    "label": "Autologous CD5 CAR T-cells",
                    "design": "BOIN12",
                    "phase": "phase1",
                    "version": 12,
                    "phase1_max_n": 12,
                    "phase2_expansion": 6,
                }
            ]
        }
    )

    id: str
    label: str
    design: str
    phase: str
    version: int
    phase1_max_n: int
    phase2_expansion: int


class DoseRowOut(BaseModel):
    dose: int
    level: str
    cells_per_kg: float
    n: int
    dlt: int
    responses: int
    pending: int
    desirability: float
    admissible: bool
    eliminated: str | None
    treated: int = Field(0, description="Infused participants analysed at this dose.")
    evaluable: int = Field(0, description="Of them, adjudicated evaluable for DLT.")
    dlts: int = Field(0, description="Of them, with a DLT (final adjudication).")
    responders: int = Field(0, description="Of them, best overall response CR or CRi.")
    worst_ae: dict[str, int] = Field(
        default_factory=dict,
        description="Of them, by worst AE grade (1-5) in the protocol's AE window.",
    )


class NextStepOut(BaseModel):
    action: Literal["assign", "wait", "select_obd", "stop", "closed"]
    reason: str = Field(description="Why, in the request's language (Accept-Language or stored).")
    reason_code: str | None = Field(None, description="The stable code of the reason.")
    reason_params: dict[str, Any] = Field(
        default_factory=dict, description="The reason's parameters (design doses 1-based)."
    )
    phase: int | None
    cohort: int | None
    dose: int | None
    level: str | None
    wait_until: date | None
    seed: int | None
    outcomes: str | None
    new_decision: bool
    decision: dict[str, Any] | None


class PendingOut(BaseModel):
    study_id: str
    dose: int | None
    waiting_for: list[str]
    known_by: date | None
    days_left: int | None


class ArmStateOut(BaseModel):
    """An arm's dose-finding state, computed from the records by the one function every view
    uses; ``outcomes`` + ``params`` (with ``seed``) reproduce the decision with
    ``dosewise decide`` (``decide_command``)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "arm_id": "autologous",
                    "phase": "phase1",
                    "version": 12,
                    "as_of": "2026-03-01",
                    "outcomes": "2NEN 1E 3EB",
                    "next": {
                        "action": "wait",
                        "reason": "The next patient must wait until 2026-03-08 ...",
                        "wait_until": "2026-03-08",
                    },
                }
            ]
        }
    )

    arm_id: str
    label: str
    design: str
    phase: str
    version: int
    as_of: date
    params: dict[str, Any]
    dose_levels: list[dict[str, Any]]
    outcomes: str
    decide_command: str | None
    tite_input: dict[str, Any] | None
    doses: list[DoseRowOut]
    #: Levels outside the dose finding (the fallback under ``fallback_policy: safety_only``):
    #: their participants' safety counts; ``n``, ``dlt`` and ``responses`` are always 0.
    outside_doses: list[DoseRowOut] = []
    cohort: dict[str, Any] | None
    pending: list[PendingOut]
    needs_readjudication: list[str] = Field(
        default_factory=list,
        description="Study IDs whose final DLT adjudication was reopened: no dose until "
        "re-adjudicated (409 needs_readjudication)",
    )
    patients: list[dict[str, Any]]
    next: NextStepOut
    obd: dict[str, Any] | None
    closure: dict[str, Any] | None
    phase2: dict[str, Any] | None
    history: list[dict[str, Any]]
    #: How the state is read, in the request's language (English by default).
    notes: list[str]
    #: The same notes as data: ``reason_code``, ``reason_params`` and the English ``reason``.
    note_codes: list[dict[str, Any]] = []
    #: Signed records of the arm changed since signing (no dose is assigned while any exist).
    broken_signatures: list[dict[str, Any]] = []
    #: For a user of one site: other sites' participants as counts (``participants``,
    #: ``pending``, ``treated``); their rows are left out of ``patients``, ``pending`` and
    #: ``cohort.members``. Absent for users over every site (so their state is the CLI's).
    other_sites: dict[str, int] | None = Field(default=None, exclude_if=lambda v: v is None)


class ClosureOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "arm_id": "autologous",
                    "obd_index": 2,
                    "obd_level": "DL1",
                    "rp2d_index": 2,
                    "rp2d_level": "DL1",
                    "reason": "Trial ends: 12 patients reached the maximum sample size 12 ...",
                    "outcomes": "2NEN 1E 3EB 2EEE 2NEE",
                    "closed_at": "2026-06-02T09:00:00Z",
                    "phase": "phase2",
                    "phase2_design": {"n_max": 15, "looks": [12, 15], "lambda": 0.79, "gamma": 0.0},
                    "signature": {"printed_name": "Trial Statistician", "meaning": "approval"},
                }
            ]
        }
    )

    arm_id: str
    obd_index: int | None
    obd_level: str | None
    rp2d_index: int | None
    rp2d_level: str | None
    reason: str | None
    outcomes: str | None
    closed_at: datetime
    phase: str
    phase2_design: dict[str, Any] | None
    signature: dict[str, Any] | None


class Bop2LookOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "arm_id": "autologous",
                    "look": 1,
                    "n": 12,
                    "responses": 8,
                    "toxicities": 0,
                    "decision": "continue",
                    "reason": "no stopping rule fires at n=12 (cutoff C(n) = 0.2100)",
                    "boundaries": [
                        {
                            "n": 12,
                            "cutoff": 0.21,
                            "stop_if_responses_le": 5,
                            "stop_if_toxicities_ge": 3,
                        }
                    ],
                    "detail": {"planned_look": True},
                    "looked_at": "2026-09-14T09:00:00Z",
                }
            ]
        }
    )

    arm_id: str
    look: int
    n: int
    responses: int
    toxicities: int | None
    decision: str
    reason: str
    boundaries: list[dict[str, Any]]
    detail: dict[str, Any] | None
    looked_at: datetime
