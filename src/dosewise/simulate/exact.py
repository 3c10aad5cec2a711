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
four joint counts, since the utility then depends on them. States are packed and merged in
:mod:`dosewise.simulate.exact_states`; see docs/simulation.md §8.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from dosewise.design.admissibility import futile, too_toxic
from dosewise.design.boin import boin_boundaries
from dosewise.design.obd import select_obd_batch
from dosewise.design.params import Boin12Params
from dosewise.design.rule import NO_DOSE, Reason, decide_batch
from dosewise.design.utility import desirability, score
from dosewise.errors import DosewiseError, InvalidInput

if TYPE_CHECKING:
    from dosewise.simulate.exact_states import StateKeys

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Above this many (state x cohort outcome) expansions at one step the design is refused.
DEFAULT_MAX_STATES = 10_000_000

_HIGHEST = int(Reason.HIGHEST_DESIRABILITY)
_REASONS = 32
#: Largest (max_n + 1)^4 for which desirability is tabulated by joint counts.
_JOINT_TABLE_MAX = 4_000_000


class TooManyStates(DosewiseError):
    """The exact computation would exceed its state budget; simulate instead."""


@dataclass(frozen=True, slots=True)
class ExactResult:
    """Exact distribution of the trial's outcome (doses 0-based in the arrays).

    Means are expectations over trials; ``ended_after[k]`` is the probability that the trial
    ends after cohort k + 1 (with ``patients_after[k]`` patients), which is all the timing of a
    (non-TITE) BOIN12 trial depends on; ``reasons[r]`` is the probability that it ends by
    :class:`~dosewise.design.rule.Reason` ``r``.
    """

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
    sd_tox: FloatArray
    sd_eff: FloatArray
    sd_total_n: float
    ended_after: FloatArray  # (K,): Pr(the trial ends after cohort k + 1)
    patients_after: IntArray  # (K,): patients treated after cohort k + 1
    reasons: FloatArray  # (32,): Pr(the final Reason is r)

    @property
    def n_doses(self) -> int:
        """Number of dose levels."""
        return int(self.joint.shape[0])


def _compositions(size: int) -> tuple[IntArray, FloatArray]:
    """Every (a_N, a_E, a_T, a_B) summing to ``size``, with its multinomial coefficient."""
    comps = [c for c in itertools.product(range(size + 1), repeat=4) if sum(c) == size]
    coef = [math.factorial(size) / math.prod(math.factorial(k) for k in c) for c in comps]
    return np.array(comps, dtype=np.int64), np.array(coef, dtype=np.float64)


def _cohort_outcomes(size: int, probs: FloatArray, additive: bool) -> tuple[IntArray, FloatArray]:
    """Distinct increments of a dose's counts from one cohort, and their probability per dose.

    Joint layout: the counts (a_N, a_E, a_T, a_B), multinomial. Additive layout: (n, #DLT,
    #responses), so outcomes with equal marginal counts (e.g. N + B and E + T) are one child.
    """
    comps, coef = _compositions(size)
    # Probability of each cohort outcome at each dose: coef * prod(pi ** a).
    outcome_p = coef[None, :] * np.prod(probs[:, None, :] ** comps[None, :, :], axis=2)
    if not additive:
        return comps, np.asarray(outcome_p, dtype=np.float64)
    delta = np.stack([np.full(len(comps), size), comps[:, 2] + comps[:, 3],
                      comps[:, 1] + comps[:, 3]], axis=1)  # fmt: skip
    distinct, inverse = np.unique(delta, axis=0, return_inverse=True)
    merged = np.zeros((probs.shape[0], len(distinct)))
    for m, target in enumerate(inverse.ravel()):
        merged[:, target] += outcome_p[:, m]
    return np.asarray(distinct, dtype=np.int64), merged


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
        self.desirability_table: FloatArray | None = None
        if self.additive:
            # Desirability by (n, #DLT, #responses), from the design's own function.
            t_grid, e_grid = np.meshgrid(np.arange(top), np.arange(top), indexing="ij")
            n3 = np.arange(top)[:, None, None]
            pts = params.u11 * e_grid[None] + params.u00 * (n3 - t_grid[None])
            self.desirability_table = desirability(n3 + 0 * pts, pts, params)
        elif top**4 <= _JOINT_TABLE_MAX:
            # By joint counts (N, E, T, B): the same score and desirability calls, tabulated.
            m = np.meshgrid(*[np.arange(top)] * 4, indexing="ij", sparse=True)
            n4 = m[0] + m[1] + m[2] + m[3]
            points = score(m[0], m[1], m[2], m[3], params)
            self.desirability_table = desirability(n4, points, params)

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
        table = self.desirability_table
        if table is None:
            prob = desirability(n, points, self.params)
        elif self.additive:
            prob = table[n, tox, eff]
        else:
            prob = table[counts[..., 0], counts[..., 1], counts[..., 2], counts[..., 3]]
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


