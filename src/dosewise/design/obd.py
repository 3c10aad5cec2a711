"""OBD selection at the end of a trial (boin12.md §7, the authors' rule).

1. Isotonic toxicity: observed rates (φT for untried doses), weighted PAVA with weights
   1 / Var[Beta(y + 0.05, n - y + 0.05)], non-decreasing in dose; +0.001·j breaks ties.
2. MTD = the dose whose isotonic estimate is closest to φT (lowest index on a tie).
3. Posterior-mean utility (a + x) / (a + b + n) for each dose.
4. Eliminated and untried doses are excluded.
5. OBD = the dose with the highest posterior-mean utility among doses 1..MTD (lowest on a
   tie); none when every dose up to the MTD is excluded (the authors' R code would return dose 1
   there: a documented divergence).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import isotonic_regression

from dosewise.design.params import Boin12Params
from dosewise.design.utility import posterior_mean_utility

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Tie-breaking jitter added to the j-th (1-based) isotonic estimate.
JITTER = 0.001


@dataclass(frozen=True, slots=True)
class ObdDose:
    """One dose's row in the OBD selection (1-based dose)."""

    dose: int
    n: int
    tox: int
    eff: int
    tox_isotonic: float
    utility_mean: float
    eligible: bool


@dataclass(frozen=True, slots=True)
class ObdResult:
    """The selected OBD and MTD (1-based; None when there is none) with the per-dose table."""

    obd: int | None
    mtd: int
    doses: tuple[ObdDose, ...]
    reason: str

    def to_dict(self) -> dict[str, object]:
        """The JSON shape of ``dosewise obd``."""
        return {
            "obd": self.obd,
            "mtd": self.mtd,
            "doses": [
                {
                    "dose": d.dose,
                    "n": d.n,
                    "tox": d.tox,
                    "eff": d.eff,
                    "tox_isotonic": round(d.tox_isotonic, 10),
                    "utility_mean": round(d.utility_mean, 10),
                    "eligible": d.eligible,
                }
                for d in self.doses
            ],
            "reason": self.reason,
        }


def isotonic_toxicity(n: IntArray, tox: IntArray, phi_t: float) -> FloatArray:
    """Weighted PAVA of DLT rates, untried doses entering at φT (no tie-breaking jitter)."""
    nf = n.astype(np.float64)
    yf = tox.astype(np.float64)
    rate = np.where(n > 0, yf / np.maximum(nf, 1.0), phi_t)
    variance = (yf + 0.05) * (nf - yf + 0.05) / ((nf + 0.1) ** 2 * (nf + 1.1))
    fitted = isotonic_regression(rate, weights=1.0 / variance, increasing=True).x
    return np.asarray(fitted, dtype=np.float64)


def select_obd(
    n: IntArray,
    tox: IntArray,
    eff: IntArray,
    points: FloatArray,
    eliminated: BoolArray,
    params: Boin12Params,
) -> ObdResult:
    """Select the OBD from final per-dose data (0-based arrays; result 1-based)."""
    n_doses = len(n)
    iso = isotonic_toxicity(n, tox, params.phi_t)
    jittered = iso + JITTER * np.arange(1, n_doses + 1)
    mtd_index = int(np.argmin(np.abs(jittered - params.phi_t)))
    utility = np.asarray(posterior_mean_utility(n, points, params), dtype=np.float64)
    eligible = (n > 0) & ~eliminated
    ranked = np.where(eligible, utility, -np.inf)[: mtd_index + 1]
    doses = tuple(
        ObdDose(
            dose=j + 1,
            n=int(n[j]),
            tox=int(tox[j]),
            eff=int(eff[j]),
            tox_isotonic=float(iso[j]),
            utility_mean=float(utility[j]),
            eligible=bool(eligible[j]),
        )
        for j in range(n_doses)
    )
    if not np.isfinite(ranked).any():
        reason = (
            f"No OBD: no tried, non-eliminated dose at or below the estimated MTD "
            f"(dose {mtd_index + 1}, isotonic DLT rate {iso[mtd_index]:.3f} closest to "
            f"φT = {params.phi_t})."
        )
        return ObdResult(None, mtd_index + 1, doses, reason)
    obd_index = int(np.argmax(ranked))
    reason = (
        f"Estimated MTD is dose {mtd_index + 1} (isotonic DLT rate {iso[mtd_index]:.3f} closest "
        f"to φT = {params.phi_t}); among tried, non-eliminated doses up to it, dose "
        f"{obd_index + 1} has the highest posterior-mean utility {utility[obd_index]:.3f}."
    )
    return ObdResult(obd_index + 1, mtd_index + 1, doses, reason)
