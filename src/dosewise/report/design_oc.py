"""Operating characteristics for the design report: exact BOIN12 and simulated TITE-BOIN12.

For each scenario the report shows three computations, all by the core:

- exact BOIN12 (:func:`dosewise.simulate.exact.exact_operating_characteristics`): every
  outcome path weighted by its probability — no Monte Carlo error;
- simulated TITE-BOIN12 (:func:`dosewise.simulate.simulate` with ``tite=True``): selection,
  allocation and trial duration with Monte Carlo standard errors;
- simulated BOIN12 waiting for complete data before each decision, for its duration only (the
  price of not using TITE when efficacy is read at 3 months).

The scenarios' observation windows are set from the protocol (DLT window, BOR day); their
accrual setting is kept. The design is always the protocol's, whatever design settings a scenario
file suggests; the differences are listed so the report can say so.

A protocol's built-in scenarios give a truth for every dose level, the fallback included; under
``dose_levels.fallback_policy: safety_only`` the fallback is not a design dose, so the scenario
is restricted to the design's levels (:func:`for_design`). :func:`reading_comparison` computes
the exact BOIN12 OCs of both readings of the fallback on the same truths, side by side.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from dosewise.design.params import Boin12Params
from dosewise.errors import InvalidInput
from dosewise.protocol.model import FALLBACK_POLICIES, FallbackPolicy, Protocol
from dosewise.simulate.exact import ExactResult, exact_operating_characteristics
from dosewise.simulate.scenario import (
    DAYS_PER_MONTH,
    Scenario,
    builtin_names,
    builtin_scenario,
    resolve_scenario,
)
from dosewise.simulate.summary import Summary


@dataclass(frozen=True, slots=True)
class ScenarioOC:
    """One scenario: its truth, exact BOIN12 OCs and simulated TITE-BOIN12 / waiting BOIN12."""

    scenario: Scenario
    params: Boin12Params
    exact: ExactResult
    tite: Summary
    waiting: Summary

    @property
    def true_obd(self) -> int | None:
        """The scenario's true OBD (1-based), None when no dose qualifies."""
        return self.scenario.true_obd(self.params)

    @property
    def true_mtd(self) -> int:
        """Number of doses with p_T <= φT."""
        return self.scenario.true_mtd(self.params)

    @property
    def utility(self) -> list[float]:
        """True mean utility per dose."""
        return [float(v) for v in self.scenario.utility(self.params)]

    @property
    def exact_selection_pct(self) -> list[float]:
        """Exact % of trials selecting each dose, then % selecting none."""
        return [100.0 * float(v) for v in self.exact.selection]

    @property
    def exact_correct_pct(self) -> float:
        """Exact % of trials selecting the true OBD (or no dose when there is none)."""
        obd = self.true_obd
        index = self.params.n_doses if obd is None else obd - 1
        return 100.0 * float(self.exact.selection[index])

    @property
    def exact_early_stop_pct(self) -> float:
        """Exact % of trials stopped early without an OBD."""
        return 100.0 * float(self.exact.early_stop)

    @property
    def exact_pct_patients_above_mtd(self) -> float:
        """Exact share of all patients treated above the true MTD (ratio of expected counts)."""
        total = float(self.exact.mean_total_n)
        above = float(np.sum(self.exact.mean_n[self.true_mtd :]))
        return 100.0 * above / total if total > 0 else 0.0

    @property
    def exact_pct_patients_at_obd(self) -> float:
        """Exact share of patients treated at the true OBD (0 when there is none)."""
        obd = self.true_obd
        total = float(self.exact.mean_total_n)
        if obd is None or total <= 0:
            return 0.0
        return 100.0 * float(self.exact.mean_n[obd - 1]) / total

    def tite_dict(self) -> dict[str, Any]:
        """The simulated TITE-BOIN12 figures (the shape of ``dosewise simulate --json``)."""
        return self.tite.to_dict()

    def duration_months(self, which: str) -> tuple[float, float]:
        """Mean trial duration and its Monte Carlo SE in months (``tite`` or ``waiting``)."""
        data = (self.tite if which == "tite" else self.waiting).to_dict()
        return (
            data["mean_duration_days"] / DAYS_PER_MONTH,
            data["se_duration_days"] / DAYS_PER_MONTH,
        )


def default_scenarios(protocol: Protocol, n_doses: int) -> tuple[Scenario, ...]:
    """Built-in scenarios for this protocol (tagged with its NCT id), else any with J doses.

    A protocol scenario over every level (the fallback included) is restricted to the design's
    levels when the design has fewer (:func:`for_design`).
    """
    tag = protocol.registry.nct_id.lower()
    scenarios = [builtin_scenario(name) for name in builtin_names()]
    every = len(protocol.dose_levels.levels)
    own = [s for s in scenarios if tag in s.tags and s.n_doses in (n_doses, every)]
    if own:
        return tuple(for_design(s, protocol) for s in own)
    return tuple(s for s in scenarios if s.n_doses == n_doses)


def chosen_scenarios(
    protocol: Protocol, n_doses: int, names: list[str] | None
) -> tuple[Scenario, ...]:
    """The scenarios named (built-in names or YAML files), or the protocol's built-in ones.

    A scenario gives a truth per design dose, or per dose level (then restricted to the design).
    """
    if not names:
        return default_scenarios(protocol, n_doses)
    every = len(protocol.dose_levels.levels)
    out = []
    for name in names:
        sc = resolve_scenario(name)
        if sc.n_doses not in (n_doses, every):
            raise InvalidInput(
                "scenario",
                name,
                f"has {sc.n_doses} doses; the protocol's design has {n_doses}"
                + (f" (of {every} dose levels)" if every != n_doses else ""),
            )
        out.append(for_design(sc, protocol))
    return tuple(out)


