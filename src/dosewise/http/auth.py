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

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from fastapi import Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from dosewise.http.csrf import CSRF_HEADER, check_header
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
    ) -> UnitOfWork:
        return UnitOfWork(self.db, actor, clock=self.clock, readonly=readonly, context=context)


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


def current_user(
    request: Request,
    rt: Runtime = Depends(runtime),
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer_scheme),
) -> CurrentUser:
    """The session's user, from ``Authorization: Bearer`` or the session cookie; else 401."""
    via: Literal["bearer", "cookie"]
    if credentials is not None and credentials.scheme.lower() == "bearer":
        token, via = credentials.credentials, "bearer"
    elif request.cookies.get(COOKIE):
        token, via = request.cookies[COOKIE], "cookie"
    else:
        raise NotAuthenticated("token", None, "log in first (Authorization: Bearer <token>)")
    if len(token) > 512:
        raise NotAuthenticated("token", None, "unknown or ended session: log in")
    with rt.uow(Actor.system("auth"), readonly=True) as uow:
        # One query when the session is known and nothing about it changed (see the module).
        info = session_cache(uow).resolve(uow, rt.settings, token)
    if via == "cookie":
        check_header(request.method, request.headers.get(CSRF_HEADER), token)
    if (request.method, request.url.path) not in BEFORE_OWN_PASSWORD:
        access.require_own_password(info)
    if info.needs_touch:
        with rt.uow(info.actor) as uow:
            access.touch(uow, info.session_id)
    return CurrentUser(
        actor=info.actor,
        full_name=info.full_name,
        session_id=info.session_id,
        expires_at=info.expires_at,
        via=via,
        context=request_context(request),
        locale=info.locale,
    )


def require(action: str) -> Callable[..., Awaitable[CurrentUser]]:
    """A dependency: the current user, if their role may do ``action`` somewhere (else 403)."""
    access.scope_of(None, action)  # an unknown action is a programming error, raised at import

    async def dependency(user: CurrentUser = Depends(current_user)) -> CurrentUser:
        access.authorize(user.actor, action)  # pure: no thread-pool hop (see runtime)
        return user

    dependency.__name__ = f"require_{action.replace('.', '_')}"
    return dependency


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
