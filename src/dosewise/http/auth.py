"""Authentication over HTTP: bearer token or session cookie → :class:`CurrentUser`.

Routes depend on ``require("action")`` (role allowed at all, from the permission matrix) and
check the site of the record they touch with :func:`dosewise.trial.access.authorize`. Cookie
sessions (browsers) must echo the login's ``csrf_token`` in ``X-CSRF-Token`` on every request
that is not GET/HEAD/OPTIONS; bearer tokens need not. A user whose password an administrator
set (or reset) may only change it, read their account and sign out until they have chosen their
own (403 ``password_change_required``).

The API's routes use these dependencies; the web pages use :class:`Runtime`, :data:`COOKIE` and
the cookie helpers with their own form-based CSRF (:mod:`dosewise.web.session`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from fastapi import Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from dosewise.http.csrf import CSRF_HEADER, check_header
from dosewise.http.language import header_language
from dosewise.settings import Settings
from dosewise.store.session import Database
from dosewise.trial import access
from dosewise.trial.access import NotAuthenticated, Passwords
from dosewise.trial.audit import Actor
from dosewise.trial.session_cache import session_cache
from dosewise.trial.uow import Clock, UnitOfWork

COOKIE = "dosewise_session"
#: What a user whose password someone else set may still do: change it, read who they are,
#: sign out. Everything else answers 403 ``password_change_required``.
BEFORE_OWN_PASSWORD = frozenset(
    {
        ("POST", "/api/v1/auth/password"),
        ("POST", "/api/v1/auth/logout"),
        ("GET", "/api/v1/auth/me"),
        ("GET", "/api/v1/users/me"),
    }
)

bearer_scheme = HTTPBearer(
    auto_error=False,
    description="The access_token from POST /api/v1/auth/login",
)


@dataclass(frozen=True)
class Runtime:
    """What every request needs: settings, database, clock, password hasher."""

    settings: Settings
    db: Database
    clock: Clock
    passwords: Passwords

    def uow(
        self,
        actor: Actor,
        *,
        readonly: bool = False,
        context: dict[str, Any] | None = None,
        statements: bool = False,
    ) -> UnitOfWork:
        return UnitOfWork(
            self.db,
            actor,
            clock=self.clock,
            readonly=readonly,
            context=context,
            statements=statements,
        )


async def runtime(request: Request) -> Runtime:
    """The app's :class:`Runtime` (set by :func:`dosewise.server.create_app`); async, as it
    only reads memory: FastAPI runs a plain ``def`` dependency in its thread pool, a hop that
    costs more than the lookup."""
    rt: Runtime = request.app.state.runtime
    return rt


def request_context(request: Request) -> dict[str, Any]:
    """Where a request came from, stored with its audit records."""
    client = request.client.host if request.client else None
    return {"via": "api", "client": client, "method": request.method, "path": request.url.path}


@dataclass(frozen=True)
class CurrentUser:
    """The authenticated user of this request."""

    actor: Actor
    full_name: str
    session_id: int
    expires_at: datetime
    via: Literal["bearer", "cookie"]
    context: dict[str, Any] = field(default_factory=dict)
    #: The interface language the user chose (None: not chosen).
    locale: str | None = None

    def uow(self, rt: Runtime, *, readonly: bool = False) -> UnitOfWork:
        """A unit of work acting as this user, with the request's context."""
        return rt.uow(self.actor, readonly=readonly, context=self.context)

    def authorize(self, action: str, site_id: str | None = None) -> access.Scope:
        return access.authorize(self.actor, action, site_id)


def _token(
    request: Request, credentials: HTTPAuthorizationCredentials | None
) -> tuple[str, Literal["bearer", "cookie"]]:
    """The request's session token and how it came; 401 when there is none (or a silly one)."""
    via: Literal["bearer", "cookie"]
    if credentials is not None and credentials.scheme.lower() == "bearer":
        token, via = credentials.credentials, "bearer"
    elif request.cookies.get(COOKIE):
        token, via = request.cookies[COOKIE], "cookie"
    else:
        raise NotAuthenticated("token", None, "log in first (Authorization: Bearer <token>)")
    if len(token) > 512:
        raise NotAuthenticated("token", None, "unknown or ended session: log in")
    return token, via


