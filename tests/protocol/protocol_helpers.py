"""Helpers for the protocol tests: a screening record that meets every criterion, and screening."""

from __future__ import annotations

import copy
from typing import Any

from dosewise.protocol import Protocol, ScreeningResult, parse_screening

# Every finding the NCT07070323 criteria read, set so that the candidate passes.
PASSING_FINDINGS: dict[str, bool] = {
    "t_cell_malignancy": True,
    "relapsed_or_refractory": True,
    "standard_therapies_exhausted_or_intolerant": True,
    "curative_option_available": False,
    "severe_allergy": False,
    "willing_to_follow_study_schedule": True,
    "allo_hsct_donor_available": True,
    "willing_to_undergo_sct_at_cr": True,
    "impaired_consciousness": False,
    "intracranial_hypertension": False,
    "symptomatic_congestive_heart_failure": False,
    "severe_cardiac_arrhythmia": False,
    "severe_respiratory_failure": False,
    "other_malignancy": False,
    "disseminated_intravascular_coagulation": False,
    "sepsis": False,
    "uncontrolled_infection": False,
    "uncontrolled_diabetes": False,
    "serious_mental_illness": False,
    "active_intracranial_lesion_on_mri": False,
    "organ_transplant_other_than_sct": False,
    "pregnant": False,
    "infectious_hepatitis_test_positive": False,
    "hiv_test_positive": False,
    "syphilis_test_positive": False,
    "post_car_sct_feasible": True,
    "pbmc_collectable": True,
    "frozen_pbmc_available": False,
    "prior_allogeneic_sct": True,
    "prior_sct_donor_available": True,
    "newly_matched_donor_available": True,
}

PASSING_RECORD: dict[str, Any] = {
    "subject_id": "T-001",
    "screening_date": "2025-09-15",
    "date_of_birth": "1991-04-02",
    "sex": "female",
    "diagnosis": "T-ALL, second relapse",
    "ecog": 1,
    "life_expectancy": {"value": 4, "unit": "months"},
    "peripheral_blood_blasts": {"value": 6, "unit": "%"},
    "last_antineoplastic_therapy_date": "2025-08-20",
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
        "creatinine": {"value": 0.8, "unit": "mg/dL", "uln": 1.1},
        "bun": {"value": 12, "unit": "mg/dL", "uln": 20},
    },
    "findings": PASSING_FINDINGS,
    "consent": {
        "consent_date": "2025-09-12",
        "patient_able_to_sign": True,
        "signatures": [
            {"form": "treatment", "signer": "patient"},
            {"form": "voluntary", "signer": "patient"},
        ],
    },
}


def passing_record() -> dict[str, Any]:
    """A fresh, mutable copy of a record that meets every criterion of every arm."""
    return copy.deepcopy(PASSING_RECORD)


def screen(protocol: Protocol, data: dict[str, Any], arm: str = "autologous") -> ScreeningResult:
    return protocol.screen(parse_screening(data), arm)


def status_of(
    protocol: Protocol, data: dict[str, Any], criterion: str, arm: str = "autologous"
) -> str:
    result = screen(protocol, data, arm)
    return next(c.status for c in result.criteria if c.id == criterion)
