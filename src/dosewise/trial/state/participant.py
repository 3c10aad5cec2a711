"""Each enrolled participant's clinical facts as of a day, derived from the stored records.

Every rule reads its numbers from the protocol the arm runs under:

- **Dose analysed** (:func:`dosewise.trial.state.dose.dose_received`): the level whose window
  holds the infused cells/kg; before infusion the released product's level, then the assigned
  level. An infusion outside every window is analysed at the product's level and flagged.
  A level outside the dose finding (the fallback under ``dose_levels.fallback_policy``
  ``safety_only``) makes the participant **safety only**: followed and reported for safety (DLT,
  AEs, response), in no level's design data, and replaced in their cohort.
- **DLT status** (:func:`dlt_status`): only an investigator's final DLT adjudication makes the
  toxicity known; until then the participant is pending (in the ``windows.dlt_days`` window, or
  awaiting adjudication). Adjudicated *not evaluable* takes the participant out of the analysis
  and the design replaces them.
- **Efficacy** (BOIN12's E, :func:`efficacy_rule`): the protocol's read-out, CR or CRi by study
  day ``windows.efficacy_days``. When that day has passed without an evaluable assessment the
  participant counts as a non-responder (noted), so a missing assessment cannot hold the trial up.
- **Best overall response** (:func:`bor_settings`): ``clinical.best_overall_response`` up to the
  end of the protocol's BOR window (``windows.bor``), censored at SCT or new therapy; final
  only after the month-3 assessment, progression, death or censoring
  (:func:`dosewise.trial.state.bor.bor_final`).
- **Worst AE grade per category**: the highest grade of the participant's adverse events with
  onset in the protocol's AE window (study day 0 to ``windows.ae_days``).

A participant who leaves the study before infusion is not evaluable. Nothing here writes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from dosewise.clinical import (
    Assessment,
    BorSettings,
    EfficacyRule,
    best_overall_response,
    efficacy_outcome,
)
from dosewise.clinical.response_io import assessment_from_mapping
from dosewise.design.outcomes import LETTERS
from dosewise.protocol import Protocol
from dosewise.store.tables import (
    AdverseEvent,
    Arm,
    BestResponse,
    DltAdjudication,
    DoseAssignment,
    Enrollment,
    Infusion,
    Participant,
    Product,
    ResponseAssessment,
)
from dosewise.trial.state.adjudication import Adjudication, Reopening, reopening
from dosewise.trial.state.bor import bor_final, censoring
from dosewise.trial.state.dose import DoseReceived, dose_received
from dosewise.trial.state.sources import death_date

Status = Literal["complete", "pending", "not_evaluable", "not_assigned", "safety_only"]
#: Why a participant at a level outside the dose finding is not in the design's data.
SAFETY_ONLY_NOTE = (
    "given the fallback level {level}, outside the dose finding (fallback_policy safety_only): "
    "followed for safety only, replaced in the design"
)
DltState = Literal["pending", "dlt", "no_dlt", "not_evaluable", "not_assigned"]
_LETTER = {v: k for k, v in LETTERS.items()}
#: The category under which every adverse event counts too (worst grade of any event).
ANY_AE = "any"


def efficacy_rule(protocol: Protocol) -> EfficacyRule:
    """The efficacy read-out that feeds the design: CR/CRi by ``windows.efficacy_days``."""
    return EfficacyRule(by_day=protocol.windows.efficacy_days.value)


def bor_settings(protocol: Protocol) -> BorSettings:
    """Best overall response up to the end of the protocol's BOR window (``windows.bor``)."""
    return BorSettings(by_day=protocol.windows.bor.last_day)


