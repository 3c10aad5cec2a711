"""The summary's figures and Monte Carlo errors equal direct computations on per-trial rows."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dosewise.design.params import Boin12Params
from dosewise.design.rule import Reason
from dosewise.simulate.figures import plot_summary
from dosewise.simulate.run import simulate, simulate_trials
from dosewise.simulate.scenario import builtin_scenario

SC = builtin_scenario("five-obd-2")
PARAMS = Boin12Params(n_doses=5)
TRIALS = 2500


@pytest.fixture(scope="module")
def both() -> tuple[object, object]:
    return simulate(SC, PARAMS, TRIALS, seed=4), simulate_trials(SC, PARAMS, TRIALS, seed=4)


def test_figures_match_per_trial_rows(both: tuple[object, object]) -> None:
    summary, rows = both
    data = summary.to_dict()  # type: ignore[attr-defined]
    sel = np.where(rows.selected >= 0, rows.selected, 5)  # type: ignore[attr-defined]
    for d in range(5):
        p = np.mean(sel == d)
        assert data["selection_pct"][str(d + 1)] == pytest.approx(100 * p, abs=1e-6)
        assert data["selection_se"][str(d + 1)] == pytest.approx(
            100 * math.sqrt(p * (1 - p) / TRIALS), abs=1e-6
        )
        n_d = rows.n[:, d]  # type: ignore[attr-defined]
        assert data["mean_n"][str(d + 1)] == pytest.approx(n_d.mean(), abs=1e-6)
        assert data["sd_n"][str(d + 1)] == pytest.approx(n_d.std(ddof=1), abs=1e-6)
        assert data["mean_tox"][str(d + 1)] == pytest.approx(rows.tox[:, d].mean(), abs=1e-6)  # type: ignore[attr-defined]
        assert data["mean_eff"][str(d + 1)] == pytest.approx(rows.eff[:, d].mean(), abs=1e-6)  # type: ignore[attr-defined]
    assert data["selection_pct"]["none"] == pytest.approx(100 * np.mean(sel == 5), abs=1e-6)
    early = np.mean([Reason(r).stops and not Reason(r).selects_obd for r in rows.reason])  # type: ignore[attr-defined]
    assert data["early_stop_pct"] == pytest.approx(100 * early, abs=1e-6)
    assert data["mean_duration_days"] == pytest.approx(rows.duration.mean(), abs=1e-3)  # type: ignore[attr-defined]
    assert data["true_obd"] == 2
    assert data["pct_select_true_obd"] == data["selection_pct"]["2"]


def test_patient_percentages_and_delta_method_se(both: tuple[object, object]) -> None:
    summary, rows = both
    data = summary.to_dict()  # type: ignore[attr-defined]
    total = rows.n.sum(axis=1).astype(float)  # type: ignore[attr-defined]
    for d in range(5):
        y = rows.n[:, d].astype(float)  # type: ignore[attr-defined]
        ratio = y.sum() / total.sum()
        se = math.sqrt(np.sum((y - ratio * total) ** 2) / (TRIALS - 1) / TRIALS) / total.mean()
        assert data["pct_patients"][str(d + 1)] == pytest.approx(100 * ratio, abs=1e-6)
        assert data["pct_patients_se"][str(d + 1)] == pytest.approx(100 * se, abs=1e-6)
    assert sum(data["pct_patients"].values()) == pytest.approx(100.0, abs=1e-4)
    # True MTD = 2 (p_T <= 0.35 at doses 1-2): patients above it are those at doses 3-5.
    above = rows.n[:, 2:].sum() / total.sum()  # type: ignore[attr-defined]
    assert data["pct_patients_above_mtd"] == pytest.approx(100 * above, abs=1e-6)
    assert data["pct_patients_at_true_obd"] == data["pct_patients"]["2"]


def test_frame_csv_and_figure(both: tuple[object, object], tmp_path: Path) -> None:
    summary = both[0]
    frame = summary.to_frame()  # type: ignore[attr-defined]
    assert list(frame["dose"]) == ["1", "2", "3", "4", "5", "none"]
    assert frame.loc[1, "true_obd"]
    csv = tmp_path / "oc.csv"
    summary.to_csv(str(csv))  # type: ignore[attr-defined]
    back = pd.read_csv(csv, comment="#")
    assert back["selection_pct"].sum() == pytest.approx(100.0, abs=1e-3)
    assert "tie_break=random" in csv.read_text().splitlines()[0]
    png = plot_summary(summary, tmp_path / "oc.png")  # type: ignore[arg-type]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
