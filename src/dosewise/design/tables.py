"""Decision tables a protocol prints: BOIN boundaries by n and the BOIN12 RDS table.

The RDS (rank-based desirability score, boin12.md §3.5; Lin et al. 2020 Table 3) ranks
Pr(U > u_b | data) over every admissible outcome combination for a set of sample sizes, ties
averaged. With additive utilities (u11 + u00 = 100) the table is indexed by (n, #DLT, #responses);
otherwise utility depends on joint counts and the table is indexed by (n, #DLT, #responses,
#both) — a marginal table would be wrong (§3.3).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from dosewise.design.admissibility import futile, prob_eff_below_target, too_toxic
from dosewise.design.boin import boin_boundaries, deescalate_count, escalate_count
from dosewise.design.params import Boin12Params
from dosewise.design.utility import benchmark_utility, desirability, score
from dosewise.errors import InvalidParameter

if TYPE_CHECKING:  # pandas (about 0.15 s) loads only for the frame views
    import pandas as pd


@dataclass(frozen=True, slots=True)
class RdsRow:
    """One outcome combination of the RDS table; ``rds`` is None where not admissible."""

    n: int
    tox: int
    eff: int
    both: int | None
    admissible: bool
    desirability: float
    rds: float | None


@dataclass(frozen=True, slots=True)
class RdsTable:
    """The RDS table for a set of sample sizes."""

    params: Boin12Params
    sample_sizes: tuple[int, ...]
    u_b: float
    joint: bool
    rows: tuple[RdsRow, ...]

    def to_frame(self) -> pd.DataFrame:
        """One row per combination: n, tox, eff, [both], admissible, desirability, rds."""
        import pandas as pd

        frame = pd.DataFrame(
            [
                {
                    "n": r.n,
                    "tox": r.tox,
                    "eff": r.eff,
                    "both": r.both,
                    "admissible": r.admissible,
                    "desirability": r.desirability,
                    "rds": r.rds,
                }
                for r in self.rows
            ]
        )
        if not self.joint:
            frame = frame.drop(columns="both")
        return frame

    def to_dict(self) -> dict[str, object]:
        """The JSON shape of ``dosewise rds``."""
        rows = []
        for r in self.rows:
            row: dict[str, object] = {"n": r.n, "tox": r.tox, "eff": r.eff}
            if self.joint:
                row["both"] = r.both
            row.update(
                admissible=r.admissible,
                desirability=round(r.desirability, 12),
                rds=r.rds,
            )
            rows.append(row)
        return {
            "u_b": round(self.u_b, 10),
            "joint": self.joint,
            "sample_sizes": list(self.sample_sizes),
            "rows": rows,
        }


def _check_sizes(sample_sizes: Iterable[int]) -> tuple[int, ...]:
    sizes = tuple(sorted(set(sample_sizes)))
    if not sizes:
        raise InvalidParameter("n", [], "give at least one sample size")
    for n in sizes:
        if isinstance(n, bool) or not isinstance(n, int) or n < 0 or n > 200:
            raise InvalidParameter("n", n, "sample sizes must be whole numbers from 0 to 200")
    return sizes


def rds_table(
    params: Boin12Params, sample_sizes: Sequence[int], joint: bool | None = None
) -> RdsTable:
    """Rank Pr(U > u_b) over admissible outcomes for the given sample sizes (§3.5).

    ``joint=None`` picks joint-count rows exactly when utilities are not additive; asking for
    marginal rows with non-additive utilities is refused.
    """
    sizes = _check_sizes(sample_sizes)
    joint = (not params.additive) if joint is None else joint
    if not joint and not params.additive:
        raise InvalidParameter(
            "u11+u00",
            params.u11 + params.u00,
            "a table by marginal counts is wrong unless u11 + u00 = 100; tabulate by joint counts",
        )
    combos: list[tuple[int, int, int, int | None]] = []
    for n in sizes:
        for tox in range(n + 1):
            for eff in range(n + 1):
                if joint:
                    for both in range(max(0, tox + eff - n), min(tox, eff) + 1):
                        combos.append((n, tox, eff, both))
                else:
                    combos.append((n, tox, eff, None))
    arr = np.array([(c[0], c[1], c[2], c[3] or 0) for c in combos], dtype=np.int64)
    n_arr, tox_arr, eff_arr, both_arr = arr.T
    if joint:
        m11 = both_arr
        m10 = tox_arr - both_arr
        m01 = eff_arr - both_arr
        m00 = n_arr - tox_arr - eff_arr + both_arr
        points = np.asarray(score(m00, m01, m10, m11, params), dtype=np.float64)
    else:
        points = (params.u11 * eff_arr + params.u00 * (n_arr - tox_arr)).astype(np.float64)
    prob = np.asarray(desirability(n_arr, points, params), dtype=np.float64)
    admissible = ~(too_toxic(n_arr, tox_arr, params) | futile(n_arr, eff_arr, params))
    ranks = np.full(len(combos), np.nan)
    ranks[admissible] = average_ranks(prob[admissible])
    rows = tuple(
        RdsRow(
            n=c[0],
            tox=c[1],
            eff=c[2],
            both=c[3],
            admissible=bool(admissible[i]),
            desirability=float(prob[i]),
            rds=float(ranks[i]) if admissible[i] else None,
        )
        for i, c in enumerate(combos)
    )
    return RdsTable(params, sizes, benchmark_utility(params), joint, rows)


def average_ranks(values: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """1-based ranks of ``values``, tied values sharing the mean of their ranks.

    The same numbers as ``scipy.stats.rankdata(values, method="average")`` (the tests compare
    them), without importing ``scipy.stats`` (about 0.4 s) for one table.
    """
    x = np.asarray(values).ravel()
    order = np.argsort(x, kind="stable")
    ordered = x[order]
    first = np.ones(len(x), dtype=np.bool_)
    first[1:] = ordered[1:] != ordered[:-1]  # where a run of equal values starts
    starts = np.flatnonzero(first)
    ends = np.append(starts[1:], len(x))  # one past each run
    ranks = np.empty(len(x))
    ranks[order] = ((starts + 1 + ends) / 2.0)[np.cumsum(first) - 1]
    return ranks


BoundaryRow = dict[str, int | float | None]


def boundary_rows(params: Boin12Params, sample_sizes: Sequence[int]) -> list[BoundaryRow]:
    """Count rules by n > 0: escalate / de-escalate / eliminate for toxicity / for futility.

    ``None`` where no count triggers the rule at that n. Plain values (no pandas), so a printed
    table does not pay pandas' import; :func:`boundary_frame` is the same rows as a frame.
    """
    bounds = boin_boundaries(params.phi_t, params.phi1, params.phi2)
    records: list[BoundaryRow] = []
    for n in _check_sizes(sample_sizes):
        if n == 0:
            continue
        tox_elim = next(
            (y for y in range(n + 1) if bool(too_toxic(n, y, params))),
            None,
        )
        futile_le = max(
            (y for y in range(n + 1) if bool(futile(n, y, params))),
            default=None,
        )
        records.append(
            {
                "n": n,
                "escalate_if_tox_le": escalate_count(n, bounds.lambda_e),
                "deescalate_if_tox_ge": deescalate_count(n, bounds.lambda_d),
                "eliminate_if_tox_ge": tox_elim,
                "futile_if_eff_le": futile_le,
                "futility_posterior_at_0": float(prob_eff_below_target(n, 0, params.phi_e)),
            }
        )
    return records


def boundary_frame(params: Boin12Params, sample_sizes: Sequence[int]) -> pd.DataFrame:
    """:func:`boundary_rows` as a frame (a column with a gap holds floats and NaN)."""
    import pandas as pd

    return pd.DataFrame.from_records(boundary_rows(params, sample_sizes))


def rds_cells(table: RdsTable, n: int) -> list[list[str]]:
    """The RDS cells for one n: row = #DLT, column = #responses ('E' = not admissible)."""
    if table.joint:
        raise InvalidParameter("joint", True, "a grid by marginal counts needs additive utilities")
    cells = [[""] * (n + 1) for _ in range(n + 1)]
    for r in table.rows:
        if r.n == n:
            cells[r.tox][r.eff] = "E" if r.rds is None else f"{r.rds:g}"
    return cells


def rds_grid(table: RdsTable, n: int) -> pd.DataFrame:
    """:func:`rds_cells` as a #DLT x #responses frame."""
    import pandas as pd

    cells = rds_cells(table, n)
    grid = pd.DataFrame(cells, index=pd.Index(range(n + 1), name="#DLT"), columns=range(n + 1))
    grid.columns.name = "#responses"
    return grid
