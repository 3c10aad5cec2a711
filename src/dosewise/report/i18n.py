"""Report text in English and Simplified Chinese through gettext catalogs.

Message ids are the English text itself (``_("Operating characteristics")``), with named
``%(name)s`` placeholders, exactly as GNU gettext and Babel expect. The Chinese text lives in a
standard PO catalog, ``dosewise/report/locale/zh/LC_MESSAGES/reports.po``, which is compiled in
memory when first needed; so the catalog can later join the web application's Babel catalogs
unchanged (extract with ``pybabel extract`` using the ``jinja2.ext.babel_extract`` method for
``templates/*.html.j2`` and the Python method for ``*.py``). English needs no catalog: a missing
translation falls back to the English message id.

Clinical and statistical terms keep their standard English abbreviations beside the Chinese,
e.g. "剂量限制性毒性 (DLT)", so a reader can match the report with the literature.
"""

from __future__ import annotations

import gettext
import io
from functools import lru_cache
from importlib import resources
from typing import Any

from dosewise.errors import InvalidParameter

#: Languages a report can be written in.
LANGS: tuple[str, ...] = ("en", "zh")
#: The gettext domain (catalog file name) of report text.
DOMAIN = "reports"
_HTML_LANG = {"en": "en", "zh": "zh-Hans"}


def N_(message: str) -> str:
    """Mark ``message`` for extraction into the catalog; it is translated where it is shown."""
    return message


def check_lang(lang: str) -> str:
    """``lang`` if it is a report language, else a user error naming ``lang``."""
    if lang not in LANGS:
        raise InvalidParameter("lang", lang, f"must be one of {', '.join(LANGS)}")
    return lang


def html_lang(lang: str) -> str:
    """The HTML ``lang`` attribute of a report language (``zh-Hans`` for Simplified Chinese)."""
    return _HTML_LANG[check_lang(lang)]


def catalog_text(lang: str) -> str | None:
    """The PO source of ``lang``'s catalog, or None when the language has none (English)."""
    path = resources.files("dosewise.report").joinpath(
        "locale", lang, "LC_MESSAGES", f"{DOMAIN}.po"
    )
    return path.read_text(encoding="utf-8") if path.is_file() else None


@lru_cache(maxsize=len(LANGS))
def translations(lang: str) -> gettext.NullTranslations:
    """The gettext translations of ``lang`` (an object with ``gettext``/``ngettext``)."""
    check_lang(lang)
    text = catalog_text(lang)
    if text is None:
        return gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    catalog = read_po(io.StringIO(text), locale=lang, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


class Translator:
    """``_`` for Python code that builds report text (table headers, figure labels).

    ``tr("Selection (%%)")`` and ``tr("Dose %(dose)s", dose=2)`` look the English text up in the
    catalog and then fill the named placeholders, as Jinja2's new-style gettext does.
    """

    def __init__(self, lang: str) -> None:
        self.lang = check_lang(lang)
        self._translations = translations(lang)

    def __call__(self, message: str, **values: Any) -> str:
        text = self._translations.gettext(message)
        return text % values if values else text

    def plural(self, singular: str, plural: str, count: int, **values: Any) -> str:
        """The singular or plural form for ``count`` (``%(num)s`` is ``count``)."""
        text = self._translations.ngettext(singular, plural, count)
        return text % {"num": count, **values}
