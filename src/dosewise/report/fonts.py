"""The Chinese (CJK) font of every PDF and chart: found once, registered where it is needed.

dosewise depends on ``pylopdf-fonts-zh-cn``, a data-only wheel that carries Noto Sans SC (the
Simplified-Chinese subset of Noto Sans CJK, SIL Open Font License 1.1), so Chinese renders on a
fresh machine without any system font. When that package is missing, a system Noto Sans CJK /
Noto Sans SC / Source Han Sans file is used instead. When neither exists, a document with Chinese
text is refused (:class:`MissingFont`) rather than drawn as empty boxes.

Nothing here runs at import: the search happens the first time a report or a chart needs it, and
only a successful search is cached, so a font installed while the server runs is picked up by
the next report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from dosewise.errors import DosewiseError

#: Han ideographs, CJK punctuation and full-width forms: text that needs a CJK font.
CJK_TEXT = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")

#: The family name the packaged font declares (and the @font-face rule uses).
PACKAGED_FAMILY = "Noto Sans SC"

#: File-name prefixes of system CJK fonts accepted as a fallback (Noto first, then Source Han).
_SYSTEM_PREFIXES = ("NotoSansSC", "NotoSansCJK", "SourceHanSansSC", "SourceHanSans")


class MissingFont(DosewiseError):
    """No font that can draw Chinese is available, so a Chinese document cannot be drawn."""


@dataclass(frozen=True)
class CjkFont:
    """A font file that covers Simplified Chinese, with its family name and where it came from."""

    path: Path
    family: str
    source: Literal["package", "system"]


def _packaged() -> CjkFont | None:
    """Noto Sans SC from the ``pylopdf-fonts-zh-cn`` dependency, if it is installed."""
    try:
        import pylopdf_fonts_zh_cn  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        return None
    path = Path(pylopdf_fonts_zh_cn.sans_path())
    return CjkFont(path, PACKAGED_FAMILY, "package") if path.is_file() else None


def _system() -> CjkFont | None:
    """The first system font file named like Noto Sans SC/CJK or Source Han Sans."""
    from matplotlib import font_manager

    candidates = sorted(
        (Path(p) for p in font_manager.findSystemFonts()),
        key=lambda p: (p.suffix.lower() == ".ttc", p.name),  # a single-face file first
    )
    for prefix in _SYSTEM_PREFIXES:
        for path in candidates:
            if path.name.startswith(prefix) and "Mono" not in path.name:
                try:
                    family = font_manager.FontProperties(fname=str(path)).get_name()
                except (OSError, RuntimeError, ValueError):
                    continue
                return CjkFont(path, family, "system")
    return None


@lru_cache(maxsize=1)
def _cached() -> CjkFont:
    found = _packaged() or _system()
    if found is None:
        raise LookupError  # not cached: the next call searches again
    return found


def cjk_font() -> CjkFont | None:
    """The CJK font to use, or None when the machine has none."""
    try:
        return _cached()
    except LookupError:
        return None


def require_cjk_font(what: str) -> CjkFont:
    """The CJK font, or :class:`MissingFont` naming ``what`` could not be drawn."""
    font = cjk_font()
    if font is None:
        raise MissingFont(
            "font",
            "Noto Sans SC",
            f"no Chinese (CJK) font is installed, so the Chinese {what} would print empty boxes;"
            " reinstall dosewise (it depends on pylopdf-fonts-zh-cn, which carries Noto Sans SC)"
            " or install a Noto Sans CJK system font",
        )
    return font


def font_face_css() -> str:
    """An ``@font-face`` rule that gives WeasyPrint the packaged font by file URL.

    A system font needs no rule (fontconfig already knows it by family name); no font, no rule.
    The rule is for PDFs only: HTML reports never point a browser at a local file.
    """
    font = cjk_font()
    if font is None or font.source != "package":
        return ""
    return f'@font-face {{ font-family: "{font.family}"; src: url("{font.path.as_uri()}"); }}'


def matplotlib_family() -> str:
    """Register the CJK font with Matplotlib and return its family name (``MissingFont``
    without one)."""
    return _register(require_cjk_font("chart"))


@lru_cache(maxsize=4)
def _register(font: CjkFont) -> str:
    from matplotlib import font_manager

    font_manager.fontManager.addfont(str(font.path))
    return font.family
