"""Signing in and out, changing one's password, and choosing the interface language.

The language is stored on the signed-in user (so it follows them to every device) and kept in a
cookie too (so the sign-in page of this browser speaks it after signing out). A visitor's choice
lives in the cookie only; a user who has not chosen is shown the cookie's or the browser's
language, and nothing is written for them until they use the switch.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from dosewise.errors import DosewiseError
from dosewise.http.auth import (
    Runtime,
    clear_session_cookie,
    runtime,
    set_session_cookie,
)
from dosewise.trial import access
from dosewise.trial.audit import Actor
from dosewise.web import labels
from dosewise.web.i18n import LOCALES, N_
from dosewise.web.render import (
    LANG_COOKIE,
    PASSWORD_PAGE,
    Form,
    FormErrors,
    Page,
    WebRoute,
    error_words,
    form_data,
    general_words,
    posted,
    public_page,
    redirect,
    safe_next,
    signed_in_page,
)
from dosewise.web.session import (
    CSRF_FIELD,
    LOGIN_CSRF_COOKIE,
    check_login_csrf,
    new_login_csrf,
    request_context,
)

router = APIRouter(route_class=WebRoute, include_in_schema=False)
#: The sign-in page's one answer to any refused sign-in (unknown, wrong, locked or inactive).
LOGIN_REFUSED = N_("Invalid username or password, or the account is locked or inactive.")
YEAR_S = 365 * 24 * 3600


@router.get("/")
def index(page: Page = Depends(signed_in_page)) -> Response:
    return redirect(labels.home(page.signed_in))


def _login_page(page: Page, form: Form, errors: FormErrors, status_code: int = 200) -> Response:
    token = new_login_csrf()
    response = page.render(
        "account/login.html",
        status_code=status_code,
        form=form,
        errors=errors,
        login_csrf=token,
        next=safe_next(form.get("next") or page.request.query_params.get("next"), ""),
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=page.rt.settings.cookie_secure,
        path="/login",
    )
    return response


@router.get("/login")
def login_form(page: Page = Depends(public_page)) -> Response:
    if page.user is not None:
        return redirect(safe_next(page.request.query_params.get("next"), labels.home(page.user)))
    return _login_page(page, Form(), FormErrors())


@router.post("/login")
def login(
    request: Request,
    page: Page = Depends(public_page),
    form: Form = Depends(form_data),
    rt: Runtime = Depends(runtime),
) -> Response:
    try:
        check_login_csrf(request, form.get(CSRF_FIELD))
        context = request_context(request)
        client = f"{context['client']} {request.headers.get('user-agent', '')}".strip()
        with rt.uow(Actor.system("anonymous"), context=context) as uow:
            result = access.login(
                uow,
                rt.passwords,
                rt.settings,
                form.get("username"),
                form.get("password"),
                client=client,
            )
    except DosewiseError as exc:
        kept = Form({"username": [form.get("username")], "next": [form.get("next")]})
        errors = FormErrors()
        if exc.field == "credentials":
            errors.general.append(page.tr(LOGIN_REFUSED))
        else:
            words = error_words(exc, page.locale)
            errors.general.append(
                words if exc.field == CSRF_FIELD else general_words(exc, page.locale)
            )
        return _login_page(page, kept, errors, int(getattr(exc, "http_status", 422)))
    target = safe_next(form.get("next"), "/")
    if result.user.must_change_password:  # a password an administrator set: replace it first
        target = PASSWORD_PAGE
    response = redirect(target)
    set_session_cookie(response, rt.settings, result.token)
    stored = result.user.locale
    if stored is not None and stored in LOCALES:  # the stored choice wins over this browser's
        _set_lang_cookie(response, stored)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(posted_form: tuple[Page, Form] = Depends(posted())) -> Response:
    page, _form = posted_form
    with page.uow() as uow:
        access.logout(uow, page.signed_in.session_id)
    response = redirect("/login")
    clear_session_cookie(response, page.rt.settings)
    return response


@router.get("/account/password")
def password_form(page: Page = Depends(signed_in_page)) -> Response:
    return page.render("account/password.html")


@router.post("/account/password")
def change_password(posted_form: tuple[Page, Form] = Depends(posted())) -> Response:
    page, form = posted_form
    user = page.signed_in
    assert user.actor.user_id is not None
    errors = FormErrors()
    if form.get("new_password") != form.get("confirm_password"):
        errors.fields["confirm_password"] = page.tr("does not match the new password")
        return page.render("account/password.html", errors=errors, status_code=422)
    try:
        with page.uow() as uow:
            access.change_password(
                uow,
                page.rt.passwords,
                page.rt.settings,
                user.actor.user_id,
                current=form.get("current_password"),
                new=form.get("new_password"),
                keep_session=user.session_id,
            )
    except DosewiseError as exc:
        aliases = {"password": "new_password"}
        errors = FormErrors.of(exc, ("current_password", "new_password"), aliases)
        return page.render(
            "account/password.html",
            errors=errors,
            status_code=int(getattr(exc, "http_status", 422)),
        )
    return page.render("account/password.html", changed=True, forced=False)


@router.get("/lang/{code}")
def choose_language(code: str, page: Page = Depends(public_page)) -> Response:
    """Switch the interface language and go back: stored on the signed-in user (an audited
    ``user.set_locale``), and kept in a cookie for a year for this browser.

    A link (GET), so the switch works without scripts. Cross-site requests cannot change a
    user's stored language: the session cookie is ``SameSite=Strict``, so a link from another
    site arrives without a session and only sets this browser's cookie.
    """
    response = redirect(safe_next(page.request.query_params.get("next"), "/"))
    if code in LOCALES:
        if page.user is not None:
            with page.uow() as uow:
                access.set_own_locale(uow, code)
        _set_lang_cookie(response, code)
    return response


def _set_lang_cookie(response: Response, code: str) -> None:
    response.set_cookie(LANG_COOKIE, code, max_age=YEAR_S, samesite="lax", path="/")
