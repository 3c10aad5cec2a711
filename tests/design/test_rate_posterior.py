"""The Beta posterior of a dose's DLT or response rate: the elimination rules' prior
(``RATE_PRIOR``), the credible intervals the arm page shows, and the elimination probabilities
computed from the same posterior."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from dosewise.design.admissibility import (
    RATE_PRIOR,
    prob_eff_below_target,
    prob_tox_above_target,
    rate_posterior,
)

CASES = [(0, 0), (3, 0), (3, 1), (3, 3), (6, 2), (12, 5), (4.5, 1)]


@pytest.mark.parametrize(("n", "y"), CASES)
def test_the_interval_is_the_beta_posteriors(n: float, y: int) -> None:
    a, b = RATE_PRIOR[0] + y, RATE_PRIOR[1] + n - y
    mean, lower, upper = rate_posterior(n, y, 0.95)
    assert float(mean) == pytest.approx(stats.beta.mean(a, b), abs=1e-12)
    assert (float(lower), float(upper)) == pytest.approx(stats.beta.interval(0.95, a, b), abs=1e-10)
    assert lower < mean < upper


def test_elimination_probabilities_use_the_same_posterior() -> None:
    n = np.array([n for n, _ in CASES], dtype=float)
    y = np.array([y for _, y in CASES], dtype=float)
    a, b = RATE_PRIOR[0] + y, RATE_PRIOR[1] + n - y
    assert prob_tox_above_target(n, y, 0.35) == pytest.approx(stats.beta.sf(0.35, a, b), abs=1e-12)
    assert prob_eff_below_target(n, y, 0.25) == pytest.approx(stats.beta.cdf(0.25, a, b), abs=1e-12)
    # Three DLTs of three: Pr(p_T > 0.35) = 1 - 0.35^4 under Beta(4, 1).
    assert float(prob_tox_above_target(3, 3, 0.35)) == pytest.approx(1 - 0.35**4)


def test_wider_with_a_higher_level_and_refuses_a_bad_one() -> None:
    _, lo90, hi90 = rate_posterior(6, 2, 0.90)
    _, lo95, hi95 = rate_posterior(6, 2, 0.95)
    assert lo95 < lo90 and hi90 < hi95
    with pytest.raises(ValueError, match="level"):
        rate_posterior(6, 2, 1.0)
