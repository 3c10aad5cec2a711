"""BOP2 (Zhou, Lee & Yuan, Stat Med 2017;36:3302-3314): boundaries, exact OC, optimiser, CLI.

Reference values:
- Published boundaries: the README of the CRAN package BOP2FE 1.0.3 (github.com/belayb/BOP2FE,
  README.md at commit 84e509d) prints the futility boundaries of its designs; its futility rule
  is BOP2's (stop if Pr(p > p0 | data) < lambda (n/N)^gamma, i.e. Pr(p <= p0 | data) > C(n)) with
  the same prior (mean at the null, effective sample size 1). Its efficacy-stopping part is not
  part of BOP2, so only the futility/toxicity rows are compared.
- Independent brute force, written here on a different code path: posterior probabilities from
  ``scipy.stats.beta`` one count at a time, and operating characteristics by listing every
  outcome path (``itertools.product`` over the per-look outcomes) with its probability.
- A Monte Carlo check of the exact operating characteristics.
"""

from __future__ import annotations

import itertools
import json
import math
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import dosewise.cli.bop2  # noqa: F401  (registers the command on the shared app)
from dosewise.cli.app import main
from dosewise.design.bop2 import (
    Bop2Design,
    Bop2Result,
    ToxicityMonitoring,
    bop2_decision,
    bop2_with_parameters,
    operating_characteristics,
    optimise_bop2,
)
from dosewise.design.bop2_exact import joint_cells
from dosewise.errors import InvalidOutcomes, InvalidParameter

COARSE_LAMBDAS = [round(0.05 * i, 2) for i in range(1, 21)]
COARSE_GAMMAS = [round(0.25 * i, 2) for i in range(13)]


# --- independent brute force -------------------------------------------------------------------


def brute_cutoff(lam: float, gamma: float, n: int, n_max: int) -> float:
    return 1.0 - lam * (n / n_max) ** gamma


def brute_response_boundary(p0: float, n: int, cutoff: float) -> int:
    """Largest x with Pr(p <= p0 | x/n) > cutoff under Beta(p0, 1 - p0); -1 if none."""
    k = -1
    for x in range(n + 1):
        if stats.beta.cdf(p0, p0 + x, 1 - p0 + n - x) > cutoff:
            k = x
    return k


def brute_toxicity_boundary(phi: float, n: int, cutoff: float) -> int:
    """Smallest x with Pr(p_T > phi | x/n) > cutoff under Beta(phi, 1 - phi); n + 1 if none."""
    for x in range(n + 1):
        if stats.beta.sf(phi, phi + x, 1 - phi + n - x) > cutoff:
            return x
    return n + 1


def brute_oc(looks: tuple[int, ...], k: list[int], p: float) -> tuple[float, float, float]:
    """(Pr promising, Pr early stop, E[N]) by listing every path of per-look response counts."""
    steps = [b - a for a, b in zip((0, *looks[:-1]), looks, strict=True)]
    pmfs = [[float(stats.binom.pmf(y, m, p)) for y in range(m + 1)] for m in steps]
    promising = early = expected_n = 0.0
    for path in itertools.product(*(range(m + 1) for m in steps)):
        prob = math.prod(pmf[y] for y, pmf in zip(path, pmfs, strict=True))
        total = 0
        stopped_at = None
        for j, y in enumerate(path):
            total += y
            if total <= k[j]:
                stopped_at = j
                break
        if stopped_at is None:
            promising += prob
            expected_n += prob * looks[-1]
        else:
            early += prob if stopped_at < len(looks) - 1 else 0.0
            expected_n += prob * looks[stopped_at]
    return promising, early, expected_n


