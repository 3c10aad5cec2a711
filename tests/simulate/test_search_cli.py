"""`dosewise search`: the JSON contract, outputs, errors, and identical results on Dask."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import dosewise.cli.search  # noqa: F401  (registers the command until app.py lists it)
from dosewise.cli.app import main

# max_n 9 is exact under a budget of 50,000 states, max_n 18 is not: both methods in one run.
MIXED = ["search", "--grid", "phi_e=0.2,0.3", "--grid", "max_n=9,18", "--scenarios",
         "nct07070323-dl1-best,nct07070323-all-toxic", "--trials", "1000", "--seed", "7",
         "--max-states", "50000", "--json", "--no-progress"]  # fmt: skip


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def result(out: str) -> dict[str, Any]:
    """The JSON without timings."""
    lines = out.strip().splitlines()
    assert len(lines) == 1
    data: dict[str, Any] = json.loads(lines[0])
    data.pop("seconds")
    for row in data["rows"]:
        row.pop("seconds")
    return data


def test_json_contract(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(MIXED, capsys)
    assert code == 0, err
    data = result(out)
    assert data["rank_by"] == "pct_select_true_obd" and data["trials"] == 1000
    assert data["seed"] == 7
    assert len(data["designs"]) == 4 and len(data["rows"]) == 8
    assert [d["rank"] for d in data["designs"]] == [1, 2, 3, 4]
    first = data["designs"][0]
    assert set(first) >= {"rank", "settings", "mean_pct_select_true_obd"}
    assert set(first["settings"]) == {"phi_e", "max_n"}
    means = [d["mean_pct_select_true_obd"] for d in data["designs"]]
    assert means == sorted(means, reverse=True)
    for row in data["rows"]:
        assert set(row) >= {"design", "scenario", "method", "pct_select_true_obd",
                            "pct_patients_at_true_obd", "pct_patients_above_mtd",
                            "early_stop_pct", "mean_total_n", "mean_duration_days"}  # fmt: skip
    methods = {(r["design"], r["method"]) for r in data["rows"]}
    # Designs 0, 2 have max_n 9 (exact); 1, 3 have max_n 18 (over the budget: simulated).
    assert methods == {(0, "exact"), (2, "exact"), (1, "simulation"), (3, "simulation")}
    # Each design's mean is the mean of its rows.
    for d in data["designs"]:
        rows = [r["pct_select_true_obd"] for r in data["rows"] if r["design"] == d["design"]]
        assert d["mean_pct_select_true_obd"] == pytest.approx(sum(rows) / len(rows), abs=1e-6)


def test_files_table_and_progress(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    csv, page, png = tmp_path / "s.csv", tmp_path / "s.html", tmp_path / "s.png"
    args = ["search", "--grid", "n_star=3,6", "--scenarios", "nct07070323-dl2-best",
            "--simulate", "--trials", "500", "--seed", "1", "--csv", str(csv), "--html",
            str(page), "--plot", str(png), "--rank-by", "pct_patients_above_mtd"]  # fmt: skip
    code, out, err = run(args, capsys)
    assert code == 0, err
    assert "searching" in err  # the progress bar, on stderr
    assert "ranked by mean % patients above MTD (ascending)" in out
    frame = pd.read_csv(csv, comment="#")
    assert len(frame) == 2 and set(frame["method"]) == {"simulation"}
    assert {"design", "rank", "n_star", "scenario", "pct_select_true_obd"} <= set(frame.columns)
    text = page.read_text()
    assert "<table" in text and "nct07070323-dl2-best" in text and "s.png" in text
    assert png.stat().st_size > 1000


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--exact", "--simulate"], "not both"),
        (["--exact", "--tite"], "not --tite"),
        (["--grid", "phi_q=1"], "not a design setting"),
        (["--rank-by", "speed"], "rank_by"),
    ],
)
def test_errors_are_one_line(
    extra: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["search", "--scenarios", "nct07070323-dl1-best", *extra], capsys)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and message in err and len(err.strip().splitlines()) == 1


def test_forced_exact_over_budget_suggests_simulation(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["search", "--scenarios", "nct07070323-dl1-best", "--exact", "--max-states", "1000",
            "--no-progress"]  # fmt: skip
    code, out, err = run(args, capsys)
    assert code == 2 and out == "" and "too large" in err and "--simulate" in err


def test_identical_in_process_on_workers_and_on_a_dask_cluster(
    capsys: pytest.CaptureFixture[str],
) -> None:
    distributed = pytest.importorskip("distributed")
    code, out, err = run(MIXED, capsys)
    assert code == 0, err
    here = result(out)
    code, out, err = run([*MIXED, "--workers", "2"], capsys)
    assert code == 0, err
    assert result(out) == here
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        memory_limit="2GiB",
    )
    try:
        code, out, err = run([*MIXED, "--scheduler", cluster.scheduler_address], capsys)
        assert code == 0, err
        assert result(out) == here
    finally:
        cluster.close()
