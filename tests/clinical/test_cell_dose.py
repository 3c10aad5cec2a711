"""Cell-dose arithmetic: the worked examples of clinical.md §4.1–4.2 and the fallback rule."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dosewise.clinical.dosing import (
    DEFAULT_LEVELS,
    DoseLevel,
    ReleaseCertificate,
    actual_dose,
    find_level,
    plan_dose,
)
from dosewise.errors import DosewiseError, InvalidInput, InvalidParameter

#: clinical.md §4.2 worked-example product: TNC 2.0e8, viability 90%, CD3 95%, CAR 40%.
EXAMPLE = ReleaseCertificate(2.0e8, 0.90, 0.95, 0.40, volume_ml=50)


def test_car_positive_viable_t_cells_of_the_example() -> None:
    # "giving 6.84×10⁷ CAR⁺ viable T" (clinical.md §4.2)
    assert EXAMPLE.car_t_cells == pytest.approx(6.84e7)


def test_ladder_of_the_registry() -> None:
    assert [(lv.name, lv.cells_per_kg, lv.tolerance, lv.role) for lv in DEFAULT_LEVELS] == [
        ("DL-1", 5e5, 0.2, "fallback"),
        ("DL1", 1e6, 0.2, "start"),
        ("DL2", 2e6, 0.2, "escalation"),
    ]


def test_25_kg_child_dl1_and_dl2_windows_and_feasibility() -> None:
    dl1 = plan_dose(25, "DL1", EXAMPLE)
    # "DL1 target is 2.5×10⁷ (window 2.0–3.0×10⁷). Feasible."
    assert dl1.planned_window.target_cells == pytest.approx(2.5e7)
    assert (dl1.planned_window.min_cells, dl1.planned_window.max_cells) == (
        pytest.approx(2.0e7),
        pytest.approx(3.0e7),
    )
    assert dl1.assigned_level == "DL1" and not dl1.fallback
    dl2 = plan_dose(25, "DL2", EXAMPLE)
    # "DL2 target is 5.0×10⁷ (window 4.0–6.0×10⁷). Feasible, using 73% of the bag."
    assert dl2.planned_window.target_cells == pytest.approx(5.0e7)
    assert dl2.planned_window.min_cells == pytest.approx(4.0e7)
    assert dl2.planned_window.max_cells == pytest.approx(6.0e7)
    assert dl2.assigned_level == "DL2"
    assert dl2.fraction_of_product is not None and round(dl2.fraction_of_product, 2) == 0.73
    assert dl2.volume_ml == pytest.approx(50 * 5e7 / 6.84e7)
    assert dl2.dose_per_kg == pytest.approx(2e6)
    assert dl2.feasible_levels == ("DL-1", "DL1", "DL2")


def test_70_kg_adult_dl2_infeasible_dl1_feasible() -> None:
    plan = plan_dose(70, "DL2", EXAMPLE)
    rows = {r.window.level: r for r in plan.levels}
    # "DL2 needs >= 1.12×10⁸. Infeasible. DL1 needs >= 5.6×10⁷. Feasible."
    assert rows["DL2"].window.min_cells == pytest.approx(1.12e8)
    assert rows["DL2"].feasible is False
    assert rows["DL1"].window.min_cells == pytest.approx(5.6e7)
    assert rows["DL1"].feasible is True
    assert plan.feasible_levels == ("DL-1", "DL1")


def test_fallback_to_dl_minus_1_per_registry_text() -> None:
    # "If the manufactured cells are not sufficient ... infusion at a low dose level of 5×10⁵"
    plan = plan_dose(70, "DL2", EXAMPLE)
    assert plan.planned.name == "DL2"
    assert plan.assigned_level == "DL-1"
    assert plan.fallback is True
    assert plan.dose_per_kg == pytest.approx(5e5)
    assert "fallback" in plan.reason


def test_next_lower_policy_is_the_other_reading_of_open_question_1() -> None:
    plan = plan_dose(70, "DL2", EXAMPLE, policy="next_lower")
    assert plan.assigned_level == "DL1"
    # 6.84e7 < DL1 target 7e7 but inside its window: the whole product is infused.
    assert plan.infused_cells == pytest.approx(6.84e7)
    assert plan.volume_ml == pytest.approx(50)
    assert plan.dose_per_kg == pytest.approx(6.84e7 / 70)
    assert "whole product" in plan.reason


def test_infeasible_product_is_an_outcome_not_an_exception() -> None:
    small = ReleaseCertificate(2.0e7, 0.9, 0.95, 0.4, 20)  # 6.84e6 CAR+ cells
    plan = plan_dose(25, "DL1", small)  # DL-1 needs >= 1.0e7
    assert plan.assigned_level is None
    assert plan.feasible_levels == ()
    assert plan.volume_ml is None and plan.dose_per_kg is None
    assert "protocol decision" in plan.reason
    assert plan.to_dict()["assigned_level"] is None


def test_planned_fallback_level_infeasible_has_no_lower_level() -> None:
    small = ReleaseCertificate(2.0e7, 0.9, 0.95, 0.4, 20)
    assert plan_dose(25, "DL-1", small, policy="next_lower").assigned_level is None


def test_issue_example_volume() -> None:
    product = ReleaseCertificate(1.2e9, 0.92, 0.95, 0.40, 50)
    plan = plan_dose(25, "DL1", product)
    assert plan.car_t_cells == pytest.approx(1.2e9 * 0.92 * 0.95 * 0.40)
    assert plan.volume_ml == pytest.approx(2.5e7 / (plan.car_t_cells / 50))  # type: ignore[operator]


def test_product_between_window_edge_and_target_is_infused_whole() -> None:
    product = ReleaseCertificate(2.2e7, 1.0, 1.0, 1.0, 30)
    plan = plan_dose(25, "DL1", product)
    assert plan.assigned_level == "DL1"
    assert plan.volume_ml == pytest.approx(30)
    assert plan.dose_per_kg == pytest.approx(8.8e5)


def test_window_edge_is_inclusive() -> None:
    exactly = ReleaseCertificate(2.0e7, 1.0, 1.0, 1.0)  # DL1 lower edge at 25 kg
    assert plan_dose(25, "DL1", exactly).assigned_level == "DL1"
    below = ReleaseCertificate(1.99e7, 1.0, 1.0, 1.0)
    assert plan_dose(25, "DL1", below).assigned_level == "DL-1"


def test_volume_rounding_keeps_the_dose_in_window() -> None:
    plan = plan_dose(25, "DL2", EXAMPLE, volume_step_ml=0.1)
    assert plan.volume_ml == pytest.approx(36.5)
    assert plan.dose_per_kg == pytest.approx(36.5 * 6.84e7 / 50 / 25)
    assert plan_dose(25, "DL2", EXAMPLE).volume_ml == pytest.approx(36.549707602)


def test_window_only_without_release_values() -> None:
    plan = plan_dose(25, "dl2")
    d = plan.to_dict()
    assert (d["level"], d["target_cells"], d["min_cells"], d["max_cells"]) == (
        "DL2",
        5e7,
        4e7,
        6e7,
    )
    assert d["car_t_cells"] is None and d["feasible_levels"] is None
    assert [r["feasible"] for r in d["levels"]] == [None, None, None]


def test_percent_form_only_when_explicit() -> None:
    pct = ReleaseCertificate.from_values(2.0e8, 90, 95, 40, 50, unit="percent")
    assert pct.car_t_cells == pytest.approx(EXAMPLE.car_t_cells)
    with pytest.raises(InvalidInput) as err:
        ReleaseCertificate.from_values(2.0e8, 90, 95, 40)  # fraction by default
    assert err.value.field == "viability"


def test_actual_dose_and_level_from_infused_volume() -> None:
    given_dl2 = actual_dose(25, EXAMPLE, 36.55)
    assert given_dl2.actual_level == "DL2"
    low = actual_dose(25, EXAMPLE, 10)  # 1.368e7 cells = 5.47e5/kg
    assert low.dose_per_kg == pytest.approx(1.368e7 / 25)
    assert low.actual_level == "DL-1"
    gap = actual_dose(25, EXAMPLE, 12)  # 6.6e5/kg: between DL-1 and DL1 windows
    assert gap.actual_level is None


def test_flat_dose_above_a_weight() -> None:
    level = DoseLevel("X", 1e6, 0.2, "start", flat_cells=5e7, flat_above_kg=50)
    assert level.target_cells(40) == pytest.approx(4e7)
    assert level.target_cells(80) == pytest.approx(5e7)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: plan_dose(-25, "DL1"), "weight_kg"),
        (lambda: plan_dose(0, "DL1"), "weight_kg"),
        (lambda: plan_dose(math.nan, "DL1"), "weight_kg"),
        (lambda: plan_dose(math.inf, "DL1"), "weight_kg"),
        (lambda: plan_dose(25, "DL3"), "level"),
        (lambda: ReleaseCertificate(2e8, 1.2, 0.9, 0.4), "viability"),  # viability > 100%
        (lambda: ReleaseCertificate(2e8, math.nan, 0.9, 0.4), "viability"),
        (lambda: ReleaseCertificate(2e8, 0.9, -0.1, 0.4), "cd3"),
        (lambda: ReleaseCertificate(2e8, 0.9, 0.9, 40), "car"),
        (lambda: ReleaseCertificate(0, 0.9, 0.9, 0.4), "tnc"),
        (lambda: ReleaseCertificate(2e8, 0.9, 0.9, 0.4, -5), "volume_ml"),
        (lambda: ReleaseCertificate.from_values(2e8, 120, 90, 40, unit="percent"), "viability"),
        (lambda: actual_dose(25, EXAMPLE, 60), "infused_volume_ml"),
    ],
)
def test_bad_input_is_a_dosewise_error_naming_the_field(call: object, field: str) -> None:
    with pytest.raises(DosewiseError) as err:
        call()  # type: ignore[operator]
    assert err.value.field == field


def test_bad_settings() -> None:
    with pytest.raises(InvalidParameter):
        plan_dose(25, "DL1", EXAMPLE, volume_step_ml=0)
    with pytest.raises(InvalidParameter):
        DoseLevel("X", 1e6, tolerance=1.5)
    with pytest.raises(InvalidInput):
        find_level("nope")


# ---- invariants ---------------------------------------------------------------------------------

weights = st.floats(5, 150)
products = st.builds(
    ReleaseCertificate,
    tnc=st.floats(1e6, 5e9),
    viability=st.floats(0.3, 1.0),
    cd3=st.floats(0.3, 1.0),
    car=st.floats(0.05, 0.9),
    volume_ml=st.floats(5, 200),
)


@given(weights, st.sampled_from(DEFAULT_LEVELS))
def test_window_always_contains_the_target(weight: float, level: DoseLevel) -> None:
    w = level.window(weight)
    assert w.min_cells <= w.target_cells <= w.max_cells
    assert w.contains(w.target_cells)


@given(weights, st.sampled_from(["DL-1", "DL1", "DL2"]), products)
def test_assigned_dose_lies_in_the_assigned_window(weight: float, lv: str, p: object) -> None:
    assert isinstance(p, ReleaseCertificate)
    plan = plan_dose(weight, lv, p)
    if plan.assigned_level is None:
        assert plan.feasible_levels == ()  # the fallback level is the lowest one
        return
    window = find_level(plan.assigned_level).window(weight)
    assert plan.infused_cells is not None and window.contains(plan.infused_cells)
    assert plan.infused_cells <= p.car_t_cells * (1 + 1e-12)
    assert plan.volume_ml is not None and plan.volume_ml <= p.volume_ml * (1 + 1e-12)  # type: ignore[operator]
    if lv in (plan.feasible_levels or ()):
        assert plan.assigned_level == lv and not plan.fallback


@given(weights, products, st.floats(1.0, 10.0))
def test_more_cells_never_shrink_the_feasible_set(weight: float, p: object, k: float) -> None:
    assert isinstance(p, ReleaseCertificate)
    bigger = ReleaseCertificate(p.tnc * k, p.viability, p.cd3, p.car, p.volume_ml)
    small = set(plan_dose(weight, "DL1", p).feasible_levels or ())
    large = set(plan_dose(weight, "DL1", bigger).feasible_levels or ())
    assert small <= large