def brute_joint_oc(
    looks: tuple[int, ...], k: list[int], t: list[int], cells: tuple[float, ...]
) -> tuple[float, float]:
    """(Pr promising, E[N]) listing every path of per-look four-cell multinomial counts."""
    steps = [b - a for a, b in zip((0, *looks[:-1]), looks, strict=True)]
    outcomes = []
    for m in steps:
        per_look = []
        for c in itertools.product(range(m + 1), repeat=3):
            if sum(c) <= m:
                counts = (*c, m - sum(c))
                per_look.append((counts, stats.multinomial.pmf(counts, m, cells)))
        outcomes.append(per_look)
    promising = expected_n = 0.0
    for path in itertools.product(*outcomes):
        prob = math.prod(pr for _, pr in path)
        resp = tox = 0
        n_used = looks[-1]
        passed = True
        for j, (counts, _) in enumerate(path):
            resp += counts[0] + counts[1]
            tox += counts[0] + counts[2]
            if resp <= k[j] or tox >= t[j]:
                passed = False
                n_used = looks[j]
                break
        promising += prob if passed else 0.0
        expected_n += prob * n_used
    return promising, expected_n


def responses_le(result: Bop2Result) -> list[int]:
    return [
        -1 if b.stop_if_responses_le is None else b.stop_if_responses_le for b in result.boundaries
    ]


def toxicities_ge(result: Bop2Result) -> list[int]:
    return [
        b.n + 1 if b.stop_if_toxicities_ge is None else b.stop_if_toxicities_ge
        for b in result.boundaries
    ]


# --- published boundaries ----------------------------------------------------------------------


def test_futility_boundaries_match_bop2fe_readme_binary_example() -> None:
    """BOP2FE README, binary endpoint: H0 = 0.2, n = 10,15,...,40, lambda = 0.909, gamma = 1."""
    design = Bop2Design(n_max=40, looks=tuple(range(10, 41, 5)), p0=0.2, p1=0.4)
    result = bop2_with_parameters(design, 0.909, 1.0)
    assert [b.n for b in result.boundaries] == [10, 15, 20, 25, 30, 35, 40]
    assert responses_le(result) == [1, 2, 3, 5, 7, 9, 11]


def test_joint_boundaries_match_bop2fe_readme_efficacy_toxicity_example() -> None:
    """BOP2FE README, joint endpoint: H0 cells (0.15, 0.30, 0.15, 0.40) = (T&E, E, T, none).

    Null response rate 0.45 and toxicity rate 0.30; H1 cells (0.18, 0.42, 0.02, 0.38) give 0.60
    and 0.20. lambda = 0.7, gamma = 1: futility "response" row 3 5 8 10 13 16 19 (stop if
    responses <= k) and "toxicity" row 5 6 7 8 9 10 11 (stop if toxicities >= t).
    """
    design = Bop2Design(
        n_max=40,
        looks=tuple(range(10, 41, 5)),
        p0=0.45,
        p1=0.60,
        toxicity=ToxicityMonitoring(phi_t0=0.30, phi_t1=0.20),
    )
    result = bop2_with_parameters(design, 0.7, 1.0)
    assert responses_le(result) == [3, 5, 8, 10, 13, 16, 19]
    assert toxicities_ge(result) == [5, 6, 7, 8, 9, 10, 11]


# --- boundaries and OC against brute force -----------------------------------------------------


@pytest.mark.parametrize(
    ("n_max", "looks", "p0", "lam", "gamma"),
    [
        (18, (9, 18), 0.2, 0.89, 2.27),
        (40, (10, 20, 30, 40), 0.2, 0.86, 2.14),
        (25, (5, 12, 25), 0.3, 0.5, 0.0),
    ],
)
def test_boundaries_match_direct_beta_evaluation(
    n_max: int, looks: tuple[int, ...], p0: float, lam: float, gamma: float
) -> None:
    result = bop2_with_parameters(Bop2Design(n_max, looks, p0, p0 + 0.2), lam, gamma)
    expected = [brute_response_boundary(p0, n, brute_cutoff(lam, gamma, n, n_max)) for n in looks]
    assert responses_le(result) == expected


