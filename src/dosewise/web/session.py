"""Who is using the web pages: the session cookie → :class:`WebUser`, and CSRF for forms.

The web pages share the API's login sessions (``dosewise.trial.access``): the same
``HttpOnly; SameSite=Strict`` cookie, the same expiry and lock-out, and the same CSRF token
derived from the session token. A browser form cannot set the ``X-CSRF-Token`` header, so web
forms carry the token in a hidden ``csrf_token`` field instead (htmx requests send the form,
hence the field, too). The login form, which has no session yet, is protected by a
double-submit cookie.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from sqlalchemy import select

from dosewise.http.auth import COOKIE, Runtime
from dosewise.http.csrf import csrf_token
from dosewise.store.tables import Site
from dosewise.trial import access
from dosewise.trial.access import Forbidden, NotAuthenticated
from dosewise.trial.audit import Actor
from dosewise.trial.refusals import refusal
from dosewise.trial.uow import UnitOfWork
from dosewise.web.i18n import DEFAULT_TIMEZONE

LOGIN_CSRF_COOKIE = "dosewise_login_csrf"
CSRF_FIELD = "csrf_token"


@dataclass(frozen=True)
class WebUser:
    """The signed-in person of a page request."""

    actor: Actor
    full_name: str
    session_id: int
    csrf: str
    site_name: str | None = None
    timezone: str = DEFAULT_TIMEZONE
    context: dict[str, Any] = field(default_factory=dict)
    #: The interface language the user chose (None: not chosen, the browser decides).
    locale: str | None = None
    #: An administrator set the password: the user must choose their own before anything else.
    must_change_password: bool = False

    @property
    def username(self) -> str:
        return self.actor.username

    @property
    def role(self) -> str:
        return self.actor.role or ""

    @property
    def site_id(self) -> str | None:
        return self.actor.site_id

    def can(self, action: str, site_id: str | None = None) -> bool:
        """Whether the permission matrix lets this user do ``action`` (at ``site_id``)."""
        try:
            access.authorize(self.actor, action, site_id)
        except Forbidden:
            return False
        return True

    def authorize(self, action: str, site_id: str | None = None) -> access.Scope:
        return access.authorize(self.actor, action, site_id)

    def uow(self, rt: Runtime, *, readonly: bool = False) -> UnitOfWork:
        """A unit of work acting as this user, recorded as coming from the web pages."""
        return rt.uow(self.actor, readonly=readonly, context=self.context)


def request_context(request: Request) -> dict[str, Any]:
    """Where a page request came from, stored with its audit records."""
    client = request.client.host if request.client else None
    return {"via": "web", "client": client, "method": request.method, "path": request.url.path}


def resolve_user(request: Request, rt: Runtime) -> WebUser:
    """The session's user from the cookie; :class:`NotAuthenticated` if there is none."""
    token = request.cookies.get(COOKIE)
    if not token or len(token) > 512:
        raise NotAuthenticated("session", None, "sign in first")
    with rt.uow(Actor.system("auth"), readonly=True) as uow:
        info = access.resolve(uow, rt.settings, token)
        site = uow.session.get(Site, info.user.site_id) if info.user.site_id else None
        site_name = site.name if site is not None else None
        tz = site.timezone if site is not None else _trial_timezone(uow)
        full_name = info.user.full_name
        locale = info.user.locale
        must_change = bool(info.user.must_change_password)
    if info.needs_touch:
        with rt.uow(info.actor) as uow:
            access.touch(uow, info.session_id)
    return WebUser(
        actor=info.actor,
        full_name=full_name,
        session_id=info.session_id,
        csrf=csrf_token(token),
        site_name=site_name,
        timezone=tz or DEFAULT_TIMEZONE,
        context=request_context(request),
        locale=locale,
        must_change_password=must_change,
    )


def _trial_timezone(uow: UnitOfWork) -> str:
    """Users without a site see times in the first site's zone (all NCT07070323 sites share it)."""
    first = uow.session.scalar(select(Site.timezone).order_by(Site.id).limit(1))
    return first or DEFAULT_TIMEZONE


def check_csrf(user: WebUser, sent: str | None) -> None:
    """A form's token must be the session's; otherwise the request is refused (403)."""
    if not sent or not hmac.compare_digest(sent, user.csrf):
        raise refusal(Forbidden, CSRF_FIELD, None, "form_stale")


def new_login_csrf() -> str:
    return secrets.token_urlsafe(24)


def check_login_csrf(request: Request, sent: str | None) -> None:
    """The login form's hidden token must match its cookie (double submit)."""
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE)
    if not cookie or not sent or not hmac.compare_digest(cookie, sent):
        raise refusal(Forbidden, CSRF_FIELD, None, "signin_expired")
