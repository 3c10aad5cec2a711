"""The audit trail's hash chain: it verifies, and any edit or deletion of history is detected.

Tampering is done the way an attacker with database access would: direct SQL, after switching
off the append-only triggers (which themselves refuse UPDATE and DELETE). Checked on SQLite and
PostgreSQL; the canonical JSON the hashes rest on is checked with Hypothesis.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from dosewise.errors import InvalidInput
from dosewise.store.session import Database
from dosewise.store.tables import AuditRecord, Participant
from dosewise.trial import audit
from dosewise.trial.audit import Actor, AuditQuery
from dosewise.trial.uow import UnitOfWork

INV1 = Actor(user_id=2, username="inv1", role="investigator", site_id="S01")
INV2 = Actor(user_id=3, username="inv2", role="investigator", site_id="S02")


def _acts(db: Database, n: int, actor: Actor = INV1) -> None:
    for i in range(n):
        with UnitOfWork(db, actor) as uow:
            uow.act("participant.register", site_id=actor.site_id)
            uow.add(
                Participant(
                    study_id=f"{actor.site_id}-{i:04d}",
                    site_id=actor.site_id or "S01",
                    status="registered",
                    registered_on=date(2026, 1, 5),
                    created_at=uow.now(),
                    created_by=actor.user_id,
                )
            )
            uow.commit()


def _verify(db: Database) -> audit.ChainReport:
    with UnitOfWork(db, INV1, readonly=True) as uow:
        return audit.verify_chain(uow.session)


def _tamper(db: Database, sql: str) -> None:
    """Run ``sql`` against audit_records with the append-only triggers switched off."""
    with db.engine.connect() as c:
        if db.is_sqlite:
            for name in ("audit_records_no_update", "audit_records_no_delete"):
                c.exec_driver_sql(f"DROP TRIGGER {name}")
        else:
            c.exec_driver_sql("ALTER TABLE audit_records DISABLE TRIGGER USER")
        c.exec_driver_sql(sql)
        c.commit()


def test_a_fresh_trail_verifies(db: Database) -> None:
    _acts(db, 5)
    report = _verify(db)
    assert report.ok and report.problem_count == 0
    assert report.records == report.last_seq > 5


def test_the_database_refuses_updates_and_deletes_of_audit_records(db: Database) -> None:
    _acts(db, 1)
    for sql in ("UPDATE audit_records SET reason = 'x'", "DELETE FROM audit_records"):
        with db.engine.connect() as c, pytest.raises(DBAPIError, match="append-only"):
            c.exec_driver_sql(sql)
    assert _verify(db).ok


def test_an_edited_record_is_detected(db: Database) -> None:
    _acts(db, 4)
    target = _verify(db).last_seq - 2
    _tamper(db, f"UPDATE audit_records SET username = 'someone' WHERE seq = {target}")
    report = _verify(db)
    assert not report.ok
    assert [(p.seq, p.kind) for p in report.problems] == [(target, "hash")]


def test_an_edit_that_recomputes_its_own_hash_breaks_the_next_link(db: Database) -> None:
    _acts(db, 4)
    target = _verify(db).last_seq - 1
    with UnitOfWork(db, INV1, readonly=True) as uow:
        row = uow.session.get(AuditRecord, target)
        assert row is not None
        fields = row.column_values()
    fields["reason"] = "backdated justification"
    forged = audit.record_hash(fields)
    _tamper(
        db,
        f"UPDATE audit_records SET reason = 'backdated justification', hash = '{forged}' "
        f"WHERE seq = {target}",
    )
    report = _verify(db)
    assert not report.ok
    assert (target + 1, "link") in [(p.seq, p.kind) for p in report.problems]


def test_a_deleted_record_is_detected(db: Database) -> None:
    _acts(db, 4)
    target = _verify(db).last_seq - 2
    _tamper(db, f"DELETE FROM audit_records WHERE seq = {target}")
    report = _verify(db)
    assert not report.ok
    kinds = {(p.seq, p.kind) for p in report.problems}
    assert {(target + 1, "gap"), (target + 1, "link")} <= kinds


def test_removing_the_newest_records_is_detected_by_the_head(db: Database) -> None:
    _acts(db, 3)
    last = _verify(db).last_seq
    _tamper(db, f"DELETE FROM audit_records WHERE seq >= {last - 1}")
    report = _verify(db)
    assert not report.ok
    assert [p.kind for p in report.problems] == ["head"]


def test_export_csv_and_json_and_the_export_is_itself_recorded(db: Database) -> None:
    _acts(db, 2)
    before = _verify(db).records
    buffer = io.StringIO()
    with UnitOfWork(db, Actor.system("exporter")) as uow:
        summary = audit.export(uow, "csv", buffer)
    rows = list(csv.DictReader(io.StringIO(buffer.getvalue())))
    assert len(rows) == summary.records == before
    assert list(rows[0]) == list(audit.EXPORT_COLUMNS)
    with UnitOfWork(db, INV1, readonly=True) as uow:
        (logged,) = audit.query(uow.session, AuditQuery(action="audit.export"))
    assert logged.seq == before + 1 and logged.username == "exporter"
    assert json.loads(logged.after or "{}")["records"] == before

    buffer = io.StringIO()
    with UnitOfWork(db, Actor.system("exporter")) as uow:
        audit.export(uow, "json", buffer)
    document = json.loads(buffer.getvalue())
    assert document["chain"]["ok"] is True
    # The JSON export can be re-verified on its own (no database needed).
    rows_back = audit.records_from_export(document)
    assert audit.check_chain(rows_back, None).ok
    rows_back[1]["after"] = rows_back[1]["after"].replace("S01", "S02")
    assert not audit.check_chain(rows_back, None).ok


def test_queries_are_scoped_by_site(db: Database) -> None:
    _acts(db, 2, INV1)
    _acts(db, 3, INV2)
    with UnitOfWork(db, INV1, readonly=True) as uow:
        s01 = audit.query(uow.session, AuditQuery(sites=frozenset({"S01"})))
        s02 = audit.query(uow.session, AuditQuery(sites=frozenset({"S02"}), limit=2))
        every = uow.session.scalar(select(func.count()).select_from(AuditRecord))
    assert {r.site_id for r in s01} == {"S01"} and len(s01) >= 2
    assert [r.site_id for r in s02] == ["S02", "S02"]
    assert every is not None and every > len(s01) + len(s02)


def test_a_changed_record_gets_a_reason_and_keeps_the_earlier_value(db: Database) -> None:
    """Annex 11 §9 / 11.10(e): a change records the old value, the new value and why."""
    _acts(db, 1)
    with UnitOfWork(db, INV1) as uow:
        p = uow.session.scalars(select(Participant)).one()
        uow.act("participant.update")
        p.year_of_birth = 1975
        uow.commit()
    with UnitOfWork(db, INV1) as uow:
        p = uow.session.scalars(select(Participant)).one()
        uow.act("participant.correct", reason="wrong year typed")
        p.year_of_birth = 1957
        uow.commit()
    with db.engine.connect() as c:
        last = c.execute(
            text("SELECT before, after, reason FROM audit_records ORDER BY seq DESC LIMIT 1")
        ).one()
    assert tuple(last) == ('{"year_of_birth":1975}', '{"year_of_birth":1957}', "wrong year typed")


# --------------------------------------------------------------------------- canonical JSON

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@given(st.dictionaries(st.text(max_size=8), json_values, max_size=6))
def test_canonical_json_ignores_key_order_and_round_trips(doc: dict[str, object]) -> None:
    text_ = audit.canonical_json(doc)
    reordered = dict(reversed(list(doc.items())))
    assert audit.canonical_json(reordered) == text_
    assert audit.canonical_json(json.loads(text_)) == text_


@given(st.sampled_from(audit.HASHED_FIELDS), st.text(min_size=1, max_size=10))
def test_changing_any_hashed_field_changes_the_hash(name: str, junk: str) -> None:
    row: dict[str, object] = {f: f"value-{f}" for f in audit.HASHED_FIELDS}
    original = audit.record_hash(row)
    row[name] = f"{row[name]}{junk}"
    assert audit.record_hash(row) != original


def test_times_are_recorded_in_utc_with_a_z() -> None:
    beijing = datetime(2026, 3, 1, 17, 30, tzinfo=timezone(timedelta(hours=8)))
    assert audit.iso_utc(beijing) == "2026-03-01T09:30:00.000000Z"
    with pytest.raises(InvalidInput):
        audit.iso_utc(datetime(2026, 3, 1))
    with pytest.raises(InvalidInput):
        audit.canonical_json({"x": float("nan")})
