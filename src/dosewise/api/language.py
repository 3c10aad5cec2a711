"""The language of an API answer's words: the request's ``Accept-Language`` if it names Chinese
or English, else the user's stored interface language (``GET/PATCH /api/v1/users/me``), else
English. Reasons are rendered in it (``reason``); ``reason_code`` and ``reason_params`` are the
same in every language."""

from __future__ import annotations

from fastapi import Depends, Request

from dosewise.api.auth import CurrentUser, current_user
from dosewise.http.language import negotiate


def header_lang(request: Request) -> str | None:
    """``zh``/``en`` if the request's ``Accept-Language`` names one of them, else None."""
    header = (request.headers.get("accept-language") or "").lower()
    if "zh" not in header and "en" not in header:
        return None
    return "zh" if negotiate(header) == "zh_CN" else "en"


async def reason_lang(request: Request, user: CurrentUser = Depends(current_user)) -> str:
    """A dependency: the language of the words in this request's answer (``en``/``zh``);
    async, as it reads only the request and the session's user (no thread-pool hop)."""
    chosen = header_lang(request)
    if chosen is not None:
        return chosen
    return "zh" if (user.locale or "").startswith("zh") else "en"
