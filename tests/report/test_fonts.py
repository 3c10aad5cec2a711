"""The CJK font comes with dosewise: it is found without any system font, it covers every Chinese
character the reports and the pages print, Matplotlib draws Chinese labels with it, and without
it a Chinese chart is refused instead of drawn as boxes."""

from __future__ import annotations

import shutil
import subprocess
import warnings
from importlib import resources
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont

from dosewise.report import fonts
from dosewise.report.figures import new_figure
from dosewise.report.i18n import catalog_text

LABEL = "剂量限制性毒性发生率（观察值）"


def test_the_packaged_font_is_found_first() -> None:
    font = fonts.cjk_font()
    assert font is not None
    assert font.source == "package" and font.family == "Noto Sans SC"
    assert font.path.is_file() and font.path.suffix == ".otf"
    face = fonts.font_face_css()
    assert face.startswith('@font-face { font-family: "Noto Sans SC"; src: url("file:')


def test_the_font_covers_every_chinese_character_of_the_reports(html_zh: str) -> None:
    font = fonts.cjk_font()
    assert font is not None
    cmap = TTFont(font.path, lazy=True).getBestCmap()
    web = resources.files("dosewise.web").joinpath("locale/zh_CN/LC_MESSAGES/web.po")
    texts = (html_zh, catalog_text("zh") or "", web.read_text(encoding="utf-8"))
    used = set().union(*(fonts.CJK_TEXT.findall(text) for text in texts))
    assert len(used) > 600
    missing = sorted(ch for ch in used if ord(ch) not in cmap)
    assert not missing, "".join(missing)


def test_matplotlib_draws_chinese_labels_with_the_cjk_font() -> None:
    from matplotlib import font_manager

    with new_figure("zh", 3, 2) as (figure, ax):
        ax.set_title(LABEL)
        families = ax.title.get_fontfamily()
        assert families[-1] == "Noto Sans SC"
        # The font Matplotlib resolves for each family in the fallback list, and its glyphs.
        paths = [
            font_manager.findfont(font_manager.FontProperties(family=f), fallback_to_default=False)
            for f in families
        ]
        assert any(Path(p).name.startswith("NotoSansSC") for p in paths)
        covered = set().union(*(set(font_manager.get_font(p).get_charmap()) for p in paths))
        assert all(ord(ch) in covered for ch in LABEL)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # "Glyph … missing from font(s)" would fail here
            figure.savefig(Path("/dev/null"), format="png")


def test_english_charts_need_no_cjk_font(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fonts, "cjk_font", lambda: None)
    with new_figure("en", 3, 2) as (_, ax):
        ax.set_title("Dose-limiting toxicity")


def test_without_a_cjk_font_a_chinese_chart_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fonts, "cjk_font", lambda: None)
    refused = pytest.raises(fonts.MissingFont, match="Chinese chart would print empty boxes")
    with refused, new_figure("zh", 3, 2):
        pass  # pragma: no cover - never reached


@pytest.mark.skipif(
    shutil.which("fc-list") is None
    or "cjk" in subprocess.run(["fc-list"], capture_output=True, text=True).stdout.lower(),
    reason="this machine has a CJK system font",
)
def test_without_the_package_and_no_system_font_nothing_is_found(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fonts, "_packaged", lambda: None)
    fonts._cached.cache_clear()
    try:
        assert fonts.cjk_font() is None
        assert fonts.font_face_css() == ""
        with pytest.raises(fonts.MissingFont):
            fonts.require_cjk_font("report")
    finally:
        monkeypatch.undo()
        fonts._cached.cache_clear()
    assert fonts.cjk_font() is not None  # a later call searches again and finds the package
