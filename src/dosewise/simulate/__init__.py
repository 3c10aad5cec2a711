"""Simulation: scenarios, the vectorised BOIN12 / TITE-BOIN12 engines, summaries, executors.

``simulate(scenario, params, trials, seed)`` returns a :class:`Summary` of operating
characteristics with Monte Carlo errors; results depend only on the seed and the number of
trials, whether they run here, on local worker processes or on a Dask cluster.

The names below are imported from their modules when first used (PEP 562): the engines pull
in Numba and the summaries pandas, which a reader of cached results (the design report) or of
scenarios alone does not need.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dosewise.simulate.executors import CHUNK_SIZE, ChunkTask, chunk_rng, run_chunk
    from dosewise.simulate.results import TrialHistory, TrialResults
    from dosewise.simulate.run import simulate, simulate_trials
    from dosewise.simulate.scenario import (
        Accrual,
        EventTimes,
        Scenario,
        builtin_names,
        builtin_scenario,
        builtin_scenarios,
        load_scenario,
        make_scenario,
        resolve_scenario,
        scenario_from_dict,
    )
    from dosewise.simulate.summary import Summary, Tally

#: Public name → the module that defines it.
_HOMES = {
    **dict.fromkeys(("CHUNK_SIZE", "ChunkTask", "chunk_rng", "run_chunk"), "executors"),
    **dict.fromkeys(("TrialHistory", "TrialResults"), "results"),
    **dict.fromkeys(("simulate", "simulate_trials"), "run"),
    **dict.fromkeys(
        (
            "Accrual",
            "EventTimes",
            "Scenario",
            "builtin_names",
            "builtin_scenario",
            "builtin_scenarios",
            "load_scenario",
            "make_scenario",
            "resolve_scenario",
            "scenario_from_dict",
        ),
        "scenario",
    ),
    **dict.fromkeys(("Summary", "Tally"), "summary"),
}


def __getattr__(name: str) -> Any:
    """A public name, imported from its module on first use (then kept as a global)."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})


__all__ = [
    "CHUNK_SIZE",
    "Accrual",
    "ChunkTask",
    "EventTimes",
    "Scenario",
    "Summary",
    "Tally",
    "TrialHistory",
    "TrialResults",
    "builtin_names",
    "builtin_scenario",
    "builtin_scenarios",
    "chunk_rng",
    "load_scenario",
    "make_scenario",
    "resolve_scenario",
    "run_chunk",
    "scenario_from_dict",
    "simulate",
    "simulate_trials",
]
