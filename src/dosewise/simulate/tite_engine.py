"""The TITE-BOIN12 simulation engine: pending outcomes, accrual suspension and real time.

Trials of a chunk advance cohort by cohort in lockstep, each on its own clock. Patients arrive at
the scenario's accrual rate; the dose for a cohort is decided when its first patient arrives
(boin12.md §8, "cohort mechanics"), from the data observed by then. If more than maxpen · n_d
patients at the current dose have an outcome pending, accrual is suspended until enough
outcomes complete (the exact time is computed from the patients' completion times); the waiting
patient is then treated (``wait``) or turned away in favour of the next arrival
(``next_arrival``, as in the authors' simulator). The effective data, eliminations,
desirabilities and the suspension test are the array functions of
:mod:`dosewise.design.tite_arrays`; the rule is :func:`dosewise.design.rule.decide_batch`.
When enrolment ends (maximum sample size or n_earlystop) the trial waits until every outcome
is complete, decides once more on the complete data (§4, the decision after the last cohort)
and selects the OBD with :func:`dosewise.design.obd.select_obd_batch`. The verdicts follow
``TiteBoin12.decide``: at an arrival, a stop that needs no complete data (dose 1 too toxic,
every dose eliminated) and "accrual complete" (n_earlystop) come before the suspension; such a
stop is dated at the first DLT observation that shows it (:meth:`Evaluator.first_stop`), not at
the next decision.

Event times: a patient with a DLT (response) gets a time inside the window, uniform or Weibull
(§9.2); a DLT is observed at that time, no-DLT once the window is over; likewise efficacy.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from dosewise.design.params import Boin12Params
from dosewise.design.rule import NO_DOSE, BatchDecision, Reason, decide_batch
from dosewise.design.tite_arrays import TiteArrays, tite_p_hat
from dosewise.simulate.engine import _Arrivals, category_counts, draw_outcomes, notation
from dosewise.simulate.lookup import RuleTables, rule_tables
from dosewise.simulate.results import TrialHistory, TrialResults, TrialStep, select_obds
from dosewise.simulate.scenario import Scenario
from dosewise.simulate.tite_evaluate import Evaluator

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_STOP = int(Reason.STOP_LOWEST_TOXIC)
_LOWEST = int(Reason.STOP_LOWEST_TOXIC)
_ALL_GONE = int(Reason.STOP_ALL_ELIMINATED)
_END = int(Reason.END_EARLYSTOP)
_P_CLIP = 1e-9


def _weibull(p: FloatArray, share: float, window: float) -> tuple[FloatArray, FloatArray]:
    """Shape k and scale λ per dose with P(T <= τ) = p and P(T <= τ/2) = share · p (§9.2)."""
    q = np.clip(p, _P_CLIP, 1.0 - _P_CLIP)
    shape = np.log(np.log(1.0 - q) / np.log(1.0 - share * q)) / math.log(2.0)
    scale = window / (-np.log(1.0 - q)) ** (1.0 / shape)
    return np.asarray(shape), np.asarray(scale)


class _EventTimes:
    """Draws event times (days after entry) for patients who have the event."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        ev = scenario.event_times
        self.weibull = ev.distribution == "weibull"
        self.tox = _weibull(scenario.p_tox, ev.tox_early_share, scenario.tox_window)
        self.eff = _weibull(scenario.p_eff, ev.eff_early_share, scenario.eff_window)

    def draw(
        self, u: FloatArray, dose: IntArray, which: str
    ) -> FloatArray:  # dose broadcast to u's shape
        window = self.scenario.tox_window if which == "tox" else self.scenario.eff_window
        if not self.weibull:
            return np.asarray(u * window)
        p = self.scenario.p_tox if which == "tox" else self.scenario.p_eff
        shape, scale = self.tox if which == "tox" else self.eff
        q = np.clip(p[dose], _P_CLIP, 1.0 - _P_CLIP)
        times = scale[dose] * (-np.log1p(-u * q)) ** (1.0 / shape[dose])
        return np.asarray(np.minimum(times, window))


