"""The interface language a request prefers (``Accept-Language``): one rule for the pages and
the API, so both answer a browser or a client in the same language."""

from __future__ import annotations

from starlette.requests import Request

DEFAULT_LOCALE = "en"


def negotiate(accept_language: str | None) -> str:
    """The interface language a browser prefers (``Accept-Language``), English by default."""
    best: tuple[float, str] | None = None
    for part in (accept_language or "").split(","):
        pieces = part.strip().split(";")
        tag = pieces[0].strip().lower()
        if not tag:
            continue
        quality = 1.0
        for param in pieces[1:]:
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        chosen = "zh_CN" if tag.startswith("zh") else "en" if tag.startswith("en") else None
        if chosen is not None and quality > 0 and (best is None or quality > best[0]):
            best = (quality, chosen)
    return best[1] if best is not None else DEFAULT_LOCALE


def header_language(request: Request) -> str | None:
    """``zh``/``en`` if the request's ``Accept-Language`` names one of them, else None (the
    API's answers then use the user's stored language)."""
    header = (request.headers.get("accept-language") or "").lower()
    if "zh" not in header and "en" not in header:
        return None
    return "zh" if negotiate(header) == "zh_CN" else "en"


def answer_language(header_choice: str | None, locale: str | None) -> str:
    """``en``/``zh``, the language of an API answer's words: the request's ``Accept-Language``
    choice (:func:`header_language`) if any, else the user's stored interface language, else
    English."""
    if header_choice is not None:
        return header_choice
    return "zh" if (locale or "").startswith("zh") else "en"
