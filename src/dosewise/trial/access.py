"""Who may do what, where: roles, the permission matrix, passwords, sessions and lock-out.

The permission matrix is data — action × role → scope — and every entry point (API, CLI, web)
asks :func:`authorize` before acting. Scope ``site`` confines site staff to their own site's
participants; ``all`` reaches every site. DSMB members and monitors only read (monitors, data
managers and the statistician raise data queries, which site staff answer); only the
statistician or an investigator may confirm a dose decision.

Passwords are Argon2id hashes (argon2-cffi; cost from the settings). Sessions are random tokens
of which only the SHA-256 is stored; they expire after ``session_minutes`` and after
``session_idle_minutes`` without use. ``lockout_threshold`` consecutive failures lock the account
(21 CFR 11.300(d): detect and report attempted misuse); every login, failure and lock-out is in
the audit trail, as ICH E6(R3) §4 asks for user access.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select

from dosewise.errors import DosewiseError, InvalidInput
from dosewise.settings import Settings
from dosewise.store.tables import LOCALES, ROLES, AuthSession, Site, User
from dosewise.trial import password_policy
from dosewise.trial.audit import Actor, iso_utc
from dosewise.trial.password_policy import HIDDEN
from dosewise.trial.refusals import CHOICES, refusal
from dosewise.trial.uow import DuplicateRecord, NotFound, UnitOfWork

#: A lock-out that lasts until an administrator unlocks the account.
LOCKED_FOREVER = datetime(9999, 12, 31, tzinfo=UTC)
#: How often a session's last use is written back (seconds).
TOUCH_EVERY_S = 60
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")


class Role(StrEnum):
    ADMIN = "admin"
    INVESTIGATOR = "investigator"
    COORDINATOR = "coordinator"
    STATISTICIAN = "statistician"
    DSMB = "dsmb"
    MONITOR = "monitor"
    DATA_MANAGER = "data_manager"


class Scope(StrEnum):
    ALL = "all"
    SITE = "site"


assert tuple(r.value for r in Role) == ROLES

#: Whether a role's users belong to a site: staff must, sponsor-level roles must not; a monitor
#: may (then sees that site only) or may not (sees every site).
SITE_RULE: dict[Role, str] = {
    Role.ADMIN: "none",
    Role.INVESTIGATOR: "required",
    Role.COORDINATOR: "required",
    Role.STATISTICIAN: "none",
    Role.DSMB: "none",
    Role.MONITOR: "optional",
    Role.DATA_MANAGER: "none",
}

#: Every action an entry point can ask about, and what it means.
ACTIONS: dict[str, str] = {k: v["en"] for k, v in CHOICES["action"].items()}

A, S = Scope.ALL, Scope.SITE
_admin, _inv, _coord, _stat, _dsmb, _mon, _dm = (
    Role.ADMIN,
    Role.INVESTIGATOR,
    Role.COORDINATOR,
    Role.STATISTICIAN,
    Role.DSMB,
    Role.MONITOR,
    Role.DATA_MANAGER,
)

#: The permission matrix: action → role → scope. A missing role means "not allowed".
PERMISSIONS: dict[str, dict[Role, Scope]] = {
    "site.read": {_admin: A, _inv: A, _coord: A, _stat: A, _dsmb: A, _mon: A, _dm: A},
    "user.read": {_admin: A},
    "user.manage": {_admin: A},
    "audit.read": {_admin: A, _inv: S, _mon: S, _dm: A},
    "audit.verify": {_admin: A, _mon: A},
    "audit.export": {_admin: A, _mon: S},
    "arm.read": {_inv: A, _coord: A, _stat: A, _dsmb: A, _mon: A, _dm: A},
    "participant.read": {_inv: S, _coord: S, _stat: A, _dsmb: A, _mon: S, _dm: A},
    "participant.write": {_inv: S, _coord: S},
    "dose.assign": {_inv: S, _coord: S},
    "dose.confirm": {_inv: S, _stat: A},
    "product.release": {_inv: S, _coord: S},
    "dlt.adjudicate": {_inv: S},
    "deviation.record": {_inv: S},
    "phase1.close": {_inv: A, _stat: A},
    "phase2.look": {_stat: A},
    "scenario.simulate": {_inv: A, _stat: A},
    # Every trial report holds every site's participants: a monitor of one site is refused
    # (reaches_every_site), investigators and coordinators have no report (issue 15).
    "report.read": {_stat: A, _dsmb: A, _mon: S},
    "query.read": {_inv: S, _coord: S, _stat: A, _mon: S, _dm: A},
    "query.raise": {_stat: A, _mon: S, _dm: A},
    "query.answer": {_inv: S, _coord: S},
}


class NotAuthenticated(DosewiseError):
    """No valid session: log in (again)."""

    http_status = 401
    code = "not_authenticated"


class Forbidden(DosewiseError):
    """The user's role or site does not allow this action."""

    http_status = 403
    code = "forbidden"