def simulate_tite(
    params: Boin12Params,
    scenario: Scenario,
    size: int,
    rng: np.random.Generator,
    debug: bool = False,
) -> TrialResults:
    """Simulate ``size`` TITE-BOIN12 trials under ``scenario``; ``debug`` records histories."""
    scenario.check_design(params)
    tables = rule_tables(params)
    n_doses = params.n_doses
    max_n = params.max_n
    tau_t, tau_e = scenario.tox_window, scenario.eff_window
    cum = np.cumsum(scenario.joint_array, axis=1)[:, :3]
    events = _EventTimes(scenario)

    dose_p = np.full((size, max_n), -1, dtype=np.int64)
    cat_p = np.zeros((size, max_n), dtype=np.int64)
    entry = np.zeros((size, max_n))
    tox_time = np.full((size, max_n), np.inf)
    eff_time = np.full((size, max_n), np.inf)
    completion = np.full((size, max_n), -np.inf)
    current = np.full(size, params.start_dose - 1, dtype=np.int64)
    final_reason = np.zeros(size, dtype=np.int8)
    end_time = np.zeros(size)
    last_entry = np.zeros(size)
    enrolled = np.zeros(size, dtype=np.int64)
    finishing = np.zeros(size, dtype=np.bool_)
    quiet = np.zeros(size)  # no stop (§4 a, b) was due before this time
    arrivals = _Arrivals(rng, scenario, size)
    histories = _Recorder(size) if debug else None
    evaluate = Evaluator(params, scenario, dose_p, entry, tox_time, eff_time)

    live = np.arange(size)
    total = 0
    start = arrivals.open_at(live, np.zeros(size))  # the first patient, on day 0
    while True:
        # Enrol the next cohort of every live trial at its current dose, from time `start`.
        cohort = min(params.cohort_size, max_n - total)
        cur = current[live]
        entries = arrivals.cohort_entries(live, start, cohort)
        cats = draw_outcomes(rng, cum[cur], cohort)
        u_tox = rng.random((live.size, cohort))
        u_eff = rng.random((live.size, cohort))
        dose_c = np.broadcast_to(cur[:, None], cats.shape)
        has_tox = cats >= 2
        has_eff = (cats == 1) | (cats == 3)
        tt = np.where(has_tox, events.draw(u_tox, dose_c, "tox"), np.inf)
        te = np.where(has_eff, events.draw(u_eff, dose_c, "eff"), np.inf)
        cols = slice(total, total + cohort)
        dose_p[live, cols] = dose_c
        cat_p[live, cols] = cats
        entry[live, cols] = entries
        tox_time[live, cols] = tt
        eff_time[live, cols] = te
        resolved = np.maximum(np.minimum(tt, tau_t), np.minimum(te, tau_e))
        completion[live, cols] = entries + resolved
        last_entry[live] = entries[:, -1]
        quiet[live] = entries[:, -1]
        total += cohort
        enrolled[live] = total
        if histories is not None:
            histories.cohorts(live, cur, category_counts(cats))
        if total >= max_n:
            finishing[live] = True
            break

        # The next cohort's first patient arrives; accrual may be suspended (§8). The verdicts
        # are TiteBoin12's, in its order: at the arrival, the stops that need no complete data
        # (§4 a, b) and "accrual complete" (n_earlystop reached) come before any suspension.
        cur = current[live]
        arrival = arrivals.next[live].copy()
        reopen = _reopen_time(completion[live, :total], dose_p[live, :total], cur, params)
        start = arrivals.open_at(live, np.maximum(reopen, last_entry[live]))
        ready = np.maximum(arrival, last_entry[live])
        complete_n = evaluate.n_at_current(live, cur, total) >= params.n_earlystop
        complete_n &= params.n_earlystop > 0
        suspended = start > ready
        now = complete_n.copy()
        check = np.flatnonzero(suspended & ~complete_n)
        if check.size:
            now[check] = evaluate.stops_now(live[check], ready[check], total)
        at = np.where(now, ready, start)
        tie_u = rng.random(live.size) if params.tie_break == "random" else None
        step = _Step(params, tables, evaluate, live, cur, np.full(live.size, total), tie_u)
        data, elim, batch = step.decide(at, total)
        step.stop_sooner(at, quiet[live], total, elim, batch)
        # Accrual complete with outcomes pending: no decision until the follow-up is complete.
        complete = (batch.reason == _END) & (data.pending.sum(axis=1) > 0)
        decided = ~complete
        if histories is not None:
            waited = np.where(at > ready, ready, np.nan)
            k = np.flatnonzero(decided)
            histories.step(
                live[k],
                at[k],
                batch.next_dose[k],
                batch.reason[k],
                None if tie_u is None else tie_u[k],
                evaluate.elim[live[k]],
                waited[k],
            )
        evaluate.commit(live[decided], elim[decided])
        evaluate.forget(live[complete])
        quiet[live[complete]] = at[complete]
        stopped = (batch.reason >= _STOP) & (batch.reason < _END)
        final_reason[live[stopped]] = batch.reason[stopped]
        end_time[live[stopped]] = at[stopped]
        early = batch.reason >= _END
        finishing[live[early]] = True
        go_on = ~(stopped | early)
        current[live[go_on]] = batch.next_dose[go_on]
        live = live[go_on]
        start = at[go_on]
        if live.size == 0:
            break

    selected = np.full(size, NO_DOSE, dtype=np.int64)
    done = np.flatnonzero(finishing)
    if done.size:
        width = int(enrolled[done].max())
        t_end = completion[done, :width].max(axis=1)
        tie_u = rng.random(done.size) if params.tie_break == "random" else None
        step = _Step(params, tables, evaluate, done, current[done], enrolled[done], tie_u)
        data, elim, batch = step.decide(t_end, width)
        step.stop_sooner(t_end, quiet[done], width, elim, batch)
        end_time[done] = t_end
        if histories is not None:
            nan = np.full(done.size, np.nan)
            histories.step(
                done, t_end, batch.next_dose, batch.reason, tie_u, evaluate.elim[done], nan
            )
        evaluate.commit(done, elim)
        final_reason[done] = batch.reason
        normal = batch.reason >= _END
        if normal.any():
            selected[done[normal]] = select_obds(
                data.n[normal], data.dlt[normal], data.points[normal], elim[normal], params
            )
    n_final, tox_final, eff_final = _final_counts(dose_p, cat_p, n_doses)
    trial_histories: tuple[TrialHistory, ...] = ()
    if histories is not None:
        trial_histories = histories.build(selected, dose_p, entry, tox_time, eff_time, enrolled)
    return TrialResults(
        selected=selected,
        reason=final_reason,
        n=n_final,
        tox=tox_final,
        eff=eff_final,
        duration=end_time,
        histories=trial_histories,
    )


