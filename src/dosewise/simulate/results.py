"""Per-trial results of one simulated chunk, and the OBD selection shared by both engines.

A :class:`TrialResults` holds one row per trial: the selected dose, why the trial ended, the
patients, toxicities and responses per dose, and the duration. With ``debug`` the engines also
record each trial's cohort history (as ``"1NNE 2TBN"`` notation, plus the random tie-break draw
and the decision after each cohort) so that tests can replay it through ``dosewise.design``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from dosewise.design.obd import select_obd_batch
from dosewise.design.params import Boin12Params

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
Int8Array = npt.NDArray[np.int8]


@dataclass(frozen=True, slots=True)
class TrialStep:
    """One decision in a debug history (1-based doses; None = no dose)."""

    time: float
    outcomes: str  # every cohort so far, in the notation
    next_dose: int | None
    reason: int  # dosewise.design.rule.Reason value
    tie_u: float
    eliminated: tuple[int, ...] = ()  # TITE: doses eliminated before this decision
    wait_from: float | None = None  # TITE: the arrival time if accrual was suspended


@dataclass(frozen=True, slots=True)
class TrialHistory:
    """A trial's cohorts and decisions (debug mode), and for TITE its patients' times."""

    cohorts: tuple[str, ...]
    steps: tuple[TrialStep, ...]
    selected: int | None
    entry: tuple[float, ...] = ()
    tox_time: tuple[float, ...] = ()  # inf when the patient has no DLT
    eff_time: tuple[float, ...] = ()  # inf when the patient does not respond
    doses: tuple[int, ...] = ()  # 1-based dose per patient

    @property
    def outcomes(self) -> str:
        """The whole trial in the notation."""
        return " ".join(self.cohorts)


@dataclass(frozen=True, slots=True)
class TrialResults:
    """One row per trial of a chunk (0-based doses; ``selected`` -1 = no OBD)."""

    selected: IntArray
    reason: Int8Array  # the final Reason
    n: IntArray  # (B, J)
    tox: IntArray
    eff: IntArray
    duration: FloatArray  # days from the first patient to the end of the trial
    histories: tuple[TrialHistory, ...] = field(default=())

    @property
    def size(self) -> int:
        """Number of trials."""
        return int(self.selected.shape[0])


def select_obds(
    n: IntArray,
    tox: IntArray,
    points: FloatArray,
    eliminated: BoolArray,
    params: Boin12Params,
) -> IntArray:
    """0-based OBD (-1 = none) per row, by the design's :func:`select_obd_batch` (§7)."""
    if n.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    return np.asarray(select_obd_batch(n, tox, points, eliminated, params).obd, dtype=np.int64)