def test_exact_oc_match_path_enumeration() -> None:
    design = Bop2Design(n_max=20, looks=(5, 12, 20), p0=0.2, p1=0.4)
    result = bop2_with_parameters(design, 0.8, 1.5)
    for p in (0.05, 0.2, 0.3, 0.4, 0.7):
        oc = operating_characteristics(result, p)
        promising, early, expected_n = brute_oc(design.looks, responses_le(result), p)
        assert oc.prob_promising == pytest.approx(promising, abs=1e-12)
        assert oc.prob_early_stop == pytest.approx(early, abs=1e-12)
        assert oc.expected_n == pytest.approx(expected_n, abs=1e-10)
        assert oc.prob_promising + sum(oc.stop_by_look) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("odds_ratio", [1.0, 3.0, 0.4])
def test_exact_joint_oc_match_multinomial_path_enumeration(odds_ratio: float) -> None:
    tox = ToxicityMonitoring(phi_t0=0.35, phi_t1=0.15, odds_ratio=odds_ratio)
    design = Bop2Design(n_max=12, looks=(4, 8, 12), p0=0.25, p1=0.5, toxicity=tox)
    result = bop2_with_parameters(design, 0.75, 1.0)
    for p_e, p_t in ((0.25, 0.35), (0.5, 0.15), (0.4, 0.3)):
        oc = operating_characteristics(result, p_e, p_t)
        cells = joint_cells(p_e, p_t, odds_ratio)
        promising, expected_n = brute_joint_oc(
            design.looks, responses_le(result), toxicities_ge(result), cells
        )
        assert oc.prob_promising == pytest.approx(promising, abs=1e-12)
        assert oc.expected_n == pytest.approx(expected_n, abs=1e-10)


@given(
    p_e=st.floats(0.01, 0.99),
    p_t=st.floats(0.01, 0.99),
    odds_ratio=st.floats(0.05, 20.0),
)
def test_joint_cells_have_the_margins_and_odds_ratio(
    p_e: float, p_t: float, odds_ratio: float
) -> None:
    both, e_only, t_only, neither = joint_cells(p_e, p_t, odds_ratio)
    assert min(both, e_only, t_only, neither) >= -1e-12
    assert both + e_only == pytest.approx(p_e, abs=1e-12)
    assert both + t_only == pytest.approx(p_t, abs=1e-12)
    assert both + e_only + t_only + neither == pytest.approx(1.0, abs=1e-12)
    if min(both, e_only, t_only, neither) > 1e-9:
        assert both * neither / (e_only * t_only) == pytest.approx(odds_ratio, rel=1e-6)


def brute_search(design: Bop2Design) -> tuple[float, float, list[int], float, float]:
    """Loop over the coarse grid: most power with type I <= alpha, then smallest E[N | H0]."""
    best: tuple[float, float, float, float, list[int], float] | None = None
    seen: dict[tuple[int, ...], tuple[float, float, float]] = {}
    for lam in COARSE_LAMBDAS:
        for gamma in COARSE_GAMMAS:
            k = [
                brute_response_boundary(design.p0, n, brute_cutoff(lam, gamma, n, design.n_max))
                for n in design.looks
            ]
            if tuple(k) not in seen:
                type_i, _, en0 = brute_oc(design.looks, k, design.p0)
                seen[tuple(k)] = (type_i, en0, brute_oc(design.looks, k, design.p1)[0])
            type_i, en0, power = seen[tuple(k)]
            if type_i > design.alpha + 1e-12:
                continue
            if (
                best is None
                or power > best[0] + 1e-12
                or (abs(power - best[0]) <= 1e-12 and en0 < best[1] - 1e-12)
            ):
                best = (power, en0, lam, gamma, k, type_i)
    assert best is not None
    return best[2], best[3], best[4], best[5], best[0]


