"""The script of the demonstration trial: who has which outcome, and the records that show it.

Pure data and small pure functions, used by :func:`dosewise.trial.demo.load_demo_trial`. The
outcomes are set per arm and per *analysed* dose, in the order patients are analysed there (the
design, not the script, decides the doses), so the same script works whatever it decides:

- autologous: DL1 responds well, DL2 is toxic; one product of cohort 2 falls short and is given
  at DL-1 (the registry's fallback). Under the protocol's default ``fallback_policy``
  (``safety_only``) that participant is followed for safety only, in no level's design data,
  and the next enrolled participant takes the place in the cohort (under
  ``analyse_at_actual`` DL-1 would be design dose 1);
- prior_sct_donor: a quiet start, DL1 best;
- new_donor: an early DLT at DL1, which responds; DL2 is toxic.

The design doses are the registry's: DL1 (the start) and DL2.

Each toxicity (T) is made of recorded events that the protocol's DLT definition classifies as a
DLT (grade 4 CRS; grade 3 ICANS not improving within 72 h; grade 3 acute GVHD); a patient
without one gets events that are *not* DLTs (CRS grade 1-2, grade 3 CRS improving to 2 within
48 h, ICANS grade 1, a grade 4 neutropenia recovering before day 28). Each efficacy (E) is a
day-28 marrow CR or CRi; the others are SD/NR or PD.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

#: Letters per arm and dose level, in the order patients are analysed at that level (phase 1).
PHASE1_TRUTH: dict[str, dict[str, str]] = {
    "autologous": {"DL-1": "ENNNNNNNNN", "DL1": "NENEEENEEEEE", "DL2": "EBTTBEBTET"},
    "prior_sct_donor": {"DL-1": "NNENNENNNN", "DL1": "NNEEENEEEEE", "DL2": "EBEEENEEEE"},
    "new_donor": {"DL-1": "ENEENEENEE", "DL1": "ETNEEEEENEEE", "DL2": "TTBTTBTTTT"},
}
#: (arm, cohort, position in the cohort) whose product falls short of the planned level.
FALLBACK = frozenset({("autologous", 2, 1)})
#: Phase 2 participants per arm: (DLT, responder by day 97).
PHASE2_TRUTH: dict[str, tuple[tuple[bool, bool], ...]] = {
    "autologous": (
        (False, True),
        (False, True),
        (False, False),
        (False, True),
        (True, True),
        (False, True),
    ),
    "prior_sct_donor": (
        (False, True),
        (False, False),
        (False, True),
        (False, False),
        (False, True),
        (False, True),
    ),
    "new_donor": (
        (False, False),
        (True, False),
        (False, False),
        (False, False),
        (False, False),
        (True, False),
    ),
}
SITES = ("S01", "S02", "S03", "S04")
#: Participants treated when the designs decide as they do on this script (the whole-trial test
#: checks it): twelve per arm in phase 1's design data, six per arm in phase 2, and the fallback
#: participant followed for safety only (``safety_only``). Only the progress bar uses it.
PARTICIPANTS = 55
#: Screen failures: (site, arm, what fails, the record change).
SCREEN_FAILURES: tuple[tuple[str, str, str, dict[str, Any]], ...] = (
    ("S01", "autologous", "ECOG 3 (I5)", {"ecog": 3}),
    (
        "S02",
        "autologous",
        "blood blasts 30% (I2)",
        {"peripheral_blood_blasts": {"value": 30, "unit": "%"}},
    ),
    (
        "S03",
        "prior_sct_donor",
        "creatinine 2 x ULN (E6)",
        {
            "labs": {
                "creatinine": {
                    "value": 212,
                    "unit": "µmol/L",
                    "uln": {"value": 106, "unit": "µmol/L"},
                }
            }
        },
    ),
    (
        "S04",
        "new_donor",
        "no donor available (I9)",
        {"findings": {"allo_hsct_donor_available": False}},
    ),
    (
        "S02",
        "new_donor",
        "uncontrolled infection (E7)",
        {"findings": {"uncontrolled_infection": True}},
    ),
    ("S03", "autologous", "other malignancy (E4)", {"findings": {"other_malignancy": True}}),
)
FINDINGS_OK: dict[str, bool] = {
    "t_cell_malignancy": True,
    "relapsed_or_refractory": True,
    "standard_therapies_exhausted_or_intolerant": True,
    "curative_option_available": False,
    "severe_allergy": False,
    "willing_to_follow_study_schedule": True,
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
    "infectious_hepatitis_test_positive": False,
    "hiv_test_positive": False,
    "syphilis_test_positive": False,
    "pbmc_collectable": True,
    "frozen_pbmc_available": False,
    "allo_hsct_donor_available": True,
    "willing_to_undergo_sct_at_cr": True,
    "post_car_sct_feasible": True,
    "pregnant": False,
    # The arm requirements (protocol evaluation.arm_requirements, issue 14 item 8).
    "prior_allogeneic_sct": True,
    "prior_sct_donor_available": True,
    "newly_matched_donor_available": True,
}
#: Product release values other than the cell count (fractions; CAR+ viable T = TNC x 0.342).
VIABILITY, CD3, CAR, VOLUME_ML = 0.9, 0.95, 0.4, 50.0


def person(n: int) -> tuple[int, float, str]:
    """Age (years), weight (kg) and sex of the n-th participant (n from 0); one child."""
    if n == 4:
        return 10, 32.0, "female"
    ages = (34, 52, 27, 61, 45, 19, 38, 66, 29, 57, 41, 23)
    weights = (62.0, 71.5, 55.0, 80.0, 48.5, 66.0, 74.0, 58.0, 69.5, 52.0, 77.0, 60.5)
    return ages[n % 12], weights[n % 12], "male" if n % 3 else "female"


def consent_record(on: date, age: int) -> dict[str, Any]:
    """A complete consent for the age band (8-18: patient and guardian; over 18: patient)."""
    signers = (
        ["patient", "guardian"] if 8 <= age <= 18 else ["patient"] if age > 18 else ["guardian"]
    )
    return {
        "consent_date": on.isoformat(),
        "age_years": age,
        "patient_able_to_sign": age >= 8,
        "signatures": [
            {"form": form, "signer": signer, "signed_on": on.isoformat()}
            for form in ("treatment", "voluntary")
            for signer in signers
        ],
    }


def screening_record(
    on: date, age: int, sex: str, change: dict[str, Any] | None = None
) -> dict[str, Any]:
    """An eligible screening record for every arm, or one changed to fail a criterion."""
    record: dict[str, Any] = {
        "screening_date": on.isoformat(),
        "age_years": age,
        "sex": sex,
        "diagnosis": "Relapsed T-cell acute lymphoblastic leukaemia",
        "ecog": 1,
        "life_expectancy": {"value": 4, "unit": "months"},
        "peripheral_blood_blasts": {"value": 6, "unit": "%"},
        "last_antineoplastic_therapy_date": (on - timedelta(days=30)).isoformat(),
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
            "creatinine": {"value": 78, "unit": "µmol/L", "uln": {"value": 106, "unit": "µmol/L"}},
            "bun": {"value": 5.1, "unit": "mmol/L", "uln": {"value": 7.1, "unit": "mmol/L"}},
        },
        "findings": dict(FINDINGS_OK),
    }
    for key, value in (change or {}).items():
        if key == "findings":
            record["findings"].update(value)
        elif key == "labs":
            record["labs"].update(value)
        else:
            record[key] = value
    return record


def certificate(cells_per_kg: float, weight: float, short: bool) -> dict[str, float]:
    """Release values: 15% above the planned target, or (``short``) 60% of it."""
    target = cells_per_kg * weight
    car_t = target * (0.6 if short else 1.15)
    return {
        "tnc": round(car_t / (VIABILITY * CD3 * CAR), 0),
        "viability": VIABILITY,
        "cd3": CD3,
        "car": CAR,
        "volume_ml": VOLUME_ML,
    }


def _day(d0: date, n: int) -> str:
    return (d0 + timedelta(days=n)).isoformat()


def crs(fever: bool = False, hypotension: bool = False, vasopressors: int = 0) -> dict[str, Any]:
    """ASTCT CRS components as the site records them, every component given."""
    return {
        "fever": fever,
        "fever_masked": False,
        "hypotension": hypotension,
        "vasopressors": vasopressors,
        "vasopressin": False,
        "oxygen_device": "none",
        "oxygen_l_min": None,
        "died": False,
    }


def icans(**score: int) -> dict[str, Any]:
    """ASTCT ICANS components: the ICE (or, under 12, CAPD) ``score``, nothing else abnormal."""
    return {
        **score,
        "ice_unable": False,
        "capd_unable": False,
        "consciousness": "awake",
        "seizure": "none",
        "motor_weakness": False,
        "cerebral_edema": "none",
        "died": False,
        "developmental_delay": False,
    }


def toxicity_events(kind: int, d0: date, donor: bool, age: int) -> list[dict[str, Any]]:
    """Events that the protocol's DLT definition classifies as a DLT (``kind`` rotates)."""
    options = ["crs4", "icans3", "gvhd3"] if donor else ["crs4", "icans3"]
    pick = options[kind % len(options)]
    if pick == "crs4":
        return [
            {
                "term": "Cytokine release syndrome",
                "onset_on": _day(d0, 2),
                "crs": crs(fever=True, hypotension=True, vasopressors=2),
                "course": [{"date": _day(d0, 2), "grade": 4}, {"date": _day(d0, 6), "grade": 2}],
                "resolved_on": _day(d0, 10),
                "serious": True,
                "attribution": "definite",
            }
        ]
    if pick == "icans3":
        return [
            {
                "term": "Cytokine release syndrome",
                "onset_on": _day(d0, 1),
                "crs": crs(fever=True),
                "resolved_on": _day(d0, 3),
                "attribution": "definite",
            },
            {
                "term": "Immune effector cell-associated neurotoxicity syndrome",
                "onset_on": _day(d0, 5),
                "icans": icans(capd_score=12) if age < 12 else icans(ice_score=2),
                "course": [{"date": _day(d0, 5), "grade": 3}, {"date": _day(d0, 10), "grade": 1}],
                "resolved_on": _day(d0, 14),
                "serious": True,
                "attribution": "probable",
            },
        ]
    return [
        {
            "term": "Graft versus host disease",
            "onset_on": _day(d0, 18),
            "grade": 3,
            "serious": True,
            "attribution": "probable",
        }
    ]


