"""Expected duration of a (non-TITE) BOIN12 trial that ends after its k-th cohort.

In the engine's timing model (``engine.py``: patients arrive in a renewal process with
Uniform(0, 2μ) or Exponential(μ) gaps, the first on day 0; a cohort may start only when every
treated patient has completed both windows, W = max(τ_T, τ_E) after the last entry; the trial
ends W after its last entry) the times do not depend on the outcomes, only on how many cohorts
the trial ran. So the exact operating characteristics get the mean duration as
Σ_k Pr(the trial ends after cohort k) · E[D_k], with E[D_k] from this module.

With m_k patients after cohort k and L_k the last entry of cohort k:

- ``wait`` (an arrival during suspension is treated when accrual reopens):
  L_1 = T_{m_1}, L_k = max(T_{m_k}, L_{k-1} + W), where T_i is the i-th arrival. The excess
  R_k = L_k − T_{m_k} follows Lindley's recursion R_k = max(0, R_{k−1} + W − S_k), S_k the
  sum of the c_k gaps of cohort k, so E[D_k] = (m_k − 1)μ + E[R_k] + W.
- ``next_arrival`` (arrivals during suspension are turned away): the first arrival after the
  reopening L_{k−1} + W is L_{k−1} + S_N, the first partial sum of fresh gaps ≥ W, and
  E[S_N] = μ(1 + Σ_n Pr(S_n < W)) (Wald), so E[L_k] = E[L_{k−1}] + E[S_N] + (c_k − 1)μ.

The distributions are computed on a fine grid (the gap discretised to the nearest multiple of
h = W/2000 or less), so the result is deterministic, without Monte Carlo error; the
discretisation error is far below 0.01 day (checked against simulation in the tests).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from scipy.signal import fftconvolve

from dosewise.simulate.scenario import Scenario

FloatArray = npt.NDArray[np.float64]

#: Grid cells per window W (at least), and per mean gap.
_CELLS_PER_WINDOW = 2000
_CELLS_PER_GAP = 400
#: Exponential gaps are truncated where the tail is below e^-40.
_EXP_TAIL = 40.0


def _gap_pmf(distribution: str, mean: float, h: float) -> FloatArray:
    """Probabilities of a gap rounded to the nearest multiple of h (cell i = i·h)."""
    if distribution == "poisson":
        edges = np.arange(0.5, math.ceil(_EXP_TAIL * mean / h) + 1.0) * h
        cdf = -np.expm1(-edges / mean)
    else:
        top = 2.0 * mean
        edges = np.arange(0.5, math.ceil(top / h) + 1.0) * h
        cdf = np.minimum(edges / top, 1.0)
    pmf = np.diff(np.concatenate([[0.0], cdf]))
    pmf[-1] += 1.0 - pmf.sum()  # the truncated tail (e^-40) goes to the last cell
    return np.asarray(pmf, dtype=np.float64)


def _power(pmf: FloatArray, k: int) -> FloatArray:
    """pmf of the sum of k gaps."""
    out = np.array([1.0])
    for _ in range(k):
        out = np.clip(fftconvolve(out, pmf), 0.0, None)
    return np.asarray(out / out.sum(), dtype=np.float64)


def expected_durations(scenario: Scenario, patients_after: Sequence[int]) -> FloatArray:
    """E[trial duration in days | the trial ends after cohort k], for k = 1..K.

    ``patients_after[k]`` is the number of patients treated after cohort k + 1 (increasing).
    """
    m = np.asarray(patients_after, dtype=np.int64)
    if len(m) == 0:
        return np.zeros(0)
    sizes = np.diff(np.concatenate([[0], m]))
    mu = scenario.accrual.mean_gap_days
    window = max(scenario.tox_window, scenario.eff_window)
    cells = max(_CELLS_PER_WINDOW, math.ceil(_CELLS_PER_GAP * window / mu))
    h = window / cells  # W is a whole number of cells
    gap = _gap_pmf(scenario.accrual.distribution, mu, h)
    out = np.empty(len(m))
    out[0] = (m[0] - 1) * mu + window
    if scenario.accrual.suspension == "next_arrival":
        step = _first_passage_mean(gap, cells) * h
        last = (m[0] - 1) * mu
        for k in range(1, len(m)):
            last += step + (sizes[k] - 1) * mu
            out[k] = last + window
        return out
    excess = np.array([1.0])  # R_1 = 0
    powers: dict[int, FloatArray] = {}
    for k in range(1, len(m)):
        size = int(sizes[k])
        if size not in powers:
            powers[size] = _power(gap, size)
        s = powers[size]
        # R + W − S on the grid: index i + cells − j, via a convolution with S reversed.
        conv = np.clip(fftconvolve(excess, s[::-1]), 0.0, None)
        offset = cells - (len(s) - 1)  # value index of conv[t] is t + offset
        values = np.arange(len(conv)) + offset
        excess = np.zeros(max(int(values[-1]), 0) + 1)
        positive = values > 0
        excess[values[positive]] = conv[positive]
        excess[0] = conv[~positive].sum()
        excess /= excess.sum()
        mean_excess = float(np.arange(len(excess)) @ excess) * h
        out[k] = (m[k] - 1) * mu + mean_excess + window
    return out


def _first_passage_mean(gap: FloatArray, cells: int) -> float:
    """E[N], N = min{n : S_n ≥ W}, in grid units times E[gap]: returns E[S_N] / h.

    Wald: E[S_N] = E[gap] · E[N], E[N] = 1 + Σ_n Pr(S_n < W); an S_n exactly on W counts half
    (the midpoint of the continuous sum's rounding cell).
    """
    mean_gap = float(np.arange(len(gap)) @ gap)
    below = gap[: cells + 1].copy()
    expected_n = 1.0
    while True:
        p_below = (
            float(below[:cells].sum() + 0.5 * below[cells])
            if len(below) > cells
            else float(below.sum())
        )
        if p_below < 1e-15:
            break
        expected_n += p_below
        below = np.clip(fftconvolve(below, gap)[: cells + 1], 0.0, None)
    return mean_gap * expected_n