class AccountLocked(DosewiseError):
    """Too many failed attempts: the account is locked.

    No longer raised: a login to a locked account gets the same answer as a wrong password
    (:data:`LOGIN_REFUSED`), so that accounts cannot be told apart. Kept for the 423 code
    clients may know.
    """

    http_status = 423
    code = "account_locked"


class PasswordChangeRequired(DosewiseError):
    """The password was set by someone else: choose your own before doing anything else."""

    http_status = 403
    code = "password_change_required"


#: The one answer to a failed login, whatever the reason (unknown, wrong, locked, inactive).
LOGIN_REFUSED = "invalid username or password, or the account is locked or inactive"


# --------------------------------------------------------------------------- the matrix


def scope_of(role: str | None, action: str) -> Scope | None:
    """The scope ``role`` has for ``action`` (None: not allowed)."""
    if action not in PERMISSIONS:
        raise KeyError(f"unknown action {action!r}: add it to ACTIONS and PERMISSIONS")
    if role is None:
        return None
    try:
        return PERMISSIONS[action].get(Role(role))
    except ValueError:
        return None


def authorize(actor: Actor, action: str, site_id: str | None = None) -> Scope:
    """The actor's scope for ``action`` at ``site_id``; :class:`Forbidden` if not allowed."""
    scope = scope_of(actor.role, action)
    if scope is None:
        raise refusal(
            Forbidden, "action", action, "role_may_not", role=actor.role or "none", action=action
        )
    if (
        scope is Scope.SITE
        and site_id is not None
        and actor.site_id is not None
        and site_id != actor.site_id
    ):
        raise refusal(
            Forbidden, "site_id", site_id, "other_site", username=actor.username, site=actor.site_id
        )
    return scope


def visible_sites(actor: Actor, action: str) -> frozenset[str] | None:
    """The sites whose records ``actor`` may reach for ``action`` (None: every site)."""
    scope = authorize(actor, action)
    if scope is Scope.SITE and actor.site_id is not None:
        return frozenset({actor.site_id})
    return None


def reaches_every_site(actor: Actor, action: str) -> bool:
    """Whether ``actor`` may do ``action`` at every site (a user of one site may not, even where
    the role's scope is ``site``): what a report or export of every site's records asks."""
    try:
        scope = authorize(actor, action)
    except Forbidden:
        return False
    return scope is Scope.ALL or actor.site_id is None


def matrix() -> list[dict[str, Any]]:
    """The permission matrix as rows (for the docs, the API and the tests)."""
    return [
        {
            "action": action,
            "description": ACTIONS[action],
            **{role.value: (PERMISSIONS[action].get(role) or "-") for role in Role},
        }
        for action in ACTIONS
    ]


# --------------------------------------------------------------------------- passwords


class Passwords:
    """Argon2id hashing with the settings' cost."""

    def __init__(self, settings: Settings) -> None:
        self._hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
        )
        self._dummy = self._hasher.hash(secrets.token_hex(16))

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)

    def dummy_verify(self, password: str) -> None:
        """Spend the time a real check would, so unknown usernames cannot be told apart."""
        self.verify(self._dummy, password)


def generate_password() -> str:
    """A random 20-character password (about 120 bits), shown once."""
    return secrets.token_urlsafe(15)


def check_password(password: str, username: str, settings: Settings) -> None:
    """Refuse a password that breaks a rule of :mod:`dosewise.trial.password_policy`."""
    password_policy.check_password(password, username, settings.password_min_length)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- users


