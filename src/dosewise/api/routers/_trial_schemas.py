"""Request and response bodies of the clinical routes (participants, dosing, outcomes, arms).

Inputs are typed as far as JSON Schema can say (ranges, choices, no NUL characters), so that
OpenAPI documents them; the rules that depend on data (eligibility, consent bands, the ASTCT
grade, feasibility ...) are the services' and answer 422 naming the field. Every route module
shares these; the module name starts with ``_`` so it is not mounted as a router.
"""

from __future__ import annotations

import datetime as dt
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

from dosewise.api.schemas import NO_NUL, Password, Reason, SiteId

MAX_INT = 2**31 - 1
Text = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00]*\S[^\x00]*$")]
LongText = Annotated[str, Field(min_length=1, max_length=2000, pattern=r"^[^\x00]*\S[^\x00]*$")]
ArmId = Annotated[
    str,
    Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$", examples=["autologous"]),
]
Version = Annotated[
    int,
    Field(
        ge=0,
        le=MAX_INT,
        description="The arm version the client's decision is based on (from the arm state); "
        "if the arm moved on since, the request is refused with 409",
        examples=[7],
    ),
]
Meaning = Literal["authorship", "review", "approval", "responsibility"]
Fraction = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]

StudyIdPath = Path(min_length=3, max_length=32, pattern=r"^[A-Za-z0-9-]+$", examples=["S01-0001"])
ArmIdPath = Path(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$", examples=["autologous"])


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


def example(data: dict[str, Any]) -> ConfigDict:
    """A model config with one OpenAPI example (and unknown keys refused)."""
    return ConfigDict(extra="forbid", json_schema_extra={"examples": [data]})


# --------------------------------------------------------------------------- participants


class RegisterIn(In):
    model_config = example({"site_id": "S01", "year_of_birth": 1991})

    site_id: SiteId
    year_of_birth: int | None = Field(default=None, ge=1900, le=2100)
    registered_on: date | None = Field(
        default=None, description="Default: today at the site (its time zone)"
    )


class OffStudyIn(In):
    model_config = example(
        {"off_study_on": "2026-03-01", "reason_code": "withdrawal", "reason": "withdrew consent"}
    )

    off_study_on: date
    reason_code: Literal[
        "death",
        "withdrawal",
        "lost_to_follow_up",
        "investigator_decision",
        "other",
        "sct",
        "new_therapy",
    ] = Field(description="sct and new_therapy censor the BOR (it is final from that day)")
    reason: Reason


class SignatureSpec(In):
    model_config = example({"password": "••••••••••••", "meaning": "approval"})

    password: Password = Field(description="Your own password, re-entered (21 CFR 11.200)")
    meaning: Meaning = "approval"


# --------------------------------------------------------------------------- consent, screening


class ConsentSignatureIn(In):
    form: str = Field(min_length=1, max_length=32, pattern=NO_NUL, examples=["treatment"])
    signer: Literal["patient", "guardian", "patient_advocate"]
    name: str | None = Field(
        default=None, max_length=200, pattern=NO_NUL, description="Checked, never stored"
    )
    signed_on: date | None = None


class ConsentRecordIn(In):
    consent_date: date
    date_of_birth: date | None = Field(
        default=None, description="Used to compute the age; only the age is stored"
    )
    age_years: int | None = Field(default=None, ge=0, le=130)
    patient_able_to_sign: bool | None = None
    signatures: list[ConsentSignatureIn] = Field(default_factory=list, max_length=20)


class ConsentIn(In):
    model_config = example(
        {
            "consent_version": "v1.0",
            "record": {
                "consent_date": "2026-01-05",
                "age_years": 34,
                "patient_able_to_sign": True,
                "signatures": [
                    {"form": "treatment", "signer": "patient"},
                    {"form": "voluntary", "signer": "patient"},
                ],
            },
        }
    )

    consent_version: str = Field(min_length=1, max_length=32, pattern=NO_NUL)
    record: ConsentRecordIn
    correction_reason: LongText | None = Field(
        default=None,
        description="Correct the participant's existing record of this consent version (audited "
        "as a correction); without it a second record of a version is refused with 409",
    )


class VoidIn(In):
    model_config = example({"reason": "Guardian was not present; consent to be repeated"})

    reason: LongText


SCREENING_EXAMPLE: dict[str, Any] = {
    "screening_date": "2026-01-06",
    "age_years": 34,
    "sex": "male",
    "ecog": 1,
    "life_expectancy": {"value": 4, "unit": "months"},
    "peripheral_blood_blasts": {"value": 6, "unit": "%"},
    "last_antineoplastic_therapy_date": "2025-12-01",
    "cd5": [
        {
            "method": "flow_cytometry",
            "specimen": "bone_marrow",
            "positive": {"value": 94, "unit": "%"},
            "blast_mfi": 8200,
            "normal_t_cell_mfi": 15400,
        }
    ],
    "labs": {
        "creatinine": {"value": 78, "unit": "µmol/L", "uln": {"value": 106, "unit": "µmol/L"}}
    },
    "findings": {"t_cell_malignancy": True, "relapsed_or_refractory": True},
}


class ScreeningIn(In):
    model_config = example({"arm_id": "autologous", "record": SCREENING_EXAMPLE})

    arm_id: ArmId
    record: dict[str, Any] = Field(
        description="The screening record (docs/protocol.md): only screening_date is required; "
        "without a consent section, the recorded consent is used. Stored without identifiers."
    )


# --------------------------------------------------------------------------- enrollment, dosing


class EnrollIn(In):
    model_config = example({"arm_id": "autologous", "expected_arm_version": 7})

    arm_id: ArmId
    enrolled_on: date | None = Field(
        default=None, description="Default: today at the site (its time zone)"
    )
    expected_arm_version: Version | None = None


class AssignIn(In):
    model_config = example({"expected_arm_version": 7})

    expected_arm_version: Version | None = None


# --------------------------------------------------------------------------- product, infusion


class CertificateIn(In):
    tnc: float = Field(gt=0, le=1e13, allow_inf_nan=False, description="Total nucleated cells")
    viability: Fraction
    cd3: Fraction = Field(description="CD3+ fraction of viable cells")
    car: Fraction = Field(description="CAR+ fraction of CD3+ cells")
    volume_ml: float = Field(gt=0, le=10000, allow_inf_nan=False)


class ProductIn(In):
    model_config = example(
        {
            "lot": "CD5-2026-001",
            "certificate": {
                "tnc": 2.0e8,
                "viability": 0.9,
                "cd3": 0.95,
                "car": 0.4,
                "volume_ml": 50,
            },
            "weight_kg": 25,
            "released_on": "2026-01-20",
        }
    )

    lot: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._/-]+$")
    certificate: CertificateIn
    weight_kg: float = Field(gt=0, le=300, allow_inf_nan=False)
    released_on: date
    password: Password | None = Field(
        default=None, description="Re-enter your password to sign the release (optional)"
    )
    correction_reason: LongText | None = Field(
        default=None,
        description="Correct the released product before the infusion (audited as a correction; "
        "a signed release needs the password again); without it a second release is refused",
    )


