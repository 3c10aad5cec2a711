"""The language of an API answer's words: the request's ``Accept-Language`` if it names Chinese
or English, else the user's stored interface language (``GET/PATCH /api/v1/users/me``), else
English. Reasons are rendered in it (``reason``); ``reason_code`` and ``reason_params`` are the
same in every language."""

from __future__ import annotations

from fastapi import Depends, Request

from dosewise.api.auth import CurrentUser, current_user
from dosewise.http.language import answer_language, header_language


async def reason_lang(request: Request, user: CurrentUser = Depends(current_user)) -> str:
    """A dependency: the language of the words in this request's answer (``en``/``zh``);
    async, as it reads only the request and the session's user (no thread-pool hop)."""
    return answer_language(header_language(request), user.locale)
