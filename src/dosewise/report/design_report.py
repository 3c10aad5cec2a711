"""The protocol design report: the statistical section of a BOIN12 / TITE-BOIN12 protocol.

:func:`build_design_report` computes everything once, in no particular language: the design of
each group of arms (:mod:`dosewise.report.design_data`) and its operating characteristics over the
scenarios (:mod:`dosewise.report.design_oc`). :func:`design_report_html` then writes it in English
or Chinese, with its figures; :func:`write_design_report` saves HTML or PDF.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

from dosewise import __version__
from dosewise.errors import InvalidParameter
from dosewise.protocol.base import AssumptionNote, Fact, assumptions
from dosewise.protocol.model import Protocol
from dosewise.report import design_figures as figs
from dosewise.report.design_data import (
    ROLE_NAMES,
    TIE_BREAK_TEXT,
    DesignGroup,
    FirstDecision,
    design_groups,
)
from dosewise.report.design_defaults import DEFAULT_SEED, DEFAULT_TRIALS, MAX_TRIALS
from dosewise.report.design_oc import (
    ReadingOC,
    ScenarioOC,
    chosen_scenarios,
    design_differences,
    reading_comparison,
    reading_scenarios,
    scenario_oc,
    with_protocol_windows,
)
from dosewise.report.i18n import Translator, check_lang
from dosewise.report.oc_cache import OcCache, figure_fingerprint
from dosewise.report.render import OutputKind, fmt, render_html, write_document

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class GroupResult:
    """One design group and its operating characteristics, scenario by scenario."""

    group: DesignGroup
    ocs: tuple[ScenarioOC, ...]
    overridden: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    #: Exact BOIN12 OCs under both readings of the fallback level (``fallback_policy``).
    readings: tuple[ReadingOC, ...] = ()
    #: What each of ``ocs`` was computed from (its key in the cache), for the figures' key.
    oc_inputs: tuple[tuple[Any, ...], ...] = ()


@dataclass(frozen=True, slots=True)
class DesignReport:
    """Everything the design report states, computed; rendering adds only words and figures."""

    protocol: Protocol
    source: str | None  # the protocol file, None for the embedded protocol
    groups: tuple[GroupResult, ...]
    trials: int
    seed: int
    generated: date
    seconds: float
    command: str
    assumptions: tuple[AssumptionNote, ...]
    #: Where the OCs were cached; the figures drawn from them are kept there too.
    cache: OcCache | None = field(default=None, compare=False, repr=False)

    @property
    def dose_names(self) -> tuple[str, ...]:
        """Protocol names of the design doses, dose 1 first."""
        return self.protocol.dose_levels.design_names


def _check_trials(trials: int) -> int:
    if isinstance(trials, bool) or not isinstance(trials, int) or not 1 <= trials <= MAX_TRIALS:
        raise InvalidParameter("trials", trials, f"must be a whole number from 1 to {MAX_TRIALS:,}")
    return trials


def _check_seed(seed: int) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InvalidParameter("seed", seed, "must be a whole number >= 0")
    return seed


def build_design_report(
    protocol: Protocol,
    *,
    source: str | None = None,
    trials: int = DEFAULT_TRIALS,
    seed: int = DEFAULT_SEED,
    scenarios: Sequence[str] | None = None,
    p0: float | None = None,
    p1: float | None = None,
    command: str = "dosewise report design",
    today: date | None = None,
    progress: Progress | None = None,
    cache: OcCache | None = None,
) -> DesignReport:
    """Compute the design report of ``protocol`` (``scenarios``: built-in names or YAML files).

    With a ``cache`` each scenario's operating characteristics are read from it when the same
    inputs were computed before (:mod:`dosewise.report.oc_cache`).
    """
    _check_trials(trials)
    _check_seed(seed)
    if (p0 is None) != (p1 is None):
        missing = "p1" if p1 is None else "p0"
        raise InvalidParameter(missing, None, "give both phase 2 rates, p0 and p1, or neither")
    start = time.perf_counter()
    results = []
    for group in design_groups(protocol, p0, p1, None if cache is None else cache.get_or_compute):
        params = group.params
        ocs = []
        oc_inputs = []
        overridden: dict[str, tuple[Any, Any]] = {}
        for scenario in chosen_scenarios(protocol, params.n_doses, list(scenarios or [])):
            if progress is not None:
                progress(scenario.name)
            overridden.update(design_differences(scenario, params))
            sc = with_protocol_windows(scenario, protocol)
            compute = partial(scenario_oc, sc, params, trials, seed)
            inputs = ("scenario_oc", sc, params, trials, seed)
            oc_inputs.append(inputs)
            ocs.append(compute() if cache is None else cache.get_or_compute(inputs, compute))
        compare = None if cache is None else cache.get_or_compute
        readings = reading_comparison(
            protocol,
            group.arms[0].id,
            reading_scenarios(protocol, list(scenarios or [])),
            compare,
        )
        results.append(GroupResult(group, tuple(ocs), overridden, readings, tuple(oc_inputs)))
    return DesignReport(
        protocol=protocol,
        source=source,
        groups=tuple(results),
        trials=trials,
        seed=seed,
        generated=today or date.today(),
        seconds=time.perf_counter() - start,
        command=command,
        assumptions=tuple(assumptions(protocol)),
        cache=cache,
    )


# -- words that depend on the results ----------------------------------------------------------
def _range(values: Sequence[float]) -> tuple[str, str]:
    return fmt(min(values)), fmt(max(values))


def exact_summary(ocs: Sequence[ScenarioOC], tr: Translator, prefix: str) -> str:
    """A few sentences on the exact BOIN12 results, every number taken from ``ocs``."""
    with_obd = [oc for oc in ocs if oc.true_obd is not None]
    without = [oc for oc in ocs if oc.true_obd is None]
    parts = []
    if with_obd:
        lo, hi = _range([oc.exact_correct_pct for oc in with_obd])
        worst = min(with_obd, key=lambda oc: oc.exact_correct_pct)
        parts.append(
            tr(
                "In the %(k)s scenarios with an acceptable dose, BOIN12 selects the true OBD in "
                "%(lo)s to %(hi)s per cent of trials; the lowest figure is in scenario "
                "%(name)s.",
                k=len(with_obd),
                lo=lo,
                hi=hi,
                name=figs.short_name(worst, prefix),
            )
        )
    for oc in without:
        stop = oc.exact_correct_pct
        parts.append(
            tr(
                "In scenario %(name)s no dose is acceptable, and the arm ends without an OBD in "
                "%(pct)s per cent of trials.",
                name=figs.short_name(oc, prefix),
                pct=fmt(stop),
            )
        )
        if stop < 50:
            parts.append(
                tr(
                    "With at most %(n)s patients in phase 1 of an arm, a DLT rate a little "
                    "above φT is hard to tell from φT.",
                    n=oc.params.max_n,
                )
            )
    return " ".join(parts)


def tite_summary(ocs: Sequence[ScenarioOC], tr: Translator) -> str:
    """TITE-BOIN12 against exact BOIN12: selection and duration, every number from ``ocs``."""
    if not ocs:
        return ""
    correct = [float(oc.tite_dict()["pct_select_true_obd"]) for oc in ocs]
    diff = max(abs(c - oc.exact_correct_pct) for c, oc in zip(correct, ocs, strict=True))
    tite = [oc.duration_months("tite")[0] for oc in ocs]
    waiting = [oc.duration_months("waiting")[0] for oc in ocs]
    lo, hi = _range(correct)
    t_lo, t_hi = _range(tite)
    w_lo, w_hi = _range(waiting)
    return tr(
        "TITE-BOIN12 selects the correct answer in %(lo)s to %(hi)s per cent of trials, within "
        "%(diff)s percentage points of BOIN12 with complete data, while the mean duration of "
        "phase 1 in an arm falls from %(w_lo)s–%(w_hi)s months (BOIN12 waiting for complete "
        "data) to %(t_lo)s–%(t_hi)s months.",
        lo=lo,
        hi=hi,
        diff=fmt(diff),
        w_lo=w_lo,
        w_hi=w_hi,
        t_lo=t_lo,
        t_hi=t_hi,
    )


@dataclass(slots=True)
class GroupView:
    """What the template needs about one design group, in one language."""

    g: DesignGroup
    ocs: tuple[ScenarioOC, ...]
    arm_names: str
    start_name: str
    tie_text: str
    tie_fact: Fact[Any] | None
    first_rows: list[list[FirstDecision]]
    first_ties: list[FirstDecision]
    first_total: int
    first_tie_doses: str
    short: list[str]
    overridden: dict[str, tuple[Any, Any]]
    overridden_text: str
    accrual_rate: float
    tau_t: float
    tau_e: float
    figs: dict[str, str]
    promising_k: int | None
    exact_summary: str
    tite_summary: str
    readings: list[dict[str, Any]] = field(default_factory=list)


def _reading_rows(result: GroupResult, prefix: str) -> list[dict[str, Any]]:
    """The side-by-side table of the two readings: one row per scenario and reading."""
    return [
        {
            "scenario": r.scenario[len(prefix) :] if r.scenario.startswith(prefix) else r.scenario,
            "scenario_id": r.scenario,
            "policy": r.policy,
            "selection": r.selection_pct,
            "patients": r.patients,
            "none": r.none_pct,
            "stop": r.stop_pct,
            "total": r.mean_total,
        }
        for r in result.readings
    ]


def _figures(
    report: DesignReport, result: GroupResult, tr: Translator, prefix: str
) -> dict[str, str]:
    """The group's figures as PNG data URIs, drawn or read from the report's cache.

    They depend only on the OCs (keyed by what computed them), the dose names, the language
    and the drawing code (:func:`~dosewise.report.oc_cache.figure_fingerprint`); from the cache
    a report does not even import Matplotlib.
    """
    ocs, names = result.ocs, report.dose_names
    if not ocs:
        return {}

    def draw() -> dict[str, str]:
        return {
            "truth": figs.truth_figure(ocs, names, prefix, tr),
            "selection": figs.selection_figure(ocs, names, prefix, tr),
            "allocation": figs.allocation_figure(ocs, names, prefix, tr),
            "duration": figs.duration_figure(ocs, prefix, tr),
        }

    if report.cache is None or len(result.oc_inputs) != len(ocs):
        return draw()
    key = ("design_figures", figure_fingerprint(), tr.lang, names, prefix, result.oc_inputs)
    return report.cache.get_or_compute(key, draw)


def _group_view(report: DesignReport, result: GroupResult, tr: Translator, sep: str) -> GroupView:
    g = result.group
    p = g.params
    names = report.dose_names
    protocol = report.protocol
    prefix = protocol.registry.nct_id.lower() + "-"
    size = p.cohort_size
    rows = [list(g.first_decisions[t * (size + 1) : (t + 1) * (size + 1)]) for t in range(size + 1)]
    ties = [fd for fd in g.first_decisions if fd.tied]
    tie_doses = " / ".join(names[d - 1] for d in ties[0].tied) if ties else ""
    own = protocol.design.per_arm.get(g.arms[0].id)
    tie_fact = own.boin12.get("tie_break") if own is not None else None
    ocs = result.ocs
    figures = _figures(report, result, tr, prefix)
    first = ocs[0].scenario if ocs else None
    return GroupView(
        g=g,
        ocs=ocs,
        arm_names=sep.join(a.in_lang("label", tr.lang) for a in g.arms),
        start_name=names[p.start_dose - 1],
        tie_text=TIE_BREAK_TEXT[p.tie_break],
        tie_fact=tie_fact or protocol.design.boin12.tie_break,
        first_rows=rows,
        first_ties=ties,
        first_total=len(g.first_decisions),
        first_tie_doses=tie_doses,
        short=[figs.short_name(oc, prefix) for oc in ocs],
        overridden=result.overridden,
        overridden_text=sep.join(
            f"{k} = {v[0]} → {v[1]}" for k, v in sorted(result.overridden.items())
        ),
        accrual_rate=first.accrual.rate if first else 0.0,
        tau_t=first.tox_window if first else float(protocol.windows.dlt_days),
        tau_e=first.eff_window if first else float(protocol.windows.bor.target_day.value),
        figs=figures,
        promising_k=None
        if g.phase2 is None
        else int(g.phase2.result.as_dict()["promising_if_responses_ge"]),
        exact_summary=exact_summary(ocs, tr, prefix),
        tite_summary=tite_summary(ocs, tr),
        readings=_reading_rows(result, prefix),
    )


def design_report_context(report: DesignReport, lang: str) -> dict[str, Any]:
    """The template context of the report in ``lang``."""
    tr = Translator(lang)
    sep = "、" if lang == "zh" else ", "
    protocol = report.protocol
    reg = protocol.registry
    ladder = protocol.dose_levels
    levels = [
        {
            "name": lv.name,
            "cells": lv.cells_per_kg,
            "low": lv.min_per_kg,
            "high": lv.max_per_kg,
            "role": ROLE_NAMES[lv.role],
            "index": lv.design_index.value if lv.in_design else None,
            "fact": lv.design_index,
        }
        for lv in sorted(ladder.levels, key=lambda lv: lv.cells_per_kg)
    ]
    fallback = next((lv for lv in levels if lv["role"] == ROLE_NAMES["fallback"]), None)
    start = next(lv for lv in levels if lv["role"] == ROLE_NAMES["start"])
    design = protocol.design
    arm_ids = protocol.arm_ids
    n1 = {design.phase1_max_n(a) for a in arm_ids}
    n2 = {design.phase2_expansion(a) for a in arm_ids}
    source = (
        tr("the embedded protocol of %(nct)s", nct=reg.nct_id)
        if report.source is None
        else report.source
    )
    return {
        "reg": reg,
        "reg_updated": reg.last_updated.isoformat() if reg.last_updated else "—",
        "source_text": source,
        "version": __version__,
        "generated": report.generated.isoformat(),
        "running_head": f"{reg.nct_id} — {tr('Statistical design')}",
        "arms": protocol.arms,
        "arm_list": sep.join(a.in_lang("label", lang) for a in protocol.arms),
        "design": design,
        "windows": protocol.windows,
        "tau_e": protocol.windows.bor.target_day.value,
        "ladder": ladder,
        "levels": levels,
        "level_names": [lv["name"] for lv in levels],
        "policy": ladder.policy,
        "n_design": len(ladder.design_levels),
        "fallback": fallback,
        "start_level": start,
        "uniform_sizes": len(n1) == 1 and len(n2) == 1,
        "n1": next(iter(n1)),
        "n2": next(iter(n2)),
        "cohort": design.cohort_size.value,
        "dose_names": list(report.dose_names),
        "groups": [_group_view(report, r, tr, sep) for r in report.groups],
        "trials": report.trials,
        "seed": report.seed,
        "seconds": report.seconds,
        "command": report.command,
        "assumptions": report.assumptions,
    }


def design_report_html(report: DesignReport, lang: str = "en") -> str:
    """The report as one self-contained HTML document (figures embedded as data URIs)."""
    check_lang(lang)
    return render_html("design.html.j2", design_report_context(report, lang), lang)


def write_design_report(
    report: DesignReport, out: str | Path, lang: str = "en"
) -> tuple[Path, OutputKind]:
    """Write the report to ``out``: ``.pdf`` gives PDF, ``.html`` HTML."""
    from dosewise.report.render import output_kind

    output_kind(out)  # refuse a bad file name before rendering anything
    return write_document(design_report_html(report, lang), out)
