"""Start-up time and memory of the design and clinical commands against ``import numpy``.

Goal (issue 19): each command below takes at most 5x the wall time of ``python -c "import
numpy"`` in the same environment, as a plain process start (no resident helper). Every run is a
fresh interpreter running the ``dosewise`` entry point's code, interleaved with the baseline so
that load on the machine hits both alike; the figure is the median of
``--repeat`` runs, the memory the peak RSS of one run (``wait4``). Also prints ``-X importtime``'s
heaviest imports of ``decide`` when ``--importtime`` is given. Writes the section "CLI start-up
(issue 19)" of bench/RESULTS.md.

    python bench/cli_startup.py [--repeat 7] [--no-write] [--importtime]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import compile_bytecode, write_section

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
GOAL_RATIO = 5.0
ENTRY = "from dosewise.cli.app import main; main()"


def commands(tmp: Path) -> list[tuple[str, list[str]]]:
    """(label, argv) of every command the goal covers, with realistic input."""
    patients = tmp / "patients.json"
    patients.write_text(
        json.dumps(
            [
                {"dose": 1, "follow_up": 30, "dlt": False, "response": True},
                {"dose": 1, "follow_up": 30, "dlt": False, "response": False},
                {"dose": 2, "follow_up": 10},
            ]
        )
    )
    return [
        ("decide", ["decide", "--outcomes", "1NNN 2NEN", "--json"]),
        ("obd", ["obd", "--outcomes", "1NNN 2NEN 2TEN", "--json"]),
        ("rds", ["rds", "--n", "0", "3", "6", "--json"]),
        ("boundaries", ["boundaries", "--json"]),
        ("table", ["table"]),
        ("decide-tite", ["decide-tite", "--patients-file", str(patients), "--json"]),
        ("grade crs", ["grade", "crs", "--input", str(EXAMPLES / "clinical" / "crs_grade3.json")]),
        ("dose", ["dose", "--weight-kg", "25", "--level", "DL1", "--json"]),
        (
            "screen",
            [
                "screen",
                str(EXAMPLES / "screening" / "eligible_autologous.json"),
                "--arm",
                "autologous",
                "--json",
            ],
        ),
        ("protocol show", ["protocol", "show"]),
    ]


def run_once(argv: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (KB) of one fresh process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise RuntimeError(f"{' '.join(argv[3:])}: exit {proc.returncode}: {err[-500:]}")
    if proc.stderr:
        proc.stderr.close()
    return wall, int(usage.ru_maxrss)


def measure(repeat: int) -> tuple[tuple[float, int], list[tuple[str, str, float, int]]]:
    """Median wall time and peak RSS of the baseline and of each command, runs interleaved."""
    baseline = [sys.executable, "-c", "import numpy"]
    with tempfile.TemporaryDirectory(prefix="dosewise-startup-") as tmp:
        cmds = commands(Path(tmp))
        base_runs: list[tuple[float, int]] = []
        runs: dict[str, list[tuple[float, int]]] = {label: [] for label, _ in cmds}
        for _ in range(repeat):
            for label, argv in cmds:
                base_runs.append(run_once(baseline))
                runs[label].append(run_once([sys.executable, "-c", ENTRY, *argv]))
    base = (statistics.median(w for w, _ in base_runs), max(m for _, m in base_runs))
    rows = [
        (
            label,
            "dosewise " + label,
            statistics.median(w for w, _ in runs[label]),
            max(m for _, m in runs[label]),
        )
        for label, argv in cmds
    ]
    return base, rows


def importtime(argv: list[str]) -> str:
    """The ten slowest cumulative imports of one command (``-X importtime``)."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", ENTRY, *argv], capture_output=True, text=True
    )
    lines = [x for x in proc.stderr.splitlines() if x.startswith("import time:") and "|" in x]
    parsed = []
    for line in lines[1:]:
        _, cumulative, name = line.split("|")
        parsed.append((int(cumulative), name.rstrip()))
    return "\n".join(f"{us / 1000:8.1f} ms {name}" for us, name in sorted(parsed)[-10:])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--no-write", action="store_true", help="Do not update RESULTS.md")
    parser.add_argument("--importtime", action="store_true", help="Show decide's heaviest imports")
    args = parser.parse_args()
    compiled = compile_bytecode()
    before = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    (base_s, base_kb), rows = measure(args.repeat)
    table = [
        "| command | wall (median) | × `import numpy` | peak RSS | goal |",
        "|---|---|---|---|---|",
        f'| `python -c "import numpy"` (baseline) | {base_s * 1000:.0f} ms | 1.0× | '
        f"{base_kb / 1024:.0f} MB | |",
    ]
    worst = 0.0
    for _label, shown, wall, kb in rows:
        ratio = wall / base_s
        worst = max(worst, ratio)
        table.append(
            f"| `{shown}` | {wall * 1000:.0f} ms | {ratio:.1f}× | {kb / 1024:.0f} MB | "
            f"≤ {GOAL_RATIO:g}× |"
        )
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    body = "\n".join(
        [
            f"Each command is a fresh process (`python -c '{ENTRY}' ...`, the code of the "
            f"`dosewise` entry point); median of {args.repeat} runs interleaved with the "
            "baseline, peak RSS the largest of those runs. A command imports only the module "
            "that registers it (`dosewise.cli.app.COMMANDS`); a single decision runs the rule's "
            "loop interpreted (`dosewise.design.kernel`), so it loads neither Numba nor "
            "`scipy.stats`; SQLAlchemy, FastAPI, WeasyPrint, Matplotlib and Dask load only for "
            f"the commands that use them; {compiled}.",
            "",
            *table,
            "",
            f"Slowest command: {worst:.1f}× the baseline (goal ≤ {GOAL_RATIO:g}×). "
            f"Load average before the run: {before}; when it ended: {load} on "
            f"{os.cpu_count()} cores.",
        ]
    )
    print(body)
    if args.importtime:
        print("\nheaviest imports of `dosewise decide`:\n" + importtime(commands_decide()))
    if not args.no_write:
        write_section("CLI start-up (issue 19)", "python bench/cli_startup.py", body)
    return 0 if worst <= GOAL_RATIO else 1


def commands_decide() -> list[str]:
    return ["decide", "--outcomes", "1NNN 2NEN", "--json"]


if __name__ == "__main__":
    raise SystemExit(main())