def exact_operating_characteristics(
    params: Boin12Params,
    joint: npt.ArrayLike,
    max_states: int = DEFAULT_MAX_STATES,
    progress: Callable[[int, int], None] | None = None,
) -> ExactResult:
    """Exact OCs of BOIN12 for true joint outcome probabilities ``joint`` (J x 4: N, E, T, B).

    Raises :class:`TooManyStates` before a step would expand more than ``max_states`` (state x
    cohort outcome) children, so memory stays bounded (under about 2 GB at the default).
    """
    # Here, not at the top: the state kernels import Numba, which reading stored results skips.
    from dosewise.simulate.exact_states import StateKeys, expand_merge

    p = params
    J = p.n_doses
    probs = _check_joint(joint, J)
    evaluator = _Evaluator(p)
    width = 3 if evaluator.additive else 4
    counts = np.zeros((1, J, width), dtype=np.int64)
    current = np.array([p.start_dose - 1], dtype=np.int64)
    weight = np.array([1.0])
    keys = StateKeys(J, width, p.max_n)
    tally = _EndTally(J)
    visited = 1
    total = 0
    n_steps = math.ceil(p.max_n / p.cohort_size)
    ended_after = np.zeros(n_steps)
    patients_after = np.zeros(n_steps, dtype=np.int64)
    step = 0
    while len(weight):
        size = min(p.cohort_size, p.max_n - total)
        delta, outcome_p = _cohort_outcomes(size, probs, evaluator.additive)
        expansions = len(weight) * len(delta)
        if expansions > max_states:
            raise TooManyStates(
                "design",
                f"{expansions:,} states at cohort {step + 1}",
                f"too large for exact computation (limit {max_states:,}); use simulation",
            )
        counts, current, weight = expand_merge(counts, current, weight, delta, outcome_p, keys)
        visited += len(weight)
        total += size
        patients_after[step] = total
        step += 1
        if progress is not None:
            progress(step, n_steps)

        next_dose, reason, tied, elim, points = evaluator.decide(counts, current)
        ends = reason >= int(Reason.STOP_LOWEST_TOXIC)
        if ends.any():
            ended_after[step - 1] = tally.add(
                evaluator, keys, counts[ends], weight[ends], reason[ends], elim[ends], points[ends]
            )
        go = ~ends
        counts, current, weight = counts[go], next_dose[go], weight[go]
        if p.tie_break == "random":
            counts, current, weight = _split_ties(counts, current, weight, reason[go], tied[go])
        if (current == NO_DOSE).any():  # pragma: no cover - the rule never continues without a dose
            raise RuntimeError("rule continued without a dose")
    return tally.result(p, probs, visited, ended_after[:step], patients_after[:step])


def _split_ties(
    counts: IntArray,
    current: IntArray,
    weight: FloatArray,
    reason: IntArray,
    tied: npt.NDArray[np.bool_],
) -> tuple[IntArray, IntArray, FloatArray]:
    """Random tie-break: a state whose next dose was a tie goes to each tied dose, 1/k each."""
    split = (reason == _HIGHEST) & (tied.sum(axis=1) > 1)
    if not split.any():
        return counts, current, weight
    rows_split = np.flatnonzero(split)
    share = 1.0 / tied[rows_split].sum(axis=1)
    pairs = np.argwhere(tied[rows_split])
    extra_counts = counts[rows_split][pairs[:, 0]]
    extra_current = pairs[:, 1].astype(np.int64)
    extra_weight = weight[rows_split][pairs[:, 0]] * share[pairs[:, 0]]
    return (
        np.concatenate([counts[~split], extra_counts]),
        np.concatenate([current[~split], extra_current]),
        np.concatenate([weight[~split], extra_weight]),
    )