@dataclass(frozen=True)
class PatientOutcome:
    """One enrolled participant as the read model sees them on ``as_of``."""

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
    toxicity_status: DltState = "not_assigned"
    efficacy: bool | None = None
    efficacy_status: str = "not_assigned"
    bor: str | None = None
    bor_final: bool = False
    bor_reason: str | None = None
    responder: bool | None = None
    status: Status = "not_assigned"
    waiting_for: tuple[str, ...] = ()
    known_by: date | None = None
    days_left: int | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    dose: DoseReceived | None = None
    toxicity_reason: str | None = None
    reported_bor: str | None = None
    reported_responder: bool | None = None
    worst_grades: tuple[tuple[str, int], ...] = ()
    adjudication: Adjudication | None = None
    #: A final adjudication reopened by a new or corrected possible DLT (issue 14).
    reopened: Reopening | None = None
    #: The latest provisional "no DLT so far", while the window is open.
    provisional: Adjudication | None = None

    @property
    def needs_readjudication(self) -> bool:
        """A final adjudication was reopened: the arm waits for the investigator."""
        return self.reopened is not None

    @property
    def letter(self) -> str | None:
        """N, E, T or B once both outcomes are known."""
        if self.status != "complete" or self.toxicity is None or self.efficacy is None:
            return None
        return _LETTER[(int(self.toxicity), int(self.efficacy))]

    @property
    def treated(self) -> bool:
        """Infused (the safety population)."""
        return self.infused_on is not None

    @property
    def dlt_evaluable(self) -> bool:
        """Adjudicated evaluable for DLT (with or without a DLT)."""
        return self.toxicity_status in ("dlt", "no_dlt")

    def worst_grade(self, category: str = ANY_AE) -> int | None:
        """The worst grade in the AE window for ``category`` (``any``: of every event)."""
        return dict(self.worst_grades).get(category)

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
            "dose_basis": None if self.dose is None else self.dose.basis,
            "dose_in_window": None if self.dose is None else self.dose.in_window,
            "fallback": self.fallback,
            "infused_on": None if self.infused_on is None else self.infused_on.isoformat(),
            "toxicity": self.toxicity,
            "toxicity_status": self.toxicity_status,
            "toxicity_reason": self.toxicity_reason,
            "efficacy": self.efficacy,
            "efficacy_status": self.efficacy_status,
            "letter": self.letter,
            "bor": self.bor,
            "bor_final": self.bor_final,
            "bor_reason": self.bor_reason,
            "responder": self.responder,
            "status": self.status,
            "waiting_for": list(self.waiting_for),
            "known_by": None if self.known_by is None else self.known_by.isoformat(),
            "days_left": self.days_left,
            "worst_grades": dict(self.worst_grades),
            "notes": list(self.notes),
            "needs_readjudication": self.needs_readjudication,
            "readjudication": None if self.reopened is None else self.reopened.to_dict(),
            "provisional_no_dlt": None
            if self.provisional is None
            else self.provisional.adjudicated_on.isoformat(),
        }


@dataclass
class Records:
    """Participants' records, loaded in a few queries and grouped by participant."""

    participants: dict[int, Participant]
    assignments: dict[int, DoseAssignment]
    products: dict[int, Product]
    infusions: dict[int, Infusion]
    adjudications: dict[int, DltAdjudication]
    provisional: dict[int, DltAdjudication]
    assessments: dict[int, list[ResponseAssessment]]
    best: dict[int, BestResponse]
    events: dict[int, list[AdverseEvent]]


def load_records(session: Session, ids: Sequence[int]) -> Records:
    """The records of participants ``ids`` (the last valid row of each kind per participant)."""

    def by_participant(rows: Iterable[Any]) -> dict[int, Any]:
        out: dict[int, Any] = {}
        for row in rows:  # ordered by id: the last one wins
            out[row.participant_id] = row
        return out

    def grouped(rows: Iterable[Any]) -> dict[int, list[Any]]:
        out: dict[int, list[Any]] = defaultdict(list)
        for row in rows:
            out[row.participant_id].append(row)
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
    provisional = by_participant(
        session.scalars(
            select(DltAdjudication)
            .where(
                DltAdjudication.participant_id.in_(ids),
                DltAdjudication.status == "provisional",
            )
            .order_by(DltAdjudication.id)
        )
    )
    assessments = grouped(
        session.scalars(
            select(ResponseAssessment)
            .where(ResponseAssessment.participant_id.in_(ids))
            .order_by(ResponseAssessment.assessed_on, ResponseAssessment.id)
        )
    )
    best = by_participant(
        session.scalars(
            select(BestResponse)
            .where(BestResponse.participant_id.in_(ids))
            .order_by(BestResponse.id)
        )
    )
    events = grouped(
        session.scalars(
            select(AdverseEvent)
            .options(defer(AdverseEvent.components))
            .where(AdverseEvent.participant_id.in_(ids))
            .order_by(AdverseEvent.id)
        )
    )
    return Records(
        participants,
        assignments,
        products,
        infusions,
        adjudications,
        provisional,
        assessments,
        best,
        events,
    )


