"""Scenarios: association models (boin12.md §9.1), true OBD (§9.5), YAML loading and errors."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dosewise.design.params import Boin12Params
from dosewise.errors import DosewiseError, InvalidInput
from dosewise.simulate.scenario import (
    builtin_names,
    builtin_scenario,
    joint_from_marginals,
    load_scenario,
    make_scenario,
    resolve_scenario,
    scenario_from_dict,
)

PARAMS = Boin12Params(n_doses=3)


def test_gumbel_cells_follow_the_fgm_formula() -> None:
    # §9.1: π(1,1) = p_E p_T + p_E(1-p_E)p_T(1-p_T)(e^ρ-1)/(e^ρ+1), signs alternate.
    (row,) = joint_from_marginals([0.3], [0.6], "gumbel", 1.0)
    c = (math.e - 1) / (math.e + 1)
    cov = 0.6 * 0.4 * 0.3 * 0.7 * c
    assert row == pytest.approx((0.4 * 0.7 + cov, 0.6 * 0.7 - cov, 0.4 * 0.3 - cov, 0.18 + cov))


@given(
    st.floats(0.0, 1.0),
    st.floats(0.0, 1.0),
    st.sampled_from(["gumbel", "normal", "odds_ratio"]),
    st.floats(-0.9, 0.9),
)
def test_association_models_keep_the_marginals(pt: float, pe: float, model: str, r: float) -> None:
    value = math.exp(3 * r) if model == "odds_ratio" else r
    try:
        (row,) = joint_from_marginals([pt], [pe], model, value)  # type: ignore[arg-type]
    except InvalidInput as exc:  # only when a cell would be negative
        assert exc.field in ("rho", "odds_ratio")
        return
    assert min(row) >= 0
    assert sum(row) == pytest.approx(1.0, abs=1e-9)
    assert row[2] + row[3] == pytest.approx(pt, abs=1e-7)
    assert row[1] + row[3] == pytest.approx(pe, abs=1e-7)


def test_odds_ratio_model_gives_the_requested_odds_ratio() -> None:
    (row,) = joint_from_marginals([0.3], [0.5], "odds_ratio", 3.0)
    p00, p01, p10, p11 = row
    assert p11 * p00 / (p01 * p10) == pytest.approx(3.0)


def test_normal_model_positive_correlation_raises_both() -> None:
    (row,) = joint_from_marginals([0.3], [0.5], "normal", 0.5)
    assert row[3] > 0.15  # independence would give 0.3 * 0.5


def test_true_obd_rule_of_section_9_5() -> None:
    # MTD = #{p_T <= φT} = 2; OBD = argmax utility over doses 1..2 (u = 40 + 60 pE - 40 pT here).
    sc = make_scenario("s", [0.1, 0.3, 0.5], [0.3, 0.5, 0.9])
    assert sc.true_mtd(PARAMS) == 2
    assert sc.true_obd(PARAMS) == 2
    assert sc.utility(PARAMS) == pytest.approx([54.0, 58.0, 74.0])
    # No dose up to the MTD reaches φE -> no OBD; every dose too toxic -> no OBD.
    assert make_scenario("f", [0.1, 0.3, 0.5], [0.1, 0.2, 0.9]).true_obd(PARAMS) is None
    assert make_scenario("t", [0.4, 0.5, 0.6], [0.5, 0.6, 0.7]).true_obd(PARAMS) is None


def test_builtin_library_shapes_and_true_obds() -> None:
    names = builtin_names()
    expected = {
        "five-obd-1": 1, "five-obd-2": 2, "five-obd-3": 3, "five-obd-4": 4, "five-obd-5": 5,
        "three-obd-1": 1, "three-obd-2": 2, "three-obd-3": 3, "five-all-toxic": None,
        "five-all-futile": None, "three-all-toxic": None, "three-all-futile": None,
        "five-monotone": 5, "three-monotone": 3, "five-umbrella": 3, "three-umbrella": 2,
    }  # fmt: skip
    for name, obd in expected.items():
        sc = builtin_scenario(name)
        assert sc.true_obd(Boin12Params(n_doses=sc.n_doses)) == obd, name
    nct = [n for n in names if n.startswith("nct07070323")]
    assert len(nct) >= 5
    for name in nct:
        sc = builtin_scenario(name)
        assert sc.n_doses == 3 and sc.tox_window == 28 and sc.eff_window == 90
        assert sc.design["start_dose"] == 2
    assert {builtin_scenario(n).true_obd(PARAMS) for n in nct} >= {1, 2, 3, None}


def test_yaml_round_trip_and_joint_cells(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(
        "joint:\n  - {N: 0.5, E: 0.3, T: 0.1, B: 0.1}\n  - [0.3, 0.4, 0.1, 0.2]\n"
        "accrual: {rate: 1.5, distribution: poisson}\neff_window: 60\n"
    )
    sc = load_scenario(path)
    assert sc.name == "mine" and sc.correlation == "joint"
    assert sc.p_tox == pytest.approx([0.2, 0.3]) and sc.p_eff == pytest.approx([0.4, 0.6])
    assert sc.accrual.rate == 1.5 and sc.accrual.distribution == "poisson"
    assert resolve_scenario(str(path)).joint == sc.joint
    again = scenario_from_dict(sc.to_dict() | {"correlation": None} | {"p_tox": None})
    np.testing.assert_allclose(again.joint_array, sc.joint_array)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"p_tox": [0.1, 1.2], "p_eff": [0.2, 0.3]}, "p_tox[2]"),
        ({"p_tox": [0.1, -0.1], "p_eff": [0.2, 0.3]}, "p_tox[2]"),
        ({"p_tox": [0.1, 0.2], "p_eff": [0.2, 0.3, 0.4]}, "p_eff"),
        ({"p_tox": [0.1, 0.2], "p_eff": [0.2, 0.3], "n_doses": 3}, "n_doses"),
        ({"p_tox": [0.1], "p_eff": [0.2], "accrual": {"rate": -1}}, "accrual.rate"),
        ({"p_tox": [0.1], "p_eff": [0.2], "accrual": -2}, "accrual.rate"),
        ({"joint": [{"N": 0.7, "E": 0.4, "T": -0.1, "B": 0.0}]}, "joint[1].T"),
        ({"joint": [[0.5, 0.3, 0.1, 0.2]]}, "joint[1]"),
        ({"p_tox": [0.5], "p_eff": [0.5], "correlation": {"model": "normal", "rho": 1.5}}, "rho"),
        ({"p_tox": [0.5], "p_eff": [0.5], "correlation": {"model": "odds_ratio", "odds_ratio": -1}},
         "odds_ratio"),
        ({"p_tox": [0.5], "p_eff": [0.5], "correlation": {"model": "clayton"}},
         "correlation.model"),
        ({"p_tox": [0.1], "p_eff": [0.2], "tox_window": 0}, "tox_window"),
        ({"p_tox": [0.1], "p_eff": [0.2], "event_times": {"distribution": "gamma"}},
         "event_times.distribution"),
        ({"p_tox": [0.1], "p_eff": [0.2], "colour": "red"}, "scenario"),
        ({"p_tox": [0.1], "p_eff": [0.2], "design": {"phi": 0.3}}, "design"),
        ({"p_tox": [0.1]}, "p_eff"),
    ],
)  # fmt: skip
def test_bad_scenarios_name_the_field(data: dict[str, object], field: str) -> None:
    data = {k: v for k, v in data.items() if v is not None}
    with pytest.raises(DosewiseError) as info:
        scenario_from_dict(data)
    assert info.value.field == field


def test_bad_yaml_and_unknown_names(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("p_tox: [0.1, 0.2\n")
    with pytest.raises(InvalidInput, match="not valid YAML"):
        load_scenario(bad)
    with pytest.raises(InvalidInput, match="not a built-in"):
        resolve_scenario("no-such-scenario")
    with pytest.raises(InvalidInput, match="file not found"):
        resolve_scenario(str(tmp_path / "missing.yaml"))


def test_builtin_scenarios_describe_themselves_in_chinese_too() -> None:
    han = re.compile(r"[\u3400-\u9fff]")
    for name in builtin_names():
        sc = builtin_scenario(name)
        assert sc.description and han.search(sc.description_zh), name
        assert not han.search(sc.description), name
        again = scenario_from_dict(sc.to_dict())
        assert again.description_zh == sc.description_zh
    plain = scenario_from_dict({"p_tox": [0.1], "p_eff": [0.3]})
    assert plain.description_zh == "" and "description_zh" not in plain.to_dict()
