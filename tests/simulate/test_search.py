"""Design search: grids, scenarios, seeding by (seed, design, scenario), methods and ranking."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dosewise.design.params import Boin12Params
from dosewise.errors import DosewiseError, InvalidInput, InvalidParameter
from dosewise.simulate.exact import TooManyStates
from dosewise.simulate.exact_summary import exact_summary
from dosewise.simulate.run import simulate
from dosewise.simulate.scenario import builtin_names, builtin_scenario
from dosewise.simulate.search import (
    SearchTask,
    build_designs,
    common_suggestions,
    grid_settings,
    load_designs,
    parse_grid,
    resolve_scenarios,
    run_search_task,
    run_tasks,
    search,
    task_seed,
)

NCT = [n for n in builtin_names() if n.startswith("nct07070323")]
BASE = Boin12Params(n_doses=3, start_dose=2, max_n=18, n_earlystop=12, cohort_size=3)


def strip(rows: Any) -> list[dict[str, Any]]:
    """Rows without their timings."""
    return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]


def test_grid_is_parsed_typed_and_expanded_last_setting_fastest() -> None:
    grid = parse_grid(["phi_e=0.2,0.25,0.3", "u11=50,60,70", "n-star=6,9", "tie_break=higher"])
    assert grid == {
        "phi_e": [0.2, 0.25, 0.3],
        "u11": [50.0, 60.0, 70.0],
        "n_star": [6, 9],
        "tie_break": ["higher"],
    }
    assert isinstance(grid["n_star"][0], int)
    settings = grid_settings(grid)
    assert len(settings) == 3 * 3 * 2
    assert settings[0] == {"phi_e": 0.2, "u11": 50.0, "n_star": 6, "tie_break": "higher"}
    assert settings[1]["n_star"] == 9 and settings[2]["u11"] == 60.0
    designs = build_designs(BASE, settings)
    assert designs[-1].phi_e == 0.3 and designs[-1].u11 == 70 and designs[-1].n_star == 9
    assert all(d.start_dose == 2 and d.max_n == 18 for d in designs)


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        (["phi_x=0.2"], "not a design setting"),
        (["phi_e"], "NAME=VALUE"),
        (["n_star=6.5"], "whole number"),
        (["u11=high"], "must be a number"),
        (["phi_e=0.2", "phi_e=0.3"], "given twice"),
        (["phi_e=0.2,0.2"], "repeats"),
    ],
)
def test_bad_grids_are_refused(spec: list[str], match: str) -> None:
    with pytest.raises(InvalidInput, match=match):
        parse_grid(spec)


def test_an_invalid_design_in_the_grid_names_itself() -> None:
    with pytest.raises(InvalidParameter, match=r"phi_e=1\.5.*design 2"):
        build_designs(BASE, grid_settings(parse_grid(["phi_e=0.3,1.5"])))


def test_designs_file_yaml_and_json(tmp_path: Path) -> None:
    yaml_file = tmp_path / "designs.yaml"
    yaml_file.write_text("- {phi_e: 0.2, u11: 50}\n- {phi_e: 0.3, n_star: 9, tie_break: lower}\n")
    json_file = tmp_path / "designs.json"
    json_file.write_text(json.dumps({"designs": [{"phi-e": 0.2, "u11": 50}]}))
    assert load_designs(yaml_file)[1] == {"phi_e": 0.3, "n_star": 9, "tie_break": "lower"}
    assert load_designs(json_file) == [{"phi_e": 0.2, "u11": 50.0}]
    bad = tmp_path / "bad.yaml"
    bad.write_text("- {phi_e: 0.2, colour: red}\n")
    with pytest.raises(InvalidInput, match="colour"):
        load_designs(bad)
    with pytest.raises(InvalidInput, match="not found"):
        load_designs(tmp_path / "missing.yaml")


def test_scenarios_by_name_group_tag_and_file(tmp_path: Path) -> None:
    assert [s.name for s in resolve_scenarios(["nct07070323"])] == NCT
    assert len(NCT) == 6
    assert [s.name for s in resolve_scenarios(["car-t"])] == NCT  # a tag
    file = tmp_path / "mine.yaml"
    file.write_text("name: mine\np_tox: [0.1, 0.2, 0.3]\np_eff: [0.3, 0.4, 0.5]\n")
    got = resolve_scenarios(["three-monotone,nct07070323-dl1-best", str(file), "three-monotone"])
    assert [s.name for s in got] == ["three-monotone", "nct07070323-dl1-best", "mine"]
    with pytest.raises(InvalidInput, match="not a built-in"):
        resolve_scenarios(["no-such-scenario"])
    with pytest.raises(InvalidInput, match="same number of doses"):
        resolve_scenarios(["three-monotone", "five-monotone"])
    suggested = common_suggestions(resolve_scenarios(["nct07070323"]))
    assert suggested == {"start_dose": 2, "max_n": 18, "n_earlystop": 12, "cohort_size": 3}


@given(st.integers(0, 2**32), st.integers(0, 500), st.integers(0, 50))
def test_task_seed_depends_on_seed_design_and_scenario_only(seed: int, d: int, s: int) -> None:
    value = task_seed(seed, d, s)
    assert value == task_seed(seed, d, s) and 0 <= value < 2**64
    assert value != task_seed(seed, d + 1, s)
    assert value != task_seed(seed, d, s + 1)
    expected = np.random.SeedSequence(seed, spawn_key=(d, s)).generate_state(2)
    assert value == int(expected[0]) << 32 | int(expected[1])


def test_rows_do_not_depend_on_the_order_tasks_run_in() -> None:
    scs = resolve_scenarios(["nct07070323-dl1-best", "nct07070323-plateau"])
    designs = build_designs(BASE, [{"phi_e": 0.2}, {"phi_e": 0.3}])
    tasks = [
        SearchTask(i, s, p, sc, "simulate", False, 1000, 11, 10**7)
        for i, p in enumerate(designs)
        for s, sc in enumerate(scs)
    ]
    shuffled = tasks[:]
    random.Random(3).shuffle(shuffled)
    in_order = {(r["design"], r["scenario"]): r for r in strip(run_tasks(tasks))}
    other = {(r["design"], r["scenario"]): r for r in strip(run_tasks(shuffled))}
    assert in_order == other
    # A simulated row is the engine's simulation with the task's own seed.
    direct = simulate(scs[1], designs[1], 1000, seed=task_seed(11, 1, 1)).to_dict()
    row = in_order[(1, scs[1].name)]
    assert row["method"] == "simulation" and row["trials"] == 1000
    assert row["pct_select_true_obd"] == direct["pct_select_true_obd"]
    assert row["mean_total_n"] == direct["mean_total_n"]


def test_auto_is_exact_where_feasible_and_simulates_otherwise() -> None:
    sc = builtin_scenario("nct07070323-dl2-best")
    small = SearchTask(0, 0, BASE, sc, "auto", False, 1000, 5, 10**7)
    row = run_search_task(small)
    exact = exact_summary(sc, BASE).to_dict()
    assert row["method"] == "exact" and row["states"] == exact["states"]
    assert row["pct_select_true_obd"] == exact["pct_select_true_obd"]
    assert row["pct_select_true_obd_se"] == 0 and row["trials"] is None
    over_budget = SearchTask(0, 0, BASE, sc, "auto", False, 1000, 5, 1000)
    assert run_search_task(over_budget)["method"] == "simulation"
    tite = SearchTask(0, 0, BASE, sc, "auto", True, 1000, 5, 10**7)
    tite_row = run_search_task(tite)
    assert tite_row["method"] == "simulation" and tite_row["mean_duration_days"] > 0
    with pytest.raises(TooManyStates, match=r"design 1 under nct07070323-dl2-best.*--simulate"):
        search([BASE], [{}], [sc], trials=100, seed=1, mode="exact", max_states=1000)


def test_designs_are_ranked_by_the_mean_over_scenarios() -> None:
    scs = resolve_scenarios(["nct07070323-dl1-best", "nct07070323-dl2-best"])
    settings = grid_settings(parse_grid(["phi_e=0.2,0.4", "n_star=3,6"]))
    designs = build_designs(BASE, settings)
    result = search(designs, settings, scs, trials=500, seed=2, mode="simulate")
    assert len(result.rows) == 4 * 2
    ranking = result.ranking()
    means = {
        i: np.mean([r["pct_select_true_obd"] for r in result.rows if r["design"] == i])
        for i in range(4)
    }
    assert [e["rank"] for e in ranking] == [1, 2, 3, 4]
    values = [e["mean_pct_select_true_obd"] for e in ranking]
    assert values == sorted(values, reverse=True)
    for e in ranking:
        assert e["mean_pct_select_true_obd"] == pytest.approx(means[e["design"]], abs=1e-6)
        assert e["settings"] == settings[e["design"]]
    lowest_above = search(designs, settings, scs, trials=500, seed=2, mode="simulate",
                          rank_by="pct_patients_above_mtd")  # fmt: skip
    assert lowest_above.order == "ascending"
    above = [e["mean_pct_patients_above_mtd"] for e in lowest_above.ranking()]
    assert above == sorted(above)
    assert strip(lowest_above.rows) == strip(result.rows)  # same seeds, same rows
    with pytest.raises(InvalidInput, match="rank_by"):
        search(designs, settings, scs, trials=10, seed=2, rank_by="speed")


def test_design_and_scenario_doses_must_match() -> None:
    with pytest.raises(DosewiseError, match="doses"):
        search([Boin12Params(n_doses=5)], [{}], [builtin_scenario("three-monotone")],
               trials=10, seed=1)  # fmt: skip
