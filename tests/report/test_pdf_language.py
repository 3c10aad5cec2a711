"""The Chinese PDFs read in Chinese: the crawler's rule (tests/e2e/test_browser_language.py: no
word in Latin letters outside its short allow-list) applied to the text ``pdftotext`` reads from
every Chinese PDF dosewise writes (the DSMB safety report and the statistical design report),
and each of them draws its Chinese with an embedded CJK font (``pdffonts``).

Exempt by markup, as on the pages: text marked ``lang="en"`` (an AE term or system organ class
without a Chinese name, marked as English; an English name quoted in a Chinese reason of the
protocol file, the English of a reason or scenario a data file gives no Chinese for, and the
bibliography) and ``<code>`` (protocol-file paths, file references, commands). The outcome
notation (``2NEN 1E``) and the design report's formulas (single-letter and subscripted symbols
such as ``x_j``, ``n_earlystop``) are notation.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from dosewise.report.design_report import DesignReport
from dosewise.report.dsmb import DsmbReport, build_dsmb, dsmb_html
from dosewise.report.render import write_document
from dosewise.report.trial_data import TrialData
from pdf_checks import PDFFONTS, is_cjk_font, pdf_font_rows

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from test_browser_language import ALLOWED, HAN, latin_words

pytestmark = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="pdftotext (poppler) not installed"
)

#: The outcome notation of the decisions (``2NEN 1E 3EB``).
NOTATION = re.compile(r"\b\d?[NETB]+\b")
#: Formula symbols: one letter (``p0``: with a digit), or a name with a subscript (``x_j``,
#: ``c_T``, ``n_earlystop``).
SYMBOLS = re.compile(
    r"(?<![A-Za-z0-9_.])[A-Za-z]\w*_\w+|(?<![A-Za-z0-9_.\-])(?:[A-Za-z]|[a-z]\d)(?![\w\-])"
)
#: An author-year citation: "(Lin et al. 2020)", "(Zhou, Lee & Yuan 2017)", "Table 1" after it.
CITATION = re.compile(
    r"\b[A-Z][a-z]+(?: et al\.|(?:, [A-Z][a-z]+)*(?: & [A-Z][a-z]+)?) \d{4}(?:, Table \d+)?"
)
#: Function and distribution names in the design report's formulas.
FORMULA_WORDS = frozenset({"log", "Beta", "data", "max", "min"})
#: The design report's statistical abbreviations beside their Chinese words ("操作特征 (OC)"),
#: one parameter's symbol (``maxpen``) and the application it cites by name.
DESIGN_WORDS = frozenset({"OC", "ESS", "PAVA", "TITE", "maxpen"})
DESIGN_NAMES = ("MD Anderson",)


#: Elements whose boundaries end a line of text (a quotation is matched piece by piece).
_BLOCKS = frozenset({"p", "div", "li", "td", "th", "tr", "table", "caption", "h1", "h2", "h3"})
_VOID = frozenset({"br", "img", "meta", "link", "hr", "col", "wbr"})


class _Exempt(HTMLParser):
    """The texts of elements marked ``lang="en"`` and of ``<code>``, one piece per block."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[bool] = []
        self.texts: list[str] = []
        self._current: list[str] = []

    def _flush(self) -> None:
        if self._current:
            self.texts.append(" ".join("".join(self._current).split()))
        self._current = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            return
        if tag in _BLOCKS:
            self._flush()
        self.stack.append(tag == "code" or dict(attrs).get("lang") == "en")

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID or not self.stack:
            return
        self.stack.pop()
        if tag in _BLOCKS or not any(self.stack):
            self._flush()

    def handle_data(self, data: str) -> None:
        if any(self.stack):
            self._current.append(data)


_CJK = r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]"


def _squeeze(text: str) -> str:
    """Whitespace collapsed; a line broken after a hyphen or a slash, before punctuation or
    between two Chinese characters joined again (``CAR-\\nT``, ``立\\n泉``)."""
    text = " ".join(text.split())
    text = re.sub(r"(?<=[-/–]) | (?=[.,;:)])", "", text)
    return re.sub(rf"(?<={_CJK}) (?={_CJK})", "", text)


def foreign_words(pdf: Path, html: str, names: tuple[str, ...] = ()) -> list[str]:
    """Latin-letter words in the PDF's text that neither the allow-list, ``names`` nor markup
    exempts."""
    text = subprocess.run(
        ["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert HAN.search(text), f"{pdf.name} has no Chinese text"
    parser = _Exempt()
    parser.feed(html)
    squeezed = _squeeze(text)
    quoted = {_squeeze(t) for t in parser.texts if re.search("[A-Za-z]", t)}
    for piece in sorted(quoted, key=len, reverse=True):
        squeezed = squeezed.replace(piece, " ")
    squeezed = CITATION.sub(" ", squeezed)
    lines = [SYMBOLS.sub(" ", NOTATION.sub(" ", squeezed))]
    return sorted(set(latin_words(lines, names)) - FORMULA_WORDS)


def _check_fonts(pdf: Path) -> None:
    if PDFFONTS is None:
        return
    rows = pdf_font_rows(pdf)
    assert any(is_cjk_font(row[0]) for row in rows), rows
    assert all(row[-5] == "yes" for row in rows), rows  # every font embedded


@pytest.fixture(scope="module")
def dsmb(trial: TrialData) -> DsmbReport:
    return build_dsmb(trial)


def test_the_allow_list_is_the_crawlers() -> None:
    assert {"DLT", "CRS", "ICANS", "DL1"} <= ALLOWED
    assert latin_words(["剂量 DL1 的 DLT"]) == []
    assert latin_words(["剂量 DL1 grade 3"]) == ["grade"]


def test_the_chinese_dsmb_report_reads_in_chinese(dsmb: DsmbReport, tmp_path: Path) -> None:
    html = dsmb_html(dsmb, "zh")
    pdf, kind = write_document(html, tmp_path / "dsmb-zh.pdf")
    assert kind == "pdf"
    _check_fonts(pdf)
    words = foreign_words(pdf, html)
    assert not words, f"Latin words in the Chinese DSMB report: {words[:80]}"


def test_the_chinese_design_report_reads_in_chinese(
    report: DesignReport, html_zh: str, tmp_path: Path
) -> None:
    pdf, kind = write_document(html_zh, tmp_path / "design-zh.pdf")
    assert kind == "pdf"
    _check_fonts(pdf)
    # Scenario names are the scenario library's ids (``dl1-best``), shown as they are.
    names = {oc.scenario.name for group in report.groups for oc in group.ocs}
    scenarios = {part for name in names for part in (name, *name.split("-", 1)[1:])}
    found = foreign_words(pdf, html_zh, DESIGN_NAMES)
    words = [w for w in found if w not in scenarios | DESIGN_WORDS]
    assert not words, f"Latin words in the Chinese design report: {words[:80]}"


def test_the_check_finds_english_left_in_a_chinese_report(tmp_path: Path) -> None:
    """The rule fails on an untranslated heading and passes on quoted, marked English."""
    body = (
        "<html lang='zh-Hans'><body><h1>剂量决策</h1><p>依据：DL1 的 3 例中 0 例 DLT。</p>"
        "<p lang='en'>Quoted from the protocol file.</p>{extra}</body></html>"
    )
    clean = body.format(extra="")
    pdf, _ = write_document(clean, tmp_path / "clean.pdf")
    assert foreign_words(pdf, clean) == []
    left = body.format(extra="<h2>Running head</h2>")
    pdf, _ = write_document(left, tmp_path / "left.pdf")
    assert foreign_words(pdf, left) == ["Running", "head"]
