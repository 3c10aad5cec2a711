"""Adverse-event records: CTCAE v5 structure, per-event scale, validation (clinical.md §2.1)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from dosewise.clinical.ctcae import (
    TERMS,
    AdverseEvent,
    GradePoint,
    canonical_scale,
    find_term,
)
from dosewise.errors import InvalidInput

D = date(2025, 8, 1)


def test_builtin_terms_carry_their_soc_and_scale() -> None:
    crs = find_term("crs")
    assert crs is not None and crs.name == "Cytokine release syndrome"
    assert crs.soc == "Immune system disorders" and crs.scale == "ASTCT 2019"
    anc = find_term("Neutrophil count decreased")
    assert anc is not None and anc.soc == "Investigations" and anc.kind == "haematological"
    assert len({t.name for t in TERMS}) == len(TERMS)


def test_scale_is_kept_per_event() -> None:
    crs = AdverseEvent("CRS", 2, D)
    assert (crs.term, crs.scale, crs.kind) == ("Cytokine release syndrome", "ASTCT 2019", "crs")
    fever = AdverseEvent("Fever", 1, D)
    assert fever.scale == "CTCAE v5"
    # CTCAE v5.0 also has a CRS term (the Lee 2014 scale); a site may record it that way.
    assert AdverseEvent("CRS", 2, D, scale="CTCAE v5").scale == "CTCAE v5"


def test_astct_grades_only_crs_and_icans() -> None:
    with pytest.raises(InvalidInput) as err:
        AdverseEvent("Fever", 2, D, scale="ASTCT 2019")
    assert err.value.field == "scale"
    with pytest.raises(InvalidInput):
        AdverseEvent("ICANS", 2, D, scale="CTCAE v5")  # CTCAE v5.0 has no ICANS term


def test_unknown_term_needs_its_soc() -> None:
    with pytest.raises(InvalidInput) as err:
        AdverseEvent("Pancreatitis", 3, D)
    assert err.value.field == "soc"
    event = AdverseEvent("Pancreatitis", 3, D, soc="Gastrointestinal disorders")
    assert event.kind == "non_haematological" and event.scale == "CTCAE v5"


@pytest.mark.parametrize("grade", [0, 6, -1])
def test_grade_range(grade: int) -> None:
    with pytest.raises(InvalidInput) as err:
        AdverseEvent("Fever", grade, D)
    assert err.value.field == "grade"


def test_laboratory_terms_have_no_grade_5() -> None:
    with pytest.raises(InvalidInput, match="no grade above 4"):
        AdverseEvent("Neutrophil count decreased", 5, D)


def test_dates_out_of_order_are_an_error() -> None:
    with pytest.raises(InvalidInput) as err:
        AdverseEvent("Fever", 2, date(2025, 8, 5), resolved=date(2025, 8, 3))
    assert err.value.field == "resolved"


def test_course_validation() -> None:
    ok = AdverseEvent(
        "CRS",
        3,
        D,
        resolved=date(2025, 8, 9),
        course=(GradePoint(D, 2), GradePoint(date(2025, 8, 3), 3), GradePoint(date(2025, 8, 5), 1)),
    )
    assert ok.grade_on(date(2025, 8, 2)) == 2
    assert ok.grade_on(date(2025, 8, 4)) == 3
    assert ok.grade_on(date(2025, 8, 9)) == 0
    assert ok.first_reached(3) == date(2025, 8, 3)
    assert ok.improved_to(2, date(2025, 8, 3)) == date(2025, 8, 5)
    with pytest.raises(InvalidInput, match="onset"):
        AdverseEvent("CRS", 3, D, course=(GradePoint(date(2025, 8, 2), 3),))
    with pytest.raises(InvalidInput, match="increase"):
        AdverseEvent("CRS", 3, D, course=(GradePoint(D, 3), GradePoint(D, 2)))
    with pytest.raises(InvalidInput, match="worst grade"):
        AdverseEvent("CRS", 4, D, course=(GradePoint(D, 3),))


def test_without_course_grade_holds_until_resolution() -> None:
    e = AdverseEvent("Fever", 3, D, resolved=date(2025, 8, 4))
    assert e.grade_on(date(2025, 7, 31)) == 0
    assert e.grade_on(date(2025, 8, 3)) == 3
    assert e.improved_to(2, D) == date(2025, 8, 4)
    assert AdverseEvent("Fever", 3, D).improved_to(2, D) is None


def test_scale_aliases() -> None:
    assert canonical_scale("CTCAE v5.0") == "CTCAE v5"
    assert canonical_scale("astct") == "ASTCT 2019"
    with pytest.raises(InvalidInput):
        canonical_scale("Lee 2014")


def test_from_mapping_round_trip() -> None:
    event = AdverseEvent(
        "CRS",
        3,
        D,
        resolved=date(2025, 8, 6),
        serious=True,
        attribution="definite",
        course=(GradePoint(D, 3), GradePoint(date(2025, 8, 3), 1)),
    )
    assert AdverseEvent.from_mapping(event.to_dict()) == event


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"term": "Fever", "grade": 2, "onset": "2025-13-01"}, "events[1].onset"),
        ({"term": "Fever", "grade": 2}, "events[1].onset"),
        ({"term": "Fever", "onset": "2025-08-01"}, "events[1].grade"),
        ({"term": "Fever", "grade": "2", "onset": "2025-08-01"}, "events[1].grade"),
        ({"term": "Fever", "grade": 2, "onset": "2025-08-01", "units": "C"}, "events[1].units"),
        ({"term": "Fever", "grade": 2, "onset": "2025-08-01", "scale": "CTC"}, "events[1].scale"),
        (
            {"term": "Fever", "grade": 2, "onset": "2025-08-01", "attribution": "maybe"},
            "events[1].attribution",
        ),
        (
            {"term": "Fever", "grade": 2, "onset": "2025-08-05", "resolved": "2025-08-01"},
            "events[1].resolved",
        ),
        (
            {"term": "CRS", "grade": 3, "onset": "2025-08-01", "course": [{"date": "x"}]},
            "events[1].course[0].date",
        ),
    ],
)
def test_mapping_errors_name_the_path(data: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        AdverseEvent.from_mapping(data, "events[1]")
    assert err.value.field == field
