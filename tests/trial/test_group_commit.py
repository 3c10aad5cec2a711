"""Group commit: concurrent callers' items written together, each caller released only after the
write that holds its item, errors handed to every caller of the failed batch."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import pytest

from dosewise.trial.group_commit import GroupCommit


def test_one_caller_alone_writes_its_item_in_a_batch_of_its_own() -> None:
    written: list[list[int]] = []
    group = GroupCommit[int](lambda batch: written.append(list(batch)))
    group.submit(1)
    group.submit(2)
    assert written == [[1], [2]]
    assert (group.batches, group.items) == (2, 2)


def test_items_arriving_while_a_batch_is_written_share_the_next_write() -> None:
    written: list[list[int]] = []
    first_started = threading.Event()
    release_first = threading.Event()
    returned: dict[int, list[list[int]]] = {}

    def write(batch: Sequence[int]) -> None:
        if not written and not first_started.is_set():
            first_started.set()
            assert release_first.wait(10)
        written.append(list(batch))

    group = GroupCommit[int](write)

    def caller(i: int) -> None:
        group.submit(i)
        returned[i] = [list(b) for b in written]  # what had been written when it returned

    leader = threading.Thread(target=caller, args=(0,))
    leader.start()
    assert first_started.wait(10)
    others = [threading.Thread(target=caller, args=(i,)) for i in range(1, 9)]
    for t in others:
        t.start()
    # every follower is queued behind the leader's write before it finishes
    for _ in range(1000):
        with group._lock:
            if len(group._queue) == 8:
                break
        threading.Event().wait(0.005)
    release_first.set()
    for t in [leader, *others]:
        t.join(10)
    assert written[0] == [0]
    assert sorted(written[1]) == list(range(1, 9)) and len(written) == 2
    for i in range(9):  # nobody returned before the write that held its item
        assert any(i in batch for batch in returned[i])
    assert (group.batches, group.items) == (2, 9)


def test_a_failed_write_raises_in_every_caller_of_its_batch_and_the_next_batch_proceeds() -> None:
    started, release = threading.Event(), threading.Event()
    calls: list[list[str]] = []

    def write(batch: Sequence[str]) -> None:
        calls.append(list(batch))
        if batch[0] == "first":
            started.set()
            assert release.wait(10)
            return
        if "bad" in batch:
            raise OSError("disk full")

    group = GroupCommit[str](write)
    outcomes: dict[str, str] = {}

    def caller(item: str) -> None:
        try:
            group.submit(item)
            outcomes[item] = "ok"
        except OSError as exc:
            outcomes[item] = str(exc)

    first = threading.Thread(target=caller, args=("first",))
    first.start()
    assert started.wait(10)
    queued = [threading.Thread(target=caller, args=(x,)) for x in ("bad", "innocent")]
    for t in queued:
        t.start()
    for _ in range(1000):
        with group._lock:
            if len(group._queue) == 2:
                break
        threading.Event().wait(0.005)
    release.set()
    for t in [first, *queued]:
        t.join(10)
    assert outcomes == {"first": "ok", "bad": "disk full", "innocent": "disk full"}
    group.submit("later")  # the group is not left stuck by the failure
    assert calls[-1] == ["later"]


def test_a_write_error_reaches_the_single_caller() -> None:
    def write(_batch: Sequence[int]) -> None:
        raise RuntimeError("no database")

    with pytest.raises(RuntimeError, match="no database"):
        GroupCommit[int](write).submit(1)


# ------------------------------------------------------------------ callers on an event loop


def test_callers_on_an_event_loop_share_batches_without_a_thread_each() -> None:
    """Twenty coroutines submit at once: the loop never writes (a thread of its executor
    does), each coroutine resumes only once its item is written, and items that queued
    during a write share the next one."""
    loop_thread = threading.get_ident()
    written: list[list[int]] = []
    writers: set[int] = set()

    def write(batch: Sequence[int]) -> None:
        writers.add(threading.get_ident())
        threading.Event().wait(0.01)  # the disk flush
        written.append(list(batch))

    group = GroupCommit[int](write)

    async def caller(i: int) -> list[list[int]]:
        await group.submit_async(i)
        return [list(b) for b in written]

    async def main() -> list[list[list[int]]]:
        return await asyncio.gather(*(caller(i) for i in range(20)))

    seen = asyncio.run(main())
    assert loop_thread not in writers
    assert sorted(i for batch in written for i in batch) == list(range(20))
    assert len(written) < 20 and group.items == 20
    for i, at_return in enumerate(seen):
        assert any(i in batch for batch in at_return)


def test_a_thread_and_a_coroutine_share_a_batch_and_both_hear_its_error() -> None:
    started, release = threading.Event(), threading.Event()
    calls: list[list[str]] = []

    def write(batch: Sequence[str]) -> None:
        calls.append(list(batch))
        if batch == ["first"]:
            started.set()
            assert release.wait(10)
            return
        raise OSError("disk full")

    group = GroupCommit[str](write)
    outcomes: dict[str, str] = {}

    def in_thread(item: str) -> None:
        try:
            group.submit(item)
            outcomes[item] = "ok"
        except OSError as exc:
            outcomes[item] = str(exc)

    async def on_loop() -> None:
        try:
            await group.submit_async("coroutine")
            outcomes["coroutine"] = "ok"
        except OSError as exc:
            outcomes["coroutine"] = str(exc)

    first = threading.Thread(target=in_thread, args=("first",))
    first.start()
    assert started.wait(10)
    second = threading.Thread(target=in_thread, args=("thread",))
    second.start()

    async def main() -> None:
        task = asyncio.ensure_future(on_loop())
        for _ in range(1000):  # both queued behind the first write
            with group._lock:
                if len(group._queue) == 2:
                    break
            await asyncio.sleep(0.005)
        release.set()
        await task

    asyncio.run(main())
    for t in (first, second):
        t.join(10)
    assert outcomes == {"first": "ok", "thread": "disk full", "coroutine": "disk full"}
    assert sorted(calls[1]) == ["coroutine", "thread"]


def test_a_coroutine_next_in_line_leads_from_its_loops_executor_not_the_loop() -> None:
    """A batch that only coroutines queued for, behind a thread's write, is written by a thread
    of the loop's executor, and the group goes on working afterwards."""
    started, release = threading.Event(), threading.Event()
    writers: dict[str, str] = {}

    def write(batch: Sequence[str]) -> None:
        for item in batch:
            writers[item] = threading.current_thread().name
        if batch == ["thread"]:
            started.set()
            assert release.wait(10)

    group = GroupCommit[str](write)
    first = threading.Thread(target=group.submit, args=("thread",), name="caller")
    first.start()
    assert started.wait(10)

    async def main() -> str:
        task = asyncio.ensure_future(group.submit_async("coroutine"))
        for _ in range(1000):
            with group._lock:
                if group._queue:
                    break
            await asyncio.sleep(0.005)
        release.set()
        await task
        await group.submit_async("again")
        return threading.current_thread().name

    loop_thread = asyncio.run(main())
    first.join(10)
    # (names, not idents: a thread's ident may be reused once it has ended)
    assert writers["coroutine"].startswith("asyncio")  # the default executor's threads
    assert writers["coroutine"] not in {loop_thread, writers["thread"]}
    assert set(writers) == {"thread", "coroutine", "again"}


