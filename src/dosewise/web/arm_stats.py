"""The statistician's views of an arm (issue 17 item 7): the dose trajectory, the posterior
toxicity and efficacy per dose with 95% credible intervals and isotonic estimates, and the OBD
utility table. Every number is the design's (:mod:`dosewise.design`) applied to the read model's
counts (:func:`dosewise.trial.state.arm_state`); nothing is estimated here a second time.
The charts are drawn by :mod:`dosewise.web.arm_charts`; the pages show these values as tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from dosewise.design.admissibility import RATE_PRIOR, rate_posterior
from dosewise.design.obd import isotonic_toxicity
from dosewise.store.tables import Phase1Closure
from dosewise.trial.state import ArmState

#: The credible level of the intervals shown.
LEVEL = 0.95


@dataclass(frozen=True)
class TrajectoryPoint:
    """One participant given a dose, in the order they were enrolled (x = ``order``)."""

    order: int
    study_id: str
    level: str
    #: Position of the level on the dose axis (0 = the lowest level, DL-1 under NCT07070323).
    rank: int
    cohort: int | None
    dlt: bool | None
    response: bool | None
    status: str


def dose_axis(state: ArmState) -> list[str]:
    """Every level of the arm, lowest dose first (the one numbering: DL-1, DL1, DL2)."""
    rows = sorted((*state.doses, *state.outside_doses), key=lambda d: d.cells_per_kg)
    return [d.level for d in rows]


def trajectory(state: ArmState) -> list[TrajectoryPoint]:
    """The participants given a dose, by enrollment order, at the level they are analysed at
    (else the level assigned), with their DLT and response outcomes (None while pending)."""
    axis = dose_axis(state)
    levels = {d.dose: d.level for d in state.doses}
    points = []
    dosed = [p for p in state.patients if p.analysed_level or p.assigned_dose]
    for order, p in enumerate(sorted(dosed, key=lambda p: p.sequence), start=1):
        level = p.analysed_level or levels.get(p.assigned_dose or 0, "")
        if level not in axis:
            continue
        points.append(
            TrajectoryPoint(
                order=order,
                study_id=p.study_id,
                level=level,
                rank=axis.index(level),
                cohort=p.cohort,
                dlt=p.toxicity,
                response=p.efficacy,
                status=p.status,
            )
        )
    return points


@dataclass(frozen=True)
class Estimate:
    """A posterior mean with its equal-tailed credible interval."""

    mean: float
    lower: float
    upper: float


@dataclass(frozen=True)
class DosePosterior:
    """One design dose: the design's data and the Beta posteriors of p_T and p_E."""

    dose: int
    level: str
    n: int
    dlt: int
    responses: int
    toxicity: Estimate
    efficacy: Estimate
    #: The isotonic (PAVA) DLT estimate the OBD rule uses; None for an untried dose.
    tox_isotonic: float | None


def posteriors(state: ArmState) -> list[DosePosterior]:
    """Per design dose: Beta posteriors under the design's prior (:data:`RATE_PRIOR`) and the
    isotonic toxicity estimates (:func:`dosewise.design.obd.isotonic_toxicity`)."""
    n = np.array([d.n for d in state.doses], dtype=np.int64)
    tox = np.array([d.dlt for d in state.doses], dtype=np.int64)
    eff = np.array([d.responses for d in state.doses], dtype=np.int64)
    t_mean, t_lo, t_hi = rate_posterior(n, tox, LEVEL)
    e_mean, e_lo, e_hi = rate_posterior(n, eff, LEVEL)
    phi_t = float(state.params["phi_t"])
    iso = isotonic_toxicity(n, tox, phi_t)
    return [
        DosePosterior(
            dose=d.dose,
            level=d.level,
            n=d.n,
            dlt=d.dlt,
            responses=d.responses,
            toxicity=Estimate(float(t_mean[j]), float(t_lo[j]), float(t_hi[j])),
            efficacy=Estimate(float(e_mean[j]), float(e_lo[j]), float(e_hi[j])),
            tox_isotonic=float(iso[j]) if d.n else None,
        )
        for j, d in enumerate(state.doses)
    ]


