"""The demo trial is played through the services: ``dosewise demo-data`` fills a fresh database
without the API (issue 19 item 3, issue 13 item 5). That ``dosewise.trial`` imports no adapter is
an import contract in ``pyproject.toml`` (tests/test_import_contracts.py, ``make lint``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from pg import make_settings


def test_demo_data_fills_a_fresh_database_without_the_api(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    settings = make_settings(url)
    env_code = (
        "import json, sys\n"
        "from dosewise.cli.app import main\n"
        "main(['db', 'upgrade', '--database-url', sys.argv[1]])\n"
        "main(['demo-data', '--database-url', sys.argv[1], '--password', 'demo password 2026',"
        " '--start', '2026-01-05', '--json'])\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('dosewise.api', "
        "'fastapi')))), file=sys.stderr)\n"
    )
    env = {
        **os.environ,
        "DOSEWISE_ARGON2_TIME_COST": str(settings.argon2_time_cost),
        "DOSEWISE_ARGON2_MEMORY_KIB": str(settings.argon2_memory_kib),
        "DOSEWISE_ARGON2_PARALLELISM": str(settings.argon2_parallelism),
    }
    proc = subprocess.run(
        [sys.executable, "-c", env_code, url], capture_output=True, text=True, env=env
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    # 54 in the design and one fallback participant followed for safety only (safety_only).
    assert summary["participants"] == 55 and summary["screen_failures"] == 6
    assert summary["dose_decisions"] == 12
    # The registry's design doses: no arm closes with the fallback DL-1 as its RP2D.
    assert summary["closures"] == {
        "autologous": "DL1",
        "prior_sct_donor": "DL2",
        "new_donor": "DL1",
    }
    assert summary["requests"] > 800  # every act counted
    assert json.loads(proc.stderr.strip().splitlines()[-1]) == []  # neither API nor FastAPI
