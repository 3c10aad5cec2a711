"""Simulation: scenarios, the vectorised BOIN12 / TITE-BOIN12 engines, summaries, executors.

``simulate(scenario, params, trials, seed)`` returns a :class:`Summary` of operating
characteristics with Monte Carlo errors; results depend only on the seed and the number of
trials, whether they run here, on local worker processes or on a Dask cluster.
"""

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
