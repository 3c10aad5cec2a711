"""The unit of work: one transaction per act, audit in the same transaction, reasons for
corrections, optimistic concurrency on arms — on SQLite and PostgreSQL.

The rules checked are those of the issue and of 21 CFR 11.10(e) / EU GMP Annex 11 §9: an audit
record is written with the change or not at all; a change to a value after its first entry, and
any deletion, needs a reason.
"""

from __future__ import annotations

import json
import threading
from datetime import date

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from dosewise.store.session import Database, owner_engine
from dosewise.store.tables import Arm, AuditRecord, Participant, Site
from dosewise.trial import audit
from dosewise.trial.audit import Actor, ReasonRequired
from dosewise.trial.uow import (
    AuditError,
    ConcurrencyConflict,
    DuplicateRecord,
    NotFound,
    UnitOfWork,
    event_group,
)
from pg import FakeClock

INV1 = Actor(user_id=2, username="inv1", role="investigator", site_id="S01")


def _participant(uow: UnitOfWork, study_id: str, site: str = "S01") -> Participant:
    now = uow.now()
    return uow.add(
        Participant(
            study_id=study_id,
            site_id=site,
            status="registered",
            registered_on=date(2026, 1, 5),
            created_at=now,
            created_by=INV1.user_id,
        )
    )


def _register(db: Database, study_id: str, clock: FakeClock | None = None) -> int:
    with UnitOfWork(db, INV1, clock=clock or FakeClock()) as uow:
        uow.act("participant.register", site_id="S01")
        p = _participant(uow, study_id)
        uow.commit()
        return p.id


def _records(db: Database, **where: object) -> list[AuditRecord]:
    with UnitOfWork(db, INV1, readonly=True) as uow:
        stmt = select(AuditRecord).order_by(AuditRecord.seq)
        for key, value in where.items():
            stmt = stmt.where(getattr(AuditRecord, key) == value)
        return list(uow.session.scalars(stmt))


def test_a_committed_act_writes_rows_and_audit_records_together(
    db: Database, clock: FakeClock
) -> None:
    pid = _register(db, "S01-0001", clock)
    (record,) = _records(db, entity="participants")
    assert record.entity_id == str(pid)
    assert record.operation == "insert" and record.action == "participant.register"
    assert record.username == "inv1" and record.role == "investigator"
    assert record.site_id == "S01"
    assert record.recorded_at == "2026-01-05T09:00:00.000000Z"
    assert record.before is None
    assert '"study_id":"S01-0001"' in (record.after or "")


def test_a_rolled_back_act_leaves_no_row_and_no_audit_record(db: Database) -> None:
    before = len(_records(db))
    with pytest.raises(RuntimeError, match="boom"), UnitOfWork(db, INV1) as uow:
        uow.act("participant.register", site_id="S01")
        _participant(uow, "S01-0002")
        uow.flush()  # the row and its pending audit entry exist inside the transaction ...
        assert uow.pending_entries
        raise RuntimeError("boom")
    # ... and vanish with it.
    with UnitOfWork(db, INV1, readonly=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Participant)) == 0
    assert len(_records(db)) == before


def test_leaving_without_commit_rolls_back(db: Database) -> None:
    with UnitOfWork(db, INV1) as uow:
        uow.act("participant.register", site_id="S01")
        _participant(uow, "S01-0003")
    with UnitOfWork(db, INV1, readonly=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Participant)) == 0


def test_changes_without_a_named_act_are_refused(db: Database) -> None:
    with UnitOfWork(db, INV1) as uow:
        _participant(uow, "S01-0004")
        with pytest.raises(AuditError, match="no act named"):
            uow.flush()


