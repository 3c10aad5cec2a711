"""Report text in Chinese: a complete, well-formed gettext catalog, and a Chinese document."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_python
from babel.messages.pofile import read_po
from jinja2.ext import babel_extract

from dosewise.errors import InvalidParameter
from dosewise.report.i18n import Translator, catalog_text, check_lang, translations

REPORT = Path(__file__).resolve().parents[2] / "src" / "dosewise" / "report"
PLACEHOLDER = re.compile(r"%\([a-z_0-9]+\)s")
CJK = re.compile(r"[\u4e00-\u9fff]")
#: Abbreviations a Chinese statistician expects to see kept beside the Chinese term.
TERMS = ("DLT", "OBD", "MTD", "RP2D", "BOR", "BOIN12", "TITE-BOIN12", "BOP2", "RDS", "ESS", "OC")


def _first(message: object) -> str | None:
    """The message id of an extracted message (plural forms give a tuple, variables None)."""
    if isinstance(message, tuple | list):
        message = message[0] if message else None
    return message if isinstance(message, str) and message else None


def _extracted() -> set[str]:
    """Every message id used by the report templates and modules (what pybabel would extract)."""
    found: set[str] = set()
    options = {"extensions": "jinja2.ext.i18n", "trimmed": "true", "newstyle_gettext": "true"}
    for path in sorted((REPORT / "templates").glob("*.j2")):
        with path.open("rb") as handle:
            for _, _, message, _ in babel_extract(handle, list(DEFAULT_KEYWORDS), [], options):
                if text := _first(message):
                    found.add(text)
    for path in sorted(REPORT.glob("*.py")):
        with path.open("rb") as handle:
            keywords = {**DEFAULT_KEYWORDS, "tr": None}
            for _, _, found_message, _ in extract_python(handle, keywords, [], {}):
                if text := _first(found_message):
                    found.add(text)
    return found


@pytest.fixture(scope="module")
def catalog() -> dict[str, str]:
    text = catalog_text("zh")
    assert text is not None
    po = read_po(io.StringIO(text), locale="zh")
    return {str(m.id): str(m.string) for m in po if m.id}


def test_every_message_has_a_chinese_translation(catalog: dict[str, str]) -> None:
    used = _extracted()
    assert len(used) > 150
    missing = sorted(m for m in used if not catalog.get(m))
    assert not missing, missing[:5]
    stale = sorted(set(catalog) - used)
    assert not stale, stale[:5]


def test_translations_keep_placeholders_and_percent_signs(catalog: dict[str, str]) -> None:
    for msgid, msgstr in catalog.items():
        assert sorted(PLACEHOLDER.findall(msgid)) == sorted(PLACEHOLDER.findall(msgstr)), msgid
        # Both render (a stray "%" would raise here, as in the template), and a percentage in
        # English ("%" or "per cent") is a percentage in Chinese.
        values = {name[2:-2]: "1" for name in PLACEHOLDER.findall(msgid)}
        english, chinese = msgid % values, msgstr % values
        assert ("%" in english or "per cent" in english) == ("%" in chinese), msgid


def test_translations_are_chinese_and_keep_the_english_terms(catalog: dict[str, str]) -> None:
    for msgid, msgstr in catalog.items():
        if CJK.search(msgid) is None and len(msgid) > 12:
            assert CJK.search(msgstr), msgid
        for term in TERMS:
            if re.search(rf"\b{re.escape(term)}\b", msgid):
                assert term in msgstr, (term, msgid)


def test_html_tags_survive_translation(catalog: dict[str, str]) -> None:
    tag = re.compile(r"</?[a-z]+[^>]*>")
    for msgid, msgstr in catalog.items():
        assert tag.findall(msgid) == tag.findall(msgstr), msgid


def test_translator_fills_placeholders() -> None:
    zh = Translator("zh")
    assert zh("Statistical design") == "统计设计"
    text = zh("Unit: %(unit)s", unit="cells/kg")
    assert "cells/kg" in text and CJK.search(text)
    assert Translator("en")("Unit: %(unit)s", unit="cells/kg") == "Unit: cells/kg"


def test_english_needs_no_catalog() -> None:
    assert catalog_text("en") is None
    assert translations("en").gettext("Dose levels") == "Dose levels"


def test_unknown_language_is_a_user_error() -> None:
    with pytest.raises(InvalidParameter, match="lang='fr': must be one of en, zh"):
        check_lang("fr")


def test_chinese_report_is_chinese(html_zh: str, html_en: str) -> None:
    assert '<html lang="zh-Hans">' in html_zh
    assert '<html lang="en">' in html_en
    assert "统计设计" in html_zh and "剂量限制性毒性 (DLT)" in html_zh
    assert len(CJK.findall(html_zh)) > 3000
    assert not CJK.search(html_en.split("<body", 1)[1].split("Appendix A")[0])
