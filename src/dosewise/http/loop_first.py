"""Serve a request on the event loop when memory holds its answer, else in the thread pool.

See :mod:`dosewise.trial.memory_only` for why and for what the code may do on the loop. The
busiest routes (the arm state, the dose assignment) call their ordinary request function
through :func:`loop_first`; everything else keeps FastAPI's thread pool.

Only on SQLite, whose query is a call into this process: the loop never waits on a socket, and
it always finds a free connection (the pool's 40 + 24 outnumber the 40 threads of the
thread pool and the few of the loop's executor that write the group commits).
PostgreSQL's query is a round trip the loop would wait for, and there the thread pool's server
CPU per read was the same (``bench/api_latency.py``), so its requests keep the thread pool.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from starlette.concurrency import run_in_threadpool

from dosewise.store.session import Database
from dosewise.trial.memory_only import attempt

T = TypeVar("T")


async def loop_first(db: Database, work: Callable[..., T], *args: object) -> T:
    """``work(*args)`` on ``db``: tried from memory on the loop (SQLite); run in a thread when
    that is not enough.

    A refused act's audit record, kept by the try, is made durable (its commit awaited, or
    written in a thread) before the refusal is raised, as the same code in a thread would.
    """
    if not db.is_sqlite:
        return await run_in_threadpool(work, *args)
    tried = attempt(work, *args)
    if tried.needs_work is not None:
        return await run_in_threadpool(work, *args)
    await tried.settle()
    if tried.deferred:
        await run_in_threadpool(tried.finish)
    return tried.answer()


__all__ = ["loop_first"]
