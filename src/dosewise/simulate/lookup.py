"""Lookup tables built by calling :mod:`dosewise.design`, so the engine shares its rules exactly.

The engine never evaluates an elimination or a desirability formula itself: it indexes tables
whose cells were computed by :func:`dosewise.design.admissibility.too_toxic`,
:func:`~dosewise.design.admissibility.futile` and :func:`dosewise.design.utility.desirability`
on the same integer inputs the single-trial API uses, so each cell is bit-for-bit the value
``Boin12.decide`` computes. Desirability is tabulated by (n, utility points) when u11 and u00 are
whole numbers (points are then exact integers); otherwise the engine calls ``desirability``
directly on the current dose's joint counts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from dosewise.design.admissibility import futile, too_toxic
from dosewise.design.boin import boin_boundaries
from dosewise.design.params import U01, U10, Boin12Params
from dosewise.design.utility import benchmark_utility, desirability

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True, eq=False)
class RuleTables:
    """Tables for one design, indexed by counts at one dose (n from 0 to max_n)."""

    params: Boin12Params
    lambda_e: float
    lambda_d: float
    u_b: float
    prior: float  # desirability of an untried dose
    too_toxic: BoolArray  # [n, #DLT]
    futile: BoolArray  # [n, #responses]
    desirability: FloatArray | None  # [n, points // step], or None for non-integer utilities
    step: int  # utility points per table column (gcd of 100, u11, u00)
    cell_points: IntArray  # points per outcome N, E, T, B, in units of ``step``


def _integral(value: float) -> bool:
    return float(value).is_integer()


@lru_cache(maxsize=32)
def rule_tables(params: Boin12Params) -> RuleTables:
    """Build (once per process and design) the tables the engine indexes."""
    max_n = params.max_n
    bounds = boin_boundaries(params.phi_t, params.phi1, params.phi2)
    n_grid, k_grid = np.meshgrid(np.arange(max_n + 1), np.arange(max_n + 1), indexing="ij")
    valid = k_grid <= n_grid
    safe_k = np.where(valid, k_grid, 0)
    tox_table = np.asarray(too_toxic(n_grid, safe_k, params)) & valid
    fut_table = np.asarray(futile(n_grid, safe_k, params)) & valid
    prior = float(desirability(0.0, 0.0, params))
    table: FloatArray | None = None
    step = 1
    cells = np.zeros(4, dtype=np.int64)
    if _integral(params.u11) and _integral(params.u00):
        step = math.gcd(int(U01), int(params.u11), int(params.u00), int(U10)) or 1
        points = (params.u00, U01, U10, params.u11)  # N, E, T, B
        cells = np.array([int(p) // step for p in points], dtype=np.int64)
        columns = int(U01) * max_n // step + 1
        n_col, k_col = np.meshgrid(np.arange(max_n + 1), np.arange(columns), indexing="ij")
        reachable = k_col * step <= int(U01) * n_col
        values = np.asarray(
            desirability(
                n_col.astype(np.float64),
                np.where(reachable, k_col * step, 0).astype(np.float64),
                params,
            ),
            dtype=np.float64,
        )
        table = np.where(reachable, values, np.nan)
    return RuleTables(
        params=params,
        lambda_e=bounds.lambda_e,
        lambda_d=bounds.lambda_d,
        u_b=benchmark_utility(params),
        prior=prior,
        too_toxic=np.asarray(tox_table, dtype=np.bool_),
        futile=np.asarray(fut_table, dtype=np.bool_),
        desirability=table,
        step=step,
        cell_points=cells,
    )
