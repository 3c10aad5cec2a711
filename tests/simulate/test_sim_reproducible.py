"""Results depend only on the seed and the number of trials: not on workers, Dask or chunk order."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dosewise.design.params import Boin12Params
from dosewise.errors import InvalidInput
from dosewise.simulate.executors import chunk_tasks, run_tasks
from dosewise.simulate.run import simulate, simulate_trials
from dosewise.simulate.scenario import builtin_scenario

SC = builtin_scenario("five-umbrella")
PARAMS = Boin12Params(n_doses=5, seed=7)


def _result(summary: Any) -> dict[str, Any]:
    data = summary.to_dict()
    data.pop("seconds")
    return data


def test_same_seed_same_result_and_other_seed_differs() -> None:
    a = simulate(SC, PARAMS, 2500, seed=7)
    b = simulate(SC, PARAMS, 2500, seed=7)
    c = simulate(SC, PARAMS, 2500, seed=8)
    assert _result(a) == _result(b)
    assert _result(a)["selection_pct"] != _result(c)["selection_pct"]


def test_a_chunk_does_not_depend_on_the_total() -> None:
    # Chunk 0 draws from SeedSequence(seed, spawn_key=(0,)) whatever the number of trials.
    small = simulate_trials(SC, PARAMS, 1000, seed=3, tite=True)
    large = simulate_trials(SC, PARAMS, 2500, seed=3, tite=True)
    np.testing.assert_array_equal(small.selected, large.selected[:1000])
    np.testing.assert_array_equal(small.duration, large.duration[:1000])


def test_chunks_added_in_order_whatever_the_completion_order() -> None:
    from concurrent.futures import ThreadPoolExecutor

    tasks = chunk_tasks(PARAMS, SC, 4000, 11, tite=True)
    serial = run_tasks(tasks)
    with ThreadPoolExecutor(max_workers=3) as pool:
        threaded = run_tasks(tasks, pool, in_flight=4)
    assert serial.duration == threaded.duration  # float sums, same order
    np.testing.assert_array_equal(serial.selected, threaded.selected)


def test_local_worker_processes_give_identical_results() -> None:
    one = simulate(SC, PARAMS, 3000, seed=5, tite=True)
    two = simulate(SC, PARAMS, 3000, seed=5, tite=True, workers=2)
    assert _result(one) == _result(two)


def test_dask_cluster_gives_identical_results(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        memory_limit="2GiB",
    )
    try:
        here = simulate(SC, PARAMS, 3000, seed=9)
        there = simulate(SC, PARAMS, 3000, seed=9, scheduler=cluster.scheduler_address)
        assert _result(here) == _result(there)
        file = tmp_path / "scheduler.json"
        file.write_text(json.dumps({"address": cluster.scheduler_address}))
        again = simulate(SC, PARAMS, 3000, seed=9, scheduler=str(file))
        assert _result(here) == _result(again)
    finally:
        cluster.close()


def test_bad_executor_settings() -> None:
    with pytest.raises(InvalidInput, match="not both"):
        simulate(SC, PARAMS, 10, seed=1, workers=2, scheduler="tcp://127.0.0.1:1")
    with pytest.raises(InvalidInput, match="scheduler file not found"):
        simulate(SC, PARAMS, 10, seed=1, scheduler="/no/such/scheduler.json")
