"""Part 11 electronic signatures: name, time, meaning (§11.50), bound to what was signed (§11.70),
password re-entered (§11.200(a)); a wrong password counts towards lock-out."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from dosewise.errors import InvalidInput
from dosewise.settings import Settings
from dosewise.store.session import Database
from dosewise.store.tables import AuditRecord, ESignature, User
from dosewise.trial import esign
from dosewise.trial.access import Passwords
from dosewise.trial.audit import Actor
from dosewise.trial.esign import SignatureRejected
from dosewise.trial.uow import UnitOfWork
from pg import PASSWORD, FakeClock

STAT = Actor(user_id=6, username="stat", role="statistician")
DECISION = {"arm": "autologous", "cohort": 2, "next_dose": 3, "reason": "escalate", "n": [3, 3]}


def _sign(
    db: Database,
    settings: Settings,
    passwords: Passwords,
    clock: FakeClock,
    password: str = PASSWORD,
    content: dict[str, object] | None = None,
) -> ESignature:
    with UnitOfWork(db, STAT, clock=clock) as uow:
        user = uow.get(User, STAT.user_id)
        uow.act("dose.confirm")
        sig = esign.sign(
            uow,
            passwords,
            settings,
            user,
            password,
            meaning="approval",
            entity="dose_assignments",
            entity_id=17,
            content=content if content is not None else DECISION,
        )
        uow.commit()
    return sig


def test_a_signature_shows_name_time_and_meaning(
    db: Database, settings: Settings, passwords: Passwords, clock: FakeClock
) -> None:
    sig = _sign(db, settings, passwords, clock)
    shown = esign.manifestation(sig)
    assert shown["printed_name"] == "Test stat"
    assert shown["signed_at"] == "2026-01-05T09:00:00.000000Z"
    assert shown["meaning"] == "approval"
    assert "Test stat" in shown["text"] and "(UTC)" in shown["text"] and "approve" in shown["text"]


def test_a_signature_binds_to_its_content(
    db: Database, settings: Settings, passwords: Passwords, clock: FakeClock
) -> None:
    sig = _sign(db, settings, passwords, clock)
    assert esign.verify(sig, DECISION).ok
    assert esign.verify(sig, dict(reversed(list(DECISION.items())))).ok  # key order is not content
    changed = {**DECISION, "next_dose": 2}
    check = esign.verify(sig, changed)
    assert not check.ok and "differs from what was signed" in check.problems[0]


def test_editing_a_stored_signature_is_detected(
    db: Database, settings: Settings, passwords: Passwords, clock: FakeClock
) -> None:
    sig = _sign(db, settings, passwords, clock)
    moved = ESignature(**{**sig.column_values(), "entity_id": "18"})
    assert not esign.verify(moved).ok  # cut and pasted onto another record (§11.70)
    renamed = ESignature(**{**sig.column_values(), "printed_name": "Someone Else"})
    assert not esign.verify(renamed).ok
    swapped = ESignature(**{**sig.column_values(), "content": '{"next_dose":1}'})
    assert not esign.verify(swapped).ok


def test_signatures_are_append_only_in_the_database(
    db: Database, settings: Settings, passwords: Passwords, clock: FakeClock
) -> None:
    _sign(db, settings, passwords, clock)
    for sql in ("UPDATE e_signatures SET meaning = 'review'", "DELETE FROM e_signatures"):
        with db.engine.connect() as c, pytest.raises(DBAPIError, match="append-only"):
            c.exec_driver_sql(sql)


def test_signing_requires_the_signers_own_password(
    db: Database, settings: Settings, passwords: Passwords, clock: FakeClock
) -> None:
    with pytest.raises(SignatureRejected) as info:
        _sign(db, settings, passwords, clock, password="not my password")
    assert info.value.field == "password" and "not my password" not in str(info.value)
    with pytest.raises(SignatureRejected):
        _sign(db, settings, passwords, clock, password="")
    with UnitOfWork(db, STAT, readonly=True) as uow:
        assert uow.session.scalars(select(ESignature)).all() == []
        user = uow.get(User, STAT.user_id)
        failed = list(
            uow.session.scalars(
                select(AuditRecord.action).where(AuditRecord.action == "esign.password_failed")
            )
        )
    # The act was abandoned, but the failed re-entries were counted and audited.
    assert user.failed_logins == 2
    assert len(failed) == 4  # one event and one counter update per failure


def test_repeated_wrong_passwords_lock_the_account_and_block_signing(
    db: Database, settings: Settings, passwords: Passwords, clock: FakeClock
) -> None:
    settings = settings.replace(lockout_threshold=2)
    for _ in range(2):
        with pytest.raises(SignatureRejected):
            _sign(db, settings, passwords, clock, password="guess")
    with pytest.raises(SignatureRejected, match="cannot sign"):
        _sign(db, settings, passwords, clock)


def test_meanings_are_those_of_part_11(
    db: Database, settings: Settings, passwords: Passwords, clock: FakeClock
) -> None:
    with UnitOfWork(db, STAT, clock=clock) as uow:
        user = uow.get(User, STAT.user_id)
        uow.act("dose.confirm")
        with pytest.raises(InvalidInput, match="authorship, review, approval, responsibility"):
            esign.sign(
                uow,
                passwords,
                settings,
                user,
                PASSWORD,
                meaning="looks fine",
                entity="x",
                entity_id=1,
                content={},
            )


def test_the_signature_is_audited_with_the_act(
    db: Database, settings: Settings, passwords: Passwords, clock: FakeClock
) -> None:
    sig = _sign(db, settings, passwords, clock)
    with UnitOfWork(db, STAT, readonly=True) as uow:
        record = uow.session.scalars(
            select(AuditRecord).where(
                AuditRecord.entity == "e_signatures", AuditRecord.entity_id == str(sig.id)
            )
        ).one()
    assert record.action == "dose.confirm" and record.username == "stat"
    assert sig.content_sha256 in (record.after or "")
