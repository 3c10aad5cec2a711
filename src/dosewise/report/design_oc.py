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
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from dosewise.design.params import Boin12Params
from dosewise.errors import InvalidInput
from dosewise.protocol.model import Protocol
from dosewise.simulate import (
    Scenario,
    Summary,
    builtin_names,
    builtin_scenario,
    resolve_scenario,
    simulate,
)
from dosewise.simulate.exact import ExactResult, exact_operating_characteristics
from dosewise.simulate.scenario import DAYS_PER_MONTH


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
    """Built-in scenarios for this protocol (tagged with its NCT id), else any with J doses."""
    tag = protocol.registry.nct_id.lower()
    scenarios = [builtin_scenario(name) for name in builtin_names()]
    own = [s for s in scenarios if tag in s.tags and s.n_doses == n_doses]
    if own:
        return tuple(own)
    return tuple(s for s in scenarios if s.n_doses == n_doses)


def chosen_scenarios(
    protocol: Protocol, n_doses: int, names: list[str] | None
) -> tuple[Scenario, ...]:
    """The scenarios named (built-in names or YAML files), or the protocol's built-in ones."""
    if not names:
        return default_scenarios(protocol, n_doses)
    out = []
    for name in names:
        sc = resolve_scenario(name)
        if sc.n_doses != n_doses:
            raise InvalidInput(
                "scenario", name, f"has {sc.n_doses} doses; the protocol's design has {n_doses}"
            )
        out.append(sc)
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
    exact = exact_operating_characteristics(params, scenario.joint_array)
    tite = simulate(scenario, params, trials, seed, tite=True, workers=1)
    waiting = simulate(scenario, params, trials, seed, tite=False, workers=1)
    return ScenarioOC(scenario, params, exact, tite, waiting)
