"""Where chunks run: in this process, in local worker processes, or on a Dask cluster.

Trials are cut into chunks of a fixed size; chunk i draws from its own random stream,
``SeedSequence(seed, spawn_key=(i,))`` (the i-th child of ``SeedSequence(seed).spawn``), so a
result depends only on the seed and the number of trials. Chunks may finish in any order on any
worker; their tallies are added in chunk order, and at most a few chunks are in flight, so memory
stays flat however many trials are asked for. Every executor is a
``concurrent.futures.Executor``: a ``ProcessPoolExecutor`` for ``--workers N`` and Dask's
``client.get_executor()`` for ``--scheduler``.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from dosewise.design.params import Boin12Params
from dosewise.errors import InvalidInput, InvalidParameter
from dosewise.simulate.engine import simulate_boin12
from dosewise.simulate.results import TrialResults
from dosewise.simulate.scenario import Scenario
from dosewise.simulate.summary import Tally
from dosewise.simulate.tite_engine import simulate_tite

#: Trials per chunk. Part of the definition of a result: changing it changes the random streams.
CHUNK_SIZE = 1000

Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class ChunkTask:
    """One chunk of trials to simulate and reduce (picklable, sent to workers)."""

    params: Boin12Params
    scenario: Scenario
    tite: bool
    seed: int
    index: int
    size: int


def chunk_rng(seed: int, index: int) -> np.random.Generator:
    """The random stream of chunk ``index``: child ``index`` of ``SeedSequence(seed)``."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(index,)))


def simulate_chunk(task: ChunkTask, debug: bool = False) -> TrialResults:
    """Simulate one chunk's trials (per-trial rows)."""
    run = simulate_tite if task.tite else simulate_boin12
    return run(task.params, task.scenario, task.size, chunk_rng(task.seed, task.index), debug)


def run_chunk(task: ChunkTask) -> Tally:
    """Simulate one chunk and reduce it to sums (what workers send back)."""
    results = simulate_chunk(task)
    return Tally.of(results, task.scenario.true_mtd(task.params))


def chunk_tasks(
    params: Boin12Params,
    scenario: Scenario,
    trials: int,
    seed: int,
    tite: bool,
    chunk_size: int = CHUNK_SIZE,
) -> list[ChunkTask]:
    """The chunks of a run: full chunks of ``chunk_size`` and a last, smaller one."""
    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
        raise InvalidParameter("trials", trials, "must be a whole number >= 1")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InvalidParameter("seed", seed, "must be a whole number >= 0")
    scenario.check_design(params)
    count = -(-trials // chunk_size)
    return [
        ChunkTask(params, scenario, tite, seed, i, min(chunk_size, trials - i * chunk_size))
        for i in range(count)
    ]


def run_tasks(
    tasks: list[ChunkTask],
    executor: Executor | None = None,
    progress: Progress | None = None,
    in_flight: int = 4,
) -> Tally:
    """Run chunks (in this process when ``executor`` is None) and add their tallies in order."""
    total = Tally(n_doses=tasks[0].params.n_doses)
    if executor is None:
        for task in tasks:
            total.add(run_chunk(task))
            if progress is not None:
                progress(task.size)
        return total
    futures: dict[int, Future[Tally]] = {}
    submitted = 0
    for index, task in enumerate(tasks):
        while submitted < len(tasks) and submitted - index < in_flight:
            futures[submitted] = executor.submit(run_chunk, tasks[submitted])
            submitted += 1
        total.add(futures.pop(index).result())
        if progress is not None:
            progress(task.size)
    return total


def _dask_client(address: str) -> Any:
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - the dist extra is installed in development
        raise InvalidInput(
            "scheduler", address, "Dask is not installed: pip install 'dosewise[dist]'"
        ) from None
    try:
        if os.path.isfile(address) or address.endswith(".json"):
            if not os.path.isfile(address):
                raise InvalidInput("scheduler", address, "scheduler file not found")
            return Client(scheduler_file=address, timeout=30)  # type: ignore[no-untyped-call]
        return Client(address, timeout=30)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError) as exc:
        raise InvalidInput("scheduler", address, f"cannot connect to Dask ({exc})") from None


@contextmanager
def open_executor(
    workers: int | None = None, scheduler: str | None = None
) -> Iterator[tuple[Executor | None, int]]:
    """(executor, parallelism): None for in-process, local processes, or a Dask cluster."""
    if workers is not None and scheduler is not None:
        raise InvalidInput("workers", workers, "give --workers or --scheduler, not both")
    if scheduler is not None:
        client = _dask_client(scheduler)
        try:
            cores = sum(client.nthreads().values()) or 1
            with client.get_executor() as executor:
                yield executor, int(cores)
        finally:
            client.close()
        return
    if workers is None or workers == 1:
        yield None, 1
        return
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InvalidParameter("workers", workers, "must be a whole number >= 1")
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        yield pool, workers
