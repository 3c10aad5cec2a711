"""Write one benchmark's section into bench/RESULTS.md, with the machine and the date."""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
import sys
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")


def machine() -> str:
    """One line describing the machine the figures were measured on."""
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import numpy as np

    return (
        f"{os.cpu_count()} cores ({cpu}), Python {sys.version.split()[0]}, NumPy {np.__version__}, "
        f"{platform.system()} {platform.release()}"
    )


def write_section(title: str, command: str, body: str) -> None:
    """Replace (or add) the section ``## title`` in RESULTS.md."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    section = (
        f"## {title}\n\n- Measured: {stamp}\n- Machine: {machine()}\n- Command: `{command}`\n\n"
        f"{body.strip()}\n"
    )
    text = (
        RESULTS.read_text()
        if RESULTS.exists()
        else (
            "# Benchmark results\n\nWritten by `make bench`; each section by the script it names.\n"
        )
    )
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text)
    else:
        text = text.rstrip() + "\n\n" + section
    RESULTS.write_text(text.rstrip() + "\n")


def compile_bytecode() -> str:
    """Compile dosewise's modules to bytecode before timing fresh processes; say so.

    An installed dosewise has its ``.pyc`` files (pip writes them); a source checkout gets them
    on its first run, unless ``PYTHONDONTWRITEBYTECODE`` is set (as in some sandboxes), when
    every process would compile every module it imports and the figures would time the
    compiler.
    """
    import compileall

    import dosewise

    compileall.compile_dir(str(Path(dosewise.__file__).parent), quiet=1)
    return "dosewise's modules compiled to bytecode first (as an installed package has them)"
