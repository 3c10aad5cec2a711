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
- The verdicts, in order: the stops that need no complete data (dose 1 too toxic, every dose
  eliminated; §4 a, b) stop the trial now; once n_earlystop patients are at the current dose or
  max_n in the trial, accrual is complete and the answer is "awaiting follow-up" with the days
  until the last pending outcome is due; otherwise accrual is suspended while more than
  maxpen · n_d patients at the current dose have an outcome pending (the answer says how long
  to wait at most); otherwise the BOIN12 rule decides on the effective data.

The formulas are the array functions of :mod:`dosewise.design.tite_arrays` (:func:`tite_arrays`,
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

from dosewise.design.boin12 import Boin12, Decision, TrialState
from dosewise.design.outcomes import DoseCounts
from dosewise.design.params import Boin12Params
from dosewise.design.reasons import ReasonCode, Why
from dosewise.design.rule import decide_batch
from dosewise.design.tite_arrays import (
    TiteArrays,
    imputed_probability,
    tite_arrays,
    tite_desirability,
    tite_eliminations,
    tite_p_hat,
    tite_suspended,
)
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
    """A TITE-BOIN12 verdict: a BOIN12 decision, or accrual waits, or accrual is complete.

    ``decision`` is None when the next patient must wait (``wait``, at most ``wait_days_max``
    days) and when enrolment is over but outcomes are pending (``accrual_complete``; the last
    is due in ``due_days_max`` days if no event occurs): the final decision and the OBD need
    the complete data.
    """

    decision: Decision | None
    wait: bool
    wait_days_max: float | None
    pending_at_current: int
    pending_limit: float
    eliminated: tuple[int, ...]
    doses: tuple[TiteDoseState, ...]
    why: Why
    details: dict[str, Any] = field(default_factory=dict)
    accrual_complete: bool = False
    due_days_max: float | None = None

    @property
    def reason(self) -> str:
        """The reason in English (the text ``dosewise decide-tite`` prints)."""
        return self.why.text("en")

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        """JSON view: the decide shape plus ``wait``, ``accrual_complete`` and per-dose data."""
        base: dict[str, Any] = (
            self.decision.to_dict(lang)
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
                "reason": self.why.text(lang),
                "reason_code": str(self.why.code),
                "reason_params": self.why.params_dict(),
                "wait": self.wait,
                "wait_days_max": self.wait_days_max,
                "accrual_complete": self.accrual_complete,
                "due_days_max": self.due_days_max,
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
        """Decide the dose for the next arriving patient, stop, or say accrual waits or is over.

        The order is the module's: stops (§4 a, b), accrual complete, suspension, the rule.
        """
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
            return TiteDecision(decision, False, None, 0, 0.0, elim_list, states, decision.why)
        current = patients[-1].dose - 1
        cur_state = states[current]
        limit = p.maxpen * cur_state.n
        current_arr = np.array([current], dtype=np.int64)
        # Stops that need no complete data (§4 a, b) come first: the trial stops now.
        stop_now = lowest_toxic or bool(elim.all())
        pending_any = sum(s.pending for s in states)
        total_n = int(data.n[0].sum())
        earlystop = p.n_earlystop > 0 and cur_state.n >= p.n_earlystop
        if not stop_now and pending_any and (earlystop or total_n >= p.max_n):
            due = self._due_days(patients)
            why = (
                Why(
                    ReasonCode.TITE_COMPLETE_EARLYSTOP,
                    {
                        "current": current + 1,
                        "n": cur_state.n,
                        "n_earlystop": p.n_earlystop,
                        "pending": pending_any,
                        "due_days": due,
                    },
                )
                if earlystop
                else Why(
                    ReasonCode.TITE_COMPLETE_MAX_N,
                    {"total_n": total_n, "max_n": p.max_n, "pending": pending_any, "due_days": due},
                )
            )
            return TiteDecision(
                None,
                False,
                None,
                cur_state.pending,
                limit,
                elim_list,
                states,
                why,
                accrual_complete=True,
                due_days_max=due,
            )
        if not stop_now and bool(tite_suspended(data, current_arr, p)[0]):
            wait_max = self._wait_days(patients, current + 1, cur_state.pending - math.floor(limit))
            why = Why(
                ReasonCode.TITE_SUSPEND,
                {
                    "dose": current + 1,
                    "pending": cur_state.pending,
                    "n": cur_state.n,
                    "limit": limit,
                    "maxpen": p.maxpen,
                    "wait_days": wait_max,
                },
            )
            return TiteDecision(
                None, True, wait_max, cur_state.pending, limit, elim_list, states, why
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
        return TiteDecision(
            decision,
            False,
            None,
            cur_state.pending,
            limit,
            elim_list,
            states,
            decision.why,
            {"p_hat_ess": round(p_hat, 10)},
        )

    def _due_days(self, patients: Sequence[TitePatient]) -> float:
        """Days until the last pending outcome is known if no event occurs (0 if none)."""
        return max(
            (
                max(
                    (self.tox_window - p.follow_up) if p.tox_pending(self.tox_window) else 0.0,
                    (self.eff_window - p.follow_up) if p.eff_pending(self.eff_window) else 0.0,
                )
                for p in patients
            ),
            default=0.0,
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


__all__ = [
    "TiteArrays",
    "TiteBoin12",
    "TiteDecision",
    "TiteDoseState",
    "TitePatient",
    "imputed_probability",
    "tite_arrays",
    "tite_desirability",
    "tite_eliminations",
    "tite_p_hat",
    "tite_suspended",
    "vars_of",
]
