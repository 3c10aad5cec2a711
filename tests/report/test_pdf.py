"""The PDF renders, embeds its fonts, and its first page turns into an image (pdftoppm)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from dosewise.report.render import html_to_pdf

PDFTOPPM = shutil.which("pdftoppm")
PDFFONTS = shutil.which("pdffonts")


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
def test_fonts_are_embedded(pdf_zh: Path) -> None:
    listing = subprocess.run(
        [str(PDFFONTS), str(pdf_zh)], check=True, capture_output=True, text=True, timeout=60
    ).stdout
    rows = [line.split() for line in listing.splitlines()[2:] if line.strip()]
    assert rows
    # Columns: name type... encoding emb sub uni object ID; "emb" is the 5th from the end.
    assert all(row[-5] == "yes" for row in rows), listing
    assert any("DejaVu" in row[0] for row in rows)


def test_missing_font_does_not_fail() -> None:
    html = (
        '<html lang="zh-Hans"><body style="font-family: \'No Such Font CJK\', sans-serif">'
        "<p>剂量限制性毒性 (DLT)</p></body></html>"
    )
    assert html_to_pdf(html).startswith(b"%PDF-")