class AgentIn(In):
    agent: str = Field(min_length=1, max_length=64, pattern=NO_NUL, examples=["fludarabine"])
    dose: float = Field(gt=0, le=1e5, allow_inf_nan=False, examples=[30])
    unit: str = Field(min_length=1, max_length=32, pattern=NO_NUL, examples=["mg/m2/day"])
    days: list[int] = Field(default_factory=list, max_length=14, examples=[[-5, -4, -3]])


class LymphodepletionIn(In):
    model_config = example(
        {
            "regimen": "Flu/Cy",
            "agents": [
                {"agent": "fludarabine", "dose": 30, "unit": "mg/m2/day", "days": [-5, -4, -3]},
                {"agent": "cyclophosphamide", "dose": 500, "unit": "mg/m2/day", "days": [-5]},
            ],
            "start_on": "2026-01-21",
            "end_on": "2026-01-23",
        }
    )

    regimen: Text
    agents: list[AgentIn] = Field(default_factory=list, max_length=10)
    start_on: date
    end_on: date | None = None
    correction_reason: LongText | None = Field(
        default=None,
        description="Correct the participant's existing record (audited as a correction); "
        "without it a second record is refused with 409",
    )


class DeviationSign(In):
    model_config = example({"reason": "Product volume partly lost at thaw", "password": "••••"})

    reason: LongText
    password: Password = Field(description="The investigator's password, re-entered (11.200)")


