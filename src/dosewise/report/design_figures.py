"""The design report's figures: scenario truths, selection, allocation and trial duration.

Each function draws already-computed operating characteristics (:mod:`dosewise.report.design_oc`)
into small multiples, one panel per scenario, and returns a PNG data URI. Labels go through the
report's translator so the Chinese report has Chinese figures.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from dosewise.report.design_oc import ScenarioOC
from dosewise.report.figures import (
    BLUE,
    GREEN,
    GREY,
    ORANGE,
    SKY,
    VERMILION,
    figure_uri,
    grouped_bars,
    new_figure,
)
from dosewise.report.i18n import Translator

_WIDTH = 6.8  # inches: the text width of an A4 page with 2 cm margins
_Z95 = 1.959963984540054


def short_name(oc: ScenarioOC, prefix: str) -> str:
    """The scenario name without the protocol's prefix (``nct07070323-dl1-best`` → ``dl1-best``)."""
    name = oc.scenario.name
    return name[len(prefix) :] if prefix and name.startswith(prefix) else name


def _grid(count: int) -> tuple[int, int]:
    cols = min(3, max(count, 1))
    return math.ceil(count / cols), cols


def _panels(axes: object, count: int) -> list[Any]:
    flat = list(np.atleast_1d(np.asarray(axes, dtype=object)).ravel())
    for ax in flat[count:]:
        ax.set_visible(False)
    return flat[:count]


def _first(axes: object) -> Any:
    return np.asarray(axes, dtype=object).ravel()[0]


def truth_figure(
    ocs: Sequence[ScenarioOC], doses: Sequence[str], prefix: str, tr: Translator
) -> str:
    """True DLT and response probability by dose, with φT, φE and the true OBD."""
    rows, cols = _grid(len(ocs))
    with new_figure(tr.lang, _WIDTH, 1.9 * rows + 0.4, nrows=rows, ncols=cols, squeeze=False) as (
        fig,
        axes,
    ):
        x = list(range(len(doses)))
        for ax, oc in zip(_panels(axes, len(ocs)), ocs, strict=True):
            p = oc.params
            ax.plot(x, oc.scenario.p_tox, "o-", color=ORANGE, label=tr("P(DLT)"))
            ax.plot(x, oc.scenario.p_eff, "s--", color=GREEN, label=tr("P(response)"))
            ax.axhline(p.phi_t, color=ORANGE, lw=0.8, ls=":")
            ax.axhline(p.phi_e, color=GREEN, lw=0.8, ls=":")
            if oc.true_obd is not None:
                ax.axvspan(oc.true_obd - 1.4, oc.true_obd - 0.6, color=VERMILION, alpha=0.12, lw=0)
            ax.set_ylim(0, 1)
            ax.set_xticks(x)
            ax.set_xticklabels(doses)
            ax.set_title(short_name(oc, prefix))
        _first(axes).legend(loc="upper left", frameon=False)
        fig.supylabel(tr("True probability"))
        return figure_uri(fig)


def selection_figure(
    ocs: Sequence[ScenarioOC], doses: Sequence[str], prefix: str, tr: Translator
) -> str:
    """% of trials selecting each dose (or none): exact BOIN12 and simulated TITE-BOIN12."""
    rows, cols = _grid(len(ocs))
    labels = [*doses, tr("none")]
    with new_figure(tr.lang, _WIDTH, 2.0 * rows + 0.5, nrows=rows, ncols=cols, squeeze=False) as (
        fig,
        axes,
    ):
        for ax, oc in zip(_panels(axes, len(ocs)), ocs, strict=True):
            f = oc.tite.figures()
            obd = oc.true_obd
            grouped_bars(
                ax,
                labels,
                [
                    (tr("BOIN12, exact"), oc.exact_selection_pct, None, BLUE),
                    (
                        tr("TITE-BOIN12, simulated"),
                        list(f["selection_pct"]),
                        list(_Z95 * np.asarray(f["selection_se"])),
                        ORANGE,
                    ),
                ],
                highlight=len(doses) if obd is None else obd - 1,
            )
            ax.set_ylim(0, 100)
            ax.set_title(short_name(oc, prefix))
        handles, names = _first(axes).get_legend_handles_labels()
        fig.legend(handles, names, loc="outside lower center", ncols=2, frameon=False)
        fig.supylabel(tr("Trials selecting the dose as OBD") + " (%)")
        return figure_uri(fig)


def allocation_figure(
    ocs: Sequence[ScenarioOC], doses: Sequence[str], prefix: str, tr: Translator
) -> str:
    """Mean patients treated per dose: exact BOIN12 and simulated TITE-BOIN12."""
    rows, cols = _grid(len(ocs))
    top = max(float(oc.params.max_n) for oc in ocs)
    with new_figure(tr.lang, _WIDTH, 2.0 * rows + 0.5, nrows=rows, ncols=cols, squeeze=False) as (
        fig,
        axes,
    ):
        for ax, oc in zip(_panels(axes, len(ocs)), ocs, strict=True):
            f = oc.tite.figures()
            obd = oc.true_obd
            grouped_bars(
                ax,
                list(doses),
                [
                    (tr("BOIN12, exact"), [float(v) for v in oc.exact.mean_n], None, SKY),
                    (
                        tr("TITE-BOIN12, simulated"),
                        list(f["mean_n"]),
                        list(_Z95 * np.asarray(f["se_n"])),
                        ORANGE,
                    ),
                ],
                highlight=None if obd is None else obd - 1,
            )
            ax.set_ylim(0, top)
            ax.set_title(short_name(oc, prefix))
        handles, names = _first(axes).get_legend_handles_labels()
        fig.legend(handles, names, loc="outside lower center", ncols=2, frameon=False)
        fig.supylabel(tr("Mean patients treated"))
        return figure_uri(fig)


def duration_figure(ocs: Sequence[ScenarioOC], prefix: str, tr: Translator) -> str:
    """Mean phase 1 duration per arm: BOIN12 waiting for complete data vs TITE-BOIN12."""
    names = [short_name(oc, prefix) for oc in ocs]
    y = np.arange(len(ocs))
    with new_figure(tr.lang, _WIDTH, 0.42 * len(ocs) + 1.1) as (fig, ax):
        for k, (which, colour, label) in enumerate(
            (
                ("waiting", GREY, tr("BOIN12, waiting for complete data")),
                ("tite", ORANGE, tr("TITE-BOIN12")),
            )
        ):
            means, ses = zip(*(oc.duration_months(which) for oc in ocs), strict=True)
            ax.barh(
                y + (0.2 if k == 0 else -0.2),
                means,
                height=0.38,
                xerr=[_Z95 * s for s in ses],
                color=colour,
                label=label,
                capsize=2,
                error_kw={"elinewidth": 0.8},
            )
        ax.set_yticks(y)
        ax.set_yticklabels(names)
        ax.invert_yaxis()
        ax.set_xlabel(tr("Mean duration of phase 1 in one arm, months"))
        fig.legend(loc="outside lower center", ncols=2, frameon=False)
        return figure_uri(fig)
