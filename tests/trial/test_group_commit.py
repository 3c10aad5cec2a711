"""Group commit: concurrent callers' items written together, each caller released only after the
write that holds its item, errors handed to every caller of the failed batch."""

from __future__ import annotations

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
