"""Where a person waits on the trial side: demo data, the DSMB PDF and the design report.

Each figure is the wall time of one fresh ``dosewise`` process (the entry point's code), as a
user runs it, with the production settings (Argon2 at its default cost, SQLite FULL except
where ``demo-data`` itself relaxes it) on a temporary SQLite database and a temporary cache
folder:

- ``dosewise demo-data`` on a migrated, empty database (goal: under 30 s);
- ``dosewise report dsmb --out dsmb.pdf`` on that trial (goal: under 3 s; the median of three
  first runs, each on an empty cache folder, so nothing was drawn before; its CPU includes the
  helper process that draws the figures meanwhile, see ``dosewise.report.figures_aside``), then
  again (its figures read from the cache by the data they show);
- ``dosewise report design --out design.pdf``, first with an empty cache (every operating
  characteristic computed) and then again (read from the cache by the protocol's inputs; goal:
  under 5 s).

The two reports are also timed inside one process that has already made each once (imports
done, as in the running web service that serves them at ``/api/v1/reports``): median of three.
Writes the section "Demo data and reports (issue 19)" of bench/RESULTS.md.

    python bench/trial_tasks.py [--no-write]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import compile_bytecode, write_section

ENTRY = "from dosewise.cli.app import main; main()"
#: First DSMB reports timed (the median is reported): one run is one sample of a noisy machine.
FIRST_RUNS = 3
WARM = """
import json, statistics, sys, time
from pathlib import Path
from dosewise.protocol import default_protocol
from dosewise.report.design_report import build_design_report, write_design_report
from dosewise.report.exports import run_export
from dosewise.report.oc_cache import OcCache
from dosewise.settings import get_settings
from dosewise.store.session import open_database
from dosewise.trial.audit import Actor
settings = get_settings()
db = open_database(settings)
out = Path(sys.argv[1])
def dsmb():
    run_export(db, Actor.system("bench"), "dsmb", out / "dsmb.pdf", via="bench")
def design():
    report = build_design_report(default_protocol(), cache=OcCache.from_settings(settings))
    write_design_report(report, out / "design.pdf")
times = {}
for name, task in (("dsmb", dsmb), ("design", design)):
    task()
    runs = []
    for _ in range(3):
        start = time.perf_counter()
        task()
        runs.append(time.perf_counter() - start)
    times[name] = statistics.median(runs)