def test_optimiser_matches_brute_force_grid_search() -> None:
    design = Bop2Design(n_max=20, looks=(8, 14, 20), p0=0.15, p1=0.35)
    lam, gamma, k, type_i, power = brute_search(design)
    result = optimise_bop2(design, lambda_grid=COARSE_LAMBDAS, gamma_grid=COARSE_GAMMAS)
    assert responses_le(result) == k
    assert result.type_i_error == pytest.approx(type_i, abs=1e-12)
    assert result.power == pytest.approx(power, abs=1e-12)
    # The reported (lambda, gamma) is the first grid point giving the chosen table.
    assert (result.lambda_, result.gamma) == (lam, gamma)


# --- exact OC against Monte Carlo --------------------------------------------------------------


def _mc_tolerance(p: float, trials: int) -> float:
    # 4.5 standard errors of a proportion: a correct exact value falls outside with
    # probability < 1e-5 per check, while a real error of a few tenths of a percent is caught.
    return 4.5 * math.sqrt(max(p * (1 - p), 1e-4) / trials)


def test_exact_oc_agree_with_monte_carlo() -> None:
    """200,000 simulated trials per truth; tolerance 4.5 SE (promising, early stop, E[N])."""
    design = Bop2Design(n_max=40, looks=(10, 20, 30, 40), p0=0.2, p1=0.4)
    result = optimise_bop2(design)
    k = np.array(responses_le(result))
    steps = np.diff(np.array((0, *design.looks)))
    looks = np.array(design.looks)
    rng = np.random.default_rng(20170721)
    trials = 200_000
    for p in (0.2, 0.3, 0.4):
        counts = np.cumsum(rng.binomial(steps, p, size=(trials, len(steps))), axis=1)
        stops = counts <= k
        stopped = stops.any(axis=1)
        first = np.where(stopped, stops.argmax(axis=1), len(looks) - 1)
        n_used = looks[first]
        early = stopped & (first < len(looks) - 1)
        oc = operating_characteristics(result, p)
        assert abs((~stopped).mean() - oc.prob_promising) < _mc_tolerance(oc.prob_promising, trials)
        assert abs(early.mean() - oc.prob_early_stop) < _mc_tolerance(oc.prob_early_stop, trials)
        # E[N]: SE from the exact distribution of the sample size.
        probs = np.array(oc.stop_by_look)
        probs[-1] += oc.prob_promising
        sd = math.sqrt(float((probs * (looks - oc.expected_n) ** 2).sum()))
        assert abs(n_used.mean() - oc.expected_n) < 4.5 * sd / math.sqrt(trials)


def test_exact_joint_oc_agree_with_monte_carlo() -> None:
    tox = ToxicityMonitoring(phi_t0=0.3, phi_t1=0.1, odds_ratio=2.5)
    design = Bop2Design(n_max=24, looks=(8, 16, 24), p0=0.2, p1=0.45, toxicity=tox)
    result = optimise_bop2(design)
    k, t = np.array(responses_le(result)), np.array(toxicities_ge(result))
    steps = np.diff(np.array((0, *design.looks)))
    rng = np.random.default_rng(3302)
    trials = 200_000
    for p_e, p_t in ((0.2, 0.3), (0.45, 0.1), (0.45, 0.3)):
        cells = joint_cells(p_e, p_t, tox.odds_ratio)
        draws = np.stack([rng.multinomial(m, cells, size=trials) for m in steps], axis=1)
        resp = np.cumsum(draws[:, :, 0] + draws[:, :, 1], axis=1)
        toxc = np.cumsum(draws[:, :, 0] + draws[:, :, 2], axis=1)
        passed = ~((resp <= k) | (toxc >= t)).any(axis=1)
        oc = operating_characteristics(result, p_e, p_t)
        assert abs(passed.mean() - oc.prob_promising) < _mc_tolerance(oc.prob_promising, trials)


# --- the optimiser -----------------------------------------------------------------------------


