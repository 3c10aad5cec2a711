"""The BOIN12 simulation engine: many trials at once, vectorised over trials with NumPy.

All trials of a chunk advance cohort by cohort in lockstep. After each cohort the engine updates
counts at the current dose, looks up eliminations and desirability in tables built by
:mod:`dosewise.design` (:mod:`dosewise.simulate.lookup`), and calls the design's own batch rule
:func:`dosewise.design.rule.decide_batch` for every live trial, so the stopping checks run in
exactly the order of boin12.md §4, including the decision after the last cohort. Trials that
end normally get their OBD from :func:`dosewise.design.obd.select_obd`, called once per distinct
final state. No rule is re-implemented here.

Time: the first patient enters on day 0; patients arrive at the scenario's accrual rate; before
each decision every treated patient must have completed both windows (last entry + max(τ_T,
τ_E), as in boin12.md §9.4), and the trial ends at that time after its last cohort.
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt

from dosewise.design.params import Boin12Params
from dosewise.design.rule import NO_DOSE, Reason, decide_batch
from dosewise.design.utility import desirability, score
from dosewise.simulate.lookup import RuleTables, rule_tables
from dosewise.simulate.results import TrialHistory, TrialResults, TrialStep, select_obds
from dosewise.simulate.scenario import CELLS, DAYS_PER_MONTH, Scenario

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_STOP = int(Reason.STOP_LOWEST_TOXIC)
_END = int(Reason.END_EARLYSTOP)


def draw_gaps(rng: np.random.Generator, scenario: Scenario, size: int) -> FloatArray:
    """Days between consecutive arrivals: Uniform(0, 2/rate) or Exponential(rate) (§9.3)."""
    mean = DAYS_PER_MONTH / scenario.accrual.rate
    if scenario.accrual.distribution == "poisson":
        return rng.exponential(mean, size)
    return rng.random(size) * (2.0 * mean)


def draw_outcomes(rng: np.random.Generator, cum: FloatArray, size: int) -> IntArray:
    """Joint outcome categories 0..3 (N, E, T, B) for ``size`` patients per trial.

    ``cum`` is (B, 3): the cumulative probabilities of N, N+E, N+E+T at each trial's dose.
    """
    u = rng.random((cum.shape[0], size))
    cat = (u[:, :, None] >= cum[:, None, :]).sum(axis=2)
    return np.asarray(cat, dtype=np.int64)


def category_counts(cat: IntArray) -> IntArray:
    """(B, size) categories -> (B, 4) counts of N, E, T, B."""
    batch = cat.shape[0]
    flat = (np.arange(batch)[:, None] * 4 + cat).ravel()
    return np.bincount(flat, minlength=4 * batch).reshape(batch, 4).astype(np.int64)


def notation(dose: int, counts: IntArray) -> str:
    """One cohort in the notation (letters grouped N, E, T, B)."""
    return str(dose + 1) + "".join(c * int(k) for c, k in zip(CELLS, counts, strict=True))


class _Arrivals:
    """Accrual clocks of B trials: the next arrival time and the suspension rule."""

    def __init__(self, rng: np.random.Generator, scenario: Scenario, batch: int) -> None:
        self.rng = rng
        self.scenario = scenario
        self.next = np.zeros(batch)  # the first patient arrives on day 0

    def open_at(self, rows: IntArray, open_time: FloatArray) -> FloatArray:
        """When the next cohort's first patient is treated, accrual reopening at ``open_time``.

        ``open_time`` is aligned with ``rows``. With ``wait`` the patient who arrives while
        accrual is closed is treated when it reopens; with ``next_arrival`` arrivals before
        reopening are turned away and the first one after it is treated.
        """
        if self.scenario.accrual.suspension == "next_arrival":
            while True:
                behind = np.flatnonzero(self.next[rows] < open_time)
                if behind.size == 0:
                    break
                self.next[rows[behind]] += draw_gaps(self.rng, self.scenario, behind.size)
            return np.asarray(self.next[rows], dtype=np.float64)
        return np.asarray(np.maximum(self.next[rows], open_time), dtype=np.float64)

    def cohort_entries(self, rows: IntArray, start: FloatArray, size: int) -> FloatArray:
        """Entry times (rows, size) of a cohort whose first patient is treated at ``start``."""
        gaps = draw_gaps(self.rng, self.scenario, rows.size * size).reshape(rows.size, size)
        offsets = np.cumsum(gaps, axis=1)
        arrivals = self.next[rows][:, None] + (offsets - gaps)
        entries = np.maximum(arrivals, start[:, None])
        entries[:, 0] = start
        self.next[rows] = arrivals[:, 0] + offsets[:, -1]
        return np.asarray(entries, dtype=np.float64)


@numba.njit(cache=True, nogil=True)
def _tally_cells(u: FloatArray, cum: FloatArray, out: IntArray) -> None:  # pragma: no cover
    """Add each uniform draw to the first cell whose cumulative probability exceeds it."""
    for b in range(u.shape[0]):
        for k in range(u.shape[1]):
            cell = 3
            for m in range(3):
                if u[b, k] < cum[b, m]:
                    cell = m
                    break
            out[b, cell] += 1


def outcome_counts(rng: np.random.Generator, cum: FloatArray, size: int) -> IntArray:
    """(B, 4) counts of N, E, T, B among ``size`` patients per trial (``cum`` as above).

    One uniform per patient; the patient's cell is the first whose cumulative probability
    exceeds it (``cum`` is non-decreasing), tallied in one compiled loop.
    """
    u = rng.random((cum.shape[0], size))
    counts = np.zeros((cum.shape[0], 4), dtype=np.int64)
    _tally_cells(u, np.ascontiguousarray(cum, dtype=np.float64), counts)
    return counts


class _Live:
    """State of the trials still running, compacted as trials end (row k = trial ids[k])."""

    def __init__(self, size: int, n_doses: int, start: int, prior: float, joint: bool) -> None:
        self.ids = np.arange(size)
        self.n = np.zeros((size, n_doses), dtype=np.int64)
        self.tox = np.zeros_like(self.n)
        self.eff = np.zeros_like(self.n)
        self.points = np.zeros_like(self.n)  # utility points in table steps
        self.joint = np.zeros((size, n_doses, 4), dtype=np.int64) if joint else None
        self.desir = np.full((size, n_doses), prior)
        self.elim = np.zeros((size, n_doses), dtype=np.bool_)
        self.lowest = np.zeros(size, dtype=np.bool_)
        self.cur = np.full(size, start, dtype=np.int64)
        self.next_arrival = np.zeros(size)
        self.last_entry = np.zeros(size)

    def keep(self, rows: npt.NDArray[np.bool_]) -> None:
        """Drop the trials that ended."""
        for name in (
            "ids", "n", "tox", "eff", "points", "desir", "elim", "lowest", "cur",
            "next_arrival", "last_entry",
        ):  # fmt: skip
            setattr(self, name, getattr(self, name)[rows])
        if self.joint is not None:
            self.joint = self.joint[rows]


def simulate_boin12(
    params: Boin12Params,
    scenario: Scenario,
    size: int,
    rng: np.random.Generator,
    debug: bool = False,
) -> TrialResults:
    """Simulate ``size`` BOIN12 trials under ``scenario``; ``debug`` records every history."""
    scenario.check_design(params)
    tables = rule_tables(params)
    n_doses = params.n_doses
    cum = np.cumsum(scenario.joint_array, axis=1)[:, :3]
    table = tables.desirability
    wait = max(scenario.tox_window, scenario.eff_window)
    doses = np.arange(n_doses)
    s = _Live(size, n_doses, params.start_dose - 1, tables.prior, table is None)
    out_n = np.zeros((size, n_doses), dtype=np.int64)
    out_tox, out_eff = np.zeros_like(out_n), np.zeros_like(out_n)
    out_points = np.zeros((size, n_doses))
    out_elim = np.zeros((size, n_doses), dtype=np.bool_)
    final_reason = np.zeros(size, dtype=np.int8)
    duration = np.zeros(size)
    cohorts: list[list[str]] = [[] for _ in range(size)] if debug else []
    steps: list[list[TrialStep]] = [[] for _ in range(size)] if debug else []

    total = 0
    while s.ids.size:
        live = s.ids.size
        cohort = min(params.cohort_size, params.max_n - total)
        # Accrual: the cohort's first patient is treated once the previous cohort's outcomes
        # are complete (last entry + max window) and a patient has arrived.
        start = _treated_from(rng, scenario, s, wait if total else None)
        gaps = draw_gaps(rng, scenario, live * cohort).reshape(live, cohort)
        spent = gaps.sum(axis=1)
        s.last_entry = np.maximum(s.next_arrival + (spent - gaps[:, -1]), start)
        s.next_arrival = s.next_arrival + spent
        counts = outcome_counts(rng, cum[s.cur], cohort)
        total += cohort

        flat = np.arange(live) * n_doses + s.cur
        n_flat, tox_flat, eff_flat = s.n.reshape(-1), s.tox.reshape(-1), s.eff.reshape(-1)
        n_flat[flat] += cohort
        tox_flat[flat] += counts[:, 2] + counts[:, 3]
        eff_flat[flat] += counts[:, 1] + counts[:, 3]
        n_d, tox_d, eff_d = n_flat[flat], tox_flat[flat], eff_flat[flat]

        toxic = np.flatnonzero(tables.too_toxic[n_d, tox_d])
        if toxic.size:  # this dose and every higher one (§4), permanently
            s.elim[toxic] |= doses >= s.cur[toxic, None]
            s.lowest[toxic] |= s.cur[toxic] == 0
        s.elim.reshape(-1)[flat[tables.futile[n_d, eff_d]]] = True

        desir_flat = s.desir.reshape(-1)
        if table is not None:
            points_flat = s.points.reshape(-1)
            points_flat[flat] += counts @ tables.cell_points
            desir_flat[flat] = table[n_d, points_flat[flat]]
        else:
            assert s.joint is not None
            joint_flat = s.joint.reshape(-1, 4)
            joint_flat[flat] += counts
            m = joint_flat[flat]
            desir_flat[flat] = desirability(
                n_d, score(m[:, 0], m[:, 1], m[:, 2], m[:, 3], params), params
            )

        tie_u = rng.random(live) if params.tie_break == "random" else None
        batch = decide_batch(
            n=s.n,
            p_hat=tox_d / n_d,
            desirability=s.desir,
            eliminated=s.elim,
            tox_eliminated_lowest=s.lowest,
            current=s.cur,
            total_n=np.full(live, total, dtype=np.int64),
            params=params,
            lambda_e=tables.lambda_e,
            lambda_d=tables.lambda_d,
            tie_u=tie_u,
        )
        if debug:
            at = s.last_entry + wait
            _record(s.ids, s.cur, counts, batch.next_dose, batch.reason, tie_u, at, cohorts, steps)
        ended = batch.reason >= _STOP
        if ended.any():
            ids = s.ids[ended]
            final_reason[ids] = batch.reason[ended]
            duration[ids] = s.last_entry[ended] + wait
            out_n[ids], out_tox[ids], out_eff[ids] = s.n[ended], s.tox[ended], s.eff[ended]
            out_points[ids] = _points(s, ended, tables, params)
            out_elim[ids] = s.elim[ended]
            s.keep(~ended)
        s.cur = batch.next_dose[~ended]
        if total >= params.max_n and s.ids.size:
            raise RuntimeError("decide_batch did not end a trial at the maximum sample size")

    selected = np.full(size, NO_DOSE, dtype=np.int64)
    normal = final_reason >= _END
    if normal.any():
        selected[normal] = select_obds(
            out_n[normal], out_tox[normal], out_points[normal], out_elim[normal], params
        )
    histories: tuple[TrialHistory, ...] = ()
    if debug:
        histories = tuple(
            TrialHistory(
                tuple(cohorts[i]),
                tuple(steps[i]),
                None if selected[i] < 0 else int(selected[i]) + 1,
            )
            for i in range(size)
        )
    return TrialResults(
        selected=selected,
        reason=final_reason,
        n=out_n,
        tox=out_tox,
        eff=out_eff,
        duration=duration,
        histories=histories,
    )


def _treated_from(
    rng: np.random.Generator, scenario: Scenario, s: _Live, wait: float | None
) -> FloatArray:
    """When each live trial's next cohort starts (``wait`` None: the first cohort, day 0)."""
    if wait is None:
        return np.asarray(s.next_arrival.copy(), dtype=np.float64)
    reopen = s.last_entry + wait
    if scenario.accrual.suspension == "next_arrival":  # arrivals before reopening go away
        while True:
            behind = np.flatnonzero(s.next_arrival < reopen)
            if behind.size == 0:
                break
            s.next_arrival[behind] += draw_gaps(rng, scenario, behind.size)
        return np.asarray(s.next_arrival.copy(), dtype=np.float64)
    return np.asarray(np.maximum(s.next_arrival, reopen), dtype=np.float64)


def _points(
    s: _Live, rows: npt.NDArray[np.bool_], tables: RuleTables, params: Boin12Params
) -> FloatArray:
    """Utility points per dose, exactly as :func:`dosewise.design.utility.score` gives them."""
    if s.joint is None:
        return np.asarray(s.points[rows] * tables.step, dtype=np.float64)
    m = s.joint[rows]
    return np.asarray(score(m[..., 0], m[..., 1], m[..., 2], m[..., 3], params), dtype=np.float64)


def _record(
    live: IntArray,
    cur: IntArray,
    counts: IntArray,
    next_dose: IntArray,
    reason: npt.NDArray[np.int8],
    tie_u: FloatArray | None,
    start: FloatArray,
    cohorts: list[list[str]],
    steps: list[list[TrialStep]],
) -> None:
    for k, i in enumerate(live):
        cohorts[i].append(notation(int(cur[k]), counts[k]))
        nd = int(next_dose[k])
        steps[i].append(
            TrialStep(
                time=float(start[k]),
                outcomes=" ".join(cohorts[i]),
                next_dose=None if nd == NO_DOSE else nd + 1,
                reason=int(reason[k]),
                tie_u=0.0 if tie_u is None else float(tie_u[k]),
            )
        )