print(json.dumps(times))
"""


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


#: CPU seconds (user + system) of each timed command, by its first words.
CPU: dict[str, float] = {}


def timed(env: dict[str, str], *argv: str) -> tuple[float, str]:
    """Wall seconds and stdout of ``dosewise argv`` in a fresh process (its CPU into ``CPU``).

    The CPU time barely depends on other work on the machine; the wall time does.
    """
    start, cpu = time.perf_counter(), _children_cpu()
    proc = subprocess.run(
        [sys.executable, "-c", ENTRY, *argv], env=env, capture_output=True, text=True
    )
    wall = time.perf_counter() - start
    CPU[" ".join(argv[:2])] = _children_cpu() - cpu
    if proc.returncode != 0:
        raise RuntimeError(f"dosewise {' '.join(argv)}: {proc.stderr[-1500:]}")
    return wall, proc.stdout


def numpy_import_ms() -> float:
    """Median wall time of ``python -c "import numpy"`` (5 runs): how busy the machine is."""
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import numpy"], check=True)
        runs.append(time.perf_counter() - start)
    return 1000 * sorted(runs)[2]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-write", action="store_true", help="Do not update RESULTS.md")
    args = parser.parse_args()
    compiled = compile_bytecode()
    before = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    reference = numpy_import_ms()
    with tempfile.TemporaryDirectory(prefix="dosewise-bench-") as tmp:
        env = {
            **os.environ,
            "DOSEWISE_DATABASE_URL": f"sqlite:///{Path(tmp) / 'trial.db'}",
            "DOSEWISE_CACHE_DIR": str(Path(tmp) / "cache"),
        }
        timed(env, "db", "upgrade")
        demo, out = timed(env, "demo-data", "--password", "benchmark password 2026", "--json")
        demo_cpu = CPU["demo-data --password"]
        summary = json.loads(out.strip().splitlines()[-1])
        firsts: list[tuple[float, float]] = []
        for i in range(FIRST_RUNS):  # each on an empty cache folder: nothing drawn before
            cold = {**env, "DOSEWISE_CACHE_DIR": str(Path(tmp) / f"cache-dsmb-{i}")}
            wall, _ = timed(cold, "report", "dsmb", "--out", str(Path(tmp) / f"dsmb{i}.pdf"))
            firsts.append((wall, CPU["report dsmb"]))
        dsmb, dsmb_cpu = sorted(firsts)[FIRST_RUNS // 2]
        dsmb_again, _ = timed(cold, "report", "dsmb", "--out", str(Path(tmp) / "dsmb-again.pdf"))
        dsmb_again_cpu = CPU["report dsmb"]
        design_cold, _ = timed(env, "report", "design", "--out", str(Path(tmp) / "d1.pdf"))
        cold_cpu = CPU["report design"]
        design_warm, _ = timed(env, "report", "design", "--out", str(Path(tmp) / "d2.pdf"))
        warm_cpu = CPU["report design"]
        proc = subprocess.run(
            [sys.executable, "-c", WARM, tmp], env=env, capture_output=True, text=True
        )
        if proc.returncode != 0:
            raise RuntimeError(f"warm reports: {proc.stderr[-1500:]}")
        warm = json.loads(proc.stdout.strip().splitlines()[-1])
    rows = [
        (
            f"`dosewise demo-data` ({summary['participants']} participants, every act audited "
            "and e-signed)",
            demo,
            demo_cpu,
            30.0,
        ),
        (
            "`dosewise report dsmb --out dsmb.pdf` (the demo trial; median of "
            f"{FIRST_RUNS} first runs, each on an empty cache folder: "
            + ", ".join(f"{w:.2f}" for w, _ in firsts)
            + " s)",
            dsmb,
            dsmb_cpu,
            3.0,
        ),
        (
            "`dosewise report dsmb --out dsmb.pdf` again (figures cached)",
            dsmb_again,
            dsmb_again_cpu,
            3.0,
        ),
        ("`dosewise report design --out design.pdf`, empty cache", design_cold, cold_cpu, None),
        ("`dosewise report design --out design.pdf`, OCs cached", design_warm, warm_cpu, 5.0),
        ("DSMB PDF in a process that made one before (web service)", warm["dsmb"], None, 3.0),
        ("design report PDF in a process that made one before", warm["design"], None, 5.0),
    ]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    body = "\n".join(
        [
            "Wall time of one fresh `dosewise` process each, production settings, a temporary "
            "SQLite database and cache folder (`DOSEWISE_CACHE_DIR`). The demo trial: "
            f"{summary['participants']} participants, {summary['screen_failures']} screen "
            f"failures, {summary['requests']} acts through the services; {compiled}.",
            "",
            "| task | wall | CPU (user + system) | goal | met |",
            "|---|---|---|---|---|",
            *(
                f"| {label} | {wall:.1f} s | {'' if cpu is None else f'{cpu:.1f} s'} | "
                f"{'' if goal is None else f'< {goal:g} s'} | "
                f"{'' if goal is None else ('yes' if wall < goal else 'no')} |"
                for label, wall, cpu, goal in rows
            ),
            "",
            f"Load average before the run: {before}; when it ended: {load} on "
            f"{os.cpu_count()} cores; "
            f'`python -c "import numpy"` took {reference:.0f} ms before the run (70 to 100 ms '
            "on this machine in the runs of 7 December 2026), a gauge of how much the figures "
            "above are stretched by other work.",
        ]
    )
    print(body)
    if not args.no_write:
        write_section("Demo data and reports (issue 19)", "python bench/trial_tasks.py", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