def test_first_entry_of_a_value_needs_no_reason_but_a_correction_does(db: Database) -> None:
    pid = _register(db, "S01-0005")
    with UnitOfWork(db, INV1) as uow:  # null -> 1980 is the first entry of the value
        uow.act("participant.update")
        uow.get(Participant, pid).year_of_birth = 1980
        uow.commit()
    with pytest.raises(ReasonRequired) as info, UnitOfWork(db, INV1) as uow:
        uow.act("participant.update")
        uow.get(Participant, pid).year_of_birth = 1981
        uow.commit()
    assert info.value.field == "reason" and "year_of_birth" in str(info.value)
    with UnitOfWork(db, INV1) as uow:
        uow.act("participant.correct", reason="transcription error: source says 1981")
        uow.get(Participant, pid).year_of_birth = 1981
        uow.commit()
    update = _records(db, entity="participants", operation="update")
    assert [(r.before, r.after, r.reason) for r in update][-1] == (
        '{"year_of_birth":1980}',
        '{"year_of_birth":1981}',
        "transcription error: source says 1981",
    )
    assert update[-1].after is not None and "version" not in update[-1].after.split(",")[0]


def test_workflow_columns_change_without_a_reason(db: Database) -> None:
    pid = _register(db, "S01-0006")
    with UnitOfWork(db, INV1) as uow:
        uow.act("participant.screen")
        uow.get(Participant, pid).status = "eligible"
        uow.commit()
    (record,) = _records(db, entity="participants", operation="update")
    assert '"status":"eligible"' in (record.after or "")
    assert '"status":"registered"' in (record.before or "")


def test_deleting_needs_a_reason_and_keeps_the_old_values(db: Database) -> None:
    pid = _register(db, "S01-0007")
    with pytest.raises(ReasonRequired), UnitOfWork(db, INV1) as uow:
        uow.act("participant.delete")
        uow.session.delete(uow.get(Participant, pid))
        uow.commit()
    with UnitOfWork(db, INV1) as uow:
        uow.act("participant.delete", reason="registered twice by mistake")
        uow.session.delete(uow.get(Participant, pid))
        uow.commit()
    (record,) = _records(db, operation="delete")
    assert record.after is None and '"study_id":"S01-0007"' in (record.before or "")
    assert record.reason == "registered twice by mistake"


def test_rows_entered_in_the_same_act_can_be_completed_without_a_reason(db: Database) -> None:
    with UnitOfWork(db, INV1) as uow:
        uow.act("participant.register", site_id="S01")
        p = _participant(uow, "S01-0008")
        uow.flush()
        p.year_of_birth = 1990
        uow.flush()
        p.year_of_birth = 1991  # still being entered in this act
        uow.commit()
    assert [r.operation for r in _records(db, entity="participants")] == [
        "insert",
        "update",
        "update",
    ]


def test_a_read_only_unit_cannot_write(db: Database) -> None:
    with UnitOfWork(db, INV1, readonly=True) as uow:
        uow.event("x.read", "participants")
        with pytest.raises(AuditError, match="read-only"):
            uow.commit()
    # A row written in a read-only unit never lands: refused by PostgreSQL's READ ONLY
    # transaction at flush, or by the unit of work at commit on SQLite.
    with pytest.raises((AuditError, DBAPIError)), UnitOfWork(db, INV1, readonly=True) as uow:
        uow.act("participant.register", site_id="S01")
        _participant(uow, "S01-RO")
        uow.commit()
    with UnitOfWork(db, INV1, readonly=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Participant)) == 0


def test_get_raises_not_found_naming_the_table(db: Database) -> None:
    with UnitOfWork(db, INV1, readonly=True) as uow, pytest.raises(NotFound) as info:
        uow.get(Participant, 999)
    assert info.value.field == "participants"


def test_a_duplicate_key_is_a_conflict_naming_the_field(db: Database) -> None:
    _register(db, "S01-0009")
    with pytest.raises(DuplicateRecord) as info:
        _register(db, "S01-0009")
    assert info.value.field == "study_id"


def test_concurrent_edits_of_one_participant_conflict(db: Database) -> None:
    """Participants carry a version: the second of two overlapping edits is refused."""
    pid = _register(db, "S01-0010")
    with UnitOfWork(db, INV1, readonly=True) as reader:
        stale = reader.get(Participant, pid)  # a copy loaded at version 1
    assert stale.version == 1
    with UnitOfWork(db, INV1) as other:  # someone else's change lands first
        other.act("participant.screen")
        other.get(Participant, pid).status = "eligible"
        other.commit()
    with UnitOfWork(db, INV1) as late:
        late.act("participant.update")
        late.session.add(stale)
        stale.year_of_birth = 1970
        with pytest.raises(ConcurrencyConflict):
            late.commit()
    with UnitOfWork(db, INV1, readonly=True) as uow:
        fresh = uow.get(Participant, pid)
    assert (fresh.year_of_birth, fresh.status, fresh.version) == (None, "eligible", 2)


