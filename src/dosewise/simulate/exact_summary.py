"""Exact operating characteristics in the shape of a simulation summary (standard errors 0).

:func:`exact_summary` runs :func:`~dosewise.simulate.exact.exact_operating_characteristics` on
a scenario's joint outcome probabilities and wraps the result as an
:class:`~dosewise.simulate.summary.OperatingCharacteristics`, so ``dosewise simulate --exact``
prints every key of a simulated run with ``"method": "exact"``. Percentages of patients are
ratios of expected counts, as the simulated ones are ratios of sums. The mean duration is
Σ_k Pr(end after cohort k) · E[duration | k] (:mod:`dosewise.simulate.duration`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from dosewise.design.params import Boin12Params
from dosewise.design.rule import Reason
from dosewise.simulate.duration import expected_durations
from dosewise.simulate.exact import (
    DEFAULT_MAX_STATES,
    ExactResult,
    exact_operating_characteristics,
)
from dosewise.simulate.scenario import Scenario
from dosewise.simulate.summary import OperatingCharacteristics

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class ExactSummary(OperatingCharacteristics):
    """Exact operating characteristics of one (non-TITE) BOIN12 design under one scenario."""

    scenario: Scenario
    params: Boin12Params
    result: ExactResult
    durations: FloatArray  # E[duration in days | the trial ends after cohort k]
    seconds: float
    tite: bool = False
    method: ClassVar[str] = "exact"

    @property
    def trials(self) -> None:
        """No trials are simulated."""
        return None

    @property
    def run_seed(self) -> None:
        """No random streams."""
        return None

    @property
    def run_chunk_size(self) -> None:
        """No chunks."""
        return None

    @property
    def states(self) -> int:
        """Distinct states visited by the dynamic programme."""
        return self.result.states

    def figures(self) -> dict[str, Any]:
        """The figures of :meth:`Summary.figures`, exact, with every standard error 0."""
        r = self.result
        j = self.params.n_doses
        zero_j, zero_j1 = np.zeros(j), np.zeros(j + 1)
        total = float(r.mean_total_n)
        share = r.mean_n / total if total > 0 else np.zeros(j)
        above = float(share[self.true_mtd :].sum())
        return {
            "selection_pct": 100.0 * r.selection,
            "selection_se": zero_j1,
            "mean_n": r.mean_n,
            "sd_n": r.sd_n,
            "se_n": zero_j,
            "mean_tox": r.mean_tox,
            "sd_tox": r.sd_tox,
            "se_tox": zero_j,
            "mean_eff": r.mean_eff,
            "sd_eff": r.sd_eff,
            "se_eff": zero_j,
            "pct_patients": 100.0 * share,
            "pct_patients_se": zero_j,
            "pct_patients_above_mtd": 100.0 * above,
            "pct_patients_above_mtd_se": 0.0,
            "mean_total_n": total,
            "sd_total_n": float(r.sd_total_n),
            "se_total_n": 0.0,
            "mean_duration_days": float(r.ended_after @ self.durations),
            "sd_duration_days": float("nan"),  # not computed (only the mean is exact)
            "se_duration_days": 0.0,
            "early_stop_pct": 100.0 * float(r.early_stop),
            "early_stop_se": 0.0,
        }

    def stop_reasons(self) -> dict[str, Any]:
        """Percentage of trials ended by each rule (rules with probability 0 are left out)."""
        return {
            r.name.lower(): round(100.0 * float(self.result.reasons[r]), 6)
            for r in Reason
            if self.result.reasons[r] > 0
        }

    def extra(self) -> dict[str, Any]:
        """``states``: how many distinct states the dynamic programme visited."""
        return {"states": self.result.states}


def exact_summary(
    scenario: Scenario,
    params: Boin12Params,
    *,
    max_states: int = DEFAULT_MAX_STATES,
    progress: Callable[[int, int], None] | None = None,
) -> ExactSummary:
    """Exact OCs of non-TITE BOIN12 ``params`` under ``scenario`` (raises ``TooManyStates``)."""
    scenario.check_design(params)
    start = time.perf_counter()
    result = exact_operating_characteristics(
        params, scenario.joint_array, max_states=max_states, progress=progress
    )
    durations = expected_durations(scenario, result.patients_after.tolist())
    return ExactSummary(
        scenario=scenario,
        params=params,
        result=result,
        durations=durations,
        seconds=time.perf_counter() - start,
    )