def other_events(kind: int, d0: date, age: int) -> list[dict[str, Any]]:
    """Events that are *not* DLTs under the protocol's definition (``kind`` rotates)."""
    crs_events: list[dict[str, Any]] = [
        {
            "term": "Cytokine release syndrome",
            "onset_on": _day(d0, 1),
            "crs": crs(fever=True),
            "resolved_on": _day(d0, 3),
        },
        {
            "term": "Cytokine release syndrome",
            "onset_on": _day(d0, 2),
            "crs": crs(fever=True, hypotension=True),
            "resolved_on": _day(d0, 6),
        },
        {
            "term": "Cytokine release syndrome",
            "onset_on": _day(d0, 1),
            "crs": crs(fever=True, hypotension=True, vasopressors=1),
            "course": [{"date": _day(d0, 1), "grade": 3}, {"date": _day(d0, 3), "grade": 2}],
            "resolved_on": _day(d0, 6),
            "serious": True,
            "attribution": "definite",
        },
    ]
    events = [crs_events[kind % 3]]
    if kind % 4 == 1 or age < 12:  # the child's ICANS is screened with the CAPD
        components = icans(capd_score=5) if age < 12 else icans(ice_score=8)
        events.append(
            {
                "term": "Immune effector cell-associated neurotoxicity syndrome",
                "onset_on": _day(d0, 4),
                "icans": components,
                "resolved_on": _day(d0, 6),
            }
        )
    if kind % 4 == 2:
        events.append(
            {
                "term": "Neutrophil count decreased",
                "onset_on": _day(d0, 3),
                "grade": 4,
                "resolved_on": _day(d0, 20),
            }
        )
    return events


