"""A try from memory alone (:func:`dosewise.trial.memory_only.attempt`): it answers, raises, or
gives up with the reason; writes it keeps must be made before its answer is read."""

from __future__ import annotations

import asyncio

import pytest

from dosewise.trial import memory_only
from dosewise.trial.memory_only import NeedsWork, attempt


def test_a_try_gives_the_value_or_the_error_of_the_work() -> None:
    assert attempt(lambda x: x + 1, 41).answer() == 42

    def refuse() -> int:
        raise ValueError("must wait")

    tried = attempt(refuse)
    assert isinstance(tried.error, ValueError) and tried.needs_work is None
    with pytest.raises(ValueError, match="must wait"):
        tried.answer()


def test_a_try_gives_up_where_the_work_needs_more_than_memory() -> None:
    done: list[str] = []

    def work() -> None:
        memory_only.defer(lambda: done.append("kept"))
        memory_only.need("records cache miss")
        done.append("after")

    tried = attempt(work)
    assert tried.needs_work == "records cache miss"
    assert tried.deferred == [] and tried.awaited == []  # the retry in a thread writes them
    assert done == []


def test_outside_a_try_nothing_is_asked_of_the_code() -> None:
    memory_only.need("a write")  # no effect
    assert memory_only.defer(lambda: None) is False

    def inside() -> bool:
        return memory_only.defer(lambda: None)

    tried = attempt(inside)  # inside a try, the write is kept for the caller
    assert len(tried.deferred) == 1
    tried.finish()
    assert tried.answer() is True


def test_kept_writes_are_made_before_the_answer_can_be_read() -> None:
    made: list[str] = []

    async def awaited() -> None:
        made.append("awaited")

    def work() -> None:
        assert memory_only.defer(lambda: made.append("in a thread"))
        assert memory_only.defer(lambda: made.append("never this way"), awaited)
        raise PermissionError("refused")

    tried = attempt(work)
    with pytest.raises(RuntimeError, match="deferred writes"):
        tried.answer()
    tried.finish()
    asyncio.run(tried.settle())
    assert made == ["in a thread", "awaited"]
    with pytest.raises(PermissionError):
        tried.answer()


def test_needs_work_names_what_was_needed() -> None:
    assert NeedsWork("a write").what == "a write"
