"""ASTCT 2019 ICANS grading: ICE (age >= 12) and CAPD (age < 12), clinical.md §1.2–1.3."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dosewise.clinical.astct import (
    CAPD_ITEMS,
    CONSCIOUSNESS,
    EDEMAS,
    SEIZURES,
    IcansAssessment,
    IcansSettings,
    IceItems,
    capd_score,
    grade_icans,
)
from dosewise.errors import InvalidInput, InvalidParameter


def icans(settings: IcansSettings | None = None, **kw: Any) -> tuple[int, str | None]:
    result = grade_icans(IcansAssessment(**kw), settings)
    assert result.scale == "ASTCT 2019"
    return result.grade, result.determined_by


# ---- §1.2 ICE domain ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "grade"),
    [(10, 0), (9, 1), (7, 1), (6, 2), (3, 2), (2, 3), (1, 3), (0, 3)],
)
def test_ice_bands(score: int, grade: int) -> None:
    assert icans(age_years=40, ice_score=score) == (grade, "ice" if grade else None)


def test_ice_0_awake_is_grade_3_unarousable_is_grade_4() -> None:
    # "A patient who is awake with global aphasia is grade 3. A patient who is unarousable is
    # grade 4." (clinical.md §1.2)
    assert icans(age_years=40, ice_score=0, consciousness="awake") == (3, "ice")
    assert icans(age_years=40, ice_score=0, consciousness="unarousable") == (4, "consciousness")
    assert icans(age_years=40, ice_unable=True) == (4, "ice")
    result = grade_icans(
        IcansAssessment(age_years=40, ice_unable=True, consciousness="unarousable")
    )
    assert result.determined_by_all == ("ice", "consciousness")


def test_ice_10_and_nothing_else_is_no_icans() -> None:
    assert icans(age_years=15, ice_score=10) == (0, None)


# ---- the other domains --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({"consciousness": "awakens_to_voice"}, (2, "consciousness")),
        ({"consciousness": "awakens_to_tactile"}, (3, "consciousness")),
        ({"consciousness": "unarousable"}, (4, "consciousness")),
        ({"seizure": "resolving"}, (3, "seizure")),
        ({"seizure": "prolonged_or_repetitive"}, (4, "seizure")),
        ({"motor_weakness": True}, (4, "motor")),
        ({"cerebral_edema": "focal"}, (3, "cerebral_edema")),
        ({"cerebral_edema": "diffuse"}, (4, "cerebral_edema")),
        ({"died": True}, (5, "death")),
    ],
)
def test_domain_grades(kw: dict[str, Any], expected: tuple[int, str]) -> None:
    assert icans(age_years=30, ice_score=10, **kw) == expected


def test_worst_domain_sets_the_grade() -> None:
    # clinical.md §1.2 example: ICE 3 plus a generalised seizure is grade 3.
    assert icans(age_years=30, ice_score=3, seizure="resolving") == (3, "seizure")
    assert icans(age_years=30, ice_score=8, cerebral_edema="diffuse") == (4, "cerebral_edema")
    assert icans(age_years=30, ice_score=5, consciousness="awakens_to_voice") == (2, "ice")


# ---- §1.3 CAPD for children ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "grade"),
    [(0, 0), (1, 1), (8, 1), (9, 3), (20, 3), (32, 3)],
)
def test_capd_bands_awake(score: int, grade: int) -> None:
    assert icans(age_years=6, capd_score=score) == (grade, "capd" if grade else None)


def test_capd_grades_1_and_2_share_a_band_split_by_consciousness() -> None:
    assert icans(age_years=6, capd_score=5, consciousness="awake") == (1, "capd")
    assert icans(age_years=6, capd_score=5, consciousness="awakens_to_voice") == (
        2,
        "consciousness",
    )


def test_capd_unable_is_grade_4() -> None:
    assert icans(age_years=3, capd_unable=True) == (4, "capd")


def test_age_cut_off_default_and_as_a_setting() -> None:
    assert grade_icans(IcansAssessment(age_years=11.9, capd_score=9)).tool == "capd"
    assert grade_icans(IcansAssessment(age_years=12, ice_score=9)).tool == "ice"
    older = IcansSettings(capd_below_age=13)
    assert grade_icans(IcansAssessment(age_years=12, capd_score=9), older).tool == "capd"
    with pytest.raises(InvalidInput) as err:
        grade_icans(IcansAssessment(age_years=12, capd_score=9))
    assert err.value.field == "capd_score"


def test_capd_positive_cut_off_is_a_setting() -> None:
    assert icans(IcansSettings(capd_positive_at=10), age_years=5, capd_score=9) == (1, "capd")
    with pytest.raises(InvalidParameter):
        IcansSettings(capd_positive_at=0)


def test_developmental_delay_selects_capd() -> None:
    assert icans(age_years=25, capd_score=12, developmental_delay=True) == (3, "capd")


def test_ice_for_a_young_child_is_an_error() -> None:
    with pytest.raises(InvalidInput) as err:
        grade_icans(IcansAssessment(age_years=5, ice_score=4))
    assert err.value.field == "ice_score"


def test_without_age_the_given_tool_is_used() -> None:
    assert grade_icans(IcansAssessment(ice_score=5)).tool == "ice"
    assert grade_icans(IcansAssessment(capd_score=5)).tool == "capd"


def test_capd_items_reverse_scoring() -> None:
    # Items 1-4 reverse-scored (never = 4 ... always = 0), items 5-8 forward (CHOP).
    best = dict.fromkeys(CAPD_ITEMS[:4], 4) | dict.fromkeys(CAPD_ITEMS[4:], 0)
    worst = dict.fromkeys(CAPD_ITEMS[:4], 0) | dict.fromkeys(CAPD_ITEMS[4:], 4)
    assert capd_score(best) == 0
    assert capd_score(worst) == 32
    assert capd_score(dict.fromkeys(CAPD_ITEMS, 2)) == 16
    with pytest.raises(InvalidInput):
        capd_score(dict.fromkeys(CAPD_ITEMS[:7], 0))  # an item missing


def test_ice_items_sum_to_ten() -> None:
    assert IceItems(4, 3, 1, 1, 1).score == 10
    assert IceItems(orientation=2, naming=3).score == 5
    with pytest.raises(InvalidInput):
        IceItems(orientation=5)


def test_items_in_the_mapping() -> None:
    a = IcansAssessment.from_mapping(
        {"age_years": 40, "ice_items": {"orientation": 3, "naming": 3, "writing": 1}}
    )
    assert a.ice_score == 7
    b = IcansAssessment.from_mapping({"age_years": 4, "capd_items": dict.fromkeys(CAPD_ITEMS, 2)})
    assert b.capd_score == 16


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"ice_score": 11}, "ice_score"),
        ({"ice_score": -1}, "ice_score"),
        ({"ice_score": "7"}, "ice_score"),
        ({"capd_score": 33}, "capd_score"),
        ({"consciousness": "drowsy"}, "consciousness"),
        ({"seizure": "yes"}, "seizure"),
        ({"cerebral_edema": True}, "cerebral_edema"),
        ({"motor_weakness": "no"}, "motor_weakness"),
        ({"age_years": -3}, "age_years"),
        ({"tremor": 2}, "tremor"),  # not an ICANS feature: unknown key
        ({"ice_score": 5, "ice_unable": True}, "ice_score"),
    ],
)
def test_bad_input_names_the_key(data: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        IcansAssessment.from_mapping(data)
    assert err.value.field == field


# ---- invariants ---------------------------------------------------------------------------------

adults = st.builds(
    IcansAssessment,
    age_years=st.floats(12, 90),
    ice_score=st.none() | st.integers(0, 10),
    consciousness=st.sampled_from(CONSCIOUSNESS),
    seizure=st.sampled_from(SEIZURES),
    motor_weakness=st.booleans(),
    cerebral_edema=st.sampled_from(EDEMAS),
    died=st.booleans(),
)


def _next(options: tuple[str, ...], value: str) -> str:
    return options[min(options.index(value) + 1, len(options) - 1)]


@given(adults, st.sampled_from(["ice", "consciousness", "seizure", "motor", "edema", "died"]))
def test_icans_grade_never_falls_when_a_domain_worsens(a: IcansAssessment, how: str) -> None:
    worse = {
        "ice": {"ice_score": max((a.ice_score if a.ice_score is not None else 10) - 1, 0)},
        "consciousness": {"consciousness": _next(CONSCIOUSNESS, a.consciousness)},
        "seizure": {"seizure": _next(SEIZURES, a.seizure)},
        "motor": {"motor_weakness": True},
        "edema": {"cerebral_edema": _next(EDEMAS, a.cerebral_edema)},
        "died": {"died": True},
    }[how]
    assert grade_icans(dataclasses.replace(a, **worse)).grade >= grade_icans(a).grade


@given(st.integers(0, 32), st.sampled_from(CONSCIOUSNESS), st.floats(1, 11.99))
def test_capd_grade_is_monotone_in_the_score(score: int, level: str, age: float) -> None:
    low = grade_icans(IcansAssessment(age_years=age, capd_score=score, consciousness=level))  # type: ignore[arg-type]
    high = grade_icans(
        IcansAssessment(age_years=age, capd_score=min(score + 1, 32), consciousness=level)  # type: ignore[arg-type]
    )
    assert high.grade >= low.grade
