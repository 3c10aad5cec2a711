"""Phase 2 and closed arms, and the decision history: the later parts of the arm state.

Helpers of :func:`dosewise.trial.state.arm_state` (which re-exports :class:`NextStep`,
:func:`phase2_population` and :func:`phase2_counts`); nothing here reads the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from dosewise.protocol import Protocol
from dosewise.store.tables import Arm, Bop2Look, DoseAssignment, Phase1Closure
from dosewise.trial.state.participant import PatientOutcome, replaced
from dosewise.trial.state.reasons import reason_text

Action = Literal["assign", "wait", "select_obd", "stop", "closed"]


@dataclass(frozen=True)
class NextStep:
    """What happens to the next patient of the arm, and why.

    ``reason`` is the English text (kept in stored decisions); ``reason_code`` and
    ``reason_params`` are the same reason as data, rendered in any language by :meth:`text`.
    Build steps with :meth:`of`, which writes ``reason`` from the code.
    """

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
    reason_code: str = ""
    reason_params: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, action: Action, code: str, params: dict[str, Any], **rest: Any) -> NextStep:
        """A step whose reason is ``code`` with ``params`` (English text written from it)."""
        return cls(
            action, reason_text(code, params, "en"), reason_code=code, reason_params=params, **rest
        )

    def text(self, lang: str = "en") -> str:
        """The reason in ``lang`` ("en" or "zh"); the stored English text if it has no code."""
        if not self.reason_code:
            return self.reason
        return reason_text(self.reason_code, self.reason_params, lang)

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        return {
            "action": self.action,
            "reason": self.text(lang),
            "reason_code": self.reason_code or None,
            "reason_params": self.reason_params,
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
    protocol: Protocol,
) -> NextStep:
    """Phase 2 (expansion at the RP2D) or a closed arm.

    The expansion is full when ``phase2_expansion`` participants hold a place: a participant
    the trial replaces (:func:`replaced`: given the fallback level, under
    ``evaluation.phase2_fallback: replace``) does not, so the next one takes it."""
    if arm.phase == "closed" or closure is None or closure.rp2d_index is None:
        if looks:
            params: dict[str, Any] = {"look": looks[-1].look, "look_decision": looks[-1].decision}
            return NextStep.of("closed", "closed_after_look", params)
        if closure is not None and closure.rp2d_index is None:
            return NextStep.of("closed", "closed_no_obd", {})
        return NextStep.of("closed", "closed", {})
    enrolled = sum(1 for p in patients if p.phase == 2)
    assigned = sum(
        1
        for p in patients
        if p.phase == 2 and p.assignment_id is not None and not replaced(p, protocol)
    )
    if looks and looks[-1].decision == "stop":
        return NextStep.of("closed", "bop2_stopped", {"look": looks[-1].look})
    params = {
        "level": closure.rp2d_level,
        "dose": closure.rp2d_index,
        "assigned": assigned,
        "expansion": arm.phase2_expansion,
        "enrolled": enrolled,
    }
    if assigned >= arm.phase2_expansion:
        return NextStep.of("closed", "phase2_full", params, phase=2)
    rp2d = {"level": closure.rp2d_level}
    return NextStep.of(
        "assign",
        "phase2_expansion",
        params,
        phase=2,
        dose=closure.rp2d_index,
        level=closure.rp2d_level,
        decision={
            "rule": "PHASE2_RP2D",
            "next_dose": closure.rp2d_index,
            "reason": reason_text("phase2_rp2d", rp2d, "en"),
            "reason_code": "phase2_rp2d",
            "reason_params": rp2d,
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


#: What a history item keeps of its decision for the clinicians' one-line summary.
_PLAIN_KEYS = (
    "next_dose",
    "current_dose",
    "stop",
    "select_obd",
    "wait",
    "accrual_complete",
    "doses",
)


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
            "reason_code": a.decision.get("reason_code"),
            "reason_params": a.decision.get("reason_params"),
            **{k: a.decision[k] for k in _PLAIN_KEYS if k in a.decision},
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
                "reason_code": (closure.basis or {}).get("reason_code"),
                "reason_params": (closure.basis or {}).get("reason_params"),
                "outcomes": (closure.basis or {}).get("outcomes"),
                "decided_at": closure.closed_at.isoformat(),
            }
        )
    items += [
        {"kind": "bop2_look", **look_dict(look), "decided_at": look.looked_at.isoformat()}
        for look in looks
    ]
    return items
