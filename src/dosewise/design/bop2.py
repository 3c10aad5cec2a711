"""BOP2: the Bayesian optimal phase 2 design for a binary response, optionally with toxicity.

Zhou H, Lee JJ, Yuan Y. "BOP2: Bayesian optimal design for phase II clinical trials with simple
and complex endpoints." Stat Med 2017;36:3302-3314. At a look with n patients the trial stops for
futility if Pr(p_E <= p0 | data) > C(n) and, with toxicity monitoring, for toxicity if
Pr(p_T > phi_t0 | data) > C(n), where C(n) = 1 - lambda (n / N)^gamma. (lambda, gamma) maximise
the power under H1 subject to the type I error under H0 being at most alpha. At n = N the same
rule is the end-of-trial decision: the treatment is declared promising if no rule fires.

Public values are frozen dataclasses; the rules are pure functions. The exact arithmetic lives in
:mod:`dosewise.design.bop2_exact`. See ``docs/bop2.md`` for formulas, sources and choices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from dosewise.design import bop2_exact as exact
from dosewise.design.bop2_decision import Action, Bop2Decision, bop2_decision
from dosewise.design.bop2_model import (
    MAX_N,
    MAX_N_TOXICITY,
    Bop2Boundary,
    Bop2Design,
    Bop2OC,
    Bop2Result,
    NullRule,
    ToxicityMonitoring,
    check_closed_unit,
    is_number,
)
from dosewise.errors import InvalidParameter

__all__ = [
    "DEFAULT_GAMMAS",
    "DEFAULT_LAMBDAS",
    "MAX_N",
    "MAX_N_TOXICITY",
    "Action",
    "Bop2Boundary",
    "Bop2Decision",
    "Bop2Design",
    "Bop2OC",
    "Bop2Result",
    "NullRule",
    "ToxicityMonitoring",
    "bop2_decision",
    "bop2_with_parameters",
    "operating_characteristics",
    "optimise_bop2",
]

#: Default search grid: lambda in (0, 1] by 0.0025 and gamma in [0, 3] by 0.01.
DEFAULT_LAMBDAS: tuple[float, ...] = tuple(round(0.0025 * i, 4) for i in range(1, 401))
DEFAULT_GAMMAS: tuple[float, ...] = tuple(round(0.01 * i, 2) for i in range(301))

_TIE = 1e-12


def _truths(design: Bop2Design) -> tuple[tuple[float, float | None], ...]:
    """(p_response, p_toxicity) of H0 first, then H1, then the extra null configurations."""
    tox = design.toxicity
    if tox is None:
        return ((design.p0, None), (design.p1, None))
    truths: list[tuple[float, float | None]] = [
        (design.p0, tox.phi_t0),
        (design.p1, tox.phi_t1),
    ]
    if tox.null == "composite":
        truths += [(design.p0, tox.phi_t1), (design.p1, tox.phi_t0)]
    return tuple(truths)


def _null_indices(design: Bop2Design) -> tuple[int, ...]:
    n_truths = len(_truths(design))
    return (0, *range(2, n_truths))


def _path_sums(
    design: Bop2Design,
    stop_le: exact.IntArray,
    stop_ge: exact.IntArray | None,
    p_response: float,
    p_toxicity: float | None,
    odds_ratio: float,
) -> exact.PathSums:
    if stop_ge is None or p_toxicity is None:
        return exact.path_sums_response(design.looks, stop_le, p_response)
    cells = exact.joint_cells(p_response, p_toxicity, odds_ratio)
    return exact.path_sums_joint(design.looks, stop_le, stop_ge, cells)


def _oc_from_sums(
    design: Bop2Design, sums: exact.PathSums, row: int, p_e: float, p_t: float | None
) -> Bop2OC:
    stop = sums.stop[row]
    interim = float(stop[:-1].sum())
    looks = np.asarray(design.looks[:-1], dtype=np.float64)
    expected_n = float((looks * stop[:-1]).sum() + design.n_max * (1.0 - interim))
    return Bop2OC(
        p_response=p_e,
        p_toxicity=p_t,
        prob_promising=float(sums.promising[row]),
        prob_early_stop=interim,
        expected_n=expected_n,
        stop_by_look=tuple(float(v) for v in stop),
        futility_by_look=tuple(float(v) for v in sums.futility[row]),
        toxicity_by_look=tuple(float(v) for v in sums.toxicity[row]),
    )


def _boundaries(
    design: Bop2Design,
    cutoffs: exact.FloatArray,
    stop_le: exact.IntArray,
    stop_ge: exact.IntArray | None,
) -> tuple[Bop2Boundary, ...]:
    rows = []
    for j, n in enumerate(design.looks):
        k = int(stop_le[j])
        t = None if stop_ge is None else int(stop_ge[j])
        rows.append(
            Bop2Boundary(
                n=n,
                cutoff=float(cutoffs[j]),
                stop_if_responses_le=None if k < 0 else k,
                stop_if_toxicities_ge=None if t is None or t > n else t,
            )
        )
    return tuple(rows)


def _tables(
    design: Bop2Design, lambdas: exact.FloatArray, gammas: exact.FloatArray
) -> tuple[exact.FloatArray, exact.IntArray, exact.IntArray | None]:
    cutoffs = exact.cutoff_grid(lambdas, gammas, design.looks, design.n_max)
    stop_le = exact.futility_boundaries(design.p0, design.looks, cutoffs)
    tox = design.toxicity
    stop_ge = None if tox is None else exact.toxicity_boundaries(tox.phi_t0, design.looks, cutoffs)
    return cutoffs, stop_le, stop_ge


def _evaluate(
    design: Bop2Design,
    params: tuple[float, float],
    tables: tuple[exact.FloatArray, exact.IntArray, exact.IntArray | None],
    candidates: int,
    feasible: int,
) -> Bop2Result:
    """The result for one boundary table (``tables``: cutoffs, stop_le, stop_ge of one row)."""
    cutoffs, stop_le, stop_ge = tables
    odds = 1.0 if design.toxicity is None else design.toxicity.odds_ratio
    ocs = []
    for p_e, p_t in _truths(design):
        sums = _path_sums(design, stop_le[None, :], _row(stop_ge), p_e, p_t, odds)
        ocs.append(_oc_from_sums(design, sums, 0, p_e, p_t))
    return Bop2Result(
        design=design,
        lambda_=params[0],
        gamma=params[1],
        boundaries=_boundaries(design, cutoffs, stop_le, stop_ge),
        h0=ocs[0],
        h1=ocs[1],
        null_ocs=tuple(ocs[i] for i in _null_indices(design)),
        candidates=candidates,
        feasible=feasible,
    )


def _row(values: exact.IntArray | None) -> exact.IntArray | None:
    return None if values is None else values[None, :]


def bop2_with_parameters(design: Bop2Design, lambda_: float, gamma: float) -> Bop2Result:
    """The BOP2 design for given (lambda, gamma), without optimising (e.g. to reproduce a table)."""
    if not (is_number(lambda_) and 0.0 < lambda_ <= 1.0):
        raise InvalidParameter("lambda", lambda_, "must be a number in (0, 1]")
    if not (is_number(gamma) and gamma >= 0.0):
        raise InvalidParameter("gamma", gamma, "must be a number >= 0")
    cutoffs, stop_le, stop_ge = _tables(
        design, np.array([lambda_], dtype=np.float64), np.array([gamma], dtype=np.float64)
    )
    tables = (cutoffs[0], stop_le[0], None if stop_ge is None else stop_ge[0])
    result = _evaluate(design, (float(lambda_), float(gamma)), tables, candidates=1, feasible=0)
    feasible = int(result.type_i_error <= design.alpha + _TIE)
    return replace(result, feasible=feasible)


def _grid(values: Sequence[float] | None, default: tuple[float, ...], name: str) -> list[float]:
    """The search values for lambda (in (0, 1]) or gamma (>= 0)."""
    grid = list(default if values is None else values)
    if not grid:
        raise InvalidParameter(name, grid, "must not be empty")
    low_open = name == "lambda_grid"
    for v in grid:
        if not is_number(v) or (low_open and not 0.0 < v <= 1.0) or v < 0.0:
            rule = "values must be in (0, 1]" if low_open else "values must be >= 0"
            raise InvalidParameter(name, v, rule)
    return [float(v) for v in grid]


def optimise_bop2(
    design: Bop2Design,
    *,
    lambda_grid: Sequence[float] | None = None,
    gamma_grid: Sequence[float] | None = None,
) -> Bop2Result:
    """Search (lambda, gamma) on a grid for the most powerful design with type I error <= alpha.

    Many grid points give the same boundary table; each distinct table is evaluated once, exactly.
    Ties in power go to the smaller expected sample size under H0, then to the grid order
    (lambda ascending, then gamma ascending); the reported (lambda, gamma) is the first grid
    point, in that order, that produces the chosen table.
    """
    lam_values = _grid(lambda_grid, DEFAULT_LAMBDAS, "lambda_grid")
    gam_values = _grid(gamma_grid, DEFAULT_GAMMAS, "gamma_grid")
    lam_mesh, gam_mesh = np.meshgrid(
        np.asarray(lam_values, dtype=np.float64),
        np.asarray(gam_values, dtype=np.float64),
        indexing="ij",
    )
    lambdas, gammas = lam_mesh.ravel(), gam_mesh.ravel()
    cutoffs, stop_le, stop_ge = _tables(design, lambdas, gammas)
    keys = stop_le if stop_ge is None else np.concatenate([stop_le, stop_ge], axis=1)
    unique, first = np.unique(keys, axis=0, return_index=True)
    order = np.argsort(first, kind="stable")
    unique, first = unique[order], first[order]
    n_looks = len(design.looks)
    u_le = np.ascontiguousarray(unique[:, :n_looks])
    u_ge = None if stop_ge is None else np.ascontiguousarray(unique[:, n_looks:])

    odds = 1.0 if design.toxicity is None else design.toxicity.odds_ratio
    truths = _truths(design)
    all_sums = [_path_sums(design, u_le, u_ge, p_e, p_t, odds) for p_e, p_t in truths]
    type_i = np.max(np.stack([all_sums[i].promising for i in _null_indices(design)]), axis=0)
    power = all_sums[1].promising
    h0_stop = all_sums[0].stop[:, :-1]
    looks = np.asarray(design.looks[:-1], dtype=np.float64)
    expected_n_h0 = (h0_stop * looks).sum(axis=1) + design.n_max * (1.0 - h0_stop.sum(axis=1))

    ok = type_i <= design.alpha + _TIE
    if not ok.any():
        raise InvalidParameter(
            "alpha", design.alpha, "no (lambda, gamma) on the grid keeps the type I error <= alpha"
        )
    best_power = power[ok].max()
    tied = ok & (power >= best_power - _TIE)
    candidates = np.flatnonzero(tied)
    fewest = expected_n_h0[candidates].min()
    pick = int(candidates[np.flatnonzero(expected_n_h0[candidates] <= fewest + _TIE)[0]])
    index = int(first[pick])
    tables = (cutoffs[index], u_le[pick], None if u_ge is None else u_ge[pick])
    return _evaluate(
        design,
        (float(lambdas[index]), float(gammas[index])),
        tables,
        candidates=int(unique.shape[0]),
        feasible=int(ok.sum()),
    )


def operating_characteristics(
    result: Bop2Result,
    p_response: float,
    p_toxicity: float | None = None,
    odds_ratio: float | None = None,
) -> Bop2OC:
    """Exact operating characteristics of the chosen design under any true rates."""
    check_closed_unit("p_response", p_response)
    tox = result.design.toxicity
    if tox is None and p_toxicity is not None:
        raise InvalidParameter("p_toxicity", p_toxicity, "the design does not monitor toxicity")
    if tox is not None and p_toxicity is None:
        raise InvalidParameter("p_toxicity", None, "required: the design monitors toxicity")
    if p_toxicity is not None:
        check_closed_unit("p_toxicity", p_toxicity)
    odds = odds_ratio if odds_ratio is not None else (1.0 if tox is None else tox.odds_ratio)
    if not (is_number(odds) and odds > 0):
        raise InvalidParameter("odds_ratio", odds, "must be a number > 0")
    stop_le, stop_ge = _result_tables(result)
    sums = _path_sums(result.design, stop_le, stop_ge, p_response, p_toxicity, odds)
    return _oc_from_sums(result.design, sums, 0, float(p_response), p_toxicity)


def _result_tables(result: Bop2Result) -> tuple[exact.IntArray, exact.IntArray | None]:
    stop_le = np.array(
        [
            [
                -1 if b.stop_if_responses_le is None else b.stop_if_responses_le
                for b in result.boundaries
            ]
        ],
        dtype=np.int64,
    )
    if result.design.toxicity is None:
        return stop_le, None
    stop_ge = np.array(
        [
            [
                b.n + 1 if b.stop_if_toxicities_ge is None else b.stop_if_toxicities_ge
                for b in result.boundaries
            ]
        ],
        dtype=np.int64,
    )
    return stop_le, stop_ge
