"""TITE-BOIN12's formulas as array functions over many trials at once (boin12.md §8).

Effective sample sizes, observed counts and imputed utility points per dose
(:func:`tite_arrays`, one compiled loop over patients in entry order), eliminations
(:func:`tite_eliminations`), desirabilities (:func:`tite_desirability`), the ESS-based DLT rate
(:func:`tite_p_hat`) and the accrual-suspension test (:func:`tite_suspended`).
:class:`dosewise.design.tite.TiteBoin12` calls them for one trial and the simulation engine for
a chunk of trials, so both compute the same numbers bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from dosewise.design.admissibility import futile, prob_tox_above_target
from dosewise.design.kernel import kernel
from dosewise.design.params import U01, U10, Boin12Params
from dosewise.design.utility import desirability

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


def imputed_probability(p_hat: Any, fraction: Any) -> Any:
    """Pr(event still occurs | none by follow-up fraction w), uniform event times (§8).

    Works on floats and on NumPy arrays alike.
    """
    return p_hat * (1.0 - fraction) / (1.0 - p_hat * fraction)


@dataclass(frozen=True, slots=True)
class TiteArrays:
    """Effective data per dose for B trials: arrays of shape (B, J)."""

    n: IntArray
    dlt: IntArray  # observed DLTs
    ess_tox: FloatArray
    response: IntArray  # observed responses
    ess_eff: FloatArray
    points: FloatArray  # Σ expected utility points; quasi-events x̃ = points / 100
    pending: IntArray  # patients with either outcome pending


@kernel
def _tite_kernel(
    dose: IntArray,
    follow_up: FloatArray,
    dlt: BoolArray,
    response: BoolArray,
    tox_pending: BoolArray,
    eff_pending: BoolArray,
    tox_window: float,
    eff_window: float,
    u: FloatArray,
    n: IntArray,
    dlt_n: IntArray,
    resp_n: IntArray,
    ess_t: FloatArray,
    ess_e: FloatArray,
    pending: IntArray,
    points: FloatArray,
) -> None:  # pragma: no cover - compiled; covered through tite_arrays
    """Per-dose sums of §8, patients added in entry order (``u`` = u00, u01, u10, u11)."""
    batch, slots = dose.shape
    for b in range(batch):
        for i in range(slots):
            d = dose[b, i]
            if d < 0:
                continue
            n[b, d] += 1
            if dlt[b, i]:
                dlt_n[b, d] += 1
            if response[b, i]:
                resp_n[b, d] += 1
            ess_t[b, d] += min(follow_up[b, i] / tox_window, 1.0) if tox_pending[b, i] else 1.0
            ess_e[b, d] += min(follow_up[b, i] / eff_window, 1.0) if eff_pending[b, i] else 1.0
            if tox_pending[b, i] or eff_pending[b, i]:
                pending[b, d] += 1
        for i in range(slots):
            d = dose[b, i]
            if d < 0:
                continue
            t = 1.0 if dlt[b, i] else 0.0
            e = 1.0 if response[b, i] else 0.0
            if tox_pending[b, i]:
                p_t = dlt_n[b, d] / ess_t[b, d] if ess_t[b, d] > 0 else 0.0
                w = follow_up[b, i] / tox_window
                t = p_t * (1.0 - w) / (1.0 - p_t * w)
            if eff_pending[b, i]:
                p_e = resp_n[b, d] / ess_e[b, d] if ess_e[b, d] > 0 else 0.0
                w = follow_up[b, i] / eff_window
                e = p_e * (1.0 - w) / (1.0 - p_e * w)
            points[b, d] += (
                u[1] * (1 - t) * e + u[0] * (1 - t) * (1 - e) + u[3] * t * e + u[2] * t * (1 - e)
            )


def tite_arrays(
    dose: IntArray,
    follow_up: FloatArray,
    dlt: BoolArray,
    response: BoolArray,
    tox_pending: BoolArray,
    eff_pending: BoolArray,
    params: Boin12Params,
    tox_window: float,
    eff_window: float,
) -> TiteArrays:
    """Per-dose ESS, observed counts, imputed utility points and pending counts (§8).

    Inputs are (B, P) patient arrays in entry order: 0-based ``dose`` (-1 marks an empty slot),
    ``follow_up`` in days, observed ``dlt``/``response`` so far, and whether each outcome is
    still pending. ESS counts a complete outcome as 1 and a pending one as its follow-up
    fraction w; a pending outcome is imputed as q = p̂ (1 − w) / (1 − p̂ w) with the dose's
    interim rate p̂ = observed / ESS; each patient adds the expected utility
    100(1−t)e + u00(1−t)(1−e) + u11·t·e + 0·t(1−e) to the dose's points (x̃ = points / 100).
    The sums run over patients in entry order (a compiled loop), so a trial gives the same
    numbers alone or in a padded batch.
    """
    batch, n_doses = dose.shape[0], params.n_doses
    shape = (batch, n_doses)
    out = TiteArrays(
        n=np.zeros(shape, dtype=np.int64),
        dlt=np.zeros(shape, dtype=np.int64),
        ess_tox=np.zeros(shape),
        response=np.zeros(shape, dtype=np.int64),
        ess_eff=np.zeros(shape),
        points=np.zeros(shape),
        pending=np.zeros(shape, dtype=np.int64),
    )
    _tite_kernel.run(
        batch,
        np.ascontiguousarray(dose, dtype=np.int64),
        np.ascontiguousarray(follow_up, dtype=np.float64),
        np.ascontiguousarray(dlt, dtype=np.bool_),
        np.ascontiguousarray(response, dtype=np.bool_),
        np.ascontiguousarray(tox_pending, dtype=np.bool_),
        np.ascontiguousarray(eff_pending, dtype=np.bool_),
        float(tox_window),
        float(eff_window),
        np.array([params.u00, U01, U10, params.u11], dtype=np.float64),
        out.n,
        out.dlt,
        out.response,
        out.ess_tox,
        out.ess_eff,
        out.pending,
        out.points,
    )
    return out


def tite_eliminations(
    data: TiteArrays,
    previously: BoolArray,
    params: Boin12Params,
    unchanged: BoolArray | None = None,
) -> tuple[BoolArray, BoolArray, BoolArray]:
    """(toxicity-eliminated incl. propagation, futility-eliminated, dose 1 too toxic), (B, J).

    Toxicity: observed DLTs against the full n, n > ``tite_tox_elim_n_gt``, at least
    ``tox_elim_min_dlt`` DLTs; futility: observed responses against ESS_E, no minimum n. Doses
    in ``previously`` stay eliminated (counted with futility; the caller keeps the reason).
    ``unchanged`` (optional) marks cells whose n, responses and ESS_E are identical to the
    evaluation that produced ``previously``: they were not futile then, so they are not now
    (a simulation saves the Beta evaluations; the result is the same).
    """
    p = params
    candidate = (data.n > p.tite_tox_elim_n_gt) & (data.dlt >= p.tox_elim_min_dlt)
    own_tox = np.zeros_like(candidate)
    if candidate.any():
        own_tox[candidate] = (
            prob_tox_above_target(data.n[candidate], data.dlt[candidate], p.phi_t) > p.c_t
        )
    fut = previously.copy()
    check = (data.n > 0) & ~previously
    if unchanged is not None:
        check &= ~unchanged
    if check.any():
        fut[check] = futile(
            data.ess_eff[check], data.response[check].astype(np.float64), p, min_n=0
        )
    tox = np.logical_or.accumulate(own_tox, axis=1)
    return tox, fut, own_tox[:, 0].copy()


def tite_desirability(
    data: TiteArrays,
    eliminated: BoolArray,
    params: Boin12Params,
    earlier: FloatArray | None = None,
    unchanged: BoolArray | None = None,
) -> FloatArray:
    """Pr(U > u_b) per dose from x̃ over n treated; the prior if untried, 0 if eliminated.

    ``earlier``/``unchanged`` (optional): values of an earlier evaluation and the cells whose n
    and points are identical to it; those cells keep their earlier value (same inputs, same
    result), which saves Beta evaluations in simulations.
    """
    prior = float(desirability(0.0, 0.0, params))
    out = np.where(eliminated, 0.0, prior)
    tried = (data.n > 0) & ~eliminated
    if earlier is not None and unchanged is not None:
        keep = tried & unchanged
        out[keep] = earlier[keep]
        tried &= ~unchanged
    if tried.any():
        out[tried] = desirability(data.n[tried], data.points[tried], params)
    return np.asarray(out, dtype=np.float64)


def tite_p_hat(data: TiteArrays, current: IntArray) -> FloatArray:
    """ESS-based DLT rate at each trial's current dose (0 when the ESS is 0)."""
    rows = np.arange(current.shape[0])
    dlt = data.dlt[rows, current].astype(np.float64)
    ess = data.ess_tox[rows, current]
    return np.asarray(np.divide(dlt, ess, out=np.zeros_like(ess), where=ess > 0))


def tite_suspended(data: TiteArrays, current: IntArray, params: Boin12Params) -> BoolArray:
    """Accrual must wait: more than maxpen · n_d patients at the current dose are pending."""
    rows = np.arange(current.shape[0])
    n_cur = data.n[rows, current]
    return np.asarray(
        (data.pending[rows, current] > params.maxpen * n_cur) & (n_cur < params.max_n)
    )
