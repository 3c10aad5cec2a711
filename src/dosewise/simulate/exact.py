"""Exact operating characteristics of (non-TITE) BOIN12 by dynamic programming over states.

BOIN12's decisions depend only on the per-dose counts and the current dose: eliminations are a
function of the counts when the design is followed (a dose is never treated again once
eliminated, so its counts freeze while its condition holds). So the probability of every end
state can be computed exactly: cohort by cohort, expand each distinct state by every outcome of
the next cohort (multinomial over the four joint outcomes N, E, T, B of the scenario), merge
equal states and add their probabilities, and ask the design's own rule (:func:`decide_batch`,
:func:`select_obd_batch`) what happens next. Random tie-breaks split the probability equally
between the tied doses; ``higher``/``lower`` follow the rule. No Monte Carlo error.

With additive utilities (u11 + u00 = 100) a dose's state is (n, #DLT, #responses); otherwise the
four joint counts, since the utility then depends on them.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from dosewise.design.admissibility import futile, too_toxic
from dosewise.design.boin import boin_boundaries
from dosewise.design.obd import select_obd_batch
from dosewise.design.params import Boin12Params
from dosewise.design.rule import NO_DOSE, Reason, decide_batch
from dosewise.design.utility import desirability, score
from dosewise.errors import DosewiseError, InvalidInput

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Above this many (state x cohort outcome) expansions at one step the design is refused.
DEFAULT_MAX_STATES = 10_000_000

_HIGHEST = int(Reason.HIGHEST_DESIRABILITY)


class TooManyStates(DosewiseError):
    """The exact computation would exceed its state budget; simulate instead."""


@dataclass(frozen=True, slots=True)
class ExactResult:
    """Exact distribution of the trial's outcome (doses 0-based in the arrays)."""

    params: Boin12Params
    joint: FloatArray  # (J, 4): Pr(N), Pr(E), Pr(T), Pr(B) per dose
    selection: FloatArray  # (J + 1,): Pr(OBD = j), last entry Pr(no OBD)
    early_stop: float  # Pr(a no-OBD stopping rule ended the trial)
    mean_n: FloatArray
    sd_n: FloatArray
    mean_tox: FloatArray
    mean_eff: FloatArray
    mean_total_n: float
    states: int  # distinct states visited

    @property
    def n_doses(self) -> int:
        """Number of dose levels."""
        return int(self.joint.shape[0])


def _compositions(size: int) -> tuple[IntArray, FloatArray]:
    """Every (a_N, a_E, a_T, a_B) summing to ``size``, with its multinomial coefficient."""
    comps = [c for c in itertools.product(range(size + 1), repeat=4) if sum(c) == size]
    coef = [math.factorial(size) / math.prod(math.factorial(k) for k in c) for c in comps]
    return np.array(comps, dtype=np.int64), np.array(coef, dtype=np.float64)


def _check_joint(joint: npt.ArrayLike, n_doses: int) -> FloatArray:
    arr = np.asarray(joint, dtype=np.float64)
    if arr.shape != (n_doses, 4):
        raise InvalidInput("joint", arr.shape, f"must be {n_doses} rows of 4 probabilities")
    if (arr < -1e-12).any() or not np.allclose(arr.sum(axis=1), 1.0, atol=1e-9):
        raise InvalidInput("joint", arr.tolist(), "each row must be 4 probabilities summing to 1")
    return np.clip(arr, 0.0, 1.0)


