"""Loops written once and run two ways: interpreted for one trial, compiled for a batch.

The design's loops (the next-dose rule, the TITE sums, isotonic regression) are plain Python over
NumPy arrays in the subset Numba compiles. A batch of many trials (simulation, exact operating
characteristics) runs the Numba-compiled form, cached on disk (``cache=True``: a process loads
the machine code instead of compiling it, and compiles again only when the source changes). One
trial (``dosewise decide``, the trial service) runs the same function body interpreted: importing
Numba costs about 0.3 s and 130 MB, loading a cached kernel more, while the interpreted body
takes microseconds for a handful of doses. Same code, same IEEE arithmetic, so the two forms give
the same answer (the tests compare them on random inputs).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: Batches of at most this many rows run interpreted (no Numba import).
INTERPRETED_MAX_ROWS = 4


class Kernel:
    """A loop function with an interpreted form and a lazily compiled, disk-cached form."""

    def __init__(self, function: Callable[..., Any]) -> None:
        self.python = function
        self._compiled: Callable[..., Any] | None = None
        self.__doc__ = function.__doc__
        self.__name__ = function.__name__

    def compiled(self) -> Callable[..., Any]:
        """The Numba form (imports Numba and loads or compiles the kernel on first use)."""
        if self._compiled is None:
            import numba

            self._compiled = numba.njit(cache=True, nogil=True)(self.python)
        return self._compiled

    def run(self, rows: int, *args: Any) -> Any:
        """Call the kernel on ``rows`` trials: interpreted when few, compiled otherwise."""
        if rows <= INTERPRETED_MAX_ROWS:
            return self.python(*args)
        return self.compiled()(*args)


def kernel(function: Callable[..., Any]) -> Kernel:
    """Decorate a Numba-compatible loop as a :class:`Kernel`."""
    return Kernel(function)
