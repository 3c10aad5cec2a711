"""Every NCT07070323 criterion (inclusion 1-9, exclusion 1-15): met, not met and missing.

The thresholds tested are the registry's (shared/protocol/NCT07070323.md, "Eligibility
Criteria"); each boundary is tested on both sides. For exclusions *met* means the excluding
condition is present, so the candidate fails.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from protocol_helpers import PASSING_FINDINGS, passing_record, screen, status_of

from dosewise.errors import InvalidInput
from dosewise.protocol import Protocol, default_protocol
from dosewise.protocol.eligibility import kleene

ARMS = ("autologous", "prior_sct_donor", "new_donor")


def test_passing_record_is_eligible_for_every_arm(protocol: Protocol) -> None:
    for arm in ARMS:
        result = screen(protocol, passing_record(), arm)
        assert result.overall == "eligible", [c for c in result.criteria if c.verdict != "pass"]
        assert {c.id for c in result.criteria} == {f"I{i}" for i in range(1, 10)} | {
            f"E{i}" for i in range(1, 16)
        } | {"A1", "A2"}  # the arm requirements the registry implies (protocol evaluation)


def test_every_registry_criterion_is_encoded_once(protocol: Protocol) -> None:
    criteria = protocol.eligibility.criteria
    assert sorted(c.number for c in criteria if c.kind == "inclusion") == list(range(1, 10))
    assert sorted(c.number for c in criteria if c.kind == "exclusion") == list(range(1, 16))


# ---------------------------------------------------------------- yes/no findings

# (criterion, finding, value that triggers "met" for an exclusion / "not met" for an inclusion)
FINDING_CASES = [
    ("I1", "t_cell_malignancy", False),
    ("I1", "relapsed_or_refractory", False),
    ("I1", "standard_therapies_exhausted_or_intolerant", False),
    ("I1", "curative_option_available", True),
    ("I4", "severe_allergy", True),
    ("I8", "willing_to_follow_study_schedule", False),
    ("E1", "impaired_consciousness", True),
    ("E1", "intracranial_hypertension", True),
    ("E2", "symptomatic_congestive_heart_failure", True),
    ("E2", "severe_cardiac_arrhythmia", True),
    ("E3", "severe_respiratory_failure", True),
    ("E4", "other_malignancy", True),
    ("E5", "disseminated_intravascular_coagulation", True),
    ("E7", "sepsis", True),
    ("E7", "uncontrolled_infection", True),
    ("E8", "uncontrolled_diabetes", True),
    ("E9", "serious_mental_illness", True),
    ("E10", "active_intracranial_lesion_on_mri", True),
    ("E11", "organ_transplant_other_than_sct", True),
    ("E12", "pregnant", True),
    ("E13", "infectious_hepatitis_test_positive", True),
    ("E13", "hiv_test_positive", True),
    ("E13", "syphilis_test_positive", True),
]


@pytest.mark.parametrize(("criterion", "finding", "trigger"), FINDING_CASES)
def test_finding_criterion_met_not_met_and_missing(
    protocol: Protocol, record: dict[str, Any], criterion: str, finding: str, trigger: bool
) -> None:
    inclusion = criterion.startswith("I")
    assert status_of(protocol, record, criterion) == ("met" if inclusion else "not_met")

    record["findings"][finding] = trigger
    result = screen(protocol, record)
    assert status_of(protocol, record, criterion) == ("not_met" if inclusion else "met")
    assert result.overall == "ineligible"
    assert criterion in result.failed

    del record["findings"][finding]
    result = screen(protocol, record)
    assert status_of(protocol, record, criterion) == "not_assessed"
    assert result.overall == "incomplete"
    assert f"findings.{finding}" in result.missing


def test_any_of_exclusion_is_met_by_one_finding_even_if_another_is_missing(
    protocol: Protocol, record: dict[str, Any]
) -> None:
    # E1 is "impaired consciousness OR intracranial hypertension": one known yes decides it.
    del record["findings"]["intracranial_hypertension"]
    record["findings"]["impaired_consciousness"] = True
    assert status_of(protocol, record, "E1") == "met"


# ---------------------------------------------------------------- I2 (autologous only)


def test_i2_blood_tumour_burden_below_20_percent(
    protocol: Protocol, record: dict[str, Any]
) -> None:
    record["peripheral_blood_blasts"] = {"value": 19.9, "unit": "%"}
    assert status_of(protocol, record, "I2") == "met"
    record["peripheral_blood_blasts"] = {"value": 20, "unit": "%"}  # "less than 20%"
    assert status_of(protocol, record, "I2") == "not_met"
    record["peripheral_blood_blasts"] = {"value": 0.25, "unit": "fraction"}
    assert status_of(protocol, record, "I2") == "not_met"
    del record["peripheral_blood_blasts"]
    assert status_of(protocol, record, "I2") == "not_assessed"


def test_i2_more_than_two_weeks_off_therapy(protocol: Protocol, record: dict[str, Any]) -> None:
    record["screening_date"] = "2025-09-15"
    record["last_antineoplastic_therapy_date"] = "2025-08-31"  # 15 days
    assert status_of(protocol, record, "I2") == "met"
    record["last_antineoplastic_therapy_date"] = "2025-09-01"  # exactly 14 days: not "more than"
    assert status_of(protocol, record, "I2") == "not_met"
    del record["last_antineoplastic_therapy_date"]
    assert status_of(protocol, record, "I2") == "not_assessed"


def test_i2_applies_to_the_autologous_arm_only(protocol: Protocol, record: dict[str, Any]) -> None:
    record["peripheral_blood_blasts"] = {"value": 60, "unit": "%"}
    assert status_of(protocol, record, "I2", "autologous") == "not_met"
    for arm in ("prior_sct_donor", "new_donor"):
        assert status_of(protocol, record, "I2", arm) == "not_applicable"
        assert screen(protocol, record, arm).overall == "eligible"


# ---------------------------------------------------------------- I3 age 1-70


@pytest.mark.parametrize(
    ("birth", "expected"),
    [
        ("2024-09-15", "met"),  # 1st birthday on the screening day: age 1
        ("2024-09-16", "not_met"),  # one day short of 1
        ("1954-09-16", "met"),  # one day short of 71: still 70
        ("1954-09-15", "not_met"),  # 71st birthday on the screening day
    ],
)
def test_i3_age_1_to_70_in_completed_years(
    protocol: Protocol, record: dict[str, Any], birth: str, expected: str
) -> None:
    record["screening_date"] = "2025-09-15"
    record["date_of_birth"] = birth
    record["consent"]["signatures"] += [
        {"form": "treatment", "signer": "guardian"},
        {"form": "voluntary", "signer": "guardian"},
    ]
    record["last_antineoplastic_therapy_date"] = "2025-08-20"
    assert status_of(protocol, record, "I3") == expected


def test_i3_age_from_age_years_and_missing(protocol: Protocol, record: dict[str, Any]) -> None:
    del record["date_of_birth"]
    record["age_years"] = 70
    assert status_of(protocol, record, "I3") == "met"
    record["age_years"] = 71
    assert status_of(protocol, record, "I3") == "not_met"
    del record["age_years"]
    result = screen(protocol, record)
    assert status_of(protocol, record, "I3") == "not_assessed"
    assert "date_of_birth" in result.missing


# ---------------------------------------------------------------- I5, I6


@pytest.mark.parametrize(("ecog", "expected"), [(0, "met"), (2, "met"), (3, "not_met")])
def test_i5_ecog_0_to_2(
    protocol: Protocol, record: dict[str, Any], ecog: int, expected: str
) -> None:
    record["ecog"] = ecog
    assert status_of(protocol, record, "I5") == expected


def test_i5_ecog_missing(protocol: Protocol, record: dict[str, Any]) -> None:
    del record["ecog"]
    assert status_of(protocol, record, "I5") == "not_assessed"


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (60, "days", "met"),
        (59, "days", "not_met"),
        (2, "months", "met"),  # 2 × 365.25/12 = 60.9 days
        (8, "weeks", "not_met"),  # 56 days
        (1, "year", "met"),
    ],
)
def test_i6_life_expectancy_at_least_60_days(
    protocol: Protocol, record: dict[str, Any], value: float, unit: str, expected: str
) -> None:
    record["life_expectancy"] = {"value": value, "unit": unit}
    assert status_of(protocol, record, "I6") == expected


def test_i6_missing(protocol: Protocol, record: dict[str, Any]) -> None:
    del record["life_expectancy"]
    assert status_of(protocol, record, "I6") == "not_assessed"


# ---------------------------------------------------------------- I7 CD5


def flow(pct: float, blast: float | None, normal: float | None, specimen: str = "bone_marrow"):
    assay: dict[str, Any] = {
        "method": "flow_cytometry",
        "specimen": specimen,
        "positive": {"value": pct, "unit": "%"},
    }
    if blast is not None:
        assay["blast_mfi"] = blast
    if normal is not None:
        assay["normal_t_cell_mfi"] = normal
    return assay


def ihc(pct: float, specimen: str = "tumour_tissue") -> dict[str, Any]:
    return {
        "method": "immunohistochemistry",
        "specimen": specimen,
        "positive": {"value": pct, "unit": "%"},
    }


@pytest.mark.parametrize(
    ("assays", "expected"),
    [
        ([flow(80.5, 1000, 9000)], "met"),  # >80% and 0.95 log
        ([flow(80, 1000, 2000)], "not_met"),  # exactly 80% is not "> 80%"
        ([flow(95, 1000, 10000)], "not_met"),  # exactly one log apart is not "less than one log"
        ([flow(95, 10000, 1000)], "not_met"),  # blasts brighter by one log: same rule
        ([flow(95, 1000, 9999)], "met"),
        ([flow(95, 900, 1000, specimen="csf")], "met"),  # CSF is a flow specimen
        ([ihc(31)], "met"),
        ([ihc(30)], "not_met"),  # "> 30%"
        ([flow(95, 100, 10000), ihc(45)], "met"),  # IHC pathway rescues a failed flow
        ([flow(95, None, None)], "not_assessed"),  # >80% but MFI not recorded
        ([flow(70, None, None)], "not_met"),  # fails on % alone, MFI irrelevant
        ([flow(95, 900, 1000, specimen="peripheral_blood")], "not_assessed"),  # not BM/CSF
        ([ihc(80, specimen="bone_marrow")], "not_assessed"),  # IHC is on tumour tissue
        ([], "not_assessed"),
        # 0.8 as a fraction is 80%: still not "> 80%" despite 0.8 × 100 = 80.00000000000001
        ([{**flow(0, 1000, 2000), "positive": {"value": 0.8, "unit": "fraction"}}], "not_met"),
    ],
)
def test_i7_cd5_positivity(
    protocol: Protocol, record: dict[str, Any], assays: list[dict[str, Any]], expected: str
) -> None:
    record["cd5"] = assays
    assert status_of(protocol, record, "I7") == expected


# ---------------------------------------------------------------- I8 consent


def test_i8_consent_met_missing_signature_late_and_absent(
    protocol: Protocol, record: dict[str, Any]
) -> None:
    assert status_of(protocol, record, "I8") == "met"

    record["consent"]["signatures"] = record["consent"]["signatures"][:1]
    result = screen(protocol, record)
    assert status_of(protocol, record, "I8") == "not_met"
    i8 = next(c for c in result.criteria if c.id == "I8")
    assert "voluntary consent form: patient" in i8.evidence[0]

    record["consent"]["signatures"] = [
        {"form": "treatment", "signer": "patient"},
        {"form": "voluntary", "signer": "patient", "signed_on": "2025-09-16"},  # after screening
    ]
    assert status_of(protocol, record, "I8") == "not_met"

    del record["consent"]
    assert status_of(protocol, record, "I8") == "not_assessed"


def test_i8_child_needs_guardian_and_takes_age_from_the_record(
    protocol: Protocol, record: dict[str, Any]
) -> None:
    record["date_of_birth"] = "2013-01-01"  # 12 on the consent date: band 8-18
    assert status_of(protocol, record, "I8") == "not_met"
    record["consent"]["signatures"] += [
        {"form": "treatment", "signer": "patient_advocate"},
        {"form": "voluntary", "signer": "guardian"},
    ]
    assert status_of(protocol, record, "I8") == "met"


# ---------------------------------------------------------------- I9, E14 (new donor only)


def test_i9_donor_available_and_willing_for_sct(protocol: Protocol, record: dict[str, Any]) -> None:
    assert status_of(protocol, record, "I9", "new_donor") == "met"
    assert status_of(protocol, record, "I9", "autologous") == "not_applicable"
    for finding in ("allo_hsct_donor_available", "willing_to_undergo_sct_at_cr"):
        data = passing_record()
        data["findings"][finding] = False
        assert status_of(protocol, data, "I9", "new_donor") == "not_met"
        assert status_of(protocol, data, "I9", "prior_sct_donor") == "not_applicable"
        del data["findings"][finding]
        assert status_of(protocol, data, "I9", "new_donor") == "not_assessed"


def test_e14_post_car_sct_not_feasible(protocol: Protocol, record: dict[str, Any]) -> None:
    assert status_of(protocol, record, "E14", "new_donor") == "not_met"
    record["findings"]["post_car_sct_feasible"] = False
    assert status_of(protocol, record, "E14", "new_donor") == "met"
    assert screen(protocol, record, "new_donor").overall == "ineligible"
    assert status_of(protocol, record, "E14", "autologous") == "not_applicable"
    assert screen(protocol, record, "autologous").overall == "eligible"
    del record["findings"]["post_car_sct_feasible"]
    assert status_of(protocol, record, "E14", "new_donor") == "not_assessed"


# ---------------------------------------------------------------- E6 renal


@pytest.mark.parametrize(
    ("creatinine", "bun", "expected"),
    [
        ({"value": 1.65, "unit": "mg/dL", "uln": 1.1}, None, "met"),  # exactly 1.5 x ULN
        ({"value": 1.64, "unit": "mg/dL", "uln": 1.1}, None, "not_met"),
        (None, {"value": 30, "unit": "mg/dL", "uln": 20}, "met"),  # BUN alone ("and/or")
        (None, {"value": 29.9, "unit": "mg/dL", "uln": 20}, "not_met"),
        # units: 133 µmol/L = 1.504 mg/dL against a ULN written in mg/dL
        ({"value": 133, "unit": "µmol/L", "uln": {"value": 1.0, "unit": "mg/dL"}}, None, "met"),
        ({"value": 132, "unit": "umol/L", "uln": {"value": 1.0, "unit": "mg/dL"}}, None, "not_met"),
        # urea 10.71 mmol/L = 30.0 mg/dL urea nitrogen against ULN 20 mg/dL
        (None, {"value": 10.71, "unit": "mmol/L", "uln": {"value": 20, "unit": "mg/dL"}}, "met"),
    ],
)
def test_e6_creatinine_or_bun_at_least_1_5_times_uln(
    protocol: Protocol,
    record: dict[str, Any],
    creatinine: dict[str, Any] | None,
    bun: dict[str, Any] | None,
    expected: str,
) -> None:
    if creatinine is not None:
        record["labs"]["creatinine"] = creatinine
    if bun is not None:
        record["labs"]["bun"] = bun
    assert status_of(protocol, record, "E6") == expected


def test_e6_missing_lab(protocol: Protocol, record: dict[str, Any]) -> None:
    del record["labs"]["bun"]
    assert status_of(protocol, record, "E6") == "not_assessed"  # creatinine normal, BUN unknown
    record["labs"]["creatinine"] = {"value": 2.0, "unit": "mg/dL", "uln": 1.0}
    assert status_of(protocol, record, "E6") == "met"  # one known high value decides
    del record["labs"]
    result = screen(protocol, record)
    assert {"labs.creatinine", "labs.bun"} <= set(result.missing)


# ---------------------------------------------------------------- E12, E15


def test_e12_pregnancy_applies_to_females(protocol: Protocol, record: dict[str, Any]) -> None:
    record["sex"] = "male"
    del record["findings"]["pregnant"]
    assert status_of(protocol, record, "E12") == "not_met"
    record["sex"] = "female"
    assert status_of(protocol, record, "E12") == "not_assessed"
    record["findings"]["pregnant"] = True
    assert status_of(protocol, record, "E12") == "met"
    del record["sex"]
    assert status_of(protocol, record, "E12") == "not_assessed"


@pytest.mark.parametrize(
    ("collectable", "frozen", "expected"),
    [(False, False, "met"), (True, False, "not_met"), (False, True, "not_met")],
)
def test_e15_no_source_of_pbmc(
    protocol: Protocol, record: dict[str, Any], collectable: bool, frozen: bool, expected: str
) -> None:
    record["findings"]["pbmc_collectable"] = collectable
    record["findings"]["frozen_pbmc_available"] = frozen
    assert status_of(protocol, record, "E15") == expected


def test_e15_missing(protocol: Protocol, record: dict[str, Any]) -> None:
    del record["findings"]["pbmc_collectable"]
    assert status_of(protocol, record, "E15") == "not_assessed"


# ---------------------------------------------------------------- overall


def test_ineligible_wins_over_incomplete(protocol: Protocol, record: dict[str, Any]) -> None:
    del record["ecog"]
    record["findings"]["sepsis"] = True
    result = screen(protocol, record)
    assert result.overall == "ineligible"
    assert result.failed == ("E7",)
    assert result.not_assessed == ("I5",)


def test_unknown_arm_and_unknown_finding_are_errors(
    protocol: Protocol, record: dict[str, Any]
) -> None:
    with pytest.raises(InvalidInput) as exc:
        screen(protocol, record, "allogeneic")
    assert exc.value.field == "arm"
    record["findings"]["sepsys"] = False
    with pytest.raises(InvalidInput) as exc:
        screen(protocol, record)
    assert exc.value.field == "findings.sepsys"
    assert "did you mean 'sepsis'" in str(exc.value)


def test_every_finding_the_protocol_reads_is_in_the_passing_record(protocol: Protocol) -> None:
    assert set(protocol.screening_criteria.findings) == set(PASSING_FINDINGS)


# ---------------------------------------------------------------- three-valued logic

TRI = st.sampled_from([True, False, None])


@given(st.lists(TRI, min_size=1, max_size=6))
def test_kleene_agrees_with_all_and_any_once_everything_is_known(values: list[bool | None]) -> None:
    known = [v for v in values if v is not None]
    if len(known) == len(values):
        assert kleene(values, "all") is all(known)
        assert kleene(values, "any") is any(known)
    # Filling in a missing value never flips a decided answer.
    for combine in ("all", "any"):
        decided = kleene(values, combine)  # type: ignore[arg-type]
        for fill in (True, False):
            filled = [fill if v is None else v for v in values]
            if decided is not None:
                assert kleene(filled, combine) is decided  # type: ignore[arg-type]


EXCLUDING = [(c, f) for c, f, trigger in FINDING_CASES if c.startswith("E")]


@given(st.sets(st.sampled_from(EXCLUDING), min_size=0, max_size=6))
def test_each_present_exclusion_fails_exactly_its_criterion(
    present: set[tuple[str, str]],
) -> None:
    data = passing_record()
    for _, finding in present:
        data["findings"][finding] = True
    result = screen(default_protocol(), data)
    assert set(result.failed) == {criterion for criterion, _ in present}
    assert result.overall == ("ineligible" if present else "eligible")
