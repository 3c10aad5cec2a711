"""The layers hold (issue 13 item 5): the import-linter contracts in ``pyproject.toml`` are kept,
and they are real, i.e. an import that crosses a layer breaks them.

``make lint`` runs the same contracts; this test keeps them in the test suite too, and checks
that each kind of crossing is caught, so a contract that stopped matching anything would fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")


def lint_imports(src: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` on the package under ``src``, with the repository's contracts."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run(
        [str(LINT), "--no-cache", "--config", str(ROOT / "pyproject.toml")],
        capture_output=True,
        text=True,
        env=env,
        cwd=src.parent,
        check=False,
    )


def test_the_contracts_are_kept() -> None:
    proc = lint_imports(ROOT / "src")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "0 broken" in proc.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        ("design/boin.py", "import dosewise.store", "The functional core imports nothing"),
        ("simulate/engine.py", "import dosewise.protocol", "design and simulate know doses"),
        ("trial/uow.py", "import fastapi", "The trial services and read model import no"),
        ("web/labels.py", "import dosewise.api.errors", "Shell layers"),
        ("http/csrf.py", "import dosewise.web", "Shell layers"),
        ("report/downloads.py", "import dosewise.trial.services._common", "_private module"),
    ],
)
def test_a_crossing_import_breaks_a_contract(
    tmp_path: Path, module: str, line: str, broken: str
) -> None:
    src = tmp_path / "src"
    shutil.copytree(ROOT / "src" / "dosewise", src / "dosewise", ignore=_not_python)
    target = src / "dosewise" / module
    target.write_text(target.read_text() + f"\n{line}  # noqa\n")
    proc = lint_imports(src)
    assert proc.returncode == 1, proc.stdout[-3000:]
    broken_part = proc.stdout.split("Broken contracts", 1)[1]
    assert broken in " ".join(broken_part.split())


def _not_python(folder: str, names: list[str]) -> set[str]:
    return {n for n in names if not n.endswith(".py") and not (Path(folder) / n).is_dir()}
