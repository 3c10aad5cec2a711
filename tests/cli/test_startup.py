"""A command imports only what it uses; ``--help`` still lists every command (issue 19).

Each command runs in a fresh interpreter and reports ``sys.modules``: the design and clinical
commands must not load the database, web, report, plotting or cluster stacks, and a single
decision must not load Numba, ``scipy.stats`` or pandas. Not a timing test: the imports are what
the start-up time is made of (``bench/cli_startup.py`` measures the time).
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dosewise.cli.app import COMMAND_MODULES, COMMANDS, app

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
HEAVY = ("sqlalchemy", "fastapi", "weasyprint", "matplotlib", "dask", "uvicorn", "alembic")
# What one decision, the protocol's decision tables, a dose or a screening has no use for.
NOT_FOR_ONE_DECISION = ("numba", "scipy.stats", "pandas")

PROBE = (
    "import json, sys\n"
    "from dosewise.cli.app import main\n"
    "try:\n"
    "    main(sys.argv[1:])\n"
    "except SystemExit as exc:\n"
    "    assert not exc.code, exc.code\n"
    "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
)


def modules_loaded(argv: list[str], tmp_path: Path) -> set[str]:
    """The names in ``sys.modules`` after ``dosewise argv`` ran in a fresh interpreter."""
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return set(json.loads(proc.stderr.strip().splitlines()[-1]))


def loaded(modules: set[str], package: str) -> bool:
    return package in modules or any(m.startswith(package + ".") for m in modules)


PATIENTS = json.dumps([{"dose": 1, "follow_up": 30}, {"dose": 2, "follow_up": 10}])
COMMAND_LINES = {
    "decide": (["decide", "--outcomes", "1NNN 2NEN", "--json"], NOT_FOR_ONE_DECISION),
    "obd": (["obd", "--outcomes", "1NNN 2NEN 2TNN", "--json"], NOT_FOR_ONE_DECISION),
    "boundaries": (["boundaries", "--json"], NOT_FOR_ONE_DECISION),
    "rds": (["rds", "--n", "0", "3", "--json"], ("numba", "scipy.stats", "pandas")),
    "table": (["table"], NOT_FOR_ONE_DECISION),
    "decide-tite": (["decide-tite", "--patients-file", "p.json", "--json"], NOT_FOR_ONE_DECISION),
    "grade": (
        ["grade", "crs", "--input", str(EXAMPLES / "clinical" / "crs_grade3.json")],
        NOT_FOR_ONE_DECISION,
    ),
    "dose": (["dose", "--weight-kg", "25", "--level", "DL1", "--json"], NOT_FOR_ONE_DECISION),
    "screen": (
        ["screen", str(EXAMPLES / "screening" / "eligible_autologous.json"), "--arm", "autologous"],
        NOT_FOR_ONE_DECISION,
    ),
    "protocol show": (["protocol", "show"], NOT_FOR_ONE_DECISION),
}


@pytest.mark.parametrize("name", sorted(COMMAND_LINES))
def test_command_imports_only_what_it_uses(name: str, tmp_path: Path) -> None:
    argv, also_absent = COMMAND_LINES[name]
    (tmp_path / "p.json").write_text(PATIENTS)
    modules = modules_loaded(argv, tmp_path)
    present = [p for p in (*HEAVY, *also_absent) if loaded(modules, p)]
    assert present == [], f"dosewise {name} imported {present}"
    # Only the module registering the command was imported, not the other command modules.
    others = {m for m in COMMAND_MODULES if m != COMMANDS[argv[0]]}
    assert not others & modules


def test_a_batch_still_uses_the_compiled_kernel(tmp_path: Path) -> None:
    # The counterpart of the above: a simulation loads Numba (the batch path is compiled).
    argv = ["simulate", "--scenario", "five-umbrella", "--doses", "5", "--trials", "50"]
    assert loaded(modules_loaded([*argv, "--json"], tmp_path), "numba")


def test_command_table_matches_what_the_modules_register() -> None:
    for module in COMMAND_MODULES:
        importlib.import_module(module)
    registered = {c.name or c.callback.__name__.replace("_", "-") for c in app.registered_commands}
    registered |= {g.name for g in app.registered_groups if g.name}
    assert registered == set(COMMANDS)


def test_help_lists_every_command(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, "--help"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    listed = {line.split()[1] for line in proc.stdout.splitlines() if line.startswith("│ ")}
    assert set(COMMANDS) <= listed


def test_a_command_collects_garbage_less_often_and_puts_the_setting_back(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from dosewise.cli.app import GC_THRESHOLD, fewer_collections, main

    before = gc.get_threshold()
    with fewer_collections(["decide"]):
        assert gc.get_threshold() == GC_THRESHOLD
    with fewer_collections(["serve"]):  # a server keeps Python's settings
        assert gc.get_threshold() == before
    assert gc.get_threshold() == before
    frozen = gc.get_freeze_count()
    main(["decide", "--outcomes", "1NNN", "--json"])  # in-process: nothing frozen, reset after
    assert json.loads(capsys.readouterr().out)["next_dose"] == 2
    assert gc.get_threshold() == before and gc.get_freeze_count() == frozen
