"""Form data a site would type for an eligible adult in the autologous arm (the values of
``examples/screening/eligible_autologous.json``), shared by the page tests and the browser tests."""

from __future__ import annotations

from datetime import date, timedelta

from dosewise.protocol import default_protocol
from dosewise.trial.demo.plan import FINDINGS_OK

#: Findings of an eligible autologous candidate: the demo trial's, less the new-donor one.
ELIGIBLE_FINDINGS = {k: v for k, v in FINDINGS_OK.items() if k != "allo_hsct_donor_available"}


def consent_form(today: date, age: int = 34) -> dict[str, str]:
    """An adult's complete consent: the patient signs both forms, three days ago."""
    on = (today - timedelta(days=3)).isoformat()
    return {
        "consent_date": on,
        "consent_age_years": str(age),
        "patient_able_to_sign": "yes",
        "consent_version": "1.0",
        "sig__treatment__patient": "yes",
        "sig__voluntary__patient": "yes",
    }


def screening_form(today: date, arm: str = "autologous", age: int = 34) -> dict[str, str]:
    """Every value the criteria read, for an eligible candidate screened today."""
    data = {
        "arm_id": arm,
        "screening_date": today.isoformat(),
        "screen_age_years": str(age),
        "sex": "male",
        "ecog": "1",
        "life_expectancy": "4",
        "life_expectancy_unit": "months",
        "peripheral_blood_blasts": "6",
        "last_antineoplastic_therapy_date": (today - timedelta(days=30)).isoformat(),
        "cd5_method": "flow_cytometry",
        "cd5_specimen": "bone_marrow",
        "cd5_positive": "94",
        "cd5_blast_mfi": "8200",
        "cd5_normal_t_cell_mfi": "15400",
        "creatinine_value": "78",
        "creatinine_unit": "µmol/L",
        "creatinine_uln": "106",
        "bun_value": "5.1",
        "bun_unit": "mmol/L",
        "bun_uln": "7.1",
    }
    known = set(default_protocol().screening_criteria.findings)
    assert set(ELIGIBLE_FINDINGS) <= known, "the example uses a finding the protocol does not"
    for name, value in ELIGIBLE_FINDINGS.items():
        data[f"finding__{name}"] = "yes" if value else "no"
    return data


#: A 70 kg adult's product holding 5.13×10⁷ CAR+ viable T cells (1.5e8 × 90% × 95% × 40%):
#: below DL1's window (≥ 5.6×10⁷ for 70 kg) but inside DL-1's (2.8–4.2×10⁷), so a planned DL1
#: falls back to DL-1 (clinical.md §4.2; the registry's fallback rule).
FALLBACK_PRODUCT = {
    "weight_kg": "70",
    "tnc": "1.5e8",
    "viability": "90",
    "cd3": "95",
    "car": "40",
    "volume_ml": "50",
}