class _Evaluator:
    """The design's rule applied to a batch of distinct states (counts layout per dose)."""

    def __init__(self, params: Boin12Params) -> None:
        self.params = params
        self.additive = params.additive
        self.bounds = boin_boundaries(params.phi_t, params.phi1, params.phi2)
        top = params.max_n + 1
        n_grid, k_grid = np.meshgrid(np.arange(top), np.arange(top), indexing="ij")
        self.too_toxic = too_toxic(n_grid, np.minimum(k_grid, n_grid), params)
        self.futile = futile(n_grid, np.minimum(k_grid, n_grid), params)
        self.lower_rule = (
            params.with_(tie_break="lower") if params.tie_break == "random" else params
        )
        if self.additive:
            # Desirability by (n, #DLT, #responses), from the design's own function.
            t_grid, e_grid = np.meshgrid(np.arange(top), np.arange(top), indexing="ij")
            n3 = np.arange(top)[:, None, None]
            pts = params.u11 * e_grid[None] + params.u00 * (n3 - t_grid[None])
            self.desirability_table = desirability(n3 + 0 * pts, pts, params)

    def marginals(self, counts: IntArray) -> tuple[IntArray, IntArray, IntArray, FloatArray]:
        """n, #DLT, #responses and utility points per dose from the state layout."""
        if self.additive:
            n, tox, eff = counts[..., 0], counts[..., 1], counts[..., 2]
            points = self.params.u11 * eff + self.params.u00 * (n - tox)
            return n, tox, eff, points.astype(np.float64)
        m00, m01, m10, m11 = (counts[..., i] for i in range(4))
        n = m00 + m01 + m10 + m11
        return n, m10 + m11, m01 + m11, score(m00, m01, m10, m11, self.params)

    def eliminated(
        self, n: IntArray, tox: IntArray, eff: IntArray
    ) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
        own_tox = self.too_toxic[n, tox]
        elim = np.logical_or.accumulate(own_tox, axis=1) | self.futile[n, eff]
        return elim, own_tox[:, 0]

    def decide(
        self, counts: IntArray, current: IntArray
    ) -> tuple[IntArray, IntArray, npt.NDArray[np.bool_], npt.NDArray[np.bool_], FloatArray]:
        n, tox, eff, points = self.marginals(counts)
        elim, lowest = self.eliminated(n, tox, eff)
        if self.additive:
            prob = self.desirability_table[n, tox, eff]
        else:
            prob = desirability(n, points, self.params)
        rows = np.arange(len(current))
        p_hat = tox[rows, current] / np.maximum(n[rows, current], 1)
        batch = decide_batch(
            n=n,
            p_hat=p_hat,
            desirability=prob,
            eliminated=elim,
            tox_eliminated_lowest=lowest,
            current=current,
            total_n=n.sum(axis=1),
            params=self.lower_rule,
            lambda_e=self.bounds.lambda_e,
            lambda_d=self.bounds.lambda_d,
        )
        return batch.next_dose, batch.reason.astype(np.int64), batch.tied, elim, points


class _StateKeys:
    """Pack a state (counts per dose, current dose) into one int64, so merging is a sort."""

    def __init__(self, n_doses: int, width: int, max_value: int) -> None:
        self.bits = max(max_value, n_doses).bit_length()
        self.fields = n_doses * width + 1
        self.fits = self.bits * self.fields <= 63
        self.shifts = np.arange(self.fields, dtype=np.int64) * self.bits
        self.n_doses, self.width = n_doses, width

    def keys(self, counts: IntArray, current: IntArray) -> IntArray:
        """One key per state."""
        flat = np.concatenate([counts.reshape(len(counts), -1), current[:, None]], axis=1)
        return np.asarray((flat.astype(np.int64) << self.shifts).sum(axis=1), dtype=np.int64)

    def delta_keys(self, delta: IntArray) -> IntArray:
        """(J, M): the key increment of each cohort outcome added at each dose."""
        out = np.zeros((self.n_doses, len(delta)), dtype=np.int64)
        for d in range(self.n_doses):
            shift = self.shifts[d * self.width : (d + 1) * self.width]
            out[d] = (delta.astype(np.int64) << shift).sum(axis=1)
        return out


def _expand_merge(
    counts: IntArray,
    current: IntArray,
    weight: FloatArray,
    delta: IntArray,
    outcome_p: FloatArray,
    keys: _StateKeys,
) -> tuple[IntArray, IntArray, FloatArray]:
    """Children of every state after one cohort at its current dose, equal children merged."""
    n_out = len(delta)
    child_w = (weight[:, None] * outcome_p[current]).ravel()
    child_key: npt.NDArray[np.generic]
    if keys.fits:
        child_key = (keys.keys(counts, current)[:, None] + keys.delta_keys(delta)[current]).ravel()
    else:
        full = np.repeat(counts, n_out, axis=0)
        full[np.arange(len(full)), np.repeat(current, n_out)] += np.tile(delta, (len(counts), 1))
        flat = np.concatenate([full.reshape(len(full), -1), np.repeat(current, n_out)[:, None]], 1)
        small = np.ascontiguousarray(flat.astype(np.int16))
        child_key = small.view(np.dtype((np.void, small.shape[1] * 2))).ravel()
    live = np.flatnonzero(child_w > 0)
    _, first, inverse = np.unique(child_key[live], return_index=True, return_inverse=True)
    merged_w = np.bincount(inverse.ravel(), weights=child_w[live], minlength=len(first)).astype(
        np.float64
    )
    origin = live[first]
    parent, outcome = origin // n_out, origin % n_out
    new_counts = counts[parent].copy()
    new_current = np.asarray(current[parent], dtype=np.int64)
    new_counts[np.arange(len(parent)), new_current] += delta[outcome]
    return np.asarray(new_counts, dtype=np.int64), new_current, merged_w