class InfusionIn(In):
    model_config = example({"infused_on": "2026-01-26", "infused_volume_ml": 36.5})

    infused_on: date
    infused_volume_ml: float = Field(gt=0, le=10000, allow_inf_nan=False)
    weight_kg: float | None = Field(
        default=None, gt=0, le=300, allow_inf_nan=False, description="Default: release weight"
    )
    deviation: DeviationSign | None = Field(
        default=None,
        description="Needed when the dose is outside every level's window: the infusion is then "
        "recorded with a protocol deviation (reason, the investigator's e-signature)",
    )
    correction_reason: LongText | None = Field(
        default=None,
        description="Correct the participant's existing record (audited as a correction); "
        "without it a second record is refused with 409",
    )


DEVIATION_CATEGORIES = Literal[
    "dose_outside_windows", "eligibility", "consent", "visit_window", "procedure", "other"
]


class DeviationIn(In):
    model_config = example(
        {
            "category": "visit_window",
            "description": "Day-28 marrow assessment done on day 36",
            "occurred_on": "2026-02-23",
            "reason": "Patient hospitalised elsewhere",
            "password": "••••",
        }
    )

    category: DEVIATION_CATEGORIES
    description: LongText
    occurred_on: date
    reason: LongText
    password: Password = Field(description="The investigator's password, re-entered (11.200)")


# --------------------------------------------------------------------------- adverse events


class CrsIn(In):
    fever: bool = False
    fever_masked: bool = Field(
        default=False, description="Tocilizumab, steroids or antipyretics given"
    )
    hypotension: bool = False
    vasopressors: int = Field(default=0, ge=0, le=10)
    vasopressin: bool = False
    oxygen_device: Literal[
        "none",
        "blow_by",
        "nasal_cannula",
        "facemask",
        "nonrebreather",
        "venturi",
        "cpap",
        "bipap",
        "mechanical_ventilation",
    ] = "none"
    oxygen_l_min: float | None = Field(default=None, ge=0, le=100, allow_inf_nan=False)
    died: bool = False


class IcansIn(In):
    age_years: float | None = Field(
        default=None, ge=0, le=130, allow_inf_nan=False, description="Default: from the consent"
    )
    ice_score: int | None = Field(default=None, ge=0, le=10)
    capd_score: int | None = Field(default=None, ge=0, le=32)
    ice_unable: bool = False
    capd_unable: bool = False
    consciousness: Literal["awake", "awakens_to_voice", "awakens_to_tactile", "unarousable"] = (
        "awake"
    )
    seizure: Literal["none", "resolving", "prolonged_or_repetitive"] = "none"
    motor_weakness: bool = False
    cerebral_edema: Literal["none", "focal", "diffuse"] = "none"
    died: bool = False
    developmental_delay: bool = False


class GradePointIn(In):
    date: dt.date
    grade: int = Field(ge=0, le=5)


Attribution = Literal["unrelated", "unlikely", "possible", "probable", "definite"]


class AdverseEventIn(In):
    model_config = example(
        {
            "term": "Cytokine release syndrome",
            "onset_on": "2026-01-28",
            "crs": {"fever": True, "hypotension": True, "vasopressors": 1},
            "resolved_on": "2026-02-02",
            "course": [{"date": "2026-01-28", "grade": 3}, {"date": "2026-01-30", "grade": 1}],
            "serious": True,
            "attribution": "definite",
        }
    )

    term: Text
    onset_on: date
    grade: int | None = Field(
        default=None, ge=1, le=5, description="CTCAE v5.0 grade; computed for CRS and ICANS"
    )
    crs: CrsIn | None = None
    icans: IcansIn | None = None
    resolved_on: date | None = None
    course: list[GradePointIn] = Field(default_factory=list, max_length=60)
    serious: bool = False
    attribution: Attribution = "possible"
    soc: str | None = Field(default=None, max_length=200, pattern=NO_NUL)
    verbatim: str | None = Field(default=None, max_length=200, pattern=NO_NUL)
    baseline_present: bool = False
    due_to_disease: bool = False
    meddra_code: str | None = Field(default=None, max_length=16, pattern=r"^[0-9]+$")
    outcome: str | None = Field(default=None, max_length=32, pattern=NO_NUL)
    notes: str | None = Field(default=None, max_length=2000, pattern=NO_NUL)


