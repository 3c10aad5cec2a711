"""A password someone else set is one-time (issue 15 items 5-6).

An administrator's reset, a password an administrator chose and the first administrator's
printed one all oblige the user to choose their own before anything else; choosing it clears the
obligation and ends the user's other sessions (the session that changed it goes on).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from dosewise.settings import Settings
from dosewise.store import migrate
from dosewise.store.session import Database, open_database
from dosewise.store.tables import AuthSession, User
from dosewise.trial import access, bootstrap
from dosewise.trial.access import NotAuthenticated, PasswordChangeRequired, Passwords
from dosewise.trial.audit import Actor
from dosewise.trial.uow import UnitOfWork
from pg import PASSWORD, FakeClock, make_settings

ADMIN = Actor(user_id=1, username="admin1", role="admin")
NEW = "Tq7-vLm2#pWx9 mine"


def _login(
    db: Database, settings: Settings, passwords: Passwords, user: str, pw: str
) -> access.Login:
    with UnitOfWork(db, Actor.system("anonymous")) as uow:
        return access.login(uow, passwords, settings, user, pw)


def _must_change(db: Database, username: str) -> bool:
    with db.sessions() as s:
        return bool(
            s.scalars(select(User.must_change_password).where(User.username == username)).one()
        )


def test_a_reset_password_is_one_time_until_the_user_chooses_their_own(
    db: Database, settings: Settings, passwords: Passwords
) -> None:
    assert not _must_change(db, "inv1")
    with UnitOfWork(db, ADMIN) as uow:
        _user, issued = access.reset_password(uow, passwords, "inv1", reason="forgotten")
    assert _must_change(db, "inv1")
    login = _login(db, settings, passwords, "inv1", issued)
    assert login.user.must_change_password
    with pytest.raises(PasswordChangeRequired) as info:
        access.require_own_password(login.user)
    assert info.value.http_status == 403 and info.value.code == "password_change_required"
    with UnitOfWork(db, Actor.system()) as uow:
        session = access.resolve(uow, settings, login.token)
        access.change_password(
            uow,
            passwords,
            settings,
            session.user.id,
            current=issued,
            new=NEW,
            keep_session=session.session_id,
        )
    assert not _must_change(db, "inv1")
    with pytest.raises(NotAuthenticated):  # the administrator's copy no longer works
        _login(db, settings, passwords, "inv1", issued)


def test_users_an_administrator_creates_must_choose_their_own_password(
    db: Database, settings: Settings, passwords: Passwords
) -> None:
    with UnitOfWork(db, ADMIN) as uow:
        chosen, _ = access.create_user(
            uow,
            passwords,
            settings,
            username="mon.chosen",
            full_name="M C",
            role="monitor",
            password="Given-by-the-admin-77",
        )
    with UnitOfWork(db, ADMIN) as uow:
        generated, _ = access.create_user(
            uow, passwords, settings, username="mon.generated", full_name="M G", role="monitor"
        )
    assert chosen.must_change_password and generated.must_change_password


def test_the_first_administrators_printed_password_is_one_time(
    empty_db_url: str, passwords: Passwords
) -> None:
    settings = make_settings(empty_db_url)
    db = open_database(settings)
    try:
        migrate.upgrade(db.engine)
        with UnitOfWork(db, Actor.system("serve")) as uow:
            bootstrap.ensure_reference_data(uow, bootstrap.protocol_for(settings))
        with UnitOfWork(db, Actor.system("serve")) as uow:
            created = bootstrap.ensure_first_admin(uow, passwords, settings)
        assert created is not None
        assert _must_change(db, created[0])
    finally:
        db.dispose()


def test_changing_a_password_ends_the_users_other_sessions(
    db: Database, settings: Settings, passwords: Passwords, clock: FakeClock
) -> None:
    first = _login(db, settings, passwords, "coord1", PASSWORD)
    second = _login(db, settings, passwords, "coord1", PASSWORD)
    with UnitOfWork(db, Actor.system()) as uow:
        here = access.resolve(uow, settings, second.token)
        access.change_password(
            uow,
            passwords,
            settings,
            here.user.id,
            current=PASSWORD,
            new=NEW,
            keep_session=here.session_id,
        )
    with UnitOfWork(db, Actor.system(), readonly=True) as uow:
        assert access.resolve(uow, settings, second.token).user.username == "coord1"
        with pytest.raises(NotAuthenticated):
            access.resolve(uow, settings, first.token)
    with db.sessions() as s:
        live = s.scalars(select(AuthSession).where(AuthSession.revoked_at.is_(None))).all()
    assert [x.id for x in live] == [here.session_id]