def clinical_assessments(rows: Iterable[ResponseAssessment]) -> list[Assessment]:
    """Stored assessments as the response rule's values (their inputs are kept verbatim)."""
    out = []
    for i, row in enumerate(rows):
        data = dict(row.components or {})
        data["date"] = row.assessed_on.isoformat()
        out.append(assessment_from_mapping(data, f"assessments[{i}]"))
    return out


def fills_place(p: PatientOutcome) -> bool:
    """Whether a participant fills a place in their cohort (not evaluable and safety-only
    participants do not: the next patient replaces them)."""
    return p.status not in ("not_evaluable", "safety_only")


def replaced(p: PatientOutcome, protocol: Protocol) -> bool:
    """Whether the trial enrols a replacement for ``p``, so that ``p`` does not count against
    the arm's places: in phase 1 a participant who fills no cohort place (:func:`fills_place`);
    in phase 2 one given a level outside the dose finding (status ``safety_only``: not treated
    at the RP2D) when ``evaluation.phase2_fallback`` is ``replace``. The one rule the phase 2
    expansion and the enrolment limits read."""
    if p.phase == 1:
        return not fills_place(p)
    if p.phase == 2 and p.status == "safety_only":
        rules = protocol.evaluation
        return rules is not None and rules.phase2_fallback.value == "replace"
    return False


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
    records = load_records(session, [e.participant_id for e in enrollments])
    return [outcome(e, records, protocol, as_of) for e in enrollments]


def participant_outcome(
    session: Session, enrollment: Enrollment, protocol: Protocol, as_of: date
) -> PatientOutcome:
    """One enrolled participant's outcome (the participant page and record)."""
    return outcome(enrollment, load_records(session, [enrollment.participant_id]), protocol, as_of)


def worst_grades(
    events: Iterable[AdverseEvent], infused_on: date | None, protocol: Protocol
) -> tuple[tuple[str, int], ...]:
    """Worst grade per category (and ``any``) of events with onset in the protocol's AE window."""
    if infused_on is None:
        return ()
    last = infused_on + timedelta(days=protocol.windows.ae_days)
    worst: dict[str, int] = {}
    for e in events:
        if not infused_on <= e.onset_on <= last:
            continue
        for key in (e.category, ANY_AE):
            worst[key] = max(worst.get(key, 0), int(e.grade))
    return tuple(sorted(worst.items()))


def reported_bor(
    best: BestResponse | None, derived: str | None, final: bool
) -> tuple[str | None, bool | None, bool]:
    """The BOR a report shows: the recorded derivation, else the rule's once final, else None.

    Returns (bor, responder, from the record). A recorded best response is the investigator's
    audited derivation; without one, a participant still in follow-up has no BOR yet.
    """
    if best is not None:
        return best.bor, best.responder, True
    if final and derived is not None:
        return derived, None, False
    return None, None, False


