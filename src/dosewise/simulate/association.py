"""Joint toxicity-efficacy probabilities from marginals and an association model (§9.1).

- ``gumbel``: the Farlie-Gumbel-Morgenstern form of the authors' code and EffTox,
  π(a,b) = product of marginals + (-1)^(a+b) p_E(1-p_E)p_T(1-p_T) tanh(ρ/2);
- ``normal``: a latent bivariate normal with correlation ρ (the seamless-design copy, S4);
- ``odds_ratio``: the Plackett model with a global odds ratio ψ.

Cells are returned per dose in the order N, E, T, B (no DLT no response, response only, DLT
only, both).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

from dosewise.errors import InvalidInput

CorrelationModel = Literal["gumbel", "normal", "odds_ratio", "joint"]
#: Outcome letters in the order of the joint cells (toxicity, efficacy): 00, 01, 10, 11.
CELLS = ("N", "E", "T", "B")


def joint_from_marginals(
    p_tox: Sequence[float],
    p_eff: Sequence[float],
    model: CorrelationModel = "gumbel",
    value: float = 0.0,
) -> tuple[tuple[float, float, float, float], ...]:
    """Joint (N, E, T, B) probabilities per dose from marginals and an association model."""
    if len(p_tox) != len(p_eff):
        raise InvalidInput("p_eff", list(p_eff), f"must have as many doses as p_tox ({len(p_tox)})")
    rows: list[tuple[float, float, float, float]] = []
    for j, (pt, pe) in enumerate(zip(p_tox, p_eff, strict=True)):
        both = _both(pt, pe, model, value, j)
        cells = (1.0 - pt - pe + both, pe - both, pt - both, both)
        for cell, c in zip(CELLS, cells, strict=True):
            if c < -1e-12:
                name = "rho" if model in ("gumbel", "normal") else "odds_ratio"
                raise InvalidInput(
                    name,
                    value,
                    f"makes the {cell} cell of dose {j + 1} negative ({c:.4g}) with "
                    f"p_tox={pt}, p_eff={pe}: choose a weaker association",
                )
        p00, p01, p10, p11 = (max(c, 0.0) for c in cells)
        rows.append((p00, p01, p10, p11))
    return tuple(rows)


def _both(pt: float, pe: float, model: CorrelationModel, value: float, j: int) -> float:
    """P(toxicity and efficacy) at one dose under the association model."""
    if model == "gumbel":
        return pt * pe + pe * (1 - pe) * pt * (1 - pt) * math.tanh(value / 2.0)
    if model == "normal":
        if not -1.0 < value < 1.0:
            raise InvalidInput("rho", value, "must be in (-1, 1) for the normal model")
        if min(pt, pe) == 0.0 or max(pt, pe) == 1.0 or value == 0.0:
            return pt * pe
        from scipy.stats import multivariate_normal, norm

        z = [float(norm.ppf(pt)), float(norm.ppf(pe))]
        cov = [[1.0, value], [value, 1.0]]
        return float(multivariate_normal(mean=[0.0, 0.0], cov=cov).cdf(z))
    if model == "odds_ratio":
        if not value > 0:
            raise InvalidInput("odds_ratio", value, "must be > 0")
        if abs(value - 1.0) < 1e-12:
            return pt * pe
        a = 1.0 + (pt + pe) * (value - 1.0)
        disc = a * a - 4.0 * value * (value - 1.0) * pt * pe
        return (a - math.sqrt(max(disc, 0.0))) / (2.0 * (value - 1.0))
    raise InvalidInput("correlation.model", model, "must be gumbel, normal or odds_ratio")
