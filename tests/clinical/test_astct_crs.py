"""ASTCT 2019 CRS grading (Lee et al. 2019), every boundary of clinical.md §1.1."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dosewise.clinical.astct import (
    OXYGEN_DEVICES,
    CrsAssessment,
    grade_crs,
    hypoxia_grade,
)
from dosewise.errors import DosewiseError, InvalidInput


def crs(**kw: Any) -> tuple[int, str | None]:
    result = grade_crs(CrsAssessment(**kw))
    assert result.scale == "ASTCT 2019"
    return result.grade, result.determined_by


# ---- §1.1 "Boundary tests we should own" -------------------------------------------------------


def test_exactly_6_l_min_low_flow_is_grade_2() -> None:
    assert crs(fever=True, oxygen_device="nasal_cannula", oxygen_l_min=6.0) == (2, "hypoxia")


def test_just_above_6_l_min_is_high_flow_grade_3() -> None:
    # cliot puts the split at "< 6"/">= 6"; ASTCT says <= 6 L/min is low flow.
    assert crs(fever=True, oxygen_device="nasal_cannula", oxygen_l_min=6.01) == (3, "hypoxia")
    assert crs(fever=True, oxygen_device="nasal_cannula", oxygen_l_min=15) == (3, "hypoxia")


def test_one_pressor_plus_vasopressin_is_grade_3_not_4() -> None:
    assert crs(fever=True, hypotension=True, vasopressors=1, vasopressin=True) == (
        3,
        "hypotension",
    )


def test_afebrile_after_tocilizumab_on_two_pressors_is_grade_4() -> None:
    assert crs(fever=False, fever_masked=True, hypotension=True, vasopressors=2) == (
        4,
        "hypotension",
    )


def test_fever_only_is_grade_1() -> None:
    assert crs(fever=True) == (1, "fever")


def test_hypotension_without_fever_or_prior_treatment_is_not_crs() -> None:
    result = grade_crs(CrsAssessment(hypotension=True, vasopressors=1))
    assert (result.grade, result.determined_by) == (0, None)
    assert result.notes  # says why
    assert dict(result.components)["hypotension"] == 3


# ---- the rest of the table ----------------------------------------------------------------------


def test_no_findings_is_no_crs() -> None:
    assert crs() == (0, None)


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({"hypotension": True}, (2, "hypotension")),  # fluids only
        ({"hypotension": True, "vasopressors": 1}, (3, "hypotension")),
        ({"hypotension": True, "vasopressors": 2}, (4, "hypotension")),
        ({"hypotension": True, "vasopressors": 3, "vasopressin": True}, (4, "hypotension")),
        ({"oxygen_device": "blow_by"}, (2, "hypoxia")),
        ({"oxygen_device": "nasal_cannula", "oxygen_l_min": 2}, (2, "hypoxia")),
        ({"oxygen_device": "facemask", "oxygen_l_min": 5}, (3, "hypoxia")),
        ({"oxygen_device": "nonrebreather"}, (3, "hypoxia")),
        ({"oxygen_device": "venturi"}, (3, "hypoxia")),
        ({"oxygen_device": "cpap"}, (4, "hypoxia")),
        ({"oxygen_device": "bipap"}, (4, "hypoxia")),
        ({"oxygen_device": "mechanical_ventilation"}, (4, "hypoxia")),
    ],
)
def test_table_cells_with_fever(kw: dict[str, Any], expected: tuple[int, str]) -> None:
    assert crs(fever=True, **kw) == expected


def test_vasopressin_alone_is_a_vasopressor_grade_3() -> None:
    # Grade 3: "one vasopressor, with or without vasopressin"; the exclusion is from the count.
    assert crs(fever=True, hypotension=True, vasopressin=True) == (3, "hypotension")


def test_grade_is_the_more_severe_of_hypotension_and_hypoxia() -> None:
    # clinical.md §1.1 example: febrile, one vasopressor and low-flow O2 is grade 3.
    assert crs(
        fever=True, hypotension=True, vasopressors=1, oxygen_device="nasal_cannula", oxygen_l_min=3
    ) == (3, "hypotension")
    assert crs(fever=True, hypotension=True, oxygen_device="bipap") == (4, "hypoxia")


def test_tie_reports_table_order_and_lists_both() -> None:
    result = grade_crs(
        CrsAssessment(fever=True, hypotension=True, vasopressors=1, oxygen_device="facemask")
    )
    assert result.grade == 3
    assert result.determined_by == "hypotension"
    assert result.determined_by_all == ("hypotension", "hypoxia")


def test_masked_fever_grades_on_hypotension_and_hypoxia_alone() -> None:
    assert crs(fever_masked=True, oxygen_device="nasal_cannula", oxygen_l_min=4) == (2, "hypoxia")
    # Nothing left to grade once the fever is masked and neither is present.
    assert crs(fever_masked=True) == (0, None)


def test_death_from_crs_is_grade_5() -> None:
    assert crs(fever=True, hypotension=True, vasopressors=2, died=True) == (5, "death")
    assert crs(died=True) == (5, "death")


def test_nasal_cannula_without_flow_is_low_flow() -> None:
    assert crs(fever=True, oxygen_device="nasal_cannula") == (2, "hypoxia")


# ---- input errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"fever": 1}, "fever"),
        ({"vasopressors": "2"}, "vasopressors"),
        ({"vasopressors": -1}, "vasopressors"),
        ({"vasopressors": True}, "vasopressors"),
        ({"vasopressors": 1.5}, "vasopressors"),
        ({"oxygen_device": "helmet"}, "oxygen_device"),
        ({"oxygen_l_min": -2, "oxygen_device": "nasal_cannula"}, "oxygen_l_min"),
        ({"oxygen_l_min": math.nan, "oxygen_device": "nasal_cannula"}, "oxygen_l_min"),
        ({"oxygen_l_min": 4}, "oxygen_l_min"),  # flow with no device
        ({"temperature": 39.0}, "temperature"),  # unknown key
    ],
)
def test_bad_input_names_the_key(data: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        CrsAssessment.from_mapping(data)
    assert err.value.field == field
    assert isinstance(err.value, DosewiseError)


def test_missing_and_null_keys_mean_not_present() -> None:
    a = CrsAssessment.from_mapping({"fever": True, "vasopressors": None, "oxygen_device": None})
    assert a == CrsAssessment(fever=True)
    assert CrsAssessment.from_mapping({"vasopressors": 2.0}).vasopressors == 2


# ---- invariants ---------------------------------------------------------------------------------

assessments = st.builds(
    CrsAssessment,
    fever=st.booleans(),
    fever_masked=st.booleans(),
    hypotension=st.booleans(),
    vasopressors=st.integers(0, 4),
    vasopressin=st.booleans(),
    oxygen_device=st.sampled_from(OXYGEN_DEVICES[1:]),
    oxygen_l_min=st.none() | st.floats(0, 20),
    died=st.booleans(),
)


def _worsen(a: CrsAssessment, how: str, device: str) -> CrsAssessment:
    import dataclasses

    changes: dict[str, Any] = {
        "fever": {"fever": True},
        "masked": {"fever_masked": True},
        "hypotension": {"hypotension": True},
        "pressor": {"vasopressors": a.vasopressors + 1},
        "vasopressin": {"vasopressin": True},
        "flow": {"oxygen_l_min": (a.oxygen_l_min or 0) + 3},
        "died": {"died": True},
    }
    if how == "device":
        if hypoxia_grade(device, a.oxygen_l_min) < hypoxia_grade(  # type: ignore[arg-type]
            a.oxygen_device, a.oxygen_l_min
        ):
            return a
        return dataclasses.replace(a, oxygen_device=device)  # type: ignore[arg-type]
    return dataclasses.replace(a, **changes[how])


@given(
    assessments,
    st.sampled_from(
        ["fever", "masked", "hypotension", "pressor", "vasopressin", "flow", "died", "device"]
    ),
    st.sampled_from(OXYGEN_DEVICES[1:]),
)
def test_grade_never_falls_when_a_component_worsens(a: CrsAssessment, how: str, dev: str) -> None:
    assert grade_crs(_worsen(a, how, dev)).grade >= grade_crs(a).grade


@given(assessments)
def test_grade_is_the_worst_component_once_gated(a: CrsAssessment) -> None:
    result = grade_crs(a)
    comps = dict(result.components)
    if a.died:
        assert result.grade == 5
    elif a.fever or a.fever_masked:
        assert result.grade == max(comps.values())
        assert (result.grade == 0) == (result.determined_by is None)
        if result.determined_by:
            assert comps[result.determined_by] == result.grade
    else:
        assert result.grade == 0