def outcome(e: Enrollment, r: Records, protocol: Protocol, as_of: date) -> PatientOutcome:
    """One enrolled participant's facts (see the module doc)."""
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
            toxicity_status="not_evaluable" if left else "not_assigned",
            toxicity_reason="left the study before a dose was assigned" if left else None,
            notes=("left the study before a dose was assigned",) if left else (),
        )
    product, infusion = r.products.get(p.id), r.infusions.get(p.id)
    dose = dose_received(
        protocol,
        assigned=a.dose_index,
        product=None if product is None else product.assigned_dose_index,
        infused_cells_per_kg=None if infusion is None else infusion.cells_per_kg,
    )
    notes: list[str] = [] if dose.reason is None else [dose.reason]
    if not dose.in_design:
        notes.append(SAFETY_ONLY_NOTE.format(level=dose.level))
    elif dose.dose != a.dose_index:
        notes.append(f"analysed at its actual level {dose.level} (assigned {a.dose_level})")
    base.update(
        assignment_id=a.id,
        cohort=a.cohort,
        assigned_dose=a.dose_index,
        assignment_status=a.status,
        analysed_dose=dose.dose,
        analysed_level=dose.level,
        fallback=bool(product is not None and product.fallback) or dose.dose != a.dose_index,
        dose=dose,
    )
    if infusion is None:
        if p.off_study_on is not None:
            notes.append("left the study before infusion")
            return PatientOutcome(
                **base,
                toxicity_status="not_evaluable",
                toxicity_reason="left the study before infusion",
                efficacy_status="not_evaluable",
                status="not_evaluable",
                notes=tuple(notes),
            )
        if not dose.in_design:
            return PatientOutcome(
                **base,
                toxicity_status="pending",
                toxicity_reason="not yet infused",
                efficacy_status="pending",
                status="safety_only",
                notes=tuple(notes),
            )
        return PatientOutcome(
            **base,
            toxicity_status="pending",
            toxicity_reason="not yet infused",
            efficacy_status="pending",
            status="pending",
            waiting_for=("infusion",),
            notes=tuple(notes),
        )
    after = _after_infusion(base, p, infusion.infused_on, r, protocol, as_of, notes)
    if not dose.evaluable:  # deviation_analysis: not_evaluable (see state.dose)
        return replace(
            after,
            status="not_evaluable",
            toxicity=None,
            toxicity_status="not_evaluable",
            toxicity_reason=dose.reason,
            waiting_for=(),
        )
    return after


@dataclass(frozen=True)
class DltStatus:
    """A participant's DLT status and why; ``known_by`` is when it can be known at the earliest."""

    status: DltState
    toxicity: bool | None
    reason: str
    waiting_for: tuple[str, ...] = ()
    known_by: date | None = None


def dlt_status(
    adjudication: Adjudication | None,
    infused_on: date,
    protocol: Protocol,
    as_of: date,
    ends: Sequence[date],
    *,
    reopened: Reopening | None = None,
    provisional: Adjudication | None = None,
) -> DltStatus:
    """The DLT status of an infused participant: the final adjudication, nothing else.

    ``ends`` are the days their follow-up ended early (death, leaving the study). A final
    adjudication that is ``reopened`` (:func:`dosewise.trial.state.adjudication.reopening`)
    makes the participant pending again, awaiting re-adjudication; a ``provisional`` "no DLT
    so far" leaves them pending.
    """
    if reopened is not None:
        return DltStatus("pending", None, reopened.reason, ("dlt_readjudication",), None)
    if adjudication is not None and not adjudication.evaluable:
        why = adjudication.rationale or "adjudicated not evaluable for DLT"
        if adjudication.not_evaluable_reason:
            why = f"{adjudication.not_evaluable_reason}: {why}"
        return DltStatus("not_evaluable", None, why)
    if adjudication is not None:
        return DltStatus(
            "dlt" if adjudication.is_dlt else "no_dlt",
            adjudication.is_dlt,
            adjudication.rationale or f"final adjudication {adjudication.id}",
        )
    window_end = infused_on + timedelta(days=protocol.dlt.window_days)
    waiting: list[str] = []
    if not ends and as_of < window_end:
        waiting.append("dlt_window")
    waiting.append("dlt_adjudication")
    why = (
        f"in the {protocol.dlt.window_days}-day DLT window until {window_end.isoformat()}"
        if "dlt_window" in waiting
        else "awaiting the investigator's DLT adjudication"
    )
    if provisional is not None:
        why = f"no DLT so far (provisional, {provisional.adjudicated_on.isoformat()}); " + why
    return DltStatus("pending", None, why, tuple(waiting), min([window_end, *ends]))