def _check_site(uow: UnitOfWork, role: Role, site_id: str | None) -> None:
    rule = SITE_RULE[role]
    if rule == "required" and not site_id:
        raise refusal(InvalidInput, "site_id", site_id, "site_required_for_role", role=role.value)
    if rule == "none" and site_id:
        raise refusal(InvalidInput, "site_id", site_id, "site_not_for_role", role=role.value)
    if site_id:
        site = uow.session.get(Site, site_id)
        if site is None:
            known = ", ".join(uow.session.scalars(select(Site.id).order_by(Site.id)))
            raise refusal(
                InvalidInput, "site_id", site_id, "no_such_site_known", known=known or "none"
            )


def _role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise refusal(
            InvalidInput, "role", value, "one_of", choices=list(ROLES), choice_of="role"
        ) from None


def _locale(value: str) -> str:
    if value not in LOCALES:
        raise InvalidInput("locale", value, f"must be one of {', '.join(LOCALES)}")
    return value


def find_user(uow: UnitOfWork, username: str) -> User:
    user = uow.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise refusal(NotFound, "username", username, "no_such_user")
    return user


def create_user(
    uow: UnitOfWork,
    passwords: Passwords,
    settings: Settings,
    *,
    username: str,
    full_name: str,
    role: str,
    site_id: str | None = None,
    password: str | None = None,
    one_time: bool = True,
) -> tuple[User, str | None]:
    """Create a user (one act, committed); the user and the generated password if none given.

    The password is someone else's choice (an administrator's, or generated and shown to
    them), so by default it is one-time: the user must choose their own at first sign-in.
    Only set-ups that hand out known accounts on purpose (the demo trial, test fixtures) pass
    ``one_time=False``.
    """
    username = username.strip().lower()
    if not USERNAME_PATTERN.match(username):
        raise refusal(InvalidInput, "username", username, "username_pattern")
    if not full_name.strip():
        raise refusal(InvalidInput, "full_name", full_name, "full_name_required")
    the_role = _role(role)
    site_id = site_id or None
    _check_site(uow, the_role, site_id)
    if uow.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise refusal(DuplicateRecord, "username", username, "already_exists")
    generated = None
    if password is None:
        password = generated = generate_password()
    check_password(password, username, settings)
    now = uow.now()
    uow.act("user.create", site_id=site_id)
    user = uow.add(
        User(
            username=username,
            full_name=full_name.strip(),
            role=the_role.value,
            site_id=site_id,
            password_hash=passwords.hash(password),
            active=True,
            failed_logins=0,
            password_changed_at=now,
            created_at=now,
            must_change_password=one_time,
        )
    )
    uow.commit()
    return user, generated


def update_user(
    uow: UnitOfWork,
    username: str,
    *,
    reason: str,
    role: str | None = None,
    site_id: str | None = None,
    clear_site: bool = False,
    full_name: str | None = None,
    active: bool | None = None,
    locale: str | None = None,
    clear_locale: bool = False,
) -> User:
    """Change a user's role, site, name, active flag or language (a reason is required);
    committed."""
    user = find_user(uow, username)
    new_locale = None if clear_locale else (_locale(locale) if locale else user.locale)
    new_role = _role(role) if role is not None else Role(user.role)
    new_site = None if clear_site else (site_id if site_id is not None else user.site_id)
    _check_site(uow, new_role, new_site)
    if user.id == uow.actor.user_id and (active is False or new_role is not Role(user.role)):
        raise InvalidInput("username", username, "you cannot demote or deactivate yourself")
    uow.act("user.update", reason=reason, site_id=new_site)
    user.role = new_role.value
    user.site_id = new_site
    if full_name is not None:
        user.full_name = full_name.strip()
    if active is not None:
        user.active = active
    user.locale = new_locale
    if active is False or role is not None or clear_site or site_id is not None:
        _end_sessions(uow, user.id)
    uow.commit()
    return user


def unlock_user(uow: UnitOfWork, username: str, *, reason: str) -> User:
    """Lift a lock-out and clear the failure count; committed."""
    user = find_user(uow, username)
    uow.act("user.unlock", reason=reason, site_id=user.site_id)
    user.failed_logins = 0
    user.locked_until = None
    uow.commit()
    return user


