"""TITE-BOIN12: decisions with pending outcomes (boin12.md §8, approximated likelihood).

Each patient at decision time has a follow-up (days since infusion), whether a DLT and a response
have been observed so far, and optionally whether a non-event is already final (e.g. progression
confirms non-response before the window ends). A toxicity outcome is pending while follow-up <
τ_T with no DLT; likewise efficacy with τ_E. Per dose:

- ESS = complete patients + Σ follow-up fractions of pending ones; p̂ = observed events / ESS.
- A pending outcome is imputed as q = p̂ (1 − w) / (1 − p̂ w), w = follow-up fraction, and the
  quasi-event count x̃ sums each patient's expected utility / 100; desirability uses Beta(a + x̃,
  b + n − x̃) with n the patients treated.
- Toxicity elimination: observed DLTs against the full n, n > 3 (authors' TITE code); futility:
  observed responses against ESS_E, no minimum n. Both re-evaluated for every tried dose at each
  decision and permanent (pass earlier eliminations back in).
- Accrual is suspended while more than maxpen · n_d patients at the current dose have an outcome
  pending; the decision then says how long to wait at most.

The formulas are array functions over many trials at once (:func:`tite_arrays`,
:func:`tite_eliminations`, :func:`tite_desirability`, :func:`tite_p_hat`,
:func:`tite_suspended`): :class:`TiteBoin12` calls them for one trial and the simulation engine
for a chunk of trials, so both compute the same numbers bit for bit. Per-dose sums run over
patients in entry order (a compiled loop), whatever the batch shape.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from dosewise.design.admissibility import futile, prob_tox_above_target
from dosewise.design.boin12 import Boin12, Decision, TrialState
from dosewise.design.kernel import kernel
from dosewise.design.outcomes import DoseCounts
from dosewise.design.params import U01, U10, Boin12Params
from dosewise.design.rule import decide_batch
from dosewise.design.utility import desirability
from dosewise.errors import InvalidOutcomes, InvalidParameter

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class TitePatient:
    """A patient at decision time (1-based dose; follow-up in days since infusion)."""

    dose: int
    follow_up: float
    dlt: bool = False
    response: bool = False
    dlt_final: bool = False  # no-DLT confirmed before the window ends
    response_final: bool = False  # non-response confirmed before the window ends

    def tox_pending(self, window: float) -> bool:
        """Toxicity outcome not yet known."""
        return not self.dlt and not self.dlt_final and self.follow_up < window

    def eff_pending(self, window: float) -> bool:
        """Efficacy outcome not yet known."""
        return not self.response and not self.response_final and self.follow_up < window


def _check_patients(patients: Sequence[TitePatient], n_doses: int) -> None:
    for i, p in enumerate(patients):
        if isinstance(p.dose, bool) or not isinstance(p.dose, int) or not 1 <= p.dose <= n_doses:
            raise InvalidOutcomes(f"patients[{i}].dose", p.dose, f"must be from 1 to {n_doses}")
        if not (isinstance(p.follow_up, int | float) and math.isfinite(p.follow_up)):
            raise InvalidOutcomes(f"patients[{i}].follow_up", p.follow_up, "must be a number")
        if p.follow_up < 0:
            raise InvalidOutcomes(f"patients[{i}].follow_up", p.follow_up, "must be >= 0 days")


@dataclass(frozen=True, slots=True)
class TiteDoseState:
    """Effective data at one dose (1-based)."""

    dose: int
    n: int
    dlt_observed: int
    ess_tox: float
    response_observed: int
    ess_eff: float
    quasi_events: float
    pending: int


@dataclass(frozen=True, slots=True)
class TiteDecision:
    """A TITE-BOIN12 decision: the BOIN12 decision plus the accrual-suspension verdict."""

    decision: Decision | None
    wait: bool
    wait_days_max: float | None
    pending_at_current: int
    pending_limit: float
    eliminated: tuple[int, ...]
    doses: tuple[TiteDoseState, ...]
    reason: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON view: the decide shape plus ``wait`` and the per-dose effective data."""
        base: dict[str, Any] = (
            self.decision.to_dict()
            if self.decision is not None
            else {
                "next_dose": None,
                "stop": False,
                "admissible": [],
                "desirability": {},
                "tied": [],
            }
        )
        base.update(
            {
                "reason": self.reason,
                "wait": self.wait,
                "wait_days_max": self.wait_days_max,
                "pending_at_current": self.pending_at_current,
                "pending_limit": self.pending_limit,
                "eliminated": list(self.eliminated),
                "doses": [vars_of(d) for d in self.doses],
            }
        )
        base.update(self.details)
        return base


