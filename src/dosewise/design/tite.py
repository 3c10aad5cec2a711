"""TITE-BOIN12: decisions with pending outcomes (boin12.md §8, the authors' approximated likelihood).

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
from dosewise.design.outcomes import DoseCounts
from dosewise.design.params import U01, U10, Boin12Params
from dosewise.design.rule import decide_batch
from dosewise.design.utility import desirability
from dosewise.errors import InvalidOutcomes, InvalidParameter

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


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


def imputed_probability(p_hat: float, fraction: float) -> float:
    """Pr(event still occurs | none by follow-up fraction w), uniform event times (§8)."""
    return p_hat * (1.0 - fraction) / (1.0 - p_hat * fraction)


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

    def dose_states(self, patients: Sequence[TitePatient]) -> tuple[TiteDoseState, ...]:
        """ESS, observed counts and imputed quasi-events per dose."""
        _check_patients(patients, self.params.n_doses)
        tau_t, tau_e = self.tox_window, self.eff_window
        out = []
        for dose in range(1, self.params.n_doses + 1):
            group = [p for p in patients if p.dose == dose]
            dlt = sum(p.dlt for p in group)
            resp = sum(p.response for p in group)
            ess_t = sum(
                min(p.follow_up / tau_t, 1.0) if p.tox_pending(tau_t) else 1.0 for p in group
            )
            ess_e = sum(
                min(p.follow_up / tau_e, 1.0) if p.eff_pending(tau_e) else 1.0 for p in group
            )
            p_t = dlt / ess_t if ess_t > 0 else 0.0
            p_e = resp / ess_e if ess_e > 0 else 0.0
            x = 0.0
            for p in group:
                t = (
                    imputed_probability(p_t, p.follow_up / tau_t)
                    if p.tox_pending(tau_t)
                    else float(p.dlt)
                )
                e = (
                    imputed_probability(p_e, p.follow_up / tau_e)
                    if p.eff_pending(tau_e)
                    else float(p.response)
                )
                utility = (
                    U01 * (1 - t) * e
                    + self.params.u00 * (1 - t) * (1 - e)
                    + self.params.u11 * t * e
                    + U10 * t * (1 - e)
                )
                x += utility / 100.0
            pending = sum(p.tox_pending(tau_t) or p.eff_pending(tau_e) for p in group)
            out.append(TiteDoseState(dose, len(group), dlt, ess_t, resp, ess_e, x, pending))
        return tuple(out)

    def eliminations(
        self, states: Sequence[TiteDoseState], previously: Iterable[int] = ()
    ) -> tuple[BoolArray, BoolArray, bool]:
        """(toxicity-eliminated incl. propagation, futility-eliminated, dose 1 too toxic)."""
        p = self.params
        n = np.array([s.n for s in states], dtype=np.int64)
        dlt = np.array([s.dlt_observed for s in states], dtype=np.int64)
        ess_e = np.array([s.ess_eff for s in states], dtype=np.float64)
        resp = np.array([s.response_observed for s in states], dtype=np.float64)
        own_tox = (
            (n > p.tite_tox_elim_n_gt)
            & (dlt >= p.tox_elim_min_dlt)
            & (prob_tox_above_target(n, dlt, p.phi_t) > p.c_t)
        )
        fut = (n > 0) & futile(ess_e, resp, p, min_n=0)
        for dose in previously:
            if not 1 <= dose <= p.n_doses:
                raise InvalidOutcomes("eliminated", dose, f"must be from 1 to {p.n_doses}")
            fut[dose - 1] = True  # earlier eliminations stay (reason kept by the caller)
        tox = np.logical_or.accumulate(own_tox)
        return tox, fut, bool(own_tox[0])

    def decide(
        self,
        patients: Sequence[TitePatient],
        eliminated: Iterable[int] = (),
        rng: np.random.Generator | None = None,
    ) -> TiteDecision:
        """Decide the dose for the next arriving patient, or say accrual must wait."""
        p = self.params
        patients = list(patients)
        states = self.dose_states(patients)
        tox_elim, fut_elim, lowest_toxic = self.eliminations(states, eliminated)
        elim = tox_elim | fut_elim
        elim_list = tuple(int(j) + 1 for j in np.flatnonzero(elim))
        if not patients:
            decision = self.boin12.decide("", rng=rng)
            return TiteDecision(
                decision, False, None, 0, 0.0, elim_list, states, decision.reason
            )
        current = patients[-1].dose - 1
        cur_state = states[current]
        limit = p.maxpen * cur_state.n
        if cur_state.pending > limit and cur_state.n < p.max_n:
            wait_max = self._wait_days(patients, current + 1, cur_state.pending - math.floor(limit))
            reason = (
                f"Suspend accrual: {cur_state.pending} of {cur_state.n} patients at dose "
                f"{current + 1} have an outcome pending (limit {limit:g} = {p.maxpen} x n); "
                f"the next patient must wait, at most {wait_max:g} days if no event occurs."
            )
            return TiteDecision(
                None, True, wait_max, cur_state.pending, limit, elim_list, states, reason
            )
        n = np.array([s.n for s in states], dtype=np.int64)
        x = np.array([s.quasi_events for s in states], dtype=np.float64)
        prob = np.asarray(desirability(n, 100.0 * x, p), dtype=np.float64)
        prob = np.where(elim, 0.0, prob)
        p_hat = cur_state.dlt_observed / cur_state.ess_tox if cur_state.ess_tox > 0 else 0.0
        tie_u = None
        if p.tie_break == "random":
            generator = rng if rng is not None else np.random.default_rng(p.seed)
            tie_u = np.array([generator.random()])
        batch = decide_batch(
            n=n[None, :],
            p_hat=np.array([p_hat]),
            desirability=prob[None, :],
            eliminated=elim[None, :],
            tox_eliminated_lowest=np.array([lowest_toxic]),
            current=np.array([current]),
            total_n=np.array([int(n.sum())]),
            params=p,
            lambda_e=self.boin12.bounds.lambda_e,
            lambda_d=self.boin12.bounds.lambda_d,
            tie_u=tie_u,
        )
        state = TrialState(
            counts=_counts_for_display(patients, p.n_doses),
            points=100.0 * x,
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
