"""Rendering pages: one Jinja2 environment per language, the :class:`Page` a route renders with,
form data and field errors, and the route class that turns errors into pages.

A route is thin: it takes a :class:`Page` (request, runtime, signed-in user, language and
formatter), calls a service inside ``page.uow()``, and renders a template. A
:class:`~dosewise.errors.DosewiseError` that the route does not handle itself becomes a page in
the user's language: no session → the sign-in page; forbidden → 403; not found → 404; anything
else → the message, with its status. Forms handle their own errors, to show them next to the field.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import quote, urlsplit

import jinja2
from fastapi import Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from markupsafe import Markup, escape

from dosewise.errors import DosewiseError
from dosewise.http.auth import Runtime, runtime
from dosewise.report.names import source_words
from dosewise.trial.access import NotAuthenticated, PasswordChangeRequired
from dosewise.trial.refusals import Lang, headed, subject
from dosewise.trial.state.later import NextStep
from dosewise.trial.state.reasons import assignment_text, decision_text, error_reason
from dosewise.trial.uow import UnitOfWork
from dosewise.web import labels
from dosewise.web.i18n import (
    HTML_LANG,
    LOCALE_NAMES,
    LOCALES,
    Formatter,
    resolve_locale,
    translations,
    translator,
)
from dosewise.web.protocol_texts import protocol_texts
from dosewise.web.session import CSRF_FIELD, WebUser, check_csrf, resolve_user

LANG_COOKIE = "dosewise_lang"
#: Where a user whose password an administrator set is sent, and the pages they may still use.
PASSWORD_PAGE = "/account/password"
BEFORE_OWN_PASSWORD = frozenset({PASSWORD_PAGE, "/logout"})
STATIC_VERSION = "2"


# --------------------------------------------------------------------------- templates


@lru_cache(maxsize=len(LOCALES))
def environment(locale: str) -> jinja2.Environment:
    """The Jinja2 environment of one interface language (gettext installed, autoescaping on)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("dosewise.web", "templates"),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.ChainableUndefined,  # optional keys of records read as empty
    )
    trans = translations(locale)
    env.install_gettext_translations(trans, newstyle=True)  # type: ignore[attr-defined]
    env.filters["zh_marked"] = zh_marked
    env.filters["source_words"] = source_words
    lang = reason_lang(locale)
    env.globals.update(
        reason=lambda item: reason_words(item, lang),
        assignment_reason=lambda decision: assignment_text(decision, lang),
        choices=lambda mapping: [(code, trans.gettext(label)) for code, label in mapping.items()],
        LOCALES=LOCALES,
        LOCALE_NAMES=LOCALE_NAMES,
        L=labels,
        static=lambda path: f"/static/{path}?v={STATIC_VERSION}",
    )
    return env


_HAN_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")


def zh_marked(text: Any) -> Markup:
    """``text`` escaped, with each run of Chinese characters marked ``lang="zh"`` (a Chinese
    name inside an English sentence: read, spoken and checked as Chinese)."""
    escaped = str(escape(text))
    return Markup(_HAN_RUN.sub(lambda m: f'<span lang="zh">{m.group(0)}</span>', escaped))


def reason_lang(locale: str) -> str:
    """The reason catalogs' language (``en``/``zh``) of an interface locale."""
    return "zh" if locale.startswith("zh") else "en"


def reason_words(item: Any, lang: str) -> str:
    """A next step, a decision or a history item's reason in ``lang`` (stored English text when
    the item has no code)."""
    if isinstance(item, NextStep):
        return item.text(lang)
    if isinstance(item, Mapping):
        return decision_text(item, lang)
    return "" if item is None else str(item)


def request_locale(request: Request, stored: str | None = None) -> str:
    """The page's language: the user's stored choice, else the cookie, else the browser's."""
    return resolve_locale(
        stored, request.cookies.get(LANG_COOKIE), request.headers.get("accept-language")
    )


