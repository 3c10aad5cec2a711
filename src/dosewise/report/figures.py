"""Figure helpers shared by the reports: Matplotlib (Agg, no pyplot state) → PNG → data URI.

Figures are built on :class:`matplotlib.figure.Figure` objects directly, never through pyplot's
global figure manager, so building a report leaves no state behind and is safe in a web worker.
Chinese labels need a CJK font: Noto Sans SC (packaged with dosewise, see
:mod:`dosewise.report.fonts`) is registered with Matplotlib the first time a Chinese figure is
drawn and added to the font fallback list; with no CJK font at all a Chinese figure is refused
(``MissingFont``) rather than drawn with empty boxes.
"""

from __future__ import annotations

import base64
import io
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from dosewise.report.fonts import matplotlib_family

#: Colours used by every report (colour-blind safe: Okabe-Ito).
BLUE = "#0072B2"
ORANGE = "#E69F00"
GREEN = "#009E73"
VERMILION = "#D55E00"
GREY = "#8C8C8C"
SKY = "#56B4E9"

_DPI = 200


def _rc(lang: str) -> Any:  # Matplotlib types rc keys as a Literal; this is a plain dict
    families = ["DejaVu Sans"]
    if lang == "zh":
        families.append(matplotlib_family())
    return {
        "font.family": families,
        "font.size": 8.5,
        "axes.titlesize": 9,
        "axes.labelsize": 8.5,
        "legend.fontsize": 7.5,
        "xtick.labelsize": 8,
        "ytick.labelsize": 8,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "svg.fonttype": "path",
    }


@contextmanager
def new_figure(lang: str, width: float, height: float, **subplots: Any) -> Iterator[Any]:
    """A Matplotlib figure (inches) with the report's style; yields ``(figure, axes)``."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    with rc_context(_rc(lang)), warnings.catch_warnings():
        # A family in the fallback list that this machine lacks is not worth a warning.
        warnings.filterwarnings("ignore", message=".*findfont.*")
        figure = Figure(figsize=(width, height), layout="constrained")
        axes = figure.subplots(**subplots) if subplots else figure.subplots()
        yield figure, axes


def png_bytes(figure: Any, dpi: int = _DPI) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*[Gg]lyph.*missing.*")
        figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def data_uri(png: bytes, mime: str = "image/png") -> str:
    """A ``data:`` URI that embeds the image in the HTML (and so in the PDF)."""
    return f"data:{mime};base64,{base64.b64encode(png).decode('ascii')}"


def figure_uri(figure: Any) -> str:
    """PNG data URI of a figure."""
    return data_uri(png_bytes(figure))


def grouped_bars(
    ax: Any,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float], Sequence[float] | None, str]],
    highlight: int | None = None,
) -> None:
    """Side-by-side bars per category: ``series`` = (name, values, 95% half-widths, colour).

    ``highlight`` (0-based category) gets a thin frame, e.g. the true OBD.
    """
    count = len(series)
    width = 0.8 / max(count, 1)
    positions = list(range(len(labels)))
    for k, (name, values, errors, colour) in enumerate(series):
        offset = (k - (count - 1) / 2) * width
        ax.bar(
            [x + offset for x in positions],
            values,
            width=width * 0.95,
            yerr=errors,
            color=colour,
            label=name,
            capsize=2 if errors is not None else 0,
            error_kw={"elinewidth": 0.8},
        )
    if highlight is not None:
        ax.axvspan(highlight - 0.45, highlight + 0.45, color=VERMILION, alpha=0.10, lw=0)
    ax.set_xticks(positions)
    ax.set_xticklabels(labels)