def test_default_grid_search_is_fast_and_respects_alpha() -> None:
    design = Bop2Design(
        n_max=40,
        looks=(10, 20, 30, 40),
        p0=0.2,
        p1=0.4,
        toxicity=ToxicityMonitoring(phi_t0=0.3, phi_t1=0.1),
    )
    start = time.perf_counter()
    result = optimise_bop2(design)
    assert time.perf_counter() - start < 20.0  # about 2 s here; 120,400 grid points
    assert result.type_i_error <= design.alpha
    assert result.candidates >= result.feasible > 0
    # Composite null: every null configuration is controlled, not just (p0, phi_t0).
    assert len(result.null_ocs) == 3
    assert all(oc.prob_promising <= design.alpha for oc in result.null_ocs)


def test_joint_null_rule_controls_only_the_single_null_point() -> None:
    tox = ToxicityMonitoring(phi_t0=0.3, phi_t1=0.1, null="joint")
    design = Bop2Design(n_max=18, looks=(9, 18), p0=0.2, p1=0.4, toxicity=tox)
    result = optimise_bop2(design)
    assert len(result.null_ocs) == 1
    assert result.type_i_error == result.h0.prob_promising <= design.alpha


def test_final_look_is_added_when_missing() -> None:
    assert Bop2Design(n_max=18, looks=(9,), p0=0.2, p1=0.4).looks == (9, 18)
    assert Bop2Design(n_max=18, looks=(), p0=0.2, p1=0.4).looks == (18,)


small_designs = st.integers(6, 30).flatmap(
    lambda n_max: st.tuples(
        st.just(n_max),
        st.lists(st.integers(1, n_max - 1), max_size=3, unique=True).map(sorted),
        st.floats(0.05, 0.6),
        st.floats(0.1, 0.35),
    )
)


@settings(max_examples=25)
@given(spec=small_designs, alpha=st.sampled_from([0.05, 0.1, 0.2]))
def test_chosen_design_type_i_error_at_most_alpha(
    spec: tuple[int, list[int], float, float], alpha: float
) -> None:
    n_max, looks, p0, delta = spec
    design = Bop2Design(n_max, tuple(looks), p0, min(p0 + delta, 0.95), alpha=alpha)
    result = optimise_bop2(design, lambda_grid=COARSE_LAMBDAS, gamma_grid=COARSE_GAMMAS)
    type_i, _, _ = brute_oc(design.looks, responses_le(result), design.p0)
    assert type_i <= alpha + 1e-12
    assert result.type_i_error == pytest.approx(type_i, abs=1e-12)


@given(spec=small_designs, lam=st.floats(0.01, 1.0), gamma=st.floats(0.0, 3.0))
def test_stop_boundary_is_non_decreasing_in_n(
    spec: tuple[int, list[int], float, float], lam: float, gamma: float
) -> None:
    n_max, looks, p0, delta = spec
    result = bop2_with_parameters(Bop2Design(n_max, tuple(looks), p0, p0 + delta), lam, gamma)
    k = responses_le(result)
    assert all(a <= b for a, b in itertools.pairwise(k))


@given(
    spec=small_designs,
    lam=st.floats(0.01, 1.0),
    gamma=st.floats(0.0, 3.0),
    data=st.data(),
)
def test_more_responses_never_turn_continue_into_stop(
    spec: tuple[int, list[int], float, float], lam: float, gamma: float, data: st.DataObject
) -> None:
    n_max, looks, p0, delta = spec
    tox = ToxicityMonitoring(phi_t0=0.3, phi_t1=0.1)
    design = Bop2Design(n_max, tuple(looks), p0, p0 + delta, toxicity=tox)
    result = bop2_with_parameters(design, lam, gamma)
    n = data.draw(st.integers(1, n_max))
    r = data.draw(st.integers(0, n - 1))
    x_t = data.draw(st.integers(0, n))
    fewer = bop2_decision(result, n, r, x_t)
    more = bop2_decision(result, n, r + 1, x_t)
    assert more.futility <= fewer.futility
    if fewer.action in ("continue", "promising"):
        assert more.action == fewer.action
    if x_t < n:  # and one more toxicity never turns stop into continue
        assert bop2_decision(result, n, r, x_t + 1).toxicity >= fewer.toxicity


