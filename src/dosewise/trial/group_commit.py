"""Group commit: many callers' small writes made durable together, in one transaction.

A durable commit waits for the disk (an ``fsync``: a few milliseconds here), and a database
takes one writer at a time. When twenty sites are told "wait" at the same moment, each refusal's
audit event would queue for its own flush; with :class:`GroupCommit` the first caller becomes
the *leader*, writes every item queued so far in one transaction, and wakes the others, whose
items were made durable by that one flush. Items that arrive while the leader writes form the
next batch, led by one of them. Every caller still returns only once its own item is committed
(or raises the error that prevented it): nothing is acknowledged before it is on disk.

Callers are threads (:meth:`GroupCommit.submit`) or coroutines on an event loop
(:meth:`GroupCommit.submit_async`, for requests answered on the loop: see
:mod:`dosewise.trial.memory_only`); both share batches. A coroutine never writes on its loop:
when it is its turn to lead, a thread of the loop's executor writes the batch for it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(eq=False)
class _Waiter(Generic[T]):
    item: T
    #: Set when the item is written (or failed), or when this caller is to lead the next batch.
    wake: threading.Event = field(default_factory=threading.Event)
    done: bool = False
    lead: bool = False
    error: BaseException | None = None
    #: For a caller on an event loop (:meth:`GroupCommit.submit_async`): its loop and future.
    loop: asyncio.AbstractEventLoop | None = None
    future: asyncio.Future[None] | None = None

    def wake_up(self, group: GroupCommit[T]) -> bool:
        """Tell the caller its item is written, or that it is to lead: a thread is woken; for a
        caller on an event loop, its future is settled, or a thread of its loop's executor
        leads in its stead (the loop itself never waits for the disk). False when the caller's
        loop has closed meanwhile (a cancelled caller of a loop that ended): nobody is told."""
        if self.loop is None:
            self.wake.set()
            return True
        try:
            if self.done:
                assert self.future is not None  # made with the loop
                self.loop.call_soon_threadsafe(_settle, self.future, self.error)
            else:
                self.loop.call_soon_threadsafe(_lead_in_executor, self.loop, group)
        except RuntimeError:  # the loop is closed
            return False
        return True


def _settle(future: asyncio.Future[None], error: BaseException | None) -> None:
    if future.done():  # the caller was cancelled; its item was written all the same
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)


def _lead_in_executor(loop: asyncio.AbstractEventLoop, group: GroupCommit[T]) -> None:
    """Write ``group``'s next batch in a thread of ``loop``'s executor (a thread of its own
    when the executor is shut down, as the server stops)."""
    try:
        loop.run_in_executor(None, group._lead)
    except RuntimeError:
        threading.Thread(target=group._lead, name="group-commit").start()


class GroupCommit(Generic[T]):
    """Batches the items of concurrent :meth:`submit` calls into calls of ``write``.

    ``write(items)`` must write all of ``items`` in one transaction, or raise (then every
    caller of that batch gets the error). Each waiting caller is woken once: when its batch is
    written, or when it is its turn to lead (the first of those who queued meanwhile).
    """

    def __init__(self, write: Callable[[Sequence[T]], None]) -> None:
        self._write = write
        self._lock = threading.Lock()
        self._queue: list[_Waiter[T]] = []
        self._leading = False
        #: How many batches were written, and how many items they held (tests, diagnostics).
        self.batches = 0
        self.items = 0

    def submit(self, item: T) -> None:
        """Write ``item`` (with whatever else is waiting); return once it is committed."""
        me = _Waiter(item)
        with self._lock:
            self._queue.append(me)
            me.lead = not self._leading
            self._leading = True
        if not me.lead:
            me.wake.wait()
        if not me.done:  # this caller leads: it writes everything queued by now
            self._lead()
        if me.error is not None:
            raise me.error

    async def submit_async(self, item: T) -> None:
        """:meth:`submit` for a caller on an event loop: it awaits its batch's commit without
        holding a thread; the batch it leads is written by a thread of the loop's executor."""
        loop = asyncio.get_running_loop()
        me = _Waiter(item, loop=loop, future=loop.create_future())
        with self._lock:
            self._queue.append(me)
            lead = not self._leading
            self._leading = True
        if lead:
            _lead_in_executor(loop, self)
        assert me.future is not None
        await me.future

    def _lead(self) -> None:
        with self._lock:
            batch, self._queue = self._queue, []
        error: BaseException | None = None
        try:
            self._write([w.item for w in batch])
        except BaseException as exc:  # handed to every caller of the batch, the leader too
            error = exc
        with self._lock:
            for waiter in batch:
                waiter.error = error
                waiter.done = True
            self.batches += 1
            self.items += len(batch)
            following = self._queue[0] if self._queue else None
            if following is not None:
                following.lead = True
            else:
                self._leading = False
        for waiter in batch:
            waiter.wake_up(self)
        if following is not None and not following.wake_up(self):
            self._lead()  # its loop is gone: this thread writes the next batch itself


__all__ = ["GroupCommit"]