def for_design(scenario: Scenario, protocol: Protocol) -> Scenario:
    """A scenario over every dose level (lowest first) restricted to the design's levels.

    A scenario that already has one truth per design dose is returned as it is.
    """
    ladder = protocol.dose_levels
    levels = sorted(ladder.levels, key=lambda lv: lv.cells_per_kg)
    design = ladder.design_levels
    if scenario.n_doses != len(levels) or len(design) == len(levels):
        return scenario
    keep = [i for i, lv in enumerate(levels) if lv.in_design]
    labels = scenario.dose_labels
    return scenario.with_(
        joint=tuple(scenario.joint[i] for i in keep),
        dose_labels=tuple(labels[i] for i in keep) if labels else (),
        design={k: v for k, v in scenario.design.items() if k != "start_dose"},
    )


@dataclass(frozen=True, slots=True)
class ReadingOC:
    """Exact BOIN12 OCs of one scenario under one reading of the fallback level.

    Per dose level (every level, lowest first): the % of trials selecting it as the OBD and the
    mean patients treated there; None where the level is not a design dose in this reading.
    """

    scenario: str
    policy: FallbackPolicy
    levels: tuple[str, ...]
    selection_pct: tuple[float | None, ...]
    patients: tuple[float | None, ...]
    none_pct: float
    stop_pct: float
    mean_total: float


def reading_oc(scenario: Scenario, protocol: Protocol, arm_id: str) -> ReadingOC:
    """The exact OCs of ``scenario`` (a truth per dose level) under ``protocol``'s reading."""
    ladder = protocol.dose_levels
    levels = sorted(ladder.levels, key=lambda lv: lv.cells_per_kg)
    params = protocol.design_params(arm_id)
    exact = exact_operating_characteristics(params, for_design(scenario, protocol).joint_array)
    selection: list[float | None] = []
    patients: list[float | None] = []
    for lv in levels:
        if not lv.in_design:
            selection.append(None)
            patients.append(None)
            continue
        j = lv.design_index.value - 1
        selection.append(100.0 * float(exact.selection[j]))
        patients.append(float(exact.mean_n[j]))
    return ReadingOC(
        scenario=scenario.name,
        policy=ladder.policy,
        levels=tuple(lv.name for lv in levels),
        selection_pct=tuple(selection),
        patients=tuple(patients),
        none_pct=100.0 * float(exact.selection[-1]),
        stop_pct=100.0 * float(exact.early_stop),
        mean_total=float(exact.mean_total_n),
    )


def reading_scenarios(protocol: Protocol, names: list[str] | None) -> tuple[Scenario, ...]:
    """Scenarios with a truth for every dose level: the protocol's built-in ones or those named
    (named scenarios with fewer doses are left out of the comparison)."""
    every = len(protocol.dose_levels.levels)
    if names:
        found = [resolve_scenario(name) for name in names]
        return tuple(s for s in found if s.n_doses == every)
    tag = protocol.registry.nct_id.lower()
    scenarios = [builtin_scenario(name) for name in builtin_names()]
    return tuple(s for s in scenarios if tag in s.tags and s.n_doses == every)


def reading_comparison(
    protocol: Protocol,
    arm_id: str,
    scenarios: tuple[Scenario, ...],
    compute: Callable[[tuple[Any, ...], Callable[[], ReadingOC]], ReadingOC] | None = None,
) -> tuple[ReadingOC, ...]:
    """Both readings of the fallback level (``FALLBACK_POLICIES``) on the same truths: scenario
    by scenario, the protocol's reading first. Empty when the protocol has no fallback level.

    ``compute(inputs, thunk)`` may cache each result (the report passes its OC cache).
    """
    if not any(lv.role == "fallback" for lv in protocol.dose_levels.levels):
        return ()
    mine = protocol.dose_levels.policy
    order = (mine, *(p for p in FALLBACK_POLICIES if p != mine))
    out = []
    for scenario in scenarios:
        for policy in order:
            reading = protocol.with_fallback_policy(policy)
            params = reading.design_params(arm_id)

            def thunk(sc: Scenario = scenario, pr: Protocol = reading) -> ReadingOC:
                return reading_oc(sc, pr, arm_id)

            if compute is None:
                out.append(thunk())
            else:
                out.append(compute(("reading_oc", scenario, params, policy), thunk))
    return tuple(out)


def with_protocol_windows(scenario: Scenario, protocol: Protocol) -> Scenario:
    """The scenario with the protocol's DLT window and BOR day as its windows."""
    return scenario.with_(
        tox_window=float(protocol.windows.dlt_days),
        eff_window=float(protocol.windows.bor.target_day.value),
    )


def design_differences(scenario: Scenario, params: Boin12Params) -> dict[str, tuple[Any, Any]]:
    """Settings a scenario file suggests that the protocol's design overrides: name → (file,
    protocol)."""
    out = {}
    for key, value in scenario.design.items():
        mine = getattr(params, key, None)
        if mine != value:
            out[key] = (value, mine)
    return out


def scenario_oc(scenario: Scenario, params: Boin12Params, trials: int, seed: int) -> ScenarioOC:
    """Exact BOIN12 and simulated TITE-BOIN12 / waiting BOIN12 for one scenario."""
    # Here, not at the top: the engines import Numba, which a report from cached OCs never needs.
    from dosewise.simulate.run import simulate

    exact = exact_operating_characteristics(params, scenario.joint_array)
    tite = simulate(scenario, params, trials, seed, tite=True, workers=1)
    waiting = simulate(scenario, params, trials, seed, tite=False, workers=1)
    return ScenarioOC(scenario, params, exact, tite, waiting)
