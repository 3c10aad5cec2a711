"""The DSMB's figures drawn in a second process while the command reads the trial.

A DSMB report made from scratch imports Matplotlib and draws two figures (about 0.7 s on this
machine's kind) before WeasyPrint can lay out the pages, and none of that needs the trial's
records until the figures' spec is known. So ``dosewise report dsmb`` starts a helper process
at its start (:func:`figures_aside`): a fresh interpreter that imports Matplotlib while the
command imports the trial's modules and reads the records, then draws from the spec it is sent
(:func:`~dosewise.report.dsmb_figures.draw_figures`, the same code) while the command imports
WeasyPrint and drafts the PDF (:class:`dosewise.report.render.PdfDraft`). On two CPUs that takes
a few tenths of a second off a first DSMB PDF (``bench/trial_tasks.py``). A fresh interpreter
rather than a fork: forking the command slowed the command itself down (each page of memory it
touches afterwards is copied), which ate most of the gain.

Only where it can pay: a POSIX system and more than one CPU this process may use. The helper
never touches the database or the files; it reads the spec on its standard input and answers
on its standard output. Whatever goes wrong with it (it ended, it sent what cannot be read, it
said nothing within :data:`TIMEOUT_S`), the command draws the figures itself, so the report
never depends on it. When the figures come from the report cache, the helper is stopped unused.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import select
import site
import subprocess
import sys
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dosewise.report.dsmb_figures import FigureSpec

#: How long the command waits for the helper's figures before drawing them itself (seconds).
TIMEOUT_S = 120.0
log = logging.getLogger("dosewise.report")
#: What the helper process runs (this module's :func:`serve`).
_HELPER = "from dosewise.report.figures_aside import serve; serve()"


class FiguresAside:
    """A helper process that draws one spec's figures (see the module): :meth:`send` the spec,
    do other work, then :meth:`receive` the figures."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self._sent: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the helper (it imports Matplotlib, then waits for a spec)."""
        self.process = subprocess.Popen(
            [sys.executable, "-c", _HELPER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # its errors are this process's fallback, not the user's
            env=_same_dosewise(),
        )

    def send(self, spec: FigureSpec) -> None:
        """Hand ``spec`` to the helper, which starts drawing (at most one spec per helper)."""
        process, self.process = self.process, None
        if process is None:
            return
        try:
            assert process.stdin is not None
            with process.stdin:
                process.stdin.write(pickle.dumps(spec))
        except Exception as exc:  # the helper is gone: :meth:`receive` draws here
            log.info("the DSMB figures will be drawn in this process: %s", exc)
            _stop(process)
            _close(process)
            return
        self._sent = process

    def receive(self, spec: FigureSpec) -> dict[str, str]:
        """The figures of ``spec``: the helper's if it was sent them and answers, else drawn
        here."""
        from dosewise.report.dsmb_figures import draw_figures

        process, self._sent = self._sent, None
        if process is None:
            return draw_figures(spec)
        try:
            assert process.stdout is not None
            figures = _receive(process.stdout.fileno())
            process.wait(TIMEOUT_S)
        except Exception as exc:  # anything: draw here instead
            log.info("the DSMB figures are drawn in this process: %s", exc)
            _stop(process)
            return draw_figures(spec)
        finally:
            _close(process)
        return figures

    def stop(self) -> None:
        """End the helper now, if it was not used."""
        for process in (self.process, self._sent):
            if process is not None:
                _stop(process)
                _close(process)
        self.process = self._sent = None


def _same_dosewise() -> dict[str, str]:
    """The environment for the helper, so that it imports this very dosewise: the folder this
    package is in goes first on ``PYTHONPATH`` (a source tree or a checkout), unless it is a
    site-packages folder, which the helper's interpreter searches anyway (and which must not
    come before the standard library)."""
    here = str(Path(__file__).resolve().parents[2])
    sites = {str(Path(p).resolve()) for p in (*site.getsitepackages(), site.getusersitepackages())}
    if here in sites:
        return dict(os.environ)
    path = os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "PYTHONPATH": path}


def _receive(fd: int) -> dict[str, str]:
    chunks: list[bytes] = []
    while True:
        ready, _, _ = select.select([fd], [], [], TIMEOUT_S)
        if not ready:
            raise TimeoutError(f"no figures from the helper within {TIMEOUT_S:g} s")
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            break
        chunks.append(chunk)
    figures = pickle.loads(b"".join(chunks))
    if not (isinstance(figures, dict) and all(isinstance(v, str) for v in figures.values())):
        raise TypeError("the helper sent no figures")
    return figures


def _stop(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        process.kill()
    process.wait()


def _close(process: subprocess.Popen[bytes]) -> None:
    for pipe in (process.stdin, process.stdout):
        if pipe is not None and not pipe.closed:
            pipe.close()


def serve() -> None:
    """The helper's whole life: import Matplotlib, draw the spec read on stdin, answer on stdout."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.figure

    from dosewise.report.dsmb_figures import draw_figures

    spec = pickle.load(sys.stdin.buffer)
    figures = draw_figures(spec)
    sys.stdout.buffer.write(pickle.dumps(figures))
    sys.stdout.buffer.flush()


def worth_it() -> bool:
    """A POSIX system (the wait uses ``select`` on a pipe) and another CPU to draw on."""
    usable = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    cpus = len(usable) if usable is not None else (os.cpu_count() or 1)
    return os.name == "posix" and cpus > 1


_ASIDE: ContextVar[FiguresAside | None] = ContextVar("dosewise_figures_aside", default=None)


def current() -> FiguresAside | None:
    """The figures' helper of the command running now, if it started one."""
    return _ASIDE.get()


@contextlib.contextmanager
def figures_aside() -> Iterator[None]:
    """While the block runs, DSMB figures drawn afresh come from a helper process (see the
    module); the helper is stopped at the end if the block did not need it."""
    if not worth_it():
        yield
        return
    aside = FiguresAside()
    aside.start()
    token = _ASIDE.set(aside)
    try:
        yield
    finally:
        _ASIDE.reset(token)
        aside.stop()


__all__ = ["TIMEOUT_S", "FiguresAside", "current", "figures_aside", "serve", "worth_it"]