@dataclass(frozen=True)
class Caller:
    """Who a request says it is, read from its headers (no database yet): checked by
    :func:`acting` in the handler's own unit of work (:func:`require_in_handler`)."""

    token: str
    via: Literal["bearer", "cookie"]
    action: str
    method: str
    path: str
    csrf: str | None
    context: dict[str, Any]
    #: ``zh``/``en`` when the request's ``Accept-Language`` names one (else the user's choice).
    header_language: str | None


def _checked(rt: Runtime, uow: UnitOfWork, caller: Caller) -> CurrentUser:
    """The session's user, checked in ``uow`` (read-only): one rule for both dependencies."""
    info = session_cache(uow).resolve(uow, rt.settings, caller.token)
    if caller.via == "cookie":
        check_header(caller.method, caller.csrf, caller.token)
    if (caller.method, caller.path) not in BEFORE_OWN_PASSWORD:
        access.require_own_password(info)
    if info.needs_touch:
        with rt.uow(info.actor) as writing:
            access.touch(writing, info.session_id)
    return CurrentUser(
        actor=info.actor,
        full_name=info.full_name,
        session_id=info.session_id,
        expires_at=info.expires_at,
        via=caller.via,
        context=caller.context,
        locale=info.locale,
    )


def _caller(
    request: Request, credentials: HTTPAuthorizationCredentials | None, action: str
) -> Caller:
    token, via = _token(request, credentials)
    return Caller(
        token=token,
        via=via,
        action=action,
        method=request.method,
        path=request.url.path,
        csrf=request.headers.get(CSRF_HEADER),
        context=request_context(request),
        header_language=header_language(request),
    )


def current_user(
    request: Request,
    rt: Runtime = Depends(runtime),
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer_scheme),
) -> CurrentUser:
    """The session's user, from ``Authorization: Bearer`` or the session cookie; else 401."""
    caller = _caller(request, credentials, "")
    with rt.uow(Actor.system("auth"), readonly=True) as uow:
        # One query when the session is known and nothing about it changed (see the module).
        return _checked(rt, uow, caller)


def require(action: str) -> Callable[..., Awaitable[CurrentUser]]:
    """A dependency: the current user, if their role may do ``action`` somewhere (else 403)."""
    access.scope_of(None, action)  # an unknown action is a programming error, raised at import

    async def dependency(user: CurrentUser = Depends(current_user)) -> CurrentUser:
        access.authorize(user.actor, action)  # pure: no thread-pool hop (see runtime)
        return user

    dependency.__name__ = f"require_{action.replace('.', '_')}"
    return dependency


def require_in_handler(action: str) -> Callable[..., Awaitable[Caller]]:
    """A dependency for the busiest routes: like ``require(action)`` (same name, so the route
    counts as guarded by ``action``; same 401 / 403 answers), but it only reads the request's
    headers; the handler checks the session with :func:`acting` in its own read-only unit of
    work. One thread-pool hop and one transaction per request instead of two of each (the
    session check is one query, the same one the result caches need)."""
    access.scope_of(None, action)

    async def dependency(
        request: Request,
        credentials: HTTPAuthorizationCredentials | None = Depends(bearer_scheme),
    ) -> Caller:
        return _caller(request, credentials, action)

    dependency.__name__ = f"require_{action.replace('.', '_')}"
    return dependency


@contextmanager
def acting(rt: Runtime, caller: Caller) -> Iterator[tuple[CurrentUser, UnitOfWork]]:
    """A read-only unit of work acting as ``caller``'s user, once their session holds and their
    role may do ``caller.action`` (else 401 / 403, as ``require``): auth and handler share it."""
    # Statement by statement on PostgreSQL (no BEGIN / ROLLBACK round trips): a request that
    # finds its answers cached runs one query.
    with rt.uow(
        Actor.system("auth"), readonly=True, context=caller.context, statements=True
    ) as uow:
        user = _checked(rt, uow, caller)
        access.authorize(user.actor, caller.action)
        uow.actor = user.actor
        yield user, uow


def set_session_cookie(response: Response, settings: Settings, token: str) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=settings.session_minutes * 60,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="strict",
        path="/",
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        COOKIE, httponly=True, secure=settings.cookie_secure, samesite="strict", path="/"
    )
