"""Rendering shared by every report: the Jinja2 environment, HTML → PDF, and writing to ``--out``.

Templates live in ``dosewise/report/templates`` and are rendered with the ``jinja2.ext.i18n``
extension bound to the report's gettext catalog (:mod:`dosewise.report.i18n`), so the same
template gives the English and the Chinese document. PDF goes through WeasyPrint; the fonts are
chosen by CSS ``font-family`` fallbacks (DejaVu Sans for Latin text, then Noto Sans SC for
Chinese, which comes with dosewise and is handed to WeasyPrint by ``@font-face``, see
:mod:`dosewise.report.fonts`), and WeasyPrint embeds the subsets it uses. A document with Chinese
text and no CJK font anywhere is refused (:class:`~dosewise.report.fonts.MissingFont`) rather
than printed as empty boxes.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import jinja2

from dosewise.errors import InvalidParameter
from dosewise.report.fonts import CJK_TEXT, PACKAGED_FAMILY, font_face_css, require_cjk_font
from dosewise.report.i18n import check_lang, html_lang, translations
from dosewise.report.names import source_words

OutputKind = Literal["pdf", "html"]

#: The CSS font stack of every report: Latin first, then the packaged CJK font, then a system
#: CJK font, then any sans.
FONT_STACK: tuple[str, ...] = (
    "DejaVu Sans",
    PACKAGED_FAMILY,
    "Noto Sans CJK SC",
    "Noto Sans CJK",
    "sans-serif",
)

_SUFFIXES: dict[str, OutputKind] = {".pdf": "pdf", ".html": "html", ".htm": "html"}


def output_kind(path: str | Path) -> OutputKind:
    """``pdf`` or ``html`` from the file name; any other ending is a user error."""
    suffix = Path(path).suffix.lower()
    if suffix not in _SUFFIXES:
        raise InvalidParameter("out", str(path), "must end in .pdf or .html")
    return _SUFFIXES[suffix]


def fmt(value: Any, digits: int = 1) -> str:
    """A number with a fixed count of decimals ("—" for a missing value), the same in every
    language so that the English and Chinese reports print identical figures."""
    if value is None:
        return "—"
    number = float(value)
    if math.isnan(number):
        return "—"
    text = f"{number:.{digits}f}"
    return text.lstrip("-") if float(text) == 0 else text


def fmt_g(value: Any) -> str:
    """A design constant as a person writes it: 0.35, 60 (not 60.0), 12."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def sci(value: float) -> str:
    """A cell dose such as 500000.0 as ``5×10⁵`` (the registry's notation)."""
    if value <= 0:
        return fmt_g(value)
    exponent = math.floor(math.log10(value))
    mantissa = value / 10**exponent
    sup = str(exponent).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))
    return f"{mantissa:g}×10{sup}"


@jinja2.pass_context
def dose_name(context: Any, dose: int | None) -> str:
    """A 1-based design dose by its protocol name (the context's ``dose_names``)."""
    if dose is None:
        return "—"
    names = context.get("dose_names") or ()
    return str(names[dose - 1]) if 1 <= dose <= len(names) else str(dose)


@lru_cache(maxsize=4)
def environment(lang: str) -> jinja2.Environment:
    """The template environment of one language (cached; templates are read from the package)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("dosewise.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "html.j2"], default_for_string=True),
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        lstrip_blocks=True,
    )
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    env.filters["fmt"] = fmt
    env.filters["fmt_g"] = fmt_g
    env.filters["sci"] = sci
    env.filters["dose_name"] = dose_name
    env.filters["source_words"] = source_words
    env.globals["font_stack"] = ", ".join(
        f'"{name}"' if " " in name else name for name in FONT_STACK
    )
    return env


#: Chinese full-width punctuation: a source line break after it must not become a space.
_CJK_GAP = re.compile(r"([。；：，、！？）])[ \t]*\n\s*(?=[^\s<])")


def render_html(template: str, context: Mapping[str, Any], lang: str) -> str:
    """Render ``template`` in ``lang`` (``en`` or ``zh``) with ``context``."""
    lang = check_lang(lang)
    env = environment(lang)
    html = env.get_template(template).render(**context, lang=lang, html_lang=html_lang(lang))
    if lang == "zh":
        # Sentences are separate template lines; Chinese text runs on without a space.
        html = _CJK_GAP.sub(r"\1", html)
    return html


class PdfDraft:
    """An HTML document made ready for WeasyPrint (imported, parsed, its stylesheets read),
    whose images may still be swapped in: the steps that need no image can run while the
    images are drawn elsewhere (the DSMB report's figures, :mod:`dosewise.report.figures_aside`).

    Chinese text needs a CJK font: without one the document is refused (``MissingFont``).
    """

    def __init__(self, html: str, base_url: str | None = None) -> None:
        if CJK_TEXT.search(html):
            require_cjk_font("PDF")
        from dosewise.report.weasy import import_weasyprint

        # First (slow; only PDFs need it): by its Linux library names, see report.weasy.
        weasyprint = import_weasyprint()
        from weasyprint.text.fonts import FontConfiguration  # type: ignore[import-untyped]

        # WeasyPrint logs every CSS property it ignores and every font it falls back from at
        # WARNING; a report is not the place to show them.
        logging.getLogger("weasyprint").setLevel(logging.ERROR)
        logging.getLogger("fontTools").setLevel(logging.ERROR)
        self._document = weasyprint.HTML(string=html, base_url=base_url or str(Path.cwd()))
        self._fonts = FontConfiguration()
        faces = font_face_css()
        self._stylesheets = [weasyprint.CSS(string=faces, font_config=self._fonts)] if faces else []

    def pdf(self, images: Mapping[str, str] | None = None) -> bytes:
        """The PDF, each ``<img src>`` named in ``images`` first pointed at its value (figures
        are data URIs, so no base URL is needed for them)."""
        for img in self._document.etree_element.iter("img"):
            src = img.get("src")
            if images and src in images:
                img.set("src", images[src])
        pdf = self._document.write_pdf(stylesheets=self._stylesheets, font_config=self._fonts)
        if not isinstance(pdf, bytes):  # pragma: no cover - write_pdf without a target: bytes
            raise RuntimeError("WeasyPrint returned no PDF")
        return pdf


def html_to_pdf(html: str, base_url: str | None = None) -> bytes:
    """The PDF of an HTML document (figures are data URIs, so no base URL is needed).

    Chinese text needs a CJK font: without one the document is refused (``MissingFont``).
    """
    return PdfDraft(html, base_url).pdf()


def writable(out: str | Path) -> tuple[Path, OutputKind]:
    """``out`` as a path and its kind (by the file's ending), once its folder is known to exist."""
    path = Path(out)
    kind = output_kind(path)
    if path.parent and not path.parent.exists():
        raise InvalidParameter("out", str(path), "the folder does not exist")
    return path, kind


def write_document(html: str, out: str | Path) -> tuple[Path, OutputKind]:
    """Write ``html`` to ``out`` as HTML or PDF, chosen by the file's ending."""
    path, kind = writable(out)
    if kind == "pdf":
        path.write_bytes(html_to_pdf(html))
    else:
        path.write_text(html, encoding="utf-8")
    return path, kind
