"""Phase 2 and closed arms, and the decision history: the later parts of the arm state.

Helpers of :func:`dosewise.trial.state.arm_state` (which re-exports :class:`NextStep`,
:func:`phase2_population` and :func:`phase2_counts`); nothing here reads the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from dosewise.store.tables import Arm, Bop2Look, DoseAssignment, Phase1Closure
from dosewise.trial.state.participant import PatientOutcome

Action = Literal["assign", "wait", "select_obd", "stop", "closed"]


@dataclass(frozen=True)
class NextStep:
    """What happens to the next patient of the arm, and why."""

    action: Action
    reason: str
    phase: int | None = None
    cohort: int | None = None
    dose: int | None = None
    level: str | None = None
    wait_until: date | None = None
    decision: dict[str, Any] | None = None
    seed: int | None = None
    outcomes: str | None = None
    new_decision: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "reason": self.reason,
            "phase": self.phase,
            "cohort": self.cohort,
            "dose": self.dose,
            "level": self.level,
            "wait_until": None if self.wait_until is None else self.wait_until.isoformat(),
            "seed": self.seed,
            "outcomes": self.outcomes,
            "new_decision": self.new_decision,
            "decision": self.decision,
        }


def next_later(
    arm: Arm,
    closure: Phase1Closure | None,
    patients: Sequence[PatientOutcome],
    looks: Sequence[Bop2Look],
) -> NextStep:
    """Phase 2 (expansion at the RP2D) or a closed arm."""
    if arm.phase == "closed" or closure is None or closure.rp2d_index is None:
        why = "the arm is closed"
        if looks:
            why += f" (BOP2 look {looks[-1].look}: {looks[-1].decision})"
        elif closure is not None and closure.rp2d_index is None:
            why += " (phase 1 ended with no OBD)"
        return NextStep("closed", why[0].upper() + why[1:] + ".")
    enrolled = sum(1 for p in patients if p.phase == 2)
    assigned = sum(1 for p in patients if p.phase == 2 and p.assignment_id is not None)
    if looks and looks[-1].decision == "stop":
        return NextStep("closed", f"BOP2 look {looks[-1].look} stopped the arm.")
    reason = (
        f"Phase 2 expansion at the RP2D {closure.rp2d_level} (dose {closure.rp2d_index}): "
        f"{assigned} of {arm.phase2_expansion} assigned, {enrolled} enrolled."
    )
    if assigned >= arm.phase2_expansion:
        return NextStep("closed", reason + " The expansion is full.", phase=2)
    return NextStep(
        "assign",
        reason,
        phase=2,
        dose=closure.rp2d_index,
        level=closure.rp2d_level,
        decision={
            "rule": "PHASE2_RP2D",
            "next_dose": closure.rp2d_index,
            "reason": f"Phase 2: every patient receives the RP2D {closure.rp2d_level}.",
            "closure_id": closure.id,
        },
    )


def closure_dict(c: Phase1Closure) -> dict[str, Any]:
    return {
        "id": c.id,
        "obd_index": c.obd_index,
        "obd_level": c.obd_level,
        "rp2d_index": c.rp2d_index,
        "rp2d_level": c.rp2d_level,
        "closed_at": c.closed_at.isoformat(),
        "closed_by": c.closed_by,
        "signature_id": c.signature_id,
        "rule_version": c.rule_version,
    }


def phase2_population(patients: Sequence[PatientOutcome], rp2d: int) -> list[PatientOutcome]:
    """The BOP2 population: every infused participant analysed at the RP2D (phases 1 and 2)."""
    return [p for p in patients if p.infused_on is not None and p.analysed_dose == rp2d]


def phase2_counts(
    patients: Sequence[PatientOutcome], rp2d: int, monitor_toxicity: bool
) -> dict[str, int]:
    """Evaluable n, responses and toxicities for a BOP2 look (BOR final; DLT adjudicated)."""
    evaluable = [
        p
        for p in phase2_population(patients, rp2d)
        if p.bor_final and (not monitor_toxicity or p.toxicity is not None)
    ]
    return {
        "n": len(evaluable),
        "responses": sum(1 for p in evaluable if p.responder),
        "toxicities": sum(1 for p in evaluable if p.toxicity),
        "treated": len(phase2_population(patients, rp2d)),
    }


def phase2_summary(
    arm: Arm,
    closure: Phase1Closure | None,
    patients: Sequence[PatientOutcome],
    looks: Sequence[Bop2Look],
) -> dict[str, Any] | None:
    if closure is None or closure.rp2d_index is None:
        return None
    design = (closure.basis or {}).get("phase2_design")
    monitor = bool(design and design.get("toxicity"))
    counts = phase2_counts(patients, closure.rp2d_index, monitor)
    planned = [int(n) for n in (design or {}).get("looks", [])]
    done = {look.n for look in looks}
    upcoming = [n for n in planned if n not in done and n > max(done, default=0)]
    return {
        "rp2d_index": closure.rp2d_index,
        "rp2d_level": closure.rp2d_level,
        "design": design,
        "evaluable": counts,
        "next_planned_look_n": upcoming[0] if upcoming else None,
        "looks": [look_dict(look) for look in looks],
    }


def look_dict(look: Bop2Look) -> dict[str, Any]:
    return {
        "look": look.look,
        "n": look.n,
        "responses": look.responses,
        "toxicities": look.toxicities,
        "decision": look.decision,
        "boundaries": look.boundaries,
        "detail": look.detail,
        "looked_at": look.looked_at.isoformat(),
    }


def history(
    openings: Sequence[DoseAssignment],
    closure: Phase1Closure | None,
    looks: Sequence[Bop2Look],
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = [
        {
            "kind": "dose_decision",
            "cohort": a.cohort,
            "dose": a.dose_index,
            "level": a.dose_level,
            "rule": a.decision.get("rule"),
            "reason": a.decision.get("reason"),
            "outcomes": a.decision.get("outcomes"),
            "seed": a.decision.get("seed"),
            "tied": a.decision.get("tied", []),
            "decided_at": a.assigned_at.isoformat(),
            "arm_version": a.arm_version,
            "assignment_id": a.id,
        }
        for a in openings
    ]
    if closure is not None:
        items.append(
            {
                "kind": "phase1_closure",
                "obd_level": closure.obd_level,
                "rp2d_level": closure.rp2d_level,
                "reason": (closure.basis or {}).get("reason"),
                "outcomes": (closure.basis or {}).get("outcomes"),
                "decided_at": closure.closed_at.isoformat(),
            }
        )
    items += [
        {"kind": "bop2_look", **look_dict(look), "decided_at": look.looked_at.isoformat()}
        for look in looks
    ]
    return items
