"""Each enrolled participant's design outcomes as of a day, derived from the stored records.

- **Dose analysed**: the level actually infused (``infusions.actual_level``); before infusion,
  the released product's level, then the assigned level. A fallback product is therefore
  analysed at its *actual* level (DL-1 = design dose 1), as the protocol's dose mapping intends;
  an infusion whose dose falls in no level's window keeps the product's level and is flagged.
- **Toxicity** (BOIN12's T): only an investigator's final DLT adjudication makes it known; the
  adjudication itself applies the protocol's DLT definition (``clinical.classify_dlts``).
  Adjudicated *not evaluable* (e.g. died of disease before day 28 without a DLT) takes the
  participant out of the analysis, and the design replaces them.
- **Efficacy** (BOIN12's E): ``clinical.efficacy_outcome`` on the response assessments with the
  protocol's read-out, CR or CRi by study day 30 (the end of the day-28 visit window). When the
  read-out day has passed without an evaluable assessment the participant counts as a
  non-responder (noted), so that a missing assessment cannot hold the trial up forever.
- **Best overall response** (phase 2, BOP2): ``clinical.best_overall_response`` by day 97.

A participant who leaves the study before infusion is not evaluable. Nothing here writes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from dosewise.clinical import (
    Assessment,
    EfficacyRule,
    best_overall_response,
    efficacy_outcome,
)
from dosewise.clinical.response_io import assessment_from_mapping
from dosewise.design.outcomes import LETTERS
from dosewise.protocol import Protocol
from dosewise.store.tables import (
    Arm,
    DltAdjudication,
    DoseAssignment,
    Enrollment,
    Infusion,
    Participant,
    Product,
    ResponseAssessment,
)
from dosewise.trial.services._common import death_date

#: The efficacy read-out that feeds the design (protocol: CR or CRi by day 28; day 30 closes the
#: day-28 visit window, clinical.md §6).
EFFICACY_RULE = EfficacyRule()
Status = Literal["complete", "pending", "not_evaluable", "not_assigned"]
_LETTER = {v: k for k, v in LETTERS.items()}


@dataclass(frozen=True)
class PatientOutcome:
    """One enrolled participant as the design sees them on ``as_of``."""

    participant_id: int
    study_id: str
    site_id: str
    sequence: int
    phase: int
    enrolled_on: date
    assignment_id: int | None = None
    cohort: int | None = None
    assigned_dose: int | None = None
    assignment_status: str | None = None
    analysed_dose: int | None = None
    analysed_level: str | None = None
    fallback: bool = False
    infused_on: date | None = None
    toxicity: bool | None = None
    toxicity_status: str = "not_assigned"
    efficacy: bool | None = None
    efficacy_status: str = "not_assigned"
    bor: str | None = None
    bor_final: bool = False
    responder: bool | None = None
    status: Status = "not_assigned"
    waiting_for: tuple[str, ...] = ()
    known_by: date | None = None
    days_left: int | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def letter(self) -> str | None:
        """N, E, T or B once both outcomes are known."""
        if self.status != "complete" or self.toxicity is None or self.efficacy is None:
            return None
        return _LETTER[(int(self.toxicity), int(self.efficacy))]

    def to_dict(self) -> dict[str, Any]:
        return {
            "study_id": self.study_id,
            "site_id": self.site_id,
            "sequence": self.sequence,
            "phase": self.phase,
            "cohort": self.cohort,
            "assigned_dose": self.assigned_dose,
            "assignment_status": self.assignment_status,
            "analysed_dose": self.analysed_dose,
            "analysed_level": self.analysed_level,
            "fallback": self.fallback,
            "infused_on": None if self.infused_on is None else self.infused_on.isoformat(),
            "toxicity": self.toxicity,
            "toxicity_status": self.toxicity_status,
            "efficacy": self.efficacy,
            "efficacy_status": self.efficacy_status,
            "letter": self.letter,
            "bor": self.bor,
            "bor_final": self.bor_final,
            "responder": self.responder,
            "status": self.status,
            "waiting_for": list(self.waiting_for),
            "known_by": None if self.known_by is None else self.known_by.isoformat(),
            "days_left": self.days_left,
            "notes": list(self.notes),
        }


@dataclass
class _Records:
    """An arm's records, loaded in a few queries and grouped by participant."""

    participants: dict[int, Participant]
    assignments: dict[int, DoseAssignment]
    products: dict[int, Product]
    infusions: dict[int, Infusion]
    adjudications: dict[int, DltAdjudication]
    assessments: dict[int, list[ResponseAssessment]]