def exact_operating_characteristics(
    params: Boin12Params,
    joint: npt.ArrayLike,
    max_states: int = DEFAULT_MAX_STATES,
    progress: Callable[[int, int], None] | None = None,
) -> ExactResult:
    """Exact OCs of BOIN12 for true joint outcome probabilities ``joint`` (J x 4: N, E, T, B)."""
    p = params
    J = p.n_doses
    probs = _check_joint(joint, J)
    evaluator = _Evaluator(p)
    width = 3 if evaluator.additive else 4
    counts = np.zeros((1, J, width), dtype=np.int64)
    current = np.array([p.start_dose - 1], dtype=np.int64)
    weight = np.array([1.0])
    keys = _StateKeys(J, width, p.max_n)

    selection = np.zeros(J + 1)
    early_stop = 0.0
    sum_n = np.zeros(J)
    sum_n2 = np.zeros(J)
    sum_tox = np.zeros(J)
    sum_eff = np.zeros(J)
    visited = 1
    total = 0
    n_steps = math.ceil(p.max_n / p.cohort_size)
    step = 0
    while len(weight):
        size = min(p.cohort_size, p.max_n - total)
        comps, coef = _compositions(size)
        if evaluator.additive:
            delta = np.stack([np.full(len(comps), size), comps[:, 2] + comps[:, 3],
                              comps[:, 1] + comps[:, 3]], axis=1)  # fmt: skip
        else:
            delta = comps
        # Probability of each cohort outcome at each dose: coef * prod(pi ** a).
        outcome_p = coef[None, :] * np.prod(probs[:, None, :] ** comps[None, :, :], axis=2)
        expansions = len(weight) * len(comps)
        if expansions > max_states:
            raise TooManyStates(
                "design",
                f"{expansions:,} states at cohort {step + 1}",
                f"too large for exact computation (limit {max_states:,}); use simulation",
            )
        counts, current, weight = _expand_merge(counts, current, weight, delta, outcome_p, keys)
        visited += len(weight)
        total += size
        step += 1
        if progress is not None:
            progress(step, n_steps)

        next_dose, reason, tied, elim, points = evaluator.decide(counts, current)
        n, tox, eff, _ = evaluator.marginals(counts)
        ends = reason >= int(Reason.STOP_LOWEST_TOXIC)
        if ends.any():
            w = weight[ends]
            n_end = n[ends]
            sum_n += w @ n_end
            sum_n2 += w @ (n_end.astype(np.float64) ** 2)
            sum_tox += w @ tox[ends]
            sum_eff += w @ eff[ends]
            obd_end = reason[ends] >= int(Reason.END_EARLYSTOP)
            early_stop += float(w[~obd_end].sum())
            selection[J] += float(w[~obd_end].sum())
            if obd_end.any():
                chosen = select_obd_batch(
                    n_end[obd_end], tox[ends][obd_end], points[ends][obd_end],
                    elim[ends][obd_end], p,
                ).obd  # fmt: skip
                selection += np.bincount(np.where(chosen < 0, J, chosen),
                                         weights=w[obd_end], minlength=J + 1)  # fmt: skip
        go = ~ends
        counts, current, weight = counts[go], next_dose[go], weight[go]
        reason, tied = reason[go], tied[go]
        if p.tie_break == "random":
            split = (reason == _HIGHEST) & (tied.sum(axis=1) > 1)
            if split.any():
                rows_split = np.flatnonzero(split)
                share = 1.0 / tied[rows_split].sum(axis=1)
                pairs = np.argwhere(tied[rows_split])
                extra_counts = counts[rows_split][pairs[:, 0]]
                extra_current = pairs[:, 1].astype(np.int64)
                extra_weight = weight[rows_split][pairs[:, 0]] * share[pairs[:, 0]]
                counts = np.concatenate([counts[~split], extra_counts])
                current = np.concatenate([current[~split], extra_current])
                weight = np.concatenate([weight[~split], extra_weight])
        if (current == NO_DOSE).any():  # pragma: no cover - the rule never continues without a dose
            raise RuntimeError("rule continued without a dose")
    mean_n = sum_n
    return ExactResult(
        params=p,
        joint=probs,
        selection=selection,
        early_stop=early_stop,
        mean_n=mean_n,
        sd_n=np.sqrt(np.maximum(sum_n2 - mean_n**2, 0.0)),
        mean_tox=sum_tox,
        mean_eff=sum_eff,
        mean_total_n=float(mean_n.sum()),
        states=visited,
    )
