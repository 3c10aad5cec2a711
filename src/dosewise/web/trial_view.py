"""What the trial pages show, read from the records and :func:`dosewise.trial.state.arm_state`
(the one function every view of an arm's dose finding uses): the arms side by side, enrollment
by site, the decision history with who confirmed each decision, the dose–toxicity/efficacy
figure and the BOIN12 decision table for the arm's current counts. Nothing here decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dosewise.design.params import Boin12Params
from dosewise.design.tables import boundary_frame, rds_grid, rds_table
from dosewise.store.tables import Arm, DoseAssignment, Enrollment, ESignature, Site, User
from dosewise.trial import signed
from dosewise.trial.calendar import local_today
from dosewise.trial.confidential import redact_for
from dosewise.trial.state import ArmState, arm_state
from dosewise.trial.uow import UnitOfWork


def today(uow: UnitOfWork, site_id: str | None = None) -> date:
    """Today at the site (or in the trial's zone), as the services use it."""
    return local_today(uow, site_id)


def arm_ids(session: Session) -> list[str]:
    return list(session.scalars(select(Arm.id).order_by(Arm.id)))


def all_states(uow: UnitOfWork, order: Sequence[str] = ()) -> list[ArmState]:
    """Every arm's state as of today, in ``order`` (the protocol's arm order) first."""
    on = today(uow)
    ids = arm_ids(uow.session)
    ordered = [a for a in order if a in ids] + [a for a in ids if a not in order]
    return [redact_for(uow.actor, arm_state(uow.session, arm_id, as_of=on)) for arm_id in ordered]


def current_dose(state: ArmState) -> int | None:
    """The dose the arm is treating at: its current cohort's dose, else the design's start."""
    if state.cohort is not None and state.cohort.get("dose") is not None:
        return int(state.cohort["dose"])
    if state.next.dose is not None:
        return state.next.dose
    start = state.params.get("start_dose")
    return int(start) if start is not None else None


@dataclass(frozen=True)
class SiteEnrollment:
    site_id: str
    name: str
    by_arm: dict[str, int]
    total: int


def enrollment_by_site(session: Session) -> tuple[list[SiteEnrollment], dict[str, int], int]:
    """Enrolled participants per site and arm, the arms' targets and the trial's total target."""
    counts: dict[tuple[str, str], int] = {}
    for site_id, arm_id, n in session.execute(
        select(Enrollment.site_id, Enrollment.arm_id, func.count()).group_by(
            Enrollment.site_id, Enrollment.arm_id
        )
    ):
        counts[(site_id, arm_id)] = int(n)
    arms = list(session.scalars(select(Arm).order_by(Arm.id)))
    targets = {a.id: a.phase1_max_n + a.phase2_expansion for a in arms}
    rows = []
    for site in session.scalars(select(Site).order_by(Site.id)):
        by_arm = {a.id: counts.get((site.id, a.id), 0) for a in arms}
        rows.append(SiteEnrollment(site.id, site.name, by_arm, sum(by_arm.values())))
    return rows, targets, sum(targets.values())


@dataclass(frozen=True)
class HistoryItem:
    """One decision of the arm with who assigned and who confirmed it, and when."""

    item: dict[str, Any]
    assigned_by: str | None = None
    status: str | None = None
    confirmed_by: str | None = None
    confirmed_at: Any = None
    signature: dict[str, Any] | None = None


def history(session: Session, state: ArmState) -> list[HistoryItem]:
    """The arm's decisions, newest last, with the people behind them (from the records)."""
    names = {u.id: f"{u.full_name} ({u.username})" for u in session.scalars(select(User))}
    out = []
    for item in state.history:
        assignment_id = item.get("assignment_id")
        if assignment_id is None:
            out.append(HistoryItem(item))
            continue
        a = session.get(DoseAssignment, assignment_id)
        if a is None:
            out.append(HistoryItem(item))
            continue
        sig = session.get(ESignature, a.signature_id) if a.signature_id else None
        out.append(
            HistoryItem(
                item,
                assigned_by=names.get(a.assigned_by),
                status=a.status,
                confirmed_by=names.get(a.confirmed_by) if a.confirmed_by else None,
                confirmed_at=a.confirmed_at,
                signature=signed.status(session, sig) if sig is not None else None,
            )
        )
    return out


@dataclass(frozen=True)
class DecisionGrid:
    """The BOIN12 RDS grid for n patients at the current dose, with the current cell."""

    dose: int
    level: str
    n: int
    tox: int
    eff: int
    columns: list[int]
    rows: list[tuple[int, list[str]]]
    boundaries: dict[str, Any] | None


def decision_grid(state: ArmState) -> DecisionGrid | None:
    """The decision table for the arm's current counts (None before anyone is treated)."""
    dose = current_dose(state)
    if dose is None:
        return None
    row = next((d for d in state.doses if d.dose == dose), None)
    if row is None or row.n == 0:
        return None
    params = Boin12Params(**{k: v for k, v in state.params.items() if k != "method"})
    frame = rds_grid(rds_table(params, [row.n]), row.n)
    columns = [int(c) for c in frame.columns]
    rows = [(int(t), [str(v) for v in frame.loc[t]]) for t in frame.index]
    bounds = [
        {str(k): v for k, v in rec.items()}
        for rec in boundary_frame(params, [row.n]).astype(object).to_dict(orient="records")
    ]
    return DecisionGrid(
        dose, row.level, row.n, row.dlt, row.responses, columns, rows, bounds[0] if bounds else None
    )


def chart_font_missing(lang: str) -> bool:
    """True when the chart would be Chinese but no CJK font exists (the page says so instead)."""
    from dosewise.report.fonts import cjk_font

    return lang.startswith("zh") and cjk_font() is None


def figure(state: ArmState, lang: str, tr: Any) -> str | None:
    """Observed DLT and response rates per dose with the φT/φE lines (a PNG data URI); None
    without outcomes, or when a Chinese chart has no CJK font to draw with."""
    if not any(d.n for d in state.doses) or chart_font_missing(lang):
        return None
    from dosewise.report.figures import BLUE, ORANGE, figure_uri, grouped_bars, new_figure

    labels = [f"{d.level}\n(n={d.n})" for d in state.doses]
    tox = [d.dlt / d.n if d.n else 0.0 for d in state.doses]
    eff = [d.responses / d.n if d.n else 0.0 for d in state.doses]
    with new_figure("zh" if lang.startswith("zh") else "en", 5.2, 2.8) as (fig, ax):
        grouped_bars(
            ax,
            labels,
            [(tr("DLT rate"), tox, None, ORANGE), (tr("Response rate"), eff, None, BLUE)],
            highlight=(current_dose(state) or 1) - 1,
        )
        phi_t, phi_e = state.params.get("phi_t"), state.params.get("phi_e")
        if phi_t is not None:
            ax.axhline(phi_t, color=ORANGE, ls="--", lw=1)
            ax.text(len(labels) - 0.5, phi_t, f"φT {phi_t:g}", va="bottom", ha="right", fontsize=7)
        if phi_e is not None:
            ax.axhline(phi_e, color=BLUE, ls=":", lw=1)
            ax.text(len(labels) - 0.5, phi_e, f"φE {phi_e:g}", va="bottom", ha="right", fontsize=7)
        ax.set_ylim(0, 1)
        ax.set_ylabel(tr("Observed rate"))
        ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False)
        return figure_uri(fig)