class _Step:
    """One decision for a set of trials: evaluate at times, apply the rule, date stops early."""

    def __init__(
        self,
        params: Boin12Params,
        tables: RuleTables,
        evaluate: Evaluator,
        rows: IntArray,
        current: IntArray,
        total_n: IntArray,
        tie_u: FloatArray | None,
    ) -> None:
        self.params, self.tables, self.evaluate = params, tables, evaluate
        self.rows, self.current, self.total_n, self.tie_u = rows, current, total_n, tie_u

    def decide(
        self, at: FloatArray, width: int, k: IntArray | None = None
    ) -> tuple[TiteArrays, BoolArray, BatchDecision]:
        """The data and the rule's decision of rows ``k`` (default all) at times ``at``."""
        k = np.arange(self.rows.size) if k is None else k
        data, elim, lowest, desir = self.evaluate(self.rows[k], at, width)
        cur = self.current[k]
        batch = decide_batch(
            n=data.n,
            p_hat=tite_p_hat(data, cur),
            desirability=desir,
            eliminated=elim,
            tox_eliminated_lowest=lowest,
            current=cur,
            total_n=np.asarray(self.total_n[k], dtype=np.int64),
            params=self.params,
            lambda_e=self.tables.lambda_e,
            lambda_d=self.tables.lambda_d,
            tie_u=None if self.tie_u is None else self.tie_u[k],
        )
        return data, elim, batch

    def stop_sooner(
        self, at: FloatArray, quiet: FloatArray, width: int, elim: BoolArray, batch: BatchDecision
    ) -> None:
        """Date a stop that needs no complete data (§4 a, b) when the data first showed it.

        ``TiteBoin12`` stops the trial as soon as dose 1 is too toxic or every dose is
        eliminated, whatever is pending; a stop found at ``at`` is moved back to the first time
        since ``quiet`` (when none was due) that shows it. ``at``, ``elim`` and ``batch`` are
        updated in place.
        """
        k = np.flatnonzero((batch.reason == _LOWEST) | (batch.reason == _ALL_GONE))
        if k.size == 0:
            return
        rows = self.rows[k]
        self.evaluate.forget(rows)  # the evaluation at `at` is not committed for these
        first = self.evaluate.first_stop(rows, quiet[k], at[k], width)
        sooner = first < at[k]
        if not sooner.any():
            return
        j = k[sooner]
        _, elim_j, batch_j = self.decide(first[sooner], width, j)
        at[j] = first[sooner]
        elim[j] = elim_j
        batch.next_dose[j] = batch_j.next_dose
        batch.reason[j] = batch_j.reason