def safe_next(target: str | None, default: str = "/") -> str:
    """A local path to return to (never another site: no scheme, no host, no ``//``)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def redirect(url: str, request: Request | None = None) -> Response:
    """A 303 to ``url`` (for htmx requests, an ``HX-Redirect`` so the whole page changes)."""
    if request is not None and request.headers.get("hx-request"):
        return Response(status_code=200, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


# --------------------------------------------------------------------------- forms


@dataclass(frozen=True)
class Form:
    """Submitted form fields (text only), kept to show back what was typed."""

    values: Mapping[str, list[str]] = field(default_factory=dict)

    def get(self, name: str, default: str = "") -> str:
        items = self.values.get(name)
        return items[-1] if items else default

    def getlist(self, name: str) -> list[str]:
        return list(self.values.get(name, []))

    def text(self, name: str) -> str | None:
        """The trimmed value, or None when the field was left empty."""
        value = self.get(name).strip()
        return value or None

    def flag(self, name: str) -> bool:
        """A checkbox: present and not ``off``/``false``/``0``."""
        return self.get(name, "").lower() not in ("", "off", "false", "0", "no")

    def __contains__(self, name: str) -> bool:
        return name in self.values


async def form_data(request: Request) -> Form:
    """The request's form (urlencoded or multipart); files are ignored."""
    if request.method in ("GET", "HEAD"):
        return Form({k: request.query_params.getlist(k) for k in request.query_params})
    data = await request.form()
    values: dict[str, list[str]] = {}
    for key, value in data.multi_items():
        if isinstance(value, str):
            values.setdefault(key, []).append(value)
    return Form(values)


@dataclass
class FormErrors:
    """Errors to show next to their fields (``fields``) or above the form (``general``)."""

    fields: dict[str, str] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)
    #: Where each service error went (field name, or None for above the form), to show it in
    #: the page's language (:meth:`localized`).
    sources: list[tuple[str | None, DosewiseError]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.fields or self.general)

    def add(
        self, exc: DosewiseError, known: Iterable[str], aliases: Mapping[str, str] = {}
    ) -> None:
        """Place the service's message by its field: next to the input, or above the form."""
        target = _target(exc, known, aliases)
        self.fields.update(_placed(exc, target, aliases, exc.rule))
        if target is None:
            self.general.append(_general(exc, exc.rule))
        self.sources.append((target, exc))

    def localized(self, words: Callable[[DosewiseError], str], locale: str = "en") -> FormErrors:
        """The same errors with each service rule in ``words`` (the page's language), and the
        field each names in that language's words."""
        lang = reason_lang(locale)
        fields = dict(self.fields)
        general = [g for g in self.general]
        for target, exc in self.sources:
            text = words(exc)
            if target is not None:
                aliases = {exc.field: target}
                fields.update(_placed(exc, target, aliases, text, lang))
            else:
                english = _general(exc, exc.rule)
                general = [_general(exc, text, lang) if g == english else g for g in general]
        return FormErrors(fields, general, list(self.sources))

    @classmethod
    def of(
        cls, exc: DosewiseError, known: Iterable[str], aliases: Mapping[str, str] = {}
    ) -> FormErrors:
        errors = cls()
        errors.add(exc, known, aliases)
        return errors


def _target(exc: DosewiseError, known: Iterable[str], aliases: Mapping[str, str]) -> str | None:
    name = aliases.get(exc.field, exc.field)
    names = set(known)
    if name in names:
        return name
    for candidate in sorted(names, key=len, reverse=True):
        if name.startswith(candidate + ".") or name.startswith(candidate + "["):
            return candidate
    return None


def _placed(
    exc: DosewiseError,
    target: str | None,
    aliases: Mapping[str, str],
    text: str,
    lang: str = "en",
) -> dict[str, str]:
    if target is None:
        return {}
    name = aliases.get(exc.field, exc.field)
    if target == name:
        return {target: text}
    return {target: _headed(subject(exc.field, None, _lang(lang)), text, lang)}


def _general(exc: DosewiseError, text: str, lang: str = "en") -> str:
    """``field=value: rule`` (in Chinese: the field's words, the value, the rule)."""
    return _headed(subject(exc.field, exc.value, _lang(lang)), text, lang)


def _headed(head: str, text: str, lang: str) -> str:
    return headed(head, text, _lang(lang))


def _lang(lang: str) -> Lang:
    return "zh" if lang == "zh" else "en"


def error_words(exc: DosewiseError, locale: str) -> str:
    """A service error's rule in ``locale``: its reason code from the reason catalogs, its
    ``template`` or its English rule through the web catalog (the English text if neither)."""
    lang = reason_lang(locale)
    if exc.reason_code:
        reason = error_reason(exc, lang)
        if reason is not None:
            return reason
    tr = translator(locale)
    if exc.template:
        try:
            return tr(exc.template, **exc.reason_params)
        except (KeyError, ValueError, TypeError):
            return exc.rule
    return tr(exc.rule)


def general_words(exc: DosewiseError, locale: str) -> str:
    """A service error as one line in ``locale``: what it is about, then its rule."""
    return _general(exc, error_words(exc, locale), reason_lang(locale))


# --------------------------------------------------------------------------- the page


