"""The PDF renders, embeds its fonts (a CJK one for Chinese), and its first page turns into an
image (pdftoppm); without any CJK font a Chinese PDF is refused, an English one is not."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from dosewise.report import fonts
from dosewise.report.render import html_to_pdf
from pdf_checks import PDFFONTS, is_cjk_font, pdf_font_rows

PDFTOPPM = shutil.which("pdftoppm")


def test_pdf_is_a_pdf(pdf_zh: Path) -> None:
    data = pdf_zh.read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    assert len(data) > 100_000  # text, tables and four embedded figures


@pytest.mark.skipif(PDFTOPPM is None, reason="pdftoppm (poppler-utils) is not installed")
def test_pdftoppm_renders_page_one(pdf_zh: Path, tmp_path: Path) -> None:
    prefix = tmp_path / "page"
    subprocess.run(
        [str(PDFTOPPM), "-png", "-r", "40", "-f", "1", "-l", "1", str(pdf_zh), str(prefix)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) == 1
    png = pages[0].read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5_000


@pytest.mark.skipif(PDFFONTS is None, reason="pdffonts (poppler-utils) is not installed")
def test_fonts_are_embedded_and_one_is_cjk(pdf_zh: Path) -> None:
    rows = pdf_font_rows(pdf_zh)
    assert rows
    assert all(row[-5] == "yes" for row in rows), rows
    assert any("DejaVu" in row[0] for row in rows)
    assert any(is_cjk_font(row[0]) for row in rows), rows


@pytest.mark.skipif(PDFFONTS is None, reason="pdffonts (poppler-utils) is not installed")
def test_chinese_falls_back_to_the_cjk_font_from_any_font_stack(tmp_path: Path) -> None:
    html = (
        '<html lang="zh-Hans"><body style="font-family: \'No Such Font\', sans-serif">'
        "<p>剂量限制性毒性 (DLT)</p></body></html>"
    )
    path = tmp_path / "fallback.pdf"
    path.write_bytes(html_to_pdf(html))
    assert any(is_cjk_font(row[0]) for row in pdf_font_rows(path))


def test_without_a_cjk_font_chinese_is_refused_and_english_is_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fonts, "cjk_font", lambda: None)
    with pytest.raises(fonts.MissingFont, match="no Chinese \\(CJK\\) font is installed"):
        html_to_pdf('<html lang="zh-Hans"><body><p>剂量限制性毒性 (DLT)</p></body></html>')
    english = html_to_pdf('<html lang="en"><body><p>Dose-limiting toxicity</p></body></html>')
    assert english.startswith(b"%PDF-")
