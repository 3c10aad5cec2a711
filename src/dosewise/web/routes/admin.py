"""User management for administrators: list, create, change role/site/name/active/language,
unlock, reset.

Every change goes through :mod:`dosewise.trial.access` (one audited act each); changes to an
existing account need a reason, which the form asks for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Depends, Response
from sqlalchemy import select

from dosewise.errors import DosewiseError
from dosewise.store.tables import ROLES, Site, User
from dosewise.trial import access
from dosewise.trial.uow import UnitOfWork
from dosewise.web import labels
from dosewise.web.i18n import LOCALE_NAMES, LOCALES, N_
from dosewise.web.render import Form, FormErrors, Page, WebRoute, page_for, posted, redirect

router = APIRouter(prefix="/admin", route_class=WebRoute, include_in_schema=False)
CREATE_FIELDS = ("username", "full_name", "role", "site_id", "password")
#: How a user who has not chosen a language is shown (the browser's language applies).
NO_LOCALE = N_("Not chosen (the browser's language)")
UPDATE_FIELDS = ("full_name", "role", "site_id", "active", "locale", "reason")


@dataclass(frozen=True)
class UserRow:
    username: str
    full_name: str
    role: str
    site_id: str | None
    active: bool
    locked: bool
    failed_logins: int
    last_login_at: datetime | None
    #: The interface language the user chose (None: not chosen).
    locale: str | None = None
    #: The password an administrator set has not been replaced by the user yet.
    must_change_password: bool = False


def _row(user: User, now: datetime) -> UserRow:
    locked = user.locked_until is not None and now < user.locked_until
    return UserRow(
        user.username,
        user.full_name,
        user.role,
        user.site_id,
        user.active,
        locked,
        user.failed_logins,
        user.last_login_at,
        user.locale,
        user.must_change_password,
    )


def _roles(page: Page) -> list[tuple[str, str]]:
    return [(role, page.tr(labels.ROLES[role])) for role in ROLES]


def _sites(page_uow: UnitOfWork) -> list[tuple[str, str]]:
    sites = page_uow.session.scalars(select(Site).order_by(Site.id))
    return [(s.id, f"{s.id} · {s.name}") for s in sites]


def _listing(page: Page) -> tuple[list[UserRow], list[tuple[str, str]]]:
    now = page.rt.clock()
    with page.uow(readonly=True) as uow:
        users = [_row(u, now) for u in uow.session.scalars(select(User).order_by(User.id))]
        sites = _sites(uow)
    return users, sites


def _users_page(page: Page, *, status_code: int = 200, **context: object) -> Response:
    users, sites = _listing(page)
    return page.render(
        "admin/users.html",
        status_code=status_code,
        users=users,
        sites=sites,
        roles=_roles(page),
        **context,
    )


@router.get("/users")
def users(page: Page = Depends(page_for("user.read"))) -> Response:
    return _users_page(page)


@router.post("/users")
def create_user(posted_form: tuple[Page, Form] = Depends(posted("user.manage"))) -> Response:
    page, form = posted_form
    try:
        with page.uow() as uow:
            created, generated = access.create_user(
                uow,
                page.rt.passwords,
                page.rt.settings,
                username=form.get("username"),
                full_name=form.get("full_name"),
                role=form.get("role"),
                site_id=form.text("site_id"),
                password=form.text("password"),
            )
            username = created.username
    except DosewiseError as exc:
        errors = FormErrors.of(exc, CREATE_FIELDS)
        return _users_page(
            page, status_code=int(getattr(exc, "http_status", 422)), form=form, errors=errors
        )
    return _users_page(page, created=username, generated=generated)


def _user_page(page: Page, username: str, *, status_code: int = 200, **context: object) -> Response:
    now = page.rt.clock()
    with page.uow(readonly=True) as uow:
        user = _row(access.find_user(uow, username), now)
        sites = _sites(uow)
    return page.render(
        "admin/user.html",
        status_code=status_code,
        account=user,
        sites=sites,
        roles=_roles(page),
        languages=[("", page.tr(NO_LOCALE))] + [(code, LOCALE_NAMES[code]) for code in LOCALES],
        **context,
    )


@router.get("/users/{username}")
def user(username: str, page: Page = Depends(page_for("user.read"))) -> Response:
    return _user_page(page, username)


@router.post("/users/{username}")
def update_user(
    username: str, posted_form: tuple[Page, Form] = Depends(posted("user.manage"))
) -> Response:
    page, form = posted_form
    try:
        with page.uow() as uow:
            # Pass only what the form changed: a role or site change ends the user's sessions.
            current = access.find_user(uow, username)
            role, site = form.text("role"), form.text("site_id")
            active = form.get("active", "yes") == "yes"
            locale = form.text("locale") if "locale" in form else current.locale
            access.update_user(
                uow,
                username,
                reason=form.get("reason"),
                role=role if role != current.role else None,
                site_id=site if site is not None and site != current.site_id else None,
                clear_site=site is None and current.site_id is not None,
                full_name=form.text("full_name"),
                active=active if active != current.active else None,
                locale=locale if locale != current.locale else None,
                clear_locale=locale is None and current.locale is not None,
            )
    except DosewiseError as exc:
        errors = FormErrors.of(exc, UPDATE_FIELDS, {"username": "role"})
        return _user_page(
            page,
            username,
            status_code=int(getattr(exc, "http_status", 422)),
            form=form,
            errors=errors,
        )
    return redirect(f"/admin/users/{username}?saved=1")


@router.post("/users/{username}/unlock")
def unlock_user(
    username: str, posted_form: tuple[Page, Form] = Depends(posted("user.manage"))
) -> Response:
    page, form = posted_form
    try:
        with page.uow() as uow:
            access.unlock_user(uow, username, reason=form.get("unlock_reason"))
    except DosewiseError as exc:
        errors = FormErrors.of(exc, ("unlock_reason",), {"reason": "unlock_reason"})
        return _user_page(page, username, status_code=422, form=form, errors=errors)
    return redirect(f"/admin/users/{username}?unlocked=1")


@router.post("/users/{username}/reset-password")
def reset_password(
    username: str, posted_form: tuple[Page, Form] = Depends(posted("user.manage"))
) -> Response:
    page, form = posted_form
    try:
        with page.uow() as uow:
            _user, password = access.reset_password(
                uow, page.rt.passwords, username, reason=form.get("reset_reason")
            )
    except DosewiseError as exc:
        errors = FormErrors.of(exc, ("reset_reason",), {"reason": "reset_reason"})
        return _user_page(page, username, status_code=422, form=form, errors=errors)
    return _user_page(page, username, new_password=password)
