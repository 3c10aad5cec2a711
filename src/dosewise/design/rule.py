"""The BOIN12 next-dose rule as one compiled batch kernel (boin12.md §§4-6), shared by all.

``decide_batch`` takes the state of many trials at once (per-dose counts, desirabilities and
eliminations as ``(B, J)`` arrays) and returns each trial's next dose with a reason code. The
single-trial API (:mod:`dosewise.design.boin12`), the TITE form and the simulation engine all call
this function, so the rule lives in exactly one place. Doses are 0-based here; -1 means no dose.
The kernel (:mod:`dosewise.design.kernel`) runs interpreted for one decision (no Numba import)
and compiled by Numba, cached on disk, for a chunk of simulated trials.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import numpy.typing as npt

from dosewise.design.kernel import kernel
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
    chosen: IntArray  # the candidate with the largest desirability (-1 in the de-escalation zone)


_TIE_MODES = {"random": 0, "higher": 1, "lower": 2}


@kernel
def _rule_kernel(
    n: IntArray,
    p_hat: FloatArray,
    desirability: FloatArray,
    eliminated: BoolArray,
    tox_eliminated_lowest: BoolArray,
    current: IntArray,
    total_n: IntArray,
    n_star: int,
    n2: int,
    max_n: int,
    n_earlystop: int,
    tie_mode: int,
    lambda_e: float,
    lambda_d: float,
    tie_u: FloatArray,
    next_out: IntArray,
    reason_out: npt.NDArray[np.int8],
    candidates: BoolArray,
    tied: BoolArray,
    chosen_out: IntArray,
) -> None:  # pragma: no cover - compiled; covered through decide_batch
    """One pass per trial, in the order of boin12.md §4-§5 (see decide_batch)."""
    batch, n_doses = n.shape
    for b in range(batch):
        d = current[b]
        lower = -1
        for j in range(d - 1, -1, -1):
            if not eliminated[b, j]:
                lower = j
                break
        higher = -1
        for j in range(d + 1, n_doses):
            if not eliminated[b, j]:
                higher = j
                break
        n_cur = n[b, d]
        deescalate_zone = p_hat[b] >= lambda_d
        # Candidates (§5.2): d, L, and H when n_d < N* or p̂ <= λe.
        candidates[b, d] = True
        if lower >= 0:
            candidates[b, lower] = True
        if higher >= 0 and (n_cur < n_star or p_hat[b] <= lambda_e):
            candidates[b, higher] = True
        best = -1.0
        for j in range(n_doses):
            if candidates[b, j]:
                value = 0.0 if eliminated[b, j] else desirability[b, j]
                if value > best:
                    best = value
        n_tied = 0
        for j in range(n_doses):
            if candidates[b, j]:
                value = 0.0 if eliminated[b, j] else desirability[b, j]
                if value == best:
                    tied[b, j] = True
                    n_tied += 1
        chosen = -1
        if tie_mode == 1:
            for j in range(n_doses - 1, -1, -1):
                if tied[b, j]:
                    chosen = j
                    break
        elif tie_mode == 2:
            for j in range(n_doses):
                if tied[b, j]:
                    chosen = j
                    break
        else:
            pick = min(int(tie_u[b] * n_tied), n_tied - 1)
            seen = 0
            for j in range(n_doses):
                if tied[b, j]:
                    if seen == pick:
                        chosen = j
                        break
                    seen += 1
        chosen_out[b] = -1 if deescalate_zone else chosen
        if deescalate_zone:
            # §5.1: highest eligible lower dose, else stay, else stop (c).
            for j in range(n_doses):
                tied[b, j] = False
            if lower >= 0:
                nxt, why = lower, 1
            elif not eliminated[b, d]:
                nxt, why = d, 2
            else:
                nxt, why = -1, 12
        elif eliminated[b, chosen]:
            nxt, why = -1, 13  # (d): the chosen candidate is eliminated
        elif n2 > 0 and higher >= 0 and n_cur >= n2 and n[b, higher] == 0:
            for j in range(n_doses):
                tied[b, j] = False
            nxt, why = higher, 4  # §5.4 extra dose exploration
        else:
            nxt, why = chosen, 3
        if nxt >= 0 and total_n[b] >= max_n:
            why = 21  # normal end at the maximum sample size
        if n_earlystop > 0 and n_cur >= n_earlystop:
            why = 20  # checked before the decision
        all_gone = True
        for j in range(n_doses):
            if not eliminated[b, j]:
                all_gone = False
                break
        if all_gone:
            why, nxt = 11, -1  # (b)
        if tox_eliminated_lowest[b]:
            why, nxt = 10, -1  # (a)
        next_out[b] = nxt
        reason_out[b] = why


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
    prior (eliminated doses count as 0); ``eliminated`` (B, J); ``tox_eliminated_lowest`` (B,)
    whether dose 1 is eliminated for toxicity; ``current`` (B,) 0-based current dose;
    ``total_n`` (B,) patients so far; ``tie_u`` (B,) uniforms in [0, 1) for random tie-breaks.

    Order (boin12.md §4): stops (a) lowest dose too toxic and (b) all eliminated; then the end
    at n_earlystop; then the rule: de-escalation zone (§5.1, stop c), otherwise the candidate
    with the largest desirability (§5.2), stop (d) if it is eliminated, extra exploration
    (§5.4); finally the end at the maximum sample size when the rule names a dose.
    """
    batch, n_doses = n.shape
    next_out = np.empty(batch, dtype=np.int64)
    reason_out = np.empty(batch, dtype=np.int8)
    candidates = np.zeros((batch, n_doses), dtype=np.bool_)
    tied = np.zeros((batch, n_doses), dtype=np.bool_)
    chosen = np.empty(batch, dtype=np.int64)
    uniforms = np.zeros(batch) if tie_u is None else np.ascontiguousarray(tie_u, dtype=np.float64)
    _rule_kernel.run(
        batch,
        np.ascontiguousarray(n, dtype=np.int64),
        np.ascontiguousarray(p_hat, dtype=np.float64),
        np.ascontiguousarray(desirability, dtype=np.float64),
        np.ascontiguousarray(eliminated, dtype=np.bool_),
        np.ascontiguousarray(tox_eliminated_lowest, dtype=np.bool_),
        np.ascontiguousarray(current, dtype=np.int64),
        np.ascontiguousarray(total_n, dtype=np.int64),
        params.n_star,
        params.n2,
        params.max_n,
        params.n_earlystop,
        _TIE_MODES[params.tie_break],
        float(lambda_e),
        float(lambda_d),
        uniforms,
        next_out,
        reason_out,
        candidates,
        tied,
        chosen,
    )
    return BatchDecision(
        next_dose=next_out, reason=reason_out, candidates=candidates, tied=tied, chosen=chosen
    )