def _after_infusion(
    base: dict[str, Any],
    p: Participant,
    infused_on: date,
    r: Records,
    protocol: Protocol,
    as_of: date,
    notes: list[str],
) -> PatientOutcome:
    died = death_date(p)
    ends = [d for d in (died, p.off_study_on) if d is not None]
    adjudicated = r.adjudications.get(p.id)
    adjudication = None if adjudicated is None else Adjudication.of(adjudicated)
    kept = r.provisional.get(p.id)
    provisional = (
        Adjudication.of(kept)
        if kept is not None and (adjudicated is None or kept.id > adjudicated.id)
        else None
    )
    reopened = reopening(
        adjudication,
        r.events.get(p.id, []),
        infused_on,
        protocol,
        as_of,
        death_date=died,
        off_study_date=p.off_study_on,
    )
    tox = dlt_status(
        adjudication, infused_on, protocol, as_of, ends, reopened=reopened, provisional=provisional
    )
    waiting = list(tox.waiting_for)
    known = [] if tox.known_by is None else [tox.known_by]
    # Efficacy: the protocol's read-out on the assessments so far.
    rule = efficacy_rule(protocol)
    assessments = clinical_assessments(r.assessments.get(p.id, []))
    censored = censoring(p, protocol)
    dates = {"sct_date": censored.sct_on, "new_therapy_date": censored.new_therapy_on}
    efficacy, best = efficacy_outcome(
        assessments, infused_on, rule, death_date=died, as_of=as_of, **dates
    )
    if efficacy is None and best.final:
        efficacy = False
        notes.append(f"no evaluable response by day {rule.by_day}: counted as no response")
    if efficacy is None:
        eff_status = "pending"
        waiting.append("response_assessment")
        known.append(infused_on + timedelta(days=rule.by_day))
    else:
        eff_status = "response" if efficacy else "no_response"
    bor = best_overall_response(
        assessments,
        infused_on,
        settings=bor_settings(protocol),
        death_date=died,
        as_of=as_of,
        **dates,
    )
    final, bor_why = bor_final(
        bor, infused_on, protocol, died_on=died, censored=censored, as_of=as_of
    )
    responder = None if not final else bor.category in rule.responses
    shown, shown_responder, recorded = reported_bor(r.best.get(p.id), bor.category, final)
    if not recorded:
        shown_responder = responder if shown is not None else None
    status: Status
    if base["dose"] is not None and not base["dose"].in_design:
        status = "safety_only"
    elif tox.status == "not_evaluable":
        status = "not_evaluable"
        notes.append("adjudicated not evaluable for DLT: replaced in the design")
    else:
        status = "complete" if tox.toxicity is not None and efficacy is not None else "pending"
    known_by = max(known) if known and status == "pending" else None
    return PatientOutcome(
        **base,
        infused_on=infused_on,
        toxicity=tox.toxicity,
        toxicity_status=tox.status,
        toxicity_reason=tox.reason,
        efficacy=efficacy,
        efficacy_status=eff_status,
        bor=bor.category,
        bor_final=final,
        bor_reason=bor_why,
        responder=responder,
        reported_bor=shown,
        reported_responder=shown_responder,
        status=status,
        waiting_for=tuple(waiting) if status == "pending" else (),
        known_by=known_by,
        days_left=None if known_by is None else max(0, (known_by - as_of).days),
        worst_grades=worst_grades(r.events.get(p.id, []), infused_on, protocol),
        adjudication=adjudication,
        reopened=reopened,
        provisional=provisional,
        notes=tuple(notes),
    )


def by_participant(outcomes: Iterable[PatientOutcome]) -> Mapping[int, PatientOutcome]:
    """Outcomes keyed by participant id."""
    return {o.participant_id: o for o in outcomes}
