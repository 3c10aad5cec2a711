"""The Chinese catalog is complete, and no user-facing text escapes it.

- every message the templates and the web modules use (extracted exactly as ``pybabel extract``
  does, with ``babel.cfg``) has a Chinese translation in ``web.po``, and the catalog holds no
  message that is no longer used;
- a translation keeps every placeholder of its message (``%(name)s``; a literal ``%%`` stays);
- clinical terms keep their standard English names beside the Chinese (CTCAE, ASTCT, DLT, CRS,
  ICANS, BOR, OBD, RP2D, RDS);
- the templates have no English words outside ``_()``: literal text and the ``title``,
  ``placeholder``, ``aria-label`` and ``alt`` attributes are scanned, and anything but codes,
  units and the allowed proper names fails the test.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import jinja2
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from dosewise.web import i18n
from dosewise.web.render import environment

WEB = Path(str(resources.files("dosewise.web")))
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "tr": None}
METHODS = [("**.py", "python"), ("templates/**.html", "jinja2")]
OPTIONS = {
    "templates/**.html": {
        "extensions": "jinja2.ext.i18n",
        "trimmed": "true",
        "newstyle_gettext": "true",
    }
}
PLACEHOLDER = re.compile(r"%\([a-z_]+\)s|%%")
#: Words a template may show untranslated: the product, codes, units, tools and standards.
ALLOWED = {
    "dosewise",
    "NCT",
    "BOIN",
    "TITE",
    "CTCAE",
    "ASTCT",
    "DLT",
    "CRS",
    "ICANS",
    "BOR",
    "OBD",
    "RDS",
    "RP2D",
    "DSMB",
    "BOP",
    "ICE",
    "CAPD",
    "TNC",
    "CAR",
    "CD",
    "MRD",
    "ANC",
    "BUN",
    "ECOG",
    "MFI",
    "kg",
    "mL",
    "min",
    "UTC",
    "DL",
    "mg",
    "dL",
    "mmol",
    "mol",
    "NCT07070323",
    "BOIN12",
    "English",
    "E",
    "n",
    "S01",
    "A",
    "µmol",
    "L",
    "v5",
}
WORD = re.compile(r"[A-Za-zµ][A-Za-zµ0-9]*")


def extracted() -> set[str]:
    """Every message id of the web package, as ``pybabel extract -F babel.cfg`` finds them."""
    ids = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(WEB), METHODS, OPTIONS, KEYWORDS
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            ids.add(msgid)
    return ids


def catalog() -> dict[str, str]:
    text = i18n.catalog_text("zh_CN")
    assert text is not None, "locale/zh_CN/LC_MESSAGES/web.po is missing"
    import io

    po = read_po(io.StringIO(text), locale="zh_CN")
    return {m.id: m.string for m in po if m.id and not m.fuzzy}


def test_every_message_has_a_chinese_translation() -> None:
    used, known = extracted(), catalog()
    assert len(used) > 400  # the extraction itself works
    missing = sorted(m for m in used if not known.get(m))
    assert not missing, f"{len(missing)} messages have no Chinese translation: {missing[:20]}"


def test_catalog_has_no_unused_messages() -> None:
    unused = sorted(set(catalog()) - extracted())
    assert not unused, f"messages no longer used (run pybabel update): {unused[:20]}"


def test_translations_keep_their_placeholders() -> None:
    for msgid, msgstr in catalog().items():
        assert sorted(PLACEHOLDER.findall(msgid)) == sorted(PLACEHOLDER.findall(msgstr)), msgid


@pytest.mark.parametrize("term", ["CTCAE", "ASTCT", "DLT", "CRS", "ICANS", "BOR", "OBD", "RP2D"])
def test_clinical_terms_keep_their_english_names(term: str) -> None:
    """A message naming a term translates to Chinese that still shows the term (e.g. "(CRS)")."""
    pairs = [(i, s) for i, s in catalog().items() if re.search(rf"\b{term}\b", i)]
    assert pairs, f"no message uses {term}"
    for msgid, msgstr in pairs:
        assert term in msgstr, f"{msgid!r} → {msgstr!r} lost {term}"
        assert re.search(r"[\u4e00-\u9fff]", msgstr), f"{msgid!r} has no Chinese label"


def _visible_text(source: str) -> list[str]:
    """The literal text of a template that a person sees (outside Jinja code)."""
    env = jinja2.Environment(extensions=["jinja2.ext.i18n"])
    chunks = []
    for _line, kind, value in env.lex(source):
        if kind == "data":
            chunks.append(value)
    html = "".join(chunks)
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    found = re.findall(r'(?:title|placeholder|aria-label|alt)="([^"{]*)"', html)
    text = re.sub(r"<[^>]*>", " ", html)
    text = re.sub(r'[\w-]+="[^"]*"', " ", text)  # attributes a macro writes in pieces
    text = re.sub(r"&[a-z]+;|&#\d+;", " ", text)
    return [*found, text]


def test_templates_show_no_untranslated_words() -> None:
    problems = []
    for path in sorted((WEB / "templates").rglob("*.html")):
        for chunk in _visible_text(path.read_text(encoding="utf-8")):
            words = [w for w in WORD.findall(chunk) if w not in ALLOWED and len(w) > 1]
            if words:
                problems.append(f"{path.relative_to(WEB)}: {' '.join(words)[:80]}")
    assert not problems, "text outside _():\n" + "\n".join(problems)


def test_the_scan_finds_untranslated_text() -> None:
    """The scan above is not vacuous: a plain English word in a template is caught."""
    (chunk,) = [
        c for c in _visible_text('<p title="Hello">Save now {{ _("ok") }}</p>') if "Save" in c
    ]
    assert "Save" in WORD.findall(chunk)
    assert _visible_text('<a title="Close it">x</a>')[0] == "Close it"


def test_chinese_environment_translates_and_english_is_the_message_id() -> None:
    zh = environment("zh_CN").from_string('{{ _("Sign in") }}|{{ _("Grade %(grade)s", grade=3) }}')
    en = environment("en").from_string('{{ _("Sign in") }}|{{ _("Grade %(grade)s", grade=3) }}')
    assert zh.render() == "登录|3 级"
    assert en.render() == "Sign in|Grade 3"


def test_negotiate_prefers_the_browsers_language() -> None:
    assert i18n.negotiate("zh-CN,zh;q=0.9,en;q=0.8") == "zh_CN"
    assert i18n.negotiate("en-GB,en;q=0.9,zh;q=0.5") == "en"
    assert i18n.negotiate("fr-FR") == "en"
    assert i18n.negotiate(None) == "en"
