"""The arm page's statistician charts, drawn server-side with Matplotlib as SVG data URIs
(text as paths, so the Chinese labels need no font in the browser): the dose trajectory and the
posterior toxicity/efficacy with 95% credible intervals. The values are
:mod:`dosewise.web.arm_stats`'s; the page shows the same values as tables beside the charts.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from dosewise.web.arm_stats import DosePosterior, TrajectoryPoint

Translate = Callable[..., str]


def svg_uri(figure: Any) -> str:
    """The figure as an SVG data URI."""
    from dosewise.report.figures import data_uri

    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*[Gg]lyph.*missing.*")
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    return data_uri(buffer.getvalue(), "image/svg+xml")


def trajectory_chart(
    points: Sequence[TrajectoryPoint], axis: Sequence[str], lang: str, tr: Translate
) -> str | None:
    """Participant order (x) against dose level (y) with DLT, response and pending marks."""
    if not points:
        return None
    from dosewise.report.figures import BLUE, GREY, VERMILION, new_figure

    xs = [p.order for p in points]
    ys = [p.rank for p in points]
    width = min(7.5, 3.2 + 0.22 * len(points))
    with new_figure(lang, width, 2.6) as (fig, ax):
        ax.step(xs, ys, where="mid", color=GREY, lw=0.8, zorder=1)
        # Each layer: the participants it marks, and how (drawn in this order, legend too).
        layers: list[tuple[list[TrajectoryPoint], dict[str, Any]]] = [
            (
                [p for p in points if p.status != "pending"],
                {"s": 28, "color": GREY, "zorder": 2, "label": tr("Outcome known")},
            ),
            (
                [p for p in points if p.status == "pending"],
                {
                    "s": 28,
                    "facecolors": "white",
                    "edgecolors": GREY,
                    "zorder": 2,
                    "label": tr("Pending"),
                },
            ),
            (
                [p for p in points if p.response],
                {
                    "s": 90,
                    "facecolors": "none",
                    "edgecolors": BLUE,
                    "linewidths": 1.4,
                    "zorder": 3,
                    "label": tr("Response"),
                },
            ),
            (
                [p for p in points if p.dlt],
                {
                    "s": 60,
                    "marker": "x",
                    "color": VERMILION,
                    "linewidths": 1.6,
                    "zorder": 4,
                    "label": "DLT",
                },
            ),
        ]
        for marked, style in layers:
            ax.scatter([p.order for p in marked], [p.rank for p in marked], **style)
        ax.set_yticks(range(len(axis)))
        ax.set_yticklabels(list(axis))
        ax.set_ylim(-0.5, len(axis) - 0.5)
        if len(xs) <= 25:
            ax.set_xticks(xs)
        else:  # many participants: whole-number ticks, not one per participant
            from matplotlib.ticker import MaxNLocator

            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlim(0.4, max(xs) + 0.6)
        ax.set_xlabel(tr("Participant (order of enrollment)"))
        ax.set_ylabel(tr("Dose level"))
        ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=4, frameon=False)
        return svg_uri(fig)


def posterior_chart(
    rows: Sequence[DosePosterior], phi_t: float, phi_e: float, lang: str, tr: Translate
) -> str | None:
    """Posterior means with 95% credible intervals per dose (DLT and response), the isotonic
    DLT estimates, and the target lines φT and φE."""
    if not any(r.n for r in rows):
        return None
    from dosewise.report.figures import BLUE, ORANGE, VERMILION, new_figure

    labels = [f"{r.level}\n(n={r.n})" for r in rows]
    xs = list(range(len(rows)))
    with new_figure(lang, 6.4, 2.9, ncols=2, sharey=True) as (fig, (left, right)):
        panels = (
            (left, tr("DLT probability"), [r.toxicity for r in rows], ORANGE, phi_t, "φT"),
            (right, tr("Response probability"), [r.efficacy for r in rows], BLUE, phi_e, "φE"),
        )
        for ax, title, estimates, colour, target, name in panels:
            means = [e.mean for e in estimates]
            below = [e.mean - e.lower for e in estimates]
            above = [e.upper - e.mean for e in estimates]
            ax.errorbar(
                xs,
                means,
                yerr=[below, above],
                fmt="o",
                color=colour,
                capsize=4,
                lw=1.2,
                label=tr("Posterior mean, 95% interval"),
            )
            ax.axhline(target, color=colour, ls="--", lw=0.9)
            ax.text(len(xs) - 0.55, target, f"{name} {target:g}", va="bottom", ha="right")
            ax.set_title(title)
            ax.set_xticks(xs)
            ax.set_xticklabels(labels)
            ax.set_xlim(-0.5, len(xs) - 0.5)
            ax.set_ylim(0, 1)
        iso = [
            (x, r.tox_isotonic) for x, r in zip(xs, rows, strict=True) if r.tox_isotonic is not None
        ]
        if iso:
            left.scatter(
                [x + 0.12 for x, _ in iso],
                [v for _, v in iso],
                marker="D",
                s=26,
                color=VERMILION,
                zorder=3,
                label=tr("Isotonic estimate"),
            )
        left.set_ylabel(tr("Probability"))
        handles, names = left.get_legend_handles_labels()
        fig.legend(handles, names, loc="outside upper center", ncol=len(names), frameon=False)
        return svg_uri(fig)
