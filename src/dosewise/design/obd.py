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

from dosewise.design.isotonic import isotonic_rows
from dosewise.design.params import Boin12Params
from dosewise.design.reasons import Param, ReasonCode, Why
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
    why: Why

    @property
    def reason(self) -> str:
        """The reason in English (the text ``dosewise obd`` prints)."""
        return self.why.text("en")

    def to_dict(self, lang: str = "en") -> dict[str, object]:
        """The JSON shape of ``dosewise obd`` (``reason`` in ``lang``)."""
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
            "reason": self.why.text(lang),
            "reason_code": str(self.why.code),
            "reason_params": self.why.params_dict(),
        }


def isotonic_toxicity(n: IntArray, tox: IntArray, phi_t: float) -> FloatArray:
    """Weighted PAVA of DLT rates, untried doses entering at φT (no tie-breaking jitter).

    Works on one trial (shape (J,)) or many (shape (B, J)), in one compiled pass
    (:func:`dosewise.design.isotonic.isotonic_rows`; SciPy's ``isotonic_regression`` is its
    reference in the tests).
    """
    nf = np.asarray(n, dtype=np.float64)
    yf = np.asarray(tox, dtype=np.float64)
    rate = np.where(nf > 0, yf / np.maximum(nf, 1.0), phi_t)
    weight = ((nf + 0.1) ** 2 * (nf + 1.1)) / ((yf + 0.05) * (nf - yf + 0.05))
    return isotonic_rows(rate, weight)


@dataclass(frozen=True, slots=True)
class ObdBatch:
    """OBD selection for B trials (0-based; -1 = no OBD)."""

    obd: npt.NDArray[np.int64]
    mtd: npt.NDArray[np.int64]
    tox_isotonic: FloatArray
    utility_mean: FloatArray
    eligible: BoolArray


def select_obd_batch(
    n: IntArray,
    tox: IntArray,
    points: FloatArray,
    eliminated: BoolArray,
    params: Boin12Params,
) -> ObdBatch:
    """The OBD rule (steps 1-5 above) for B trials at once: arrays of shape (B, J)."""
    n = np.atleast_2d(n)
    n_doses = n.shape[1]
    iso = isotonic_toxicity(n, np.atleast_2d(tox), params.phi_t)
    jittered = iso + JITTER * np.arange(1, n_doses + 1)
    mtd = np.argmin(np.abs(jittered - params.phi_t), axis=1)
    utility = np.asarray(posterior_mean_utility(n, np.atleast_2d(points), params))
    eligible = (n > 0) & ~np.atleast_2d(eliminated)
    allowed = eligible & (np.arange(n_doses) <= mtd[:, None])
    ranked = np.where(allowed, utility, -np.inf)
    obd = np.where(allowed.any(axis=1), np.argmax(ranked, axis=1), -1)
    return ObdBatch(obd.astype(np.int64), mtd.astype(np.int64), iso, utility, eligible)


def select_obd(
    n: IntArray,
    tox: IntArray,
    eff: IntArray,
    points: FloatArray,
    eliminated: BoolArray,
    params: Boin12Params,
) -> ObdResult:
    """Select the OBD from one trial's final per-dose data (0-based arrays; result 1-based)."""
    batch = select_obd_batch(n[None, :], tox[None, :], points[None, :], eliminated[None, :], params)
    iso, utility, eligible = batch.tox_isotonic[0], batch.utility_mean[0], batch.eligible[0]
    mtd_index, obd_index = int(batch.mtd[0]), int(batch.obd[0])
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
        for j in range(len(n))
    )
    common: dict[str, Param] = {
        "mtd": mtd_index + 1,
        "mtd_tox": float(iso[mtd_index]),
        "phi_t": params.phi_t,
    }
    if obd_index < 0:
        return ObdResult(None, mtd_index + 1, doses, Why(ReasonCode.OBD_NONE, common))
    why = Why(
        ReasonCode.OBD_SELECTED,
        {**common, "obd": obd_index + 1, "utility": float(utility[obd_index])},
    )
    return ObdResult(obd_index + 1, mtd_index + 1, doses, why)