@dataclass
class Page:
    """Everything a route needs to call a service and render a template."""

    request: Request
    rt: Runtime
    user: WebUser | None
    locale: str
    fmt: Formatter
    tr: Callable[..., str]

    @property
    def signed_in(self) -> WebUser:
        if self.user is None:
            raise NotAuthenticated("session", None, "sign in first")
        return self.user

    def uow(self, *, readonly: bool = False) -> UnitOfWork:
        """A unit of work acting as the signed-in user."""
        return self.signed_in.uow(self.rt, readonly=readonly)

    def render(self, template: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
        env = environment(self.locale)
        values = {
            "request": self.request,
            "user": self.user,
            "locale": self.locale,
            "html_lang": HTML_LANG[self.locale],
            "fmt": self.fmt,
            "path": self.request.url.path,
            "here": _here(self.request),
            "csrf_field": CSRF_FIELD,
            "csrf": self.user.csrf if self.user is not None else "",
            "nav": labels.navigation(self.user),
            "pt": protocol_texts(self.rt.settings, self.locale),
            "settings": self.rt.settings,
            "errors": FormErrors(),
            "form": Form(),
        }
        values.update(context)
        for key, value in list(values.items()):
            if isinstance(value, FormErrors) and value.sources:
                values[key] = value.localized(
                    lambda exc: error_words(exc, self.locale), self.locale
                )
        html = env.get_template(template).render(values)
        return HTMLResponse(html, status_code=status_code)


def _here(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def _page(request: Request, rt: Runtime, user: WebUser | None) -> Page:
    locale = request_locale(request, user.locale if user is not None else None)
    tz = user.timezone if user is not None else None
    return Page(request, rt, user, locale, Formatter(locale, tz), translator(locale))


def public_page(request: Request, rt: Runtime = Depends(runtime)) -> Page:
    """A page anyone may open (the sign-in page); the user if a session is live."""
    try:
        user: WebUser | None = resolve_user(request, rt)
    except NotAuthenticated:
        user = None
    return _page(request, rt, user)


def signed_in_page(request: Request, rt: Runtime = Depends(runtime)) -> Page:
    """A page for any signed-in user (otherwise: the sign-in page).

    A user who still has a password an administrator set is sent to the password page from
    every other page (:class:`PasswordChangeRequired`, turned into a redirect by
    :class:`WebRoute`).
    """
    user = resolve_user(request, rt)
    if user.must_change_password and request.url.path not in BEFORE_OWN_PASSWORD:
        raise PasswordChangeRequired("password", None, "choose your own password first")
    return _page(request, rt, user)


def page_for(action: str) -> Callable[..., Page]:
    """A dependency: the page, if the user's role may do ``action`` somewhere (else 403)."""

    def dependency(page: Page = Depends(signed_in_page)) -> Page:
        page.signed_in.authorize(action)
        return page

    dependency.__name__ = f"page_for_{action.replace('.', '_')}"
    return dependency


def posted(action: str | None = None) -> Callable[..., Coroutine[Any, Any, tuple[Page, Form]]]:
    """A dependency for form posts: the page and the form, CSRF-checked (and authorized)."""

    async def dependency(
        page: Page = Depends(signed_in_page), form: Form = Depends(form_data)
    ) -> tuple[Page, Form]:
        check_csrf(page.signed_in, form.get(CSRF_FIELD) or page.request.headers.get("x-csrf-token"))
        if action is not None:
            page.signed_in.authorize(action)
        return page, form

    return dependency


# --------------------------------------------------------------------------- errors


class WebRoute(APIRoute):
    """Routes whose unhandled :class:`DosewiseError` becomes a page, never JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except NotAuthenticated:
                target = "/login?next=" + quote(_here(request), safe="/")
                if request.url.path in ("/", "/login"):
                    target = "/login"
                return redirect(target, request)
            except PasswordChangeRequired:
                return redirect(PASSWORD_PAGE, request)
            except DosewiseError as exc:
                return error_page(request, exc)

        return handler


def error_page(request: Request, exc: DosewiseError) -> HTMLResponse:
    """The error in words, with its status code, in the user's language."""
    status = int(getattr(exc, "http_status", 422))
    rt: Runtime = request.app.state.runtime
    try:
        user: WebUser | None = resolve_user(request, rt)
    except DosewiseError:
        user = None
    page = _page(request, rt, user)
    lang = reason_lang(page.locale)
    if status == 403:
        # The page says in the user's language that the role or site does not allow this, then
        # the refusal's own rule in that language (which act the role may not do, which site
        # the user works at, a form out of date); a rule without words in it is left out.
        words = error_words(exc, page.locale)
        message = words if words != exc.rule or lang == "en" else ""
    else:
        message = _general(exc, error_words(exc, page.locale), lang)
    return page.render("error.html", status_code=status, status=status, message=message)
