"""Time the simulation engine (issue 4): BOIN12 and TITE-BOIN12 trials per second on one core.

- 10,000 BOIN12 trials, 5 doses, cohorts of 3, 12 cohorts (max N 36), after a warm-up run;
  once with the default n_earlystop = 12 and once with it off (every trial runs 12 cohorts
  unless it stops early for safety or futility);
- 10,000 TITE-BOIN12 trials of the same design (accrual 2/month, windows 28 / 90 days);
- a plain per-trial Python loop over ``Boin12.decide`` / ``select_obd`` on a subset, for the ratio;
- peak memory (RSS) of a fresh process simulating 10,000 and 100,000 trials (chunked: flat).

Run: ``python bench/simulate.py`` (``--quick`` for a smoke run). Writes the section
"Simulation (issue 4)" of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from dosewise.design.boin12 import Boin12
from dosewise.design.params import Boin12Params
from dosewise.simulate.run import simulate
from dosewise.simulate.scenario import CELLS, Scenario, builtin_scenario
from results import write_section

SCENARIO = "five-umbrella"


def rate(
    scenario: Scenario, params: Boin12Params, trials: int, tite: bool, repeat: int
) -> tuple[float, float]:
    """Best (wall, CPU) trials per second over ``repeat`` timed runs, after a warm-up run.

    CPU time is this process's own (one core: the engine runs in one thread), so it is not
    inflated when other jobs share the machine; wall time is what a user waits.
    """
    simulate(scenario, params, 1000, seed=99, tite=tite)  # tables, Numba caches
    wall, cpu = [], []
    for r in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        simulate(scenario, params, trials, seed=r + 1, tite=tite)
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    return trials / min(wall), trials / min(cpu)


def plain_loop(scenario: Scenario, params: Boin12Params, trials: int) -> float:
    """Trials per second of a per-trial Python loop over the design's single-trial API."""
    model = Boin12(params)
    rng = np.random.default_rng(5)
    joint = scenario.joint_array
    start = time.perf_counter()
    for _ in range(trials):
        cohorts: list[str] = []
        dose = params.start_dose
        total = 0
        while True:
            size = min(params.cohort_size, params.max_n - total)
            cells = rng.choice(4, size=size, p=joint[dose - 1])
            cohorts.append(str(dose) + "".join(CELLS[c] for c in cells))
            total += size
            decision = model.decide(" ".join(cohorts), rng=rng)
            if decision.stop:
                if decision.select_obd:
                    model.select_obd(" ".join(cohorts))
                break
            assert decision.next_dose is not None
            dose = decision.next_dose
    return trials / (time.perf_counter() - start)


def peak_rss_mb(trials: int, tite: bool) -> float:
    """Peak RSS (MB) of a fresh process that simulates ``trials`` trials."""
    code = (
        "import resource, json\n"
        "from dosewise.design.params import Boin12Params\n"
        "from dosewise.simulate.run import simulate\n"
        "from dosewise.simulate.scenario import builtin_scenario\n"
        f"sc = builtin_scenario({SCENARIO!r})\n"
        f"simulate(sc, Boin12Params(n_doses=5), {trials}, seed=1, tite={tite})\n"
        "print(json.dumps(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(json.loads(out.stdout.strip().splitlines()[-1])) / 1024.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller runs (smoke test)")
    args = parser.parse_args()
    trials = 2000 if args.quick else 10_000
    repeat = 1 if args.quick else 3
    sc = builtin_scenario(SCENARIO)
    design = Boin12Params(n_doses=5, cohort_size=3, max_n=36)
    no_early = design.with_(n_earlystop=0)

    boin12 = rate(sc, design, trials, False, repeat)
    boin12_full = rate(sc, no_early, trials, False, repeat)
    tite = rate(sc, design, trials, True, repeat)
    tite_full = rate(sc, no_early, trials, True, repeat)
    start = time.process_time()
    loop_trials = 100 if args.quick else 300
    loop = statistics.median(plain_loop(sc, design, loop_trials) for _ in range(3))
    loop_cpu = 3 * loop_trials / (time.process_time() - start)
    rss = {
        (n, t): peak_rss_mb(n, t)
        for n in ((2000, 20_000) if args.quick else (10_000, 100_000))
        for t in (False, True)
    }
    small, large = sorted({n for n, _ in rss})
    rows = [
        ("BOIN12, n_earlystop 12 (default)", boin12, "≥ 100,000"),
        ("BOIN12, n_earlystop off (12 cohorts unless a safety/futility stop)", boin12_full, ""),
        ("TITE-BOIN12, n_earlystop 12", tite, "≥ 10,000"),
        ("TITE-BOIN12, n_earlystop off", tite_full, ""),
        ("plain Python loop over `Boin12.decide` + `select_obd` (per trial)", (loop, loop_cpu), ""),
    ]
    table = "| what | trials / s (wall) | trials / s (CPU, one core) | goal |\n|---|---|---|---|\n"
    table += "".join(f"| {what} | {w:,.0f} | {c:,.0f} | {goal} |\n" for what, (w, c), goal in rows)
    table += (
        f"| ratio engine / plain loop (BOIN12, default) | {boin12[0] / loop:,.0f}× | "
        f"{boin12[1] / loop_cpu:,.0f}× | |\n"
    )
    command = "python bench/simulate.py" + (" --quick" if args.quick else "")
    body = f"""
Scenario `{SCENARIO}` (5 doses), BOIN12 defaults (φT 0.35, φE 0.25, u 60/40, N* 6, N2 9), cohorts
of 3, max N 36 (12 cohorts), random tie-break; {trials:,} trials per timed run, best of {repeat}
after a warm-up run, in one process (one core). TITE: accrual 2/month (uniform gaps), windows
28 / 90 days, patients who arrive during a suspension wait.

{table}
Peak RSS of a fresh process (imports included; chunks of 1,000 trials, tallies only):

| trials | BOIN12 | TITE-BOIN12 |
|---|---|---|
| {small:,} | {rss[(small, False)]:.0f} MB | {rss[(small, True)]:.0f} MB |
| {large:,} | {rss[(large, False)]:.0f} MB | {rss[(large, True)]:.0f} MB |

{os.cpu_count()} cores on this machine; the figures above use one.
"""
    if not args.quick:  # a smoke run does not overwrite the recorded figures
        write_section("Simulation (issue 4)", command, body)
    print(body)


if __name__ == "__main__":
    main()
