"""Time the design core: one BOIN12 decision (5 doses), RDS tables, 10,000 states from a file.

Goal (issue 3): a decision for 5 doses in under 200 µs after warm-up.
Run: `python bench/design.py` (or `make bench`).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from dosewise.design.boin12 import Boin12
from dosewise.design.params import Boin12Params
from dosewise.design.tables import rds_table
from results import write_section


def per_call(fn, repeat: int) -> list[float]:  # type: ignore[no-untyped-def]
    """Seconds per call over `repeat` timed batches of 100 calls, after warm-up."""
    for _ in range(200):
        fn()
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(100):
            fn()
        out.append((time.perf_counter() - start) / 100)
    return out


def main() -> None:
    params = Boin12Params(n_doses=5, max_n=36, tie_break="random", seed=1)
    model = Boin12(params)
    outcomes = "1NNN 2NNB 3NEE 3NTN 4ETE 4NBE 4BNN 5BEN"
    rng = np.random.default_rng(1)
    decide = per_call(lambda: model.decide(outcomes, rng=rng), 30)
    state = model.state(outcomes)
    obd = per_call(lambda: model.select_obd_from_state(state), 30)
    t0 = time.perf_counter()
    rds_table(params, list(range(0, 37, 3)))
    rds_seconds = time.perf_counter() - t0
    lines = [outcomes.split()[: 1 + i % 8] for i in range(10_000)]
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
        handle.write("\n".join(" ".join(x) for x in lines) + "\n")
    exe = Path(sys.executable).with_name("dosewise")
    t0 = time.perf_counter()
    subprocess.run(
        [str(exe), "decide", "--doses", "5", "--outcomes-file", handle.name],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    file_seconds = time.perf_counter() - t0
    med = statistics.median(decide) * 1e6
    body = f"""
| what | figure | goal |
|---|---|---|
| one `Boin12.decide` (5 doses, 8 cohorts), median of 30×100 calls | {med:.0f} µs | < 200 µs |
| same, best batch | {min(decide) * 1e6:.0f} µs | |
| `select_obd` on a replayed state (5 doses) | {statistics.median(obd) * 1e6:.0f} µs | |
| RDS table for n = 0, 3, ..., 36 (5,214 combinations) | {rds_seconds * 1e3:.0f} ms | |
| `decide --outcomes-file`, 10,000 lines (whole process) | {file_seconds:.1f} s | seconds |
"""
    write_section("Design core (issue 3)", "python bench/design.py", body)
    print(body)


if __name__ == "__main__":
    main()