@given(spec=small_designs, lam=st.floats(0.01, 1.0), gamma=st.floats(0.0, 3.0), data=st.data())
def test_decision_at_planned_look_follows_the_table_and_the_formula(
    spec: tuple[int, list[int], float, float], lam: float, gamma: float, data: st.DataObject
) -> None:
    n_max, looks, p0, delta = spec
    design = Bop2Design(n_max, tuple(looks), p0, p0 + delta)
    result = bop2_with_parameters(design, lam, gamma)
    look = data.draw(st.sampled_from(result.boundaries))
    r = data.draw(st.integers(0, look.n))
    decision = bop2_decision(result, look.n, r)
    k = -1 if look.stop_if_responses_le is None else look.stop_if_responses_le
    assert decision.planned_look
    assert decision.futility == (r <= k) == (decision.pr_futile > decision.cutoff)


# --- decisions in a running trial --------------------------------------------------------------


def test_decisions_for_the_protocol_sized_arm() -> None:
    design = Bop2Design(n_max=18, looks=(9, 18), p0=0.2, p1=0.4)
    result = optimise_bop2(design)
    k_interim = responses_le(result)[0]
    k_final = responses_le(result)[1]
    assert bop2_decision(result, 9, k_interim + 1).action == "continue"
    if k_interim >= 0:
        stop = bop2_decision(result, 9, k_interim)
        assert stop.action == "stop" and stop.futility and "futility" in stop.reason
    assert bop2_decision(result, 18, k_final + 1).action == "promising"
    assert bop2_decision(result, 18, k_final).action == "not_promising"
    unplanned = bop2_decision(result, 12, 0)
    assert not unplanned.planned_look
    assert unplanned.futility == (unplanned.pr_futile > unplanned.cutoff)


def test_decision_with_toxicity_names_the_reason() -> None:
    tox = ToxicityMonitoring(phi_t0=0.3, phi_t1=0.1)
    result = optimise_bop2(Bop2Design(n_max=18, looks=(9, 18), p0=0.2, p1=0.4, toxicity=tox))
    t = toxicities_ge(result)[0]
    decision = bop2_decision(result, 9, 9, t)
    assert decision.action == "stop" and decision.toxicity and not decision.futility
    assert "toxicity" in decision.reason
    with pytest.raises(InvalidOutcomes, match="toxicities"):
        bop2_decision(result, 9, 3)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"p0": 0.4, "p1": 0.4}, "p1"),
        ({"p0": 0.5, "p1": 0.3}, "p1"),
        ({"looks": (9, 6)}, "looks"),
        ({"looks": (9, 9)}, "looks"),
        ({"looks": (9, 20)}, "looks"),
        ({"looks": (0, 9)}, "looks"),
        ({"alpha": 0.0}, "alpha"),
        ({"alpha": 1.0}, "alpha"),
        ({"alpha": float("nan")}, "alpha"),
        ({"n_max": 0, "looks": ()}, "n_max"),
        ({"n_max": 1000, "looks": ()}, "n_max"),
        ({"p0": 0.0}, "p0"),
        ({"p1": True}, "p1"),
    ],
)
def test_bad_design_input_names_the_field(kwargs: dict[str, object], field: str) -> None:
    spec: dict[str, object] = {"n_max": 18, "looks": (9, 18), "p0": 0.2, "p1": 0.4}
    spec.update(kwargs)
    with pytest.raises(InvalidParameter) as info:
        Bop2Design(**spec)  # type: ignore[arg-type]
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}=")