class _EndTally:
    """Probability-weighted sums over the states in which the trial ends."""

    def __init__(self, n_doses: int) -> None:
        self.n_doses = n_doses
        self.selection = np.zeros(n_doses + 1)
        self.reasons = np.zeros(_REASONS)
        self.early_stop = 0.0
        self.sums = {k: np.zeros(n_doses) for k in ("n", "n2", "tox", "tox2", "eff", "eff2")}
        self.total = 0.0
        self.total2 = 0.0

    def add(
        self,
        evaluator: _Evaluator,
        keys: StateKeys,
        counts: IntArray,
        w: FloatArray,
        reason: IntArray,
        elim: npt.NDArray[np.bool_],
        points: FloatArray,
    ) -> float:
        """Add the ending states of one step; returns their total probability."""
        n, tox, eff, _ = evaluator.marginals(counts)
        for name, values in (("n", n), ("tox", tox), ("eff", eff)):
            self.sums[name] += w @ values
            self.sums[name + "2"] += w @ (values.astype(np.float64) ** 2)
        total_n = n.sum(axis=1).astype(np.float64)
        self.total += float(w @ total_n)
        self.total2 += float(w @ total_n**2)
        self.reasons += np.bincount(reason, weights=w, minlength=_REASONS)[:_REASONS]
        obd_end = reason >= int(Reason.END_EARLYSTOP)
        no_obd = float(w[~obd_end].sum())
        self.early_stop += no_obd
        self.selection[self.n_doses] += no_obd
        if obd_end.any():
            chosen = _select_obd(evaluator, keys, counts[obd_end], elim[obd_end], points[obd_end])
            where = np.where(chosen < 0, self.n_doses, chosen)
            self.selection += np.bincount(where, weights=w[obd_end], minlength=self.n_doses + 1)
        return float(w.sum())

    def result(
        self,
        params: Boin12Params,
        probs: FloatArray,
        visited: int,
        ended_after: FloatArray,
        patients_after: IntArray,
    ) -> ExactResult:
        s = self.sums

        def sd(mean: FloatArray, sq: FloatArray) -> FloatArray:
            return np.asarray(np.sqrt(np.maximum(sq - mean**2, 0.0)), dtype=np.float64)

        return ExactResult(
            params=params,
            joint=probs,
            selection=self.selection,
            early_stop=self.early_stop,
            mean_n=s["n"],
            sd_n=sd(s["n"], s["n2"]),
            mean_tox=s["tox"],
            mean_eff=s["eff"],
            mean_total_n=self.total,
            states=visited,
            sd_tox=sd(s["tox"], s["tox2"]),
            sd_eff=sd(s["eff"], s["eff2"]),
            sd_total_n=float(np.sqrt(max(self.total2 - self.total**2, 0.0))),
            ended_after=np.asarray(ended_after, dtype=np.float64),
            patients_after=np.asarray(patients_after, dtype=np.int64),
            reasons=self.reasons,
        )


def _select_obd(
    evaluator: _Evaluator,
    keys: StateKeys,
    counts: IntArray,
    elim: npt.NDArray[np.bool_],
    points: FloatArray,
) -> IntArray:
    """The design's OBD rule on each ending state, asked once per distinct per-dose counts.

    End states that differ only in the current dose have the same OBD (the rule reads counts,
    utility points and eliminations, all functions of the counts).
    """
    n, tox, _, _ = evaluator.marginals(counts)
    if not keys.fits:
        return np.asarray(select_obd_batch(n, tox, points, elim, evaluator.params).obd)
    packed = keys.keys(counts, np.zeros(len(counts), dtype=np.int64))
    unique, inverse = np.unique(packed, return_inverse=True)
    inverse = inverse.ravel()
    first = np.empty(len(unique), dtype=np.int64)
    first[inverse] = np.arange(len(inverse))  # one representative row per distinct counts
    chosen = select_obd_batch(n[first], tox[first], points[first], elim[first], evaluator.params)
    return np.asarray(chosen.obd[inverse], dtype=np.int64)