def _load(session: Session, ids: Sequence[int]) -> _Records:
    def by_participant(rows: Iterable[Any]) -> dict[int, Any]:
        out: dict[int, Any] = {}
        for row in rows:  # ordered by id: the last one wins
            out[row.participant_id] = row
        return out

    participants = {
        p.id: p for p in session.scalars(select(Participant).where(Participant.id.in_(ids)))
    }
    assignments = by_participant(
        session.scalars(
            select(DoseAssignment)
            .options(defer(DoseAssignment.state))
            .where(
                DoseAssignment.participant_id.in_(ids),
                DoseAssignment.status.in_(("proposed", "confirmed")),
            )
            .order_by(DoseAssignment.id)
        )
    )
    products = by_participant(
        session.scalars(
            select(Product)
            .where(Product.participant_id.in_(ids), Product.status == "released")
            .order_by(Product.id)
        )
    )
    infusions = by_participant(
        session.scalars(select(Infusion).where(Infusion.participant_id.in_(ids)))
    )
    adjudications = by_participant(
        session.scalars(
            select(DltAdjudication)
            .where(DltAdjudication.participant_id.in_(ids), DltAdjudication.status == "final")
            .order_by(DltAdjudication.id)
        )
    )
    assessments: dict[int, list[ResponseAssessment]] = defaultdict(list)
    for row in session.scalars(
        select(ResponseAssessment)
        .where(ResponseAssessment.participant_id.in_(ids))
        .order_by(ResponseAssessment.assessed_on, ResponseAssessment.id)
    ):
        assessments[row.participant_id].append(row)
    return _Records(participants, assignments, products, infusions, adjudications, assessments)


def clinical_assessments(rows: Iterable[ResponseAssessment]) -> list[Assessment]:
    """Stored assessments as the response rule's values (their inputs are kept verbatim)."""
    out = []
    for i, row in enumerate(rows):
        data = dict(row.components or {})
        data["date"] = row.assessed_on.isoformat()
        out.append(assessment_from_mapping(data, f"assessments[{i}]"))
    return out


def patient_outcomes(
    session: Session, arm: Arm, protocol: Protocol, as_of: date
) -> list[PatientOutcome]:
    """Every participant enrolled in ``arm``, in enrollment order, with their outcomes."""
    enrollments = list(
        session.scalars(
            select(Enrollment).where(Enrollment.arm_id == arm.id).order_by(Enrollment.sequence)
        )
    )
    if not enrollments:
        return []
    records = _load(session, [e.participant_id for e in enrollments])
    return [_outcome(e, records, protocol, as_of) for e in enrollments]


