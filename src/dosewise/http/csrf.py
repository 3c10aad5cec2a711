"""CSRF for cookie sessions: the token is derived from the session token (nothing extra is
stored), and every request that is not GET/HEAD/OPTIONS must echo it.

API clients with a cookie send it in ``X-CSRF-Token``; web forms, which cannot set a header,
carry it in a hidden field (:mod:`dosewise.web.session`). Bearer-token requests need neither: a
browser never attaches a bearer token by itself.
"""

from __future__ import annotations

import hashlib
import hmac

from dosewise.trial.access import Forbidden
from dosewise.trial.refusals import refusal

CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def csrf_token(token: str) -> str:
    """The CSRF token that goes with a session token."""
    return hashlib.sha256(f"dosewise-csrf:{token}".encode()).hexdigest()


def check_header(method: str, sent: str | None, token: str) -> None:
    """Refuse (403) an unsafe ``method`` whose ``X-CSRF-Token`` is not the session's."""
    if method in SAFE_METHODS:
        return
    if not sent or not hmac.compare_digest(sent, csrf_token(token)):
        raise refusal(Forbidden, CSRF_HEADER, None, "csrf_missing")
