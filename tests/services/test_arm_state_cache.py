"""The cached arm state never serves stale clinical truth.

Every read below is checked against a fresh computation from the records
(:func:`compute_arm_state`), and every kind of write that changes the state — an infusion, an
adverse event, a DLT adjudication, a dose assignment, a write through another engine and one
from another process — changes the next read. Events that change no row (a refused assignment)
keep the cached entry; a writing unit of work never uses it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from svc_helpers import COORD, Acts, outcome

from dosewise.settings import Settings
from dosewise.store.session import Database, open_database
from dosewise.store.tables import AuditRecord
from dosewise.trial.services import adverse_events, dosing
from dosewise.trial.state import arm_state, compute_arm_state
from dosewise.trial.state.cache import records_cache
from dosewise.trial.uow import ConcurrencyConflict, UnitOfWork
from pg import backend_params

pytestmark = pytest.mark.parametrize("backend", backend_params(), indirect=True)
ARM = "autologous"


def read(acts: Acts, db: Database | None = None) -> dict[str, Any]:
    """The arm state as the API reads it (read-only unit of work), checked against a fresh
    computation in the same transaction."""
    database = db or acts.db
    with UnitOfWork(database, acts.actor("stat"), clock=acts.clock, readonly=True) as uow:
        cached = arm_state(uow.session, ARM, as_of=acts.today)
        fresh = compute_arm_state(uow.session, ARM, as_of=acts.today)
        assert cached == fresh
        return cached.to_dict()


def hits(acts: Acts) -> int:
    """Arm-state entries served from the cache so far (other kinds, e.g. the site's zone, are
    counted apart)."""
    with acts.uow("stat", readonly=True) as uow:
        return records_cache(uow.session).stats.by_kind.get("arm_state", Counter())["hits"]


def first_cohort(acts: Acts) -> list[str]:
    sids = [acts.recruit() for _ in range(3)]
    for sid in sids:
        acts.treat(sid)
    return sids


def test_a_second_read_is_served_from_the_cache_and_equals_a_fresh_computation(
    acts: Acts,
) -> None:
    first_cohort(acts)
    before = hits(acts)
    a = read(acts)
    b = read(acts)
    assert a == b
    assert hits(acts) == before + 1


def test_a_caller_changing_its_copy_does_not_reach_the_next_reader(acts: Acts) -> None:
    first_cohort(acts)
    read(acts)
    with acts.uow("stat", readonly=True) as uow:
        state = arm_state(uow.session, ARM, as_of=acts.today)
        state.params["phi_t"] = 0.99
        assert state.cohort is not None
        state.cohort["members"].clear()
    again = read(acts)
    assert again["params"]["phi_t"] != 0.99
    assert len(again["cohort"]["members"]) == 3


def test_infusion_and_assignment_change_the_next_read(acts: Acts) -> None:
    sids = [acts.recruit() for _ in range(3)]
    acts.treat(sids[0])
    acts.treat(sids[1])
    a = acts.assign(sids[2])
    after_assign = read(acts)
    assert len(after_assign["cohort"]["members"]) == 3
    acts.confirm(sids[2])
    prod = acts.release(sids[2], a.dose_index)
    read(acts)
    treated_before = sum(d["treated"] for d in read(acts)["doses"])
    acts.infuse(sids[2], prod.feasibility["volume_ml"])
    treated_after = sum(d["treated"] for d in read(acts)["doses"])
    assert (treated_before, treated_after) == (2, 3)


def test_an_adverse_event_and_an_adjudication_change_the_next_read(acts: Acts) -> None:
    sids = first_cohort(acts)
    day0 = acts.today
    acts.advance(30)
    before = read(acts)
    assert len(before["pending"]) == 3
    acts.run(
        COORD["S01"],
        adverse_events.record_adverse_event,
        sids[0],
        term="Cytokine release syndrome",
        onset_on=day0 + timedelta(days=2),
        crs={"fever": True, "hypotension": True, "vasopressors": 2},
        resolved_on=day0 + timedelta(days=9),
        attribution="definite",
    )
    after_ae = read(acts)
    assert after_ae["patients"] != before["patients"]
    for sid in sids:
        outcome(acts, sid, "N", day0)
    after_adjudication = read(acts)
    assert after_adjudication["pending"] == []
    assert after_adjudication["outcomes"] != after_ae["outcomes"]


def test_a_refused_assignment_is_an_event_and_keeps_the_cached_state(acts: Acts) -> None:
    first_cohort(acts)
    waiting = acts.recruit()
    read(acts)
    before = hits(acts)
    with pytest.raises(dosing.MustWait):
        acts.run(COORD["S01"], dosing.check_assignable, waiting)
    read(acts)
    assert hits(acts) > before


def test_a_writing_unit_of_work_computes_afresh(acts: Acts) -> None:
    first_cohort(acts)
    read(acts)
    cache = None
    with acts.uow("stat") as uow:
        cache = records_cache(uow.session)
        kinds = cache.stats.by_kind
        bypassed = kinds.get("arm_state", Counter())["bypassed"]
        arm_state(uow.session, ARM, as_of=acts.today)
        assert kinds["arm_state"]["bypassed"] == bypassed + 1


def test_a_write_through_another_engine_changes_the_next_read(
    acts: Acts, settings: Settings
) -> None:
    sids = first_cohort(acts)
    day0 = acts.today
    acts.advance(30)
    before = read(acts)
    other = open_database(settings)
    try:
        acts_other = Acts(other, acts.settings, acts.clock)
        for sid in sids:
            outcome(acts_other, sid, "N", day0)
        after = read(acts)
    finally:
        other.dispose()
    assert after["outcomes"] != before["outcomes"]
    assert before["next"]["action"] == "wait"
    assert after["next"]["action"] == "assign"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX subprocess")
def test_a_write_from_another_process_changes_the_next_read(acts: Acts, settings: Settings) -> None:
    sids = first_cohort(acts)
    day0 = acts.today
    acts.advance(10)
    before = read(acts)
    onset = (day0 + timedelta(days=2)).isoformat()
    resolved = (day0 + timedelta(days=9)).isoformat()
    script = f"""
