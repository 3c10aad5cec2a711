"""The web application's languages: gettext catalogs (Babel), locale-aware dates and numbers.

Message ids are the English text with named ``%(name)s`` placeholders, marked ``_("...")`` in
templates (Jinja2's i18n extension, new-style gettext) and ``_()``/``N_()`` in Python. The Chinese
text is a standard PO catalog, ``dosewise/web/locale/zh_CN/LC_MESSAGES/web.po`` (domain ``web``),
compiled in memory the first time it is needed, so no compiled ``.mo`` file is kept in the source
tree. English needs no catalog: a message id is its own English text.

The language is kept per user (``users.locale``, set by the switch while signed in, so it
follows the user to every device); the ``dosewise_lang`` cookie and the browser's
``Accept-Language`` decide for visitors and for users who have not chosen yet.

Times are stored in UTC and shown in a site's time zone (``Asia/Shanghai`` unless the site says
otherwise), formatted by Babel for the chosen locale; cell counts are written as ``1.0×10⁶``.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import lru_cache
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from babel.numbers import format_decimal as babel_format_decimal
from babel.numbers import format_percent as babel_format_percent

from dosewise.http.language import negotiate as negotiate
from dosewise.store import tables
from dosewise.trial import calendar

#: The interface languages, in the order the switch shows them (the ones a user may store).
LOCALES: tuple[str, ...] = tables.LOCALES
DEFAULT_LOCALE = "en"
#: Each locale's name written in itself (the switch shows these, never translated).
LOCALE_NAMES = {"zh_CN": "中文", "en": "English"}
HTML_LANG = {"zh_CN": "zh-CN", "en": "en"}
DOMAIN = "web"
#: Where times are shown when neither the user nor the record has a site (all four sites of
#: NCT07070323 are in China).
DEFAULT_TIMEZONE = "Asia/Shanghai"


def N_(message: str) -> str:
    """Mark ``message`` for the catalog; it is translated where it is shown."""
    return message


def check_locale(value: str | None) -> str:
    """``value`` if it is an interface language, else the default (never an error)."""
    return value if value in LOCALES else DEFAULT_LOCALE


def resolve_locale(stored: str | None, cookie: str | None, accept_language: str | None) -> str:
    """The language a page is shown in: the signed-in user's stored choice, else the language
    cookie (the switch's choice on this browser), else the browser's ``Accept-Language``."""
    if stored in LOCALES:
        return str(stored)
    if cookie:
        return check_locale(cookie)
    return negotiate(accept_language)


def catalog_text(locale: str) -> str | None:
    """The PO source of ``locale``'s catalog (None for English, which needs none)."""
    path = resources.files("dosewise.web").joinpath("locale", locale, "LC_MESSAGES", "web.po")
    return path.read_text(encoding="utf-8") if path.is_file() else None


@lru_cache(maxsize=len(LOCALES))
def translations(locale: str) -> gettext.NullTranslations:
    """The gettext translations of ``locale``, compiled in memory from the PO catalog."""
    text = catalog_text(check_locale(locale))
    if text is None:
        return gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    catalog = read_po(io.StringIO(text), locale=locale, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def translator(locale: str) -> Callable[..., str]:
    """``_`` for Python code: ``tr("Dose %(dose)s", dose=2)`` (new-style, like the templates)."""
    trans = translations(locale)

    def tr(message: str, **values: Any) -> str:
        text = trans.gettext(message)
        return text % values if values else text

    return tr


# --------------------------------------------------------------------------- time zones


def zone(name: str | None) -> ZoneInfo:
    """The time zone called ``name``; an unknown or missing name falls back to the default."""
    try:
        return ZoneInfo(name or DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


def as_utc(moment: datetime | str | None) -> datetime | None:
    """A UTC moment from a datetime (naive = UTC) or ISO text (``...Z``), None stays None."""
    if moment is None or moment == "":
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def utc_offset(moment: datetime, tz: ZoneInfo) -> str:
    """``UTC+8``, ``UTC-3:30``: the offset the shown time is in (``trial.calendar``'s rule)."""
    return calendar.utc_offset(moment, tz)


# --------------------------------------------------------------------------- formatting


class Formatter:
    """Dates, times and numbers for one locale and time zone (Babel's CLDR patterns)."""

    def __init__(self, locale: str, timezone: str | None = None) -> None:
        self.locale = check_locale(locale)
        self.babel_locale = Locale.parse(self.locale)
        self.tz = zone(timezone)

    def datetime(self, moment: datetime | str | None, *, seconds: bool = False) -> str:
        """A UTC moment in the time zone, e.g. ``Jan 5, 2026, 5:00 PM UTC+8``."""
        utc = as_utc(moment)
        if utc is None:
            return "—"
        pattern = "medium" if seconds else self._short_time_pattern()
        shown = babel_format_datetime(utc, pattern, tzinfo=self.tz, locale=self.babel_locale)
        return f"{shown} {utc_offset(utc, self.tz)}"

    def _short_time_pattern(self) -> str:
        # The locale's medium date with a short time (no seconds): "Jan 5, 2026, 17:00".
        date_part = self.babel_locale.date_formats["medium"].pattern
        time_part = self.babel_locale.time_formats["short"].pattern
        glue = self.babel_locale.datetime_formats["medium"]
        return str(glue).replace("{1}", date_part).replace("{0}", time_part)

    def offset(self) -> str:
        """The time zone's current offset from UTC (``UTC+8``)."""
        return utc_offset(datetime.now(UTC), self.tz)

    def date(self, day: date | str | None) -> str:
        """A calendar date (``*_on`` columns) in the locale's medium form."""
        if day is None or day == "":
            return "—"
        if isinstance(day, str):
            day = date.fromisoformat(day[:10])
        return babel_format_date(day, "medium", locale=self.babel_locale)

    def number(self, value: float | int | None, digits: int = 2) -> str:
        """A number with up to ``digits`` decimals and the locale's separators."""
        if value is None:
            return "—"
        pattern = "#,##0." + "#" * digits if digits > 0 else "#,##0"
        return babel_format_decimal(value, pattern, locale=self.babel_locale)

    def percent(self, value: float | None, digits: int = 1) -> str:
        """A fraction as a percentage (0.25 → 25%)."""
        if value is None:
            return "—"
        pattern = "#,##0." + "0" * digits + "%" if digits > 0 else "#,##0%"
        return babel_format_percent(value, pattern, locale=self.babel_locale)

    def cells(self, value: float | None, digits: int = 2) -> str:
        """A cell count as mantissa×10^exponent (``6.84×10⁷``)."""
        if value is None:
            return "—"
        if value == 0:
            return "0"
        exponent = len(str(int(abs(value)))) - 1 if abs(value) >= 1 else 0
        mantissa = value / 10**exponent
        if round(abs(mantissa), digits) >= 10:
            mantissa /= 10
            exponent += 1
        if exponent == 0:
            return self.number(value, digits)
        shown = babel_format_decimal(
            mantissa, "0." + "#" * digits if digits > 0 else "0", locale=self.babel_locale
        )
        return f"{shown}×10{_superscript(exponent)}"


_SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _superscript(exponent: int) -> str:
    return str(exponent).translate(_SUPERSCRIPTS)
