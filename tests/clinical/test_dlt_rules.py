"""DLT classification under the declarative definition (clinical.md §2.2 template)."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dosewise.clinical.ctcae import AdverseEvent, GradePoint
from dosewise.clinical.dlt import (
    DEFAULT_DLT_DEFINITION,
    DltAssessment,
    DltDefinition,
    DltRule,
    Evaluability,
    classify_dlts,
)
from dosewise.clinical.dlt_io import DltCase, definition_from_mapping, definition_to_dict
from dosewise.errors import InvalidInput, InvalidParameter

DAY0 = date(2025, 8, 1)


def day(n: int) -> date:
    return DAY0 + timedelta(days=n)


def ev(term: str, grade: int, onset: int, resolved: int | None = None, **kw: Any) -> AdverseEvent:
    course = tuple(GradePoint(day(d), g) for d, g in kw.pop("course", ()))
    kw.setdefault("attribution", "probable")
    return AdverseEvent(
        term, grade, day(onset), None if resolved is None else day(resolved), course=course, **kw
    )


def assess(events: list[AdverseEvent], on: int = 35, **kw: Any) -> DltAssessment:
    definition = kw.pop("definition", DEFAULT_DLT_DEFINITION)
    return classify_dlts(events, definition, DAY0, assessed_on=day(on), **kw)


# ---- CRS and ICANS ------------------------------------------------------------------------------


def test_any_grade_4_crs_is_a_dlt() -> None:
    result = assess([ev("CRS", 4, 3, 6)])
    assert result.status == "dlt" and result.toxicity is True
    assert result.events[0].rules == ("crs_grade_4_or_5",)


@pytest.mark.parametrize(("improve_day", "status"), [(5, "not_dlt"), (6, "dlt")])
def test_grade_3_crs_must_improve_within_72_hours(improve_day: int, status: str) -> None:
    # Grade 3 from day 2: improving to grade 2 on day 5 is 72 h (closed), on day 6 is 96 h.
    crs = ev("CRS", 3, 2, 10, course=[(2, 3), (improve_day, 2)])
    assert assess([crs]).events[0].status == status


def test_grade_3_crs_still_ongoing_is_pending_then_a_dlt() -> None:
    crs = ev("CRS", 3, 2)
    assert assess([crs], on=5).status == "pending"  # 72 h not yet over
    assert assess([crs], on=6).status == "dlt"


def test_grade_3_icans_resolution_and_grade_4_icans() -> None:
    assert assess([ev("ICANS", 3, 4, 6)]).status == "no_dlt"  # resolved in 48 h
    assert assess([ev("ICANS", 3, 4, 9)]).status == "dlt"
    assert assess([ev("ICANS", 4, 4, 5)]).events[0].rules == ("icans_grade_4_or_5",)


# ---- window edges (study day 0 = infusion; closed interval) -------------------------------------


@pytest.mark.parametrize(("onset", "is_dlt"), [(-1, False), (0, True), (28, True), (29, False)])
def test_window_is_closed_from_day_0_to_day_28(onset: int, is_dlt: bool) -> None:
    result = assess([ev("CRS", 4, onset, onset + 2)], on=40)
    assert result.has_dlt is is_dlt


def test_window_is_a_parameter_21_days_in_the_predecessor() -> None:
    d21 = dataclasses.replace(
        DEFAULT_DLT_DEFINITION, window_days=21, evaluability=Evaluability(min_follow_up_days=21)
    )
    assert assess([ev("CRS", 4, 25, 27)], definition=d21).status == "no_dlt"
    assert assess([ev("CRS", 4, 25, 27)]).status == "dlt"


def test_reaching_the_grade_after_the_window_does_not_count() -> None:
    late = ev("CRS", 4, 26, 33, course=[(26, 2), (30, 4), (31, 1)])
    assert assess([late], on=40).status == "no_dlt"


# ---- non-haematological rule, exceptions and gates ----------------------------------------------


def test_related_non_haematological_grade_3_not_resolving_in_7_days() -> None:
    assert assess([ev("Acute kidney injury", 3, 5, 14)]).status == "dlt"  # 9 days
    assert assess([ev("Acute kidney injury", 3, 5, 12)]).status == "no_dlt"  # 7 days = 168 h


def test_attribution_gate() -> None:
    alt = ev("ALT", 3, 5, 20, attribution="unlikely")
    result = assess([alt])
    assert result.status == "no_dlt"
    assert "not related" in result.events[0].reason


def test_fever_and_febrile_neutropenia_are_excepted() -> None:
    result = assess([ev("Fever", 3, 1, 15), ev("Febrile neutropenia", 3, 2, 15)])
    assert result.status == "no_dlt"
    assert all("excepted" in e.reason for e in result.events)


def test_infection_with_neutropenia_is_excepted_without_it_is_not() -> None:
    infection = ev("Lung infection", 3, 8, 25)
    neutropenia = ev("Neutrophil count decreased", 4, -2, 20)
    assert assess([neutropenia, infection]).status == "no_dlt"
    assert assess([infection]).status == "dlt"


def test_transient_laboratory_abnormality() -> None:
    assert (
        assess([ev("ALT", 3, 6, 8)])
        .events[0]
        .reason.endswith("excepted (transient laboratory abnormality)")
    )
    assert assess([ev("ALT", 4, 6, 20)]).status == "dlt"


def test_grade_2_is_not_a_dlt_with_the_reason() -> None:
    result = assess([ev("Acute kidney injury", 2, 3, 30)])
    assert result.status == "no_dlt"
    assert "below grade >= 3" in result.events[0].reason


def test_haematological_grade_3_is_not_covered() -> None:
    result = assess([ev("Anemia", 3, 3, 30)])
    assert result.events[0].reason.startswith("no DLT rule covers")


def test_acute_gvhd_grade_3() -> None:
    assert assess([ev("GVHD", 3, 20, 40)], on=45).status == "dlt"
    assert assess([ev("GVHD", 2, 20, 40)], on=45).status == "no_dlt"


def test_related_death_and_unrelated_death() -> None:
    death = ev("Sepsis", 5, 12, attribution="possible")
    result = assess([death], death_date=day(12))
    assert result.status == "dlt"
    assert result.events[0].rules == ("related_death",)
    unrelated = ev("Death NOS", 5, 12, attribution="unrelated")
    result = assess([unrelated], death_date=day(12))
    assert result.status == "not_evaluable"
    assert "died on study day 12" in result.reason


# ---- prolonged cytopenia ------------------------------------------------------------------------


def test_grade_4_cytopenia_persisting_beyond_day_28() -> None:
    persisting = ev("Neutrophil count decreased", 4, -2, 35)
    assert assess([persisting], on=40).status == "dlt"
    recovered = ev("Neutrophil count decreased", 4, -2, 20)
    assert assess([recovered], on=40).status == "no_dlt"
    edge = ev("Platelet count decreased", 4, -2, 29)  # gone on day 29: did not persist beyond 28
    assert assess([edge], on=40).status == "no_dlt"
    downgraded = ev("Platelet count decreased", 4, -2, 40, course=[(-2, 4), (27, 3)])
    assert assess([downgraded], on=45).status == "no_dlt"


def test_cytopenia_exclusions_and_pending() -> None:
    assert (
        assess([ev("Neutrophil count decreased", 4, -6, baseline_present=True)], on=40).status
        == "no_dlt"
    )
    disease = ev("Platelet count decreased", 4, 1, due_to_disease=True)
    assert assess([disease], on=40).status == "no_dlt"
    ongoing = ev("Neutrophil count decreased", 4, -2)
    assert assess([ongoing], on=28).status == "pending"


# ---- evaluability -------------------------------------------------------------------------------


def test_followed_through_the_window_without_dlt_is_evaluable() -> None:
    result = assess([ev("CRS", 1, 1, 3)], on=28)
    assert (result.status, result.evaluable, result.toxicity) == ("no_dlt", True, False)


def test_still_in_the_window_is_pending() -> None:
    result = assess([], on=27)
    assert (result.status, result.evaluable, result.toxicity) == ("pending", None, None)


def test_died_of_disease_before_day_28_without_dlt_is_not_evaluable() -> None:
    result = assess([], on=40, death_date=day(20))
    assert (result.status, result.evaluable) == ("not_evaluable", False)


def test_off_study_before_day_28_is_not_evaluable() -> None:
    assert assess([], on=40, off_study_date=day(10)).status == "not_evaluable"


def test_dlt_before_death_counts() -> None:
    result = assess([ev("CRS", 4, 3, 8)], on=40, death_date=day(15))
    assert (result.status, result.evaluable, result.toxicity) == ("dlt", True, True)


def test_not_infused_is_not_evaluable() -> None:
    assert (
        classify_dlts([], DEFAULT_DLT_DEFINITION, DAY0, assessed_on=day(30), infused=False).reason
        == "not infused"
    )


def test_observation_ending_inside_a_resolution_limit_is_not_evaluable() -> None:
    crs = ev("CRS", 3, 26)
    result = assess([crs], on=40, off_study_date=day(28))
    assert result.status == "not_evaluable"
    assert result.events[0].status == "indeterminate"


def test_impossible_dates_are_errors() -> None:
    with pytest.raises(InvalidInput, match="after death"):
        assess([ev("Fever", 1, 12)], death_date=day(10))
    with pytest.raises(InvalidInput, match="end of observation"):
        assess([ev("Fever", 1, 12)], on=10)
    with pytest.raises(InvalidInput, match="before the infusion"):
        assess([], on=-3)


# ---- the definition as data ---------------------------------------------------------------------


def test_definition_round_trips_through_a_mapping() -> None:
    data = definition_to_dict(DEFAULT_DLT_DEFINITION)
    assert definition_from_mapping(data) == DEFAULT_DLT_DEFINITION


def test_protocol_style_mapping_with_provenance_keys() -> None:
    data = definition_to_dict(DEFAULT_DLT_DEFINITION) | {
        "assumption": True,
        "why": "template",
        "study_day_zero": "infusion",
        "grading": {"default": "CTCAE v5.0"},
    }
    data["rules"][0] |= {"scale": "CTCAE v5.0", "assumption": True, "why": "x"}
    definition = definition_from_mapping(data)
    assert definition.rules[0].scale == "CTCAE v5"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d["rules"].append(dict(d["rules"][0])), "definition.rules[8].id"),
        (lambda d: d["rules"][1].update(category="cardiac"), "definition.rules[1].category"),
        (
            lambda d: d["rules"][6].update(exceptions=["Nonsense"]),
            "definition.rules[6].exceptions[0]",
        ),
        (
            lambda d: d["rules"][1].update(not_dlt_if_resolves={"to_grade": 3, "within_hours": 72}),
            "definition.rules[1].not_dlt_if_resolves",
        ),
        (lambda d: d.update(window_days=0), "definition.window_days"),
        (lambda d: d.update(related_attributions=["likely"]), "definition.related_attributions[0]"),
        (lambda d: d.update(study_day_zero="lymphodepletion"), "definition.study_day_zero"),
        (lambda d: d["rules"][0].update(min_grde=3), "definition.rules[0].min_grde"),
    ],
)
def test_bad_definition_names_its_path(change: Any, field: str) -> None:
    data = definition_to_dict(DEFAULT_DLT_DEFINITION)
    change(data)
    with pytest.raises(InvalidInput) as err:
        definition_from_mapping(data)
    assert err.value.field == field


def test_rule_validation() -> None:
    with pytest.raises(InvalidParameter):
        DltRule("Bad Id", "x", "crs")
    with pytest.raises(InvalidParameter):
        DltRule("r", "x", "crs", min_grade=3, max_grade=2)
    with pytest.raises(InvalidParameter):
        DltDefinition("v1", 28, ())


def test_custom_rule_any_grade_3_without_attribution_gate() -> None:
    strict = DltDefinition(
        "strict-1",
        28,
        (DltRule("any_grade_3", "Any grade >= 3", "any", requires_attribution=False),),
    )
    assert assess([ev("Anemia", 3, 5, 9, attribution="unrelated")], definition=strict).has_dlt


def test_case_from_mapping() -> None:
    case = DltCase.from_mapping(
        {
            "infusion_date": "2025-08-01",
            "assessed_on": "2025-09-01",
            "events": [
                {"term": "CRS", "grade": 4, "onset": "2025-08-03", "attribution": "definite"}
            ],
        }
    )
    assert case.classify().status == "dlt"
    with pytest.raises(InvalidInput) as err:
        DltCase.from_mapping({"infusion_date": "2025-08-01"})
    assert err.value.field == "assessed_on"


# ---- invariants ---------------------------------------------------------------------------------

events = st.builds(
    lambda term, grade, onset, length, attribution: ev(
        term, min(grade, 4), onset, onset + length, attribution=attribution
    ),
    st.sampled_from(
        ["CRS", "ICANS", "ALT", "Acute kidney injury", "Neutrophil count decreased", "GVHD"]
    ),
    st.integers(1, 4),
    st.integers(-3, 35),
    st.integers(0, 15),
    st.sampled_from(["unrelated", "unlikely", "possible", "probable", "definite"]),
)


@given(st.lists(events, max_size=4), events)
def test_one_more_event_never_removes_a_dlt(evs: list[AdverseEvent], extra: AdverseEvent) -> None:
    before = assess(evs, on=60)
    after = assess([*evs, extra], on=60)
    if before.has_dlt:
        assert after.has_dlt
    assert after.evaluable is not None  # followed to day 60: never pending


@given(st.lists(events, max_size=4))
def test_toxicity_is_known_exactly_when_evaluable(evs: list[AdverseEvent]) -> None:
    result = assess(evs, on=60)
    assert (result.toxicity is None) == (result.evaluable is not True)
    assert result.has_dlt == any(e.status == "dlt" for e in result.events)