from datetime import date
from sqlalchemy import select
from dosewise.settings import Settings
from dosewise.store.session import open_database
from dosewise.store.tables import User
from dosewise.trial.audit import Actor
from dosewise.trial.services import adverse_events
from dosewise.trial.uow import UnitOfWork
db = open_database(Settings.from_env())
with UnitOfWork(db, Actor.system("test"), readonly=True) as uow:
    actor = Actor.of(uow.session.scalar(select(User).where(User.username == "coord1")))
with UnitOfWork(db, actor) as uow:
    adverse_events.record_adverse_event(
        uow, {sids[0]!r}, term="Cytokine release syndrome", onset_on=date.fromisoformat({onset!r}),
        crs={{"fever": True, "hypotension": True, "vasopressors": 2}},
        resolved_on=date.fromisoformat({resolved!r}), attribution="definite")
"""
    src = str(Path(__file__).resolve().parents[2] / "src")
    env = {
        **os.environ,
        "DOSEWISE_DATABASE_URL": settings.database_url,
        "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    after = read(acts)
    assert after["patients"] != before["patients"]


def test_a_repeated_refusal_is_decided_once_audited_every_time_and_redecided_after_a_write(
    acts: Acts,
) -> None:
    """``check_assignable`` keeps its verdict per actor, participant and day until a record
    changes: each asking still gets its own error object and its own audited refusal; a stale
    ``expected_arm_version`` is still refused; a write makes it decide afresh, and once the
    outcomes are in the same participant passes."""
    treated = first_cohort(acts)
    day0 = acts.today  # the cohort's infusions (acts.treat infuses today)
    waiting = acts.recruit()

    def ask(**kwargs: Any) -> None:
        with acts.uow(COORD["S01"], readonly=True) as uow:
            dosing.check_assignable(uow, waiting, **kwargs)

    def counts() -> Counter[str]:
        with acts.uow("stat", readonly=True) as uow:
            return Counter(records_cache(uow.session).stats.by_kind.get("dose.assignable", {}))

    def refusals() -> list[AuditRecord]:
        with acts.uow("stat", readonly=True) as uow:
            stmt = select(AuditRecord).where(AuditRecord.action == "dose.assign_refused")
            return list(uow.session.scalars(stmt))

    start = counts()
    errors = []
    for _ in range(3):
        with pytest.raises(dosing.MustWait) as err:
            ask()
        errors.append(err.value)
    assert errors[0] is not errors[1] and errors[1] is not errors[2]
    assert len({(e.message, e.value, e.reason_code) for e in errors}) == 1
    assert errors[0].reason_params == errors[2].reason_params
    assert counts() - start == Counter(misses=1, hits=2)
    audited = refusals()
    assert len(audited) == 3 and len({r.txn for r in audited}) == 3
    assert {r.site_id for r in audited} == {"S01"}
    version = read(acts)["version"]
    with pytest.raises(ConcurrencyConflict):
        ask(expected_arm_version=version - 1)
    with pytest.raises(dosing.MustWait):
        ask(expected_arm_version=version)
    acts.recruit("S02")  # any record written: decided afresh
    with pytest.raises(dosing.MustWait):
        ask()
    assert (counts() - start)["misses"] == 2
    acts.advance(31)
    for sid in treated:
        outcome(acts, sid, "N", day0)
    ask()  # the design now gives the next cohort a dose
    assert len(refusals()) == 5
