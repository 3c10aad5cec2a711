"""A disk cache of the design report's operating characteristics, keyed by what they depend on.

The exact BOIN12 OCs and the simulated TITE-BOIN12 / waiting BOIN12 OCs of a scenario
(:func:`dosewise.report.design_oc.scenario_oc`) are a pure function of the scenario (with the
protocol's windows), the protocol's design parameters, the number of trials and the seed; they
are most of a design report's computing time and the same every time the same protocol is
reported (in English, then in Chinese, as PDF, then as HTML). So the result is stored under the
SHA-256 of those inputs and of the computing code itself (the source of ``dosewise.design``,
``dosewise.simulate`` and this report's OC module): a new protocol, another seed or a changed
engine gives a new key, never a stale answer.

The design report's figures are drawn from those OCs alone, so they are kept in the same folder,
keyed by the OCs' inputs, the language and :func:`figure_fingerprint` (the drawing code, the
report's translations and the versions of the libraries that draw and encode them). The DSMB
report's figures are kept there too, keyed by what they show
(:mod:`dosewise.report.dsmb_figures`).

The folder is ``DOSEWISE_CACHE_DIR`` (default ``$XDG_CACHE_HOME/dosewise`` or
``~/.cache/dosewise``; ``off`` turns the cache off). It is created private to the user (0700):
entries are pickles, so only the user who writes them may be able to change them.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from collections.abc import Callable
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

import dosewise
from dosewise.settings import Settings

T = TypeVar("T")
_ROOT = Path(dosewise.__file__).resolve().parent
#: The code whose results are cached: any change to it changes every key.
ENGINE_SOURCES = ("design", "simulate", "report/design_oc.py")
OFF = "off"


def default_folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dosewise"


#: What the design report's figures are drawn with: this code, the report's words...
FIGURE_SOURCES = (
    "report/figures.py",
    "report/design_figures.py",
    "report/dsmb_figures.py",
    "report/fonts.py",
    "report/locale",
)
#: ... and these libraries (Matplotlib draws, Pillow encodes the PNG, the font package).
FIGURE_PACKAGES = ("matplotlib", "pillow", "numpy", "pylopdf-fonts-zh-cn")


def _sources_digest(names: tuple[str, ...], suffixes: tuple[str, ...] = (".py",)) -> hashlib._Hash:
    digest = hashlib.sha256(dosewise.__version__.encode())
    for name in names:
        path = _ROOT / name
        files = (
            sorted(p for p in path.rglob("*") if p.suffix in suffixes) if path.is_dir() else [path]
        )
        for source in files:
            digest.update(str(source.relative_to(_ROOT)).encode())
            digest.update(source.read_bytes())
    return digest


def _engine_fingerprint() -> str:
    return _sources_digest(ENGINE_SOURCES).hexdigest()


@lru_cache(maxsize=1)
def figure_fingerprint() -> str:
    """SHA-256 of the figure code, the report catalogs and the drawing libraries' versions."""
    digest = _sources_digest(FIGURE_SOURCES, (".py", ".po", ".mo"))
    for package in FIGURE_PACKAGES:
        try:
            version = metadata.version(package)
        except metadata.PackageNotFoundError:
            version = "-"
        digest.update(f"{package}=={version}".encode())
    return digest.hexdigest()


class OcCache:
    """Results stored in ``folder`` as ``oc-<sha256>.pickle``, one file per computation."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._engine: str | None = None
        self.hits = 0
        self.misses = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> OcCache | None:
        """The cache the settings name (``cache_dir``), or None when it is ``off``."""
        if settings.cache_dir.strip().lower() == OFF:
            return None
        return cls(Path(settings.cache_dir) if settings.cache_dir else default_folder())

    def key(self, *inputs: Any) -> str:
        """SHA-256 of the engine fingerprint and the ``repr`` of frozen, value-typed inputs."""
        if self._engine is None:
            self._engine = _engine_fingerprint()
        text = repr((self._engine, *inputs))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def get_or_compute(self, inputs: tuple[Any, ...], compute: Callable[[], T]) -> T:
        """The stored result for ``inputs``, else ``compute()`` (stored for next time).

        A missing, unreadable or corrupt entry is computed again; a folder that cannot be
        written only costs the saving.
        """
        found, value = self.get(inputs)
        if found:
            return value  # type: ignore[no-any-return]
        return self.put(inputs, compute())

    def get(self, inputs: tuple[Any, ...]) -> tuple[bool, Any]:
        """``(True, value)`` when a result for ``inputs`` is stored and readable, else
        ``(False, None)``: :meth:`get_or_compute` in two steps, for work started in between."""
        try:
            with self._path(inputs).open("rb") as handle:
                value = pickle.load(handle)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            return False, None
        self.hits += 1
        return True, value

    def put(self, inputs: tuple[Any, ...], value: T) -> T:
        """Store ``value`` computed for ``inputs`` (counted as a miss); returns it."""
        self.misses += 1
        self._store(self._path(inputs), value)
        return value

    def _path(self, inputs: tuple[Any, ...]) -> Path:
        return self.folder / f"oc-{self.key(*inputs)}.pickle"

    def _store(self, path: Path, value: Any) -> None:
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".oc-", suffix=".tmp")
        except OSError:
            return
        try:
            with os.fdopen(fd, "wb") as handle:
                pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)  # whole or not at all: readers never see half a file
        except (OSError, pickle.PicklingError):
            Path(tmp).unlink(missing_ok=True)
