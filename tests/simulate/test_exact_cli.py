"""`dosewise simulate --exact`: the simulation's JSON shape, method, zero errors and refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from dosewise.cli.app import main
from dosewise.design.params import Boin12Params
from dosewise.simulate.exact import exact_operating_characteristics
from dosewise.simulate.scenario import builtin_scenario

BASE = ["simulate", "--scenario", "nct07070323-dl1-best", "--json"]


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_exact_json_has_every_key_of_a_simulation(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run([*BASE, "--trials", "2000", "--seed", "3"], capsys)
    assert code == 0, err
    simulated = json.loads(out)
    code, out, err = run([*BASE, "--exact"], capsys)
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == 1
    exact = json.loads(lines[0])
    assert set(exact) - set(simulated) == {"states"}
    assert set(simulated) <= set(exact)
    assert simulated["method"] == "simulation" and exact["method"] == "exact"
    assert isinstance(exact["states"], int) and exact["states"] > 1000
    assert exact["seconds"] >= 0
    # Same keys inside every per-dose map; every standard error is 0.
    for key, value in simulated.items():
        if isinstance(value, dict) and key not in ("stop_reasons",):
            assert set(exact[key]) == set(value), key
    se_keys = [k for k in exact if k.endswith("_se") or k.startswith("se_")]
    assert {"selection_se", "se_n", "pct_select_true_obd_se", "early_stop_se"} <= set(se_keys)
    for key in se_keys:
        values = exact[key].values() if isinstance(exact[key], dict) else [exact[key]]
        assert all(v == 0 for v in values), key
    # The figures are those of the dynamic programme, doses as "1".."J".
    sc = builtin_scenario("nct07070323-dl1-best")
    r = exact_operating_characteristics(Boin12Params(n_doses=3, **sc.design), sc.joint_array)
    for d in range(3):
        assert exact["selection_pct"][str(d + 1)] == pytest.approx(100 * r.selection[d], abs=1e-6)
        assert exact["mean_n"][str(d + 1)] == pytest.approx(r.mean_n[d], abs=1e-6)
    assert exact["selection_pct"]["none"] == pytest.approx(100 * r.selection[3], abs=1e-6)
    assert exact["pct_select_true_obd"] == exact["selection_pct"]["2"]  # true OBD is dose 2
    assert exact["states"] == r.states
    assert exact["trials"] is None and exact["design"]["start_dose"] == 2


def test_exact_with_tite_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run([*BASE, "--exact", "--tite"], capsys)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and "--tite" in err and "BOIN12" in err


def test_too_large_design_says_so_and_suggests_simulation(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = [*BASE, "--exact", "--max-n", "30", "--n-earlystop", "0", "--max-states", "200000"]
    code, out, err = run([*args, "--progress"], capsys)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "too large for exact computation" in lines[0] and "simulate" in lines[0]
    assert "--exact" in lines[0]


def test_exact_table_csv_and_plot(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    csv, png = tmp_path / "oc.csv", tmp_path / "oc.png"
    args = ["simulate", "--scenario", "nct07070323-dl2-best", "--exact", "--csv", str(csv),
            "--plot", str(png), "--tie-break", "higher"]  # fmt: skip
    code, out, err = run(args, capsys)
    assert code == 0, err
    assert "no Monte Carlo error" in out and "standard errors in brackets" not in out
    frame = pd.read_csv(csv, comment="#")
    assert list(frame["dose"].astype(str)) == ["1", "2", "3", "none"]
    assert frame["selection_pct"].sum() == pytest.approx(100.0, abs=1e-4)
    assert (frame["selection_se"].fillna(0) == 0).all()
    assert "method=exact" in csv.read_text().splitlines()[0]
    assert png.stat().st_size > 1000
