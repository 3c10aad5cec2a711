"""The service code tried from memory alone (:mod:`dosewise.trial.memory_only`), on SQLite and
PostgreSQL: it answers from the caches exactly as it would in a thread, gives up (without
computing or writing anything) where the caches do not hold the answer or an act would write,
and a refusal's audit record is written only by the caller, once, before the answer is read."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select
from svc_helpers import COORD, Acts

from dosewise.store.tables import AuditRecord, Participant
from dosewise.trial import access
from dosewise.trial.audit import Actor
from dosewise.trial.memory_only import attempt
from dosewise.trial.services import dosing
from dosewise.trial.session_cache import session_cache
from dosewise.trial.state import arm_state
from dosewise.trial.state.cache import records_cache
from pg import PASSWORD, backend_params

pytestmark = pytest.mark.parametrize("backend", backend_params(), indirect=True)
ARM = "autologous"


def first_cohort_and_one_waiting(acts: Acts) -> str:
    for _ in range(3):
        acts.treat(acts.recruit())
    return acts.recruit()


def refusals(acts: Acts) -> list[AuditRecord]:
    with acts.uow("stat", readonly=True) as uow:
        stmt = select(AuditRecord).where(AuditRecord.action == "dose.assign_refused")
        return list(uow.session.scalars(stmt))


def read_state(acts: Acts) -> dict[str, Any]:
    with acts.uow("stat", readonly=True) as uow:
        return arm_state(uow.session, ARM, as_of=acts.today).to_dict()


def test_a_read_is_answered_from_memory_and_gives_up_after_a_write(acts: Acts) -> None:
    first_cohort_and_one_waiting(acts)
    in_thread = read_state(acts)  # computed and kept
    tried = attempt(read_state, acts)
    assert tried.needs_work is None and tried.answer() == in_thread
    acts.recruit("S02")  # any write: the kept answer no longer holds
    with acts.uow("stat", readonly=True) as uow:
        misses = records_cache(uow.session).stats.misses
    tried = attempt(read_state, acts)
    assert tried.needs_work == "records cache miss"
    with acts.uow("stat", readonly=True) as uow:
        assert records_cache(uow.session).stats.misses == misses  # nothing computed
    assert read_state(acts) != in_thread  # the thread's run computes afresh


def test_a_writing_act_gives_up_before_it_writes(acts: Acts) -> None:
    before = acts.count(Participant)
    tried = attempt(acts.recruit)
    assert tried.needs_work == "a write"
    assert acts.count(Participant) == before


def test_a_refusal_is_audited_by_the_caller_once_before_its_answer(acts: Acts) -> None:
    waiting = first_cohort_and_one_waiting(acts)

    def ask() -> None:
        with acts.uow(COORD["S01"], readonly=True) as uow:
            dosing.check_assignable(uow, waiting)

    assert attempt(ask).needs_work == "records cache miss"  # the verdict is not known yet
    with pytest.raises(dosing.MustWait):
        ask()  # in a thread: decided and kept, audited at once
    assert len(refusals(acts)) == 1
    tried = attempt(ask)
    assert isinstance(tried.error, dosing.MustWait)
    assert len(tried.awaited) == 1 and tried.deferred == []
    assert len(refusals(acts)) == 1  # not written on the loop
    with pytest.raises(RuntimeError, match="deferred writes"):
        tried.answer()
    asyncio.run(tried.settle())  # the caller awaits the group commit
    with pytest.raises(dosing.MustWait):
        tried.answer()
    audited = refusals(acts)
    assert len(audited) == 2 and audited[-1].username == COORD["S01"]
    assert audited[-1].txn != audited[0].txn


def test_a_known_session_is_resolved_from_memory_an_unknown_one_gives_up(acts: Acts) -> None:
    with acts.uow("stat") as uow:
        token = access.login(uow, acts.passwords, acts.settings, "stat", PASSWORD).token

    def resolve() -> str:
        with acts.uow("stat", readonly=True) as uow:
            uow.actor = Actor.system("auth")
            return session_cache(uow).resolve(uow, acts.settings, token).actor.username

    assert attempt(resolve).needs_work == "session not known"
    assert resolve() == "stat"  # in a thread: checked and remembered
    assert attempt(resolve).answer() == "stat"
