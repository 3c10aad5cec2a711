"""Import WeasyPrint without the ~50 ``ldconfig``/``gcc``/``ld`` runs of its library look-up.

WeasyPrint (``weasyprint.text.ffi``) opens GObject, Pango, HarfBuzz, fontconfig and PangoFT2
by trying several names per library, one list for every platform: ``libgobject-2.0-0``,
``gobject-2.0-0``, ``gobject-2.0``, ``libgobject-2.0.so.0``, ``libgobject-2.0.0.dylib``,
``libgobject-2.0-0.dll``. cffi hands each name it cannot open directly to
:func:`ctypes.util.find_library`, which on Linux runs ``ldconfig -p``, and ``gcc`` and ``ld``
when that finds nothing: about 50 processes and 0.2 s of CPU per import (a third of a DSMB
PDF's WeasyPrint cost), for libraries the dynamic linker opens by name in microseconds.

On Linux, whatever ``find_library`` answers is a soname (``libgobject-2.0.so.0``) that cffi
then opens with ``dlopen``, and each of WeasyPrint's lists holds that library's Linux soname,
which cffi opens directly without asking ``find_library``. So :func:`import_weasyprint` lets
WeasyPrint's module load while ``find_library`` answers "not found" (only on the importing
thread; another thread asking gets the real answer): the dynamic linker opens the same files
by their sonames, with no process started. If that import fails (a library installed only
under another soname, or not at all), the partial import is discarded, WeasyPrint's own
"could not import some external libraries" note printed meanwhile is dropped, and WeasyPrint is
imported the normal way, which looks the libraries up as before (and prints that note if it
fails too). On macOS and Windows WeasyPrint is always imported the normal way.
"""

from __future__ import annotations

import contextlib
import ctypes.util
import importlib
import io
import sys
import threading
from types import ModuleType

_LOCK = threading.Lock()


def import_weasyprint() -> ModuleType:
    """The ``weasyprint`` module, imported without library look-up processes on Linux."""
    with _LOCK:
        if "weasyprint" not in sys.modules and sys.platform.startswith("linux"):
            try:
                return _import_by_soname()
            except OSError:
                _forget_weasyprint()
        return importlib.import_module("weasyprint")


def _import_by_soname() -> ModuleType:
    """Import WeasyPrint while ``find_library`` answers "not found" on this thread."""
    real = ctypes.util.find_library
    importer = threading.get_ident()

    def find_library(name: str) -> str | None:
        return None if threading.get_ident() == importer else real(name)

    ctypes.util.find_library = find_library
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            return importlib.import_module("weasyprint")
    finally:
        ctypes.util.find_library = real


def _forget_weasyprint() -> None:
    """Drop a failed import's WeasyPrint modules, so the next import starts afresh."""
    for name in [n for n in sys.modules if n == "weasyprint" or n.startswith("weasyprint.")]:
        del sys.modules[name]