def test_a_cancelled_coroutines_item_is_written_all_the_same() -> None:
    started, release = threading.Event(), threading.Event()
    written: list[str] = []

    def write(batch: Sequence[str]) -> None:
        started.set()
        assert release.wait(10)
        written.extend(batch)

    group = GroupCommit[str](write)

    async def main() -> None:
        task = asyncio.ensure_future(group.submit_async("refusal"))
        while not started.is_set():
            await asyncio.sleep(0.005)
        task.cancel()
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await task
        for _ in range(1000):
            if written:
                break
            await asyncio.sleep(0.005)

    asyncio.run(main())
    assert written == ["refusal"]
    group.submit("next")  # not left leading
    assert written == ["refusal", "next"]


def test_a_batch_whose_coroutine_leader_lost_its_loop_is_written_by_the_thread_before() -> None:
    """A cancelled coroutine's item queued behind a thread's write, its loop ended meanwhile:
    the thread writes that batch too, and the group is not left stuck."""
    started, release = threading.Event(), threading.Event()
    written: list[list[str]] = []

    def write(batch: Sequence[str]) -> None:
        if batch == ["first"]:
            started.set()
            assert release.wait(10)
        written.append(list(batch))

    group = GroupCommit[str](write)
    first = threading.Thread(target=group.submit, args=("first",))
    first.start()
    assert started.wait(10)

    async def queue_then_give_up() -> None:
        task = asyncio.ensure_future(group.submit_async("orphan"))
        while True:
            with group._lock:
                if group._queue:
                    break
            await asyncio.sleep(0.005)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(queue_then_give_up())  # the loop is closed from here on
    release.set()
    first.join(10)
    assert written == [["first"], ["orphan"]]
    group.submit("later")
    assert written[-1] == ["later"]


def test_a_coroutine_is_served_after_its_loops_executor_shut_down() -> None:
    written: list[list[str]] = []
    group = GroupCommit[str](lambda batch: written.append(list(batch)))

    async def main() -> None:
        await asyncio.get_running_loop().shutdown_default_executor()  # as a server stops
        await asyncio.wait_for(group.submit_async("late"), 10)

    asyncio.run(main())
    assert written == [["late"]]