def test_bad_toxicity_and_outcome_input() -> None:
    with pytest.raises(InvalidParameter, match="phi_t1"):
        ToxicityMonitoring(phi_t0=0.2, phi_t1=0.3)
    with pytest.raises(InvalidParameter, match="odds_ratio"):
        ToxicityMonitoring(phi_t0=0.3, phi_t1=0.1, odds_ratio=0.0)
    result = optimise_bop2(Bop2Design(n_max=18, looks=(9,), p0=0.2, p1=0.4))
    with pytest.raises(InvalidOutcomes, match="responses"):
        bop2_decision(result, 9, 10)
    with pytest.raises(InvalidOutcomes, match="n="):
        bop2_decision(result, 19, 1)
    with pytest.raises(InvalidParameter, match="p_toxicity"):
        operating_characteristics(result, 0.3, 0.2)
    with pytest.raises(InvalidParameter, match="lambda"):
        bop2_with_parameters(result.design, 0.0, 1.0)


# --- CLI ---------------------------------------------------------------------------------------


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_json_shape(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(
        ["bop2", "--n", "18", "--looks", "9", "18", "--p0", "0.2", "--p1", "0.4", "--json"], capsys
    )
    assert code == 0
    payload = json.loads(out)
    for key in (
        "lambda",
        "gamma",
        "type_i_error",
        "power",
        "early_stop_h0",
        "early_stop_h1",
        "expected_n_h0",
        "expected_n_h1",
    ):
        assert isinstance(payload[key], float)
    assert [b["n"] for b in payload["boundaries"]] == [9, 18]
    assert all(isinstance(b["stop_if_responses_le"], int) for b in payload["boundaries"])
    assert payload["type_i_error"] <= 0.1
    result = optimise_bop2(Bop2Design(n_max=18, looks=(9, 18), p0=0.2, p1=0.4))
    assert payload["power"] == result.power
    assert [b["stop_if_responses_le"] for b in payload["boundaries"]] == responses_le(result)


def test_cli_looks_spellings_agree(capsys: pytest.CaptureFixture[str]) -> None:
    base = ["bop2", "--n", "18", "--p0", "0.2", "--p1", "0.4", "--json"]
    outputs = [
        run_cli([*base, *looks], capsys)[1]
        for looks in (
            ["--looks", "9", "18"],
            ["--looks", "9", "--looks", "18"],
            ["--looks", "9,18"],
        )
    ]
    assert outputs[0] == outputs[1] == outputs[2]


def test_cli_toxicity_and_scenarios(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["bop2", "--n", "18", "--looks", "9", "--p0", "0.2", "--p1", "0.4", "--tox"]
    args += ["--phi-t0", "0.3", "--phi-t1", "0.1", "--p-true", "0.3", "--p-tox-true", "0.2"]
    code, out, _ = run_cli([*args, "--json"], capsys)
    assert code == 0
    payload = json.loads(out)
    assert all(isinstance(b["stop_if_toxicities_ge"], int | None) for b in payload["boundaries"])
    assert payload["scenarios"][0]["p_response"] == 0.3
    assert len(payload["null_scenarios"]) == 3
    code, out, _ = run_cli(args, capsys)
    assert code == 0 and "stop if toxicities" in out and "Exact operating characteristics" in out


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--p0", "0.5", "--p1", "0.4"], "p1=0.4"),
        (["--p0", "0.2", "--p1", "0.4", "--alpha", "1.5"], "alpha=1.5"),
        (["--p0", "0.2", "--p1", "0.4", "--looks", "12", "9"], "looks="),
        (["--p0", "0.2", "--p1", "0.4", "--looks", "9", "20"], "looks="),
        (["--p0", "0.2", "--p1", "0.4", "--tox", "--phi-t0", "0.3"], "phi_t1"),
    ],
)
def test_cli_bad_input_exits_2_with_one_line(
    extra: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(["bop2", "--n", "18", *extra], capsys)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0]
