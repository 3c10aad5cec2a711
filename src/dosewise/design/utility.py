"""BOIN12 utility: the benchmark u_b, quasi-binomial posterior and desirability (boin12.md §3).

Each patient scores u(0,1)=100, u(1,1)=u11, u(0,0)=u00 or u(1,0)=0. The summed score over the
patients at a dose, divided by 100, is a count of quasi-events x; U | data ~ Beta(a + x,
b + n - x). Desirability is Pr(U > u_b / 100 | data). Scores are summed from joint counts in
utility points and divided by 100 only inside the Beta function, so equal data give exact ties.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import special

from dosewise.design.params import U01, U10, Boin12Params

FloatArray = npt.NDArray[np.float64]


def mean_utility(p_tox: float, p_eff: float, u11: float, u00: float) -> float:
    """Mean utility of a dose with independent toxicity and efficacy probabilities."""
    return (
        U01 * (1 - p_tox) * p_eff
        + u00 * (1 - p_tox) * (1 - p_eff)
        + u11 * p_tox * p_eff
        + U10 * p_tox * (1 - p_eff)
    )


def benchmark_utility(params: Boin12Params) -> float:
    """u_b: halfway between the utility of the highest unacceptable dose and 100 (§3.2)."""
    u_bar = mean_utility(params.phi_t, params.phi_e, params.u11, params.u00)
    return u_bar + (100.0 - u_bar) / 2.0


def score(
    m00: npt.ArrayLike,
    m01: npt.ArrayLike,
    m10: npt.ArrayLike,
    m11: npt.ArrayLike,
    params: Boin12Params,
) -> FloatArray:
    """Summed utility points of the patients at a dose, from joint counts (§3.3)."""
    return np.asarray(
        U01 * np.asarray(m01)
        + params.u11 * np.asarray(m11)
        + params.u00 * np.asarray(m00)
        + U10 * np.asarray(m10),
        dtype=np.float64,
    )


def desirability(n: npt.ArrayLike, points: npt.ArrayLike, params: Boin12Params) -> FloatArray:
    """Pr(U > u_b/100 | n patients with summed utility ``points``) (§3.4; n = 0 gives the prior)."""
    x = np.asarray(points, dtype=np.float64) / 100.0
    nn = np.asarray(n, dtype=np.float64)
    u_b = benchmark_utility(params) / 100.0
    # Pr(Beta(a, b) > c) = I_{1-c}(b, a): the symmetric CDF is exact and fast (stack.md).
    return np.asarray(
        special.betainc(params.prior_b + nn - x, params.prior_a + x, 1.0 - u_b), dtype=np.float64
    )


def posterior_mean_utility(
    n: npt.ArrayLike, points: npt.ArrayLike, params: Boin12Params
) -> FloatArray:
    """Posterior mean of U, (a + x) / (a + b + n): the OBD criterion (§7 step 3)."""
    x = np.asarray(points, dtype=np.float64) / 100.0
    total = params.prior_a + params.prior_b + np.asarray(n, dtype=np.float64)
    return np.asarray((params.prior_a + x) / total, dtype=np.float64)
