"""The BOIN12 next-dose rule as one batch kernel (boin12.md §§4-6), shared by every caller.

``decide_batch`` takes the state of many trials at once (per-dose counts, desirabilities and
eliminations as ``(B, J)`` arrays) and returns each trial's next dose with a reason code. The
single-trial API (:mod:`dosewise.design.boin12`), the TITE form and the simulation engine all call
this function, so the rule lives in exactly one place. Doses are 0-based here; -1 means no dose.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import numpy.typing as npt

from dosewise.design.params import Boin12Params

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

NO_DOSE = -1


class Reason(IntEnum):
    """Why the rule gave its answer; the order of checks follows boin12.md §4."""

    DEESCALATE = 1  # p̂ >= λd, to the highest eligible lower dose
    STAY_NO_LOWER = 2  # p̂ >= λd, no eligible lower dose, current dose still eligible
    HIGHEST_DESIRABILITY = 3  # the candidate with the largest Pr(U > u_b)
    EXPLORE = 4  # extra dose exploration: n >= N2, next higher dose untried, p̂ < λd
    STOP_LOWEST_TOXIC = 10  # (a) the lowest dose is eliminated for toxicity
    STOP_ALL_ELIMINATED = 11  # (b) every dose is eliminated
    STOP_NO_LOWER_ELIMINATED = 12  # (c) de-escalate, nothing lower, current dose eliminated
    STOP_CHOSEN_ELIMINATED = 13  # (d) the chosen candidate is eliminated
    END_EARLYSTOP = 20  # n at the current dose reached n_earlystop: select the OBD
    END_MAX_N = 21  # the maximum sample size is reached: select the OBD

    @property
    def stops(self) -> bool:
        """True when the trial ends (with or without an OBD)."""
        return self >= Reason.STOP_LOWEST_TOXIC

    @property
    def selects_obd(self) -> bool:
        """True when the trial ends normally and the OBD is selected."""
        return self >= Reason.END_EARLYSTOP


@dataclass(frozen=True, slots=True)
class BatchDecision:
    """Per-trial results of :func:`decide_batch` (0-based doses; -1 = none)."""

    next_dose: IntArray  # the dose the rule names (also set when the trial ends normally)
    reason: npt.NDArray[np.int8]
    candidates: BoolArray  # (B, J): doses compared by desirability
    tied: BoolArray  # (B, J): candidates sharing the largest desirability (>= 2 means a tie)


def _onehot(index: IntArray, valid: BoolArray, n_doses: int) -> BoolArray:
    return np.asarray((np.arange(n_doses) == index[:, None]) & valid[:, None])


def decide_batch(
    n: IntArray,
    p_hat: FloatArray,
    desirability: FloatArray,
    eliminated: BoolArray,
    tox_eliminated_lowest: BoolArray,
    current: IntArray,
    total_n: IntArray,
    params: Boin12Params,
    lambda_e: float,
    lambda_d: float,
    tie_u: FloatArray | None = None,
) -> BatchDecision:
    """Apply the stopping checks and the next-dose rule to B trials after a cohort.

    ``n`` (B, J) patients per dose; ``p_hat`` (B,) observed DLT rate at the current dose (count
    based, or ESS based for TITE); ``desirability`` (B, J) Pr(U > u_b) with untried doses at the
    prior (eliminated doses are ignored here); ``eliminated`` (B, J); ``tox_eliminated_lowest``
    (B,) whether dose 1 is eliminated for toxicity; ``current`` (B,) 0-based current dose;
    ``total_n`` (B,) patients so far; ``tie_u`` (B,) uniforms in [0, 1) for random tie-breaks.
    """
    batch, n_doses = n.shape
    rows = np.arange(batch)
    doses = np.arange(n_doses)
    eligible = ~eliminated
    n_cur = n[rows, current]

    below = eligible & (doses < current[:, None])
    above = eligible & (doses > current[:, None])
    has_lower = below.any(axis=1)
    has_higher = above.any(axis=1)
    lower = np.where(has_lower, n_doses - 1 - np.argmax(below[:, ::-1], axis=1), NO_DOSE)
    higher = np.where(has_higher, np.argmax(above, axis=1), NO_DOSE)

    deescalate_zone = p_hat >= lambda_d
    escalate_zone = p_hat <= lambda_e
    higher_ok = has_higher & ((n_cur < params.n_star) | escalate_zone)
    candidates = (
        _onehot(current, np.ones(batch, dtype=np.bool_), n_doses)
        | _onehot(lower, has_lower, n_doses)
        | _onehot(higher, higher_ok, n_doses)
    )
    score = np.where(candidates, np.where(eliminated, 0.0, desirability), -np.inf)
    best = score.max(axis=1)
    tied = candidates & (score == best[:, None])
    if params.tie_break == "higher":
        chosen = n_doses - 1 - np.argmax(tied[:, ::-1], axis=1)
    elif params.tie_break == "lower":
        chosen = np.argmax(tied, axis=1)
    else:
        u = np.zeros(batch) if tie_u is None else tie_u
        pick = np.minimum((u * tied.sum(axis=1)).astype(np.int64), tied.sum(axis=1) - 1)
        chosen = np.argmax(tied & (np.cumsum(tied, axis=1) == (pick + 1)[:, None]), axis=1)

    explore = (
        params.n2_enabled
        & has_higher
        & (n_cur >= params.n2)
        & (n[rows, np.maximum(higher, 0)] == 0)
        & ~deescalate_zone
    )
    chosen_eliminated = eliminated[rows, chosen]
    current_eliminated = eliminated[rows, current]

    next_dose = np.where(explore, higher, chosen)
    reason = np.where(explore, Reason.EXPLORE, Reason.HIGHEST_DESIRABILITY)
    reason = np.where(chosen_eliminated, Reason.STOP_CHOSEN_ELIMINATED, reason)
    next_dose = np.where(chosen_eliminated, NO_DOSE, next_dose)
    # De-escalation zone: the highest eligible lower dose, else stay, else stop (rule c).
    deesc_next = np.where(has_lower, lower, np.where(current_eliminated, NO_DOSE, current))
    deesc_reason = np.where(
        has_lower,
        Reason.DEESCALATE,
        np.where(current_eliminated, Reason.STOP_NO_LOWER_ELIMINATED, Reason.STAY_NO_LOWER),
    )
    next_dose = np.where(deescalate_zone, deesc_next, next_dose)
    reason = np.where(deescalate_zone, deesc_reason, reason)
    # Normal end at the maximum sample size: only when the rule still names a dose.
    at_max = (total_n >= params.max_n) & (next_dose != NO_DOSE)
    reason = np.where(at_max, Reason.END_MAX_N, reason)
    # Checked before the decision: n_earlystop, then the no-OBD stops (a) and (b).
    if params.n_earlystop > 0:
        early = n_cur >= params.n_earlystop
        reason = np.where(early, Reason.END_EARLYSTOP, reason)
    all_gone = eliminated.all(axis=1)
    reason = np.where(all_gone, Reason.STOP_ALL_ELIMINATED, reason)
    reason = np.where(tox_eliminated_lowest, Reason.STOP_LOWEST_TOXIC, reason)
    no_obd = (reason == Reason.STOP_ALL_ELIMINATED) | (reason == Reason.STOP_LOWEST_TOXIC)
    next_dose = np.where(no_obd, NO_DOSE, next_dose)
    return BatchDecision(
        next_dose=next_dose.astype(np.int64),
        reason=reason.astype(np.int8),
        candidates=candidates,
        tied=tied & ~deescalate_zone[:, None] & ~explore[:, None],
    )
