"""The TITE-BOIN12 engine's view of its trials' data at a time (see :mod:`.tite_engine`).

:class:`Evaluator` computes the effective data, eliminations and desirabilities of many trials
at given times with the array functions of :mod:`dosewise.design.tite_arrays`, reusing the Beta
evaluations of cells whose inputs did not change since the last committed evaluation.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from dosewise.design.params import Boin12Params
from dosewise.design.tite_arrays import (
    TiteArrays,
    tite_arrays,
    tite_desirability,
    tite_eliminations,
)
from dosewise.simulate.scenario import Scenario

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


class Evaluator:
    """Evaluates the observed data of live trials at a time, reusing unchanged Beta results."""

    def __init__(
        self,
        params: Boin12Params,
        scenario: Scenario,
        dose_p: IntArray,
        entry: FloatArray,
        tox_time: FloatArray,
        eff_time: FloatArray,
    ) -> None:
        self.params = params
        self.tau_t = scenario.tox_window
        self.tau_e = scenario.eff_window
        self.dose_p, self.entry, self.tox_time, self.eff_time = dose_p, entry, tox_time, eff_time
        size, n_doses = dose_p.shape[0], params.n_doses
        self.elim = np.zeros((size, n_doses), dtype=np.bool_)
        self.n = np.full((size, n_doses), -1, dtype=np.int64)
        self.points = np.zeros((size, n_doses))
        self.ess_eff = np.zeros((size, n_doses))
        self.response = np.zeros((size, n_doses), dtype=np.int64)
        self.desir = np.zeros((size, n_doses))

    def _arrays(self, rows: IntArray, at: FloatArray, width: int) -> TiteArrays:
        """The effective data of rows at times ``at`` (the first ``width`` patient slots)."""
        cols = slice(0, width)
        d = self.dose_p[rows, cols]
        e = self.entry[rows, cols]
        t = at[:, None]
        dlt = e + self.tox_time[rows, cols] <= t
        resp = e + self.eff_time[rows, cols] <= t
        tox_done = dlt | (e + self.tau_t <= t)
        eff_done = resp | (e + self.tau_e <= t)
        return tite_arrays(
            dose=d,
            follow_up=t - e,
            dlt=dlt,
            response=resp,
            tox_pending=~tox_done & (d >= 0),
            eff_pending=~eff_done & (d >= 0),
            params=self.params,
            tox_window=self.tau_t,
            eff_window=self.tau_e,
        )

    def _same_eff(self, rows: IntArray, data: TiteArrays) -> BoolArray:
        """Cells whose futility inputs equal the cached (committed) evaluation's."""
        same_n = data.n == self.n[rows]
        same = same_n & (data.ess_eff == self.ess_eff[rows])
        return np.asarray(same & (data.response == self.response[rows]))

    def n_at_current(self, rows: IntArray, current: IntArray, width: int) -> IntArray:
        """Patients treated at each trial's current dose (known without an evaluation)."""
        at_dose = self.dose_p[rows, :width] == current[:, None]
        return np.asarray(at_dose.sum(axis=1), dtype=np.int64)

    def stops_now(self, rows: IntArray, at: FloatArray, width: int) -> BoolArray:
        """Dose 1 too toxic or every dose eliminated at ``at`` (§4 a, b); caches untouched."""
        data = self._arrays(rows, at, width)
        tox, fut, lowest = tite_eliminations(
            data, self.elim[rows], self.params, self._same_eff(rows, data)
        )
        return np.asarray(lowest | (tox | fut).all(axis=1))

    def first_stop(
        self, rows: IntArray, low: FloatArray, high: FloatArray, width: int
    ) -> FloatArray:
        """The first time in [low, high) at which :meth:`stops_now` holds, else ``high``.

        The candidates are ``low`` and every DLT observed after it: with the patients fixed,
        dose 1 can become too toxic (and the last doses eliminated for toxicity) only when a
        DLT is observed. Call on rows whose cache is committed or forgotten.
        """
        seen = self.entry[rows, :width] + self.tox_time[rows, :width]
        later = (seen > low[:, None]) & (seen < high[:, None])
        times = np.sort(np.where(later, seen, np.inf), axis=1)
        times = np.concatenate([low[:, None], times], axis=1)
        out = high.copy()
        open_rows = low < high
        for k in range(times.shape[1]):
            idx = np.flatnonzero(open_rows & np.isfinite(times[:, k]))
            if idx.size == 0:
                break
            hit = idx[self.stops_now(rows[idx], times[idx, k], width)]
            out[hit] = times[hit, k]
            open_rows[hit] = False
        return np.asarray(out)

    def __call__(
        self, rows: IntArray, at: FloatArray, width: int
    ) -> tuple[TiteArrays, BoolArray, BoolArray, FloatArray]:
        """(effective arrays, eliminated, dose 1 too toxic, desirability) of rows at times at."""
        data = self._arrays(rows, at, width)
        same_n = data.n == self.n[rows]
        tox, fut, lowest = tite_eliminations(
            data, self.elim[rows], self.params, self._same_eff(rows, data)
        )
        elim = tox | fut
        same_points = same_n & (data.points == self.points[rows])
        desir = tite_desirability(data, elim, self.params, self.desir[rows], same_points)
        self.n[rows] = data.n
        self.points[rows] = data.points
        self.ess_eff[rows] = data.ess_eff
        self.response[rows] = data.response
        self.desir[rows] = desir
        return data, elim, lowest, desir

    def forget(self, rows: IntArray) -> None:
        """Drop the cached evaluation of rows whose eliminations were not committed.

        The shortcuts of the next evaluation assume the cache belongs to a committed one.
        """
        self.n[rows] = -1

    def commit(self, rows: IntArray, eliminated: BoolArray) -> None:
        """Make the eliminations of this evaluation permanent."""
        self.elim[rows] = eliminated
