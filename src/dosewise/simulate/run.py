"""Run a simulation: chunks, executor, summary — the one call behind the CLI and notebooks."""

from __future__ import annotations

import time

import numpy as np

from dosewise.design.params import Boin12Params
from dosewise.simulate.executors import (
    CHUNK_SIZE,
    Progress,
    chunk_tasks,
    open_executor,
    run_tasks,
    simulate_chunk,
)
from dosewise.simulate.results import TrialResults
from dosewise.simulate.scenario import Scenario
from dosewise.simulate.summary import Summary


def simulate(
    scenario: Scenario,
    params: Boin12Params,
    trials: int,
    seed: int,
    *,
    tite: bool = False,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Progress | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> Summary:
    """Operating characteristics of ``params`` under ``scenario`` from ``trials`` trials.

    The result depends only on ``seed``, ``trials`` (and ``chunk_size``), never on ``workers``
    or ``scheduler`` (a Dask address ``tcp://host:port`` or a scheduler-file path).
    """
    tasks = chunk_tasks(params, scenario, trials, seed, tite, chunk_size)
    start = time.perf_counter()
    with open_executor(workers, scheduler) as (executor, cores):
        tally = run_tasks(tasks, executor, progress, in_flight=2 * cores)
    return Summary(
        scenario=scenario,
        params=params,
        tally=tally,
        seed=seed,
        tite=tite,
        seconds=time.perf_counter() - start,
        chunk_size=chunk_size,
    )


def simulate_trials(
    scenario: Scenario,
    params: Boin12Params,
    trials: int,
    seed: int,
    *,
    tite: bool = False,
    debug: bool = False,
    chunk_size: int = CHUNK_SIZE,
) -> TrialResults:
    """Every trial's row (and with ``debug`` its history), in this process; same streams."""
    parts = [
        simulate_chunk(task, debug)
        for task in chunk_tasks(params, scenario, trials, seed, tite, chunk_size)
    ]
    return TrialResults(
        selected=np.concatenate([p.selected for p in parts]),
        reason=np.concatenate([p.reason for p in parts]),
        n=np.concatenate([p.n for p in parts]),
        tox=np.concatenate([p.tox for p in parts]),
        eff=np.concatenate([p.eff for p in parts]),
        duration=np.concatenate([p.duration for p in parts]),
        histories=tuple(h for p in parts for h in p.histories),
    )