def vars_of(state: TiteDoseState) -> dict[str, Any]:
    """A dose state as a plain dict (floats rounded for display)."""
    return {
        "dose": state.dose,
        "n": state.n,
        "dlt_observed": state.dlt_observed,
        "ess_tox": round(state.ess_tox, 6),
        "response_observed": state.response_observed,
        "ess_eff": round(state.ess_eff, 6),
        "quasi_events": round(state.quasi_events, 6),
        "pending": state.pending,
    }


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


class TiteBoin12:
    """TITE-BOIN12 on top of the BOIN12 rule; windows in days."""

    def __init__(
        self, params: Boin12Params | None = None, tox_window: float = 28.0, eff_window: float = 90.0
    ) -> None:
        for name, value in (("tox_window", tox_window), ("eff_window", eff_window)):
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise InvalidParameter(name, value, "must be a positive number of days")
        self.boin12 = Boin12(params)
        self.params = self.boin12.params
        self.tox_window = float(tox_window)
        self.eff_window = float(eff_window)

    def arrays(self, patients: Sequence[TitePatient]) -> TiteArrays:
        """Per-dose effective data of one trial, as (1, J) arrays (see :func:`tite_arrays`)."""
        _check_patients(patients, self.params.n_doses)
        tau_t, tau_e = self.tox_window, self.eff_window

        def column(values: list[Any], dtype: type) -> Any:
            return np.array([values], dtype=dtype).reshape(1, len(values))

        return tite_arrays(
            dose=column([p.dose - 1 for p in patients], np.int64),
            follow_up=column([float(p.follow_up) for p in patients], np.float64),
            dlt=column([bool(p.dlt) for p in patients], np.bool_),
            response=column([bool(p.response) for p in patients], np.bool_),
            tox_pending=column([p.tox_pending(tau_t) for p in patients], np.bool_),
            eff_pending=column([p.eff_pending(tau_e) for p in patients], np.bool_),
            params=self.params,
            tox_window=tau_t,
            eff_window=tau_e,
        )

    def dose_states(self, patients: Sequence[TitePatient]) -> tuple[TiteDoseState, ...]:
        """ESS, observed counts and imputed quasi-events per dose."""
        return _states(self.arrays(patients))

    def _previously(self, previously: Iterable[int]) -> BoolArray:
        mask = np.zeros((1, self.params.n_doses), dtype=np.bool_)
        for dose in previously:
            if isinstance(dose, bool) or not isinstance(dose, int | np.integer):
                raise InvalidOutcomes("eliminated", dose, "must be a whole dose number")
            if not 1 <= dose <= self.params.n_doses:
                raise InvalidOutcomes(
                    "eliminated", dose, f"must be from 1 to {self.params.n_doses}"
                )
            mask[0, int(dose) - 1] = True
        return mask

    def eliminations(
        self, states: Sequence[TiteDoseState], previously: Iterable[int] = ()
    ) -> tuple[BoolArray, BoolArray, bool]:
        """(toxicity-eliminated incl. propagation, futility-eliminated, dose 1 too toxic)."""
        data = TiteArrays(
            n=np.array([[s.n for s in states]], dtype=np.int64),
            dlt=np.array([[s.dlt_observed for s in states]], dtype=np.int64),
            ess_tox=np.array([[s.ess_tox for s in states]], dtype=np.float64),
            response=np.array([[s.response_observed for s in states]], dtype=np.int64),
            ess_eff=np.array([[s.ess_eff for s in states]], dtype=np.float64),
            points=np.array([[100.0 * s.quasi_events for s in states]], dtype=np.float64),
            pending=np.array([[s.pending for s in states]], dtype=np.int64),
        )
        tox, fut, lowest = tite_eliminations(data, self._previously(previously), self.params)
        return tox[0], fut[0], bool(lowest[0])

    def decide(
        self,
        patients: Sequence[TitePatient],
        eliminated: Iterable[int] = (),
        rng: np.random.Generator | None = None,
    ) -> TiteDecision:
        """Decide the dose for the next arriving patient, or say accrual must wait."""
        p = self.params
        patients = list(patients)
        data = self.arrays(patients)
        states = _states(data)
        tox_all, fut_all, lowest_all = tite_eliminations(data, self._previously(eliminated), p)
        tox_elim, fut_elim, lowest_toxic = tox_all[0], fut_all[0], bool(lowest_all[0])
        elim = tox_elim | fut_elim
        elim_list = tuple(int(j) + 1 for j in np.flatnonzero(elim))
        if not patients:
            decision = self.boin12.decide("", rng=rng)
            return TiteDecision(decision, False, None, 0, 0.0, elim_list, states, decision.reason)
        current = patients[-1].dose - 1
        cur_state = states[current]
        limit = p.maxpen * cur_state.n
        current_arr = np.array([current], dtype=np.int64)
        if bool(tite_suspended(data, current_arr, p)[0]):
            wait_max = self._wait_days(patients, current + 1, cur_state.pending - math.floor(limit))
            reason = (
                f"Suspend accrual: {cur_state.pending} of {cur_state.n} patients at dose "
                f"{current + 1} have an outcome pending (limit {limit:g} = {p.maxpen} x n); "
                f"the next patient must wait, at most {wait_max:g} days if no event occurs."
            )
            return TiteDecision(
                None, True, wait_max, cur_state.pending, limit, elim_list, states, reason
            )
        n = data.n[0]
        prob = tite_desirability(data, elim[None, :], p)[0]
        p_hat = float(tite_p_hat(data, current_arr)[0])
        tie_u = None
        if p.tie_break == "random":
            generator = rng if rng is not None else np.random.default_rng(p.seed)
            tie_u = np.array([generator.random()])
        batch = decide_batch(
            n=data.n,
            p_hat=np.array([p_hat]),
            desirability=prob[None, :],
            eliminated=elim[None, :],
            tox_eliminated_lowest=np.array([lowest_toxic]),
            current=current_arr,
            total_n=np.array([int(n.sum())]),
            params=p,
            lambda_e=self.boin12.bounds.lambda_e,
            lambda_d=self.boin12.bounds.lambda_d,
            tie_u=tie_u,
        )
        state = TrialState(
            counts=_counts_for_display(patients, p.n_doses),
            points=data.points[0],
            tox_eliminated=tox_elim,
            futility_eliminated=fut_elim,
            lowest_too_toxic=lowest_toxic,
            current=current,
            total_n=int(n.sum()),
        )
        admissible = tuple(int(j) + 1 for j in np.flatnonzero(~elim))
        desir = {j + 1: float(prob[j]) for j in range(p.n_doses)}
        decision = self.boin12.decision_from_batch(
            state, prob, p_hat, batch, admissible, desir, cur_state.ess_tox
        )
        pending_any = sum(s.pending for s in states)
        reason = decision.reason
        if decision.select_obd and pending_any:
            reason += (
                f" {pending_any} outcome(s) still pending: wait for complete follow-up "
                f"before selecting the OBD."
            )
        return TiteDecision(
            decision,
            False,
            None,
            cur_state.pending,
            limit,
            elim_list,
            states,
            reason,
            {"p_hat_ess": round(p_hat, 10)},
        )

    def _wait_days(self, patients: Sequence[TitePatient], dose: int, needed: int) -> float:
        """Days until ``needed`` pending patients at ``dose`` complete if no event occurs."""
        remaining = sorted(
            max(
                (self.tox_window - p.follow_up) if p.tox_pending(self.tox_window) else 0.0,
                (self.eff_window - p.follow_up) if p.eff_pending(self.eff_window) else 0.0,
            )
            for p in patients
            if p.dose == dose and (p.tox_pending(self.tox_window) or p.eff_pending(self.eff_window))
        )
        return float(remaining[needed - 1]) if 0 < needed <= len(remaining) else 0.0


def _counts_for_display(patients: Sequence[TitePatient], n_doses: int) -> DoseCounts:
    """Observed joint counts (pending outcomes counted as not observed) for reasons and OBD."""
    table = np.zeros((n_doses, 2, 2), dtype=np.int64)
    for p in patients:
        table[p.dose - 1, int(p.dlt), int(p.response)] += 1
    return DoseCounts(table[:, 0, 0], table[:, 0, 1], table[:, 1, 0], table[:, 1, 1])


def _states(data: TiteArrays) -> tuple[TiteDoseState, ...]:
    """One trial's (1, J) arrays as per-dose records (1-based doses)."""
    return tuple(
        TiteDoseState(
            dose=j + 1,
            n=int(data.n[0, j]),
            dlt_observed=int(data.dlt[0, j]),
            ess_tox=float(data.ess_tox[0, j]),
            response_observed=int(data.response[0, j]),
            ess_eff=float(data.ess_eff[0, j]),
            quasi_events=float(data.points[0, j]) / 100.0,
            pending=int(data.pending[0, j]),
        )
        for j in range(data.n.shape[1])
    )
