"""The interface language a request prefers (``Accept-Language``): one rule for the pages and
the API, so both answer a browser or a client in the same language."""

from __future__ import annotations

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
