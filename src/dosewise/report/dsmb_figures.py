"""The DSMB report's two figures, drawn from a plain description of what they show.

:func:`figure_spec` takes from a :class:`~dosewise.report.dsmb.DsmbReport` exactly what the
figures draw (each treated participant's course, each arm's name and colour, the counts by dose
and the translated legend words) as a frozen value; :func:`draw_figures` draws from that value
alone. So the PNGs are a pure function of the spec and the drawing code, and
:func:`dsmb_figures` keeps them in the report cache (:class:`~dosewise.report.oc_cache.OcCache`)
under the spec and :func:`~dosewise.report.oc_cache.figure_fingerprint` (this module, the
catalogs, the Matplotlib, Pillow and font versions): a DSMB report on unchanged data, in a
process or a fresh command, neither imports Matplotlib nor draws (about a second), and any
change to what a figure shows is a new key, never a stale picture.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from dosewise.report.figures import figure_uri, new_figure
from dosewise.report.i18n import Translator
from dosewise.report.names import ReportNames

if TYPE_CHECKING:
    from dosewise.report.dsmb import DsmbReport
    from dosewise.report.oc_cache import OcCache

#: One colour per arm, in the protocol's arm order (Okabe-Ito, colour-blind safe).
ARM_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7")


@dataclass(frozen=True)
class SwimmerRow:
    """One treated participant's bar: days since infusion and the days of first events."""

    study_id: Any
    level: Any
    arm_id: Any
    days: Any
    response_day: Any
    dlt_day: Any
    death_day: Any


@dataclass(frozen=True)
class DoseCounts:
    """One dose's bar pair: its name and the treated, DLT and responder counts."""

    level: Any
    n: Any
    dlt: Any
    responses: Any


@dataclass(frozen=True)
class FigureSpec:
    """Everything the two figures show (the cache key: equal specs draw equal PNGs)."""

    lang: str
    #: (arm id, arm name in ``lang``) in the protocol's order; the colours follow it.
    arms: tuple[tuple[str, str], ...]
    swimmer: tuple[SwimmerRow, ...]
    #: (arm id, arm name in ``lang``, its doses) per arm state, in the report's order.
    rates: tuple[tuple[str, str, tuple[DoseCounts, ...]], ...]
    #: The legend's translated words: deaths, responses.
    deaths: str
    responses: str


def figure_spec(report: DsmbReport, lang: str) -> FigureSpec:
    """What the report's figures show, in ``lang``."""
    tr = Translator(lang)
    names = ReportNames(lang, report.arm_names)
    return FigureSpec(
        lang=lang,
        arms=tuple((a["arm_id"], names.arm(a["arm_id"])) for a in report.arms),
        swimmer=tuple(
            SwimmerRow(
                r["study_id"],
                r["level"],
                r["arm_id"],
                r["days"],
                r["response_day"],
                r["dlt_day"],
                r["death_day"],
            )
            for r in report.swimmer
        ),
        rates=tuple(
            (
                s["arm_id"],
                names.arm(s["arm_id"]),
                tuple(DoseCounts(d["level"], d["n"], d["dlt"], d["responses"]) for d in s["doses"]),
            )
            for s in report.states
        ),
        deaths=tr("Deaths"),
        responses=tr("Responses"),
    )


def draw_figures(spec: FigureSpec) -> dict[str, str]:
    """The swimmer plot and the observed rates by dose, as PNG data URIs."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    colour = {arm_id: ARM_COLOURS[i % 4] for i, (arm_id, _) in enumerate(spec.arms)}
    rows = spec.swimmer
    height = max(3.0, 0.12 * len(rows) + 1.2)
    with new_figure(spec.lang, 7.0, height) as (fig, ax):
        for y, r in enumerate(rows):
            ax.barh(y, r.days, color=colour[r.arm_id], height=0.7)
            if r.response_day is not None:
                ax.plot(r.response_day, y, marker="o", color="black", ms=3)
            if r.dlt_day is not None:
                ax.plot(r.dlt_day, y, marker="x", color="#D55E00", ms=5)
            if r.death_day is not None:
                ax.plot(r.death_day, y, marker="s", color="black", ms=4)
        ax.set_yticks(range(len(rows)))
        ax.set_yticklabels([f"{r.study_id} {r.level}" for r in rows], fontsize=4.5)
        ax.invert_yaxis()
        ax.set_xlabel("Study day (0 = infusion)")
        handles: list[Any] = [Patch(color=colour[arm_id], label=name) for arm_id, name in spec.arms]
        handles += [
            Line2D([], [], marker="o", color="black", ls="", label="CR/CRi"),
            Line2D([], [], marker="x", color="#D55E00", ls="", label="DLT"),
            Line2D([], [], marker="s", color="black", ls="", label=spec.deaths),
        ]
        ax.legend(handles=handles, loc="lower right", fontsize=6)
        swimmer = figure_uri(fig)
    arms = spec.rates
    with new_figure(spec.lang, 7.0, 2.4, ncols=max(len(arms), 1), sharey=True) as (fig, axes):
        axes = axes if hasattr(axes, "__len__") else [axes]
        for ax, (_, name, doses) in zip(axes, arms, strict=True):
            levels = [d.level for d in doses]
            tox = [d.dlt / d.n if d.n else 0.0 for d in doses]
            eff = [d.responses / d.n if d.n else 0.0 for d in doses]
            xs = range(len(levels))
            ax.bar([x - 0.2 for x in xs], tox, width=0.4, color="#D55E00", label="DLT")
            ax.bar([x + 0.2 for x in xs], eff, width=0.4, color="#0072B2", label=spec.responses)
            for x, d in zip(xs, doses, strict=True):
                ax.text(x, 1.02, f"n={d.n}", ha="center", fontsize=6)
            ax.set_xticks(list(xs))
            ax.set_xticklabels(levels)
            ax.set_ylim(0, 1.1)
            ax.set_title(name, fontsize=7)
        axes[0].legend(fontsize=6, loc="upper left")
        rates = figure_uri(fig)
    return {"swimmer": swimmer, "rates": rates}


def dsmb_figures(report: DsmbReport, lang: str, cache: OcCache | None = None) -> dict[str, str]:
    """The report's figures in ``lang``: from ``cache`` when drawn before, else drawn (and kept)."""
    return pending_figures(report, lang, cache)()


def pending_figures(
    report: DsmbReport, lang: str, cache: OcCache | None = None
) -> Callable[[], dict[str, str]]:
    """The report's figures in ``lang``, collected by calling the result: read from ``cache``
    now when drawn before; else handed at once to the command's helper process when it
    started one (:func:`~dosewise.report.figures_aside.figures_aside`), which draws them while
    the caller does other work; else drawn when collected. Drawn figures are kept in
    ``cache``."""
    from dosewise.report.figures_aside import current

    spec = figure_spec(report, lang)
    key: tuple[Any, ...] = ()
    if cache is not None:
        from dosewise.report.oc_cache import figure_fingerprint

        key = ("dsmb_figures", figure_fingerprint(), spec)
        found, kept = cache.get(key)
        if found:
            return lambda: cast(dict[str, str], kept)
    aside = current()
    if aside is not None:
        aside.send(spec)

    def collect() -> dict[str, str]:
        figures = draw_figures(spec) if aside is None else aside.receive(spec)
        return figures if cache is None else cache.put(key, figures)

    return collect
