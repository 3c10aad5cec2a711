"""Simulated operating characteristics agree with exact ones from enumerating every trial path.

For tiny designs (2-3 doses, 3-4 cohorts of 1-3 patients) every sequence of cohort outcomes is
enumerated with its multinomial probability, each decision taken by ``Boin12.decide`` (random
ties branch with probability 1/k each), giving the exact selection probabilities, early-stop
probability and E[n_j], Var(n_j). The engine's estimates from T trials must lie within 4.5
standard errors (SE from the exact variance / T). With about 12 comparisons per design the
chance that a correct engine fails is about 12 x 6.8e-6 < 1e-4, while a bias of one percentage
point in a selection probability is about 5 SE at T = 50,000; the seed is fixed, so the test is
deterministic.
"""

from __future__ import annotations

import itertools
import math
from functools import cache

import numpy as np
import pytest

from dosewise.design.boin12 import Boin12
from dosewise.design.params import Boin12Params
from dosewise.simulate.run import simulate_trials
from dosewise.simulate.scenario import CELLS, Scenario, make_scenario

TRIALS = 50_000
Z = 4.5


class _Fixed:
    def __init__(self, u: float) -> None:
        self.u = u

    def random(self) -> float:
        return self.u


@cache
def _compositions(size: int) -> tuple[tuple[int, ...], ...]:
    return tuple(c for c in itertools.product(range(size + 1), repeat=4) if sum(c) == size)


def _pmf(counts: tuple[int, ...], probs: np.ndarray) -> float:
    coef = math.factorial(sum(counts))
    for k in counts:
        coef //= math.factorial(k)
    return coef * math.prod(float(p) ** k for p, k in zip(probs, counts, strict=True))


def exact_oc(params: Boin12Params, scenario: Scenario) -> dict[str, np.ndarray]:
    """Exact P(select j), P(no OBD), P(early stop), E[n_j], E[n_j^2] by path enumeration."""
    model = Boin12(params)
    joint = scenario.joint_array
    j = params.n_doses
    out = {k: np.zeros(j + 1 if k == "select" else j) for k in ("select", "n", "n_sq")}
    out["early"] = np.zeros(1)

    def branches(outcomes: str) -> list[tuple[float, object]]:
        first = model.decide(outcomes, rng=_Fixed(0.5))  # type: ignore[arg-type]
        k = len(first.tied)
        if params.tie_break != "random" or k < 2:
            return [(1.0, first)]
        return [
            (1.0 / k, model.decide(outcomes, rng=_Fixed((i + 0.5) / k)))  # type: ignore[arg-type]
            for i in range(k)
        ]

    def walk(history: str, dose: int, prob: float, n: np.ndarray, total: int) -> None:
        size = min(params.cohort_size, params.max_n - total)
        for counts in _compositions(size):
            p = prob * _pmf(counts, joint[dose])
            if p == 0.0:
                continue
            cohort = f"{dose + 1}" + "".join(c * k for c, k in zip(CELLS, counts, strict=True))
            outcomes = f"{history} {cohort}".strip()
            n_next = n.copy()
            n_next[dose] += size
            for w, decision in branches(outcomes):
                if decision.stop:  # type: ignore[attr-defined]
                    obd = decision.obd.obd if decision.select_obd else None  # type: ignore[attr-defined]
                    out["select"][j if obd is None else obd - 1] += p * w
                    out["early"][0] += 0.0 if decision.select_obd else p * w  # type: ignore[attr-defined]
                    out["n"] += p * w * n_next
                    out["n_sq"] += p * w * n_next**2
                else:
                    nxt = decision.next_dose - 1  # type: ignore[attr-defined]
                    walk(outcomes, nxt, p * w, n_next, total + size)

    walk("", params.start_dose - 1, 1.0, np.zeros(j), 0)
    return out


DESIGNS = [
    # 3 doses, cohorts of 2, start at dose 2: untried neighbours tie at the prior (random ties).
    (
        Boin12Params(n_doses=3, max_n=6, cohort_size=2, start_dose=2, n_earlystop=0),
        make_scenario("a", [0.1, 0.3, 0.55], [0.2, 0.45, 0.6], rho=1.0),
    ),
    # 2 doses, 4 cohorts of 2, n_earlystop 4, exploration at N2 = 4, ties to the higher dose.
    (
        Boin12Params(n_doses=2, max_n=8, cohort_size=2, n_earlystop=4, n2=4, tie_break="higher",
                     phi_t=0.3, c_e=0.8),
        make_scenario("b", [0.25, 0.5], [0.15, 0.3]),
    ),
    # 3 doses, two cohorts of 3 and a last one of 1 (max N 7), toxic: early stops.
    (
        Boin12Params(n_doses=3, max_n=7, tox_elim_min_dlt=2, c_t=0.8, n_star=3),
        make_scenario("c", [0.4, 0.6, 0.7], [0.3, 0.4, 0.5], rho=-0.5),
    ),
]  # fmt: skip


@pytest.mark.parametrize(("params", "scenario"), DESIGNS)
def test_simulation_agrees_with_exact_enumeration(params: Boin12Params, scenario: Scenario) -> None:
    exact = exact_oc(params, scenario)
    assert exact["select"].sum() == pytest.approx(1.0, abs=1e-12)
    sim = simulate_trials(scenario, params, TRIALS, seed=20261126)
    j = params.n_doses
    sel = np.bincount(np.where(sim.selected >= 0, sim.selected, j), minlength=j + 1) / TRIALS
    for k in range(j + 1):
        p = exact["select"][k]
        se = math.sqrt(p * (1 - p) / TRIALS)
        assert abs(sel[k] - p) <= Z * se + 1e-12, (k, sel[k], p, se)
    early = np.mean([r < 20 for r in sim.reason])
    p = exact["early"][0]
    assert abs(early - p) <= Z * math.sqrt(p * (1 - p) / TRIALS) + 1e-12
    for d in range(j):
        mean, var = exact["n"][d], exact["n_sq"][d] - exact["n"][d] ** 2
        se = math.sqrt(max(var, 0.0) / TRIALS)
        assert abs(sim.n[:, d].mean() - mean) <= Z * se + 1e-12, (d, sim.n[:, d].mean(), mean)