def _outcome(e: Enrollment, r: _Records, protocol: Protocol, as_of: date) -> PatientOutcome:
    p = r.participants[e.participant_id]
    base: dict[str, Any] = {
        "participant_id": p.id,
        "study_id": p.study_id,
        "site_id": p.site_id,
        "sequence": e.sequence,
        "phase": e.phase,
        "enrolled_on": e.enrolled_on,
    }
    a = r.assignments.get(p.id)
    if a is None:
        left = p.off_study_on is not None
        return PatientOutcome(
            **base,
            status="not_evaluable" if left else "not_assigned",
            notes=("left the study before a dose was assigned",) if left else (),
        )
    ladder = protocol.dose_levels
    product, infusion = r.products.get(p.id), r.infusions.get(p.id)
    notes: list[str] = []
    analysed = a.dose_index
    if product is not None and product.assigned_dose_index is not None:
        analysed = product.assigned_dose_index
    if infusion is not None:
        if infusion.actual_dose_index is not None:
            analysed = infusion.actual_dose_index
        else:
            notes.append("the infused dose is in no level's window: analysed at the product level")
    if analysed != a.dose_index:
        notes.append(
            f"analysed at its actual level {ladder.by_index(analysed).name} "
            f"(assigned {a.dose_level})"
        )
    base.update(
        assignment_id=a.id,
        cohort=a.cohort,
        assigned_dose=a.dose_index,
        assignment_status=a.status,
        analysed_dose=analysed,
        analysed_level=ladder.by_index(analysed).name,
        fallback=bool(product is not None and product.fallback) or analysed != a.dose_index,
    )
    if infusion is None:
        if p.off_study_on is not None:
            notes.append("left the study before infusion")
            return PatientOutcome(
                **base,
                toxicity_status="not_evaluable",
                efficacy_status="not_evaluable",
                status="not_evaluable",
                notes=tuple(notes),
            )
        return PatientOutcome(
            **base,
            toxicity_status="pending",
            efficacy_status="pending",
            status="pending",
            waiting_for=("infusion",),
            notes=tuple(notes),
        )
    return _after_infusion(base, p, infusion.infused_on, r, protocol, as_of, notes)


def _after_infusion(
    base: dict[str, Any],
    p: Participant,
    infused_on: date,
    r: _Records,
    protocol: Protocol,
    as_of: date,
    notes: list[str],
) -> PatientOutcome:
    died = death_date(p)
    waiting: list[str] = []
    known: list[date] = []
    # Toxicity: the final adjudication, nothing else.
    adjudication = r.adjudications.get(p.id)
    toxicity: bool | None = None
    if adjudication is not None and not adjudication.evaluable:
        tox_status = "not_evaluable"
    elif adjudication is not None:
        toxicity = adjudication.is_dlt
        tox_status = "dlt" if adjudication.is_dlt else "no_dlt"
    else:
        tox_status = "pending"
        window_end = infused_on + timedelta(days=protocol.dlt.window_days)
        ends = [d for d in (died, p.off_study_on) if d is not None]
        if not ends and as_of < window_end:
            waiting.append("dlt_window")
        waiting.append("dlt_adjudication")
        known.append(min([window_end, *ends]))
    # Efficacy: the protocol's read-out on the assessments so far.
    assessments = clinical_assessments(r.assessments.get(p.id, []))
    efficacy, best = efficacy_outcome(
        assessments, infused_on, EFFICACY_RULE, death_date=died, as_of=as_of
    )
    if efficacy is None and best.final:
        efficacy = False
        notes.append(f"no evaluable response by day {EFFICACY_RULE.by_day}: counted as no response")
    if efficacy is None:
        eff_status = "pending"
        waiting.append("response_assessment")
        known.append(infused_on + timedelta(days=EFFICACY_RULE.by_day))
    else:
        eff_status = "response" if efficacy else "no_response"
    bor = best_overall_response(assessments, infused_on, death_date=died, as_of=as_of)
    responder = None if not bor.final else bor.category in EFFICACY_RULE.responses
    if tox_status == "not_evaluable":
        status: Status = "not_evaluable"
        notes.append("adjudicated not evaluable for DLT: replaced in the design")
    else:
        status = "complete" if toxicity is not None and efficacy is not None else "pending"
    known_by = max(known) if known and status == "pending" else None
    return PatientOutcome(
        **base,
        infused_on=infused_on,
        toxicity=toxicity,
        toxicity_status=tox_status,
        efficacy=efficacy,
        efficacy_status=eff_status,
        bor=bor.category,
        bor_final=bor.final,
        responder=responder,
        status=status,
        waiting_for=tuple(waiting) if status == "pending" else (),
        known_by=known_by,
        days_left=None if known_by is None else max(0, (known_by - as_of).days),
        notes=tuple(notes),
    )