class AdverseEventUpdate(In):
    model_config = example(
        {"version": 1, "reason": "resolution date received", "resolved_on": "2026-02-02"}
    )

    version: int = Field(ge=1, le=MAX_INT, description="The event version you saw")
    reason: Reason
    resolved_on: date | None = None
    course: list[GradePointIn] | None = Field(default=None, max_length=60)
    serious: bool | None = None
    attribution: Attribution | None = None
    outcome: str | None = Field(default=None, max_length=32, pattern=NO_NUL)
    notes: str | None = Field(default=None, max_length=2000, pattern=NO_NUL)


class DltIn(In):
    model_config = example({"rationale": None})

    is_dlt: bool | None = Field(default=None, description="Default: the protocol rule's result")
    evaluable: bool | None = Field(default=None, description="Default: the rule's result")
    rationale: LongText | None = Field(
        default=None, description="Required to depart from the rule or to adjudicate again"
    )
    password: Password | None = Field(default=None, description="Sign the adjudication")
    final: bool | None = Field(
        default=None,
        description='Default: final unless a "no DLT" inside the DLT window (then provisional); '
        "true inside the window is refused (409 dlt_window_open)",
    )
    not_evaluable_reason: str | None = Field(
        default=None,
        max_length=64,
        pattern=r"^[a-z][a-z0-9_]*$",
        description="One of the protocol's evaluation.dlt_adjudication.not_evaluable_reasons",
    )


# --------------------------------------------------------------------------- responses


class MrdIn(In):
    value: float = Field(ge=0, le=1, allow_inf_nan=False, description="Fraction (1e-4 = 0.01%)")
    sensitivity: float = Field(gt=0, le=0.1, allow_inf_nan=False)
    assay: str = Field(default="flow", min_length=1, max_length=32, pattern=NO_NUL)


class MarrowIn(In):
    blasts_pct: float = Field(ge=0, le=100, allow_inf_nan=False)
    circulating_blasts: bool = False
    anc: float | None = Field(default=None, ge=0, le=2000, allow_inf_nan=False)
    platelets: float | None = Field(default=None, ge=0, le=2000, allow_inf_nan=False)
    transfusion_independent: bool = True
    baseline_blasts_pct: float | None = Field(default=None, ge=0, le=100, allow_inf_nan=False)
    mrd: MrdIn | None = None


class ResponseIn(In):
    model_config = example(
        {
            "assessed_on": "2026-02-23",
            "timepoint": "day_28",
            "marrow": {
                "blasts_pct": 1.5,
                "anc": 1.4,
                "platelets": 120,
                "baseline_blasts_pct": 40,
                "mrd": {"value": 0, "sensitivity": 1e-4},
            },
        }
    )

    assessed_on: date
    marrow: MarrowIn | None = None
    category: Literal["CR", "CRi", "PR", "SD/NR", "PD", "NE"] | None = None
    extramedullary: Literal["none", "CR", "PR", "SD", "PD", "NE"] = "none"
    mrd: MrdIn | None = None
    timepoint: str | None = Field(default=None, max_length=32, pattern=NO_NUL)
    notes: str | None = Field(default=None, max_length=2000, pattern=NO_NUL)


# --------------------------------------------------------------------------- arms


class ClosePhase1In(In):
    model_config = example({"password": "••••••••••••", "expected_arm_version": 31})

    password: Password = Field(description="Your own password, re-entered (21 CFR 11.200)")
    expected_arm_version: Version | None = None
    # Each BOP2 setting left out keeps the protocol's value (design.phase2, per arm).
    p0: float | None = Field(
        default=None, gt=0, lt=1, description="BOP2 null response rate (default: the protocol's)"
    )
    p1: float | None = Field(
        default=None, gt=0, lt=1, description="BOP2 target response rate (default: the protocol's)"
    )
    alpha: float | None = Field(default=None, gt=0, lt=1, description="Default: the protocol's")
    monitor_toxicity: bool | None = Field(default=None, description="Default: the protocol's")
    phi_t0: float | None = Field(
        default=None, gt=0, lt=1, description="Default: the protocol's, else the arm's φT"
    )
    phi_t1: float | None = Field(default=None, gt=0, lt=1, description="Default: the protocol's")


class LookIn(In):
    model_config = example({"expected_arm_version": 40})

    expected_arm_version: Version | None = None
