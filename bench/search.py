"""Time exact operating characteristics and the design search (issue 9).

- Exact OCs of the trial's design: 3 doses, 10 cohorts of 3 (max N 30), start dose 2, other
  settings at their defaults (n_earlystop 12), scenario ``nct07070323-dl1-best``; in one process
  (one core), best of 3 after a warm-up run (Numba and SciPy loaded). Also the same design with
  non-additive utilities (u11 = 50: joint counts per dose, a larger state space), and the
  NCT07070323 arm's own design (max N 18).
- A design search of 100 designs (φE × u11 × N*) × the 6 NCT07070323 scenarios × 10,000 trials,
  forced to simulation, on 2 local worker processes (pool start-up included), and in one process.

Run: ``python bench/search.py`` (``--quick`` for a smoke run that writes nothing). Writes the
section "Exact OCs and design search (issue 9)" of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

# One core: no BLAS threads in the exact computation (set before NumPy loads).
os.environ["OPENBLAS_NUM_THREADS"] = os.environ.get("OPENBLAS_NUM_THREADS", "1")
os.environ["OMP_NUM_THREADS"] = os.environ.get("OMP_NUM_THREADS", "1")
os.environ["MKL_NUM_THREADS"] = os.environ.get("MKL_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).parent))
from dosewise.design.params import Boin12Params
from dosewise.simulate.exact import exact_operating_characteristics
from dosewise.simulate.scenario import builtin_scenario
from dosewise.simulate.search import (
    build_designs,
    common_suggestions,
    grid_settings,
    parse_grid,
    resolve_scenarios,
    search,
)
from results import write_section

SCENARIO = "nct07070323-dl1-best"
GRID = ["phi_e=0.2,0.25,0.3,0.35", "u11=40,50,60,70,80", "n_star=3,6,9,12,15"]


def time_exact(params: Boin12Params, repeat: int) -> tuple[float, float, int]:
    """Best (wall, CPU) seconds of the exact computation, and the states visited."""
    joint = builtin_scenario(SCENARIO).joint_array
    exact_operating_characteristics(params, joint)  # warm-up: Numba cache, SciPy
    wall, cpu, states = [], [], 0
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        states = exact_operating_characteristics(params, joint).states
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    return min(wall), min(cpu), states


def time_search(trials: int, workers: int | None, grid: list[str]) -> tuple[float, int, int]:
    """Wall seconds of one simulated search, number of designs and scenarios."""
    scenarios = resolve_scenarios(["nct07070323"])
    base = Boin12Params(n_doses=3, **common_suggestions(scenarios))
    settings = grid_settings(parse_grid(grid))
    designs = build_designs(base, settings)
    start = time.perf_counter()
    result = search(
        designs, settings, scenarios, trials=trials, seed=1, mode="simulate", workers=workers
    )
    assert len(result.rows) == len(designs) * len(scenarios)
    return time.perf_counter() - start, len(designs), len(scenarios)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller runs (smoke test)")
    args = parser.parse_args()
    repeat = 1 if args.quick else 3
    trial = Boin12Params(n_doses=3, start_dose=2, cohort_size=3, max_n=30)
    arm = trial.with_(max_n=18)
    exact_rows = [
        ("3 doses, 10 cohorts of 3 (max N 30), u11 60 / u00 40", trial),
        ("NCT07070323 arm: 6 cohorts of 3 (max N 18), u11 60 / u00 40", arm),
        ("same arm, u11 50 / u00 40 (not additive: joint counts per dose)", arm.with_(u11=50.0)),
    ]
    lines = []
    for label, params in exact_rows:
        wall, cpu, states = time_exact(params, repeat)
        lines.append(f"| {label} | {states:,} | {wall:.2f} s | {cpu:.2f} s |")
        print(lines[-1], flush=True)
    grid = ["phi_e=0.2,0.3", "u11=50,60"] if args.quick else GRID
    trials = 1000 if args.quick else 10_000
    two, n_designs, n_scenarios = time_search(trials, 2, grid)
    print(f"search on 2 workers: {two:.1f} s", flush=True)
    one, _, _ = time_search(trials, None, grid)
    print(f"search in one process: {one:.1f} s", flush=True)
    total = n_designs * n_scenarios * trials
    command = "python bench/search.py" + (" --quick" if args.quick else "")
    body = f"""
**Exact operating characteristics** (`dosewise.simulate.exact`, dynamic programming over
per-dose counts and the current dose), scenario `{SCENARIO}`, start dose 2, φT 0.35, φE 0.25,
N* 6, N2 9, n_earlystop 12, random tie-break; best of {repeat} after a warm-up, one process (one
core). Goal: the trial's design (3 doses, 10 cohorts of 3) under 10 s.

| design | states visited | wall | CPU |
|---|---|---|---|
{chr(10).join(lines)}

Refused by the default budget of 10 million (state × cohort outcome) expansions, with a one-line
error that suggests simulation: the 10-cohort design with n_earlystop off (11.5 million at
cohort 9) and with u11 + u00 ≠ 100 (22.7 million at cohort 8). Single-threaded: the script sets
`OPENBLAS_NUM_THREADS=1` (and OMP/MKL) before NumPy loads.

**Design search** (`dosewise search`, forced to simulation): {n_designs} designs
(`{" ".join("--grid " + g for g in grid)}`) × {n_scenarios} NCT07070323 scenarios ×
{trials:,} trials = {total:,} simulated trials (max N 18, cohorts of 3, start dose 2). Goal:
under 60 s with 2 local workers.

| executor | wall | trials / s |
|---|---|---|
| 2 local worker processes (pool start-up included) | {two:.1f} s | {total / two:,.0f} |
| one process | {one:.1f} s | {total / one:,.0f} |
"""
    if not args.quick:  # a smoke run does not overwrite the recorded figures
        write_section("Exact OCs and design search (issue 9)", command, body)
    print(body)


if __name__ == "__main__":
    main()
