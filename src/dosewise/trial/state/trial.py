"""The whole trial's clinical state at a day: every arm's state and every participant's facts.

:func:`trial_state` computes it once per unit of work (or per data cut-off: the reports pass the
session of the cut records, :mod:`dosewise.report.cutoff`). It holds:

- ``arms``: each arm's :class:`~dosewise.trial.state.arm.ArmState` (the design's data, its
  decision, and per dose treated / evaluable / DLTs / responders / worst AE grades);
- ``statuses``: every registered participant's status, re-derived from their recorded steps
  through the one transition table (:mod:`dosewise.trial.state.status`);
- ``outcomes``: every enrolled participant's facts (:class:`PatientOutcome`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType

from sqlalchemy import select
from sqlalchemy.orm import Session

from dosewise.protocol import Protocol
from dosewise.store.tables import (
    Arm,
    Consent,
    DoseAssignment,
    Enrollment,
    Infusion,
    Participant,
    Screening,
)
from dosewise.trial.state.arm import ArmState, arm_state
from dosewise.trial.state.participant import PatientOutcome
from dosewise.trial.state.sources import arm_protocol
from dosewise.trial.state.status import ParticipantStatus, Step, screening_event, status_from_steps


@dataclass(frozen=True)
class TrialState:
    """Every arm's state and every participant's facts on ``as_of`` (see the module doc)."""

    as_of: date
    protocol: Protocol | None
    arms: Mapping[str, ArmState]
    statuses: Mapping[int, ParticipantStatus]

    @property
    def outcomes(self) -> Mapping[int, PatientOutcome]:
        """Enrolled participants' facts by participant id."""
        return MappingProxyType(
            {p.participant_id: p for s in self.arms.values() for p in s.patients}
        )


def trial_state(session: Session, *, as_of: date, arm_ids: Sequence[str] = ()) -> TrialState:
    """Every arm (``arm_ids`` first, then the others) and participant on ``as_of``."""
    arms = list(session.scalars(select(Arm).order_by(Arm.id)))
    order = list(arm_ids)
    arms.sort(key=lambda a: order.index(a.id) if a.id in order else len(order))
    protocol = arm_protocol(session, arms[0]) if arms else None
    states = {a.id: arm_state(session, a.id, as_of=as_of, protocol=protocol) for a in arms}
    return TrialState(
        as_of=as_of,
        protocol=protocol,
        arms=MappingProxyType(states),
        statuses=MappingProxyType(participant_statuses(session)),
    )


def participant_steps(session: Session) -> dict[int, list[Step]]:
    """Every participant's recorded steps (the events of the status transition table)."""
    steps: dict[int, list[Step]] = {
        pid: [] for pid in session.scalars(select(Participant.id).order_by(Participant.id))
    }

    def add(pid: int, step: Step) -> None:
        steps.setdefault(pid, []).append(step)

    for c in session.scalars(select(Consent).where(Consent.valid.is_(True))):
        add(c.participant_id, Step.of("consent", c.consent_on, c.created_at))
    for s in session.scalars(select(Screening)):
        event = screening_event(s.eligible, s.criteria or [])
        if event is not None:
            add(s.participant_id, Step.of(event, s.screened_on, s.created_at))
    for e in session.scalars(select(Enrollment)):
        add(e.participant_id, Step.of("enroll", e.enrolled_on, e.created_at))
    for pid, at in session.execute(
        select(DoseAssignment.participant_id, DoseAssignment.assigned_at).where(
            DoseAssignment.status.in_(("proposed", "confirmed"))
        )
    ):
        add(pid, Step.of("assign_dose", at.date(), at))
    for i in session.scalars(select(Infusion)):
        add(i.participant_id, Step.of("infuse", i.infused_on, i.recorded_at))
    for p in session.scalars(select(Participant).where(Participant.off_study_on.is_not(None))):
        assert p.off_study_on is not None
        add(p.id, Step.of("leave", p.off_study_on))
    return steps


def participant_statuses(session: Session) -> dict[int, ParticipantStatus]:
    """Every registered participant's status, from their steps (one transition table)."""
    return {pid: status_from_steps(s) for pid, s in participant_steps(session).items()}