def _reopen_time(
    completion: FloatArray, dose: IntArray, current: IntArray, params: Boin12Params
) -> FloatArray:
    """Earliest time at which at most maxpen · n_d patients at the current dose are pending.

    Patients at the current dose complete at known times; at most L = floor(maxpen · n_d) may
    still be pending, so accrual reopens at the (L + 1)-th latest completion time.
    """
    at_dose = dose == current[:, None]
    n_d = at_dose.sum(axis=1)
    allowed = np.floor(params.maxpen * n_d).astype(np.int64)
    times = np.sort(np.where(at_dose, completion, -np.inf), axis=1)
    width = completion.shape[1]
    pick = np.clip(width - 1 - allowed, 0, width - 1)
    reopen = times[np.arange(times.shape[0]), pick]
    limited = (n_d > allowed) & (n_d < params.max_n)
    return np.asarray(np.where(limited, reopen, -np.inf))


def _final_counts(dose_p: IntArray, cat_p: IntArray, n_doses: int) -> tuple[IntArray, ...]:
    """Patients, DLTs and responses per dose over the whole trial (complete follow-up)."""
    size = dose_p.shape[0]
    slot = dose_p >= 0
    index = np.where(slot, np.arange(size)[:, None] * n_doses + dose_p, size * n_doses).ravel()
    cells = size * n_doses

    def count(weights: BoolArray) -> IntArray:
        out = np.bincount(index, weights=weights.ravel().astype(np.float64), minlength=cells + 1)
        return np.asarray(out[:cells].reshape(size, n_doses), dtype=np.int64)

    return count(slot), count(slot & (cat_p >= 2)), count(slot & ((cat_p == 1) | (cat_p == 3)))


class _Recorder:
    """Debug histories: cohorts, decisions and the data needed to replay each decision."""

    def __init__(self, size: int) -> None:
        self._cohorts: list[list[str]] = [[] for _ in range(size)]
        self._steps: list[list[TrialStep]] = [[] for _ in range(size)]

    def cohorts(self, rows: IntArray, dose: IntArray, counts: IntArray) -> None:
        for k, i in enumerate(rows):
            self._cohorts[i].append(notation(int(dose[k]), counts[k]))

    def step(
        self,
        rows: IntArray,
        at: FloatArray,
        next_dose: IntArray,
        reason: npt.NDArray[np.int8],
        tie_u: FloatArray | None,
        eliminated: BoolArray,
        waited: FloatArray,
    ) -> None:
        for k, i in enumerate(rows):
            nd = int(next_dose[k])
            self._steps[i].append(
                TrialStep(
                    time=float(at[k]),
                    outcomes=" ".join(self._cohorts[i]),
                    next_dose=None if nd == NO_DOSE else nd + 1,
                    reason=int(reason[k]),
                    tie_u=0.0 if tie_u is None else float(tie_u[k]),
                    eliminated=tuple(int(j) + 1 for j in np.flatnonzero(eliminated[k])),
                    wait_from=None if np.isnan(waited[k]) else float(waited[k]),
                )
            )

    def build(
        self,
        selected: IntArray,
        dose_p: IntArray,
        entry: FloatArray,
        tox_time: FloatArray,
        eff_time: FloatArray,
        enrolled: IntArray,
    ) -> tuple[TrialHistory, ...]:
        out = []
        for i in range(selected.size):
            m = int(enrolled[i])
            out.append(
                TrialHistory(
                    cohorts=tuple(self._cohorts[i]),
                    steps=tuple(self._steps[i]),
                    selected=None if selected[i] < 0 else int(selected[i]) + 1,
                    entry=tuple(float(x) for x in entry[i, :m]),
                    tox_time=tuple(float(x) for x in tox_time[i, :m]),
                    eff_time=tuple(float(x) for x in eff_time[i, :m]),
                    doses=tuple(int(x) + 1 for x in dose_p[i, :m]),
                )
            )
        return tuple(out)
