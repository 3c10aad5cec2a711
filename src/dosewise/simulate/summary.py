"""Operating characteristics: sums per chunk, combined in chunk order, then means with MC errors.

A chunk's trials are reduced at once to a :class:`Tally` of sums (integers where the data are
counts, so combining is exact), and chunks are added in their index order, so the summary does
not depend on how many workers ran them. :class:`Summary` turns the tally into the
operating-characteristic table of boin12.md §9.4-9.5, each figure with its Monte Carlo standard
error: selection percentages (binomial SE), means (SD/√N), percentages of patients (a ratio of
means; delta-method SE) and the mean duration. Its JSON, table and CSV views live in the base
class :class:`OperatingCharacteristics`, shared with the exact summaries of
:mod:`dosewise.simulate.exact_summary` (same keys, ``"method": "exact"``, errors 0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import numpy.typing as npt

from dosewise.design.params import Boin12Params
from dosewise.design.rule import Reason
from dosewise.simulate.results import TrialResults
from dosewise.simulate.scenario import DAYS_PER_MONTH, Scenario

if TYPE_CHECKING:
    import pandas as pd

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

_REASONS = 32


@dataclass(slots=True)
class Tally:
    """Sums over trials (per dose where it says so); addable in chunk order."""

    n_doses: int
    trials: int = 0
    selected: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # J + 1
    reasons: IntArray = field(default_factory=lambda: np.zeros(_REASONS, dtype=np.int64))
    n: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    n_sq: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    n_cross: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # n_j · N
    tox: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    tox_sq: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    eff: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    eff_sq: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    total: int = 0
    total_sq: int = 0
    above: int = 0  # patients above the true MTD
    above_sq: int = 0
    above_cross: int = 0
    duration: float = 0.0
    duration_sq: float = 0.0

    def __post_init__(self) -> None:
        j = self.n_doses
        for name, size in (
            ("selected", j + 1),
            ("n", j),
            ("n_sq", j),
            ("n_cross", j),
            ("tox", j),
            ("tox_sq", j),
            ("eff", j),
            ("eff_sq", j),
        ):
            if getattr(self, name).size == 0:
                setattr(self, name, np.zeros(size, dtype=np.int64))

    @classmethod
    def of(cls, results: TrialResults, true_mtd: int) -> Tally:
        """Reduce one chunk's trials (``true_mtd``: number of doses at or below the MTD)."""
        n_doses = results.n.shape[1]
        sel = np.where(results.selected >= 0, results.selected, n_doses)
        total = results.n.sum(axis=1)
        above = results.n[:, true_mtd:].sum(axis=1)
        return cls(
            n_doses=n_doses,
            trials=results.size,
            selected=np.bincount(sel, minlength=n_doses + 1).astype(np.int64),
            reasons=np.bincount(results.reason.astype(np.int64), minlength=_REASONS).astype(
                np.int64
            ),
            n=results.n.sum(axis=0),
            n_sq=(results.n**2).sum(axis=0),
            n_cross=(results.n * total[:, None]).sum(axis=0),
            tox=results.tox.sum(axis=0),
            tox_sq=(results.tox**2).sum(axis=0),
            eff=results.eff.sum(axis=0),
            eff_sq=(results.eff**2).sum(axis=0),
            total=int(total.sum()),
            total_sq=int((total**2).sum()),
            above=int(above.sum()),
            above_sq=int((above**2).sum()),
            above_cross=int((above * total).sum()),
            duration=float(results.duration.sum()),
            duration_sq=float((results.duration**2).sum()),
        )

    def add(self, other: Tally) -> None:
        """Add another chunk's sums (call in chunk order for reproducible float sums)."""
        self.trials += other.trials
        for name in ("selected", "reasons", "n", "n_sq", "n_cross", "tox", "tox_sq"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.eff = self.eff + other.eff
        self.eff_sq = self.eff_sq + other.eff_sq
        for name in ("total", "total_sq", "above", "above_sq", "above_cross"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.duration += other.duration
        self.duration_sq += other.duration_sq


def _mean_sd_se(total: Any, sq: Any, count: int) -> tuple[Any, ...]:
    """Mean, SD (n - 1) and SE of per-trial values from their sum and sum of squares."""
    mean = np.asarray(total, dtype=np.float64) / count
    var = np.asarray(sq, dtype=np.float64) / count - mean**2
    sd = np.sqrt(np.maximum(var, 0.0) * (count / (count - 1))) if count > 1 else np.zeros_like(mean)
    return mean, sd, sd / math.sqrt(count)


def _ratio_se(y: Any, y_sq: Any, cross: Any, t: Tally) -> tuple[Any, Any]:
    """Σy / Σx with x = patients per trial, and its delta-method standard error."""
    count = t.trials
    if t.total == 0:
        zero = np.zeros_like(np.asarray(y, dtype=np.float64))
        return zero, zero
    mean_x = t.total / count
    ratio = np.asarray(y, dtype=np.float64) / t.total
    # Var(y - R x) estimated from the sums; var(R) ≈ Var(y - R x) / (count · mean_x²).
    resid = (
        np.asarray(y_sq, dtype=np.float64)
        - 2 * ratio * np.asarray(cross, dtype=np.float64)
        + ratio**2 * t.total_sq
    ) / count
    se = np.sqrt(np.maximum(resid, 0.0) / (max(count - 1, 1) * mean_x**2))
    return ratio, se


def _pct_se(count: Any, trials: int) -> tuple[Any, Any]:
    p = np.asarray(count, dtype=np.float64) / trials
    return 100 * p, 100 * np.sqrt(p * (1 - p) / trials)


def _keys(values: Any, n_doses: int, digits: int = 6) -> dict[str, float]:
    return {str(j + 1): round(float(values[j]), digits) for j in range(n_doses)}


class OperatingCharacteristics:
    """What a summary of operating characteristics offers, simulated or exact.

    Subclasses give the figures (:meth:`figures`, the same keys for both, standard errors 0
    when exact) and the ending rules; the JSON, table and CSV views are shared here, so
    ``dosewise simulate --json`` and ``--exact --json`` have the same shape.
    """

    scenario: Scenario
    params: Boin12Params
    tite: bool
    seconds: float
    #: "simulation" or "exact".
    method: ClassVar[str] = "simulation"

    @property
    def trials(self) -> int | None:
        """Number of simulated trials (None when exact)."""
        raise NotImplementedError

    @property
    def run_seed(self) -> int | None:
        """The seed of the random streams (None when exact)."""
        raise NotImplementedError

    @property
    def run_chunk_size(self) -> int | None:
        """Trials per chunk (None when exact)."""
        raise NotImplementedError

    @property
    def true_obd(self) -> int | None:
        """The scenario's true OBD (1-based) under this design's φT, φE and utilities."""
        return self.scenario.true_obd(self.params)

    @property
    def true_mtd(self) -> int:
        """Number of doses with p_T <= φT."""
        return self.scenario.true_mtd(self.params)

    def figures(self) -> dict[str, Any]:
        """Every figure and its standard error, as arrays (0-based doses; 'none' last)."""
        raise NotImplementedError

    def stop_reasons(self) -> dict[str, Any]:
        """How trials ended: count per rule (simulation) or percentage of trials (exact)."""
        raise NotImplementedError

    def extra(self) -> dict[str, Any]:
        """Keys that only one kind of summary has (e.g. ``states`` when exact)."""
        return {}

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``dosewise simulate --json`` (doses as "1".."J")."""
        f = self.figures()
        j = self.params.n_doses
        obd = self.true_obd
        selection = _keys(f["selection_pct"], j)
        selection["none"] = round(float(f["selection_pct"][j]), 6)
        selection_se = _keys(f["selection_se"], j)
        selection_se["none"] = round(float(f["selection_se"][j]), 6)
        if obd is None:  # the right answer is "no OBD"
            correct, correct_se = f["selection_pct"][j], f["selection_se"][j]
            at_obd, at_obd_se = 0.0, 0.0
        else:
            correct, correct_se = f["selection_pct"][obd - 1], f["selection_se"][obd - 1]
            at_obd, at_obd_se = f["pct_patients"][obd - 1], f["pct_patients_se"][obd - 1]
        above_mtd_sel = float(np.sum(f["selection_pct"][self.true_mtd : j]))
        return {
            "scenario": self.scenario.name,
            "method": self.method,
            "trials": self.trials,
            "seed": self.run_seed,
            "true_obd": obd,
            "true_mtd": self.true_mtd,
            "selection_pct": selection,
            "selection_se": selection_se,
            "mean_n": _keys(f["mean_n"], j),
            "sd_n": _keys(f["sd_n"], j),
            "se_n": _keys(f["se_n"], j),
            "mean_tox": _keys(f["mean_tox"], j),
            "se_tox": _keys(f["se_tox"], j),
            "mean_eff": _keys(f["mean_eff"], j),
            "se_eff": _keys(f["se_eff"], j),
            "pct_patients": _keys(f["pct_patients"], j),
            "pct_patients_se": _keys(f["pct_patients_se"], j),
            "pct_select_true_obd": round(float(correct), 6),
            "pct_select_true_obd_se": round(float(correct_se), 6),
            "pct_patients_at_true_obd": round(float(at_obd), 6),
            "pct_patients_at_true_obd_se": round(float(at_obd_se), 6),
            "pct_patients_above_mtd": round(f["pct_patients_above_mtd"], 6),
            "pct_patients_above_mtd_se": round(f["pct_patients_above_mtd_se"], 6),
            "pct_select_above_mtd": round(above_mtd_sel, 6),
            "early_stop_pct": round(f["early_stop_pct"], 6),
            "early_stop_se": round(f["early_stop_se"], 6),
            "mean_total_n": round(f["mean_total_n"], 6),
            "se_total_n": round(f["se_total_n"], 6),
            "mean_duration_days": round(f["mean_duration_days"], 4),
            "se_duration_days": round(f["se_duration_days"], 4),
            "mean_duration_months": round(f["mean_duration_days"] / DAYS_PER_MONTH, 4),
            "stop_reasons": self.stop_reasons(),
            "seconds": round(self.seconds, 4),
            "engine": "tite-boin12" if self.tite else "boin12",
            "tie_break": self.params.tie_break,
            "chunk_size": self.run_chunk_size,
            "design": self.params.to_dict(),
            "truth": {
                "p_tox": _keys(self.scenario.p_tox, j),
                "p_eff": _keys(self.scenario.p_eff, j),
                "utility": _keys(self.scenario.utility(self.params), j, 4),
            },
            "setting": self.scenario.to_dict(),
            **self.extra(),
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per dose plus a 'none' row: truth, selection, allocation, with MC errors."""
        import pandas as pd  # here: reading a stored summary need not import pandas

        f = self.figures()
        j = self.params.n_doses
        utility = self.scenario.utility(self.params)
        rows = []
        for d in range(j):
            rows.append(
                {
                    "dose": str(d + 1),
                    "p_tox": float(self.scenario.p_tox[d]),
                    "p_eff": float(self.scenario.p_eff[d]),
                    "utility": float(utility[d]),
                    "true_obd": self.true_obd == d + 1,
                    "selection_pct": float(f["selection_pct"][d]),
                    "selection_se": float(f["selection_se"][d]),
                    "mean_n": float(f["mean_n"][d]),
                    "sd_n": float(f["sd_n"][d]),
                    "se_n": float(f["se_n"][d]),
                    "pct_patients": float(f["pct_patients"][d]),
                    "pct_patients_se": float(f["pct_patients_se"][d]),
                    "mean_tox": float(f["mean_tox"][d]),
                    "se_tox": float(f["se_tox"][d]),
                    "mean_eff": float(f["mean_eff"][d]),
                    "se_eff": float(f["se_eff"][d]),
                }
            )
        none: dict[str, Any] = {key: np.nan for key in rows[0]}
        none.update(
            dose="none",
            true_obd=self.true_obd is None,
            selection_pct=float(f["selection_pct"][j]),
            selection_se=float(f["selection_se"][j]),
        )
        rows.append(none)
        return pd.DataFrame(rows)

    def to_csv(self, path: str) -> None:
        """Write the per-dose table, preceded by '#' lines with the design and overall figures."""
        data = self.to_dict()
        header = [
            f"# scenario={data['scenario']} method={data['method']} trials={data['trials']} "
            f"seed={data['seed']} engine={data['engine']} tie_break={data['tie_break']}",
            "# design=" + " ".join(f"{k}={v}" for k, v in data["design"].items()),
            f"# true_obd={data['true_obd']} true_mtd={data['true_mtd']} "
            f"early_stop_pct={data['early_stop_pct']} (se {data['early_stop_se']}) "
            f"pct_select_true_obd={data['pct_select_true_obd']} "
            f"mean_duration_days={data['mean_duration_days']} "
            f"(months {data['mean_duration_months']}) mean_total_n={data['mean_total_n']}",
        ]
        with open(path, "w", encoding="utf-8", newline="") as handle:
            handle.write("\n".join(header) + "\n")
            self.to_frame().to_csv(handle, index=False, float_format="%.6g")


@dataclass(frozen=True, slots=True)
class Summary(OperatingCharacteristics):
    """Operating characteristics of one design under one scenario, from simulated trials."""

    scenario: Scenario
    params: Boin12Params
    tally: Tally
    seed: int
    tite: bool
    seconds: float
    chunk_size: int

    @property
    def trials(self) -> int:
        """Number of simulated trials."""
        return self.tally.trials

    @property
    def run_seed(self) -> int:
        """The seed of the random streams."""
        return self.seed

    @property
    def run_chunk_size(self) -> int:
        """Trials per chunk."""
        return self.chunk_size

    def figures(self) -> dict[str, Any]:
        """Every figure and its standard error, as arrays (0-based doses; 'none' last)."""
        t = self.tally
        count = t.trials
        sel_pct, sel_se = _pct_se(t.selected, count)
        mean_n, sd_n, se_n = _mean_sd_se(t.n, t.n_sq, count)
        mean_tox, sd_tox, se_tox = _mean_sd_se(t.tox, t.tox_sq, count)
        mean_eff, sd_eff, se_eff = _mean_sd_se(t.eff, t.eff_sq, count)
        pct_pat, pct_pat_se = _ratio_se(t.n, t.n_sq, t.n_cross, t)
        above, above_se = _ratio_se(float(t.above), float(t.above_sq), float(t.above_cross), t)
        mean_total, sd_total, se_total = _mean_sd_se(float(t.total), float(t.total_sq), count)
        dur, sd_dur, se_dur = _mean_sd_se(t.duration, t.duration_sq, count)
        early = int(sum(t.reasons[r] for r in Reason if r.stops and not r.selects_obd))
        early_pct, early_se = _pct_se(early, count)
        return {
            "selection_pct": sel_pct,
            "selection_se": sel_se,
            "mean_n": mean_n,
            "sd_n": sd_n,
            "se_n": se_n,
            "mean_tox": mean_tox,
            "sd_tox": sd_tox,
            "se_tox": se_tox,
            "mean_eff": mean_eff,
            "sd_eff": sd_eff,
            "se_eff": se_eff,
            "pct_patients": 100 * pct_pat,
            "pct_patients_se": 100 * pct_pat_se,
            "pct_patients_above_mtd": 100 * float(above),
            "pct_patients_above_mtd_se": 100 * float(above_se),
            "mean_total_n": float(mean_total),
            "sd_total_n": float(sd_total),
            "se_total_n": float(se_total),
            "mean_duration_days": float(dur),
            "sd_duration_days": float(sd_dur),
            "se_duration_days": float(se_dur),
            "early_stop_pct": float(early_pct),
            "early_stop_se": float(early_se),
        }

    def stop_reasons(self) -> dict[str, Any]:
        """Number of trials ended by each rule (rules that ended none are left out)."""
        return {r.name.lower(): int(self.tally.reasons[r]) for r in Reason if self.tally.reasons[r]}