def prior_parameters() -> tuple[str, str]:
    """(a, b) of the design's Beta prior as the page writes them ("1", "1")."""
    a, b = RATE_PRIOR
    return f"{a:g}", f"{b:g}"


@dataclass(frozen=True)
class UtilityRow:
    """One dose of the OBD selection: the design's :class:`dosewise.design.obd.ObdDose`."""

    dose: int
    level: str
    n: int
    tox: int
    eff: int
    tox_isotonic: float
    utility_mean: float
    eligible: bool
    eliminated: str | None
    desirability: float
    chosen: bool


@dataclass(frozen=True)
class UtilityTable:
    """The OBD selection at the end of dose finding (doses 1-based; None: no OBD)."""

    obd: int | None
    mtd: int
    rows: list[UtilityRow]
    reason_code: str
    reason_params: dict[str, Any]
    #: True once phase 1 is closed (the selection the closure recorded).
    closed: bool


def utility_table(state: ArmState, closure_basis: dict[str, Any] | None) -> UtilityTable | None:
    """The OBD utility table: the design's selection (``select_obd``) when dose finding has
    ended, or the one recorded at phase 1 closure; None before either."""
    result = closure_basis.get("obd_result") if closure_basis else None
    closed = bool(result)
    if not result:
        result = state.obd
    if not result or not result.get("doses"):
        return None
    by_dose = {d.dose: d for d in state.doses}
    recorded = {int(d["dose"]): d for d in (closure_basis or {}).get("doses") or []}
    rows = []
    for d in result["doses"]:
        dose = int(d["dose"])
        row = by_dose.get(dose)
        was = recorded.get(dose, {})
        rows.append(
            UtilityRow(
                dose=dose,
                level=row.level if row else str(dose),
                n=int(d["n"]),
                tox=int(d["tox"]),
                eff=int(d["eff"]),
                tox_isotonic=float(d["tox_isotonic"]),
                utility_mean=float(d["utility_mean"]),
                eligible=bool(d["eligible"]),
                eliminated=was.get("eliminated") if closed else (row.eliminated if row else None),
                desirability=float(
                    was.get("desirability", 0.0) if closed else (row.desirability if row else 0.0)
                ),
                chosen=result.get("obd") == dose,
            )
        )
    obd = result.get("obd")
    return UtilityTable(
        obd=None if obd is None else int(obd),
        mtd=int(result["mtd"]),
        rows=rows,
        reason_code=str(result.get("reason_code") or ""),
        reason_params=dict(result.get("reason_params") or {}),
        closed=closed,
    )


def closure_basis(session: Session, arm_id: str) -> dict[str, Any] | None:
    """What the arm's phase 1 closure rests on (its recorded OBD selection); None while open."""
    closure = session.scalar(select(Phase1Closure).where(Phase1Closure.arm_id == arm_id))
    return None if closure is None else dict(closure.basis)


@dataclass(frozen=True)
class StatViews:
    """Everything the arm page's statistician section shows."""

    axis: list[str]
    trajectory: list[TrajectoryPoint]
    posteriors: list[DosePosterior]
    prior: tuple[str, str]
    utility: UtilityTable | None
    trajectory_chart: str | None
    posterior_chart: str | None


def stat_views(
    session: Session, state: ArmState, lang: str, tr: Any, *, charts: bool = True
) -> StatViews:
    """The trajectory, posteriors and OBD utility table of ``state``, with their charts
    (``charts=False``, or a Chinese page without a CJK font: tables only)."""
    from dosewise.web import arm_charts
    from dosewise.web.trial_view import chart_font_missing

    axis = dose_axis(state)
    points = trajectory(state)
    rows = posteriors(state)
    draw = charts and not chart_font_missing(lang)
    chart_lang = "zh" if lang.startswith("zh") else "en"
    return StatViews(
        axis=axis,
        trajectory=points,
        posteriors=rows,
        prior=prior_parameters(),
        utility=utility_table(state, closure_basis(session, state.arm_id)),
        trajectory_chart=arm_charts.trajectory_chart(points, axis, chart_lang, tr)
        if draw
        else None,
        posterior_chart=arm_charts.posterior_chart(
            rows, float(state.params["phi_t"]), float(state.params["phi_e"]), chart_lang, tr
        )
        if draw
        else None,
    )
