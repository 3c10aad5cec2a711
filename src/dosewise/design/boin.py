"""BOIN toxicity boundaries (Liu & Yuan 2015; R package BOIN ``get.boundary``).

λe and λd are the escalation and de-escalation boundaries on the observed DLT rate; the count
forms ``escalate if #DLT <= floor(λe n)`` and ``de-escalate if #DLT >= ceil(λd n)`` are
equivalent (boin12.md §2). BOIN's elimination count is the smallest #DLT with
Pr(p > φ | data) > cut-off under a Beta(1, 1) prior, for n >= 3.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import special

from dosewise.errors import InvalidParameter


@dataclass(frozen=True, slots=True)
class BoinBoundaries:
    """The two BOIN rate boundaries for a target φ."""

    target: float
    phi1: float
    phi2: float
    lambda_e: float
    lambda_d: float


def boin_boundaries(
    target: float, phi1: float | None = None, phi2: float | None = None
) -> BoinBoundaries:
    """λe and λd for target φ; φ1 defaults to 0.6 φ and φ2 to 1.4 φ (boin12.md §2)."""
    if not (isinstance(target, int | float) and 0 < target < 1):
        raise InvalidParameter("target", target, "must be a number in (0, 1)")
    phi1 = 0.6 * target if phi1 is None else phi1
    phi2 = 1.4 * target if phi2 is None else phi2
    if not 0 < phi1 < target:
        raise InvalidParameter("phi1", phi1, f"must be in (0, target={target})")
    if not target < phi2 < 1:
        raise InvalidParameter("phi2", phi2, f"must be in (target={target}, 1)")
    lambda_e = math.log((1 - phi1) / (1 - target)) / math.log(
        target * (1 - phi1) / (phi1 * (1 - target))
    )
    lambda_d = math.log((1 - target) / (1 - phi2)) / math.log(
        phi2 * (1 - target) / (target * (1 - phi2))
    )
    return BoinBoundaries(target, phi1, phi2, lambda_e, lambda_d)


def prob_tox_above(n: int, tox: int, target: float) -> float:
    """Pr(p_T > target | tox of n) under a Beta(1, 1) prior."""
    # Beta survival through the symmetric CDF: SciPy's betaincc is slow (stack.md).
    return float(special.betainc(n - tox + 1.0, tox + 1.0, 1.0 - target))


def elimination_count(
    n: int, target: float, cutoff: float = 0.95, min_n: int = 3, min_tox: int = 1
) -> int | None:
    """Smallest #DLT of n that eliminates a dose, or None (BOIN: min_tox=1; BOIN12: 3)."""
    if n < min_n:
        return None
    for tox in range(max(min_tox, 0), n + 1):
        if prob_tox_above(n, tox, target) > cutoff:
            return tox
    return None


@dataclass(frozen=True, slots=True)
class BoundaryRow:
    """One row of a BOIN boundary table: the count rules at n patients."""

    n: int
    escalate_if_tox_le: int
    deescalate_if_tox_ge: int
    eliminate_if_tox_ge: int | None


def escalate_count(n: int, lambda_e: float) -> int:
    """Largest #DLT of n in the escalation zone (rate <= λe); -1 if none."""
    return math.floor(lambda_e * n + 1e-12)


def deescalate_count(n: int, lambda_d: float) -> int:
    """Smallest #DLT of n in the de-escalation zone (rate >= λd)."""
    return math.ceil(lambda_d * n - 1e-12)


def boundary_table(
    target: float,
    max_n: int,
    cutoff: float = 0.95,
    min_n: int = 3,
    min_tox: int = 1,
    phi1: float | None = None,
    phi2: float | None = None,
) -> tuple[BoinBoundaries, tuple[BoundaryRow, ...]]:
    """The BOIN count table for n = 1..max_n (BOIN's elimination has min_tox=1)."""
    if isinstance(max_n, bool) or not isinstance(max_n, int) or max_n < 1:
        raise InvalidParameter("max_n", max_n, "must be a whole number >= 1")
    bounds = boin_boundaries(target, phi1, phi2)
    rows = tuple(
        BoundaryRow(
            n=n,
            escalate_if_tox_le=escalate_count(n, bounds.lambda_e),
            deescalate_if_tox_ge=deescalate_count(n, bounds.lambda_d),
            eliminate_if_tox_ge=elimination_count(n, target, cutoff, min_n, min_tox),
        )
        for n in range(1, max_n + 1)
    )
    return bounds, rows
