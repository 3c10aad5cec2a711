"""`dosewise simulate` and `dosewise scenarios`: the JSON contract, options and errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dosewise.cli.app import main

KEYS = {
    "scenario", "trials", "seed", "true_obd", "selection_pct", "selection_se", "mean_n",
    "mean_tox", "mean_eff", "pct_patients", "pct_select_true_obd", "pct_patients_at_true_obd",
    "early_stop_pct", "mean_duration_days", "seconds",
}  # fmt: skip


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_json_contract_with_marginals(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["simulate", "--p-tox", "0.05", "0.1", "0.2", "0.4", "--p-eff", "0.2", "0.4", "0.5",
            "0.55", "--rho", "0.5", "--trials", "1500", "--seed", "1", "--json",
            "--progress"]  # fmt: skip
    code, out, err = run(args, capsys)
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == 1  # one JSON object; the progress bar went to stderr
    data = json.loads(lines[0])
    assert set(data) >= KEYS
    assert data["trials"] == 1500 and data["seed"] == 1 and data["true_obd"] == 3
    assert list(data["selection_pct"]) == ["1", "2", "3", "4", "none"]
    assert list(data["selection_se"]) == ["1", "2", "3", "4", "none"]
    for key in ("mean_n", "mean_tox", "mean_eff", "pct_patients"):
        assert list(data[key]) == ["1", "2", "3", "4"]
    assert sum(data["selection_pct"].values()) == pytest.approx(100.0, abs=1e-3)
    assert data["design"]["n_doses"] == 4 and data["tie_break"] == "random"
    assert data["setting"]["correlation"] == {"model": "gumbel", "value": 0.5}
    assert "simulating" in err


def test_builtin_scenario_tite_options_and_outputs(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    csv, png = tmp_path / "oc.csv", tmp_path / "oc.png"
    args = ["simulate", "--scenario", "nct07070323-dl2-best", "--tite", "--accrual", "3",
            "--eff-window", "60", "--trials", "1000", "--seed", "2", "--tie-break", "higher",
            "--json", "--csv", str(csv), "--plot", str(png)]  # fmt: skip
    code, out, err = run(args, capsys)
    assert code == 0, err
    data = json.loads(out)
    assert data["engine"] == "tite-boin12" and data["true_obd"] == 3
    assert data["design"]["start_dose"] == 2 and data["design"]["max_n"] == 18  # from the file
    assert data["design"]["tie_break"] == "higher"
    assert data["setting"]["accrual"]["rate"] == 3 and data["setting"]["eff_window"] == 60
    assert data["setting"]["tox_window"] == 28  # kept from the scenario
    assert csv.exists() and png.exists()


def test_explicit_design_options_win_over_the_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["simulate", "--scenario", "nct07070323-dl1-best", "--start-dose", "1", "--trials",
            "200", "--seed", "1", "--json"]  # fmt: skip
    code, out, _ = run(args, capsys)
    assert code == 0
    assert json.loads(out)["design"]["start_dose"] == 1


def test_design_options_are_checked_against_the_scenarios_doses(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--start-dose 4 is valid for a 5-dose scenario without --doses 5 (the design is built
    once the scenario is known); dose 6 of 5 is refused naming the option."""
    args = ["simulate", "--scenario", "five-umbrella", "--start-dose", "4", "--trials", "200",
            "--seed", "1", "--json"]  # fmt: skip
    code, out, _ = run(args, capsys)
    assert code == 0
    data = json.loads(out)
    assert data["design"]["start_dose"] == 4 and data["design"]["n_doses"] == 5
    code, _, err = run([*args[:4], "6", *args[5:]], capsys)
    assert code == 2 and err.startswith("error: start_dose=6: must be a dose from 1 to n_doses=5")


def test_readable_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["simulate", "--scenario", "three-umbrella", "--trials", "300", "--seed",
                        "3"], capsys)  # fmt: skip
    assert code == 0
    assert "selected" in out.lower() or "sel. %" in out
    assert "tie-break random" in out and "true OBD" in out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("p_tox: [0.1, 1.3]\np_eff: [0.2, 0.3]\n", "p_tox[2]=1.3"),
        ("p_tox: [0.1, 0.3]\np_eff: [0.2, 0.3, 0.4]\n", "p_eff="),
        ("p_tox: [0.1]\np_eff: [0.2]\naccrual: {rate: -1}\n", "accrual.rate=-1"),
        ("joint:\n  - {N: 0.9, E: 0.2, T: -0.1, B: 0.0}\n", "joint[1].T=-0.1"),
    ],
)
def test_bad_scenario_files_exit_2_naming_the_field(
    content: str, message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    code, out, err = run(["simulate", "--scenario", str(path), "--trials", "10", "--json"], capsys)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and message in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scenario", "five-umbrella", "--doses", "3"], "doses=3"),
        (["--p-tox", "0.1", "0.2"], "p-eff"),
        (["--scenario", "nope"], "not a built-in"),
        (["--scenario", "five-umbrella", "--trials", "0"], "trials=0"),
        (["--scenario", "five-umbrella", "--workers", "2", "--scheduler", "x.json"], "not both"),
    ],
)
def test_bad_options(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["simulate", *args, "--json"], capsys)
    assert code == 2 and message in err


def test_scenarios_lists_the_library(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["scenarios", "--json"], capsys)
    assert code == 0
    rows = {r["name"]: r for r in json.loads(out)["scenarios"]}
    assert rows["five-obd-4"]["true_obd"] == 4 and rows["five-all-toxic"]["true_obd"] is None
    assert all(r["n_doses"] == 3 for name, r in rows.items() if name.startswith("nct07070323"))
    code, out, _ = run(["scenarios"], capsys)
    assert code == 0 and "three-umbrella" in out