def marrow(responds: bool, kind: int) -> dict[str, Any]:
    """A marrow assessment: CR (MRD negative) / CRi, or SD/NR / PD (every field given)."""
    if responds:
        anc = 1.5 if kind % 2 == 0 else 0.6
        return {
            "blasts_pct": 1.0,
            "circulating_blasts": False,
            "anc": anc,
            "platelets": 120.0,
            "transfusion_independent": True,
            "baseline_blasts_pct": 40.0,
            "mrd": {"value": 0.0, "sensitivity": 1e-4, "assay": "flow"},
        }
    blasts = 30.0 if kind % 2 == 0 else 60.0
    return {
        "blasts_pct": blasts,
        "circulating_blasts": False,
        "anc": 0.8,
        "platelets": 40.0,
        "transfusion_independent": True,
        "baseline_blasts_pct": 40.0,
    }


#: The lymphodepletion every participant receives (fludarabine days -5..-3, cyclophosphamide -5).
LYMPHODEPLETION_AGENTS: tuple[dict[str, Any], ...] = (
    {"agent": "fludarabine", "dose": 30.0, "unit": "mg/m2/day", "days": [-5, -4, -3]},
    {"agent": "cyclophosphamide", "dose": 500.0, "unit": "mg/m2/day", "days": [-5]},
)