# --------------------------------------------------------------------------- arms


def _arm_version(db: Database, arm_id: str = "autologous") -> int:
    with UnitOfWork(db, INV1, readonly=True) as uow:
        return uow.get(Arm, arm_id).version


def test_claim_arm_raises_the_version_and_checks_the_expected_one(db: Database) -> None:
    v0 = _arm_version(db)
    with UnitOfWork(db, INV1) as uow:
        assert uow.claim_arm("autologous", expected_version=v0).version == v0 + 1
        uow.commit()
    with pytest.raises(ConcurrencyConflict) as info, UnitOfWork(db, INV1) as uow:
        uow.claim_arm("autologous", expected_version=v0)
    assert info.value.field == "version"
    assert f"now at version {v0 + 1}" in str(info.value)
    assert _arm_version(db) == v0 + 1
    with pytest.raises(NotFound), UnitOfWork(db, INV1) as uow:
        uow.claim_arm("no_such_arm")


def test_two_sites_claiming_one_arm_at_once_exactly_one_succeeds(db: Database) -> None:
    """Both saw version v; both act at the same moment; one wins and the other is told why."""
    v = _arm_version(db)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    lock = threading.Lock()

    def site(actor: Actor) -> None:
        barrier.wait()
        try:
            with UnitOfWork(db, actor) as uow:
                uow.claim_arm("autologous", expected_version=v)
                uow.act("enroll.test", site_id=actor.site_id)
                uow.event("enroll.test", "arms", "autologous")
                uow.commit()
            result = "ok"
        except ConcurrencyConflict as exc:
            result = f"conflict: {exc.rule}"
        with lock:
            outcomes.append(result)

    inv2 = Actor(user_id=3, username="inv2", role="investigator", site_id="S02")
    threads = [threading.Thread(target=site, args=(a,)) for a in (INV1, inv2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(o.split(":")[0] for o in outcomes) == ["conflict", "ok"]
    assert "someone else acted on it first" in next(o for o in outcomes if o != "ok")
    assert _arm_version(db) == v + 1


def test_many_writers_keep_the_chain_contiguous_and_arm_claims_serialised(db: Database) -> None:
    """Eight threads each claim the arm (no expected version) and append audit records: every
    claim gets its own version and the chain stays gap-free."""
    v = _arm_version(db)
    errors: list[BaseException] = []
    seen: list[int] = []
    lock = threading.Lock()

    def writer(i: int) -> None:
        try:
            with UnitOfWork(db, INV1) as uow:
                arm = uow.claim_arm("autologous")
                uow.act("participant.register", site_id="S01")
                _participant(uow, f"S01-T{i:03d}")
                uow.commit()
                with lock:
                    seen.append(arm.version)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    assert sorted(seen) == list(range(v + 1, v + 9))
    with UnitOfWork(db, INV1, readonly=True) as uow:
        report = audit.verify_chain(uow.session)
    assert report.ok, report.problems


def test_system_acts_are_attributed_to_the_system(db: Database) -> None:
    with UnitOfWork(db, Actor.system()) as uow:
        uow.act("setup.site")  # no site on the act: the row's own site_id is used
        uow.add(Site(id="S09", name="New", city="c", country="x", status="R", created_at=uow.now()))
        uow.commit()
    (record,) = _records(db, entity="sites", entity_id="S09")
    assert record.username == "system" and record.user_id is None


# --------------------------------------------------------------------------- row locks


def test_a_locked_row_makes_the_next_act_wait_and_see_the_first_ones_result(
    db: Database,
) -> None:
    """``uow.lock``: the second unit of work waits for the first to commit, then reads the
    committed value (READ COMMITTED on PostgreSQL; the write lock on SQLite)."""
    pid = _register(db, "S01-0020")
    first_locked, release = threading.Event(), threading.Event()
    seen: list[str] = []

    def first() -> None:
        with UnitOfWork(db, INV1) as uow:
            p = uow.lock(Participant, pid)
            first_locked.set()
            release.wait(timeout=30)
            uow.act("participant.screen")
            p.status = "eligible"
            uow.commit()

    def second() -> None:
        first_locked.wait(timeout=30)
        with UnitOfWork(db, INV1) as uow:
            seen.append(uow.lock(Participant, pid).status)
            uow.rollback()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    first_locked.wait(timeout=30)
    threads[1].join(timeout=0.5)
    assert threads[1].is_alive() and seen == []  # still waiting for the first's lock
    release.set()
    for t in threads:
        t.join(timeout=60)
    assert seen == ["eligible"]


def test_lock_needs_a_writing_unit_and_an_existing_row(db: Database) -> None:
    with UnitOfWork(db, INV1, readonly=True) as uow, pytest.raises(AuditError):
        uow.lock(Site, "S01")
    with UnitOfWork(db, INV1) as uow:
        with pytest.raises(NotFound):
            uow.lock(Site, "S99")
        assert uow.lock(Site, where=Site.id == "S02").id == "S02"


# --------------------------------------------------------------------------- failure events


class _Refused(Exception):
    pass


def test_failure_events_outlive_the_rollback_and_concurrent_ones_share_commits(
    db: Database,
) -> None:
    """``event_on_failure``: the event is written (durably, before the exception leaves the
    block) only when the unit of work fails, with its own actor and transaction id, nothing of
    the failed act kept; twelve units failing at once need fewer commits than events, and the
    chain stays whole."""
    with UnitOfWork(db, INV1, readonly=True) as uow:  # a unit that ends well records nothing
        uow.event_on_failure("dose.assign_refused", "arms", "autologous", after={"n": -1})
    assert _records(db, action="dose.assign_refused") == []
    txns: dict[int, str] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(12)

    def refused(i: int) -> None:
        actor = Actor(user_id=100 + i, username=f"crc{i}", role="coordinator", site_id="S02")
        try:
            with UnitOfWork(db, actor, readonly=True) as uow:
                txns[i] = uow.txn
                uow.event_on_failure(
                    "dose.assign_refused", "arms", "autologous", after={"n": i}, site_id="S02"
                )
                start.wait(timeout=30)
                raise _Refused(i)
        except _Refused:
            return
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    with pytest.raises(_Refused), UnitOfWork(db, INV1) as uow:  # its row goes, its event stays
        uow.act("participant.register", site_id="S01")
        _participant(uow, "S01-0099")
        uow.flush()
        uow.event_on_failure("participant.register_refused", "participants", "S01-0099")
        raise _Refused(0)
    (kept,) = _records(db, action="participant.register_refused")
    assert (
        kept.username == INV1.username
        and _records(db, entity="participants", operation="insert") == []
    )
    group = event_group(db)
    batches_before = group.batches
    threads = [threading.Thread(target=refused, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    records = _records(db, action="dose.assign_refused")
    assert sorted(json.loads(r.after)["n"] for r in records) == list(range(12))
    assert group.batches - batches_before <= 6  # twelve events, a few commits
    for r in records:
        i = r.user_id - 100
        assert r.username == f"crc{i}" and r.txn == txns[i] and r.site_id == "S02"
    assert len({r.txn for r in records}) == 12
    with UnitOfWork(db, INV1, readonly=True) as uow:
        assert audit.verify_chain(uow.session).ok


def test_statement_reads_share_the_caches_and_the_server_refuses_their_writes(
    db: Database,
) -> None:
    """``statements=True`` (the busiest read-only requests): on PostgreSQL each statement runs
    alone in autocommit on a second pool, read-only enforced by the server; its results belong
    to the same caches as an ordinary unit of work's (one owner engine)."""
    with UnitOfWork(db, INV1, readonly=True, statements=True) as fast:
        assert fast.get(Site, "S01").id == "S01"
        assert owner_engine(fast.session) is db.engine
        if db.engine.dialect.name == "postgresql":
            assert fast.session.get_bind() is not db.engine  # the statement pool
            with pytest.raises(DBAPIError, match="read-only transaction"):
                fast.session.execute(text("UPDATE sites SET name = 'changed' WHERE id = 'S01'"))
    with UnitOfWork(db, INV1, readonly=True) as plain:
        assert owner_engine(plain.session) is db.engine
        assert plain.get(Site, "S01").name != "changed"
