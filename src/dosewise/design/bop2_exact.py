"""The exact arithmetic behind BOP2: posterior tails, count boundaries and sums over outcome paths.

Everything here is vectorised over many candidate designs at once (one row per design), so the
grid search over (lambda, gamma) in :mod:`dosewise.design.bop2` takes a fraction of a second.
Operating characteristics are exact: the probability of every reachable count at every look is
carried forward look by look (a forward pass over all binomial outcome paths), never simulated.

Priors have effective sample size 1 and their mean at the null (Zhou, Lee & Yuan 2017): the
response rate is Beta(p0, 1 - p0) a priori; with joint toxicity monitoring the four outcome cells
are Dirichlet with the null cell probabilities as parameters, whose margins are Beta(p0, 1 - p0)
and Beta(phi_t0, 1 - phi_t0). Only these margins enter the decisions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import betainc

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def prob_rate_at_most(threshold: float, n: int) -> FloatArray:
    """Pr(p <= threshold | x of n) for x = 0..n under the Beta(threshold, 1 - threshold) prior.

    Decreasing in x: more events make a rate at or below the threshold less likely.
    """
    x = np.arange(n + 1, dtype=np.float64)
    return np.asarray(betainc(threshold + x, 1.0 - threshold + n - x, threshold), np.float64)


def prob_rate_above(threshold: float, n: int) -> FloatArray:
    """Pr(p > threshold | x of n) for x = 0..n under the Beta(threshold, 1 - threshold) prior.

    Computed as I_{1-threshold}(b, a) rather than 1 - I_threshold(a, b) to keep precision in the
    upper tail (and because scipy's complementary incomplete beta is slow).
    """
    x = np.arange(n + 1, dtype=np.float64)
    return np.asarray(betainc(1.0 - threshold + n - x, threshold + x, 1.0 - threshold), np.float64)


def cutoff_grid(
    lambdas: FloatArray, gammas: FloatArray, looks: tuple[int, ...], n_max: int
) -> FloatArray:
    """C(n) = 1 - lambda (n / N)^gamma for each (lambda, gamma) row and each look (columns)."""
    fraction = np.asarray(looks, dtype=np.float64) / float(n_max)
    return np.asarray(
        1.0 - lambdas[:, None] * fraction[None, :] ** gammas[:, None], dtype=np.float64
    )


def futility_boundaries(p0: float, looks: tuple[int, ...], cutoffs: FloatArray) -> IntArray:
    """Largest response count that stops the trial at each look; -1 where no count does.

    ``cutoffs`` has one row per design and one column per look. The posterior probability of
    futility decreases in the count, so the stopping counts are exactly 0..k.
    """
    out = np.empty(cutoffs.shape, dtype=np.int64)
    for j, n in enumerate(looks):
        ascending = prob_rate_at_most(p0, n)[::-1]
        at_most_cutoff = np.searchsorted(ascending, cutoffs[:, j], side="right")
        out[:, j] = (n + 1 - at_most_cutoff) - 1
    return out


def toxicity_boundaries(phi_t0: float, looks: tuple[int, ...], cutoffs: FloatArray) -> IntArray:
    """Smallest toxicity count that stops the trial at each look; n + 1 where no count does.

    Pr(p_T > phi_t0 | data) increases in the count, so the stopping counts are exactly t..n.
    """
    out = np.empty(cutoffs.shape, dtype=np.int64)
    for j, n in enumerate(looks):
        ascending = prob_rate_above(phi_t0, n)
        out[:, j] = np.searchsorted(ascending, cutoffs[:, j], side="right")
    return out


def joint_cells(p_e: float, p_t: float, odds_ratio: float) -> tuple[float, float, float, float]:
    """Cell probabilities (E&T, E only, T only, neither) with the given margins and odds ratio.

    Plackett's construction: the odds ratio 1 gives independence; above 1 response and toxicity
    go together. With a degenerate margin (0 or 1) the cells are forced and the ratio is moot.
    """
    if p_e in (0.0, 1.0) or p_t in (0.0, 1.0) or math.isclose(odds_ratio, 1.0):
        both = p_e * p_t
    else:
        s = 1.0 + (p_e + p_t) * (odds_ratio - 1.0)
        disc = s * s - 4.0 * odds_ratio * (odds_ratio - 1.0) * p_e * p_t
        both = (s - math.sqrt(max(disc, 0.0))) / (2.0 * (odds_ratio - 1.0))
    both = min(max(both, max(0.0, p_e + p_t - 1.0)), min(p_e, p_t))
    e_only = p_e - both
    t_only = p_t - both
    neither = max(0.0, 1.0 - both - e_only - t_only)
    return both, e_only, t_only, neither


@dataclass(frozen=True, slots=True)
class PathSums:
    """Exact probabilities of how each candidate design ends (rows: designs; columns: looks).

    ``stop[:, j]`` is the probability of stopping at look j (at the final look: of not declaring
    the treatment promising); ``futility``/``toxicity`` split it by the rule that fired (both may
    fire at once, so they can overlap). ``promising`` is the probability of passing every look.
    """

    stop: FloatArray
    futility: FloatArray
    toxicity: FloatArray
    promising: FloatArray


def _increment_matrix(n_max: int, m: int, p: float) -> FloatArray:
    """T[x, y] = Pr(y - x events among m new patients), a banded Toeplitz matrix."""
    from scipy.stats import binom  # here: SciPy's statistics take most of a second to import

    pmf = np.asarray(binom.pmf(np.arange(m + 1), m, p), dtype=np.float64)
    size = n_max + 1
    out = np.zeros((size, size), dtype=np.float64)
    for d in range(m + 1):
        idx = np.arange(size - d)
        out[idx, idx + d] = pmf[d]
    return out


def path_sums_response(looks: tuple[int, ...], stop_le: IntArray, p_response: float) -> PathSums:
    """Exact stopping probabilities for response-only designs, true response rate ``p_response``.

    The state is the distribution of the cumulative response count among paths still running.
    """
    n_designs, n_looks = stop_le.shape
    n_max = looks[-1]
    state = np.zeros((n_designs, n_max + 1), dtype=np.float64)
    state[:, 0] = 1.0
    stop = np.zeros((n_designs, n_looks), dtype=np.float64)
    counts = np.arange(n_max + 1)
    previous = 0
    for j, n in enumerate(looks):
        state = state @ _increment_matrix(n_max, n - previous, p_response)
        previous = n
        stopping = counts[None, :] <= stop_le[:, j : j + 1]
        stop[:, j] = np.where(stopping, state, 0.0).sum(axis=1)
        state = np.where(stopping, 0.0, state)
    return PathSums(stop, stop.copy(), np.zeros_like(stop), state.sum(axis=1))


def _add_patient(state: FloatArray, size: int, cells: tuple[float, float, float, float]) -> None:
    """Add one patient in place; counts live in the leading ``size`` x ``size`` block."""
    both, e_only, t_only, neither = cells
    block = state[:, :size, :size].copy()
    state[:, :size, :size] *= neither
    state[:, 1 : size + 1, :size] += e_only * block
    state[:, :size, 1 : size + 1] += t_only * block
    state[:, 1 : size + 1, 1 : size + 1] += both * block


def path_sums_joint(
    looks: tuple[int, ...],
    stop_le: IntArray,
    stop_ge: IntArray,
    cells: tuple[float, float, float, float],
) -> PathSums:
    """Exact stopping probabilities with joint response/toxicity monitoring.

    The state is the joint distribution of (responses, toxicities) among paths still running,
    advanced one patient at a time with the four-cell multinomial ``cells``.
    """
    n_designs, n_looks = stop_le.shape
    n_max = looks[-1]
    state = np.zeros((n_designs, n_max + 2, n_max + 2), dtype=np.float64)
    state[:, 0, 0] = 1.0
    stop = np.zeros((n_designs, n_looks), dtype=np.float64)
    futility = np.zeros_like(stop)
    toxicity = np.zeros_like(stop)
    counts = np.arange(n_max + 2)
    enrolled = 0
    for j, n in enumerate(looks):
        while enrolled < n:
            _add_patient(state, enrolled + 1, cells)
            enrolled += 1
        fut = counts[None, :, None] <= stop_le[:, j, None, None]
        tox = counts[None, None, :] >= stop_ge[:, j, None, None]
        futility[:, j] = np.where(fut, state, 0.0).sum(axis=(1, 2))
        toxicity[:, j] = np.where(tox, state, 0.0).sum(axis=(1, 2))
        either = fut | tox
        stop[:, j] = np.where(either, state, 0.0).sum(axis=(1, 2))
        state = np.where(either, 0.0, state)
    return PathSums(stop, futility, toxicity, state.sum(axis=(1, 2)))
