"""Importing WeasyPrint by soname (``dosewise.report.weasy``): no look-up processes, the same
libraries, and the normal import when a library is not found by its soname.

Each check runs in a fresh interpreter: WeasyPrint opens its libraries once per process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the soname import is Linux-only"
)

#: Records in ``started`` every process this interpreter starts from here on.
_RECORD_STARTS = """
import json, subprocess, sys
started = []
_init = subprocess.Popen.__init__
def _record(self, *args, **kwargs):
    started.append(str(args[0] if args else kwargs.get("args")))
    _init(self, *args, **kwargs)
subprocess.Popen.__init__ = _record
"""
#: Records every process started and the shared objects mapped, then prints them as JSON.
_PROBE = """
{record}
{setup}
{importer}
from weasyprint.text import ffi
maps = sorted({{line.split()[-1] for line in open("/proc/self/maps") if ".so" in line}})
html = weasyprint.HTML(string="<p>dose</p>")
print(json.dumps({{"started": started, "maps": maps, "pdf": html.write_pdf()[:5].decode(),
                   "subset": ffi.harfbuzz_subset is not None}}))
"""

_FAST = "from dosewise.report.weasy import import_weasyprint\nweasyprint = import_weasyprint()"
_NORMAL = "import weasyprint"


def _probe(importer: str, setup: str = "") -> dict[str, object]:
    code = textwrap.dedent(_PROBE).format(record=_RECORD_STARTS, setup=setup, importer=importer)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ
    )
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1, done.stdout  # nothing printed but the probe's line
    found: dict[str, object] = json.loads(lines[0])
    return found


def test_import_starts_no_process_and_opens_the_same_libraries() -> None:
    fast, normal = _probe(_FAST), _probe(_NORMAL)
    assert fast["started"] == []
    assert normal["started"]  # the look-up this avoids (ldconfig, gcc, ld)
    assert fast["maps"] == normal["maps"]
    assert fast["subset"] == normal["subset"]
    assert fast["pdf"] == normal["pdf"] == "%PDF-"


def test_a_library_not_found_by_soname_falls_back_to_the_normal_import() -> None:
    # GObject installed under another soname: dlopen by WeasyPrint's soname fails, the normal
    # look-up (find_library) finds it under a bare name.
    setup = textwrap.dedent("""
        import cffi
        _dlopen = cffi.FFI.dlopen
        def _no_soname(self, name, flags=0):
            if name == "libgobject-2.0.so.0":
                raise OSError("not under this soname")
            return _dlopen(self, name, flags)
        cffi.FFI.dlopen = _no_soname
    """)
    found = _probe(_FAST, setup)
    assert any("ldconfig" in p for p in found["started"])  # type: ignore[union-attr]
    assert found["pdf"] == "%PDF-"


def test_the_reports_pdf_path_imports_weasyprint_by_soname() -> None:
    """``render.html_to_pdf`` (and so every PDF report) is the first to import WeasyPrint in a
    fresh process, and takes the soname way: no look-up process starts."""
    code = _RECORD_STARTS + textwrap.dedent("""
        from dosewise.report.render import html_to_pdf
        pdf = html_to_pdf("<p>dose</p>")
        print(json.dumps({"started": started, "pdf": pdf[:5].decode()}))
    """)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"started": [], "pdf": "%PDF-"}
