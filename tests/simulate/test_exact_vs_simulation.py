"""Exact OCs of the trial's design against 100,000 simulated trials (issue 9, deliverable 3).

The design is NCT07070323's (3 doses, cohorts of 3, start at dose 2, max N 18, n_earlystop 12,
as the built-in scenarios suggest). The engine and the dynamic programme share the design's rule
functions but not their bookkeeping (random draws and lockstep arrays against merged states
and split tie probabilities), so agreement is a real check of both.

Tolerance: 4.5 standard errors, with the *exact* value's SE under the null (√(p(1−p)/T) for a
percentage, SD/√T for a mean, the exact SD from the dynamic programme). There are about 20
comparisons per case, 80 in all: a correct engine fails one with probability
80 · 6.8e-6 ≈ 5e-4 (and the seed is fixed, so the test is deterministic). A bias of one
percentage point in the selection of the true OBD (SE ≈ 0.14 at 72%) is about 7 SE and fails.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from dosewise.design.params import Boin12Params
from dosewise.simulate.duration import expected_durations
from dosewise.simulate.exact_summary import exact_summary
from dosewise.simulate.run import simulate, simulate_trials
from dosewise.simulate.scenario import Accrual, builtin_scenario

TRIALS = 100_000
Z = 4.5
SCENARIOS = ["nct07070323-dl1-best", "nct07070323-dl2-best", "nct07070323-correlated"]
# Plus a variant: a last cohort of 2 (max N 17), utilities that are not additive (joint counts
# in the state) and the tie-break "higher".
VARIANT = {"max_n": 17, "u11": 50.0, "tie_break": "higher"}
CASES = [(name, {}) for name in SCENARIOS] + [("nct07070323-plateau", VARIANT)]


def trial_design(name: str) -> Boin12Params:
    """The design the scenario suggests (start dose 2, max N 18, n_earlystop 12, cohorts of 3)."""
    sc = builtin_scenario(name)
    return Boin12Params(n_doses=sc.n_doses, **sc.design)


@pytest.mark.parametrize(("name", "changes"), CASES)
def test_simulation_within_monte_carlo_error_of_exact(
    name: str, changes: dict[str, object]
) -> None:
    sc = builtin_scenario(name)
    params = trial_design(name).with_(**changes)
    assert (params.start_dose, params.cohort_size) == (2, 3)
    exact = exact_summary(sc, params)
    sim = simulate(sc, params, TRIALS, seed=2026)
    e, s = exact.figures(), sim.figures()
    j = params.n_doses

    # Percentages of trials: selection of each dose and of no dose, early stopping.
    pairs = [(e["selection_pct"][d], s["selection_pct"][d]) for d in range(j + 1)]
    pairs.append((e["early_stop_pct"], s["early_stop_pct"]))
    for exact_pct, sim_pct in pairs:
        p = exact_pct / 100
        se = 100 * math.sqrt(p * (1 - p) / TRIALS)
        if se == 0:
            assert sim_pct == exact_pct  # impossible (or certain) events never vary
        else:
            assert abs(sim_pct - exact_pct) <= Z * se, (exact_pct, sim_pct, se)

    # Means per dose: patients, DLTs, responses, with the exact SD.
    for mean, sd in (("mean_n", "sd_n"), ("mean_tox", "sd_tox"), ("mean_eff", "sd_eff")):
        for d in range(j):
            se = e[sd][d] / math.sqrt(TRIALS)
            assert abs(s[mean][d] - e[mean][d]) <= Z * se + 1e-12, (mean, d, e[mean][d], s[mean][d])
    se_total = e["sd_total_n"] / math.sqrt(TRIALS)
    assert abs(s["mean_total_n"] - e["mean_total_n"]) <= Z * se_total

    # Ratios and the duration, with the simulation's own (delta-method / SD) errors.
    for d in range(j):
        assert abs(s["pct_patients"][d] - e["pct_patients"][d]) <= Z * s["pct_patients_se"][d]
    assert abs(s["mean_duration_days"] - e["mean_duration_days"]) <= Z * s["se_duration_days"]

    # The exact answer is a distribution.
    assert e["selection_pct"].sum() == pytest.approx(100.0, abs=1e-9)
    assert sum(exact.stop_reasons().values()) == pytest.approx(100.0, abs=1e-4)


@pytest.mark.parametrize("distribution", ["uniform", "poisson"])
@pytest.mark.parametrize("suspension", ["wait", "next_arrival"])
def test_expected_duration_by_number_of_cohorts_matches_the_engine(
    distribution: str, suspension: str
) -> None:
    # The engine's trial durations, grouped by how many patients the trial treated, against
    # E[duration | cohorts] (max N 11: a last cohort of 2 patients is covered too).
    sc = builtin_scenario("nct07070323-plateau").with_(
        accrual=Accrual(rate=2.0, distribution=distribution, suspension=suspension)  # type: ignore[arg-type]
    )
    params = Boin12Params(n_doses=3, start_dose=2, cohort_size=3, max_n=11, n_earlystop=0)
    rows = simulate_trials(sc, params, 20_000, seed=5)
    patients = [3, 6, 9, 11]
    expected = expected_durations(sc, patients)
    total = rows.n.sum(axis=1)
    checked = 0
    for k, m in enumerate(patients):
        values = rows.duration[total == m]
        if len(values) < 200:
            continue
        se = values.std(ddof=1) / math.sqrt(len(values))
        assert abs(values.mean() - expected[k]) <= Z * se, (m, values.mean(), expected[k], se)
        checked += 1
    assert checked >= 1
    # One cohort: the first patient on day 0, the last after two gaps, then the windows.
    assert expected[0] == pytest.approx(2 * sc.accrual.mean_gap_days + 90.0)
    assert np.all(np.diff(expected) > 0)
