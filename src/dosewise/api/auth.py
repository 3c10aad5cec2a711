"""The API's authentication dependencies, which live in the shared HTTP layer
(:mod:`dosewise.http.auth`, :mod:`dosewise.http.csrf`) so the web pages use them without
importing the API. Routers may import them from here or from there."""

from __future__ import annotations

from dosewise.http.auth import (
    BEFORE_OWN_PASSWORD,
    COOKIE,
    Caller,
    CurrentUser,
    Runtime,
    acting,
    bearer_scheme,
    clear_session_cookie,
    current_user,
    request_context,
    require,
    require_in_handler,
    runtime,
    set_session_cookie,
)
from dosewise.http.csrf import CSRF_HEADER, SAFE_METHODS, csrf_token

__all__ = [
    "BEFORE_OWN_PASSWORD",
    "COOKIE",
    "CSRF_HEADER",
    "SAFE_METHODS",
    "Caller",
    "CurrentUser",
    "Runtime",
    "acting",
    "bearer_scheme",
    "clear_session_cookie",
    "csrf_token",
    "current_user",
    "request_context",
    "require",
    "require_in_handler",
    "runtime",
    "set_session_cookie",
]
