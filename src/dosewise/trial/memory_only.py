"""Answering from memory alone: how a busy request is tried on the server's event loop first.

A request whose answer is already known costs a fraction of a millisecond: its session is in the
session cache (:mod:`dosewise.trial.session_cache`), its answer or verdict in the records cache
(:mod:`dosewise.trial.state.cache`), and one query reads the database's change counters, which
say both still hold. Handing such a request to the thread pool costs as much again, and under
load the threads' turns at the interpreter lock cost more: twenty clients reading the arm state
took twice the server CPU per read through the pool as on the loop (``bench/api_latency.py``).

So the busiest routes first run their ordinary code on the loop, inside :func:`attempt`. There
the code may read but must not wait on anything long: a cache that would compute, a session
that is not known (or is due its touch) and a unit of work that would write raise
:class:`NeedsWork` instead, and the caller runs the whole request again, as before, in a thread
(:func:`dosewise.http.loop_first.loop_first`). Nothing was written by the first try, so running
it again changes nothing.

One write is still part of a try that succeeds: a refused act's own audit record
(:meth:`~dosewise.trial.uow.UnitOfWork.event_on_failure`), which must be durable before the
refusal is answered. It is not written on the loop (it waits for the disk): the unit of work
hands it to the caller (:func:`defer`), which awaits its group commit
(:attr:`Attempt.awaited`, :meth:`Attempt.settle`:
:meth:`~dosewise.trial.group_commit.GroupCommit.submit_async`, written by a thread of the loop's
executor) before it answers. A failed act's other follow-ups (``UnitOfWork.on_failure`` hooks)
are run in a thread (:attr:`Attempt.deferred`, :meth:`Attempt.finish`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


class NeedsWork(Exception):
    """The request needs more than memory (``what`` says what): run it again in a thread."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


@dataclass
class _Mode:
    deferred: list[Callable[[], None]] = field(default_factory=list)
    awaited: list[Callable[[], Awaitable[None]]] = field(default_factory=list)


_MODE: ContextVar[_Mode | None] = ContextVar("dosewise_memory_only", default=None)


def need(what: str) -> None:
    """Raise :class:`NeedsWork` inside :func:`attempt`; do nothing elsewhere.

    Called where the code would compute, query more or write: ``what`` names it (tests and
    diagnostics)."""
    if _MODE.get() is not None:
        raise NeedsWork(what)


def defer(write: Callable[[], None], awaited: Callable[[], Awaitable[None]] | None = None) -> bool:
    """Inside :func:`attempt`, keep a write for the caller to make before it answers and return
    True; elsewhere return False (the caller writes now).

    ``awaited``, when given, is the same write made by awaiting it on the loop (without a
    thread of its own, e.g. :meth:`~dosewise.trial.group_commit.GroupCommit.submit_async`);
    else ``write`` is run in a thread."""
    mode = _MODE.get()
    if mode is None:
        return False
    if awaited is not None:
        mode.awaited.append(awaited)
    else:
        mode.deferred.append(write)
    return True


@dataclass
class Attempt(Generic[T]):
    """What a try in memory came to: a value, an error to raise, or :attr:`needs_work`."""

    value: T | None = None
    error: BaseException | None = None
    #: Why the try gave up (None: it answered, with ``value`` or ``error``).
    needs_work: str | None = None
    #: Writes that must be durable before the answer leaves (run by :meth:`finish`).
    deferred: list[Callable[[], None]] = field(default_factory=list)
    #: The same, made by awaiting them on the loop (by :meth:`settle`).
    awaited: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def settle(self) -> None:
        """Make the writes that are awaited on the loop."""
        writes, self.awaited = self.awaited, []
        for write in writes:
            await write()

    def finish(self) -> None:
        """Run the deferred writes (in a thread: they wait for the disk)."""
        writes, self.deferred = self.deferred, []
        for write in writes:
            write()

    def answer(self) -> T:
        """The value, or raise the error (once :meth:`settle` and :meth:`finish` have run)."""
        if self.deferred or self.awaited:
            raise RuntimeError("the deferred writes must be made before the answer")
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[return-value]  # None only when T allows it


def attempt(work: Callable[..., T], *args: object) -> Attempt[T]:
    """Run ``work(*args)`` from memory alone (see the module); never raises."""
    mode = _Mode()
    token = _MODE.set(mode)
    try:
        return Attempt(value=work(*args), deferred=mode.deferred, awaited=mode.awaited)
    except NeedsWork as reason:
        return Attempt(needs_work=reason.what)  # deferred writes are dropped: the retry redoes
    except Exception as error:
        return Attempt(error=error, deferred=mode.deferred, awaited=mode.awaited)
    finally:
        _MODE.reset(token)


__all__ = ["Attempt", "NeedsWork", "attempt", "defer", "need"]