def reset_password(
    uow: UnitOfWork, passwords: Passwords, username: str, *, reason: str
) -> tuple[User, str]:
    """Give a user a new random one-time password (shown once) and end their sessions;
    committed. The user must replace it at next sign-in, so the administrator who saw it never
    holds a password the user goes on using."""
    user = find_user(uow, username)
    password = generate_password()
    uow.act("user.reset_password", reason=reason, site_id=user.site_id)
    user.password_hash = passwords.hash(password)
    user.must_change_password = True
    user.password_changed_at = uow.now()
    user.failed_logins = 0
    user.locked_until = None
    _end_sessions(uow, user.id)
    uow.commit()
    return user, password


def change_password(
    uow: UnitOfWork,
    passwords: Passwords,
    settings: Settings,
    user_id: int,
    *,
    current: str,
    new: str,
    keep_session: int | None = None,
) -> User:
    """A user changes their own password (the current one is re-entered); committed.

    Every other session of the user ends (a stolen session does not outlive the change); the
    session ``keep_session`` (the one making the change) goes on. A one-time password is then
    replaced, so the user may act again.
    """
    user = uow.get(User, user_id)
    if not passwords.verify(user.password_hash, current):
        register_failure(uow, settings, user, "auth.password_change_failed")
        uow.commit()
        raise NotAuthenticated("current_password", HIDDEN, "is not your current password")
    check_password(new, user.username, settings)
    if passwords.verify(user.password_hash, new):
        raise InvalidInput("new_password", HIDDEN, "must differ from the current password")
    uow.act("user.change_password", site_id=user.site_id)
    user.password_hash = passwords.hash(new)
    user.password_changed_at = uow.now()
    user.must_change_password = False
    _end_sessions(uow, user.id, keep=keep_session)
    uow.commit()
    return user


def set_own_locale(uow: UnitOfWork, locale: str | None) -> User:
    """The acting user chooses their interface language (None: not chosen); committed.

    Needs no permission of the matrix, like changing one's own password: it can only reach the
    actor's own account, and is audited as ``user.set_locale`` (no reason: a preference, not a
    correction of entered data).
    """
    if uow.actor.user_id is None:
        raise NotAuthenticated("user", uow.actor.username, "only a signed-in user has a language")
    chosen = None if locale is None else _locale(locale)
    user = uow.get(User, uow.actor.user_id)
    if user.locale != chosen:  # choosing the current language again records nothing
        uow.act("user.set_locale", site_id=user.site_id)
        user.locale = chosen
    uow.commit()
    return user


def _end_sessions(uow: UnitOfWork, user_id: int, *, keep: int | None = None) -> None:
    """End every live session of the user (but ``keep``)."""
    now = uow.now()
    for s in uow.session.scalars(
        select(AuthSession).where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
    ):
        if s.id != keep:
            s.revoked_at = now


# --------------------------------------------------------------------------- lock-out


def is_locked(user: User, now: datetime) -> bool:
    return user.locked_until is not None and now < user.locked_until


def register_failure(uow: UnitOfWork, settings: Settings, user: User, action: str) -> bool:
    """Count a failed password for ``user`` (login or signature); True if it locked the account.

    Leaves the changes in ``uow`` for the caller to commit.
    """
    now = uow.now()
    uow.act(action, site_id=user.site_id)
    if user.locked_until is not None and not is_locked(user, now):
        user.locked_until = None
        user.failed_logins = 0
    user.failed_logins = (user.failed_logins or 0) + 1
    uow.event(action, "users", user.id, after={"failed_logins": user.failed_logins})
    if user.failed_logins >= settings.lockout_threshold and not is_locked(user, now):
        minutes = settings.lockout_minutes
        user.locked_until = now + timedelta(minutes=minutes) if minutes else LOCKED_FOREVER
        uow.event(
            "auth.account_locked",
            "users",
            user.id,
            after={"locked_until": iso_utc(user.locked_until), "failed": user.failed_logins},
        )
        _end_sessions(uow, user.id)
        return True
    return False


# --------------------------------------------------------------------------- sessions


@dataclass(frozen=True)
class Login:
    """A new session: the token (shown once) and its expiry."""

    token: str
    user: User
    expires_at: datetime


