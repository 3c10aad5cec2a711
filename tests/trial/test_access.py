"""Access control: the permission matrix, site scoping, passwords, lock-out and session expiry.

The rules are the issue's (item 4): site staff see and change only their own site; DSMB and
monitors only read; only the statistician or an investigator confirms a dose decision; Argon2
hashes; sessions that expire; lock-out after repeated failures (21 CFR 11.300(d)).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from dosewise.errors import InvalidInput
from dosewise.settings import Settings
from dosewise.store.session import Database
from dosewise.store.tables import AuditRecord, User
from dosewise.trial import access
from dosewise.trial.access import (
    ACTIONS,
    PERMISSIONS,
    Forbidden,
    NotAuthenticated,
    Passwords,
    Role,
    Scope,
    authorize,
    visible_sites,
)
from dosewise.trial.audit import Actor, ReasonRequired
from dosewise.trial.uow import DuplicateRecord, UnitOfWork
from pg import PASSWORD, FakeClock

ADMIN = Actor(user_id=1, username="admin1", role="admin")
WRITE_ACTIONS = {
    "user.manage",
    "participant.write",
    "dose.assign",
    "dose.confirm",
    "product.release",
    "dlt.adjudicate",
    "deviation.record",
    "phase1.close",
    "phase2.look",
}


def actor(role: str, site: str | None = None) -> Actor:
    return Actor(user_id=99, username=f"{role}-{site}", role=role, site_id=site)


# --------------------------------------------------------------------------- the matrix


def test_every_action_has_a_row_and_every_row_an_action() -> None:
    assert set(PERMISSIONS) == set(ACTIONS)


def test_dsmb_and_monitors_never_write() -> None:
    for action in WRITE_ACTIONS:
        assert Role.DSMB not in PERMISSIONS[action], action
        assert Role.MONITOR not in PERMISSIONS[action], action


def test_only_the_statistician_or_an_investigator_confirms_a_dose() -> None:
    assert set(PERMISSIONS["dose.confirm"]) == {Role.STATISTICIAN, Role.INVESTIGATOR}
    for role in ("coordinator", "dsmb", "monitor", "admin"):
        with pytest.raises(Forbidden):
            authorize(actor(role, "S01" if role == "coordinator" else None), "dose.confirm")


def test_site_staff_act_only_at_their_own_site() -> None:
    inv1 = actor("investigator", "S01")
    assert authorize(inv1, "participant.write", "S01") is Scope.SITE
    with pytest.raises(Forbidden) as info:
        authorize(inv1, "participant.write", "S02")
    assert info.value.field == "site_id" and "S01 only" in str(info.value)
    assert visible_sites(inv1, "participant.read") == frozenset({"S01"})


def test_sponsor_roles_and_unassigned_monitors_see_every_site() -> None:
    assert visible_sites(actor("statistician"), "participant.read") is None
    assert visible_sites(actor("dsmb"), "participant.read") is None
    assert visible_sites(actor("monitor"), "participant.read") is None
    assert visible_sites(actor("monitor", "S02"), "participant.read") == frozenset({"S02"})


def test_administrators_manage_users_but_see_no_clinical_data() -> None:
    assert authorize(ADMIN, "user.manage") is Scope.ALL
    for action in ("participant.read", "participant.write", "dose.assign", "arm.read"):
        with pytest.raises(Forbidden):
            authorize(ADMIN, action)


def test_an_unknown_action_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        authorize(ADMIN, "participant.eat")


def test_the_matrix_is_published_as_rows() -> None:
    rows = {r["action"]: r for r in access.matrix()}
    assert rows["dose.confirm"]["statistician"] == "all"
    assert rows["dose.confirm"]["investigator"] == "site"
    assert rows["dose.confirm"]["coordinator"] == "-"


# --------------------------------------------------------------------------- users


def _create(db: Database, settings: Settings, passwords: Passwords, **kw: object) -> User:
    with UnitOfWork(db, ADMIN) as uow:
        user, _ = access.create_user(uow, passwords, settings, **kw)  # type: ignore[arg-type]
    return user


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"role": "investigator", "site_id": None}, "site_id"),
        ({"role": "coordinator", "site_id": "S99"}, "site_id"),
        ({"role": "statistician", "site_id": "S01"}, "site_id"),
        ({"role": "nurse", "site_id": None}, "role"),
        ({"role": "dsmb", "site_id": None, "username": "X Y"}, "username"),
        ({"role": "dsmb", "site_id": None, "password": "short"}, "password"),
        ({"role": "dsmb", "site_id": None, "password": "newuser12345"}, "password"),
    ],
)
def test_user_creation_checks_role_site_name_and_password(
    db: Database, settings: Settings, passwords: Passwords, kw: dict[str, object], field: str
) -> None:
    args: dict[str, object] = {"username": "newuser12345", "full_name": "New User", **kw}
    with pytest.raises(InvalidInput) as info:
        _create(db, settings, passwords, **args)
    assert info.value.field == field
    if field == "password":
        assert "short" not in str(info.value) and "newuser12345" not in str(info.value)


def test_created_users_get_argon2_hashes_and_a_generated_password(
    db: Database, settings: Settings, passwords: Passwords
) -> None:
    with UnitOfWork(db, ADMIN) as uow:
        user, generated = access.create_user(
            uow, passwords, settings, username="Mon.Two", full_name="M Two", role="monitor"
        )
    assert user.username == "mon.two"
    assert generated is not None and len(generated) >= 20
    assert user.password_hash.startswith("$argon2id$")
    assert passwords.verify(user.password_hash, generated)
    with pytest.raises(DuplicateRecord):
        _create(db, settings, passwords, username="mon.two", full_name="x", role="monitor")
    with db.engine.connect() as c:
        after = c.execute(
            select(AuditRecord.after).where(
                AuditRecord.action == "user.create", AuditRecord.entity_id == str(user.id)
            )
        ).scalar_one()
    assert '"password_hash":"[redacted]"' in after and "argon2" not in after


def test_role_changes_need_a_reason_are_audited_and_end_sessions(
    db: Database, settings: Settings, passwords: Passwords, clock: FakeClock
) -> None:
    with UnitOfWork(db, Actor.system(), clock=clock) as uow:
        token = access.login(uow, passwords, settings, "coord1", PASSWORD).token
    with pytest.raises(ReasonRequired), UnitOfWork(db, ADMIN, clock=clock) as uow:
        access.update_user(uow, "coord1", reason="", role="investigator")
    with UnitOfWork(db, ADMIN, clock=clock) as uow:
        changed = access.update_user(
            uow, "coord1", reason="now sub-investigator", role="investigator"
        )
    assert changed.role == "investigator"
    with db.engine.connect() as c:
        record = c.execute(select(AuditRecord).where(AuditRecord.action == "user.update")).one()
    assert (record.before, record.after, record.reason) == (
        '{"role":"coordinator"}',
        '{"role":"investigator"}',
        "now sub-investigator",
    )
    with pytest.raises(NotAuthenticated), UnitOfWork(db, Actor.system(), clock=clock) as uow:
        access.resolve(uow, settings, token)


def test_admins_cannot_lock_themselves_out_of_administration(db: Database) -> None:
    with pytest.raises(InvalidInput, match="yourself"), UnitOfWork(db, ADMIN) as uow:
        access.update_user(uow, "admin1", reason="oops", active=False)


# --------------------------------------------------------------------------- login, lock-out


def _login(db: Database, settings: Settings, passwords: Passwords, clock: FakeClock, pw: str):  # type: ignore[no-untyped-def]
    with UnitOfWork(db, Actor.system("anonymous"), clock=clock) as uow:
        return access.login(uow, passwords, settings, "inv1", pw)


def test_lock_out_after_repeated_failures_then_it_expires(
    db: Database, settings: Settings, passwords: Passwords, clock: FakeClock
) -> None:
    settings = settings.replace(lockout_threshold=3, lockout_minutes=15)
    answers = []
    for _ in range(3):  # the third failure locks, with the same answer as the first two
        with pytest.raises(NotAuthenticated) as failed:
            _login(db, settings, passwords, clock, "wrong password")
        answers.append(str(failed.value))
    with db.sessions() as s:
        locked_until = s.scalars(select(User.locked_until).where(User.username == "inv1")).one()
    assert locked_until is not None
    with pytest.raises(NotAuthenticated) as refused:  # even the right password, while locked
        _login(db, settings, passwords, clock, PASSWORD)
    with (
        pytest.raises(NotAuthenticated) as unknown,
        UnitOfWork(db, Actor.system("anonymous"), clock=clock) as uow,
    ):
        access.login(uow, passwords, settings, "nobody.here", PASSWORD)
    # Locked, wrong and unknown cannot be told apart (issue 15: 423 against 401 before).
    assert {*answers, str(refused.value), str(unknown.value)} == {answers[0]}
    clock.advance(minutes=16)
    assert _login(db, settings, passwords, clock, PASSWORD).user.failed_logins == 0
    with db.engine.connect() as c:
        actions = list(
            c.execute(select(AuditRecord.action).where(AuditRecord.operation == "event")).scalars()
        )
    assert actions.count("auth.login_failed") == 4  # three for inv1, one for the unknown name
    assert "auth.account_locked" in actions and "auth.login_refused" in actions


def test_a_lock_without_duration_waits_for_an_administrator(
    db: Database, settings: Settings, passwords: Passwords, clock: FakeClock
) -> None:
    settings = settings.replace(lockout_threshold=2, lockout_minutes=0)
    for _ in range(2):
        with pytest.raises(NotAuthenticated):
            _login(db, settings, passwords, clock, "nope")
    clock.advance(days=365)
    with pytest.raises(NotAuthenticated, match="locked"):
        _login(db, settings, passwords, clock, PASSWORD)
    with UnitOfWork(db, ADMIN, clock=clock) as uow:
        access.unlock_user(uow, "inv1", reason="identity confirmed by phone")
    assert _login(db, settings, passwords, clock, PASSWORD).user.username == "inv1"


def test_unknown_users_get_the_same_answer_and_are_audited(
    db: Database, settings: Settings, passwords: Passwords, clock: FakeClock
) -> None:
    with pytest.raises(NotAuthenticated) as unknown, UnitOfWork(db, Actor.system()) as uow:
        access.login(uow, passwords, settings, "ghost", "whatever")
    with pytest.raises(NotAuthenticated) as wrong:
        _login(db, settings, passwords, clock, "whatever")
    assert str(unknown.value) == str(wrong.value)
    with db.engine.connect() as c:
        after = c.execute(
            select(AuditRecord.after).where(
                AuditRecord.action == "auth.login_failed", AuditRecord.entity_id.is_(None)
            )
        ).scalar_one()
    assert after == '{"username":"ghost"}'


# --------------------------------------------------------------------------- sessions


def test_sessions_expire_when_idle_and_at_their_end(
    db: Database, settings: Settings, passwords: Passwords, clock: FakeClock
) -> None:
    settings = settings.replace(session_minutes=60, session_idle_minutes=20)
    token = _login(db, settings, passwords, clock, PASSWORD).token

    def resolve() -> access.SessionInfo:
        with UnitOfWork(db, Actor.system(), clock=clock, readonly=True) as uow:
            info = access.resolve(uow, settings, token)
        if info.needs_touch:
            with UnitOfWork(db, info.actor, clock=clock) as uow:
                access.touch(uow, info.session_id)
        return info

    assert resolve().actor.username == "inv1"
    for _ in range(3):  # used every 19 minutes: stays alive ...
        clock.advance(minutes=19)
        resolve()
    clock.advance(minutes=4)  # ... until its absolute end (60 minutes)
    with pytest.raises(NotAuthenticated, match="expired"):
        resolve()

    token = _login(db, settings, passwords, clock, PASSWORD).token
    clock.advance(minutes=21)
    with pytest.raises(NotAuthenticated, match="unused"):
        resolve()


def test_logout_ends_the_session_and_unknown_tokens_are_refused(
    db: Database, settings: Settings, passwords: Passwords, clock: FakeClock
) -> None:
    login = _login(db, settings, passwords, clock, PASSWORD)
    with UnitOfWork(db, Actor.system(), clock=clock, readonly=True) as uow:
        info = access.resolve(uow, settings, login.token)
    with UnitOfWork(db, info.actor, clock=clock) as uow:
        access.logout(uow, info.session_id)
    for token in (login.token, "not-a-token"):
        with (
            pytest.raises(NotAuthenticated),
            UnitOfWork(db, Actor.system(), clock=clock, readonly=True) as uow,
        ):
            access.resolve(uow, settings, token)


def test_only_a_digest_of_the_token_is_stored(
    db: Database, settings: Settings, passwords: Passwords, clock: FakeClock
) -> None:
    token = _login(db, settings, passwords, clock, PASSWORD).token
    with db.engine.connect() as c:
        stored = c.exec_driver_sql("SELECT token_hash FROM auth_sessions").scalars().all()
        trail = " ".join(
            str(v) for row in c.exec_driver_sql("SELECT * FROM audit_records") for v in row
        )
    assert token not in stored and access.token_digest(token) in stored
    assert token not in trail


def test_data_queries_are_raised_by_reviewers_and_answered_by_the_site() -> None:
    """Monitors, data managers and the statistician raise queries; site staff answer them at
    their own site; a data manager works across sites and enters no clinical data."""
    assert set(PERMISSIONS["query.raise"]) == {Role.MONITOR, Role.DATA_MANAGER, Role.STATISTICIAN}
    assert set(PERMISSIONS["query.answer"]) == {Role.INVESTIGATOR, Role.COORDINATOR}
    with pytest.raises(Forbidden):
        authorize(actor("coordinator", "S01"), "query.answer", "S02")
    with pytest.raises(Forbidden):
        authorize(actor("monitor", "S01"), "query.raise", "S02")
    dm = actor("data_manager")
    assert visible_sites(dm, "query.read") is None
    for action in WRITE_ACTIONS:
        assert Role.DATA_MANAGER not in PERMISSIONS[action], action
    assert access.SITE_RULE[Role.DATA_MANAGER] == "none"
