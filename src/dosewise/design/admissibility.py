"""Admissibility: toxicity and futility elimination (boin12.md §4, authors' rules).

A dose is eliminated for toxicity when n >= elim_min_n, #DLT >= tox_elim_min_dlt and
Pr(p_T > φT | data) > c_T; that elimination takes every higher dose with it. A dose is
eliminated for futility when n >= elim_min_n and Pr(p_E < φE | data) > c_E; only that dose goes.
Both use a Beta(1, 1) prior (:data:`RATE_PRIOR`), strict comparisons, and are permanent.
Functions work on scalars and on NumPy arrays alike, so the simulation engine shares them. The
same posterior Beta(1 + y, 1 + n - y) gives the credible intervals the arm page shows
(:func:`rate_posterior`).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import special

from dosewise.design.params import Boin12Params

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]

#: The Beta(a, b) prior of a dose's DLT and response probabilities in the elimination rules.
RATE_PRIOR = (1.0, 1.0)


def _posterior(n: npt.ArrayLike, events: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """(a, b) of the Beta posterior after ``events`` of ``n`` under :data:`RATE_PRIOR`."""
    nn = np.asarray(n, dtype=np.float64)
    y = np.asarray(events, dtype=np.float64)
    return y + RATE_PRIOR[0], nn - y + RATE_PRIOR[1]


def rate_posterior(
    n: npt.ArrayLike, events: npt.ArrayLike, level: float = 0.95
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Posterior mean and equal-tailed ``level`` credible interval (lower, upper) of a rate
    after ``events`` of ``n`` (the elimination rules' prior; n = 0 gives the prior's)."""
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be between 0 and 1, not {level}")
    a, b = _posterior(n, events)
    tail = (1.0 - level) / 2.0
    mean = a / (a + b)
    lower = special.betaincinv(a, b, tail)
    upper = special.betaincinv(a, b, 1.0 - tail)
    return (
        np.asarray(mean, dtype=np.float64),
        np.asarray(lower, dtype=np.float64),
        np.asarray(upper, dtype=np.float64),
    )


def prob_tox_above_target(
    n: npt.ArrayLike, tox: npt.ArrayLike, phi_t: float
) -> npt.NDArray[np.float64]:
    """Pr(p_T > φT | tox of n), Beta(1, 1) prior; n may be an effective (non-integer) size."""
    a, b = _posterior(n, tox)
    return np.asarray(special.betainc(b, a, 1.0 - phi_t))


def prob_eff_below_target(
    n: npt.ArrayLike, eff: npt.ArrayLike, phi_e: float
) -> npt.NDArray[np.float64]:
    """Pr(p_E < φE | eff of n), Beta(1, 1) prior; n may be an effective (non-integer) size."""
    a, b = _posterior(n, eff)
    return np.asarray(special.betainc(a, b, phi_e))


def too_toxic(
    n: npt.ArrayLike, tox: npt.ArrayLike, params: Boin12Params, min_n: int | None = None
) -> BoolArray:
    """Whether a dose meets the toxicity-elimination rule (before propagation upward)."""
    floor_n = params.elim_min_n if min_n is None else min_n
    n_arr = np.asarray(n)
    tox_arr = np.asarray(tox)
    return np.asarray(
        (n_arr >= floor_n)
        & (tox_arr >= params.tox_elim_min_dlt)
        & (prob_tox_above_target(n_arr, tox_arr, params.phi_t) > params.c_t)
    )


def futile(
    n: npt.ArrayLike, eff: npt.ArrayLike, params: Boin12Params, min_n: int | None = None
) -> BoolArray:
    """Whether a dose meets the futility-elimination rule."""
    floor_n = params.elim_min_n if min_n is None else min_n
    n_arr = np.asarray(n)
    return np.asarray(
        (n_arr >= floor_n) & (prob_eff_below_target(n_arr, eff, params.phi_e) > params.c_e)
    )


def propagate_upward(tox_flags: BoolArray) -> BoolArray:
    """Toxicity elimination of dose j eliminates every higher dose too (last axis = dose)."""
    return np.asarray(np.logical_or.accumulate(tox_flags, axis=-1))