def login(
    uow: UnitOfWork,
    passwords: Passwords,
    settings: Settings,
    username: str,
    password: str,
    *,
    client: str | None = None,
) -> Login:
    """Check the password and open a session; failures are audited and count towards lock-out.

    Commits in every case (a failure's count must survive), then raises on failure.
    """
    name = username.strip().lower()
    now = uow.now()
    uow.act("auth.login")
    user = uow.session.scalar(select(User).where(User.username == name))
    invalid = NotAuthenticated("credentials", None, LOGIN_REFUSED)
    if user is None:
        passwords.dummy_verify(password)
        uow.event("auth.login_failed", "users", None, after={"username": name[:64]})
        uow.commit()
        raise invalid
    if is_locked(user, now):  # the same answer, after the same work, as a wrong password
        passwords.dummy_verify(password)
        uow.event("auth.login_refused", "users", user.id, after={"why": "locked"})
        uow.commit()
        raise invalid
    if not passwords.verify(user.password_hash, password):
        register_failure(uow, settings, user, "auth.login_failed")
        uow.commit()
        raise invalid
    if not user.active:
        uow.event("auth.login_refused", "users", user.id, after={"why": "inactive"})
        uow.commit()
        raise invalid
    uow.act("auth.login", site_id=user.site_id)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash(password)
    token = secrets.token_urlsafe(32)
    expires = now + timedelta(minutes=settings.session_minutes)
    uow.add(
        AuthSession(
            token_hash=token_digest(token),
            user_id=user.id,
            created_at=now,
            expires_at=expires,
            last_seen_at=now,
            client=(client or "")[:200] or None,
        )
    )
    uow.event("auth.login", "users", user.id, after={"session_expires_at": iso_utc(expires)})
    uow.commit()
    return Login(token=token, user=user, expires_at=expires)


class _PasswordFlag(Protocol):
    @property
    def must_change_password(self) -> bool: ...


def require_own_password(user: _PasswordFlag) -> None:
    """:class:`PasswordChangeRequired` if ``user`` (a :class:`User`, or a remembered session's
    copy of its flag) still has a password someone else set."""
    if user.must_change_password:
        raise PasswordChangeRequired(
            "password",
            None,
            "your password was set by an administrator: choose your own "
            "(POST /api/v1/auth/password, or the Change password page) before anything else",
        )


@dataclass(frozen=True)
class SessionInfo:
    """A live session and its user."""

    session_id: int
    user: User
    actor: Actor
    expires_at: datetime
    needs_touch: bool
    #: The session's last recorded use (written back every :data:`TOUCH_EVERY_S` seconds).
    last_seen_at: datetime


def resolve(uow: UnitOfWork, settings: Settings, token: str) -> SessionInfo:
    """The live session for ``token``; :class:`NotAuthenticated` if unknown, ended or expired."""
    row = uow.session.execute(
        select(AuthSession, User)
        .join(User, User.id == AuthSession.user_id)
        .where(AuthSession.token_hash == token_digest(token))
    ).one_or_none()
    if row is None or row[0].revoked_at is not None:
        raise NotAuthenticated("token", None, "unknown or ended session: log in")
    session, user = row
    now = uow.now()
    if now >= session.expires_at:
        raise NotAuthenticated("token", None, "session expired: log in again")
    idle = timedelta(minutes=settings.session_idle_minutes)
    if now - session.last_seen_at > idle:
        raise NotAuthenticated(
            "token",
            None,
            f"session expired after {settings.session_idle_minutes} minutes unused: log in again",
        )
    if not user.active or is_locked(user, now):
        raise NotAuthenticated("token", None, "the account is inactive or locked")
    touch = (now - session.last_seen_at).total_seconds() >= TOUCH_EVERY_S
    return SessionInfo(
        session.id, user, Actor.of(user), session.expires_at, touch, session.last_seen_at
    )


def touch(uow: UnitOfWork, session_id: int) -> None:
    """Record a session's use (sessions are not audited row by row); committed."""
    session = uow.get(AuthSession, session_id)
    session.last_seen_at = uow.now()
    uow.commit()


def logout(uow: UnitOfWork, session_id: int) -> None:
    """End a session; committed and audited."""
    session = uow.get(AuthSession, session_id)
    user = uow.get(User, session.user_id)
    uow.act("auth.logout", site_id=user.site_id)
    session.revoked_at = uow.now()
    uow.event("auth.logout", "users", user.id)
    uow.commit()
